package geo

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
)

func loadZIPPoints(t testing.TB) []Point {
	t.Helper()
	f, err := os.Open("testdata/zip_points.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	pts := make([]Point, 0, len(rows)-1)
	for _, r := range rows[1:] {
		lat, _ := strconv.ParseFloat(r[1], 64)
		lon, _ := strconv.ParseFloat(r[2], 64)
		pts = append(pts, Point{lat, lon})
	}
	return pts
}

// bruteForce is the oracle: every point, exact distance.
func bruteForce(pts []Point, tags []Tag, q Query) (within int, nearest []Neighbor) {
	var all []Neighbor
	for i, p := range pts {
		tag := Always
		if tags != nil {
			tag = tags[i]
		}
		f := q.Filter
		if tag.Flags&f.Mask != f.Want&f.Mask || (f.Timed && (f.At < tag.From || f.At >= tag.To)) || !setsMatch(f, tag) {
			continue
		}
		if q.Accept != nil && !q.Accept(int32(i)) {
			continue
		}
		d := Distance(q.Center, p)
		if q.Radius > 0 && d <= q.Radius {
			within++
		}
		all = append(all, Neighbor{int32(i), d})
	}
	slices.SortFunc(all, func(a, b Neighbor) int {
		if a.Miles != b.Miles {
			if a.Miles < b.Miles {
				return -1
			}
			return 1
		}
		return int(a.ID - b.ID)
	})
	if q.K < len(all) {
		all = all[:q.K]
	}
	return within, all
}

// setsMatch is the oracle's own reading of Filter.Need and AnyOf.
func setsMatch(f Filter, t Tag) bool {
	for i := 0; i < NumSets; i++ {
		if f.Need&(1<<i) != 0 && t.Sets[i]&f.AnyOf[i] == 0 {
			return false
		}
	}
	return true
}

var edgePlaces = []struct {
	name string
	p    Point
}{
	{"Manhattan", Point{40.75, -73.99}},
	{"Adak, Aleutians (west of 180°)", Point{51.88, -176.66}},
	{"Attu, Aleutians (east of 180°)", Point{52.93, 172.91}},
	{"on the antimeridian", Point{51.5, 180}},
	{"on the antimeridian, west", Point{51.5, -180}},
	{"Honolulu", Point{21.31, -157.86}},
	{"Hilo", Point{19.72, -155.08}},
	{"San Juan, PR", Point{18.47, -66.11}},
	{"Mayagüez, PR", Point{18.20, -67.14}},
	{"Hagåtña, Guam", Point{13.48, 144.75}},
	{"Pago Pago, American Samoa", Point{-14.28, -170.70}},
	{"Saipan", Point{15.18, 145.75}},
	{"Utqiagvik, AK", Point{71.29, -156.79}},
	{"North Pole", Point{90, 0}},
	{"near the North Pole", Point{89.9, 45}},
	{"South Pole", Point{-90, 0}},
	{"Key West", Point{24.55, -81.78}},
	{"mid-Pacific", Point{0, -150}},
}

func checkQuery(t *testing.T, ix *Index, pts []Point, tags []Tag, q Query, label string) {
	t.Helper()
	var res Result
	ix.Search(q, &res)
	wantWithin, wantNearest := bruteForce(pts, tags, q)
	if res.Within != wantWithin {
		t.Errorf("%s: within %.3f mi of %v: got %d, brute force %d", label, q.Radius, q.Center, res.Within, wantWithin)
	}
	if len(res.Nearest) != len(wantNearest) {
		t.Fatalf("%s: %d nearest of %v: got %d, brute force %d", label, q.K, q.Center, len(res.Nearest), len(wantNearest))
	}
	for i := range wantNearest {
		if res.Nearest[i] != wantNearest[i] {
			t.Errorf("%s: nearest[%d] of %v: got %+v, brute force %+v", label, i, q.Center, res.Nearest[i], wantNearest[i])
		}
	}
}

func TestIndexOracleZIPs(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, err := NewIndex(pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	centers := []Point{}
	for _, e := range edgePlaces {
		centers = append(centers, e.p)
	}
	for i := 0; i < 300; i++ {
		// Members near real ZIP points, and a few anywhere on Earth.
		p := pts[r.IntN(len(pts))]
		centers = append(centers, Point{clamp(p.Lat+r.NormFloat64()*0.05, -90, 90), normalizeLon(p.Lon + r.NormFloat64()*0.05)})
	}
	for i := 0; i < 50; i++ {
		centers = append(centers, Point{r.Float64()*180 - 90, r.Float64()*360 - 180})
	}
	radii := []float64{0, 0.5, 10, 15, 30, 60, 100, 110, 500}
	for i, c := range centers {
		q := Query{Center: c, Radius: radii[i%len(radii)], K: 1 + i%10}
		if i%3 == 0 {
			q.Accept = func(id int32) bool { return id%3 != 0 }
		}
		checkQuery(t, ix, pts, nil, q, fmt.Sprintf("center %d", i))
	}
}

// Points placed exactly at a query's radius test the exact boundary.
func TestIndexBoundary(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	center := Point{40.75, -73.99}
	var pts []Point
	for i := 0; i < 2000; i++ {
		// Rings of points at 9.9–10.1 miles in every direction.
		az := r.Float64() * 2 * math.Pi
		d := angleOfMiles(9.9 + 0.2*r.Float64())
		lat := math.Asin(math.Sin(center.Lat*deg)*math.Cos(d) + math.Cos(center.Lat*deg)*math.Sin(d)*math.Cos(az))
		lon := center.Lon*deg + math.Atan2(math.Sin(az)*math.Sin(d)*math.Cos(center.Lat*deg), math.Cos(d)-math.Sin(center.Lat*deg)*math.Sin(lat))
		pts = append(pts, Point{lat / deg, normalizeLon(lon / deg)})
	}
	ix, err := NewIndex(pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, R := range []float64{9.95, 10, 10.02, 10.05} {
		checkQuery(t, ix, pts, nil, Query{Center: center, Radius: R, K: 5}, "ring")
	}
}

func TestIndexOracleRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pts := make([]Point, 20000)
	for i := range pts {
		// Uniform on the sphere, plus clusters near the poles and the antimeridian.
		switch i % 4 {
		case 0:
			pts[i] = Point{math.Asin(2*r.Float64()-1) / deg, r.Float64()*360 - 180}
		case 1:
			pts[i] = Point{85 + 5*r.Float64(), r.Float64()*360 - 180}
		case 2:
			pts[i] = Point{50 + 5*r.Float64(), normalizeLon(175 + 10*r.Float64())}
		default:
			pts[i] = Point{-90 + 5*r.Float64(), r.Float64()*360 - 180}
		}
	}
	ix, err := NewIndex(pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; i++ {
		base := pts[r.IntN(len(pts))]
		c := Point{clamp(base.Lat+r.NormFloat64(), -90, 90), normalizeLon(base.Lon + r.NormFloat64())}
		if i < len(edgePlaces) {
			c = edgePlaces[i].p
		}
		q := Query{Center: c, Radius: []float64{5, 50, 200, 1000}[i%4], K: 1 + i%7}
		checkQuery(t, ix, pts, nil, q, fmt.Sprintf("random %d", i))
	}
}

func TestIndexWithin(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, err := NewIndex(pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edgePlaces {
		got := ix.Within(e.p, 60, Filter{}, nil, nil)
		var want []Neighbor
		for i, p := range pts {
			if d := Distance(e.p, p); d <= 60 {
				want = append(want, Neighbor{int32(i), d})
			}
		}
		slices.SortFunc(want, func(a, b Neighbor) int {
			if a.Miles < b.Miles {
				return -1
			} else if a.Miles > b.Miles {
				return 1
			}
			return int(a.ID - b.ID)
		})
		if !slices.Equal(got, want) {
			t.Errorf("%s: Within 60 mi: got %d points, brute force %d", e.name, len(got), len(want))
		}
	}
}

func TestIndexEdgeCases(t *testing.T) {
	empty, err := NewIndex(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	empty.Search(Query{Center: Point{0, 0}, Radius: 10, K: 5}, &res)
	if res.Within != 0 || len(res.Nearest) != 0 {
		t.Errorf("empty index answered %+v", res)
	}
	if _, err := NewIndex([]Point{{0, 0}, {91, 0}}, nil); err == nil || !errorsIs(err, ErrLatitude) {
		t.Errorf("invalid point accepted: %v", err)
	}
	two, _ := NewIndex([]Point{{10, 10}, {-10, -170}}, nil)
	two.Search(Query{Center: Point{0, 0}, K: 5}, &res)
	if len(res.Nearest) != 2 || res.Nearest[0].ID != 0 {
		t.Errorf("k beyond size: %+v", res.Nearest)
	}
	two.Search(Query{Center: Point{0, 0}, K: 5, Accept: func(int32) bool { return false }}, &res)
	if len(res.Nearest) != 0 {
		t.Errorf("all rejected but got %+v", res.Nearest)
	}
}

func TestIndexConcurrentReaders(t *testing.T) {
	pts := loadZIPPoints(t)
	ix, err := NewIndex(pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want Result
	q := Query{Center: Point{40.75, -73.99}, Radius: 30, K: 5}
	ix.Search(q, &want)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res Result
			for i := 0; i < 200; i++ {
				ix.Search(q, &res)
				if res.Within != want.Within || !slices.Equal(res.Nearest, want.Nearest) {
					t.Errorf("concurrent answer differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSpatialKeyLocality(t *testing.T) {
	a, b := SpatialKey(Point{40.75, -73.99}), SpatialKey(Point{40.751, -73.991})
	c := SpatialKey(Point{-33.9, 151.2})
	if d1, d2 := absDiff(a, b), absDiff(a, c); d1 >= d2 {
		t.Errorf("nearby points farther apart on the curve (%d) than distant ones (%d)", d1, d2)
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// Tags and filters: flag bits and validity intervals, as the network uses
// them for "in person", "accepting new patients" and effective dates.
func TestIndexOracleFilter(t *testing.T) {
	pts := loadZIPPoints(t)
	r := rand.New(rand.NewPCG(11, 12))
	tags := make([]Tag, len(pts))
	for i := range tags {
		tags[i] = Tag{Flags: uint8(r.IntN(4)), From: int32(r.IntN(100)), To: int32(100 + r.IntN(100))}
		if i%5 == 0 { // long runs of identical tags let whole buckets pass
			tags[i] = Tag{Flags: 3, From: 0, To: 1000}
		}
	}
	ix, err := NewIndex(pts, tags)
	if err != nil {
		t.Fatal(err)
	}
	filters := []Filter{{}, {Mask: 1, Want: 1}, {Mask: 3, Want: 2}, {Timed: true, At: 120}, {Mask: 1, Want: 1, Timed: true, At: 50}, {Timed: true, At: 5000}}
	for i := 0; i < 300; i++ {
		c := pts[r.IntN(len(pts))]
		if i < len(edgePlaces) {
			c = edgePlaces[i].p
		}
		q := Query{Center: c, Radius: []float64{10, 30, 60, 100}[i%4], K: 1 + i%6, Filter: filters[i%len(filters)]}
		checkQuery(t, ix, pts, tags, q, fmt.Sprintf("filter %d", i))
	}
}
