package data

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// chunkBytes is how much of a CSV file one worker parses at a time; the
// first chunk is firstChunkBytes, each next one twice the last up to
// chunkBytes (a variable for the tests, which cut tiny files into many
// chunks).
const chunkBytes = 4 << 20

var firstChunkBytes = 64 << 10

// maxQuotedChunk bounds a chunk that grows to close a quoted field: a
// file with a stray quote is then read row by row, streaming, rather than
// held whole. A variable for the tests.
var maxQuotedChunk = 4 * chunkBytes

// csvChunk is a run of whole lines of a CSV file.
type csvChunk struct {
	data   []byte
	line   int  // the line data starts on
	quotes int  // how many '"' data holds
	open   bool // data ends inside a quoted field, past maxQuotedChunk
}

// lineChunks cuts a CSV stream, after its header, into chunks of whole
// lines for the parallel readers of rosters and members. A chunk whose
// end falls inside a quoted field (an odd number of quotes) grows line by
// line until the field closes, up to maxQuotedChunk bytes.
type lineChunks struct {
	br   *bufio.Reader
	line int   // the line the next chunk starts on
	size int   // the next chunk's size
	read int64 // bytes read so far, the header's included
}

func newLineChunks(br *bufio.Reader, firstLine int, headerBytes int) *lineChunks {
	return &lineChunks{br: br, line: firstLine, size: firstChunkBytes, read: int64(headerBytes)}
}

// next returns the next chunk, which may be empty. err is io.EOF after
// the last one, or the stream's error, with the chunk read before it.
func (lc *lineChunks) next() (c csvChunk, err error) {
	buf := make([]byte, lc.size)
	lc.size = min(2*lc.size, chunkBytes)
	n, err := io.ReadFull(lc.br, buf)
	buf = buf[:n]
	more := func() { // the next line, whole
		rest, rerr := lc.br.ReadBytes('\n')
		buf = append(buf, rest...)
		if rerr != nil {
			err = rerr
		}
	}
	if n > 0 && err == nil {
		more()
	}
	quotes := bytes.Count(buf, []byte{'"'})
	for quotes%2 == 1 && err == nil { // the line end is inside a quoted field
		if len(buf) > maxQuotedChunk {
			return csvChunk{data: buf, line: lc.line, quotes: quotes, open: true}, nil
		}
		k := len(buf)
		more()
		quotes += bytes.Count(buf[k:], []byte{'"'})
	}
	c = csvChunk{data: buf, line: lc.line, quotes: quotes}
	lc.read += int64(len(buf))
	lc.line += bytes.Count(buf, []byte{'\n'})
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		lc.line++
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return c, err
}

// rest is c followed by what the stream has not yet given: the file from
// c's line on, for the sequential CSV reader.
func (lc *lineChunks) rest(c csvChunk) io.Reader {
	return io.MultiReader(bytes.NewReader(c.data), lc.br)
}
