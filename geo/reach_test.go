package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ReachCell counts as Search does, lists exactly the points a brute-force
// scan finds within a probe's radius when there are at most Required of
// them, counts for every point the probes reaching it, and reports the
// same covered pairs as ProbeCell.
func TestReachCellOracle(t *testing.T) {
	pts := loadZIPPoints(t)
	r := rand.New(rand.NewPCG(31, 32))
	tags := make([]Tag, len(pts))
	for i := range tags {
		tags[i] = Tag{Flags: uint8(r.IntN(2)), From: 0, To: int32(50 + r.IntN(100))}
		tags[i].Sets[1] = 1 << r.IntN(3)
	}
	ix, err := NewIndex(pts, tags)
	if err != nil {
		t.Fatal(err)
	}
	filters := []Filter{{}, {Mask: 1, Want: 1}, {Mask: 1, Want: 1, Timed: true, At: 80}, Filter{}.Require(1, 0b101)}
	var rs ReachScratch
	listed, tallied := 0, 0
	for cell := 0; cell < 80; cell++ {
		base := pts[r.IntN(len(pts))]
		if cell < len(edgePlaces) {
			base = edgePlaces[cell].p
		}
		spread := []float64{0.01, 0.1, 0.5, 3}[cell%4]
		probes := make([]Probe, 1+r.IntN(60))
		for i := range probes {
			probes[i] = Probe{
				Center:   Point{clamp(base.Lat+r.NormFloat64()*spread, -90, 90), normalizeLon(base.Lon + r.NormFloat64()*spread)},
				Radius:   []float64{0, 2, 10, 15, 30, 60, 110}[r.IntN(7)],
				Group:    int32(r.IntN(3)),
				Required: []int{0, 1, 2, 3, 1000}[r.IntN(5)],
			}
		}
		f := filters[cell%len(filters)]
		out := make([]ReachResult, len(probes))
		counts := make([]int32, len(pts))
		tally := counts
		if cell%5 == 4 {
			tally = nil // counts stay zero
		}
		got := map[[2]int32]bool{}
		ix.ReachCell(probes, f, out, tally, func(g, id int32) {
			k := [2]int32{g, id}
			if got[k] {
				t.Errorf("cell %d: (%d, %d) reported twice", cell, g, id)
			}
			got[k] = true
		}, &rs)
		want := map[[2]int32]bool{}
		wantCounts := make([]int32, len(pts))
		for i, p := range probes {
			var in []int32
			for id, q := range pts {
				if p.Radius > 0 && f.pass(tags[id]) && Distance(p.Center, q) <= p.Radius {
					in = append(in, int32(id))
					want[[2]int32{p.Group, int32(id)}] = true
					if tally != nil {
						wantCounts[id]++
					}
				}
			}
			var res Result
			ix.Search(Query{Center: p.Center, Radius: p.Radius, Filter: f}, &res)
			if out[i].Within != len(in) || res.Within != len(in) {
				t.Errorf("cell %d probe %d: within %d, Search %d, brute force %d", cell, i, out[i].Within, res.Within, len(in))
			}
			switch {
			case len(in) <= p.Required:
				listed++
				if out[i].InReach == nil || !slices.Equal(out[i].InReach, in) {
					t.Errorf("cell %d probe %d: in reach %v, brute force %v", cell, i, out[i].InReach, in)
				}
			case out[i].InReach != nil:
				t.Errorf("cell %d probe %d: %d within, %d required, but listed %v", cell, i, len(in), p.Required, out[i].InReach)
			}
		}
		if !slices.Equal(counts, wantCounts) {
			for id := range counts {
				if counts[id] != wantCounts[id] {
					t.Errorf("cell %d: point %d reached by %d probes, brute force %d", cell, id, counts[id], wantCounts[id])
					break
				}
			}
		}
		for _, c := range wantCounts {
			if c > 0 {
				tallied++
			}
		}
		if len(got) != len(want) {
			t.Errorf("cell %d: %d covered pairs, brute force %d", cell, len(got), len(want))
		}
		for k := range want {
			if !got[k] {
				t.Errorf("cell %d: missing covered %v", cell, k)
				break
			}
		}
	}
	if listed < 150 || tallied < 1000 {
		t.Errorf("the test exercised too little: %d lists, %d points reached", listed, tallied)
	}
}

// A cell of more than MaxCellGroups groups is answered in passes, with the
// same answers and each covered pair once.
func TestReachCellManyGroups(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, _ := NewIndex(pts, nil)
	r := rand.New(rand.NewPCG(33, 34))
	base := Point{40.75, -73.99}
	probes := make([]Probe, 300)
	for i := range probes {
		probes[i] = Probe{Center: Point{base.Lat + r.NormFloat64()*0.2, base.Lon + r.NormFloat64()*0.2}, Radius: 5, Group: int32(i % 150), Required: 2}
	}
	var rs ReachScratch
	out := make([]ReachResult, len(probes))
	counts := make([]int32, len(pts))
	pairs := map[[2]int32]int{}
	ix.ReachCell(probes, Filter{}, out, counts, func(g, id int32) { pairs[[2]int32{g, id}]++ }, &rs)
	var total int32
	for i, p := range probes {
		n := 0
		for id, q := range pts {
			if Distance(p.Center, q) <= p.Radius {
				n++
				if pairs[[2]int32{p.Group, int32(id)}] != 1 {
					t.Fatalf("probe %d: pair (%d, %d) reported %d times", i, p.Group, id, pairs[[2]int32{p.Group, int32(id)}])
				}
			}
		}
		if out[i].Within != n {
			t.Errorf("probe %d: within %d, brute force %d", i, out[i].Within, n)
		}
		total += int32(n)
	}
	var sum int32
	for _, c := range counts {
		sum += c
	}
	if sum != total {
		t.Errorf("counts add up to %d, probes reach %d points in all", sum, total)
	}
}

// EachWithin lists exactly the points a brute-force scan finds, once each.
func TestEachWithin(t *testing.T) {
	pts := loadZIPPoints(t)
	r := rand.New(rand.NewPCG(35, 36))
	tags := make([]Tag, len(pts))
	for i := range tags {
		tags[i] = Tag{Flags: uint8(r.IntN(2)), From: math32Min, To: math32Max}
		tags[i].Sets[0] = 1 << r.IntN(4)
	}
	ix, _ := NewIndex(pts, tags)
	filters := []Filter{{}, {Mask: 1, Want: 1}, Filter{}.Require(0, 0b0110)}
	for q := 0; q < 150; q++ {
		c := pts[r.IntN(len(pts))]
		if q < len(edgePlaces) {
			c = edgePlaces[q].p
		}
		c = Point{clamp(c.Lat+r.NormFloat64()*0.05, -90, 90), normalizeLon(c.Lon + r.NormFloat64()*0.05)}
		miles := []float64{0, 0.5, 5, 20, 60, 150}[q%6]
		f := filters[q%len(filters)]
		var got []int32
		ix.EachWithin(c, miles, f, func(id int32) { got = append(got, id) })
		slices.Sort(got)
		var want []int32
		for id, p := range pts {
			if miles > 0 && f.pass(tags[id]) && Distance(c, p) <= miles {
				want = append(want, int32(id))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("query %d (%.1f mi of %v): %d points, brute force %d", q, miles, c, len(got), len(want))
		}
		var res Result
		ix.Search(Query{Center: c, Radius: miles, Filter: f}, &res)
		if res.Within != len(got) {
			t.Errorf("query %d: %d listed, Search counts %d", q, len(got), res.Within)
		}
	}
}

const (
	math32Min = -1 << 31
	math32Max = 1<<31 - 1
)

// Points placed at the radius are decided as Search decides them.
func TestEachWithinBoundary(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	center := Point{40.75, -73.99}
	var pts []Point
	for range 2000 {
		az := r.Float64() * 2 * math.Pi
		d := angleOfMiles(9.9 + 0.2*r.Float64())
		lat := math.Asin(math.Sin(center.Lat*deg)*math.Cos(d) + math.Cos(center.Lat*deg)*math.Sin(d)*math.Cos(az))
		lon := center.Lon*deg + math.Atan2(math.Sin(az)*math.Sin(d)*math.Cos(center.Lat*deg), math.Cos(d)-math.Sin(center.Lat*deg)*math.Sin(lat))
		pts = append(pts, Point{lat / deg, normalizeLon(lon / deg)})
	}
	ix, _ := NewIndex(pts, nil)
	for _, miles := range []float64{9.95, 10, 10.02, 10.05} {
		n := 0
		ix.EachWithin(center, miles, Filter{}, func(int32) { n++ })
		var res Result
		ix.Search(Query{Center: center, Radius: miles}, &res)
		want := 0
		for _, p := range pts {
			if Distance(center, p) <= miles {
				want++
			}
		}
		if n != res.Within || n != want {
			t.Errorf("%.2f mi: %d listed, Search %d, brute force %d", miles, n, res.Within, want)
		}
	}
}

// BenchmarkReachCell is BenchmarkProbeCell's workload counted by
// ReachCell, with every point's reach tallied and lists of up to two.
func BenchmarkReachCell(b *testing.B) {
	pts := syntheticPoints(b, 25_000, 5)
	ix, _ := NewIndex(pts, nil)
	members := syntheticPoints(b, 200_000, 6)
	slices.SortFunc(members, func(a, b Point) int { return cmpUint(SpatialKey(a), SpatialKey(b)) })
	probes := make([]Probe, len(members))
	for i, m := range members {
		probes[i] = Probe{Center: m, Radius: 30, Required: 2}
	}
	out := make([]ReachResult, 256)
	counts := make([]int32, len(pts))
	var rs ReachScratch
	b.ResetTimer()
	n := 0
	for b.Loop() {
		start := (n * 256) % (len(probes) - 256)
		ix.ReachCell(probes[start:start+256], Filter{}, out, counts, nil, &rs)
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*256), "ns/probe")
}
