package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// cellSizes lists the sizes of cells, for compact expectations.
func cellSizes(cells []Cell) []int {
	var out []int
	for _, c := range cells {
		out = append(out, c.End-c.Start)
	}
	return out
}

// same returns n points at p with radius r and groups g(i).
func same(n int, p Point, r float64, g func(i int) int32) []CellPoint {
	out := make([]CellPoint, n)
	for i := range out {
		out[i] = CellPoint{Point: p, Radius: r}
		if g != nil {
			out[i].Group = g(i)
		}
	}
	return out
}

// east returns a point of radius r, miles east of p on the sphere.
func east(p Point, miles, r float64) CellPoint {
	return CellPoint{Point: destination(p, math.Pi/2, miles*MetersPerMile), Radius: r}
}

func TestCells(t *testing.T) {
	nyc := Point{40.75, -73.99}
	at := func(p Point, r float64) CellPoint { return CellPoint{Point: p, Radius: r} }
	tests := []struct {
		name  string
		pts   []CellPoint
		lim   CellLimits
		sizes []int
		order []int32 // checked when set
	}{
		{name: "no points", pts: nil, sizes: nil, order: []int32{}},
		{name: "one point", pts: []CellPoint{at(nyc, 30)}, sizes: []int{1}, order: []int32{0}},
		{name: "one point, NaN radius", pts: []CellPoint{at(nyc, math.NaN())}, sizes: []int{1}},
		{name: "one place: full cells of 256", pts: same(600, nyc, 30, nil), sizes: []int{256, 256, 88}},
		{name: "one place, MaxPoints 3, input order kept", pts: same(7, nyc, 30, nil), lim: CellLimits{MaxPoints: 3},
			sizes: []int{3, 3, 1}, order: []int32{0, 1, 2, 3, 4, 5, 6}},
		{name: "within a tenth of the radius", pts: []CellPoint{at(nyc, 30), east(nyc, 2.9, 30)}, sizes: []int{2}},
		{name: "beyond a tenth of the radius", pts: []CellPoint{at(nyc, 30), east(nyc, 3.1, 30)}, sizes: []int{1, 1}},
		{name: "the smallest radius rules", pts: []CellPoint{at(nyc, 30), east(nyc, 1, 5)}, sizes: []int{1, 1}},
		{name: "the smallest radius rules, either way", pts: []CellPoint{at(nyc, 5), east(nyc, 1, 30)}, sizes: []int{1, 1}},
		{name: "no limit spreads 10 miles", pts: []CellPoint{at(nyc, math.Inf(1)), east(nyc, 9.9, math.Inf(1))}, sizes: []int{2}},
		{name: "no limit spreads no more", pts: []CellPoint{at(nyc, math.Inf(1)), east(nyc, 10.1, math.Inf(1))}, sizes: []int{1, 1}},
		{name: "radius 0 spreads half a mile", pts: []CellPoint{at(nyc, 0), east(nyc, 0.45, 0)}, sizes: []int{2}},
		{name: "radius 0 spreads no more", pts: []CellPoint{at(nyc, 0), east(nyc, 0.55, 0)}, sizes: []int{1, 1}},
		{name: "negative and NaN radii spread half a mile", pts: []CellPoint{at(nyc, -3), east(nyc, 0.55, math.NaN())}, sizes: []int{1, 1}},
		{name: "across the antimeridian", pts: []CellPoint{at(Point{51.5, 179.999}, 30), at(Point{51.5, -179.999}, 30)}, sizes: []int{2}},
		{name: "across the antimeridian, too far", pts: []CellPoint{at(Point{51.5, 179.95}, 30), at(Point{51.5, -179.95}, 30)}, sizes: []int{1, 1}},
		{name: "north pole, any longitude", pts: []CellPoint{at(Point{89.9999, 0}, 10), at(Point{89.9999, 120}, 10), at(Point{90, -75}, 10), at(Point{90, 180}, 10)},
			sizes: []int{4}},
		{name: "south pole, any longitude", pts: []CellPoint{at(Point{-90, 0}, 10), at(Point{-89.9999, -179.5}, 10), at(Point{-89.9999, 60}, 10)}, sizes: []int{3}},
		{name: "pole and a point 2 miles off", pts: []CellPoint{at(Point{90, 0}, 10), at(Point{90 - 2/69.0, 45}, 10)}, sizes: []int{1, 1}},
		{name: "70 groups: 64 and 6", pts: same(70, nyc, 30, func(i int) int32 { return int32(i) }), sizes: []int{64, 6}},
		{name: "MaxGroups above the limit is the limit", pts: same(70, nyc, 30, func(i int) int32 { return int32(1000 - i) }),
			lim: CellLimits{MaxGroups: 1000}, sizes: []int{64, 6}},
		{name: "MaxGroups 2", pts: same(7, nyc, 30, func(i int) int32 { return []int32{0, 1, 0, 1, 2, 2, 0}[i] }),
			lim: CellLimits{MaxGroups: 2}, sizes: []int{4, 3}},
		{name: "one group never cuts", pts: same(300, nyc, 30, func(int) int32 { return 7 }), sizes: []int{256, 44}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.pts)
			order, cells := Cells(tc.pts, tc.lim)
			if got := cellSizes(cells); !slices.Equal(got, tc.sizes) {
				t.Errorf("cell sizes %v, want %v", got, tc.sizes)
			}
			if tc.order != nil && !slices.Equal(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
			checkCells(t, in, tc.pts, tc.lim, order, cells)
		})
	}
}

// checkCells checks Cells' result against its rule, restated: the
// points (in) are now sorted (pts) by SpatialKey then input index, as
// order says; the cells cover them in order; no cell breaks a limit; and
// every cut was needed (the next cell's first point would have broken
// one).
func checkCells(t *testing.T, in, sorted []CellPoint, lim CellLimits, order []int32, cells []Cell) {
	t.Helper()
	pts := in
	maxPoints, maxGroups := DefaultCellPoints, MaxCellGroups
	if lim.MaxPoints > 0 {
		maxPoints = lim.MaxPoints
	}
	if lim.MaxGroups > 0 && lim.MaxGroups < MaxCellGroups {
		maxGroups = lim.MaxGroups
	}
	if len(order) != len(pts) {
		t.Fatalf("order has %d points, want %d", len(order), len(pts))
	}
	seen := make([]bool, len(pts))
	for k, i := range order {
		if seen[i] {
			t.Fatalf("point %d twice in order", i)
		}
		seen[i] = true
		if sorted[k] != in[i] && !math.IsNaN(in[i].Radius) {
			t.Fatalf("pts[%d] = %+v, but order says input %d: %+v", k, sorted[k], i, in[i])
		}
		if k > 0 {
			a, b := SpatialKey(pts[order[k-1]].Point), SpatialKey(pts[i].Point)
			if a > b || (a == b && order[k-1] > i) {
				t.Fatalf("order[%d..%d] = %d, %d out of spatial order", k-1, k, order[k-1], i)
			}
		}
	}
	// The rule, on the sphere of the mean radius by the law of haversines.
	spread := func(r float64) float64 {
		if !(r > 0) {
			return 0.5
		}
		return math.Max(0.5, math.Min(r/10, 10))
	}
	miles := func(a, b Point) float64 {
		h := math.Pow(math.Sin((b.Lat-a.Lat)*deg/2), 2) + math.Cos(a.Lat*deg)*math.Cos(b.Lat*deg)*math.Pow(math.Sin((b.Lon-a.Lon)*deg/2), 2)
		return 2 * math.Asin(math.Sqrt(math.Min(1, h))) * meanEarthRadius / MetersPerMile
	}
	next := 0
	for c, cell := range cells {
		if cell.Start != next || cell.End <= cell.Start {
			t.Fatalf("cell %d = %+v after %d", c, cell, next)
		}
		next = cell.End
		if n := cell.End - cell.Start; n > maxPoints {
			t.Errorf("cell %d holds %d points, limit %d", c, n, maxPoints)
		}
		first := pts[order[cell.Start]]
		var groups []int32
		least := math.Inf(1)
		for k := cell.Start; k < cell.End; k++ {
			p := pts[order[k]]
			least = math.Min(least, spread(p.Radius))
			if d := miles(first.Point, p.Point); d > least {
				t.Errorf("cell %d: point %d is %.4f mi from the first, spread %.4f", c, order[k], d, least)
			}
			if !slices.Contains(groups, p.Group) {
				groups = append(groups, p.Group)
			}
		}
		if len(groups) > maxGroups {
			t.Errorf("cell %d holds %d groups, limit %d", c, len(groups), maxGroups)
		}
		if cell.End == len(order) {
			continue
		}
		p := pts[order[cell.End]]
		full := cell.End-cell.Start == maxPoints
		crowded := !slices.Contains(groups, p.Group) && len(groups) == maxGroups
		far := miles(first.Point, p.Point) > math.Min(least, spread(p.Radius))
		if !full && !crowded && !far {
			t.Errorf("cell %d ends before point %d, which fits it", c, order[cell.End])
		}
	}
	if next != len(order) {
		t.Fatalf("cells cover %d of %d points", next, len(order))
	}
}

// On real places (ZIP points, members scattered around them, counties as
// groups) Cells keeps its rule, and ProbeCell over its cells answers every
// point exactly as Search does.
func TestCellsOracle(t *testing.T) {
	zips := loadZIPPoints(t)
	ix, err := NewIndex(zips, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(41, 42))
	for round := range 6 {
		n := []int{1, 2, 50, 2000, 5000, 5000}[round]
		pts := make([]CellPoint, n)
		for i := range pts {
			base := zips[r.IntN(len(zips))]
			if round == 5 { // dense: a few places, many groups each
				base = zips[r.IntN(20)]
			}
			pts[i] = CellPoint{
				Point:  Point{clamp(base.Lat+r.NormFloat64()*0.02, -90, 90), normalizeLon(base.Lon + r.NormFloat64()*0.02)},
				Radius: []float64{0, 5, 10, 15, 30, 60, 110, math.Inf(1)}[r.IntN(8)],
				Group:  int32(r.IntN(1 + 100*(round%2))),
			}
		}
		lim := CellLimits{}
		if round == 4 {
			lim = CellLimits{MaxPoints: 17, MaxGroups: 5}
		}
		in := slices.Clone(pts)
		order, cells := Cells(pts, lim)
		checkCells(t, in, pts, lim, order, cells)
		var sc ProbeScratch
		var probes []Probe
		for _, c := range cells {
			probes = probes[:0]
			for _, p := range pts[c.Start:c.End] {
				radius := p.Radius
				if math.IsInf(radius, 1) {
					radius = 1e5
				}
				probes = append(probes, Probe{Center: p.Point, Radius: radius, Group: p.Group})
			}
			out := make([]ProbeResult, len(probes))
			ix.ProbeCell(probes, Filter{}, out, func(int32, int32) {}, &sc)
			for j, p := range probes {
				var res Result
				ix.Search(Query{Center: p.Center, Radius: p.Radius, K: 1}, &res)
				if out[j].Within != res.Within || out[j].Nearest != res.Nearest[0] {
					t.Fatalf("round %d: point %d: within %d nearest %+v, Search %d %+v", round, order[c.Start+j], out[j].Within, out[j].Nearest, res.Within, res.Nearest[0])
				}
			}
		}
	}
}

// A cell of more groups than one pass tells apart is answered in passes:
// the same answers as Search, every covered (group, point) pair exactly
// once, the k nearest intact across passes, and no panic.
func TestProbeCellManyGroups(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, err := NewIndex(pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(43, 44))
	var sc ProbeScratch
	for _, tc := range []struct {
		probes, groups, k int
	}{{65, 65, 1}, {200, 150, 1}, {300, 200, 4}, {130, 129, 1}} {
		base := Point{40.75, -73.99}
		probes := make([]Probe, tc.probes)
		for i := range probes {
			probes[i] = Probe{
				Center: Point{base.Lat + r.NormFloat64()*0.05, base.Lon + r.NormFloat64()*0.05},
				Radius: []float64{0, 3, 10, 30}[r.IntN(4)],
				Group:  int32((i * 7) % tc.groups), // groups interleaved
			}
		}
		out := make([]ProbeResult, len(probes))
		got := map[[2]int32]int{}
		ix.ProbeCellK(probes, tc.k, Filter{}, out, func(g, id int32) { got[[2]int32{g, id}]++ }, &sc)
		want := map[[2]int32]bool{}
		for i, p := range probes {
			var res Result
			ix.Search(Query{Center: p.Center, Radius: p.Radius, K: tc.k}, &res)
			nearest := out[i].NearestK
			if tc.k == 1 {
				nearest = []Neighbor{out[i].Nearest}
			}
			if out[i].Within != res.Within || !slices.Equal(nearest, res.Nearest) {
				t.Errorf("%d groups, probe %d: within %d nearest %+v, Search %d %+v", tc.groups, i, out[i].Within, nearest, res.Within, res.Nearest)
			}
			for id, q := range pts {
				if p.Radius > 0 && Distance(p.Center, q) <= p.Radius {
					want[[2]int32{p.Group, int32(id)}] = true
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d groups: %d covered pairs, brute force %d", tc.groups, len(got), len(want))
		}
		for k, n := range got {
			if n != 1 || !want[k] {
				t.Errorf("%d groups: pair %v reported %d times, brute force %v", tc.groups, k, n, want[k])
				break
			}
		}
	}
}

// BenchmarkCells cuts 1,000,000 points placed around ZIP points, counties
// as groups: the cost gap reports and batches pay before probing.
func BenchmarkCells(b *testing.B) {
	zips := loadZIPPoints(b)
	r := rand.New(rand.NewPCG(45, 46))
	pts := make([]CellPoint, 1_000_000)
	for i := range pts {
		z := r.IntN(len(zips))
		base := zips[z]
		pts[i] = CellPoint{Point: Point{base.Lat + r.NormFloat64()*0.02, base.Lon + r.NormFloat64()*0.02}, Radius: 30, Group: int32(z / 8)}
	}
	in := slices.Clone(pts)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		copy(pts, in)
		b.StartTimer()
		Cells(pts, CellLimits{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pts)), "ns/point")
}
