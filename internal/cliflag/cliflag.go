// Package cliflag owns the flag.Value types that geoaccess's commands
// (cmd/geoaccess and cmd/geoaccessd) share, so that a flag parses the same
// way in both.
package cliflag

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Fraction is a flag given as a fraction (0.2) or a percentage (20%),
// from 0 to 1: the shrink guard's --max-shrink.
type Fraction float64

// String is the value as a percentage, which Set reads back.
func (f *Fraction) String() string { return strconv.FormatFloat(100*float64(*f), 'f', -1, 64) + "%" }

// Set implements flag.Value.
func (f *Fraction) Set(v string) error {
	pct := strings.HasSuffix(v, "%")
	x, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil || math.IsNaN(x) {
		return fmt.Errorf("%q is not a fraction (0.2) or a percentage (20%%)", v)
	}
	if pct {
		x /= 100
	}
	if x < 0 || x > 1 {
		return fmt.Errorf("%q is not between 0 and 100%%", v)
	}
	*f = Fraction(x)
	return nil
}

// Multi is a repeatable string flag: each use adds a value.
type Multi []string

// String is the values joined by commas.
func (m *Multi) String() string { return strings.Join(*m, ",") }

// Set implements flag.Value: it appends v.
func (m *Multi) Set(v string) error {
	*m = append(*m, v)
	return nil
}
