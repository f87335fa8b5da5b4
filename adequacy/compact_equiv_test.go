package adequacy_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
)

// Everything that reads a network's roster answers the same whether the
// roster was given as values or compactly (as servers and the CLI read
// rosters): impact, criticality, dossiers, the change between two
// versions and gap reports' counting providers.
func TestCompactRosterAnswersAlike(t *testing.T) {
	values, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	if values.IsCompact() {
		t.Fatal("the sample roster is compact: the test compares nothing")
	}
	compact, err := values.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if !compact.IsCompact() || compact.Providers != nil {
		t.Fatal("Compact returned values")
	}
	engV, engC := engine(t, values), engine(t, compact)
	members := sampleGapMembers(t, 500)
	r := rand.New(rand.NewPCG(77, 78))
	participating := func(p *adequacy.Provider) bool { return p.Participating }
	busiest := busiestRow(t, engV, members)
	ch := adequacy.Change{Remove: []int{busiest}, Add: newProviders(r, members, 20)}
	for _, i := range pickRows(r, values, 60, participating) {
		if i != busiest {
			ch.Remove = append(ch.Remove, i)
		}
	}
	ctx := context.Background()

	lost, gained := 0, 0
	for _, profile := range []string{"cms-ma", "tx-medicaid", "commercial-example"} {
		opts := adequacy.ImpactOptions{Profile: profile, AsOf: asOf, Criticality: true}
		bV, err := engV.NewBaseline(ctx, members, opts)
		if err != nil {
			t.Fatal(err)
		}
		bC, err := engC.NewBaseline(ctx, members, opts)
		if err != nil {
			t.Fatal(err)
		}
		imV, err := bV.Impact(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		imC, err := bC.Impact(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		if len(imV.Removed) != len(ch.Remove) {
			t.Fatalf("%s: the change removed %d rows, not %d", profile, len(imV.Removed), len(ch.Remove))
		}
		lost, gained = lost+len(imV.Lost), gained+len(imV.Gained)
		for _, f := range []struct {
			name string
			v, c any
		}{
			{"removed", imV.Removed, imC.Removed},
			{"added", imV.Added, imC.Added},
			{"rows", imV.Rows, imC.Rows},
			{"lost", imV.Lost, imC.Lost},
			{"gained", imV.Gained, imC.Gained},
			{"totals", imV.Totals, imC.Totals},
		} {
			if !reflect.DeepEqual(f.v, f.c) {
				t.Errorf("%s: impact %s differ between a roster of values and a compact one", profile, f.name)
			}
		}

		critV, err := bV.Criticality()
		if err != nil {
			t.Fatal(err)
		}
		critC, err := bC.Criticality()
		if err != nil {
			t.Fatal(err)
		}
		if len(critV.Providers) == 0 || !reflect.DeepEqual(critV.Providers, critC.Providers) {
			t.Errorf("%s: criticality differs (%d and %d providers)", profile, len(critV.Providers), len(critC.Providers))
		}

		npi := critV.Providers[0].Provider.NPI
		dV, err := bV.Dossier(ctx, npi)
		if err != nil {
			t.Fatal(err)
		}
		dC, err := bC.Dossier(ctx, npi)
		if err != nil {
			t.Fatal(err)
		}
		// Counties hold NaN medians where nobody changed: compared as text.
		if dV.Name != dC.Name || dV.Joining != dC.Joining || dV.Counting != dC.Counting ||
			!reflect.DeepEqual(dV.Rows, dC.Rows) || fmt.Sprintf("%+v", dV.Counties) != fmt.Sprintf("%+v", dC.Counties) {
			t.Errorf("%s: dossier of %s differs", profile, npi)
		}
		if len(dV.Alternatives) == 0 || len(dV.Alternatives) != len(dC.Alternatives) {
			t.Fatalf("%s: %d and %d alternatives", profile, len(dV.Alternatives), len(dC.Alternatives))
		}
		for i := range dV.Alternatives {
			a, b := dV.Alternatives[i], dC.Alternatives[i]
			if !reflect.DeepEqual(*a.From, *b.From) || !reflect.DeepEqual(*a.Provider, *b.Provider) || a.Miles != b.Miles {
				t.Errorf("%s: alternative %d differs", profile, i)
			}
		}

		gV, err := engV.Gap(ctx, members, adequacy.GapOptions{Profile: profile, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		gC, err := engC.Gap(ctx, members, adequacy.GapOptions{Profile: profile, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		if pv := gV.CountingProviders(); len(pv) == 0 || !reflect.DeepEqual(pv, gC.CountingProviders()) {
			t.Errorf("%s: counting providers differ", profile)
		}
	}

	if lost == 0 || gained == 0 {
		t.Errorf("the change lost %d and gained %d members: the comparison shows little", lost, gained)
	}

	// The change between two versions, each given either way.
	next := &adequacy.Roster{Version: "v2"}
	for i, p := range values.Providers {
		switch i % 40 {
		case 0:
			continue
		case 1:
			p.Location.Lat += 1e-5
		}
		next.Providers = append(next.Providers, p)
	}
	next.Providers = append(next.Providers, newProviders(r, members, 5)...)
	nextC, err := next.Compact()
	if err != nil {
		t.Fatal(err)
	}
	want := adequacy.ChangeBetween(values, next)
	if len(want.Remove) == 0 || len(want.Add) == 0 {
		t.Fatalf("change %d removed, %d added: shows nothing", len(want.Remove), len(want.Add))
	}
	for _, pair := range [][2]*adequacy.Roster{{compact, next}, {values, nextC}, {compact, nextC}} {
		if got := adequacy.ChangeBetween(pair[0], pair[1]); !reflect.DeepEqual(got, want) {
			t.Errorf("change between (compact %v, %v): %d removed, %d added; values: %d, %d",
				pair[0].IsCompact(), pair[1].IsCompact(), len(got.Remove), len(got.Add), len(want.Remove), len(want.Add))
		}
	}
}
