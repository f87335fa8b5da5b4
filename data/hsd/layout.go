package hsd

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// The sheets of the reference file this package reads, by name.
const (
	SheetMinProvider = "Minimum Provider #s"
	SheetMinFacility = "Minimum Facility #s"
	SheetTDProvider  = "Provider Time & Distance"
	SheetTDFacility  = "Facility Time & Distance"
	SheetCON         = "Certificate of Need"
)

// headerSearchRows is how far down a sheet the header row may be: the
// CY2026 sheets have one title row above it; allow for more.
const headerSearchRows = 20

// Header texts as CMS writes them. Matching ignores case, spaces and
// punctuation (canonHeader): the time/distance sheets write
// "COUNTY DESIGNA-TION".
const (
	hCounty      = "COUNTY"
	hState       = "ST"
	hSSA         = "SSACD"
	hDesignation = "COUNTY DESIGNATION"
	hBenef       = "TOTAL BENEFICIARIES"
	hRatio       = "95th PERCENTILE BASE POPULATION RATIO"
	hRequired    = "BENEFICIARIES REQUIRED TO COVER"
	hConSSA      = "SSA"
	hConCode     = "Specialty_Code"
)

// sheetKind tells the two layouts of the county sheets apart.
type sheetKind int

const (
	minimumSheet      sheetKind = iota // one column per specialty: the minimum number
	timeDistanceSheet                  // two columns per specialty: Time, Distance
)

// header is a column found by its header text: where, and the text as the
// file writes it (for error messages).
type header struct {
	col  int
	text string
}

// layout is where things are on one county sheet.
type layout struct {
	sheet  string
	kind   sheetKind
	fixed  map[string]header // canonical header → column
	codes  [4]int            // minimum sheets: column per discipline, -1 if absent
	time   [4]int            // time/distance sheets: Time column per discipline
	dist   [4]int            // … and Distance column
	data   int               // index in rows of the first data row
	header int               // row number of the header row
}

// findHeaderRow returns the index of the first row, among the first
// headerSearchRows, that has all the given headers, and the row's columns
// keyed by canonical header text.
func findHeaderRow(sh *sheet, want ...string) (int, map[string]header, error) {
	for i := 0; i < len(sh.rows) && sh.rows[i].num <= headerSearchRows; i++ {
		cols := make(map[string]header)
		for _, c := range sh.rows[i].cells {
			k := canonHeader(c.val)
			if _, dup := cols[k]; !dup && k != "" {
				cols[k] = header{c.col, strings.Join(strings.Fields(c.val), " ")}
			}
		}
		if hasAll(cols, want...) {
			return i, cols, nil
		}
	}
	return 0, nil, notHSDf("sheet %q: no header row with the column %s in rows 1–%d",
		sh.name, strings.Join(want, " and "), headerSearchRows)
}

func hasAll(cols map[string]header, want ...string) bool {
	for _, w := range want {
		if _, ok := cols[canonHeader(w)]; !ok {
			return false
		}
	}
	return true
}

// parseLayout finds the header row (by its SSACD column), the fixed
// columns, the specialty-code row under the header and, on time/distance
// sheets, the Time/Distance row under that.
func parseLayout(sh *sheet, kind sheetKind) (*layout, error) {
	hi, cols, err := findHeaderRow(sh, hSSA)
	if err != nil {
		return nil, err
	}
	l := &layout{sheet: sh.name, kind: kind, fixed: cols, header: sh.rows[hi].num}
	need := []string{hCounty, hState, hSSA, hDesignation}
	if kind == minimumSheet {
		need = append(need, hBenef, hRatio, hRequired)
	}
	for _, n := range need {
		if _, ok := cols[canonHeader(n)]; !ok {
			return nil, notHSDf("sheet %q row %d: no column headed %s", sh.name, l.header, n)
		}
	}
	codeRow := hi + 1
	if codeRow >= len(sh.rows) || !isCodeRow(&sh.rows[codeRow], l.firstSpecialtyCol()) {
		return nil, notHSDf("sheet %q: no row of specialty codes under the header (row %d)", sh.name, l.header)
	}
	l.data = codeRow + 1
	if kind == minimumSheet {
		return l, l.mapMinimum(&sh.rows[codeRow])
	}
	if l.data >= len(sh.rows) || !isTimeDistanceRow(&sh.rows[l.data], l.firstSpecialtyCol()) {
		return nil, notHSDf("sheet %q: no Time/Distance row under the specialty codes (row %d)", sh.name, sh.rows[codeRow].num)
	}
	l.data++
	return l, l.mapTimeDistance(&sh.rows[codeRow], &sh.rows[l.data-1])
}

// firstSpecialtyCol is the first column right of every fixed column:
// specialty columns follow the county columns.
func (l *layout) firstSpecialtyCol() int {
	last := 0
	for _, h := range []string{hCounty, hState, hSSA, hDesignation, hBenef, hRatio, hRequired} {
		if c, ok := l.fixed[canonHeader(h)]; ok && c.col > last {
			last = c.col
		}
	}
	return last + 1
}

// isCodeRow: the county columns are empty (a data row has its county
// there, and its small counts could pass for codes) and every cell from
// the specialty columns on is a specialty code ("010", "S03", or a number
// such as 40 where the sheet stores codes as numbers); there is at least
// one.
func isCodeRow(r *sheetRow, from int) bool {
	n := 0
	for _, c := range r.cells {
		if c.col < from {
			return false
		}
		if _, ok := specialtyCode(c.val); !ok {
			return false
		}
		n++
	}
	return n > 0
}

// isTimeDistanceRow: the county columns are empty and every cell from
// the specialty columns on says Time or Distance.
func isTimeDistanceRow(r *sheetRow, from int) bool {
	n := 0
	for _, c := range r.cells {
		if c.col < from {
			return false
		}
		if v := strings.ToLower(strings.TrimSpace(c.val)); v != "time" && v != "distance" {
			return false
		}
		n++
	}
	return n > 0
}

// specialtyCode normalises a CMS specialty code: digits are padded to
// three ("40" → "040"), a letter prefix is kept ("S03").
func specialtyCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	digits := s
	if len(s) > 0 && s[0] >= 'A' && s[0] <= 'Z' {
		digits = s[1:]
	}
	if len(digits) < 1 || len(digits) > 3 {
		return "", false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
	}
	if len(digits) == len(s) {
		s = strings.Repeat("0", 3-len(s)) + s
	}
	return s, true
}

// mapMinimum finds each discipline's column by its code.
func (l *layout) mapMinimum(codes *sheetRow) error {
	l.codes = [4]int{-1, -1, -1, -1}
	for _, c := range codes.cells {
		code, _ := specialtyCode(c.val)
		d, ok := disciplineOf(code)
		if !ok || c.col < l.firstSpecialtyCol() {
			continue
		}
		if l.codes[d] >= 0 {
			return notHSDf("sheet %q row %d: specialty %s appears in columns %s and %s",
				l.sheet, codes.num, code, colName(l.codes[d]), colName(c.col))
		}
		l.codes[d] = c.col
	}
	return nil
}

// mapTimeDistance finds each discipline's Time and Distance columns. The
// code heads the Time column; the Distance column's code cell is empty
// (the two header cells are merged), so it takes the code to its left.
func (l *layout) mapTimeDistance(codes, labels *sheetRow) error {
	l.time, l.dist = [4]int{-1, -1, -1, -1}, [4]int{-1, -1, -1, -1}
	for _, c := range labels.cells {
		isDist := strings.EqualFold(strings.TrimSpace(c.val), "distance")
		code := codes.at(c.col)
		if code == "" && isDist {
			code = codes.at(c.col - 1)
		}
		code, _ = specialtyCode(code)
		d, ok := disciplineOf(code)
		if !ok || c.col < l.firstSpecialtyCol() {
			continue
		}
		slot, label := &l.time[d], "Time"
		if isDist {
			slot, label = &l.dist[d], "Distance"
		}
		if *slot >= 0 {
			return notHSDf("sheet %q row %d: specialty %s has two %s columns, %s and %s",
				l.sheet, labels.num, code, label, colName(*slot), colName(c.col))
		}
		*slot = c.col
	}
	for _, d := range adequacy.Disciplines {
		if (l.time[d] < 0) != (l.dist[d] < 0) {
			return notHSDf("sheet %q: specialty %s has a Time or a Distance column but not both", l.sheet, d.CMSSpecialty())
		}
	}
	return nil
}

// has reports whether the sheet carries discipline d.
func (l *layout) has(d adequacy.Discipline) bool {
	if l.kind == minimumSheet {
		return l.codes[d] >= 0
	}
	return l.time[d] >= 0
}

// disciplineOf maps a CMS specialty code to one of our disciplines.
func disciplineOf(code string) (adequacy.Discipline, bool) {
	for _, d := range adequacy.Disciplines {
		if d.CMSSpecialty() == code {
			return d, true
		}
	}
	return 0, false
}

// cellReader reads typed values out of one data row, producing CellErrors
// that say where and what.
type cellReader struct {
	sheet string
	row   *sheetRow
}

func (c cellReader) fail(col int, head, val, problem string) error {
	return &CellError{Sheet: c.sheet, Row: c.row.num, Column: colName(col), Header: head, Value: val, Problem: problem}
}

func (c cellReader) text(col int) string { return strings.TrimSpace(c.row.at(col)) }

// number reads a finite number; ok is false for an empty cell.
func (c cellReader) number(col int, head string) (v float64, ok bool, err error) {
	s := c.text(col)
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, c.fail(col, head, c.row.at(col), "is not a number")
	}
	return v, true, nil
}

// positive reads a number > 0; ok is false for an empty cell.
func (c cellReader) positive(col int, head string) (float64, bool, error) {
	v, ok, err := c.number(col, head)
	if err == nil && ok && !(v > 0) {
		err = c.fail(col, head, c.row.at(col), "is not a positive number")
	}
	return v, ok, err
}

// count reads a whole number ≥ 0 (Excel may store it as 12236 or
// 1.2236E4); ok is false for an empty cell.
func (c cellReader) count(col int, head string) (int, bool, error) {
	v, ok, err := c.number(col, head)
	if err != nil || !ok {
		return 0, ok, err
	}
	if v < 0 || v != math.Trunc(v) || v > 1<<31 {
		return 0, false, c.fail(col, head, c.row.at(col), "is not a whole number ≥ 0")
	}
	return int(v), true, nil
}

// mustCount is count for a cell that may not be empty.
func (c cellReader) mustCount(h header) (int, error) {
	v, ok, err := c.count(h.col, h.text)
	if err == nil && !ok {
		err = c.fail(h.col, h.text, "", "is empty: want a whole number")
	}
	return v, err
}

// mustNumber is number for a cell that may not be empty.
func (c cellReader) mustNumber(h header) (float64, error) {
	v, ok, err := c.number(h.col, h.text)
	if err == nil && !ok {
		err = c.fail(h.col, h.text, "", "is empty: want a number")
	}
	return v, err
}

// ssa reads an SSA state+county code: five digits (a sheet that stores it
// as a number loses leading zeros, so shorter digit strings are padded).
func (c cellReader) ssa(col int, head string) (string, error) {
	s := c.text(col)
	if len(s) < 5 && s != "" && strings.Trim(s, "0123456789") == "" {
		s = strings.Repeat("0", 5-len(s)) + s
	}
	if len(s) != 5 || strings.Trim(s, "0123456789") != "" {
		return "", c.fail(col, head, c.row.at(col), "is not an SSA county code (5 digits)")
	}
	return s, nil
}

func (c cellReader) designation(col int, head string) (adequacy.CountyType, error) {
	t, err := adequacy.ParseCountyType(c.text(col))
	if err != nil {
		return 0, c.fail(col, head, c.row.at(col), "is not a county designation (want Large Metro, Metro, Micro, Rural or CEAC)")
	}
	return t, nil
}

// colLabel names a specialty column for error messages: "049 Distance".
func colLabel(d adequacy.Discipline, what string) string {
	return fmt.Sprintf("%s %s", d.CMSSpecialty(), what)
}

// col returns the column headed name, if the sheet has one.
func (l *layout) col(name string) (header, bool) {
	h, ok := l.fixed[canonHeader(name)]
	return h, ok
}
