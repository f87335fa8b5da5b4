package adequacy_test

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tidwall/rtree"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/internal/memtest"
	"github.com/geoaccess/geoaccess/internal/par"
)

// gapMillion is the documented CLI run's data in process: the 100,000
// providers of "geoaccess sample roster --seed 12" (10% not
// participating) and 1,000,000 members of "geoaccess sample members
// --seed 11", by point.
var gapMillion = sync.OnceValues(func() (*adequacy.Engine, []adequacy.GapMember) {
	return gapBenchData(synth.Config{Seed: 12, Count: 100_000, NonParticipating: 0.1}, "bench-100k", 1_000_000)
})

// BenchmarkGapVsPlain compares a gap report (1,000,000 members × four
// disciplines against 100,000 providers: locating, counting, nearest
// distances, county roll-up) with the plain way to the same answer on
// the same data: a tidwall/rtree R-tree of each discipline's counting
// providers, one item per provider, a box search per member-discipline
// and a haversine test per candidate, on every processor. Run them
// alternately (-count) and compare medians: ns/op is the wall time of one
// whole report, cpu-ns/op its CPU time.
func BenchmarkGapVsPlain(b *testing.B) {
	eng, ms := gapMillion()
	served := map[string]float64{}
	run := func(name string, report func() int) {
		b.Run(name, func(b *testing.B) {
			cpu := memtest.CPUTime()
			n := 0
			for b.Loop() {
				n = report()
			}
			b.ReportMetric(float64((memtest.CPUTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(n)/float64(4*len(ms)), "served-share")
			served[name] = float64(n)
		})
	}
	run("gap", func() int {
		rep, err := eng.Gap(context.Background(), ms, adequacy.GapOptions{AsOf: asOf})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, t := range rep.Totals {
			n += t.Served
		}
		return n
	})
	run("plain-rtree-haversine", func() int { return plainGap(b, eng, ms) })
	// The same work: the two agree on who is served but for the few
	// members the sphere and the ellipsoid place on either side of a
	// limit.
	if g, p := served["gap"], served["plain-rtree-haversine"]; g > 0 && p > 0 && math.Abs(g-p) > 0.002*g {
		b.Fatalf("served: gap report %.0f, plain %.0f", g, p)
	}
}

// plainGap answers what a gap report answers — each member's county and
// standard, the counting providers within it, the nearest one's distance,
// the served count per county and discipline — the straightforward way,
// and returns how many member-disciplines are served.
func plainGap(b *testing.B, eng *adequacy.Engine, ms []adequacy.GapMember) int {
	prof, err := eng.Profiles.Get(eng.DefaultProfile)
	if err != nil {
		b.Fatal(err)
	}
	// One R-tree per discipline of the providers that count.
	var trees [4]rtree.RTreeG[int32]
	var pts [4][]struct{ lat, lon float64 }
	for _, p := range eng.Network.Roster.All() {
		d := p.Discipline
		if !prof.Counting.Counts(p, asOf) {
			continue
		}
		ll := [2]float64{p.Location.Lon, p.Location.Lat}
		trees[d].Insert(ll, ll, int32(len(pts[d])))
		pts[d] = append(pts[d], struct{ lat, lon float64 }{p.Location.Lat, p.Location.Lon})
	}
	type cell struct{ members, served int }
	type key struct {
		fips string
		d    int
	}
	rollup := make([]map[key]*cell, par.Workers(0))
	var served atomic.Int64
	par.Chunks(len(ms), 4096, 0, func(w, lo, hi int) {
		if rollup[w] == nil {
			rollup[w] = map[key]*cell{}
		}
		mine := 0
		for i := lo; i < hi; i++ {
			m := ms[i].Point
			shape, err := eng.Map.Locate(m)
			if err != nil {
				continue
			}
			county, err := eng.Counties.Lookup(shape.FIPS)
			if err != nil {
				continue
			}
			for d := range adequacy.Disciplines {
				rule, err := adequacy.RuleFor(prof, county, adequacy.Discipline(d))
				if err != nil {
					continue
				}
				r := rule.RadiusMiles
				within, nearest := 0, math.Inf(1)
				for len(pts[d]) > 0 {
					dlat := r / 68.7
					dlon := dlat / math.Max(0.01, math.Cos(m.Lat*math.Pi/180))
					trees[d].Search([2]float64{m.Lon - dlon, m.Lat - dlat}, [2]float64{m.Lon + dlon, m.Lat + dlat}, func(_, _ [2]float64, id int32) bool {
						p := pts[d][id]
						mi := haversineMiles(m.Lat, m.Lon, p.lat, p.lon)
						if mi <= rule.RadiusMiles {
							within++
						}
						nearest = math.Min(nearest, mi)
						return true
					})
					if nearest <= r || r > 12_500 {
						break // the nearest is certainly within this search
					}
					within, nearest, r = 0, math.Inf(1), 2*r
				}
				k := key{shape.FIPS, d}
				c := rollup[w][k]
				if c == nil {
					c = &cell{}
					rollup[w][k] = c
				}
				c.members++
				if within >= rule.ProvidersRequired {
					c.served++
					mine++
				}
			}
		}
		served.Add(int64(mine))
	})
	return int(served.Load())
}

func haversineMiles(lat1, lon1, lat2, lon2 float64) float64 {
	φ1, φ2 := lat1*math.Pi/180, lat2*math.Pi/180
	dφ, dλ := φ2-φ1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * 3958.8 * math.Asin(math.Sqrt(a))
}
