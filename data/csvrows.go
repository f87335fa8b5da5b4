package data

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
)

// RowError is one problem with one field (or a whole row) of a CSV file.
type RowError struct {
	Line   int    // 1-based line of the file
	Key    string // the row's identifier (member_id, npi) when it has one
	Column string // header name; "" when the whole row is wrong
	Value  string // the offending text, cut to adequacy.MaxExcerpt bytes
	Reason string
}

func (e RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, ": %q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// ErrTooManyBadRows is returned when a file has more bad rows than allowed.
var ErrTooManyBadRows = errors.New("too many bad rows")

// ErrEmptyRoster is adequacy.ErrEmptyRoster: a roster with no
// participating in-person provider, which is never served.
var ErrEmptyRoster = adequacy.ErrEmptyRoster

// BadRows reports a file's bad rows; it wraps ErrTooManyBadRows.
type BadRows struct {
	File   string
	Rows   int // data rows read
	Bad    int // rows rejected
	Limit  int
	Errors []RowError
}

func (e *BadRows) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d rows are bad (limit %d)", e.File, e.Bad, e.Rows, e.Limit)
	n := min(len(e.Errors), 5)
	for _, re := range e.Errors[:n] {
		b.WriteString("; ")
		b.WriteString(re.Error())
	}
	if len(e.Errors) > n {
		fmt.Fprintf(&b, "; and %d more", len(e.Errors)-n)
	}
	return b.String()
}

func (e *BadRows) Unwrap() error { return ErrTooManyBadRows }

// rowReader reads a CSV file with a header row, naming columns by header.
type rowReader struct {
	cr     *csv.Reader
	cols   map[string]int
	header []string
	rec    []string
	line   int
	// malformed: the last row's quoting was wrong (the CSV reader's
	// ParseError), so where it ends is the CSV reader's guess.
	malformed bool
}

// normHeader folds a header name: trimmed, lower case, spaces and hyphens
// as underscores, any byte-order mark dropped.
func normHeader(h string) string {
	h = strings.TrimPrefix(h, "\ufeff")
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

// newRowReader reads the header and maps each canonical column name to its
// position, accepting the aliases given. Unknown columns are ignored.
func newRowReader(r io.Reader, aliases map[string][]string, required []string) (*rowReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("line 1: the file is empty; want a header row")
		}
		return nil, fmt.Errorf("line 1: %w", err)
	}
	rr := &rowReader{cr: cr, cols: map[string]int{}, header: append([]string(nil), head...)}
	seen := map[string]int{}
	for i, h := range head {
		n := normHeader(h)
		for canon, names := range aliases {
			for _, a := range names {
				if n == a {
					if j, dup := seen[canon]; dup {
						return nil, fmt.Errorf("line 1: columns %q and %q both give %s", adequacy.Excerpt(head[j]), adequacy.Excerpt(h), canon)
					}
					seen[canon] = i
					rr.cols[canon] = i
				}
			}
		}
	}
	var missing []string
	for _, c := range required {
		if _, ok := rr.cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("line 1: %w: %s (header has: %s)", ErrMissingColumn, strings.Join(missing, ", "), headerExcerpt(head))
	}
	return rr, nil
}

// next reads one record. A malformed record (bad quoting, wrong field
// count) comes back as a RowError so the caller can go on.
func (rr *rowReader) next() (*RowError, error) {
	rec, err := rr.cr.Read()
	var pe *csv.ParseError
	rr.malformed = false
	switch {
	case errors.Is(err, io.EOF):
		return nil, io.EOF
	case errors.As(err, &pe):
		rr.line, rr.malformed = pe.StartLine, true
		return &RowError{Line: pe.StartLine, Reason: fmt.Sprintf("malformed CSV at column %d: %v", pe.Column, pe.Err)}, nil
	case err != nil:
		return nil, err
	}
	line, _ := rr.cr.FieldPos(0) // only valid after a successful Read
	rr.line = line
	rr.rec = rec
	if len(rec) != len(rr.header) {
		return &RowError{Line: line, Reason: fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(rr.header))}, nil
	}
	return nil, nil
}

// get returns a column's trimmed value, "" when the column is absent. A
// cell neutralised against spreadsheet formulas (csvsafe, as this
// project's writers do) reads as the value it stands for.
func (rr *rowReader) get(canon string) string {
	i, ok := rr.cols[canon]
	if !ok {
		return ""
	}
	return strings.TrimSpace(csvsafe.Unescape(strings.TrimSpace(rr.rec[i])))
}

// colName is the column's header as the file spells it.
func (rr *rowReader) colName(canon string) string {
	if i, ok := rr.cols[canon]; ok {
		return strings.TrimSpace(strings.TrimPrefix(rr.header[i], "\ufeff"))
	}
	return canon
}

// rowErrs collects the problems of one row.
type rowErrs struct {
	rr   *rowReader
	key  string
	errs []RowError
}

func (e *rowErrs) add(canon, value, reason string) {
	e.errs = append(e.errs, RowError{Line: e.rr.line, Key: e.key, Column: adequacy.Excerpt(e.rr.colName(canon)), Value: adequacy.Excerpt(value), Reason: reason})
}

// maxHeaderExcerpt bounds the header an error quotes: a line of a few
// dozen column names, never a megabyte line.
const maxHeaderExcerpt = 300

// headerExcerpt is the header as an error may show it: each name cut
// (adequacy.Excerpt), the whole cut at maxHeaderExcerpt bytes.
func headerExcerpt(head []string) string {
	names := make([]string, 0, min(len(head), 40))
	for _, h := range head[:min(len(head), 40)] {
		names = append(names, adequacy.Excerpt(h))
	}
	s := strings.Join(names, ", ")
	if len(head) > len(names) {
		s += fmt.Sprintf(", … (%d columns)", len(head))
	}
	return adequacy.ExcerptN(s, maxHeaderExcerpt)
}

// float parses a column's value s, reporting it missing or not a number.
func (e *rowErrs) float(canon, s string) float64 {
	if s == "" {
		e.add(canon, "", "is required")
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		e.add(canon, s, "is not a number")
		return 0
	}
	return v
}

// flag parses a column's Y/N style value s; an empty cell takes the
// default.
func (e *rowErrs) flag(canon, s string, def bool) bool {
	s = strings.ToUpper(s)
	switch s {
	case "":
		return def
	case "Y", "YES", "TRUE", "T", "1":
		return true
	case "N", "NO", "FALSE", "F", "0":
		return false
	}
	e.add(canon, s, "must be Y or N")
	return def
}

// sortRowErrors orders errors by line, keeping each line's in column order.
func sortRowErrors(errs []RowError) {
	slices.SortStableFunc(errs, func(a, b RowError) int { return cmp.Compare(a.Line, b.Line) })
}

// headerLine reads through the first line that is not blank: the header,
// as the CSV reader finds it. It returns that line ("" if the input ends
// first), its line number, and every byte read (blank lines and header)
// for a reader that must start from the top.
func headerLine(br *bufio.Reader) (head string, line int, consumed []byte) {
	var buf bytes.Buffer
	for {
		ln, err := br.ReadString('\n')
		buf.WriteString(ln)
		line++
		if strings.TrimRight(ln, "\r\n") != "" {
			return ln, line, buf.Bytes()
		}
		if err != nil {
			return "", line, buf.Bytes()
		}
	}
}

// eachUnquotedRow reads a chunk of whole lines holding no quotes as the
// CSV reader would: blank lines skipped, a carriage return before a line
// feed dropped. For each row it sets rr.line and rr.rec (its fields, cut
// at commas) and calls row with nil, or, when the row's fields do not
// match the header, with the row's error.
func (rr *rowReader) eachUnquotedRow(s string, line int, row func(bad *RowError)) {
	for len(s) > 0 {
		end := strings.IndexByte(s, '\n')
		var ln string
		if end < 0 {
			ln, s = s, ""
		} else {
			ln, s = s[:end], s[end+1:]
		}
		ln = strings.TrimSuffix(ln, "\r")
		rr.line = line
		line++
		if ln == "" {
			continue
		}
		rr.rec = splitFields(rr.rec[:0], ln)
		if len(rr.rec) != len(rr.header) {
			row(&RowError{Line: rr.line, Reason: fmt.Sprintf("row has %d fields, the header has %d", len(rr.rec), len(rr.header))})
			continue
		}
		row(nil)
	}
}

// splitFields cuts a line at commas into dst.
func splitFields(dst []string, ln string) []string {
	for {
		i := strings.IndexByte(ln, ',')
		if i < 0 {
			return append(dst, ln)
		}
		dst = append(dst, ln[:i])
		ln = ln[i+1:]
	}
}
