package adequacy_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
)

// benchNetworks are 64 network ids: a broad core network most providers
// join and 63 narrow ones.
var benchNetworks = func() []string {
	ids := []string{"CORE"}
	for i := 1; i < 64; i++ {
		ids = append(ids, fmt.Sprintf("N%02d", i))
	}
	return ids
}()

// scopedNational is the national roster of the decision benchmarks with
// what services and plans filter on: designations and declared services
// from the embedded vocabulary (6% and 4% of providers), and networks from
// 64 ids — the core one for 80% of providers, and one to three of the 63
// narrow ones for every provider.
var scopedNational = sync.OnceValues(func() (*adequacy.Engine, []synth.Member) {
	eng, ct, err := data.NewEngine(data.Setup{})
	if err != nil {
		panic(err)
	}
	g, _ := data.EmbeddedGeography()
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs, Vocabulary: eng.Vocabulary}
	ps, err := w.Providers(synth.Config{Seed: 700, Count: 700_000, NonParticipating: 0.1, TelehealthOnly: 0.03, Terminated: 0.02,
		Designations: 0.06, Declared: 0.04})
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(702, 703))
	for i := range ps {
		var ns []string
		if r.Float64() < 0.8 {
			ns = append(ns, benchNetworks[0])
		}
		for range 1 + r.IntN(3) {
			ns = append(ns, benchNetworks[1+r.IntN(63)])
		}
		slices.Sort(ns)
		ps[i].Networks = slices.Compact(ns)
	}
	n, err := eng.NewNetwork(&adequacy.Roster{Version: "national-700k-scoped", Providers: ps})
	if err != nil {
		panic(err)
	}
	ms, err := w.Members(synth.Config{Seed: 701, Count: 20_000})
	if err != nil {
		panic(err)
	}
	eng.Plans, err = adequacy.NewPlans("bench", "bench", []adequacy.Plan{
		{ID: "broad", Name: "broad", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"CORE", "N07"}},
		{ID: "narrow", Name: "narrow", ProductLine: adequacy.Commercial, Profile: "cms-ma", Networks: []string{"N07", "N19"}},
	}, eng.Profiles)
	if err != nil {
		panic(err)
	}
	return eng.WithNetwork(n), ms
})

// BenchmarkDecideScoped compares, on one roster and in one run, a PT
// decision (the baseline) with decisions for a service (common and rare)
// and for a plan (broad and narrow networks). Each reports its median and
// 99th percentile; benchstat or the ratios of p50-ns give the cost of the
// filter.
func BenchmarkDecideScoped(b *testing.B) {
	cases := []struct {
		name, service, plan string
		discs               []adequacy.Discipline
	}{
		{"discipline", "", "", []adequacy.Discipline{adequacy.PT}},
		{"service-orthopedic", "orthopedic", "", []adequacy.Discipline{adequacy.PT}},
		{"service-lymphedema", "lymphedema", "", []adequacy.Discipline{adequacy.PT}},
		{"service-lymphedema-across", "lymphedema", "", nil},
		{"plan-broad", "", "broad", []adequacy.Discipline{adequacy.PT}},
		{"plan-narrow", "", "narrow", []adequacy.Discipline{adequacy.PT}},
		{"plan-and-service", "orthopedic", "broad", []adequacy.Discipline{adequacy.PT}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			eng, ms := scopedNational()
			reqs := make([]adequacy.Request, len(ms))
			for i := range ms {
				reqs[i] = adequacy.Request{Member: adequacy.Member{Point: &ms[i].Point}, Disciplines: c.discs, AsOf: asOf, K: 5,
					Service: c.service, Plan: c.plan}
			}
			lat := make([]time.Duration, 0, b.N)
			i := 0
			for b.Loop() {
				t0 := time.Now()
				if _, err := eng.Decide(reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				i++
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// BenchmarkNetworkSetsMemory reports the index's bytes per provider with
// and without the sets (services and networks) on the same 1M roster.
func BenchmarkNetworkSetsMemory(b *testing.B) {
	eng, ct, _ := data.NewEngine(data.Setup{})
	g, _ := data.EmbeddedGeography()
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs, Vocabulary: eng.Vocabulary}
	ps, err := w.Providers(synth.Config{Seed: 1000, Count: 1_000_000, Designations: 0.06, Declared: 0.04, Networks: benchNetworks[:8]})
	if err != nil {
		b.Fatal(err)
	}
	bare := make([]adequacy.Provider, len(ps))
	for i, p := range ps {
		p.Designations, p.Services, p.Networks = nil, nil, nil
		bare[i] = p
	}
	measure := func(ps []adequacy.Provider, v *adequacy.Vocabulary) float64 {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		n, err := adequacy.NewNetwork(&adequacy.Roster{Version: "1m", Providers: ps}, v)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(n)
		return float64(m1.HeapAlloc-m0.HeapAlloc) / float64(len(ps))
	}
	// One measurement whatever -benchtime says: each builds a 1M network.
	without, with := measure(bare, nil), measure(ps, eng.Vocabulary)
	for b.Loop() {
	}
	b.ReportMetric(without, "B/provider-plain")
	b.ReportMetric(with, "B/provider-sets")
	b.ReportMetric(with-without, "B/provider-added")
}
