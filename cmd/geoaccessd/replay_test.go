package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/pgtest"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// TestDaemonReplay: geoaccessd --db answers an auditor's replay of a plan
// decision against the roster and plans versions it rested on, after both
// changed, byte for byte; refuses a reader; keeps the version in its
// replay cache (--replay-cache).
func TestDaemonReplay(t *testing.T) {
	db := pgtest.URL(t)
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
	v1 := publishCSV(t, pool, sample.Providers)
	publishPlans("ACME-MA")
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte(readerToken+" reader dash\nauditor-token-0123456789ab auditor appeals\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--db", db, "--auth-tokens", tokens, "--replay-cache", "1", "--reload-backoff-min", "100ms")
	_, c := p.client(t)
	auditor, reader := as(ctx, "auditor-token-0123456789ab"), as(ctx, readerToken)
	check := &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: nycPoint.Lat, Longitude: nycPoint.Lon}, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT},
		AsOf: june.String(), Plan: "acme-ma", K: 5}
	orig, err := c.CheckAccess(reader, check)
	if err != nil || orig.RosterVersion != v1 || orig.PlansVersion != "pg:1" {
		t.Fatalf("original: %v %v", orig, err)
	}

	// Both change: the plan counts another network; half the providers go.
	publishPlans("ACME-COMM")
	for rec := p.await(t, "plans loaded"); rec["plans_version"] != "pg:2"; rec = p.await(t, "plans loaded") {
	}
	v2 := publishCSV(t, pool, slices.Clone(sample.Providers[:len(sample.Providers)*9/10]))
	for rec := p.await(t, "roster reloaded"); rec["roster_version"] != v2; rec = p.await(t, "roster reloaded") {
	}
	live, err := c.CheckAccess(reader, check)
	if err != nil || live.RosterVersion != v2 || live.PlansVersion != "pg:2" || slices.Equal(live.Networks, orig.Networks) {
		t.Fatalf("live: %v %v", live, err)
	}

	replay := proto.Clone(check).(*pb.CheckAccessRequest)
	replay.RosterVersion, replay.PlansVersion = orig.RosterVersion, orig.PlansVersion
	for range 2 {
		got, err := c.CheckAccess(auditor, replay)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := proto.MarshalOptions{Deterministic: true}.Marshal(orig)
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(got)
		if !bytes.Equal(a, b) {
			t.Fatalf("replay differs:\n got  %v\n want %v", got, orig)
		}
	}
	if _, err := c.CheckAccess(reader, replay); status.Code(err) != codes.PermissionDenied {
		t.Errorf("reader replay: %v", err)
	}
	m := metricsText(t, p)
	if !strings.Contains(m, "geoaccess_replay_cached_versions 1") || !strings.Contains(m, `geoaccess_replay_lookups_total{result="cached"} 1`) {
		t.Errorf("replay metrics:\n%s", m)
	}
	if log := p.logText(); !strings.Contains(log, `"replay":true`) || !strings.Contains(log, `"caller":"appeals"`) {
		t.Errorf("no replay in the log")
	}
}
