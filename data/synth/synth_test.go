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

// Synthetic providers hold designations of their discipline (a few
// percent, some several), declare services without one (PTs mostly
// vestibular), and participating ones are in networks; drawing the lists
// changes nothing else a seed gives.
func TestProviderLists(t *testing.T) {
	w := world(t)
	v, err := data.Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	plain := synth.Config{Seed: 9, States: []string{"TX"}, Count: 20000, NonParticipating: 0.1}
	before, err := w.Providers(plain)
	if err != nil {
		t.Fatal(err)
	}
	w.Vocabulary = v
	cfg := plain
	cfg.Designations, cfg.Declared, cfg.Networks = 0.06, 0.04, []string{"ACME-MA", "ACME-COMM"}
	ps, err := w.Providers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	held, several, declaredOnly, vestibular, inNetwork := 0, 0, 0, 0, 0
	for i, p := range ps {
		q := before[i]
		q.Designations, q.Services, q.Networks = p.Designations, p.Services, p.Networks
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("provider %d changed beyond its lists:\n%+v\n%+v", i, before[i], p)
		}
		for _, c := range p.Designations {
			if d, ok := v.Designation(c); !ok || !d.Holds(p.Discipline) {
				t.Fatalf("%s %s holds %s", p.NPI, p.Discipline, c)
			}
		}
		for _, c := range p.Services {
			if s, ok := v.Service(c); !ok || !s.OfferedBy(p.Discipline) {
				t.Fatalf("%s %s declares %s", p.NPI, p.Discipline, c)
			}
		}
		if len(p.Designations) > 0 {
			held++
		}
		if len(p.Designations) > 1 {
			several++
		}
		if len(p.Services) > 0 && len(p.Designations) == 0 {
			declaredOnly++
		}
		if len(p.Services) == 1 && p.Services[0] == "vestibular" {
			vestibular++
		}
		if p.Participating != (len(p.Networks) > 0) {
			t.Fatalf("%s participating %v, networks %v", p.NPI, p.Participating, p.Networks)
		}
		if len(p.Networks) > 0 {
			inNetwork++
		}
	}
	if held < 900 || held > 1500 || several < 100 || declaredOnly < 500 || vestibular < 200 || inNetwork < 17000 {
		t.Errorf("of 20000: %d hold designations, %d several, %d declare only, %d vestibular, %d in a network",
			held, several, declaredOnly, vestibular, inNetwork)
	}
	again, _ := w.Providers(cfg)
	if !reflect.DeepEqual(ps, again) {
		t.Error("same seed, different lists")
	}
}
