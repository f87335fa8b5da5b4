package adequacy_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/internal/memtest"
)

// gapBenchData is a gap benchmark's data: a synthetic national roster
// (read compactly, as the CLI and servers read rosters) and members placed
// like Medicare beneficiaries (seed 11), by point only, so that every
// member is located in a county polygon.
func gapBenchData(providers synth.Config, version string, members int) (*adequacy.Engine, []adequacy.GapMember) {
	eng, ct, err := data.NewEngine(data.Setup{})
	if err != nil {
		panic(err)
	}
	g, _ := data.EmbeddedGeography()
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs, Vocabulary: eng.Vocabulary}
	ps, err := w.Providers(providers)
	if err != nil {
		panic(err)
	}
	r, err := (&adequacy.Roster{Version: version, Providers: ps}).Compact()
	if err != nil {
		panic(err)
	}
	n, err := eng.NewNetwork(r)
	if err != nil {
		panic(err)
	}
	ms, err := w.Members(synth.Config{Seed: 11, Count: members})
	if err != nil {
		panic(err)
	}
	out := make([]adequacy.GapMember, len(ms))
	for i, m := range ms {
		out[i] = adequacy.GapMember{ID: m.ID, Line: i + 2, Point: m.Point, HasPoint: true}
	}
	return eng.WithNetwork(n), out
}

// gapFixture is the gap report's benchmark data, made once per test
// binary: the documented CLI run's roster (100,000 providers, 10% not
// participating) and 200,000 members.
var gapFixture = sync.OnceValues(func() (*adequacy.Engine, []adequacy.GapMember) {
	return gapBenchData(synth.Config{Seed: 12, Count: 100_000, NonParticipating: 0.1}, "bench-100k", 200_000)
})

// BenchmarkGap: a gap report over 200,000 members × the profile's four
// disciplines against 100,000 providers (locating, cell probes, county
// roll-up), without and with Detail. Reports nanoseconds per
// member-discipline, and the CPU time (both cores) per member-discipline,
// which a shared machine disturbs far less.
func BenchmarkGap(b *testing.B) {
	for _, detail := range []bool{false, true} {
		name := "summary"
		if detail {
			name = "detail"
		}
		b.Run(name, func(b *testing.B) {
			eng, ms := gapFixture()
			b.ResetTimer()
			n := 0
			cpu := memtest.CPUTime()
			for b.Loop() {
				rep, err := eng.Gap(context.Background(), ms, adequacy.GapOptions{AsOf: asOf, Detail: detail})
				if err != nil {
					b.Fatal(err)
				}
				n += rep.Members * len(rep.Disciplines)
			}
			cpu = memtest.CPUTime() - cpu
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/member-discipline")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/member-discipline")
		})
	}
}

// gapServicesFixture is the services benchmark's data: the gap report's
// 100,000-provider roster with specialty designations (6% of providers)
// and declared services (4%) from the embedded vocabulary, and 1,000,000
// members.
var gapServicesFixture = sync.OnceValues(func() (*adequacy.Engine, []adequacy.GapMember) {
	return gapBenchData(synth.Config{Seed: 12, Count: 100_000, NonParticipating: 0.1, Designations: 0.06, Declared: 0.04},
		"bench-100k-designations", 1_000_000)
})

// BenchmarkGapServices: a gap report over 1,000,000 members × the four
// disciplines against 100,000 providers with designations, without
// services and with two (lymphedema therapy: PT and OT; orthopedic: PT
// and DC — four more layers), side by side: each iteration runs both, one
// after the other, each charged its own CPU time and a full collection of
// its garbage. Reports CPU time per member of each and their ratio (the
// wall clock of a shared machine says little; ns/op is both reports).
func BenchmarkGapServices(b *testing.B) {
	eng, ms := gapServicesFixture()
	run := func(services []string) time.Duration {
		start := memtest.CPUTime()
		rep, err := eng.Gap(context.Background(), ms, adequacy.GapOptions{AsOf: asOf, Services: services})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Subjects) != 4+len(services) {
			b.Fatalf("subjects %v", rep.Subjects)
		}
		runtime.GC()
		return memtest.CPUTime() - start
	}
	runtime.GC()
	b.ResetTimer()
	var none, two time.Duration
	n := 0
	for b.Loop() {
		none += run(nil)
		two += run([]string{"lymphedema", "orthopedic"})
		n += len(ms)
	}
	b.ReportMetric(float64(none.Nanoseconds())/float64(n), "none-cpu-ns/member")
	b.ReportMetric(float64(two.Nanoseconds())/float64(n), "two-cpu-ns/member")
	b.ReportMetric(float64(two)/float64(none), "two/none")
}
