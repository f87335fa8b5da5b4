package adequacy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// explainByFormat is Explain's single-discipline sentence and Limits as
// fmt wrote them: the oracle for the formatting without fmt.
func explainByFormat(d *Decision) string {
	verb := "not served"
	if d.Status == Served {
		verb = "served"
	}
	offering := ""
	if d.Service != "" {
		offering = " offering " + d.ServiceName
		if len(d.Similar) > 0 {
			offering += " (or a similar service: " + strings.Join(d.Similar, ", ") + ")"
		}
	}
	var limits string
	r := d.Rule
	switch {
	case r.MaxMiles > 0 && r.MaxMinutes > 0:
		limits = fmt.Sprintf("%g miles and %g minutes", r.MaxMiles, r.MaxMinutes)
	case r.MaxMiles > 0:
		limits = fmt.Sprintf("%g miles", r.MaxMiles)
	default:
		limits = fmt.Sprintf("%g minutes", r.MaxMinutes)
	}
	s := fmt.Sprintf("%s: %d counting %s provider(s)%s within %s of the member; %d required in a %s county",
		verb, d.ProvidersWithin, d.Discipline, offering, limits, d.Rule.ProvidersRequired, d.Rule.CountyType)
	if d.Plan != "" {
		s += fmt.Sprintf(" (plan %s: networks %s)", d.Plan, strings.Join(d.Networks, ", "))
	}
	return s + d.ExpiredNote()
}

// Explain and Limits read exactly as fmt wrote them, for ordinary and
// odd figures.
func TestExplainAsFormatted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	floats := []float64{0, 1, 2.5, 10, 15, 30, 45, 60, 100, 1e6, 1234567, 1e21, 1e-5, 0.1 + 0.2, math.MaxFloat64, math.SmallestNonzeroFloat64, 33.333333333333336}
	for i := range 5000 {
		d := Decision{Status: Status(r.IntN(2)), Discipline: Discipline(r.IntN(int(numDisciplines) + 2)), ProvidersWithin: r.IntN(2000) - 3,
			Rule: Rule{CountyType: CountyType(r.IntN(int(numCountyTypes) + 1)), ProvidersRequired: r.IntN(3)}}
		pick := func() float64 {
			if r.IntN(2) == 0 {
				return floats[r.IntN(len(floats))]
			}
			return r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-10))
		}
		d.Rule.MaxMiles, d.Rule.MaxMinutes = pick(), pick()
		if i%3 == 0 {
			d.Service, d.ServiceName = "lymphedema", "Lymphedema therapy"
			d.Similar = []string{"a", "b"}[:r.IntN(3)]
		}
		if i%5 == 0 {
			d.Plan, d.Networks = "acme", []string{"N1", "N2"}
		}
		if i%7 == 0 {
			d.ProfileExpired, d.Profile, d.ProfileVersion = true, "cms-ma", "2026.1"
		}
		if d.Discipline == AnyDiscipline {
			continue
		}
		if got, want := d.Explain(), explainByFormat(&d); got != want {
			t.Fatalf("%+v:\n got %q\nwant %q", d.Rule, got, want)
		}
	}
}
