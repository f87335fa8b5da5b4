package cliflag_test

import (
	"flag"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/internal/cliflag"
)

func TestFraction(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string // "" = accepted
	}{
		{"0.2", 0.2, ""},
		{"20%", 0.2, ""},
		{"0", 0, ""},
		{"0%", 0, ""},
		{"1", 1, ""},
		{"100%", 1, ""},
		{"12.5%", 0.125, ""},
		{"120%", 0, "not between 0 and 100%"},
		{"1.01", 0, "not between 0 and 100%"},
		{"-0.1", 0, "not between 0 and 100%"},
		{"", 0, "not a fraction"},
		{"%", 0, "not a fraction"},
		{"twenty", 0, "not a fraction"},
		{"NaN", 0, "not a fraction"},
		{"20%%", 0, "not a fraction"},
	}
	for _, tc := range tests {
		f := cliflag.Fraction(0.5)
		err := f.Set(tc.in)
		switch {
		case tc.err == "" && (err != nil || float64(f) != tc.want):
			t.Errorf("%q: %v, %v; want %v", tc.in, float64(f), err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || f != 0.5):
			t.Errorf("%q: %v, %v; want an error %q and the value kept", tc.in, float64(f), err, tc.err)
		}
	}
	f := cliflag.Fraction(0.2)
	if s := f.String(); s != "20%" {
		t.Errorf("String() = %q", s)
	}
}

// FuzzFraction: any input is refused or read as a fraction from 0 to 1,
// and what String writes Set reads back (to the last bits: a percentage
// is the fraction times 100).
func FuzzFraction(f *testing.F) {
	for _, s := range []string{"0.2", "20%", "100%", "0", "1e-3", "-1", "%", "Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var x cliflag.Fraction
		if x.Set(s) != nil {
			return
		}
		if x < 0 || x > 1 {
			t.Fatalf("%q read as %v", s, float64(x))
		}
		var y cliflag.Fraction
		if err := y.Set(x.String()); err != nil || math.Abs(float64(y-x)) > 1e-12*float64(x) {
			t.Fatalf("%q: %v written as %q, read back as %v (%v)", s, float64(x), x.String(), float64(y), err)
		}
	})
}

func TestMulti(t *testing.T) {
	var m cliflag.Multi
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&m, "profile-file", "")
	if err := fs.Parse([]string{"--profile-file", "a.yaml", "--profile-file", "b,c.yaml"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m, cliflag.Multi{"a.yaml", "b,c.yaml"}) || m.String() != "a.yaml,b,c.yaml" {
		t.Errorf("%q, %q", []string(m), m.String())
	}
}
