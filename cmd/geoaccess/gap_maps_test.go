package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

// validNPI makes a valid NPI from nine digits (the check digit found by
// trying each).
func validNPI(t *testing.T, nine int) string {
	t.Helper()
	for c := range 10 {
		s := strconv.Itoa(nine) + strconv.Itoa(c)
		if data.ValidNPI(s) == nil {
			return s
		}
	}
	t.Fatalf("no check digit for %d", nine)
	return ""
}

// The gap command's maps show the providers the profile counts on the
// report's date: one not accepting new patients is absent under a profile
// that requires it (and present under one that does not); one not yet
// effective, terminated, telehealth-only or not participating never shows.
func TestGapMapsShowCountingProviders(t *testing.T) {
	dir := t.TempDir()
	nyc := geo.Point{Lat: 40.75, Lon: -73.99}
	asOf := "2026-11-24"
	var ps []adequacy.Provider
	for i, status := range []string{"counts", "not accepting", "not yet effective", "terminated", "telehealth only", "not participating"} {
		p := adequacy.Provider{NPI: validNPI(t, 123456780+i), Name: status, Discipline: adequacy.PT,
			Location: geo.Point{Lat: nyc.Lat + 0.01*float64(i), Lon: nyc.Lon}, CountyFIPS: "36061",
			Participating: true, AcceptingNewPatients: true, Effective: mustParse(t, "2020-01-01")}
		switch status {
		case "not accepting":
			p.AcceptingNewPatients = false
		case "not yet effective":
			p.Effective = mustParse(t, "2026-12-01")
		case "terminated":
			p.Termination = mustParse(t, "2026-11-01")
		case "telehealth only":
			p.TelehealthOnly = true
		case "not participating":
			p.Participating = false
		}
		ps = append(ps, p)
	}
	roster := writeRoster(t, dir, "roster.csv", ps)
	members := filepath.Join(dir, "members.csv")
	if err := os.WriteFile(members, []byte("member_id,lat,lon\nM1,40.75,-73.99\nM2,40.76,-73.98\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		profile string
		shown   int
	}{
		{"cms-ma", 2},             // counts, not accepting
		{"commercial-example", 1}, // counts
	} {
		out := filepath.Join(dir, tc.profile)
		mustCLI(t, "gap", "--members", members, "--roster", roster, "--out", out, "--profile", tc.profile, "--as-of", asOf, "--discipline", "PT")
		svg, err := os.ReadFile(filepath.Join(out, "map_PT.svg"))
		if err != nil {
			t.Fatal(err)
		}
		if n := svgProviders(string(svg)); n != tc.shown {
			t.Errorf("%s: map_PT.svg shows %d providers, want %d", tc.profile, n, tc.shown)
		}
		// adequacy.csv counts the same providers.
		csv, err := os.ReadFile(filepath.Join(out, "adequacy.csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
		head := strings.Split(rows[0], ",")
		col := -1
		for i, h := range head {
			if h == "providers_counted" {
				col = i
			}
		}
		if len(rows) != 2 || col < 0 || strings.Split(rows[1], ",")[col] != strconv.Itoa(tc.shown) {
			t.Errorf("%s: adequacy.csv\n%s\nwant providers_counted %d", tc.profile, csv, tc.shown)
		}
	}
}

// svgProviders counts the providers a static map draws: one subpath each
// of its provider path.
func svgProviders(svg string) int {
	_, rest, ok := strings.Cut(svg, `class="provider"`)
	if !ok {
		return 0
	}
	_, rest, _ = strings.Cut(rest, ` d="`)
	d, _, _ := strings.Cut(rest, `"`)
	return strings.Count(d, "M")
}

func mustParse(t *testing.T, s string) adequacy.Date {
	t.Helper()
	d, err := adequacy.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
