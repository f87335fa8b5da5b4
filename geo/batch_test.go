package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ProbeCell answers each probe exactly as Search does, and reports exactly
// the (group, point) pairs a brute-force scan finds.
func TestProbeCellOracle(t *testing.T) {
	pts := loadZIPPoints(t)
	r := rand.New(rand.NewPCG(21, 22))
	tags := make([]Tag, len(pts))
	for i := range tags {
		tags[i] = Tag{Flags: uint8(r.IntN(2)), From: 0, To: int32(50 + r.IntN(100))}
	}
	ix, err := NewIndex(pts, tags)
	if err != nil {
		t.Fatal(err)
	}
	filters := []Filter{{}, {Mask: 1, Want: 1}, {Mask: 1, Want: 1, Timed: true, At: 80}}
	for cell := 0; cell < 120; cell++ {
		base := pts[r.IntN(len(pts))]
		if cell < len(edgePlaces) {
			base = edgePlaces[cell].p
		}
		spread := []float64{0.01, 0.1, 0.5, 3}[cell%4]
		n := 1 + r.IntN(60)
		probes := make([]Probe, n)
		for i := range probes {
			probes[i] = Probe{
				Center: Point{clamp(base.Lat+r.NormFloat64()*spread, -90, 90), normalizeLon(base.Lon + r.NormFloat64()*spread)},
				Radius: []float64{0, 10, 15, 30, 60, 110}[r.IntN(6)],
				Group:  int32(r.IntN(3)),
			}
		}
		f := filters[cell%len(filters)]
		out := make([]ProbeResult, n)
		got := map[[2]int32]bool{}
		var sc ProbeScratch
		ix.ProbeCell(probes, f, out, func(g, id int32) {
			k := [2]int32{g, id}
			if got[k] {
				t.Errorf("cell %d: (%d, %d) reported twice", cell, g, id)
			}
			got[k] = true
		}, &sc)
		want := map[[2]int32]bool{}
		for i, p := range probes {
			var res Result
			ix.Search(Query{Center: p.Center, Radius: p.Radius, K: 1, Filter: f}, &res)
			if out[i].Within != res.Within {
				t.Errorf("cell %d probe %d: within %d, Search %d", cell, i, out[i].Within, res.Within)
			}
			if len(res.Nearest) == 0 {
				if out[i].Nearest.ID != -1 {
					t.Errorf("cell %d probe %d: nearest %+v, Search none", cell, i, out[i].Nearest)
				}
			} else if out[i].Nearest != res.Nearest[0] {
				t.Errorf("cell %d probe %d: nearest %+v, Search %+v", cell, i, out[i].Nearest, res.Nearest[0])
			}
			for id, q := range pts {
				if p.Radius > 0 && f.pass(tags[id]) && Distance(p.Center, q) <= p.Radius {
					want[[2]int32{p.Group, int32(id)}] = true
				}
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
}

func BenchmarkProbeCell(b *testing.B) {
	pts := syntheticPoints(b, 25_000, 5)
	ix, _ := NewIndex(pts, nil)
	members := syntheticPoints(b, 200_000, 6)
	slices.SortFunc(members, func(a, b Point) int { return cmpUint(SpatialKey(a), SpatialKey(b)) })
	probes := make([]Probe, len(members))
	for i, m := range members {
		probes[i] = Probe{Center: m, Radius: 30}
	}
	out := make([]ProbeResult, 256)
	var sc ProbeScratch
	b.ResetTimer()
	n := 0
	for b.Loop() {
		start := (n * 256) % (len(probes) - 256)
		ix.ProbeCell(probes[start:start+256], Filter{}, out, nil, &sc)
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*256), "ns/probe")
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// An estimated nearest distance is within the tolerance of the exact one.
func TestProbeCellEstimate(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, _ := NewIndex(pts, nil)
	r := rand.New(rand.NewPCG(23, 24))
	var sc ProbeScratch
	estimated := 0
	for cell := 0; cell < 100; cell++ {
		base := pts[r.IntN(len(pts))]
		probes := make([]Probe, 20)
		for i := range probes {
			probes[i] = Probe{Center: Point{clamp(base.Lat+r.NormFloat64()*0.05, -90, 90), normalizeLon(base.Lon + r.NormFloat64()*0.05)},
				Radius: 30, Estimate: true, Required: 1 + r.IntN(3)}
		}
		out := make([]ProbeResult, len(probes))
		ix.ProbeCell(probes, Filter{}, out, nil, &sc)
		for i, p := range probes {
			var res Result
			ix.Search(Query{Center: p.Center, Radius: p.Radius, K: 1}, &res)
			exact := res.Nearest[0].Miles
			if out[i].Estimated != (res.Within >= p.Required) {
				t.Errorf("probe %d: estimated %v with %d within, %d required", i, out[i].Estimated, res.Within, p.Required)
			}
			if out[i].Estimated {
				estimated++
				if math.Abs(out[i].Nearest.Miles-exact) > EstimateTolerance*exact {
					t.Errorf("probe %d: estimate %.6f, exact %.6f", i, out[i].Nearest.Miles, exact)
				}
			} else if out[i].Nearest != res.Nearest[0] {
				t.Errorf("probe %d: %+v, exact %+v", i, out[i].Nearest, res.Nearest[0])
			}
		}
	}
	if estimated == 0 {
		t.Error("no probe was estimated")
	}
}

// The k nearest of each probe equal Search's.
func TestProbeCellK(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, _ := NewIndex(pts, nil)
	r := rand.New(rand.NewPCG(25, 26))
	var sc ProbeScratch
	for cell := 0; cell < 80; cell++ {
		base := pts[r.IntN(len(pts))]
		if cell < len(edgePlaces) {
			base = edgePlaces[cell].p
		}
		k := 1 + r.IntN(10)
		probes := make([]Probe, 1+r.IntN(40))
		for i := range probes {
			probes[i] = Probe{Center: Point{clamp(base.Lat+r.NormFloat64()*0.1, -90, 90), normalizeLon(base.Lon + r.NormFloat64()*0.1)}, Radius: 15}
		}
		out := make([]ProbeResult, len(probes))
		ix.ProbeCellK(probes, k, Filter{}, out, nil, &sc)
		for i, p := range probes {
			var res Result
			ix.Search(Query{Center: p.Center, Radius: p.Radius, K: k}, &res)
			got := out[i].NearestK
			if k == 1 {
				got = []Neighbor{out[i].Nearest}
			}
			if !slices.Equal(got, res.Nearest) || out[i].Within != res.Within {
				t.Errorf("cell %d probe %d k %d: %+v (%d within), Search %+v (%d)", cell, i, k, got, out[i].Within, res.Nearest, res.Within)
			}
		}
	}
}
