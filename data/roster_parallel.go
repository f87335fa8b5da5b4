package data

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/par"
)

// rosterPart is what one stretch of a roster file read as: its accepted
// providers (compactly) and everything the report needs, in file order.
// Duplicates are found across the whole file afterwards.
type rosterPart struct {
	line      int // the part's first line
	data      []byte
	quoted    bool // data holds a quote: the CSV reader parses it
	malformed bool // and found its quoting wrong: it is read again
	rows      int  // data rows, bad ones included
	bad       int  // rows with errors
	b         *adequacy.RosterBuilder
	lines     []int32    // by provider: its line
	keys      []rowKey   // by provider: what makes it a duplicate
	errs      []RowError // the bad rows' errors, in line order
	warns     []RowError // the providers' warnings, in line order
	warnOf    []int32    // by warning: its provider
	unplaced  []int32    // providers in no county
}

// rowKey is a provider's NPI, discipline and location to the micro-degree:
// two accepted rows with the same key are duplicates. An accepted row's NPI
// is ten digits, so its number stands for its text.
type rowKey struct {
	npi      uint64
	lat, lon int64
	d        adequacy.Discipline
}

func keyOf(p *adequacy.Provider) rowKey {
	n, _ := strconv.ParseUint(p.NPI, 10, 64)
	return rowKey{n, int64(math.Round(p.Location.Lat * 1e6)), int64(math.Round(p.Location.Lon * 1e6)), p.Discipline}
}

// readRosterParallel reads a roster file on every processor, as the
// sequential reader (RosterReader) would, row for row: the same
// providers, errors, warnings and report. A reader goroutine cuts the
// stream into chunks at line ends outside quoted fields (an even number
// of quotes before them), hashing it as it goes; workers parse the chunks
// into compact parts, those without a quote by splitting lines at commas,
// the others with the CSV reader; duplicates are found across the parts
// by sorting their keys; the parts are joined in file order. From the
// first chunk whose quoting the CSV reader finds malformed (where the
// quotes say nothing of where rows end), or a quoted field longer than
// maxQuotedChunk, the rest of the file is read row by row.
func readRosterParallel(r io.Reader, opts RosterOptions, v *adequacy.Vocabulary) (*adequacy.RosterBuilder, *RosterReport, error) {
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, h), 1<<20)
	// The header is the first line that is not blank, as for the CSV
	// reader; the CSV reader reads it (with any blank lines before it, so
	// that its line numbers are the file's).
	head, headLine, consumed := headerLine(br)
	if strings.Contains(head, "\"") || head == "" {
		// A quoted header (or none): the CSV reader reads all of it.
		return readRosterSequential(io.MultiReader(bytes.NewReader(consumed), br), opts, v, h)
	}
	hrr, err := newRowReader(bytes.NewReader(consumed), rosterColumns, []string{"npi", "discipline", "lat", "lon"})
	if err != nil {
		return nil, nil, err
	}
	var parts []*rosterPart
	var tail io.Reader // set when a quoted field too long hands the rest to the CSV reader
	tailLine := 0
	var readErr error
	work := make(chan *rosterPart, 2)
	// The reader alone writes parts, tail, tailLine and readErr, before it
	// closes work; the workers return only after that.
	go func() {
		defer close(work)
		lc := newLineChunks(br, headLine+1, len(consumed))
		for {
			c, err := lc.next()
			if c.open {
				tail, tailLine = lc.rest(c), c.line
				return
			}
			if len(c.data) > 0 {
				p := &rosterPart{line: c.line, data: c.data, quoted: c.quotes > 0}
				parts = append(parts, p)
				work <- p
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
		rd := newRowParser(&rowReader{cols: hrr.cols, header: hrr.header}, opts, v)
		for p := range work {
			if p.quoted {
				rd.rr = chunkRows(bytes.NewReader(p.data), hrr)
				if err := rd.parseCSV(p, p.line-1); err != nil {
					p.malformed = true // read again, row by row, below
				}
				continue
			}
			rd.parseChunk(p)
		}
	})
	if readErr != nil {
		return nil, nil, readErr
	}
	// From the first malformed part on, the CSV reader reads row by row,
	// as the sequential reader would.
	k := slices.IndexFunc(parts, func(p *rosterPart) bool { return p.malformed })
	if k >= 0 || tail != nil {
		var rest []io.Reader
		if k >= 0 {
			tailLine = parts[k].line
			for _, p := range parts[k:] {
				rest = append(rest, bytes.NewReader(p.data))
			}
			parts = parts[:k]
		}
		if tail != nil {
			rest = append(rest, tail)
		}
		p := &rosterPart{line: tailLine}
		if err := newRowParser(chunkRows(io.MultiReader(rest...), hrr), opts, v).parseCSV(p, tailLine-1); err != nil {
			return nil, nil, err
		}
		parts = append(parts, p)
	}
	for _, p := range parts {
		p.data = nil
	}
	b, rep, err := joinParts(parts, hrr.colName("npi"))
	if err != nil {
		return nil, nil, err
	}
	rep.SHA256 = hex.EncodeToString(h.Sum(nil))
	return b, rep, nil
}

// chunkRows is a CSV reader of rows in hrr's columns, with no header of
// its own.
func chunkRows(r io.Reader, hrr *rowReader) *rowReader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &rowReader{cr: cr, cols: hrr.cols, header: hrr.header}
}

// readRosterSequential reads a whole roster with the CSV reader into one
// part; h hashes the file as r is read.
func readRosterSequential(r io.Reader, opts RosterOptions, v *adequacy.Vocabulary, h hash.Hash) (*adequacy.RosterBuilder, *RosterReport, error) {
	rr, err := newRowReader(r, rosterColumns, []string{"npi", "discipline", "lat", "lon"})
	if err != nil {
		return nil, nil, err
	}
	p := &rosterPart{}
	if err := newRowParser(rr, opts, v).parseCSV(p, 0); err != nil {
		return nil, nil, err
	}
	b, rep, err := joinParts([]*rosterPart{p}, rr.colName("npi"))
	if err != nil {
		return nil, nil, err
	}
	rep.SHA256 = hex.EncodeToString(h.Sum(nil))
	return b, rep, nil
}

// parseChunk parses whole lines without quoting, as the CSV reader would
// (blank lines skipped, a carriage return before a line feed dropped).
func (rd *RosterReader) parseChunk(p *rosterPart) {
	p.b = adequacy.NewRosterBuilder(0)
	p.b.Grow(len(p.data)/64, len(p.data)/2) // rows of 64 bytes or more, half of them text
	rd.rr.eachUnquotedRow(string(p.data), p.line, func(bad *RowError) {
		p.rows++
		if bad != nil {
			p.bad++
			p.errs = append(p.errs, *bad)
			return
		}
		rd.parseRow(p)
	})
}

// errMalformed: a chunk's quoting is wrong, so where its rows end is not
// known from it alone.
var errMalformed = errors.New("malformed CSV quoting")

// parseCSV parses rows with the CSV reader, adding shift to its line
// numbers. A part marked quoted stops at the first malformed row, with
// an error.
func (rd *RosterReader) parseCSV(p *rosterPart, shift int) error {
	p.b = adequacy.NewRosterBuilder(0)
	for {
		rowErr, err := rd.rr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.quoted && rd.rr.malformed {
			return errMalformed
		}
		p.rows++
		rd.rr.line += shift
		if rowErr != nil {
			rowErr.Line += shift
			p.bad++
			p.errs = append(p.errs, *rowErr)
			continue
		}
		rd.parseRow(p)
	}
}

// parseRow parses the current row into p.
func (rd *RosterReader) parseRow(p *rosterPart) {
	pr, errs, warns := rd.parseProvider()
	if len(errs) > 0 {
		p.bad++
		p.errs = append(p.errs, errs...)
		return
	}
	i := int32(p.b.Len())
	if err := p.b.Add(&pr); err != nil {
		p.bad++
		p.errs = append(p.errs, RowError{Line: rd.rr.line, Key: pr.NPI, Reason: err.Error()})
		return
	}
	p.lines = append(p.lines, int32(rd.rr.line))
	p.keys = append(p.keys, keyOf(&pr))
	if pr.CountyFIPS == "" && rd.counties != nil {
		p.unplaced = append(p.unplaced, i)
	}
	for _, w := range warns {
		p.warns = append(p.warns, w)
		p.warnOf = append(p.warnOf, i)
	}
}

// joinParts finds the duplicates across the parts — a row with the NPI,
// discipline and location of an earlier accepted row is bad, "duplicate
// of" that row — and joins the rest in file order, with the report the
// sequential reader would give (but its SHA-256).
func joinParts(parts []*rosterPart, npiCol string) (*adequacy.RosterBuilder, *RosterReport, error) {
	total := 0
	for _, p := range parts {
		total += len(p.keys)
	}
	keys := make([]rowKey, 0, total)
	lines := make([]int32, 0, total)
	text := 0
	for _, p := range parts {
		keys = append(keys, p.keys...)
		lines = append(lines, p.lines...)
		text += p.b.TextLen()
	}
	dupOf := duplicates(keys, lines) // the line a duplicate repeats; 0 for none
	var dupErrs []RowError
	for i, first := range dupOf {
		if first != 0 {
			npi := fmt.Sprintf("%010d", keys[i].npi)
			dupErrs = append(dupErrs, RowError{Line: int(lines[i]), Key: npi, Column: npiCol, Value: npi,
				Reason: fmt.Sprintf("duplicate of line %d: same NPI, discipline and location", first)})
		}
	}
	rep := &RosterReport{}
	out := adequacy.NewRosterBuilder(0)
	out.Grow(total-len(dupErrs), text)
	base := 0
	var errs []RowError
	for _, p := range parts {
		rep.Rows += p.rows
		rep.Bad += p.bad
		errs = append(errs, p.errs...)
		dup := dupOf[base : base+len(p.keys)]
		for k, i := range p.warnOf {
			if dup[i] == 0 {
				rep.WarningCount++
				if len(rep.Warnings) < MaxRosterWarnings {
					rep.Warnings = append(rep.Warnings, p.warns[k])
				}
			}
		}
		for _, i := range p.unplaced {
			if dup[i] == 0 {
				rep.Unplaced++
				if len(rep.UnplacedLines) < MaxListedUnplaced {
					rep.UnplacedLines = append(rep.UnplacedLines, int(p.lines[i]))
				}
			}
		}
		if err := out.Append(p.b, func(i int) bool { return dup[i] == 0 }); err != nil {
			return nil, nil, err
		}
		base += len(p.keys)
	}
	if len(dupErrs) > 0 {
		errs = append(errs, dupErrs...)
		sortRowErrors(errs)
	}
	rep.Errors = errs
	rep.Bad += len(dupErrs)
	rep.Accepted = out.Len()
	return out, rep, nil
}

// duplicates returns, for each key, the line of the first key equal to
// it, or 0 when it is the first: the keys are cut by hash into buckets,
// sorted bucket by bucket on every processor.
func duplicates(keys []rowKey, lines []int32) []int32 {
	const bits = 6
	hashes := make([]uint64, len(keys))
	var counts [1 << bits]int
	for i := range keys {
		k := &keys[i]
		h := k.npi*0x9E3779B97F4A7C15 ^ uint64(k.lat)*0xC2B2AE3D27D4EB4F ^ uint64(k.lon)*0x165667B19E3779F9 ^ uint64(k.d)
		h ^= h >> 29
		h *= 0xBF58476D1CE4E5B9
		h ^= h >> 32
		hashes[i] = h
		counts[h>>(64-bits)]++
	}
	var start [1<<bits + 1]int
	for b := range counts {
		start[b+1] = start[b] + counts[b]
	}
	order := make([]int32, len(keys))
	next := start
	for i, h := range hashes {
		b := h >> (64 - bits)
		order[next[b]] = int32(i)
		next[b]++
	}
	dupOf := make([]int32, len(keys))
	par.For(1<<bits, 0, func(_, b int) {
		bucket := order[start[b]:start[b+1]]
		slices.SortFunc(bucket, func(x, y int32) int {
			if c := cmp.Compare(hashes[x], hashes[y]); c != 0 {
				return c
			}
			kx, ky := &keys[x], &keys[y]
			if c := cmp.Compare(kx.npi, ky.npi); c != 0 {
				return c
			}
			if c := cmp.Compare(kx.lat, ky.lat); c != 0 {
				return c
			}
			if c := cmp.Compare(kx.lon, ky.lon); c != 0 {
				return c
			}
			if c := cmp.Compare(kx.d, ky.d); c != 0 {
				return c
			}
			return cmp.Compare(x, y)
		})
		for a := 0; a < len(bucket); {
			c := a + 1
			for c < len(bucket) && keys[bucket[c]] == keys[bucket[a]] {
				dupOf[bucket[c]] = lines[bucket[a]]
				c++
			}
			a = c
		}
	})
	return dupOf
}
