package geo

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// syntheticPoints scatters n points around real ZIP points (testdata), a
// crude stand-in for where providers practise.
func syntheticPoints(tb testing.TB, n int, seed uint64) []Point {
	zips := loadZIPPoints(tb)
	r := rand.New(rand.NewPCG(seed, 99))
	pts := make([]Point, n)
	for i := range pts {
		z := zips[r.IntN(len(zips))]
		pts[i] = Point{clamp(z.Lat+r.NormFloat64()*0.05, -90, 90), normalizeLon(z.Lon + r.NormFloat64()*0.05)}
	}
	return pts
}

func BenchmarkIndexBuild1M(b *testing.B) {
	pts := syntheticPoints(b, 1_000_000, 1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := NewIndex(pts, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix, _ := NewIndex(pts, nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(ix.Len()), "B/point")
	runtime.KeepAlive(ix)
}

// One discipline of a national roster (700,000 providers over four
// disciplines): count within 30 miles and the 5 nearest, at member
// locations near real ZIP points.
func BenchmarkIndexSearch(b *testing.B) {
	pts := syntheticPoints(b, 175_000, 2)
	ix, err := NewIndex(pts, nil)
	if err != nil {
		b.Fatal(err)
	}
	members := syntheticPoints(b, 4096, 3)
	var res Result
	b.ResetTimer()
	i := 0
	for b.Loop() {
		ix.Search(Query{Center: members[i%len(members)], Radius: 30, K: 5}, &res)
		i++
	}
}

func BenchmarkIndexSearchStats(b *testing.B) {
	pts := syntheticPoints(b, 175_000, 2)
	ix, _ := NewIndex(pts, nil)
	members := syntheticPoints(b, 4096, 3)
	var res Result
	var within, refined, near int
	for i, m := range members {
		ix.Search(Query{Center: m, Radius: 30, K: 5}, &res)
		within += res.Within
		refined += res.Refined
		near += len(res.near)
		_ = i
	}
	n := float64(len(members))
	b.ReportMetric(float64(within)/n, "within/op")
	b.ReportMetric(float64(refined)/n, "refined/op")
	b.ReportMetric(float64(near)/n, "buckets/op")
}
