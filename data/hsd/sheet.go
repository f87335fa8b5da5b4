package hsd

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Spreadsheet limits (Excel's). Anything beyond them is not a sheet of
// the reference file, and refusing it keeps memory bounded on hostile
// input.
const (
	maxColumns = 16384   // A … XFD
	maxRows    = 1048576 // rows per sheet
)

// sheet is one worksheet as text cells, whichever format it came from.
// Rows and cells are sparse: only non-empty cells are kept, so a stray
// cell far to the right costs nothing.
type sheet struct {
	name string
	rows []sheetRow // ascending row number
}

// sheetRow is one row: its 1-based number and its non-empty cells in
// ascending column order.
type sheetRow struct {
	num   int
	cells []cell
}

type cell struct {
	col int // 0-based: A is 0
	val string
}

// at returns the text of the cell in column col, "" when empty.
func (r *sheetRow) at(col int) string {
	i := sort.Search(len(r.cells), func(i int) bool { return r.cells[i].col >= col })
	if i < len(r.cells) && r.cells[i].col == col {
		return r.cells[i].val
	}
	return ""
}

// colName is the spreadsheet letter of 0-based column i: 0 → A, 27 → AB.
func colName(i int) string {
	if i < 0 {
		return "?"
	}
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return string(b)
}

// parseCellRef splits an A1-style reference into 0-based column and
// 1-based row. ok is false for anything else or beyond the sheet limits.
func parseCellRef(ref string) (col, row int, ok bool) {
	i := 0
	for i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z' {
		col = col*26 + int(ref[i]-'A'+1)
		if col > maxColumns {
			return 0, 0, false
		}
		i++
	}
	if i == 0 || i == len(ref) {
		return 0, 0, false
	}
	for ; i < len(ref); i++ {
		if ref[i] < '0' || ref[i] > '9' {
			return 0, 0, false
		}
		row = row*10 + int(ref[i]-'0')
		if row > maxRows {
			return 0, 0, false
		}
	}
	if row == 0 {
		return 0, 0, false
	}
	return col - 1, row, true
}

// parseSheetCSV reads one sheet exported as CSV. Row numbers are record
// numbers: the export writes every row from row 1, so they are the rows a
// spreadsheet user sees (an export drops wholly blank rows, which only
// occur after the data).
func parseSheetCSV(name string, data []byte) (*sheet, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // Excel's UTF-8 BOM
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1 // rows of the export differ in length
	sh := &sheet{name: name}
	for num := 1; ; num++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return sh, nil
		}
		if err != nil {
			return nil, fmt.Errorf("hsd: sheet %q: %w: %w", name, ErrMalformed, err)
		}
		if num > maxRows || len(rec) > maxColumns {
			return nil, malformedf("sheet %q row %d: beyond the %d rows × %d columns of a spreadsheet", name, num, maxRows, maxColumns)
		}
		row := sheetRow{num: num}
		for col, v := range rec {
			if v != "" {
				row.cells = append(row.cells, cell{col, v})
			}
		}
		if len(row.cells) > 0 {
			sh.rows = append(sh.rows, row)
		}
	}
}

// canonHeader reduces header text to upper-case letters and digits, so
// "COUNTY DESIGNA-TION", "County Designation" and "COUNTY\nDESIGNATION"
// compare equal.
func canonHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
