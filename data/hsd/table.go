package hsd

// The county-standards table: the resolved counties as a compact CSV, the
// form embedded as the default county table. Layout:
//
//	# source: CMS MA HSD reference file CY2026 (12-17-2025)
//	fips,state,name,designation,official,basis,cms_counties,beneficiaries,…,dc_minutes,dc_miles,dc_min,dc_con,…,note
//	01001,AL,Autauga,Metro,Y,CMS MA HSD reference file: Autauga, AL (SSA 01000),01000,12236,…
//
// One row per county; per discipline (dc, pt, ot, st) the maximum minutes
// and miles, the minimum number, and "Y" where the CON credit is
// available. A discipline without a standard has all four empty.
// cms_counties separates SSA codes with ";". Numbers are written as the
// shortest text that reads back exactly.

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
)

const sourcePrefix = "# source: "

// Columns of the table before and after the per-discipline groups.
var (
	tableLead = []string{"fips", "state", "name", "designation", "official", "basis", "cms_counties",
		"beneficiaries", "base_population_ratio", "beneficiaries_required"}
	tableStd   = []string{"minutes", "miles", "min", "con"}
	tableTrail = []string{"note"}
)

// tableHeader is the header row: the lead columns, four per discipline
// ("dc_minutes" …), then the note.
func tableHeader() []string {
	h := append([]string(nil), tableLead...)
	for _, d := range adequacy.Disciplines {
		for _, s := range tableStd {
			h = append(h, strings.ToLower(d.String())+"_"+s)
		}
	}
	return append(h, tableTrail...)
}

// WriteTable writes counties as the county-standards table, with source
// naming where the official values came from.
func WriteTable(w io.Writer, source string, counties []adequacy.County) error {
	if strings.ContainsAny(source, "\r\n") {
		return fmt.Errorf("hsd table: source %q spans lines", source)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(sourcePrefix + source + "\n")
	// Cells go through csvsafe: a name or note from the workbook that could
	// start a spreadsheet formula is neutralised (ReadTable undoes it).
	cw := csvsafe.NewWriter(bw)
	cw.WriteText(tableHeader()...)
	for i := range counties {
		rec, err := encodeCounty(&counties[i])
		if err != nil {
			return err
		}
		cw.Write(rec...)
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("hsd table: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("hsd table: %w", err)
	}
	return nil
}

func encodeCounty(c *adequacy.County) ([]csvsafe.Cell, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hsd table: county %s: %s", c.FIPS, fmt.Sprintf(format, args...))
	}
	if !c.Designation.Type.Valid() {
		return nil, fail("%v", adequacy.ErrUnknownCountyType)
	}
	for _, ssa := range c.CMSCounties {
		if !isSSA(ssa) {
			return nil, fail("CMS county code %q is not 5 digits", ssa)
		}
	}
	if !finite(c.BasePopulationRatio) {
		return nil, fail("base population ratio %v is not finite", c.BasePopulationRatio)
	}
	t, num := csvsafe.Text, csvsafe.Number
	rec := []csvsafe.Cell{t(c.FIPS), t(c.State), t(c.Name), t(c.Designation.Type.String()), t(yn(c.Designation.Official, "N")),
		t(c.Designation.Basis), t(strings.Join(c.CMSCounties, ";")),
		csvsafe.Int(c.Beneficiaries), num(fmtFloat(c.BasePopulationRatio)), csvsafe.Int(c.BeneficiariesRequired)}
	for _, d := range adequacy.Disciplines {
		s := c.Standards[d]
		if !s.Set {
			if s != (adequacy.CountyStandard{}) {
				return nil, fail("%s standard is not set but has values %+v", d, s)
			}
			rec = append(rec, t(""), t(""), t(""), t(""))
			continue
		}
		if !finite(s.MaxMinutes) || !finite(s.MaxMiles) {
			return nil, fail("%s standard %v min / %v mi is not finite", d, s.MaxMinutes, s.MaxMiles)
		}
		rec = append(rec, num(fmtFloat(s.MaxMinutes)), num(fmtFloat(s.MaxMiles)), csvsafe.Int(s.MinProviders), t(yn(s.CertificateOfNeed, "")))
	}
	return append(rec, t(c.Note)), nil
}

func isSSA(s string) bool { return len(s) == 5 && strings.Trim(s, "0123456789") == "" }

func yn(b bool, no string) string {
	if b {
		return "Y"
	}
	return no
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ReadTable reads a county-standards table written by WriteTable and
// validates it as adequacy.NewCounties does.
func ReadTable(r io.Reader) (source string, counties []adequacy.County, err error) {
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", nil, fmt.Errorf("hsd table: line 1: want %q followed by the source: %w", sourcePrefix, err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	source, ok := strings.CutPrefix(line, sourcePrefix)
	if !ok || strings.ContainsAny(source, "\r\n") {
		return "", nil, fmt.Errorf("hsd table: line 1: want %q followed by the source, got %q", sourcePrefix, adequacy.Excerpt(line))
	}
	cr := csv.NewReader(br)
	head, err := cr.Read()
	want := tableHeader()
	if err != nil || strings.Join(head, ",") != strings.Join(want, ",") {
		return "", nil, fmt.Errorf("hsd table: line 2: want the header %q (got %q, %v)", strings.Join(want, ","), adequacy.ExcerptN(strings.Join(head, ","), 300), err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("hsd table: %w (line numbers count from line 2)", err)
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = csvsafe.Unescape(rec[i])
		}
		c, err := decodeCounty(rec, tableRow{want, line + 1})
		if err != nil {
			return "", nil, err
		}
		counties = append(counties, c)
	}
	if _, err := adequacy.NewCounties(source, counties); err != nil {
		return "", nil, fmt.Errorf("hsd table: %w", err)
	}
	return source, counties, nil
}

// tableRow locates a record for error messages.
type tableRow struct {
	header []string
	line   int
}

func (t tableRow) fail(i int, val, problem string) error {
	return fmt.Errorf("hsd table: line %d column %s: %q %s", t.line, t.header[i], adequacy.Excerpt(val), problem)
}

func (t tableRow) count(rec []string, i int) (int, error) {
	n, err := strconv.Atoi(rec[i])
	if err != nil || n < 0 {
		return 0, t.fail(i, rec[i], "is not a whole number ≥ 0")
	}
	return n, nil
}

func (t tableRow) number(rec []string, i int) (float64, error) {
	f, err := strconv.ParseFloat(rec[i], 64)
	if err != nil || !finite(f) || f < 0 {
		return 0, t.fail(i, rec[i], "is not a number ≥ 0")
	}
	return f, nil
}

func (t tableRow) flag(rec []string, i int, no string) (bool, error) {
	switch rec[i] {
	case "Y":
		return true, nil
	case no:
		return false, nil
	}
	return false, t.fail(i, rec[i], fmt.Sprintf("is not Y or %q", no))
}

func decodeCounty(rec []string, t tableRow) (c adequacy.County, err error) {
	c = adequacy.County{FIPS: rec[0], State: rec[1], Name: rec[2], Note: rec[len(rec)-1]}
	c.Designation.Basis = rec[5]
	if c.Designation.Type, err = adequacy.ParseCountyType(rec[3]); err != nil {
		return c, t.fail(3, rec[3], "is not a county designation")
	}
	if c.Designation.Official, err = t.flag(rec, 4, "N"); err != nil {
		return c, err
	}
	if rec[6] != "" {
		c.CMSCounties = strings.Split(rec[6], ";")
		for _, ssa := range c.CMSCounties {
			if !isSSA(ssa) {
				return c, t.fail(6, rec[6], "is not a list of 5-digit SSA codes separated by ;")
			}
		}
	}
	if c.Beneficiaries, err = t.count(rec, 7); err != nil {
		return c, err
	}
	if c.BasePopulationRatio, err = t.number(rec, 8); err != nil {
		return c, err
	}
	if c.BeneficiariesRequired, err = t.count(rec, 9); err != nil {
		return c, err
	}
	for _, d := range adequacy.Disciplines {
		i := len(tableLead) + int(d)*len(tableStd)
		if c.Standards[d], err = t.standard(rec, i); err != nil {
			return c, err
		}
	}
	return c, nil
}

// standard reads the four columns of one discipline from column i.
func (t tableRow) standard(rec []string, i int) (s adequacy.CountyStandard, err error) {
	if rec[i] == "" && rec[i+1] == "" && rec[i+2] == "" && rec[i+3] == "" {
		return s, nil
	}
	s.Set = true
	if s.MaxMinutes, err = t.number(rec, i); err != nil {
		return s, err
	}
	if s.MaxMiles, err = t.number(rec, i+1); err != nil {
		return s, err
	}
	if s.MinProviders, err = t.count(rec, i+2); err != nil {
		return s, err
	}
	s.CertificateOfNeed, err = t.flag(rec, i+3, "")
	return s, err
}
