package adequacy

import (
	"math"
	"strings"
	"testing"
	"time"
)

// One case per row of the 422.116(c) table, at and inside its edges, and
// the combinations no row matches.
func TestDesignate(t *testing.T) {
	tests := []struct {
		pop, density float64
		want         CountyType
		unmatched    bool
	}{
		// Large Metro
		{1_000_000, 1_000, LargeMetro, false},
		{9_000_000, 2_500, LargeMetro, false},
		{500_000, 1_500, LargeMetro, false},
		{999_999, 4_000, LargeMetro, false},
		{20_000, 5_000, LargeMetro, false},
		{3_000, 12_000, LargeMetro, false},
		// Metro
		{1_000_000, 10, Metro, false},
		{2_000_000, 999.9, Metro, false},
		{500_000, 10, Metro, false},
		{750_000, 1_499.9, Metro, false},
		{200_000, 10, Metro, false},
		{499_999, 4_999.9, Metro, false},
		{50_000, 100, Metro, false},
		{199_999, 4_999.9, Metro, false},
		{10_000, 1_000, Metro, false},
		{49_999, 4_999.9, Metro, false},
		// Micro
		{50_000, 10, Micro, false},
		{199_999, 99.9, Micro, false},
		{10_000, 50, Micro, false},
		{49_999, 999.9, Micro, false},
		// Rural
		{10_000, 10, Rural, false},
		{49_999, 49.9, Rural, false},
		{9_999, 50, Rural, false},
		{500, 999.9, Rural, false},
		// CEAC
		{5_000_000, 9.9, CEAC, false},
		{0, 0, CEAC, false},
		{9_999, 9.99, CEAC, false},
		// No row matches: population under 10,000.
		{9_999, 10, Rural, true},
		{4_000, 49.9, Rural, true},
		{9_999, 1_000, Metro, true},
		{2_000, 4_999.9, Metro, true},
	}
	for _, tc := range tests {
		got, err := Designate(tc.pop, tc.density)
		if err != nil {
			t.Fatalf("Designate(%v, %v): %v", tc.pop, tc.density, err)
		}
		if got.Type != tc.want || got.Official {
			t.Errorf("Designate(%v, %v) = %v (official %v), want derived %v", tc.pop, tc.density, got.Type, got.Official, tc.want)
		}
		if um := strings.Contains(got.Basis, "matches no row"); um != tc.unmatched {
			t.Errorf("Designate(%v, %v) basis %q: unmatched=%v, want %v", tc.pop, tc.density, got.Basis, um, tc.unmatched)
		}
		if !strings.HasPrefix(got.Basis, "derived: ") {
			t.Errorf("basis %q does not say derived", got.Basis)
		}
	}
	for _, bad := range [][2]float64{{-1, 10}, {math.NaN(), 10}, {10, math.Inf(1)}, {10, -5}} {
		if _, err := Designate(bad[0], bad[1]); err == nil {
			t.Errorf("Designate(%v, %v) accepted", bad[0], bad[1])
		}
	}
}

func TestParseCountyType(t *testing.T) {
	for in, want := range map[string]CountyType{"Large Metro": LargeMetro, "large_metro": LargeMetro, "LARGE-METRO": LargeMetro,
		"Metro": Metro, "micro": Micro, " Rural ": Rural, "CEAC": CEAC, "ceac": CEAC} {
		got, err := ParseCountyType(in)
		if err != nil || got != want {
			t.Errorf("ParseCountyType(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseCountyType("frontier"); err == nil {
		t.Error("accepted frontier")
	}
}

func TestParseDiscipline(t *testing.T) {
	for in, want := range map[string]Discipline{"DC": DC, "pt": PT, "DISCIPLINE_OT": OT, "051": ST, "Chiropractor": DC, "speech therapy": ST} {
		got, err := ParseDiscipline(in)
		if err != nil || got != want {
			t.Errorf("ParseDiscipline(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "XX", "DISCIPLINE_UNSPECIFIED", "PTT"} {
		if _, err := ParseDiscipline(bad); err == nil {
			t.Errorf("ParseDiscipline(%q) accepted", bad)
		}
	}
}

func TestDate(t *testing.T) {
	for _, s := range []string{"0001-01-01", "1970-01-01", "2026-11-24", "2099-12-31", "9999-12-31"} {
		d, err := ParseDate(s)
		if err != nil || d.String() != s || d.IsZero() {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
	}
	a, _ := ParseDate("2025-12-31")
	b, _ := ParseDate("2026-01-01")
	if !a.Before(b) || b.Before(a) || a.Before(a) {
		t.Error("Before is wrong")
	}
	if DateOf(time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)).String() != "2026-03-01" {
		t.Error("DateOf")
	}
	for _, bad := range []string{"", "2026-13-01", "01/02/2026", "2026-02-30"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	var z Date
	if !z.IsZero() || z.String() != "" {
		t.Error("zero date")
	}
}
