package data

import (
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

func TestEmbeddedCounties(t *testing.T) {
	ct, err := EmbeddedCounties()
	if err != nil {
		t.Fatal(err)
	}
	g := geography(t)
	if ct.Len() != g.Counties.Len() || len(ct.Undesignated) != 0 {
		t.Errorf("%d counties for %d polygons; undesignated %v", ct.Len(), g.Counties.Len(), ct.Undesignated)
	}
	if ct.Source != "CMS MA HSD reference file CY2026 (12-17-2025)" {
		t.Errorf("source %q", ct.Source)
	}
	for _, c := range ct.All() {
		if !c.Designation.Official {
			t.Errorf("%s %s is not official: %s", c.FIPS, c.Name, c.Designation.Basis)
		}
	}
	ny, _ := ct.Lookup("36061")
	if s, ok := ny.Standard(adequacy.DC); !ok || ny.Designation.Type != adequacy.LargeMetro || s.MaxMiles != 15 || s.MaxMinutes != 30 {
		t.Errorf("New York County: %+v %+v", ny.Designation, s)
	}
}

// Polygons the official table lacks get a designation derived from Census
// population and polygon area by 422.116(c), and say so.
func TestDerivedDesignations(t *testing.T) {
	ct, err := EmbeddedCounties()
	if err != nil {
		t.Fatal(err)
	}
	var official []adequacy.County
	for _, c := range ct.All() {
		if c.State != "MP" || c.FIPS == "69085" {
			official = append(official, *c)
		}
	}
	got, err := completeCounties("test", official)
	if err != nil {
		t.Fatal(err)
	}
	for fips, want := range map[string]adequacy.CountyType{"69110": adequacy.Micro, "69100": adequacy.Rural, "69120": adequacy.Rural} {
		c, err := got.Lookup(fips)
		if err != nil {
			t.Fatal(err)
		}
		if c.Designation.Official || c.Designation.Type != want || !strings.HasPrefix(c.Designation.Basis, "derived: ") ||
			!strings.Contains(c.Designation.Basis, "2020 Island Areas") {
			t.Errorf("%s %s: %+v", fips, c.Name, c.Designation)
		}
		if _, ok := c.Standard(adequacy.PT); ok {
			t.Errorf("%s has official standards", fips)
		}
	}
}
