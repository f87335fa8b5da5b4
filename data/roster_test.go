package data

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

func geography(t testing.TB) *Geography {
	t.Helper()
	g, err := EmbeddedGeography()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Every bad row is reported with its line, column and reason, and the good
// rows are kept.
func TestReadRosterBadRows(t *testing.T) {
	f, err := os.Open("testdata/roster_bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	roster, rep, err := ReadRoster(f, RosterOptions{Source: "roster_bad.csv", Counties: geography(t).Counties, MaxBadRows: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`line 3, column npi: "1234567890": invalid NPI: check digit is 0, want 3`,
		`line 4, column discipline: "XX": must be DC, PT, OT or ST`,
		`line 5, column lat: "95.5": latitude must be a finite number between -90 and 90 (got 95.5)`,
		`line 6, column lon: "west": is not a number`,
		`line 7, column lat: "NaN": latitude must be a finite number between -90 and 90 (got NaN)`,
		`line 8, column participating: "MAYBE": must be Y or N`,
		`line 9, column termination_date: "2026-01-01": must be after effective_date 2026-05-01`,
		`line 10, column telehealth_only: "Y": contradicts in_person`,
		`line 11, column npi: "1234567893": duplicate of line 2: same NPI, discipline and location`,
		`line 12, column county_fips: "99999": is not a known county FIPS code`,
		`line 13: malformed CSV at column 19: bare " in non-quoted-field`,
		`line 14: row has 4 fields, the header has 13`,
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Rows != 14 || rep.Bad != 12 || rep.Accepted != 2 || len(roster.Providers) != 2 {
		t.Errorf("rows %d bad %d accepted %d providers %d", rep.Rows, rep.Bad, rep.Accepted, len(roster.Providers))
	}
	ot := roster.Providers[1]
	if ot.Participating || ot.AcceptingNewPatients || ot.Effective.String() != "2021-03-15" || ot.Termination.String() != "2027-01-01" || ot.CountyFIPS != "36061" {
		t.Errorf("second provider = %+v (county from point in polygon)", ot)
	}
}

func TestReadRosterLimit(t *testing.T) {
	f, _ := os.Open("testdata/roster_bad.csv")
	defer f.Close()
	_, rep, err := ReadRoster(f, RosterOptions{Source: "roster_bad.csv", MaxBadRows: 3})
	var br *BadRows
	if !errors.As(err, &br) || !errors.Is(err, ErrTooManyBadRows) {
		t.Fatalf("err = %v, want *BadRows", err)
	}
	if br.Bad != rep.Bad || !strings.Contains(err.Error(), "roster_bad.csv: 11 of 14 rows are bad (limit 3); line 3, column npi") {
		t.Errorf("err = %v", err)
	}
}

func TestReadRosterHeaders(t *testing.T) {
	tests := []struct{ csv, want string }{
		{"", "the file is empty"},
		{"npi,discipline,lat\n", "missing required column: lon"},
		{"NPI,Specialty,Latitude,Longitude,lat\n", `columns "Latitude" and "lat" both give lat`},
	}
	for _, tc := range tests {
		_, _, err := ReadRoster(strings.NewReader(tc.csv), RosterOptions{Source: "x.csv"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.csv, err, tc.want)
		}
	}
	// Header names are matched loosely and unknown columns ignored.
	r, _, err := ReadRoster(strings.NewReader("\ufeffNPI, Specialty ,Latitude,Longitude,Shoe Size\n1234567893,physical therapy,40.75,-73.99,9\n"), RosterOptions{Source: "x.csv"})
	if err != nil || len(r.Providers) != 1 || r.Providers[0].Discipline != adequacy.PT {
		t.Fatalf("loose headers: %v %+v", err, r)
	}
	if !strings.HasPrefix(r.Version, "csv:") || len(r.Version) != 16 {
		t.Errorf("version %q", r.Version)
	}
}

func TestRosterRoundTrip(t *testing.T) {
	f, _ := os.Open("testdata/roster_bad.csv")
	defer f.Close()
	now := func() time.Time { return time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) }
	r1, _, err := ReadRoster(f, RosterOptions{MaxBadRows: -1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteRoster(&buf, r1.Providers); err != nil {
		t.Fatal(err)
	}
	r2, rep, err := ReadRoster(&buf, RosterOptions{Now: now})
	if err != nil {
		t.Fatal(err, rep.Errors)
	}
	if !reflect.DeepEqual(r1.Providers, r2.Providers) {
		t.Errorf("round trip differs:\n%+v\n%+v", r1.Providers, r2.Providers)
	}
}

func TestValidNPI(t *testing.T) {
	for _, ok := range []string{"1234567893", "1245319599", "1003000126"} {
		if err := ValidNPI(ok); err != nil {
			t.Errorf("ValidNPI(%s) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "123456789", "12345678901", "1234567890", "12345678a3", "123456789x"} {
		if err := ValidNPI(bad); !errors.Is(err, ErrBadNPI) {
			t.Errorf("ValidNPI(%q) = %v", bad, err)
		}
	}
}

func FuzzReadRoster(f *testing.F) {
	seed, _ := os.ReadFile("testdata/roster_bad.csv")
	f.Add(seed)
	lists, _ := os.ReadFile("testdata/roster_lists.csv")
	f.Add(lists)
	f.Add([]byte("npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99\n"))
	f.Add([]byte("npi,discipline,lat,lon\n\"unterminated"))
	f.Add([]byte("npi,discipline,lat,lon,network\n1234567893,PT,40.75,-73.99,Gold HMO\n"))
	f.Add([]byte("npi,discipline,lat,lon,networks,certifications,services\n1234567893,PT,40.75,-73.99,A;B;A,ocs;dpt;CLT-LANA,Vestibular;hand\n"))
	v, err := Vocabulary()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, rep, err := ReadRoster(bytes.NewReader(b), RosterOptions{MaxBadRows: -1})
		if err != nil {
			return
		}
		if rep.Accepted+rep.Bad != rep.Rows || len(r.Providers) != rep.Accepted {
			t.Fatalf("rows %d = accepted %d + bad %d? providers %d", rep.Rows, rep.Accepted, rep.Bad, len(r.Providers))
		}
		if len(rep.Warnings) > MaxRosterWarnings || len(rep.Warnings) > rep.WarningCount {
			t.Fatalf("%d warnings listed of %d", len(rep.Warnings), rep.WarningCount)
		}
		for _, p := range r.Providers {
			if p.Location.Validate() != nil || ValidNPI(p.NPI) != nil || !p.Discipline.Valid() {
				t.Fatalf("accepted invalid provider %+v", p)
			}
			checkLists(t, v, &p)
		}
		// What was accepted writes and reads back unchanged.
		var buf bytes.Buffer
		if err := WriteRoster(&buf, r.Providers); err != nil {
			t.Fatal(err)
		}
		again, rep2, err := ReadRoster(&buf, RosterOptions{AllowNoParticipating: true})
		if err != nil || rep2.WarningCount != 0 {
			t.Fatalf("re-read: %v (%d warnings)", err, rep2.WarningCount)
		}
		if !reflect.DeepEqual(again.Providers, r.Providers) {
			t.Fatalf("round trip differs:\n%+v\n%+v", r.Providers, again.Providers)
		}
	})
}

// checkLists: every list is sorted and distinct, networks valid, codes
// canonical and of the provider's discipline.
func checkLists(t *testing.T, v *adequacy.Vocabulary, p *adequacy.Provider) {
	t.Helper()
	for _, l := range [][]string{p.Networks, p.Designations, p.Services} {
		if l != nil && len(l) == 0 || !slices.IsSorted(l) || len(slices.Compact(slices.Clone(l))) != len(l) {
			t.Fatalf("list %q not sorted, distinct and nil when empty", l)
		}
	}
	if len(p.Networks) > MaxNetworksPerRow {
		t.Fatalf("%d networks", len(p.Networks))
	}
	for _, n := range p.Networks {
		if badNetworkID(n) != "" {
			t.Fatalf("network %q accepted: %s", n, badNetworkID(n))
		}
	}
	for _, c := range p.Designations {
		if d, ok := v.Designation(c); !ok || d.Code != c || !d.Holds(p.Discipline) {
			t.Fatalf("designation %q of a %s accepted", c, p.Discipline)
		}
	}
	for _, c := range p.Services {
		if s, ok := v.Service(c); !ok || s.Code != c || !s.OfferedBy(p.Discipline) {
			t.Fatalf("service %q of a %s accepted", c, p.Discipline)
		}
	}
}

// The designations and services columns resolve aliases in any case to
// canonical codes; what the vocabulary does not know, or the row's
// discipline cannot hold, is a warning with line and column, never a bad
// row.
func TestReadRosterLists(t *testing.T) {
	f, err := os.Open("testdata/roster_lists.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, rep, err := ReadRoster(f, RosterOptions{Source: "roster_lists.csv", MaxBadRows: -1})
	if err != nil {
		t.Fatal(err)
	}
	var warnings, errs []string
	for _, w := range rep.Warnings {
		warnings = append(warnings, w.Error())
	}
	for _, e := range rep.Errors {
		errs = append(errs, e.Error())
	}
	wantWarnings := []string{
		`line 2, column Credentials: "DPT": unknown designation: ignored`,
		`line 3, column Credentials: "WCS": WCS is not a OT designation (held by PT): ignored`,
		`line 3, column Services: "pelvic-health": pelvic-health is not a OT service (offered by PT): ignored`,
		`line 5, column Credentials: "MS": unknown designation: ignored`,
		`line 5, column Services: "aquatics": unknown service: ignored`,
	}
	wantErrors := []string{
		`line 6, column Networks: has an empty network id (two ';' in a row, or one at an end)`,
		`line 7, column Networks: "` + strings.Repeat("N", 60) + `…": network id is longer than 64 characters`,
		`line 8, column Networks: has 33 network ids; at most 32 are allowed`,
		`line 9, column Networks: "BAD\tTAB": network id has a control or non-printing character`,
	}
	if !reflect.DeepEqual(warnings, wantWarnings) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}
	if !reflect.DeepEqual(errs, wantErrors) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(wantErrors, "\n"))
	}
	if rep.WarningCount != len(wantWarnings) || rep.Rows != 8 || rep.Accepted != 4 || rep.Bad != 4 {
		t.Errorf("rows %d accepted %d bad %d warnings %d", rep.Rows, rep.Accepted, rep.Bad, rep.WarningCount)
	}
	type lists struct{ networks, designations, services []string }
	var got []lists
	for _, p := range r.Providers {
		got = append(got, lists{p.Networks, p.Designations, p.Services})
	}
	want := []lists{
		{[]string{"ACME-COMM", "ACME-MA"}, []string{"CLT", "OCS"}, nil},
		{[]string{"ACME-MA"}, []string{"CHT", "SCFES"}, []string{"dysphagia", "hand"}},
		{nil, nil, []string{"vestibular"}},
		{[]string{"BETA"}, nil, nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lists:\n got %q\nwant %q", got, want)
	}
}

// Without the new columns nothing changes; "network" is one id, and giving
// it with "networks" is a header error.
func TestReadRosterNetworkColumn(t *testing.T) {
	r, _, err := ReadRoster(strings.NewReader("npi,discipline,lat,lon,network\n1234567893,PT,40.75,-73.99, Gold HMO \n1245319599,OT,40.76,-73.98,\n"), RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Providers[0].Networks, []string{"Gold HMO"}) || r.Providers[1].Networks != nil {
		t.Errorf("networks %q %q", r.Providers[0].Networks, r.Providers[1].Networks)
	}
	_, rep, err := ReadRoster(strings.NewReader("npi,discipline,lat,lon,network\n1234567893,PT,40.75,-73.99,Gold;Silver\n"), RosterOptions{MaxBadRows: -1, AllowNoParticipating: true})
	if err != nil || rep.Bad != 1 || !strings.Contains(rep.Errors[0].Reason, "cannot contain ';'") {
		t.Errorf("a ';' in the network column: %v %+v", err, rep)
	}
	if _, _, err := ReadRoster(strings.NewReader("npi,discipline,lat,lon,network,Networks\n"), RosterOptions{}); err == nil ||
		!strings.Contains(err.Error(), `columns "network" and "Networks" both give networks`) {
		t.Errorf("both columns: %v", err)
	}
	r, rep, err = ReadRoster(strings.NewReader("npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99\n"), RosterOptions{})
	if err != nil || r.Providers[0].Networks != nil || r.Providers[0].Designations != nil || r.Providers[0].Services != nil || rep.WarningCount != 0 {
		t.Errorf("no list columns: %v %+v %+v", err, r.Providers, rep)
	}
}

// Warnings are all counted and the first MaxRosterWarnings listed.
func TestReadRosterWarningsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("npi,discipline,lat,lon,credentials\n")
	npis := []string{"1234567893", "1245319599", "1003000126"}
	for i := range 1500 {
		fmt.Fprintf(&b, "%s,PT,%.4f,-73.99,DPT\n", npis[i%3], 30+float64(i)/100)
	}
	r, rep, err := ReadRoster(strings.NewReader(b.String()), RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Providers) != 1500 || rep.WarningCount != 1500 || len(rep.Warnings) != MaxRosterWarnings {
		t.Errorf("providers %d, warnings %d listed of %d", len(r.Providers), len(rep.Warnings), rep.WarningCount)
	}
}

// A services file's own codes are read from the roster.
func TestReadRosterCustomVocabulary(t *testing.T) {
	v, err := ParseVocabulary("acme.yaml", []byte(extension))
	if err != nil {
		t.Fatal(err)
	}
	csv := "npi,discipline,lat,lon,designations,services\n1234567893,OT,40.75,-73.99,vestibular rehab therapist,Aquatic\n"
	r, rep, err := ReadRoster(strings.NewReader(csv), RosterOptions{Vocabulary: v})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Providers[0]
	if !slices.Equal(p.Designations, []string{"CVRT"}) || p.Services != nil || rep.WarningCount != 1 {
		t.Errorf("designations %v services %v warnings %v", p.Designations, p.Services, rep.Warnings)
	}
}

// Names and addresses a spreadsheet would take for formulas are
// neutralised by WriteRoster and read back unchanged; the coordinates
// stay numbers.
func TestRosterRoundTripHostile(t *testing.T) {
	hostile := []string{"=cmd|' /C calc'!A0", "-5", "+1", "@SUM(A1)", "'quoted", "''=x", "O'Brien"}
	var ps []adequacy.Provider
	for i, h := range hostile {
		ps = append(ps, adequacy.Provider{NPI: "1234567893", Discipline: adequacy.Disciplines[i%4], Name: h, Networks: []string{h},
			Location: geo.Point{Lat: 40 + float64(i)/100, Lon: -73.99}, Address: adequacy.Address{Line1: h, City: "New York"},
			CountyFIPS: "36061", Participating: true, AcceptingNewPatients: true})
	}
	var buf bytes.Buffer
	if err := WriteRoster(&buf, ps); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"'=cmd|' /C calc'!A0"`, `"'-5"`, `"''quoted"`, `"'''=x"`, ",O'Brien,", ",-73.99,"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the file lacks %s:\n%s", want, buf.String())
		}
	}
	r, rep, err := ReadRoster(&buf, RosterOptions{})
	if err != nil {
		t.Fatal(err, rep.Errors)
	}
	if !reflect.DeepEqual(r.Providers, ps) {
		t.Errorf("round trip differs:\n%+v\n%+v", r.Providers, ps)
	}
}

// Every wrong coordinate of a row is reported, not only the first.
func TestReadRosterReportsBothCoordinates(t *testing.T) {
	in := "npi,discipline,lat,lon\n1234567893,PT,95.5,-200\n1234567890,XX,-91,181\n"
	_, rep, err := ReadRoster(strings.NewReader(in), RosterOptions{MaxBadRows: -1, AllowNoParticipating: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, fmt.Sprintf("%d %s", e.Line, e.Column))
	}
	want := []string{"2 lat", "2 lon", "3 npi", "3 discipline", "3 lat", "3 lon"}
	if !slices.Equal(got, want) {
		t.Errorf("errors at %v, want %v", got, want)
	}
}

// A roster with no participating in-person provider is refused with
// ErrEmptyRoster — it would leave every member unserved — unless the file
// is meant to hold candidates.
func TestReadRosterEmpty(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"header only", "npi,discipline,lat,lon\n", "no providers at all"},
		{"header and blank lines", "npi,discipline,lat,lon\n\n\n", "no providers at all"},
		{"only bad rows", "npi,discipline,lat,lon\n1234567890,PT,40.75,-73.99\n", "no providers at all"},
		{"none participating", "npi,discipline,lat,lon,participating\n1234567893,PT,40.75,-73.99,N\n", "none of its 1 providers participates"},
		{"all telehealth-only", "npi,discipline,lat,lon,telehealth_only\n1234567893,PT,40.75,-73.99,Y\n", "all telehealth-only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rep, err := ReadRoster(strings.NewReader(tc.csv), RosterOptions{Source: "empty.csv", MaxBadRows: -1})
			if !errors.Is(err, ErrEmptyRoster) || !errors.Is(err, adequacy.ErrEmptyRoster) || !strings.Contains(err.Error(), tc.want) ||
				!strings.HasPrefix(err.Error(), "roster empty.csv: roster has no participating providers") {
				t.Errorf("err = %v, want ErrEmptyRoster saying %q", err, tc.want)
			}
			if rep == nil {
				t.Error("no report: the bad rows would be lost")
			}
			if _, _, err := ReadRoster(strings.NewReader(tc.csv), RosterOptions{MaxBadRows: -1, AllowNoParticipating: true}); err != nil {
				t.Errorf("as candidates: %v", err)
			}
		})
	}
	// One participating in-person provider among others is enough.
	if _, _, err := ReadRoster(strings.NewReader("npi,discipline,lat,lon,telehealth_only\n1234567893,PT,40.75,-73.99,Y\n1234567893,DC,40.75,-73.99,N\n"),
		RosterOptions{}); err != nil {
		t.Errorf("servable roster: %v", err)
	}
}

// Providers in no county are accepted without one, counted and listed by
// line (the first MaxListedUnplaced), with or without a bad-row limit.
func TestReadRosterUnplaced(t *testing.T) {
	in := "npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99\n1234567893,PT,0,0\n1234567893,OT,30,-40\n"
	for _, limit := range []int{-1, 0} {
		r, rep, err := ReadRoster(strings.NewReader(in), RosterOptions{Counties: geography(t).Counties, MaxBadRows: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Providers) != 3 || rep.Unplaced != 2 || !slices.Equal(rep.UnplacedLines, []int{3, 4}) ||
			rep.UnplacedNote() != "2 providers are in no county (lines 3, 4): loaded without a county; check their coordinates" {
			t.Errorf("limit %d: %d providers, unplaced %d at %v: %q", limit, len(r.Providers), rep.Unplaced, rep.UnplacedLines, rep.UnplacedNote())
		}
	}
}

// Recruitment candidates are non-participating unless a row says
// otherwise: with no participating column, and where its cell is empty.
// A roster's rows participate unless they say N.
func TestCandidatesParticipation(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		candidates bool
		want       []bool
	}{
		{"candidates, no column", "npi,discipline,lat,lon\n1234567893,PT,40.7,-74.0\n1245319599,OT,40.8,-74.0\n", true, []bool{false, false}},
		{"candidates, column", "npi,discipline,lat,lon,participating\n1234567893,PT,40.7,-74.0,\n1245319599,OT,40.8,-74.0,Y\n", true, []bool{false, true}},
		{"roster, no column", "npi,discipline,lat,lon\n1234567893,PT,40.7,-74.0\n1245319599,OT,40.8,-74.0\n", false, []bool{true, true}},
		{"roster, column", "npi,discipline,lat,lon,participating\n1234567893,PT,40.7,-74.0,\n1245319599,OT,40.8,-74.0,N\n", false, []bool{true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rep, err := ReadRoster(strings.NewReader(tc.file), RosterOptions{Candidates: tc.candidates, AllowNoParticipating: true, MaxBadRows: 0})
			if err != nil {
				t.Fatalf("%v (%+v)", err, rep.Errors)
			}
			var got []bool
			for _, p := range r.All() {
				got = append(got, p.Participating)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("participating %v, want %v", got, tc.want)
			}
		})
	}
}
