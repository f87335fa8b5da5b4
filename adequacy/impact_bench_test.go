package adequacy_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/internal/memtest"
)

// impactFixture is the gap report's benchmark data (gapFixture: 100,000
// providers, 200,000 members), or, with GEOACCESS_BENCH_MEMBERS set, that
// many members against the same roster (the figure is
// 1,000,000).
var impactFixture = sync.OnceValues(func() (*adequacy.Engine, []adequacy.GapMember) {
	n, _ := strconv.Atoi(os.Getenv("GEOACCESS_BENCH_MEMBERS"))
	eng, ms := gapFixture()
	if n <= 0 || n == len(ms) {
		return eng, ms
	}
	_, ct, err := data.NewEngine(data.Setup{})
	if err != nil {
		panic(err)
	}
	g, _ := data.EmbeddedGeography()
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
	sm, err := w.Members(synth.Config{Seed: 11, Count: n})
	if err != nil {
		panic(err)
	}
	out := make([]adequacy.GapMember, len(sm))
	for i, m := range sm {
		out[i] = adequacy.GapMember{ID: m.ID, Line: i + 2, Point: m.Point, HasPoint: true}
	}
	return eng, out
})

// BenchmarkGapVsCriticality measures, side by side on the same data, the
// gap report (without detail) and the criticality of every provider: one
// pass over the members (a Baseline with tallies) and the ranking. Run
// with -count to interleave them. Nanoseconds and CPU nanoseconds (both
// cores) per member-discipline.
func BenchmarkGapVsCriticality(b *testing.B) {
	eng, ms := impactFixture()
	for _, kind := range []string{"gap", "criticality", "baseline"} {
		b.Run(kind, func(b *testing.B) {
			n := 0
			cpu := memtest.CPUTime()
			for b.Loop() {
				switch kind {
				case "gap":
					rep, err := eng.Gap(context.Background(), ms, adequacy.GapOptions{AsOf: asOf})
					if err != nil {
						b.Fatal(err)
					}
					n += rep.Members * len(rep.Disciplines)
				default:
					bl, err := eng.NewBaseline(context.Background(), ms, adequacy.ImpactOptions{AsOf: asOf, Criticality: kind == "criticality"})
					if err != nil {
						b.Fatal(err)
					}
					if kind == "criticality" {
						if _, err := bl.Criticality(); err != nil {
							b.Fatal(err)
						}
					}
					n += bl.Members * len(bl.Disciplines)
				}
			}
			cpu = memtest.CPUTime() - cpu
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/member-discipline")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/member-discipline")
		})
	}
}

// BenchmarkImpactRemoveOne: the impact of one participating provider
// leaving, on a baseline evaluated (and its member indexes built: IndexMembers) before
// the clock starts: only the members within reach of it are looked at.
// A different provider each time.
func BenchmarkImpactRemoveOne(b *testing.B) {
	eng, ms := impactFixture()
	bl, err := eng.NewBaseline(context.Background(), ms, adequacy.ImpactOptions{AsOf: asOf})
	if err != nil {
		b.Fatal(err)
	}
	roster := eng.Network.Roster
	r := rand.New(rand.NewPCG(61, 62))
	bl.IndexMembers()
	affected := 0
	b.ResetTimer()
	for b.Loop() {
		im, err := bl.Impact(context.Background(), adequacy.Change{Remove: pickRows(r, roster, 1, func(p *adequacy.Provider) bool { return p.Participating })})
		if err != nil {
			b.Fatal(err)
		}
		affected += im.AffectedMembers
	}
	b.ReportMetric(float64(affected)/float64(b.N), "members-looked-at/op")
}

// BenchmarkImpactBaseline: making an impact baseline, without and with the
// member indexes a change searches.
func BenchmarkImpactBaseline(b *testing.B) {
	eng, ms := impactFixture()
	for _, indexes := range []bool{false, true} {
		name := "evaluate"
		if indexes {
			name = "evaluate+member-indexes"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				bl, err := eng.NewBaseline(context.Background(), ms, adequacy.ImpactOptions{AsOf: asOf})
				if err != nil {
					b.Fatal(err)
				}
				if indexes {
					bl.IndexMembers()
				}
			}
		})
	}
}
