package geo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// setTags gives the ZIP points tags with bit sets as the network uses them:
// set 0 the services a provider offers (a rare one, a common one, one held
// in long runs so whole buckets pass), set 1 the networks it joins (one or
// two of six).
func setTags(n int, r *rand.Rand) []Tag {
	tags := make([]Tag, n)
	for i := range tags {
		t := Tag{Flags: uint8(r.IntN(2)), From: int32(r.IntN(50)), To: int32(100 + r.IntN(100))}
		if r.IntN(33) == 0 {
			t.Sets[0] |= 1 << 0 // rare: ~3%
		}
		if r.IntN(5) == 0 {
			t.Sets[0] |= 1 << 1 // common: ~20%
		}
		if (i/200)%3 == 0 {
			t.Sets[0] |= 1 << 2 // in long runs
		}
		t.Sets[1] = 1 << r.IntN(6)
		if r.IntN(4) == 0 {
			t.Sets[1] |= 1 << r.IntN(6)
		}
		if i%7 == 0 { // identical tags in runs: whole buckets pass or fail
			t = Tag{Flags: 1, From: 0, To: 1000, Sets: [NumSets]uint64{1 << 2, 1 << 3}}
		}
		tags[i] = t
	}
	return tags
}

var setFilters = []Filter{
	Filter{}.Require(0, 1<<0),                       // a rare service
	Filter{}.Require(0, 1<<1|1<<0),                  // same or similar: either of two
	Filter{}.Require(0, 1<<2),                       // a service held in runs
	Filter{}.Require(1, 1<<3),                       // one network
	Filter{}.Require(1, 1<<0|1<<4),                  // a plan of two networks
	Filter{}.Require(0, 1<<1).Require(1, 1<<3|1<<5), // a service within a plan
	Filter{Mask: 1, Want: 1, Timed: true, At: 60}.Require(0, 1<<2).Require(1, 1<<3), // with flags and dates
	Filter{}.Require(1, 0),     // a plan whose networks are absent: nothing passes
	Filter{}.Require(0, 1<<40), // a service no point offers
}

// Search and Within with set filters equal a brute-force scan.
func TestIndexOracleSets(t *testing.T) {
	pts := loadZIPPoints(t)
	r := rand.New(rand.NewPCG(31, 32))
	tags := setTags(len(pts), r)
	ix, err := NewIndex(pts, tags)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; i++ {
		c := pts[r.IntN(len(pts))]
		if i < len(edgePlaces) {
			c = edgePlaces[i].p
		}
		q := Query{Center: c, Radius: []float64{10, 30, 60, 110}[i%4], K: 1 + i%7, Filter: setFilters[i%len(setFilters)]}
		checkQuery(t, ix, pts, tags, q, fmt.Sprintf("sets %d", i))
		if i%10 == 0 {
			got := ix.Within(c, q.Radius, q.Filter, nil, nil)
			var want []Neighbor
			all := q
			all.K, all.Radius = len(pts), 0
			_, every := bruteForce(pts, tags, all)
			for _, nb := range every {
				if nb.Miles <= q.Radius {
					want = append(want, nb)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("sets %d: Within %g mi: got %d, brute force %d", i, q.Radius, len(got), len(want))
			}
		}
	}
}

// ProbeCellK with set filters answers as Search does, probe by probe.
func TestProbeCellSets(t *testing.T) {
	pts := loadZIPPoints(t)
	r := rand.New(rand.NewPCG(41, 42))
	tags := setTags(len(pts), r)
	ix, err := NewIndex(pts, tags)
	if err != nil {
		t.Fatal(err)
	}
	var sc ProbeScratch
	for cell := 0; cell < 90; cell++ {
		base := pts[r.IntN(len(pts))]
		n := 1 + r.IntN(40)
		probes := make([]Probe, n)
		for i := range probes {
			probes[i] = Probe{Center: Point{clamp(base.Lat+r.NormFloat64()*0.2, -90, 90), normalizeLon(base.Lon + r.NormFloat64()*0.2)},
				Radius: []float64{10, 30, 60}[r.IntN(3)]}
		}
		f := setFilters[cell%len(setFilters)]
		k := 1 + cell%4
		out := make([]ProbeResult, n)
		ix.ProbeCellK(probes, k, f, out, nil, &sc)
		for i, p := range probes {
			var res Result
			ix.Search(Query{Center: p.Center, Radius: p.Radius, K: k, Filter: f}, &res)
			if out[i].Within != res.Within {
				t.Errorf("cell %d probe %d: within %d, Search %d", cell, i, out[i].Within, res.Within)
			}
			got := out[i].NearestK
			if k == 1 && out[i].Nearest.ID >= 0 {
				got = []Neighbor{out[i].Nearest}
			}
			if !slices.Equal(got, res.Nearest) {
				t.Errorf("cell %d probe %d: nearest %v, Search %v", cell, i, got, res.Nearest)
			}
		}
	}
}

// An index whose points carry no sets keeps no memory for them.
func TestIndexSetsMemory(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, err := NewIndex(pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ix.sets != nil {
		t.Error("an index without sets allocated them")
	}
	var res Result
	ix.Search(Query{Center: pts[0], Radius: 30, K: 3, Filter: Filter{}.Require(0, 1)}, &res)
	if res.Within != 0 || len(res.Nearest) != 0 {
		t.Errorf("a set filter on an index without sets passed %d, %v", res.Within, res.Nearest)
	}
}
