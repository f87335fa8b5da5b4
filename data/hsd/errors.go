package hsd

import (
	"errors"
	"fmt"

	"github.com/geoaccess/geoaccess/adequacy"
)

var (
	// ErrNotHSD means the input lacks the sheets, header rows or columns
	// of a CMS MA HSD reference file: it is some other file, or CMS
	// changed the layout beyond what the reader recognises.
	ErrNotHSD = errors.New("not a CMS MA HSD reference file")

	// ErrMalformed means the input has the layout of the reference file
	// but a cell or a row is invalid (a bad number, a county missing from
	// one sheet, sheets that disagree). *CellError wraps it.
	ErrMalformed = errors.New("malformed CMS MA HSD reference file")
)

// CellError is a bad cell of the reference file, located as a spreadsheet
// user sees it. It wraps ErrMalformed.
type CellError struct {
	Sheet   string // sheet name, e.g. "Facility Time & Distance"
	Row     int    // 1-based row number
	Column  string // column letter, e.g. "AB"
	Header  string // what the column holds, e.g. "049 Distance"
	Value   string // the cell as found (Error quotes an excerpt)
	Problem string // what is wrong, e.g. "is not a number"
}

func (e *CellError) Error() string {
	return fmt.Sprintf("hsd: sheet %q row %d column %s (%s): %q %s",
		adequacy.Excerpt(e.Sheet), e.Row, e.Column, adequacy.Excerpt(e.Header), adequacy.Excerpt(e.Value), e.Problem)
}

// Unwrap lets callers test errors.Is(err, ErrMalformed).
func (e *CellError) Unwrap() error { return ErrMalformed }

// notHSDf reports a structural problem: the input is not (recognisably)
// the reference file.
func notHSDf(format string, args ...any) error {
	return fmt.Errorf("hsd: %w: %s", ErrNotHSD, fmt.Sprintf(format, args...))
}

// malformedf reports a data problem that is not about a single cell.
func malformedf(format string, args ...any) error {
	return fmt.Errorf("hsd: %s: %w", fmt.Sprintf(format, args...), ErrMalformed)
}
