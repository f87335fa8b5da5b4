package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/pgtest"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// TestDaemonPlansFromPostgres: geoaccessd --db serves the plans published
// in PostgreSQL and follows them; a roster reload that changes providers'
// networks changes plan decisions. Every answer equals the engine's on the
// same roster and plans.
func TestDaemonPlansFromPostgres(t *testing.T) {
	env, err := pgtest.NewEnv()
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	db := env.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pg.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	sample, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	publishPlans := func(networks string) {
		t.Helper()
		yaml := "plans:\n  - id: acme-ma\n    name: Acme Medicare Advantage\n    product_line: medicare_advantage\n    profile: cms-ma\n    networks: [" + networks + "]\n"
		if _, err := pg.LoadPlans(ctx, pool, "plans.yaml", []byte(yaml), pg.PlansLoadOptions{Profiles: eng.Profiles}); err != nil {
			t.Fatal(err)
		}
	}
	// The answer the engine gives on a roster under the current plans.
	want := func(ps []adequacy.Provider, networks ...string) adequacy.Decision {
		t.Helper()
		e := *eng
		e.Plans, err = adequacy.NewPlans("x", "x", []adequacy.Plan{{ID: "acme-ma", Name: "Acme", ProductLine: adequacy.MedicareAdvantage,
			Profile: "cms-ma", Networks: networks}}, eng.Profiles)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.NewNetwork(&adequacy.Roster{Version: "x", Providers: ps})
		if err != nil {
			t.Fatal(err)
		}
		pt := nycPoint
		ds, err := e.WithNetwork(n).Decide(adequacy.Request{Member: adequacy.Member{Point: &pt}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: june, Plan: "acme-ma"})
		if err != nil {
			t.Fatal(err)
		}
		return ds[0]
	}
	publishCSV(t, pool, sample.Providers)
	publishPlans("ACME-MA")
	p := start(t, "--db", db, "--reload-backoff-min", "100ms")
	_, c := p.client(t)
	check := &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: nycPoint.Lat, Longitude: nycPoint.Lon}, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT},
		AsOf: june.String(), Plan: "acme-ma", K: 5}
	expect := func(label string, w adequacy.Decision, networks ...string) {
		t.Helper()
		r, err := c.CheckAccess(ctx, check)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if got := r.Decisions[0]; int(got.ProvidersWithin) != w.ProvidersWithin || !slices.Equal(r.Networks, networks) || got.Nearest[0].Npi != w.Nearest[0].NPI {
			t.Errorf("%s: %d within, networks %v, nearest %s; want %d, %v, %s", label, got.ProvidersWithin, r.Networks, got.Nearest[0].Npi,
				w.ProvidersWithin, networks, w.Nearest[0].NPI)
		}
	}
	lp, err := c.ListPlans(ctx, &pb.ListPlansRequest{})
	if err != nil || len(lp.Plans) != 1 || lp.Version != "pg:1" {
		t.Fatalf("ListPlans at start: %v %+v", err, lp)
	}
	expect("plans v1", want(sample.Providers, "ACME-MA"), "ACME-MA")

	// A new plans version is heard and served.
	publishPlans("ACME-COMM")
	for rec := p.await(t, "plans loaded"); rec["plans_version"] != "pg:2"; rec = p.await(t, "plans loaded") {
	}
	expect("plans v2", want(sample.Providers, "ACME-COMM"), "ACME-COMM")

	// A roster version that moves every provider out of ACME-COMM leaves
	// the plan with no provider: nobody is served, nobody counted.
	moved := slices.Clone(sample.Providers)
	for i := range moved {
		moved[i].Networks = slices.DeleteFunc(slices.Clone(moved[i].Networks), func(n string) bool { return n == "ACME-COMM" })
	}
	v2 := publishCSV(t, pool, moved)
	for rec := p.await(t, "roster reloaded"); rec["roster_version"] != v2; rec = p.await(t, "roster reloaded") {
	}
	r, err := c.CheckAccess(ctx, check)
	if err != nil || r.Decisions[0].ProvidersWithin != 0 || r.Decisions[0].Served || len(r.Decisions[0].Nearest) != 0 {
		t.Fatalf("after the networks changed: %v %+v", err, r)
	}
	if _, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: check.Location, Disciplines: check.Disciplines, AsOf: check.AsOf, Plan: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown plan: %v", err)
	}
}

var (
	nycPoint = geo.Point{Lat: 40.748817, Lon: -73.985428}
	june, _  = adequacy.ParseDate("2026-06-01")
)
