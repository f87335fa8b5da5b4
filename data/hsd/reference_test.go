package hsd

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// TestReadXLSXEqualsCSV: the published workbook and its CSV export read
// to the same Reference, row for row.
func TestReadXLSXEqualsCSV(t *testing.T) {
	loadReal(t)
	x, c := real.xlsx, real.csv
	if x.Title != Title || c.Title != Title {
		t.Errorf("titles %q, %q, want %q", x.Title, c.Title, Title)
	}
	if len(x.Rows) != 3262 || len(c.Rows) != 3262 {
		t.Fatalf("rows: xlsx %d, csv %d, want 3262", len(x.Rows), len(c.Rows))
	}
	for i := range x.Rows {
		if !reflect.DeepEqual(x.Rows[i], c.Rows[i]) {
			t.Errorf("row %d differs:\nxlsx %+v\ncsv  %+v", i, x.Rows[i], c.Rows[i])
		}
	}
}

// std is a CountyStandard literal: minutes, miles, minimum.
func std(minutes, miles float64, min int) adequacy.CountyStandard {
	return adequacy.CountyStandard{Set: true, MaxMinutes: minutes, MaxMiles: miles, MinProviders: min}
}

// TestSpotChecks asserts rows of the CY2026 file as published, including
// counties whose standards CMS customised away from the base table of
// 42 CFR 422.116(d) (DC: 30/15, 45/30, 80/60, 90/75, 125/110 by type;
// PT/OT/ST: 20/10, 45/30, 80/60, 75/60, 110/100).
func TestSpotChecks(t *testing.T) {
	rows := map[string]Row{}
	for _, r := range realXLSX(t).Rows {
		rows[r.SSA] = r
	}
	con := func(s adequacy.CountyStandard) adequacy.CountyStandard { s.CertificateOfNeed = true; return s }
	for _, tc := range []struct {
		why  string
		want Row
	}{
		{"Metro, base standards", Row{SSA: "01000", Name: "Autauga", State: "AL", Designation: adequacy.Metro,
			Beneficiaries: 12236, BasePopulationRatio: 0.10585401329999999, BeneficiariesRequired: 1296,
			Standards: [4]adequacy.CountyStandard{std(45, 30, 1), std(45, 30, 1), std(45, 30, 1), std(45, 30, 1)}}},
		{"Large Metro, ratio written 7.6867250600000006E-2, chiropractor minimum 7", Row{SSA: "14141", Name: "Cook", State: "IL",
			Designation: adequacy.LargeMetro, Beneficiaries: 878362, BasePopulationRatio: 7.6867250600000006e-2, BeneficiariesRequired: 67518,
			Standards: [4]adequacy.CountyStandard{std(30, 15, 7), std(20, 10, 1), std(20, 10, 1), std(20, 10, 1)}}},
		{"largest chiropractor minimum", Row{SSA: "05200", Name: "Los Angeles", State: "CA", Designation: adequacy.LargeMetro,
			Beneficiaries: 1677427, BasePopulationRatio: 7.6867250600000006e-2, BeneficiariesRequired: 128940,
			Standards: [4]adequacy.CountyStandard{std(30, 15, 13), std(20, 10, 1), std(20, 10, 1), std(20, 10, 1)}}},
		{"Large Metro, speech therapy customised 30/15 (base 20/10)", Row{SSA: "05060", Name: "Contra Costa", State: "CA",
			Designation: adequacy.LargeMetro, Beneficiaries: 223915, BasePopulationRatio: 7.6867250600000006e-2, BeneficiariesRequired: 17212,
			Standards: [4]adequacy.CountyStandard{std(30, 15, 2), std(20, 10, 1), std(20, 10, 1), std(30, 15, 1)}}},
		{"CEAC, all four customised (base 125/110, 110/100)", Row{SSA: "02282", Name: "Yakutat", State: "AK", Designation: adequacy.CEAC,
			Beneficiaries: 114, BasePopulationRatio: 0.14327917279999999, BeneficiariesRequired: 17,
			Standards: [4]adequacy.CountyStandard{std(305, 275, 1), std(310, 280, 1), std(315, 285, 1), std(315, 285, 1)}}},
		{"CEAC, speech therapy customised 135/120", Row{SSA: "24150", Name: "Cook", State: "MN", Designation: adequacy.CEAC,
			Beneficiaries: 1896, BasePopulationRatio: 0.14327917279999999, BeneficiariesRequired: 272,
			Standards: [4]adequacy.CountyStandard{std(125, 110, 1), std(110, 100, 1), std(110, 100, 1), std(135, 120, 1)}}},
		{"CEAC at base standards, 16 beneficiaries", Row{SSA: "45762", Name: "Loving", State: "TX", Designation: adequacy.CEAC,
			Beneficiaries: 16, BasePopulationRatio: 0.14327917279999999, BeneficiariesRequired: 3,
			Standards: [4]adequacy.CountyStandard{std(125, 110, 1), std(110, 100, 1), std(110, 100, 1), std(110, 100, 1)}}},
		{"Rural, occupational and speech therapy customised", Row{SSA: "01650", Name: "Wilcox", State: "AL", Designation: adequacy.Rural,
			Beneficiaries: 3331, BasePopulationRatio: 0.11296625220000001, BeneficiariesRequired: 377,
			Standards: [4]adequacy.CountyStandard{std(90, 75, 1), std(75, 60, 1), std(80, 65, 1), std(100, 80, 1)}}},
		{"the only CON credits for our disciplines: PT and OT in DC", Row{SSA: "09000", Name: "District of Columbia", State: "DC",
			Designation: adequacy.LargeMetro, Beneficiaries: 97844, BasePopulationRatio: 7.6867250600000006e-2, BeneficiariesRequired: 7521,
			Standards: [4]adequacy.CountyStandard{std(30, 15, 1), con(std(20, 10, 1)), con(std(20, 10, 1)), std(20, 10, 1)}}},
	} {
		if got := rows[tc.want.SSA]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s (%s):\n got %+v\nwant %+v", tc.want.SSA, tc.why, got, tc.want)
		}
	}
}

// TestCustomisedCounties counts the CMS counties whose time/distance for
// one of our disciplines differs from the base table for their type, and
// the CON flags: both are facts of the CY2026 file.
func TestCustomisedCounties(t *testing.T) {
	base := map[adequacy.CountyType][2][2]float64{ // type → {DC, therapies} → minutes, miles
		adequacy.LargeMetro: {{30, 15}, {20, 10}},
		adequacy.Metro:      {{45, 30}, {45, 30}},
		adequacy.Micro:      {{80, 60}, {80, 60}},
		adequacy.Rural:      {{90, 75}, {75, 60}},
		adequacy.CEAC:       {{125, 110}, {110, 100}},
	}
	customised, con := 0, 0
	for _, r := range realXLSX(t).Rows {
		differs := false
		for _, d := range adequacy.Disciplines {
			s := r.Standards[d]
			if !s.Set {
				t.Errorf("%s %s: %s standard not set", r.SSA, r.Name, d)
			}
			b := base[r.Designation][min(int(d), 1)]
			differs = differs || s.MaxMinutes != b[0] || s.MaxMiles != b[1]
			if s.CertificateOfNeed {
				con++
			}
		}
		if differs {
			customised++
		}
	}
	if customised != 68 || con != 2 {
		t.Errorf("%d customised counties and %d CON flags, want 68 and 2", customised, con)
	}
}

// TestFixtureXLSXEqualsCSV: the small fixture reads the same from CSV and
// from a workbook written the way Excel writes, with its sheets in any
// order.
func TestFixtureXLSXEqualsCSV(t *testing.T) {
	fx := newFixture(t)
	fromCSV, err := ReadCSV(fx.fs(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(fromCSV.Rows) != 3 {
		t.Fatalf("fixture has %d rows, want 3", len(fromCSV.Rows))
	}
	reversed := []string{SheetCON, SheetTDFacility, "Master", SheetTDProvider, SheetMinFacility, SheetMinProvider}
	for _, order := range [][]string{nil, reversed} {
		wb := fx.xlsx(t, order...)
		fromXLSX, err := ReadXLSX(bytes.NewReader(wb), int64(len(wb)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromCSV, fromXLSX) {
			t.Errorf("sheet order %q: xlsx %+v\ncsv %+v", order, fromXLSX, fromCSV)
		}
	}
}

// TestMalformed: each edit of the fixture fails with exactly this error,
// from CSV and from the same cells as a workbook.
func TestMalformed(t *testing.T) {
	const (
		minP = "minimum_provider_s.csv"
		minF = "minimum_facility_s.csv"
		tdP  = "provider_time_distance.csv"
		tdF  = "facility_time_distance.csv"
		con  = "certificate_of_need.csv"
	)
	type edit func(t *testing.T, fx fixture)
	set := func(file string, row int, col, val string) edit {
		return func(t *testing.T, fx fixture) { fx.set(t, file, row, col, val) }
	}
	for _, tc := range []struct {
		name     string
		edit     edit
		is       error
		want     string
		wantXLSX string // when it differs from want
	}{
		{"bad number", set(tdF, 6, "V", "x"), ErrMalformed,
			`hsd: sheet "Facility Time & Distance" row 6 column V (049 Time): "x" is not a number`, ""},
		{"bad distance", set(tdF, 7, "W", "thirty"), ErrMalformed,
			`hsd: sheet "Facility Time & Distance" row 7 column W (049 Distance): "thirty" is not a number`, ""},
		{"not positive", set(tdP, 5, "X", "-45"), ErrMalformed,
			`hsd: sheet "Provider Time & Distance" row 5 column X (010 Time): "-45" is not a positive number`, ""},
		{"infinite", set(tdP, 5, "Y", "Inf"), ErrMalformed,
			`hsd: sheet "Provider Time & Distance" row 5 column Y (010 Distance): "Inf" is not a number`, ""},
		{"fractional minimum", set(minP, 4, "R", "1.5"), ErrMalformed,
			`hsd: sheet "Minimum Provider #s" row 4 column R (010 minimum): "1.5" is not a whole number ≥ 0`, ""},
		{"bad beneficiaries", set(minP, 5, "E", "many"), ErrMalformed,
			`hsd: sheet "Minimum Provider #s" row 5 column E (TOTAL BENEFICIARIES): "many" is not a number`, ""},
		{"empty beneficiaries", set(minP, 5, "E", ""), ErrMalformed,
			`hsd: sheet "Minimum Provider #s" row 5 column E (TOTAL BENEFICIARIES): "" is empty: want a whole number`, ""},
		{"bad designation", set(minP, 4, "F", "Urban"), ErrMalformed,
			`hsd: sheet "Minimum Provider #s" row 4 column F (COUNTY DESIGNATION): "Urban" is not a county designation (want Large Metro, Metro, Micro, Rural or CEAC)`, ""},
		{"designations disagree", set(minF, 4, "F", "Rural"), ErrMalformed,
			`hsd: sheet "Minimum Facility #s" row 4 column F (COUNTY DESIGNATION): "Rural" differs from "Metro" on sheet "Minimum Provider #s" row 4`, ""},
		{"beneficiaries disagree", set(minF, 6, "E", "97845"), ErrMalformed,
			`hsd: sheet "Minimum Facility #s" row 6 column E (TOTAL BENEFICIARIES): "97845" differs from "97844" on sheet "Minimum Provider #s" row 6`, ""},
		{"bad SSA", set(minP, 5, "D", "1A010"), ErrMalformed,
			`hsd: sheet "Minimum Provider #s" row 5 column D (SSACD): "1A010" is not an SSA county code (5 digits)`, ""},
		{"duplicate SSA", set(minP, 5, "D", "01000"), ErrMalformed,
			`hsd: sheet "Minimum Provider #s" row 5 column D (SSACD): "01000" appears again (first on row 4)`, ""},
		{"county not on the master sheet", set(minF, 5, "D", "01020"), ErrMalformed,
			`hsd: sheet "Minimum Facility #s" row 5 column D (SSACD): "01020" is not a county of sheet "Minimum Provider #s"`, ""},
		{"county missing from a sheet", func(t *testing.T, fx fixture) { fx.deleteRow(tdF, 6) }, ErrMalformed,
			`hsd: sheet "Facility Time & Distance" has no row for SSA 01010 (Baldwin, AL), which is on sheet "Minimum Provider #s" row 5: malformed CMS MA HSD reference file`, ""},
		{"distance without time", set(tdF, 5, "V", ""), ErrMalformed,
			`hsd: sheet "Facility Time & Distance" row 5 column V (049 Time): "" is empty but the Distance column has a value`, ""},
		{"minimum without time/distance", func(t *testing.T, fx fixture) { fx.set(t, tdF, 5, "V", ""); fx.set(t, tdF, 5, "W", "") }, ErrMalformed,
			`hsd: sheet "Facility Time & Distance" row 5 column V (049 Time): "" is empty but sheet "Minimum Facility #s" gives a minimum of 1`, ""},
		{"CON for an unknown county", set(con, 25, "A", "99999"), ErrMalformed,
			`hsd: sheet "Certificate of Need" row 25 column A (SSA): "99999" is not a county of sheet "Minimum Provider #s"`, ""},
		{"CON bad specialty code", set(con, 2, "B", "4X"), ErrMalformed,
			`hsd: sheet "Certificate of Need" row 2 column B (Specialty_Code): "4X" is not a specialty code`, ""},
		{"missing header row", set(minP, 2, "D", "SSA CODE"), ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: sheet "Minimum Provider #s": no header row with the column SSACD in rows 1–20`, ""},
		{"missing header", set(minP, 2, "E", "BENEFICIARIES"), ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: sheet "Minimum Provider #s" row 2: no column headed TOTAL BENEFICIARIES`, ""},
		{"missing specialty column", set(minF, 3, "Q", ""), ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: no column for specialty 049 (Physical Therapy) on sheet "Minimum Provider #s" or sheet "Minimum Facility #s"`, ""},
		{"missing time/distance columns", set(tdF, 3, "V", "999"), ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: no Time and Distance columns for specialty 049 (Physical Therapy) on sheet "Provider Time & Distance" or sheet "Facility Time & Distance"`, ""},
		{"specialty on both sheets", set(minP, 3, "I", "49"), ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: specialty 049 (Physical Therapy) appears on both sheet "Minimum Provider #s" and sheet "Minimum Facility #s"`, ""},
		{"no Time/Distance row", func(t *testing.T, fx fixture) { fx.deleteRow(tdF, 4) }, ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: sheet "Facility Time & Distance": no Time/Distance row under the specialty codes (row 3)`, ""},
		{"no code row", func(t *testing.T, fx fixture) { fx.deleteRow(minF, 3) }, ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: sheet "Minimum Facility #s": no row of specialty codes under the header (row 2)`, ""},
		{"missing sheet", func(t *testing.T, fx fixture) { delete(fx, con) }, ErrNotHSD,
			`hsd: not a CMS MA HSD reference file: no file "certificate_of_need.csv" for sheet "Certificate of Need"`,
			`hsd: not a CMS MA HSD reference file: no sheet "Certificate of Need" (the workbook has "Master", "Minimum Provider #s", "Minimum Facility #s", "Provider Time & Distance", "Facility Time & Distance")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			tc.edit(t, fx)
			_, err := ReadCSV(fx.fs(t))
			check(t, "csv", err, tc.is, tc.want)
			wantXLSX := tc.wantXLSX
			if wantXLSX == "" {
				wantXLSX = tc.want
			}
			wb := fx.xlsx(t)
			_, err = ReadXLSX(bytes.NewReader(wb), int64(len(wb)))
			check(t, "xlsx", err, tc.is, wantXLSX)
		})
	}
}

func check(t *testing.T, from string, err, is error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("%s: error\n got %v\nwant %s", from, err, want)
	}
	if !errors.Is(err, is) {
		t.Errorf("%s: %v is not %v", from, err, is)
	}
	var ce *CellError
	if errors.As(err, &ce) && is != ErrMalformed {
		t.Errorf("%s: a CellError should wrap ErrMalformed", from)
	}
}

// TestNotAWorkbook: inputs that are not workbooks are ErrNotHSD.
func TestNotAWorkbook(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("fips,state\n"), `hsd: not a CMS MA HSD reference file: not an xlsx workbook: zip: not a valid zip file`},
		{"a workbook without our sheets", buildXLSX(t, []string{"Sheet1"}, [][][]string{{{"a"}}}),
			`hsd: not a CMS MA HSD reference file: no sheet "Minimum Provider #s" (the workbook has "Sheet1")`},
	} {
		_, err := ReadXLSX(bytes.NewReader(tc.data), int64(len(tc.data)))
		check(t, tc.name, err, ErrNotHSD, tc.want)
	}
	// A sheet that is not one of ours under the right name.
	fx := newFixture(t)
	fx[CSVFile(SheetMinProvider)] = [][]string{{"fips", "state", "name"}, {"01001", "AL", "Autauga"}}
	_, err := ReadCSV(fx.fs(t))
	check(t, "other csv", err, ErrNotHSD,
		`hsd: not a CMS MA HSD reference file: sheet "Minimum Provider #s": no header row with the column SSACD in rows 1–20`)
}

// TestCSVSyntax: a CSV syntax error is ErrMalformed and names the sheet.
func TestCSVSyntax(t *testing.T) {
	fsys := newFixture(t).fs(t)
	fsys[CSVFile(SheetTDProvider)].Data = append([]byte("a,b\"c\n"), fsys[CSVFile(SheetTDProvider)].Data...)
	_, err := ReadCSV(fsys)
	if !errors.Is(err, ErrMalformed) || !bytes.Contains([]byte(err.Error()), []byte(`sheet "Provider Time & Distance"`)) {
		t.Errorf("got %v, want ErrMalformed naming the sheet", err)
	}
}

func TestColName(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := colName(i); got != want {
			t.Errorf("colName(%d) = %s, want %s", i, got, want)
		}
		if c, r, ok := parseCellRef(want + "7"); !ok || c != i || r != 7 {
			t.Errorf("parseCellRef(%s7) = %d, %d, %v", want, c, r, ok)
		}
	}
	for _, bad := range []string{"", "A", "7", "a1", "A0", "XFE1", "A1048577", "A1B"} {
		if _, _, ok := parseCellRef(bad); ok {
			t.Errorf("parseCellRef(%q) accepted", bad)
		}
	}
}

// TestStrings: shared strings join their rich-text runs, drop phonetic
// runs and decode _xHHHH_ escapes; inline strings, numbers as written and
// booleans are read as stored.
func TestStrings(t *testing.T) {
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>plain</t></si>` +
		`<si><r><t>Table 1:</t></r><r><rPr><b/></rPr><t xml:space="preserve"> Minimum</t></r></si>` +
		`<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></si>` +
		`<si><t>a_x000D_b</t></si><si/></sst>`
	ws := `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>` +
		`<c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c><c r="F1"><v>7.6867250600000006E-2</v></c></row>` +
		`<row r="3"><c r="B3" t="inlineStr"><is><t>in line</t></is></c><c t="b"><v>1</v></c></row></sheetData></worksheet>`
	sheets, err := readRaw(rawWorkbook(t, ws, sst), "S")
	if err != nil {
		t.Fatal(err)
	}
	want := []sheetRow{
		{num: 1, cells: []cell{{0, "plain"}, {1, "Table 1: Minimum"}, {2, "漢字"}, {3, "a\rb"}, {5, "7.6867250600000006E-2"}}},
		{num: 3, cells: []cell{{1, "in line"}, {2, "1"}}},
	}
	if got := sheets["S"].rows; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestSpecialtyCode(t *testing.T) {
	for in, want := range map[string]string{"010": "010", "40": "040", "5": "005", "S03": "S03", " 049 ": "049", "s03": "S03"} {
		if got, ok := specialtyCode(in); !ok || got != want {
			t.Errorf("specialtyCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "Time", "0100", "4X", "S", "40.0"} {
		if _, ok := specialtyCode(bad); ok {
			t.Errorf("specialtyCode(%q) accepted", bad)
		}
	}
}
