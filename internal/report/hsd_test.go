package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/csvsafe"
	"github.com/geoaccess/geoaccess/geo"
)

// npi makes a valid NPI from nine digits.
func npi(base string) string {
	sum := 24
	for i := 0; i < 9; i++ {
		d := int(base[i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return base + strconv.Itoa((10-sum%10)%10)
}

var filingAsOf, _ = adequacy.ParseDate("2026-11-24")

// smallNetwork is a hand-made network around New York: Manhattan and
// Brooklyn well served but for Brooklyn's minimum of chiropractors, and
// Hamilton County (CEAC, in the Adirondacks) with no provider within
// reach. Its rows exercise every field edit, formula-like names and the
// providers that appear in no row.
func smallNetwork(t testing.TB) (*adequacy.Engine, *adequacy.GapReport, *adequacy.ServiceArea) {
	t.Helper()
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	term, _ := adequacy.ParseDate("2025-06-30")
	addr := func(l1, city, st, zip string) adequacy.Address {
		return adequacy.Address{Line1: l1, City: city, State: st, ZIP: zip}
	}
	ps := []adequacy.Provider{
		{NPI: npi("100000001"), Name: "Penn Physical Therapy", Discipline: adequacy.PT, Location: geo.Point{Lat: 40.7505, Lon: -73.9934},
			Address: addr("1 Penn Plaza", "New York", "NY", "10119"), CountyFIPS: "36061"},
		{NPI: npi("100000002"), Name: `=HYPERLINK("http://example.com","Chiro")`, Discipline: adequacy.DC, Location: geo.Point{Lat: 40.7614, Lon: -73.9776},
			Address: addr("", "New York", "NY", "10019-1234"), CountyFIPS: "36061"},
		{NPI: npi("100000003"), Name: "Brooklyn Occupational Therapy", Discipline: adequacy.OT, Location: geo.Point{Lat: 40.6782, Lon: -73.9442},
			Address: addr("500 Atlantic Ave", "Brooklyn", "NJ", "1120"), CountyFIPS: "36047"},
		{NPI: npi("100000004"), Name: "+Speech Online", Discipline: adequacy.ST, Location: geo.Point{Lat: 40.7484, Lon: -73.9857},
			Address: addr("350 5th Ave", "New York", "NY", "10118"), CountyFIPS: "36061", TelehealthOnly: true},
		{NPI: npi("100000005"), Name: "Closed PT", Discipline: adequacy.PT, Location: geo.Point{Lat: 40.73, Lon: -73.99},
			Address: addr("2 Broadway", "New York", "NY", "10004"), CountyFIPS: "36061", Termination: term},
		{NPI: npi("100000006"), Name: "Flatbush Speech", Discipline: adequacy.ST, Location: geo.Point{Lat: 40.65, Lon: -73.95},
			Address: addr("1 Flatbush Ave", "Brooklyn", "NY", "11217"), CountyFIPS: "36047"},
		{NPI: npi("100000007"), Name: "Midtown Occupational Therapy", Discipline: adequacy.OT, Location: geo.Point{Lat: 40.755, Lon: -73.98},
			Address: addr("10 W 43rd St", "New York", "NY", "10036"), CountyFIPS: "36061"},
		{NPI: npi("100000008"), Name: "Brooklyn Physical Therapy", Discipline: adequacy.PT, Location: geo.Point{Lat: 40.69, Lon: -73.99},
			Address: addr("20 Court St", "Brooklyn", "NY", "11201"), CountyFIPS: "36047"},
		{NPI: npi("100000009"), Name: "Not Contracted PT", Discipline: adequacy.PT, Location: geo.Point{Lat: 40.70, Lon: -73.95},
			Address: addr("30 Bedford Ave", "Brooklyn", "NY", "11211"), CountyFIPS: "36047"},
	}
	for i := range ps {
		ps[i].Participating = i != 8
		ps[i].AcceptingNewPatients = i != 6
	}
	n, err := adequacy.NewNetwork(&adequacy.Roster{Version: "small-1", Providers: ps}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng = eng.WithNetwork(n)
	m := func(id string, lat, lon float64, county string) adequacy.GapMember {
		return adequacy.GapMember{ID: id, Line: 2, Point: geo.Point{Lat: lat, Lon: lon}, HasPoint: true, CountyFIPS: county}
	}
	members := []adequacy.GapMember{
		m("m1", 40.758, -73.985, "36061"), m("m2", 40.78, -73.97, "36061"), m("m3", 40.72, -74.0, "36061"),
		m("b1", 40.68, -73.97, "36047"), m("b2", 40.66, -73.95, "36047"),
		m("h1", 43.66, -74.50, "36041"), m("h2", 43.45, -74.40, "36041"),
	}
	for i := range members {
		members[i].Line = i + 2
	}
	rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: filingAsOf})
	if err != nil {
		t.Fatal(err)
	}
	// The plan names Manhattan and Hamilton; Brooklyn's rows fall outside.
	area, err := adequacy.NewServiceArea(eng.Counties, []string{"fips:36061", "ssa:33310"}, "given with --service-area")
	if err != nil {
		t.Fatal(err)
	}
	return eng, rep, area
}

func smallCandidates() []adequacy.Candidate {
	date, _ := adequacy.ParseDate("2026-03-15")
	return []adequacy.Candidate{
		{Provider: adequacy.Provider{NPI: npi("200000001"), Name: "Speculator PT", Discipline: adequacy.PT, Location: geo.Point{Lat: 43.50, Lon: -74.37},
			Address: adequacy.Address{Line1: "1 Main St", City: "Speculator", State: "NY", ZIP: "12164"}, CountyFIPS: "36041"},
			Status: adequacy.StatusDeclined, StatusDate: date, Notes: `rates; <script>alert(1)</script>`, Line: 2},
		{Provider: adequacy.Provider{NPI: npi("200000002"), Name: "=Lake Placid Therapy", Discipline: adequacy.PT, Location: geo.Point{Lat: 44.28, Lon: -73.98},
			Address: adequacy.Address{City: "Lake Placid", State: "NY", ZIP: "12946"}, CountyFIPS: "36031"},
			Status: adequacy.StatusNoResponse, Notes: "=1+2", Line: 3},
		{Provider: adequacy.Provider{NPI: npi("200000003"), Name: "Far Away PT", Discipline: adequacy.PT, Location: geo.Point{Lat: 30.0, Lon: -90.0}},
			Status: adequacy.StatusOther, Line: 4},
	}
}

// writeSmallHSD runs the export of the small network into a new folder.
func writeSmallHSD(t *testing.T) (string, HSDSummary) {
	t.Helper()
	eng, rep, area := smallNetwork(t)
	tables, err := rep.HSDTables(area, eng.Counties)
	if err != nil {
		t.Fatal(err)
	}
	unlisted, err := rep.Unlisted()
	if err != nil {
		t.Fatal(err)
	}
	x := &HSDExport{Tables: tables, Area: area, Preview: rep.Preview(area), Census: "member file", NotListed: unlisted}
	dir := t.TempDir()
	sum, err := WriteHSD(dir, x)
	if err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

// checkGolden compares dir/name with testdata/golden/hsd/name (go test
// ./internal/report -update rewrites them; review the diff).
func checkGolden(t *testing.T, dir, name string) {
	t.Helper()
	got := mustRead(t, filepath.Join(dir, name))
	golden := filepath.Join("testdata", "golden", "hsd", filepath.Base(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s; rerun with -update and review the diff", name, golden)
	}
}

func TestHSDGolden(t *testing.T) {
	dir, sum := writeSmallHSD(t)
	for _, name := range []string{"hsd_provider.csv", "hsd_facility.csv", "hsd_errors.csv", "hsd_preview.csv", "hsd_not_listed.csv"} {
		checkGolden(t, dir, name)
	}
	if sum.ProviderRows == 0 || sum.FacilityRows == 0 || sum.Errors == 0 || sum.PreviewPass == sum.PreviewRows {
		t.Errorf("the small network proves too little: %+v", sum)
	}
}

// readCSV reads a whole CSV file.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(mustRead(t, path))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// Every row of the HSD CSVs follows its table's columns; each error row
// names a real cell; formula-like values are neutralised.
func TestHSDRowsAndEdits(t *testing.T) {
	dir, sum := writeSmallHSD(t)
	tables := map[string][][]string{}
	for file, cols := range map[string][]HSDColumn{"hsd_provider.csv": ProviderColumns, "hsd_facility.csv": FacilityColumns} {
		recs := readCSV(t, filepath.Join(dir, file))
		if !slices.Equal(recs[0], headers(cols)) {
			t.Errorf("%s header %q", file, recs[0])
		}
		tables[file] = recs
	}
	errs := readCSV(t, filepath.Join(dir, "hsd_errors.csv"))
	if len(errs)-1 != sum.Errors {
		t.Errorf("%d error rows, summary %d", len(errs)-1, sum.Errors)
	}
	for _, e := range errs[1:] {
		recs := tables[e[0]]
		row, _ := strconv.Atoi(e[1])
		col := slices.Index(recs[0], e[2])
		if row < 2 || row > len(recs) || col < 0 {
			t.Fatalf("error row %q names no cell", e)
		}
		if got := recs[row-1][col]; got != e[3] {
			t.Errorf("error row %q: the cell holds %q", e, got)
		}
	}
	prov := tables["hsd_provider.csv"]
	found := false
	for _, r := range prov[1:] {
		if strings.Contains(r[1], "HYPERLINK") {
			found = true
			if !strings.HasPrefix(r[1], "'=") || csvsafe.Unescape(r[1]) != `=HYPERLINK("http://example.com","Chiro")` {
				t.Errorf("formula left live: %q", r[1])
			}
			if r[9] != "10019" {
				t.Errorf("ZIP+4 filed as %q", r[9])
			}
		}
	}
	if !found {
		t.Fatal("the formula-like name is in no row")
	}
}

// The xlsx twins open with excelize and hold the CSVs' cells: equal, once
// csvsafe's neutralising apostrophe is taken off the CSV's (an xlsx string
// cell is never a formula). Past a sheet's rows the table goes on
// in further sheets, each with the header.
func TestXLSXEqualsCSV(t *testing.T) {
	for _, perSheet := range []int{xlsxMaxRows - 1, 3} {
		defer func(v int) { xlsxSheetRows = v }(xlsxSheetRows)
		xlsxSheetRows = perSheet
		dir, _ := writeSmallHSD(t)
		for _, name := range []string{HSDProviderFile, HSDFacilityFile} {
			f, err := excelize.OpenFile(filepath.Join(dir, name+".xlsx"))
			if err != nil {
				t.Fatal(err)
			}
			recs := readCSV(t, filepath.Join(dir, name+".csv"))
			sheets := f.GetSheetList()
			if want := 1 + (len(recs)-2)/perSheet; len(sheets) != want {
				t.Errorf("%s, %d rows a sheet: sheets %q, want %d", name, perSheet, sheets, want)
			}
			var rows [][]string
			for i, sh := range sheets {
				rs, err := f.GetRows(sh, excelize.Options{RawCellValue: true})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rs[0], recs[0]) {
					t.Errorf("%s sheet %q: header %q", name, sh, rs[0])
				}
				if i > 0 {
					rs = rs[1:]
				}
				rows = append(rows, rs...)
			}
			f.Close()
			if len(rows) != len(recs) {
				t.Fatalf("%s: %d xlsx rows, %d CSV rows", name, len(rows), len(recs))
			}
			for i := range recs {
				x := append(rows[i], make([]string, len(recs[i])-len(rows[i]))...) // GetRows drops trailing empty cells
				for j := range recs[i] {
					if c := recs[i][j]; x[j] != csvsafe.Unescape(c) {
						t.Errorf("%s row %d column %d: xlsx %q, CSV %q", name, i+1, j+1, x[j], c)
					}
				}
			}
		}
	}
}

func TestExceptionsGolden(t *testing.T) {
	_, rep, area := smallNetwork(t)
	exs, skip, err := rep.Exceptions(context.Background(), smallCandidates(), adequacy.ExceptionOptions{Nearest: 3})
	if err != nil {
		t.Fatal(err)
	}
	if skip != (adequacy.CandidateSkip{}) {
		t.Errorf("skip %+v", skip)
	}
	dir := t.TempDir()
	p, _ := data.LoadProfiles()
	prof, _ := p.Get("cms-ma")
	n, err := WriteExceptions(dir, exs, ExceptionContext{Profile: prof, AsOf: filingAsOf, RosterVersion: "small-1",
		CountySource: rep.CountySource, Area: area, Census: "Member file"})
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, ExceptionsDir))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	recs := readCSV(t, filepath.Join(dir, "exceptions.csv"))
	if len(recs)-1 != n || len(names) != n {
		t.Fatalf("%d packets, exceptions.csv %d rows, folder %q", n, len(recs)-1, names)
	}
	checkGolden(t, dir, "exceptions.csv")
	// Hamilton's physical therapy: nobody served, the Manhattan and
	// Brooklyn providers beyond the standard, the Speculator candidate
	// within it with its notes escaped.
	const ham = "33310-049.html"
	checkGolden(t, dir, filepath.Join(ExceptionsDir, ham))
	page := string(mustRead(t, filepath.Join(dir, ExceptionsDir, ham)))
	for _, s := range []string{"Hamilton, NY", "SSA state/county code 33310", "Physical Therapy", "100 miles", "110 minutes",
		"Speculator PT", "declined", "2026-03-15", "&lt;script&gt;", "Penn Physical Therapy", "Lake Placid"} {
		if !strings.Contains(page, s) {
			t.Errorf("%s lacks %q", ham, s)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "h1 ") && strings.Contains(page, "m1") {
		t.Errorf("%s carries a script or a member ID", ham)
	}
	// Brooklyn is outside the area, so its packets file under its own code.
	if !slices.Contains(names, "33331-010.html") {
		t.Errorf("no packet for Brooklyn's chiropractors (minimum number): %q", names)
	}
}

// The packet lists exactly what Exceptions found.
func TestExceptionRecord(t *testing.T) {
	_, rep, _ := smallNetwork(t)
	exs, _, err := rep.Exceptions(context.Background(), smallCandidates(), adequacy.ExceptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range exs {
		x := &exs[i]
		rec := exceptionRecord("33310", x, "p")
		if len(rec) != len(ExceptionHeader) {
			t.Fatalf("%d fields for %d columns", len(rec), len(ExceptionHeader))
		}
		var buf bytes.Buffer
		cw := csvsafe.NewWriter(&buf)
		cw.Write(rec...)
		cw.Flush()
		fields, err := csv.NewReader(&buf).Read()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for j, h := range ExceptionHeader {
			got[h] = fields[j]
		}
		want := map[string]string{"unserved_members": strconv.Itoa(x.Unserved), "candidates_within": strconv.Itoa(len(x.Candidates)),
			"county_fips": x.Row.County.FIPS, "specialty_code": x.Row.Discipline.CMSSpecialty()}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s %s: %s = %q, want %q", x.Row.County.FIPS, x.Row.Discipline, k, got[k], v)
			}
		}
	}
	if !reflect.DeepEqual(packetName("", &exs[0]), "fips"+exs[0].Row.County.FIPS+"-"+exs[0].Row.Discipline.CMSSpecialty()+".html") {
		t.Error("packet name without an SSA code")
	}
}
