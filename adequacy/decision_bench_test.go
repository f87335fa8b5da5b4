package adequacy_test

import (
	"cmp"
	"github.com/geoaccess/geoaccess/geo"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/internal/memtest"
)

// national builds a national-size synthetic roster (700,000 providers in
// every state, in proportion to Medicare beneficiaries) and members placed
// the same way, once per test binary.
var national = sync.OnceValues(func() (*adequacy.Engine, []synth.Member) { return nationalRoster(false) })

// nationalByZIP spreads providers and members evenly over ZIP codes
// instead: a much sparser network where most people live.
var nationalByZIP = sync.OnceValues(func() (*adequacy.Engine, []synth.Member) { return nationalRoster(true) })

func nationalRoster(byZIP bool) (*adequacy.Engine, []synth.Member) {
	eng, ct, err := data.NewEngine(data.Setup{})
	if err != nil {
		panic(err)
	}
	g, _ := data.EmbeddedGeography()
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
	ps, err := w.Providers(synth.Config{Seed: 700, Count: 700_000, NonParticipating: 0.1, TelehealthOnly: 0.03, Terminated: 0.02, ByZIP: byZIP})
	if err != nil {
		panic(err)
	}
	n, err := adequacy.NewNetwork(&adequacy.Roster{Version: "national-700k", Providers: ps}, nil)
	if err != nil {
		panic(err)
	}
	ms, err := w.Members(synth.Config{Seed: 701, Count: 20_000, ByZIP: byZIP})
	if err != nil {
		panic(err)
	}
	return eng.WithNetwork(n), ms
}

// BenchmarkDecide: one discipline (PT): served, the count within the
// standard and the 5 nearest, on a national roster, at members placed like
// Medicare beneficiaries. Reports the median and 99th percentile latency.
func BenchmarkDecide(b *testing.B) {
	b.Run("beneficiary-weighted", func(b *testing.B) { benchDecide(b, national) })
	b.Run("zip-weighted", func(b *testing.B) { benchDecide(b, nationalByZIP) })
}

func benchDecide(b *testing.B, roster func() (*adequacy.Engine, []synth.Member)) {
	eng, ms := roster()
	reqs := make([]adequacy.Request, len(ms))
	for i := range ms {
		reqs[i] = adequacy.Request{Member: adequacy.Member{Point: &ms[i].Point}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf, K: 5}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := eng.Decide(reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		i++
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkNetworkBuild1M indexes a 1,000,000-provider roster and reports
// the index's bytes per provider (the roster records themselves excluded).
func BenchmarkNetworkBuild1M(b *testing.B) {
	_, ct, _ := data.NewEngine(data.Setup{})
	g, _ := data.EmbeddedGeography()
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
	ps, err := w.Providers(synth.Config{Seed: 1000, Count: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	r := &adequacy.Roster{Version: "1m", Providers: ps}
	b.ResetTimer()
	for b.Loop() {
		if _, err := adequacy.NewNetwork(r, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	n, _ := adequacy.NewNetwork(r, nil)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/float64(len(ps)), "B/provider")
	runtime.KeepAlive(n)
}

// BenchmarkDecideBatch: chunks of 1,000 members (the size CheckAccessBatch
// hands over), every discipline each, on the national roster. Reports
// member-disciplines per second, and the CPU time per member-discipline.
func BenchmarkDecideBatch(b *testing.B) {
	b.Run("scattered", func(b *testing.B) { benchBatch(b, false) })
	b.Run("spatial-order", func(b *testing.B) { benchBatch(b, true) })
}

func benchBatch(b *testing.B, sorted bool) {
	eng, ms := national()
	const chunk = 1000
	pts := make([]geo.Point, len(ms))
	for i := range ms {
		pts[i] = ms[i].Point
	}
	if sorted {
		slices.SortFunc(pts, func(a, b geo.Point) int { return cmp.Compare(geo.SpatialKey(a), geo.SpatialKey(b)) })
	}
	reqs := make([]adequacy.Request, len(ms))
	for i := range pts {
		reqs[i] = adequacy.Request{Member: adequacy.Member{Point: &pts[i]}, Disciplines: adequacy.Disciplines, AsOf: asOf, K: 5}
	}
	n := 0
	b.ResetTimer()
	cpu := memtest.CPUTime()
	for b.Loop() {
		start := (n * chunk) % (len(reqs) - chunk)
		if _, errs := eng.DecideBatch(reqs[start : start+chunk]); errs[0] != nil {
			b.Fatal(errs[0])
		}
		n++
	}
	cpu = memtest.CPUTime() - cpu
	b.ReportMetric(float64(n*chunk*len(adequacy.Disciplines))/b.Elapsed().Seconds(), "member-disciplines/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*chunk*len(adequacy.Disciplines)), "cpu-ns/member-discipline")
}
