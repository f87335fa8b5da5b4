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
	f.Add([]byte("npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99\n"))
	f.Add([]byte("npi,discipline,lat,lon\n\"unterminated"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, rep, err := ReadRoster(bytes.NewReader(b), RosterOptions{MaxBadRows: -1})
		if err != nil {
			return
		}
		if rep.Accepted+rep.Bad != rep.Rows || len(r.Providers) != rep.Accepted {
			t.Fatalf("rows %d = accepted %d + bad %d? providers %d", rep.Rows, rep.Accepted, rep.Bad, len(r.Providers))
		}
		for _, p := range r.Providers {
			if p.Location.Validate() != nil || ValidNPI(p.NPI) != nil || !p.Discipline.Valid() {
				t.Fatalf("accepted invalid provider %+v", p)
			}
		}
	})
}

// Names and addresses a spreadsheet would take for formulas are
// neutralised by WriteRoster and read back unchanged; the coordinates
// stay numbers.
func TestRosterRoundTripHostile(t *testing.T) {
	hostile := []string{"=cmd|' /C calc'!A0", "-5", "+1", "@SUM(A1)", "'quoted", "''=x", "O'Brien"}
	var ps []adequacy.Provider
	for i, h := range hostile {
		ps = append(ps, adequacy.Provider{NPI: "1234567893", Discipline: adequacy.Disciplines[i%4], Name: h, Network: h,
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
