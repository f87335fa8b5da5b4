package pgsource_test

import (
	"bufio"
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/internal/memtest"
	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/serving"
	"github.com/geoaccess/geoaccess/internal/serving/pgsource"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

const replayProviders = 100_000

// BenchmarkReplay100k: replays of a past 100,000-provider version in a
// real server, beside live calls, in one run.
//
//   - first-read: the first replay of the version — Replays.Engine with an
//     empty cache: version lookup, pg.ReadRoster and NewNetwork (read and
//     index); reports the live heap the indexed version holds
//     (MB-per-100k: what one --replay-cache entry costs).
//   - first-replay-grpc: the same, end to end: CheckAccess naming the
//     version on a server that keeps none (--replay-cache 0).
//   - live-grpc and cached-grpc: CheckAccess over loopback gRPC for a
//     member and every discipline, on the serving version and on the past
//     version from the cache, alternating call by call.
func BenchmarkReplay100k(b *testing.B) {
	if testing.Short() {
		b.Skip("100k-row benchmark")
	}
	pool := migratedPool(b)
	g, err := data.EmbeddedGeography()
	if err != nil {
		b.Fatal(err)
	}
	ct, err := data.EmbeddedCounties()
	if err != nil {
		b.Fatal(err)
	}
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
	var labels []string
	for _, seed := range []uint64{1601, 1602} {
		ps, err := w.Providers(synth.Config{Seed: seed, Count: replayProviders, NonParticipating: 0.12, TelehealthOnly: 0.03, NotAccepting: 0.08, Terminated: 0.02})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		if err := data.WriteRoster(bw, ps); err != nil {
			b.Fatal(err)
		}
		bw.Flush()
		res, err := pg.Load(context.Background(), pool, &buf, pg.LoadOptions{Source: "bench.csv", MaxShrink: adequacy.NoShrinkLimit})
		if err != nil {
			b.Fatal(err)
		}
		labels = append(labels, res.Version.Label)
	}
	past := labels[0] // the second is current and serves
	srv, addr := startServer(b, server.Config{})
	src := &pgsource.Source{Pool: pool}
	rl := attach(b, srv, src, serving.ReloadConfig{})
	if err := rl.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	rp := serving.NewReplays(srv.Roster(), src, serving.ReplayConfig{})
	if err := srv.SetReplays(rp); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	b.Run("first-read", func(b *testing.B) {
		var heap float64
		for b.Loop() {
			b.StopTimer()
			fresh := serving.NewReplays(srv.Roster(), src, serving.ReplayConfig{})
			memtest.Settle()
			before := memtest.HeapLive()
			b.StartTimer()
			eng, err := fresh.Engine(ctx, past, "")
			b.StopTimer()
			if err != nil || eng.Network.Version() != past {
				b.Fatalf("replay %s: %v", past, err)
			}
			memtest.Settle()
			heap += float64(memtest.HeapLive()-before) / (1 << 20)
			runtime.KeepAlive(fresh)
			b.StartTimer()
		}
		b.ReportMetric(heap/float64(b.N), "MB-per-100k")
	})

	// A server that keeps no past version: every replay reads its version,
	// end to end over gRPC.
	cold, coldAddr := startServer(b, server.Config{})
	crl := attach(b, cold, src, serving.ReloadConfig{})
	if err := crl.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := cold.SetReplays(serving.NewReplays(cold.Roster(), src, serving.ReplayConfig{Versions: -1})); err != nil {
		b.Fatal(err)
	}
	b.Run("first-replay-grpc", func(b *testing.B) {
		cc := client(b, coldAddr)
		r := &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 40.75, Longitude: -73.99}, Disciplines: allDisciplines(), AsOf: testAsOf, K: 5, RosterVersion: past}
		for b.Loop() {
			if res, err := cc.CheckAccess(ctx, r); err != nil || res.RosterVersion != past {
				b.Fatalf("replay: %v", err)
			}
		}
	})

	c := client(b, addr)
	tok := ctx
	req := &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 40.75, Longitude: -73.99}, Disciplines: allDisciplines(), AsOf: testAsOf, K: 5}
	replay := &pb.CheckAccessRequest{Location: req.Location, Disciplines: req.Disciplines, AsOf: testAsOf, K: 5, RosterVersion: past}
	if r, err := c.CheckAccess(tok, replay); err != nil || r.RosterVersion != past { // into the cache
		b.Fatalf("replay: %v", err)
	}
	var live, cached time.Duration
	b.Run("live-vs-cached-grpc", func(b *testing.B) {
		n := 0
		timed := func(r *pb.CheckAccessRequest, into *time.Duration) {
			t0 := time.Now()
			res, err := c.CheckAccess(tok, r)
			*into += time.Since(t0)
			if err != nil || (r.RosterVersion != "" && res.RosterVersion != past) {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			// Alternate which goes first: the second of a pair finds the
			// connection and caches warm.
			if n%2 == 0 {
				timed(req, &live)
				timed(replay, &cached)
			} else {
				timed(replay, &cached)
				timed(req, &live)
			}
			n++
		}
		b.ReportMetric(float64(live.Microseconds())/float64(n), "live-µs/call")
		b.ReportMetric(float64(cached.Microseconds())/float64(n), "cached-replay-µs/call")
		b.ReportMetric(float64(cached)/float64(live), "cached/live")
		live, cached = 0, 0
	})
}
