package data

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/par"
)

// ReadMembers reads a whole member file, parsing it on every processor: a
// reader cuts the stream into chunks at line ends and workers parse them.
// A file with quoted fields (a quote anywhere from some chunk on) is read
// from that point by the sequential CSV reader, which understands quoting.
// Results are in file order; bad rows come back with line and column, and
// a repeated member_id is reported against the line it repeats. progress,
// if not nil, receives the bytes read so far.
func ReadMembers(r io.Reader, progress func(int64)) ([]adequacy.GapMember, []RowError, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	// The header is the first line that is not blank, as for the CSV reader.
	head, headLine, consumed := headerLine(br)
	if strings.Contains(head, "\"") || head == "" {
		// Quoted header (or none): let the CSV reader do all of it.
		hr, err := NewMemberReader(io.MultiReader(bytes.NewReader(consumed), br))
		if err != nil {
			return nil, nil, err
		}
		return readAll(hr)
	}
	hr, err := NewMemberReader(strings.NewReader(head))
	if err != nil {
		return nil, nil, fmt.Errorf("%w (line %d)", err, headLine)
	}
	type chunk struct {
		line int // line number of the chunk's first line
		data []byte
		ms   []adequacy.GapMember
		errs []RowError
	}
	// The reader cuts the stream into chunks and hands them to the
	// workers; it alone writes parsed, tail, tailLine and readErr, before
	// it closes work, and the workers return only after that.
	work := make(chan *chunk, 4)
	var parsed []*chunk
	var tail io.Reader // set when quoting forces the sequential reader
	tailLine := 0
	var readErr error
	go func() {
		defer close(work)
		lc := newLineChunks(br, headLine+1, len(consumed))
		for {
			c, err := lc.next()
			if c.quotes > 0 { // the CSV reader takes the rest, quoting and all
				tail, tailLine = lc.rest(c), c.line
				return
			}
			if len(c.data) > 0 {
				ch := &chunk{line: c.line, data: c.data}
				parsed = append(parsed, ch)
				work <- ch
				if progress != nil {
					progress(lc.read)
				}
			}
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
		}
	}()
	workers := par.Workers(0)
	par.For(workers, workers, func(int, int) {
		rr := &rowReader{cols: hr.rr.cols, header: hr.rr.header}
		for c := range work {
			c.ms, c.errs = parseChunk(rr, c.line, c.data)
		}
	})
	if readErr != nil {
		return nil, nil, fmt.Errorf("members: %w", readErr)
	}
	total := 0
	for _, c := range parsed {
		total += len(c.ms)
	}
	ms := make([]adequacy.GapMember, 0, total)
	var errs []RowError
	for _, c := range parsed {
		ms = append(ms, c.ms...)
		errs = append(errs, c.errs...)
	}
	if tail != nil {
		tms, terrs, err := readQuoted(hr, tail, tailLine)
		if err != nil {
			return nil, nil, err
		}
		ms, errs = append(ms, tms...), append(errs, terrs...)
	}
	return dedupeMembers(ms, errs, hr.rr.colName("member_id"))
}

// readAll reads every row with the CSV reader.
func readAll(mr *MemberReader) ([]adequacy.GapMember, []RowError, error) {
	var ms []adequacy.GapMember
	var errs []RowError
	for {
		m, es, err := mr.Next()
		if errors.Is(err, io.EOF) {
			sortRowErrors(errs)
			return ms, errs, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("members: %w", err)
		}
		errs = append(errs, es...)
		if es == nil {
			ms = append(ms, m)
		}
	}
}

// parseChunk parses whole lines without quoting.
func parseChunk(rr *rowReader, line int, data []byte) ([]adequacy.GapMember, []RowError) {
	var ms []adequacy.GapMember
	var errs []RowError
	rr.eachUnquotedRow(string(data), line, func(bad *RowError) {
		if bad != nil {
			errs = append(errs, *bad)
			return
		}
		m, es := parseMemberRow(rr)
		if len(es) > 0 {
			errs = append(errs, es...)
			return
		}
		ms = append(ms, m)
	})
	return ms, errs
}

// readQuoted reads the rest of a file with the CSV reader, numbering lines
// from firstLine.
func readQuoted(hr *MemberReader, r io.Reader, firstLine int) ([]adequacy.GapMember, []RowError, error) {
	// A header row lets the CSV reader count lines and columns as usual.
	mr, err := NewMemberReader(io.MultiReader(strings.NewReader(strings.Join(hr.rr.header, ",")+"\n"), r))
	if err != nil {
		return nil, nil, err
	}
	shift := firstLine - 2
	var ms []adequacy.GapMember
	var errs []RowError
	for {
		mr.seen = map[string]int{} // repeats are found across the whole file later
		m, es, err := mr.Next()
		if errors.Is(err, io.EOF) {
			return ms, errs, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("members: %w", err)
		}
		for _, e := range es {
			e.Line += shift
			errs = append(errs, e)
		}
		if es == nil {
			m.Line += shift
			ms = append(ms, m)
		}
	}
}

// dedupeMembers drops a member_id's later rows, reporting each against the
// first, and orders the errors by line. Members are ordered by a hash of
// their ID (hashed on every processor), so repeats are neighbours: cheaper
// than a map of a million strings.
func dedupeMembers(ms []adequacy.GapMember, errs []RowError, col string) ([]adequacy.GapMember, []RowError, error) {
	type keyed struct {
		h uint64
		i int32
	}
	keys := make([]keyed, len(ms))
	seed := maphash.MakeSeed()
	par.Chunks(len(ms), 16384, 0, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			keys[i] = keyed{maphash.String(seed, ms[i].ID), int32(i)}
		}
	})
	slices.SortFunc(keys, func(a, b keyed) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	drop := make([]bool, len(ms))
	for a := 0; a < len(keys); a++ {
		for b := a + 1; b < len(keys) && keys[b].h == keys[a].h; b++ {
			first, later := &ms[keys[a].i], &ms[keys[b].i]
			if !drop[keys[b].i] && !drop[keys[a].i] && first.ID == later.ID {
				drop[keys[b].i] = true
				errs = append(errs, RowError{Line: later.Line, Key: later.ID, Column: col, Reason: fmt.Sprintf("repeats the member of line %d", first.Line)})
			}
		}
	}
	kept := ms[:0]
	for i := range ms {
		if !drop[i] {
			kept = append(kept, ms[i])
		}
	}
	sortRowErrors(errs)
	if len(kept) == 0 {
		kept = nil // as the sequential reader returns
	}
	return kept, errs, nil
}
