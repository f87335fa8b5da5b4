package serving_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// thinned is the sample roster without every other provider: a version
// whose answers differ from the sample's.
func thinned() *adequacy.Roster {
	r := *fixture.roster
	r.Providers = nil
	for i, p := range fixture.roster.Providers {
		if i%2 == 0 {
			r.Providers = append(r.Providers, p)
		}
	}
	return &r
}

// replaySetup serves "v3" from a holder whose store also has v1 and v2.
func replaySetup(t *testing.T, cfg serving.ReplayConfig) (*serving.Holder, *memSource, *serving.Replays) {
	t.Helper()
	h := serving.NewHolder(baseEngine(t), nil)
	src := &memSource{versions: map[string]*adequacy.Roster{"v1": fixture.roster, "v2": thinned(), "v3": fixture.roster}, current: "v3"}
	rl := serving.NewReloader(h, src, serving.ReloadConfig{})
	if err := rl.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	src.reads = 0
	return h, src, serving.NewReplays(h, src, cfg)
}

var replayReq = adequacy.Request{Member: adequacy.Member{Point: &geo.Point{Lat: 40.75, Lon: -73.99}}, Disciplines: adequacy.Disciplines,
	AsOf: adequacy.DateOf(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)), K: 5}

// A past version replays exactly as an engine built from that roster
// decides (the oracle); it is read once, then served from memory; the
// serving version is never read.
func TestReplaysReadOnceThenCached(t *testing.T) {
	h, src, rp := replaySetup(t, serving.ReplayConfig{})
	eng, err := rp.Engine(t.Context(), "v3", "")
	if err != nil || eng != h.Engine() || src.reads != 0 {
		t.Fatalf("serving version: engine %p (serving %p), %v, %d reads", eng, h.Engine(), err, src.reads)
	}
	for i := range 3 {
		eng, err := rp.Engine(t.Context(), "v2", "")
		if err != nil {
			t.Fatal(err)
		}
		if src.reads != 1 {
			t.Fatalf("replay %d: %d reads, want 1", i, src.reads)
		}
		got, err := eng.Decide(replayReq)
		if err != nil {
			t.Fatal(err)
		}
		want := oracle(t, "v2", thinned())
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("replay of v2 differs from an engine built from v2:\n got  %+v\n want %+v", got[0], want[0])
		}
		if got[0].RosterVersion != "v2" {
			t.Errorf("roster version %s", got[0].RosterVersion)
		}
	}
	if live, _ := h.Engine().Decide(replayReq); reflect.DeepEqual(live[0].Nearest, oracle(t, "v2", thinned())[0].Nearest) {
		t.Error("the thinned version answers as the serving one: the test proves nothing")
	}
	// A plans publish reaches cached versions too: "" is the served registry.
	plans, err := adequacy.NewPlans("pg:3", "plans.yaml", []adequacy.Plan{{ID: "p", Name: "P", ProductLine: adequacy.OtherProduct,
		Profile: "cms-ma", Networks: []string{"ACME-MA"}}}, baseEngine(t).Profiles)
	if err != nil {
		t.Fatal(err)
	}
	h.SetPlans(plans)
	if eng, err := rp.Engine(t.Context(), "v2", ""); err != nil || eng.Plans != plans || src.reads != 1 {
		t.Errorf("after a plans publish: plans %v, %v, %d reads", eng.Plans, err, src.reads)
	}
	if eng, err := rp.Engine(t.Context(), "v2", "pg:3"); err != nil || eng.Plans != plans {
		t.Errorf("naming the served plans version: %v", err)
	}
}

// oracle decides replayReq with an engine built from roster r directly.
func oracle(t *testing.T, label string, r *adequacy.Roster) []adequacy.Decision {
	t.Helper()
	rr := *r
	rr.Version = label
	n, err := baseEngine(t).NewNetwork(&rr)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := baseEngine(t).WithNetwork(n).Decide(replayReq)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// The cache holds at most Versions past versions, evicting the least
// recently used; Versions < 0 keeps none.
func TestReplaysBoundedLRU(t *testing.T) {
	_, src, rp := replaySetup(t, serving.ReplayConfig{Versions: 1})
	for _, step := range []struct {
		version string
		reads   int
		cached  []string
	}{
		{"v1", 1, []string{"v1"}},
		{"v1", 1, []string{"v1"}},
		{"v2", 2, []string{"v2"}}, // v1 evicted
		{"v1", 3, []string{"v1"}},
		{"v3", 3, []string{"v1"}}, // the serving version: never cached
	} {
		if _, err := rp.Engine(t.Context(), step.version, ""); err != nil {
			t.Fatal(err)
		}
		if src.reads != step.reads || !reflect.DeepEqual(rp.Cached(), step.cached) {
			t.Fatalf("after %s: %d reads, cached %v; want %d, %v", step.version, src.reads, rp.Cached(), step.reads, step.cached)
		}
	}
	_, src, rp = replaySetup(t, serving.ReplayConfig{Versions: -1})
	for range 2 {
		if _, err := rp.Engine(t.Context(), "v1", ""); err != nil {
			t.Fatal(err)
		}
	}
	if src.reads != 2 || len(rp.Cached()) != 0 {
		t.Errorf("no cache: %d reads, cached %v", src.reads, rp.Cached())
	}
}

// Replays waiting for the same version share one read.
func TestReplaysConcurrentShareRead(t *testing.T) {
	_, src, rp := replaySetup(t, serving.ReplayConfig{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := rp.Engine(context.Background(), "v1", ""); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if src.reads != 1 {
		t.Errorf("%d reads for 8 concurrent replays of one version", src.reads)
	}
}

// An unknown version, a version gone from the store since it was cached
// (after Recheck), and any past version without a store are refused,
// naming it.
func TestReplaysRefused(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, src, rp := replaySetup(t, serving.ReplayConfig{Recheck: time.Minute, Now: clock})
	_, err := rp.Engine(t.Context(), "v9", "")
	if re, ok := errors.AsType[*serving.ReplayError](err); !ok || re.What != "roster" || re.Version != "v9" || !errors.Is(err, adequacy.ErrUnknownVersion) {
		t.Errorf("unknown version: %v", err)
	}
	if _, err := rp.Engine(t.Context(), "v1", ""); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	delete(src.versions, "v1") // retired: the store no longer serves it
	src.mu.Unlock()
	if _, err := rp.Engine(t.Context(), "v1", ""); err != nil {
		t.Errorf("within Recheck the cached version answers: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := rp.Engine(t.Context(), "v1", ""); !errors.Is(err, adequacy.ErrUnknownVersion) || len(rp.Cached()) != 0 {
		t.Errorf("after Recheck: %v, cached %v", err, rp.Cached())
	}

	h := serving.NewHolder(baseEngine(t), nil)
	if _, err := rp.Engine(t.Context(), "", ""); err != nil {
		t.Errorf("serving: %v", err)
	}
	none := serving.NewReplays(h, nil, serving.ReplayConfig{})
	if _, err := none.Engine(t.Context(), "", ""); !errors.Is(err, adequacy.ErrNoRoster) {
		t.Errorf("nothing serving: %v", err)
	}
	if err := h.Load(t.Context(), "file", func(context.Context) (*adequacy.Roster, error) { return fixture.roster, nil }); err != nil {
		t.Fatal(err)
	}
	if eng, err := none.Engine(t.Context(), fixture.roster.Version, ""); err != nil || eng != h.Engine() {
		t.Errorf("serving version without a store: %v", err)
	}
	if _, err := none.Engine(t.Context(), "v1", ""); !errors.Is(err, serving.ErrNoVersionStore) {
		t.Errorf("past version without a store: %v", err)
	}
	if _, err := none.Engine(t.Context(), "", "pg:7"); !errors.Is(err, serving.ErrNoVersionStore) {
		t.Errorf("past plans without a store: %v", err)
	} else if re, _ := errors.AsType[*serving.ReplayError](err); re.What != "plans" {
		t.Errorf("plans error names %q", re.What)
	}
}
