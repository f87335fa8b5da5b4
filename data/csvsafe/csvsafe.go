// Package csvsafe writes the CSV files geoaccess produces so that a
// spreadsheet opens them as data: no cell is ever evaluated as a formula
// (CSV or formula injection, OWASP "CSV Injection", CWE-1236). Every CSV
// the project writes — report tables, rejected rows, rosters, member
// files, the county-standards table — goes through it.
//
// The rule, cell by cell:
//
//   - A cell is either text or a number, and the writer says which.
//   - A number cell (Number, Int, Float) is written as it is when it is a
//     plain decimal number: an optional '-', digits, an optional fraction
//     and exponent ("-73.99", "12", "1e-07"), or empty. Anything else
//     given as a number is treated as text.
//   - A text cell (Text) is neutralised when its first character other
//     than a space (U+0020) is one a spreadsheet may take as the start of
//     a formula — '=', '+', '-', '@', tab, carriage return, line feed or
//     NUL — or is a single quote: it gets a single quote in front and is
//     always enclosed in double quotes, as OWASP recommends. A spreadsheet
//     shows the rest as text. So a member ID "-5" is written "'-5" and a
//     name "=HYPERLINK(...)" is written "'=HYPERLINK(...)", while the
//     longitude -73.99, written as a number, stays -73.99.
//   - Quoting otherwise follows encoding/csv (RFC 4180): a cell is quoted
//     when it holds a comma, a double quote, a line break or a leading
//     space, and double quotes are doubled.
//
// A leading single quote is the neutraliser's own mark, which is why a
// text cell that already begins with one gets another: Unescape, which
// the project's CSV readers apply to every cell, removes exactly one
// neutralising quote, so every text value reads back unchanged.
//
// The rule protects spreadsheets that read the files as what they are,
// comma-separated. A program that splits the lines on another separator
// (a semicolon, say) sees other cells, which no per-cell rule can
// foresee.
package csvsafe

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cell is one field of a record: text, or a number written as it is.
type Cell struct {
	s   string
	num bool
}

// Text is a text cell, neutralised when it could start a formula.
func Text(s string) Cell { return Cell{s: s} }

// Number is a number cell already formatted: written as it is when it is
// a plain decimal number (or empty), otherwise treated as text.
func Number(s string) Cell { return Cell{s: s, num: true} }

// Int is a whole-number cell.
func Int(n int) Cell { return Cell{s: strconv.Itoa(n), num: true} }

// Float is a number cell formatted by strconv.FormatFloat(x, 'f', prec,
// 64); a NaN or an infinity is an empty cell.
func Float(x float64, prec int) Cell {
	if x != x || x > maxFloat || x < -maxFloat {
		return Cell{num: true}
	}
	return Cell{s: strconv.FormatFloat(x, 'f', prec, 64), num: true}
}

const maxFloat = 1.7976931348623157e308

// Texts makes a record of text cells, such as a header.
func Texts(ss ...string) []Cell {
	cs := make([]Cell, len(ss))
	for i, s := range ss {
		cs[i] = Text(s)
	}
	return cs
}

// Writer writes records of cells. Errors are sticky: after the first,
// writes do nothing and Flush and Error return it.
type Writer struct {
	w   *bufio.Writer
	buf []byte
	err error
}

// NewWriter writes to w through a buffer; call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one record, terminated by "\n".
func (w *Writer) Write(cells ...Cell) error {
	if w.err != nil {
		return w.err
	}
	b := w.buf[:0]
	for i, c := range cells {
		if i > 0 {
			b = append(b, ',')
		}
		b = c.append(b)
	}
	b = append(b, '\n')
	w.buf = b
	_, w.err = w.w.Write(b)
	return w.err
}

// WriteText writes a record of text cells, such as a header.
func (w *Writer) WriteText(ss ...string) error {
	if w.err != nil {
		return w.err
	}
	b := w.buf[:0]
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendText(b, s)
	}
	b = append(b, '\n')
	w.buf = b
	_, w.err = w.w.Write(b)
	return w.err
}

// Flush writes any buffered data and returns the first error.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// Error is the first error met, if any.
func (w *Writer) Error() error { return w.err }

func (c Cell) append(b []byte) []byte {
	if c.num {
		return AppendNumber(b, c.s)
	}
	return AppendText(b, c.s)
}

// AppendText appends s as a text cell (see the package rule), for callers
// that format records themselves.
func AppendText(b []byte, s string) []byte {
	if Risky(s) {
		return appendQuoted(append(b, '"', '\''), s)
	}
	if !needsQuotes(s) {
		return append(b, s...)
	}
	return appendQuoted(append(b, '"'), s)
}

// AppendNumber appends s as a number cell: as it is when it is a plain
// decimal number or empty, otherwise as text.
func AppendNumber(b []byte, s string) []byte {
	if s == "" || PlainNumber(s) {
		return append(b, s...)
	}
	return AppendText(b, s)
}

// AppendInt appends a whole-number cell.
func AppendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// appendQuoted appends s with its double quotes doubled, then the closing
// quote; the opening one is already there.
func appendQuoted(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// needsQuotes is encoding/csv's rule for a comma-separated field.
func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || strings.ContainsAny(s, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// Risky reports whether a text cell needs neutralising: its first
// character other than a space may start a formula, or is the
// neutralising single quote.
func Risky(s string) bool {
	s = strings.TrimLeft(s, " ")
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n', 0, '\'':
		return true
	}
	return false
}

// Unescape undoes the neutralisation of one text cell: it drops a
// leading single quote that stands before what Risky would neutralise.
// Other values come back unchanged, so a file no spreadsheet touched
// reads as before.
func Unescape(s string) string {
	if len(s) > 1 && s[0] == '\'' && Risky(s[1:]) {
		return s[1:]
	}
	return s
}

// PlainNumber reports whether s is a plain decimal number: an optional
// '-', digits, an optional '.' and digits, an optional exponent.
func PlainNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := digits(s, i)
	if d == i {
		return false
	}
	i = d
	if i < len(s) && s[i] == '.' {
		d = digits(s, i+1)
		if d == i+1 {
			return false
		}
		i = d
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		d = digits(s, i)
		if d == i {
			return false
		}
		i = d
	}
	return i == len(s)
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
