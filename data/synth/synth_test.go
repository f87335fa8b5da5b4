package synth_test

import (
	"reflect"
	"testing"

	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
)

func world(t *testing.T) *synth.World {
	t.Helper()
	g, err := data.EmbeddedGeography()
	if err != nil {
		t.Fatal(err)
	}
	ct, err := data.EmbeddedCounties()
	if err != nil {
		t.Fatal(err)
	}
	return &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
}

// Providers are valid, unique, in the states asked for, inside their
// county's polygon, and the same for the same seed.
func TestProviders(t *testing.T) {
	w := world(t)
	cfg := synth.Config{Seed: 5, States: []string{"NY", "AK"}, Count: 2000, NonParticipating: 0.2, TelehealthOnly: 0.1}
	ps, err := w.Providers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	nonPar := 0
	for _, p := range ps {
		if err := data.ValidNPI(p.NPI); err != nil || seen[p.NPI] {
			t.Fatalf("NPI %s: %v (repeat %v)", p.NPI, err, seen[p.NPI])
		}
		seen[p.NPI] = true
		if p.Address.State != "NY" && p.Address.State != "AK" {
			t.Fatalf("provider in %s", p.Address.State)
		}
		if s, err := w.Map.Locate(p.Location); err != nil || s.FIPS != p.CountyFIPS {
			// A ZIP point just outside its generalised polygon is allowed.
			if p.Address.ZIP == "" {
				t.Errorf("%s at %v is not in %s", p.NPI, p.Location, p.CountyFIPS)
			}
		}
		if !p.Participating {
			nonPar++
		}
	}
	if nonPar < 300 || nonPar > 500 {
		t.Errorf("%d non-participating of 2000, want about 400", nonPar)
	}
	again, _ := w.Providers(cfg)
	if !reflect.DeepEqual(ps, again) {
		t.Error("same seed, different providers")
	}
}

func TestMembers(t *testing.T) {
	w := world(t)
	ms, err := w.Members(synth.Config{Seed: 6, States: []string{"TX"}, Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	harris := 0
	for _, m := range ms {
		if m.CountyFIPS[:2] != "48" || m.Point.Validate() != nil {
			t.Fatalf("member %+v", m)
		}
		if m.CountyFIPS == "48201" {
			harris++
		}
	}
	// Harris County holds about a tenth of Texas's Medicare beneficiaries.
	if harris < 60 || harris > 160 {
		t.Errorf("%d of 1000 members in Harris County, want about 100", harris)
	}
	if _, err := w.Members(synth.Config{States: []string{"ZZ"}, Count: 1}); err == nil {
		t.Error("no error for an unknown state")
	}
}
