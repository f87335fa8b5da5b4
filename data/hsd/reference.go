package hsd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Title names the reference file; Resolve uses it in designation bases.
// The workbook itself carries no title or year, so this is fixed.
const Title = "CMS MA HSD reference file"

// Row is one CMS county of the reference file.
type Row struct {
	SSA, Name, State      string // SSA state+county code, county name, USPS state
	Designation           adequacy.CountyType
	Beneficiaries         int                        // TOTAL BENEFICIARIES
	BasePopulationRatio   float64                    // 95th PERCENTILE BASE POPULATION RATIO
	BeneficiariesRequired int                        // BENEFICIARIES REQUIRED TO COVER
	Standards             [4]adequacy.CountyStandard // indexed by adequacy.Discipline
}

// Reference is the reference file: its CMS counties in file order (the
// order of the "Minimum Provider #s" sheet).
type Reference struct {
	Title string // e.g. "CMS MA HSD reference file"
	Rows  []Row
}

// sheetsRead lists the sheets the reader needs, in reading order.
var sheetsRead = []string{SheetMinProvider, SheetMinFacility, SheetTDProvider, SheetTDFacility, SheetCON}

// csvFiles names each sheet's CSV export in a ReadCSV folder.
var csvFiles = map[string]string{
	SheetMinProvider: "minimum_provider_s.csv",
	SheetMinFacility: "minimum_facility_s.csv",
	SheetTDProvider:  "provider_time_distance.csv",
	SheetTDFacility:  "facility_time_distance.csv",
	SheetCON:         "certificate_of_need.csv",
}

// CSVFile is the file name ReadCSV expects for a sheet's CSV export, e.g.
// "facility_time_distance.csv" for "Facility Time & Distance".
func CSVFile(sheet string) string { return csvFiles[sheet] }

// ReadXLSX reads the reference file as published (.xlsx). Sheets are found
// by name, in any order; other sheets are ignored. A workbook beyond the
// bounds in xlsx.go (part sizes, shared strings, rows and cells) is
// refused with ErrMalformed before it is parsed.
func ReadXLSX(r io.ReaderAt, size int64) (*Reference, error) {
	wb, err := openWorkbook(r, size)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	sheets, err := readSheets(wb, sheetsRead)
	if err != nil {
		return nil, err
	}
	return build(sheets)
}

// ReadCSV reads the reference file from a folder of its sheets exported
// as CSV (cells as published), named as CSVFile says.
func ReadCSV(fsys fs.FS) (*Reference, error) {
	sheets := make(map[string]*sheet, len(sheetsRead))
	for _, name := range sheetsRead {
		data, err := fs.ReadFile(fsys, csvFiles[name])
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notHSDf("no file %q for sheet %q", csvFiles[name], name)
		}
		if err != nil {
			return nil, fmt.Errorf("hsd: sheet %q: %w", name, err)
		}
		if sheets[name], err = parseSheetCSV(name, data); err != nil {
			return nil, err
		}
	}
	return build(sheets)
}

// countyRec is one data row of a county sheet.
type countyRec struct {
	src              *sheetRow
	ssa, name, state string
	desig            adequacy.CountyType
	ben, req         int        // minimum sheets only
	ratio            float64    // minimum sheets only
	min              [4]int     // minimum sheets: per discipline
	minutes, miles   [4]float64 // time/distance sheets: per discipline
	tdSet            [4]bool
}

// countySheet is a parsed county sheet (minimum or time/distance).
type countySheet struct {
	name string
	l    *layout
	recs []countyRec
}

// readCountySheet parses one county sheet on its own; build then checks
// the sheets against each other.
func readCountySheet(sh *sheet, kind sheetKind) (*countySheet, error) {
	l, err := parseLayout(sh, kind)
	if err != nil {
		return nil, err
	}
	cs := &countySheet{name: sh.name, l: l}
	first := make(map[string]int) // SSA → row number
	for i := l.data; i < len(sh.rows); i++ {
		rec, ok, err := l.readRow(&sh.rows[i])
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if n, dup := first[rec.ssa]; dup {
			h, _ := l.col(hSSA)
			return nil, cellReader{sh.name, rec.src}.fail(h.col, h.text, rec.src.at(h.col),
				fmt.Sprintf("appears again (first on row %d)", n))
		}
		first[rec.ssa] = rec.src.num
		cs.recs = append(cs.recs, rec)
	}
	return cs, nil
}

// readRow reads one data row; ok is false for a row without county
// (a blank or formatting-only row after the data).
func (l *layout) readRow(r *sheetRow) (rec countyRec, ok bool, err error) {
	c := cellReader{l.sheet, r}
	ssaH, _ := l.col(hSSA)
	nameH, _ := l.col(hCounty)
	stH, _ := l.col(hState)
	if c.text(ssaH.col) == "" && c.text(nameH.col) == "" && c.text(stH.col) == "" {
		return rec, false, nil
	}
	rec = countyRec{src: r, name: c.text(nameH.col), state: c.text(stH.col)}
	if rec.ssa, err = c.ssa(ssaH.col, ssaH.text); err != nil {
		return rec, false, err
	}
	if rec.name == "" {
		return rec, false, c.fail(nameH.col, nameH.text, "", "is empty: want the county name")
	}
	if !isStateCode(rec.state) {
		return rec, false, c.fail(stH.col, stH.text, r.at(stH.col), "is not a two-letter state code")
	}
	desH, _ := l.col(hDesignation)
	if rec.desig, err = c.designation(desH.col, desH.text); err != nil {
		return rec, false, err
	}
	if l.kind == minimumSheet {
		err = l.readMinimums(c, &rec)
	} else {
		err = l.readTimeDistance(c, &rec)
	}
	return rec, err == nil, err
}

func isStateCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// readMinimums reads the beneficiary figures, all required, and each
// discipline's minimum number.
func (l *layout) readMinimums(c cellReader, rec *countyRec) error {
	var err error
	benH, _ := l.col(hBenef)
	reqH, _ := l.col(hRequired)
	ratioH, _ := l.col(hRatio)
	if rec.ben, err = c.mustCount(benH); err != nil {
		return err
	}
	if rec.req, err = c.mustCount(reqH); err != nil {
		return err
	}
	if rec.ratio, err = c.mustNumber(ratioH); err != nil {
		return err
	}
	if rec.ratio < 0 {
		return c.fail(ratioH.col, ratioH.text, c.row.at(ratioH.col), "is not a number ≥ 0")
	}
	for _, d := range adequacy.Disciplines {
		if l.codes[d] < 0 {
			continue
		}
		if rec.min[d], _, err = c.count(l.codes[d], colLabel(d, "minimum")); err != nil {
			return err
		}
	}
	return nil
}

// readTimeDistance reads each discipline's maximum time and distance. A
// specialty with neither is not set for the county; one without the other
// is an error.
func (l *layout) readTimeDistance(c cellReader, rec *countyRec) error {
	for _, d := range adequacy.Disciplines {
		if l.time[d] < 0 {
			continue
		}
		minutes, okT, err := c.positive(l.time[d], colLabel(d, "Time"))
		if err != nil {
			return err
		}
		miles, okD, err := c.positive(l.dist[d], colLabel(d, "Distance"))
		if err != nil {
			return err
		}
		switch {
		case okT && !okD:
			return c.fail(l.dist[d], colLabel(d, "Distance"), "", "is empty but the Time column has a value")
		case okD && !okT:
			return c.fail(l.time[d], colLabel(d, "Time"), "", "is empty but the Distance column has a value")
		}
		rec.minutes[d], rec.miles[d], rec.tdSet[d] = minutes, miles, okT
	}
	return nil
}

// sourcesFor picks, per discipline, the one sheet of the pair that has
// its columns: chiropractor is a provider specialty and the therapies are
// facility specialties today, but nothing here assumes so.
func sourcesFor(a, b *countySheet) ([4]*countySheet, error) {
	var src [4]*countySheet
	what := "column"
	if a.l.kind == timeDistanceSheet {
		what = "Time and Distance columns"
	}
	for _, d := range adequacy.Disciplines {
		switch inA, inB := a.l.has(d), b.l.has(d); {
		case inA && inB:
			return src, notHSDf("specialty %s (%s) appears on both sheet %q and sheet %q",
				d.CMSSpecialty(), d.Name(), a.name, b.name)
		case inA:
			src[d] = a
		case inB:
			src[d] = b
		default:
			return src, notHSDf("no %s for specialty %s (%s) on sheet %q or sheet %q",
				what, d.CMSSpecialty(), d.Name(), a.name, b.name)
		}
	}
	return src, nil
}

// build assembles the Reference from the five sheets, checking that they
// list the same counties and agree on what they share.
func build(sheets map[string]*sheet) (*Reference, error) {
	var cs [4]*countySheet
	for i, k := range []struct {
		name string
		kind sheetKind
	}{{SheetMinProvider, minimumSheet}, {SheetMinFacility, minimumSheet}, {SheetTDProvider, timeDistanceSheet}, {SheetTDFacility, timeDistanceSheet}} {
		var err error
		if cs[i], err = readCountySheet(sheets[k.name], k.kind); err != nil {
			return nil, err
		}
	}
	con, err := readCONSheet(sheets[SheetCON])
	if err != nil {
		return nil, err
	}
	minSrc, err := sourcesFor(cs[0], cs[1])
	if err != nil {
		return nil, err
	}
	tdSrc, err := sourcesFor(cs[2], cs[3])
	if err != nil {
		return nil, err
	}
	if len(cs[0].recs) == 0 {
		return nil, malformedf("sheet %q lists no counties", cs[0].name)
	}
	m := newMerger(cs[0])
	for _, s := range cs {
		if err := m.merge(s, minSrc, tdSrc); err != nil {
			return nil, err
		}
	}
	if err := m.applyCON(con); err != nil {
		return nil, err
	}
	return &Reference{Title: Title, Rows: m.rows}, nil
}

// merger builds Rows from the master sheet (Minimum Provider #s) and fills
// them from every sheet.
type merger struct {
	master *countySheet
	rows   []Row
	index  map[string]int // SSA → index in rows and master.recs
}

func newMerger(master *countySheet) *merger {
	m := &merger{master: master, index: make(map[string]int, len(master.recs))}
	for i, r := range master.recs {
		m.index[r.ssa] = i
		m.rows = append(m.rows, Row{
			SSA: r.ssa, Name: r.name, State: r.state, Designation: r.desig,
			Beneficiaries: r.ben, BasePopulationRatio: r.ratio, BeneficiariesRequired: r.req,
		})
	}
	return m
}

// merge checks sheet s against the master and takes from it the values of
// the disciplines it is the source of.
func (m *merger) merge(s *countySheet, minSrc, tdSrc [4]*countySheet) error {
	seen := make([]bool, len(m.rows))
	for i := range s.recs {
		rec := &s.recs[i]
		j, ok := m.index[rec.ssa]
		if !ok {
			h, _ := s.l.col(hSSA)
			return cellReader{s.name, rec.src}.fail(h.col, h.text, rec.src.at(h.col),
				fmt.Sprintf("is not a county of sheet %q", m.master.name))
		}
		seen[j] = true
		if err := m.agree(s, rec, &m.master.recs[j]); err != nil {
			return err
		}
		for _, d := range adequacy.Disciplines {
			std := &m.rows[j].Standards[d]
			if minSrc[d] == s {
				std.MinProviders = rec.min[d]
			}
			if tdSrc[d] == s {
				std.Set, std.MaxMinutes, std.MaxMiles = rec.tdSet[d], rec.minutes[d], rec.miles[d]
			}
		}
	}
	for j, ok := range seen {
		if !ok {
			r := m.master.recs[j]
			return malformedf("sheet %q has no row for SSA %s (%s, %s), which is on sheet %q row %d",
				s.name, r.ssa, adequacy.Excerpt(r.name), adequacy.Excerpt(r.state), m.master.name, r.src.num)
		}
	}
	return m.checkMinimums(s, minSrc, tdSrc)
}

// agree checks that a sheet's row says the same as the master's about the
// county itself.
func (m *merger) agree(s *countySheet, rec, want *countyRec) error {
	type field struct {
		name      string
		got, want string
	}
	fields := []field{
		{hCounty, rec.name, want.name},
		{hState, rec.state, want.state},
		{hDesignation, rec.desig.String(), want.desig.String()},
	}
	if s.l.kind == minimumSheet {
		fields = append(fields,
			field{hBenef, strconv.Itoa(rec.ben), strconv.Itoa(want.ben)},
			field{hRatio, fmtFloat(rec.ratio), fmtFloat(want.ratio)},
			field{hRequired, strconv.Itoa(rec.req), strconv.Itoa(want.req)})
	}
	for _, f := range fields {
		if f.got != f.want {
			h, _ := s.l.col(f.name)
			return cellReader{s.name, rec.src}.fail(h.col, h.text, rec.src.at(h.col),
				fmt.Sprintf("differs from %q on sheet %q row %d", adequacy.Excerpt(f.want), m.master.name, want.src.num))
		}
	}
	return nil
}

// checkMinimums runs once the time/distance sheet of a discipline is
// merged: a minimum number without a time/distance standard is a file
// error (the reverse, a standard without a minimum, means no minimum).
func (m *merger) checkMinimums(s *countySheet, minSrc, tdSrc [4]*countySheet) error {
	for _, d := range adequacy.Disciplines {
		if tdSrc[d] != s {
			continue
		}
		for i := range s.recs {
			rec := &s.recs[i]
			row := &m.rows[m.index[rec.ssa]]
			if !rec.tdSet[d] && row.Standards[d].MinProviders > 0 {
				return cellReader{s.name, rec.src}.fail(s.l.time[d], colLabel(d, "Time"), "",
					fmt.Sprintf("is empty but sheet %q gives a minimum of %d", minSrc[d].name, row.Standards[d].MinProviders))
			}
		}
	}
	return nil
}

// conRec is a Certificate of Need row for one of our disciplines.
type conRec struct {
	src    *sheetRow
	ssaCol header
	ssa    string
	d      adequacy.Discipline
}

// readCONSheet reads the Certificate of Need sheet: one row per county ×
// specialty where a CON credit is available. Rows of other specialties
// are checked for a valid code and skipped.
func readCONSheet(sh *sheet) ([]conRec, error) {
	hi, cols, err := findHeaderRow(sh, hConSSA, hConCode)
	if err != nil {
		return nil, err
	}
	ssaH, codeH := cols[canonHeader(hConSSA)], cols[canonHeader(hConCode)]
	var out []conRec
	for i := hi + 1; i < len(sh.rows); i++ {
		c := cellReader{sh.name, &sh.rows[i]}
		if c.text(ssaH.col) == "" && c.text(codeH.col) == "" {
			continue
		}
		code, ok := specialtyCode(c.text(codeH.col))
		if !ok {
			return nil, c.fail(codeH.col, codeH.text, c.row.at(codeH.col), "is not a specialty code")
		}
		d, ours := disciplineOf(code)
		if !ours {
			continue
		}
		ssa, err := c.ssa(ssaH.col, ssaH.text)
		if err != nil {
			return nil, err
		}
		out = append(out, conRec{c.row, ssaH, ssa, d})
	}
	return out, nil
}

// applyCON flags the standards with a CON credit. A CON row for a county
// without a time/distance standard for the specialty has nothing to
// credit and is ignored.
func (m *merger) applyCON(recs []conRec) error {
	for _, r := range recs {
		j, ok := m.index[r.ssa]
		if !ok {
			return cellReader{SheetCON, r.src}.fail(r.ssaCol.col, r.ssaCol.text, r.src.at(r.ssaCol.col),
				fmt.Sprintf("is not a county of sheet %q", m.master.name))
		}
		if s := &m.rows[j].Standards[r.d]; s.Set {
			s.CertificateOfNeed = true
		}
	}
	return nil
}

// fmtFloat is the shortest text that reads back as the same float64.
func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
