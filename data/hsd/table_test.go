package hsd

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

var update = flag.Bool("update", false, "rewrite "+tablePath+" from the testdata workbook")

// TestEmbeddedTable: the embedded table is exactly ReadXLSX → Resolve →
// WriteTable of the testdata workbook, and reads back to the same
// counties. Regenerate with: go test ./data/hsd -run TestEmbeddedTable -update
func TestEmbeddedTable(t *testing.T) {
	res := realResolution(t)
	var buf bytes.Buffer
	if err := WriteTable(&buf, tableSource, res.Counties); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(tablePath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes, %d counties)", tablePath, buf.Len(), len(res.Counties))
	}
	file, err := os.ReadFile(tablePath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(file, buf.Bytes()) {
		t.Fatalf("%s is stale: it differs from the table derived from the workbook; rerun with -update and review the diff", tablePath)
	}
	source, counties, err := ReadTable(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if source != tableSource {
		t.Errorf("source %q, want %q", source, tableSource)
	}
	if !reflect.DeepEqual(counties, res.Counties) {
		t.Error("ReadTable of the embedded table differs from Resolve")
	}
	if _, err := adequacy.NewCounties(source, counties); err != nil {
		t.Error(err)
	}
}

// TestTableMatchesWorkbook: for every county of the embedded table and
// each discipline, the minutes, miles and minimum are the workbook's: the
// CMS county's own, or for a shared polygon the largest CMS county's
// minutes and miles and the largest minimum.
func TestTableMatchesWorkbook(t *testing.T) {
	f, err := os.Open(tablePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, counties, err := ReadTable(f)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]Row{}
	for _, r := range realXLSX(t).Rows {
		rows[r.SSA] = r
	}
	onTable := map[string]int{}
	for _, c := range counties {
		var largest Row
		for i, ssa := range c.CMSCounties {
			onTable[ssa]++
			if r := rows[ssa]; i == 0 || r.Beneficiaries > largest.Beneficiaries {
				largest = r
			}
		}
		if c.Designation.Type != largest.Designation {
			t.Errorf("%s: designation %v, workbook %v", c.FIPS, c.Designation.Type, largest.Designation)
		}
		for _, d := range adequacy.Disciplines {
			got, want := c.Standards[d], largest.Standards[d]
			for _, ssa := range c.CMSCounties {
				want.MinProviders = max(want.MinProviders, rows[ssa].Standards[d].MinProviders)
			}
			if got != want {
				t.Errorf("%s %s: table %+v, workbook %+v", c.FIPS, d, got, want)
			}
		}
	}
	for ssa, r := range rows {
		want := 1
		switch ssa {
		case "64110": // Swains Island: no polygon
			want = 0
		case "48020": // St. John-Thomas: two polygons
			want = 2
		case "63050": // Northern Islands: the four CNMI municipalities
			want = 4
		}
		if onTable[ssa] != want {
			t.Errorf("%s %s is on %d table rows, want %d", ssa, r.Name, onTable[ssa], want)
		}
	}
}

// tableOf writes one county as a table.
func tableOf(t *testing.T, c adequacy.County) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTable(&b, "test", []adequacy.County{c}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func sampleCounty() adequacy.County {
	return adequacy.County{
		FIPS: "01001", Name: "Autauga", State: "AL",
		Designation:   adequacy.Designation{Type: adequacy.Metro, Official: true, Basis: "CMS: Autauga, AL (SSA 01000)"},
		CMSCounties:   []string{"01000"},
		Beneficiaries: 12236, BasePopulationRatio: 0.10585401329999999, BeneficiariesRequired: 1296,
		Standards: [4]adequacy.CountyStandard{std(45, 30, 1), std(45, 30, 1), {}, {Set: true, MaxMinutes: 45.5, MaxMiles: 30, CertificateOfNeed: true}},
		Note:      "a note, with \"quotes\"\nand a newline",
	}
}

func TestTableRoundTrip(t *testing.T) {
	c := sampleCounty()
	text := tableOf(t, c)
	src, got, err := ReadTable(strings.NewReader(text))
	if err != nil || src != "test" || !reflect.DeepEqual(got, []adequacy.County{c}) {
		t.Errorf("got %q %+v %v\nwant %+v\ntable:\n%s", src, got, err, c, text)
	}
}

// TestReadTableErrors: malformed tables fail with exactly this error.
func TestReadTableErrors(t *testing.T) {
	good := tableOf(t, sampleCounty())
	lines := strings.SplitN(good, "\n", 3)
	head, row := lines[0]+"\n"+lines[1]+"\n", lines[2]
	edit := func(old, new string) string { return head + strings.Replace(row, old, new, 1) }
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", `hsd table: line 1: want "# source: " followed by the source: EOF`},
		{"no source", "fips,state\n", `hsd table: line 1: want "# source: " followed by the source, got "fips,state"`},
		{"other header", "# source: x\nfips,state\n", `hsd table: line 2: want the header "` + strings.Join(tableHeader(), ",") + `" (got "fips,state", <nil>)`},
		{"bad FIPS", edit("01001", "1001"), `hsd table: county table: row 1: FIPS "1001" must be 5 digits`},
		{"bad designation", edit("Metro", "Urban"), `hsd table: line 3 column designation: "Urban" is not a county designation`},
		{"bad official", edit(",Y,", ",yes,"), `hsd table: line 3 column official: "yes" is not Y or "N"`},
		{"bad CMS list", edit(",01000,", ",01000;1,"), `hsd table: line 3 column cms_counties: "01000;1" is not a list of 5-digit SSA codes separated by ;`},
		{"bad count", edit("12236", "-1"), `hsd table: line 3 column beneficiaries: "-1" is not a whole number ≥ 0`},
		{"bad ratio", edit("0.1058540133", "NaN"), `hsd table: line 3 column base_population_ratio: "NaN" is not a number ≥ 0`},
		{"bad minutes", edit(",45,30,1,,", ",x,30,1,,"), `hsd table: line 3 column dc_minutes: "x" is not a number ≥ 0`},
		{"partial standard", edit(",45,30,1,,", ",45,,1,,"), `hsd table: line 3 column dc_miles: "" is not a number ≥ 0`},
		{"zero miles", edit(",45,30,1,,", ",45,0,1,,"), `hsd table: county table: 01001 DC: standard needs max miles > 0, max minutes > 0 and minimum ≥ 0 (got 0 mi, 45 min, 1)`},
		{"bad CON", edit(",45.5,30,0,Y,", ",45.5,30,0,yes,"), `hsd table: line 3 column st_con: "yes" is not Y or ""`},
		{"duplicate", good + row, `hsd table: county table: row 2: FIPS 01001 appears twice`},
	} {
		_, _, err := ReadTable(strings.NewReader(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.name, err, tc.want)
		}
	}
}

func TestWriteTableErrors(t *testing.T) {
	bad := func(edit func(*adequacy.County)) adequacy.County { c := sampleCounty(); edit(&c); return c }
	for _, tc := range []struct {
		name   string
		source string
		c      adequacy.County
		want   string
	}{
		{"multi-line source", "a\nb", sampleCounty(), `hsd table: source "a\nb" spans lines`},
		{"unset with values", "s", bad(func(c *adequacy.County) { c.Standards[adequacy.OT].MinProviders = 2 }),
			"hsd table: county 01001: OT standard is not set but has values {Set:false MaxMinutes:0 MaxMiles:0 MinProviders:2 CertificateOfNeed:false}"},
		{"bad SSA", "s", bad(func(c *adequacy.County) { c.CMSCounties = []string{"0100;"} }), `hsd table: county 01001: CMS county code "0100;" is not 5 digits`},
		{"bad type", "s", bad(func(c *adequacy.County) { c.Designation.Type = 9 }), "hsd table: county 01001: unknown county type"},
	} {
		if err := WriteTable(&bytes.Buffer{}, tc.source, []adequacy.County{tc.c}); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.name, err, tc.want)
		}
	}
}
