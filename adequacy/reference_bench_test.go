package adequacy_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tidwall/rtree"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/geo"
)

// BenchmarkReferenceRTreeCount is the straightforward approach, for
// comparison on the same data: one R-tree item per provider, a box search,
// a haversine test per candidate, the count alone (no nearest, no county).
func BenchmarkReferenceRTreeCount(b *testing.B) {
	b.Run("beneficiary-weighted", func(b *testing.B) { benchPlain(b, national) })
	b.Run("zip-weighted", func(b *testing.B) { benchPlain(b, nationalByZIP) })
}

func benchPlain(b *testing.B, roster func() (*adequacy.Engine, []synth.Member)) {
	eng, ms := roster()
	var tr rtree.RTreeG[int32]
	var pts []geo.Point
	for _, p := range eng.Network.Roster.Providers {
		if p.Discipline == adequacy.PT && p.Participating {
			tr.Insert([2]float64{p.Location.Lon, p.Location.Lat}, [2]float64{p.Location.Lon, p.Location.Lat}, int32(len(pts)))
			pts = append(pts, p.Location)
		}
	}
	radius := make([]float64, len(ms))
	for i := range ms {
		ds, _ := eng.Decide(adequacy.Request{Member: adequacy.Member{Point: &ms[i].Point}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf})
		radius[i] = ds[0].Rule.RadiusMiles
	}
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		m := ms[i%len(ms)].Point
		r := radius[i%len(ms)]
		t0 := time.Now()
		dlat := r / 68.7
		dlon := dlat / math.Cos(m.Lat*math.Pi/180)
		n := 0
		tr.Search([2]float64{m.Lon - dlon, m.Lat - dlat}, [2]float64{m.Lon + dlon, m.Lat + dlat}, func(_, _ [2]float64, id int32) bool {
			p := pts[id]
			φ1, φ2 := m.Lat*math.Pi/180, p.Lat*math.Pi/180
			dφ, dλ := φ2-φ1, (p.Lon-m.Lon)*math.Pi/180
			a := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
			if 2*3958.8*math.Asin(math.Sqrt(a)) <= r {
				n++
			}
			return true
		})
		lat = append(lat, time.Since(t0))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
}

// BenchmarkSearchParts times the index's count and nearest searches alone
// and together, with how many points each examines.
func BenchmarkSearchParts(b *testing.B) {
	eng, ms := national()
	ix := adequacy.IndexOf(eng.Network, adequacy.PT)
	radius := make([]float64, len(ms))
	for i := range ms {
		ds, _ := eng.Decide(adequacy.Request{Member: adequacy.Member{Point: &ms[i].Point}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf})
		radius[i] = ds[0].Rule.RadiusMiles
	}
	var res geo.Result
	for _, mode := range []string{"count", "knn", "both"} {
		b.Run(mode, func(b *testing.B) {
			i := 0
			var ex, est, ref, within int
			for b.Loop() {
				q := geo.Query{Center: ms[i%len(ms)].Point, Radius: radius[i%len(ms)], K: 5}
				if mode == "count" {
					q.K = 0
				} else if mode == "knn" {
					q.Radius = 0
				}
				ix.Search(q, &res)
				ex += res.Examined
				est += res.Estimated
				ref += res.Refined
				within += res.Within
				i++
			}
			b.ReportMetric(float64(ex)/float64(i), "examined/op")
			b.ReportMetric(float64(est)/float64(i), "estimated/op")
			b.ReportMetric(float64(ref)/float64(i), "refined/op")
			b.ReportMetric(float64(within)/float64(i), "within/op")
		})
	}
}
