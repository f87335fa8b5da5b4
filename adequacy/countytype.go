package adequacy

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// CountyType is a county designation of 42 CFR 422.116(c).
type CountyType uint8

// The county types, densest first.
const (
	LargeMetro CountyType = iota
	Metro
	Micro
	Rural
	CEAC // counties with extreme access considerations
	numCountyTypes
)

// CountyTypes lists every county type, densest first.
var CountyTypes = []CountyType{LargeMetro, Metro, Micro, Rural, CEAC}

// ErrUnknownCountyType is wrapped by ParseCountyType.
var ErrUnknownCountyType = errors.New("unknown county type")

var countyTypeNames = [numCountyTypes]struct{ name, key string }{
	LargeMetro: {"Large Metro", "large_metro"},
	Metro:      {"Metro", "metro"},
	Micro:      {"Micro", "micro"},
	Rural:      {"Rural", "rural"},
	CEAC:       {"CEAC", "ceac"},
}

// String is the designation as CMS writes it ("Large Metro", "CEAC").
func (t CountyType) String() string {
	if t < numCountyTypes {
		return countyTypeNames[t].name
	}
	return fmt.Sprintf("CountyType(%d)", uint8(t))
}

// Key is the snake_case key profiles use ("large_metro").
func (t CountyType) Key() string {
	if t < numCountyTypes {
		return countyTypeNames[t].key
	}
	return t.String()
}

// Valid reports whether t is one of the five types.
func (t CountyType) Valid() bool { return t < numCountyTypes }

// ParseCountyType accepts the CMS spelling or the profile key, any case.
func ParseCountyType(s string) (CountyType, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.NewReplacer("-", " ", "_", " ").Replace(n)
	n = strings.TrimPrefix(n, "county type ")
	for t := range numCountyTypes {
		if n == strings.ToLower(countyTypeNames[t].name) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want Large Metro, Metro, Micro, Rural or CEAC)", ErrUnknownCountyType, Excerpt(s))
}

// MarshalText implements encoding.TextMarshaler.
func (t CountyType) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("%w %d", ErrUnknownCountyType, uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *CountyType) UnmarshalText(b []byte) error {
	v, err := ParseCountyType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// designationRow is one row of the table in 42 CFR 422.116(c).
type designationRow struct {
	t              CountyType
	popLo, popHi   float64 // population range, inclusive low, exclusive high
	densLo, densHi float64 // people per square mile, inclusive low, exclusive high
}

var inf = math.Inf(1)

var designationTable = []designationRow{
	{LargeMetro, 1_000_000, inf, 1_000, inf},
	{LargeMetro, 500_000, 1_000_000, 1_500, inf},
	{LargeMetro, 0, inf, 5_000, inf},
	{Metro, 1_000_000, inf, 10, 1_000},
	{Metro, 500_000, 1_000_000, 10, 1_500},
	{Metro, 200_000, 500_000, 10, 5_000},
	{Metro, 50_000, 200_000, 100, 5_000},
	{Metro, 10_000, 50_000, 1_000, 5_000},
	{Micro, 50_000, 200_000, 10, 100},
	{Micro, 10_000, 50_000, 50, 1_000},
	{Rural, 10_000, 50_000, 10, 50},
	{Rural, 0, 10_000, 50, 1_000},
	{CEAC, 0, inf, 0, 10},
}

func (r designationRow) String() string {
	rng := func(lo, hi float64, unit string) string {
		switch {
		case lo == 0 && math.IsInf(hi, 1):
			return "any " + unit
		case math.IsInf(hi, 1):
			return fmt.Sprintf("%s ≥ %s", unit, num(lo))
		case lo == 0:
			return fmt.Sprintf("%s < %s", unit, num(hi))
		}
		return fmt.Sprintf("%s %s–%s", unit, num(lo), num(hi))
	}
	return fmt.Sprintf("422.116(c): %s, %s → %s", rng(r.popLo, r.popHi, "population"), rng(r.densLo, r.densHi, "density"), r.t)
}

func num(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	// thousands separators for readability
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Designation is a county type with where it came from.
type Designation struct {
	Type CountyType
	// Official is true when the type is CMS's published designation for the
	// county, false when derived with the 422.116(c) rule.
	Official bool
	// Basis says how the type was reached: the CMS file, the table row
	// matched, or how a county no row matches was resolved.
	Basis string
}

// Designate derives a county type from population and density (people per
// square mile) with the table of 42 CFR 422.116(c). Two combinations fit no
// row as written: population under 10,000 with density 10–49.9, and
// population under 10,000 with density 1,000–4,999.9. Those take the type of
// the row with the same density range at the nearest population bracket
// (Rural and Metro respectively), and Basis says so.
func Designate(population, density float64) (Designation, error) {
	if !(population >= 0) || math.IsInf(population, 0) {
		return Designation{}, fmt.Errorf("designate: population must be a finite number ≥ 0 (got %v)", population)
	}
	if !(density >= 0) || math.IsInf(density, 0) {
		return Designation{}, fmt.Errorf("designate: density must be a finite number ≥ 0 (got %v)", density)
	}
	for _, r := range designationTable {
		if population >= r.popLo && population < r.popHi && density >= r.densLo && density < r.densHi {
			return Designation{Type: r.t, Basis: "derived: " + r.String()}, nil
		}
	}
	// Unmatched: population < 10,000 (every other gap is covered).
	var t CountyType
	switch {
	case density < 50:
		t = Rural
	default:
		t = Metro
	}
	return Designation{Type: t, Basis: fmt.Sprintf(
		"derived: population %s at density %.1f matches no row of 422.116(c); took the row with the same density range at the nearest population bracket → %s",
		num(population), density, t)}, nil
}

// NumCountyTypes is the number of county types: the length of arrays
// indexed by CountyType.
const NumCountyTypes = numCountyTypes
