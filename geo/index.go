package geo

import (
	"fmt"
	"math"
	"slices"

	"github.com/tidwall/rtree"
)

// Index is an immutable spatial index of points, answering "how many lie
// within R miles" and "which k are nearest" with exact geodesic distances.
// Build it once with NewIndex; any number of goroutines may then query it.
//
// Points are identified by their position in the slice given to NewIndex.
// Internally they are kept in Hilbert-curve order, so a caller that sorts
// its own records by SpatialKey before building gets identity order and
// cache-friendly filter lookups.
type Index struct {
	tree rtree.RTreeGN[float32, int32] // item: internal position
	pts  []Point                       // internal order
	us   []vec3                        // unit vectors, internal order
	ids  []int32                       // internal position → caller's ID
}

// Neighbor is one indexed point and its exact distance from a query centre.
type Neighbor struct {
	ID    int32   // position in the slice given to NewIndex
	Miles float64 // geodesic distance, statute miles
}

// NewIndex builds an index over pts. It fails on the first invalid point,
// naming its position.
func NewIndex(pts []Point) (*Index, error) {
	if len(pts) > math.MaxInt32 {
		return nil, fmt.Errorf("index: %d points exceed the limit of %d", len(pts), math.MaxInt32)
	}
	type keyed struct {
		key uint64
		id  int32
	}
	order := make([]keyed, len(pts))
	sorted := true
	for i, p := range pts {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("index: point %d: %w", i, err)
		}
		order[i] = keyed{SpatialKey(p), int32(i)}
		if i > 0 && order[i].key < order[i-1].key {
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(order, func(a, b keyed) int {
			switch {
			case a.key < b.key:
				return -1
			case a.key > b.key:
				return 1
			}
			return 0
		})
	}
	ix := &Index{
		pts: make([]Point, len(pts)),
		us:  make([]vec3, len(pts)),
		ids: make([]int32, len(pts)),
	}
	for i, o := range order {
		p := pts[o.id]
		ix.pts[i], ix.us[i], ix.ids[i] = p, unit(p), o.id
		xy := [2]float32{float32(p.Lon), float32(p.Lat)}
		ix.tree.Insert(xy, xy, int32(i))
	}
	return ix, nil
}

// Len is the number of indexed points.
func (ix *Index) Len() int { return len(ix.pts) }

// Query asks for the count of accepted points within a radius and the k
// nearest accepted points.
type Query struct {
	Center Point
	// Radius in miles: Result.Within counts accepted points whose geodesic
	// distance is ≤ Radius. Zero or less skips the count.
	Radius float64
	// K nearest accepted points, with exact distances, nearest first (ties
	// by ID). Zero skips the search.
	K int
	// Accept filters points by ID; nil accepts all.
	Accept func(id int32) bool
}

// Result of a Query. Reuse one across queries to avoid allocation.
type Result struct {
	Within  int
	Nearest []Neighbor
	// Refined counts exact geodesic evaluations made for this query: the
	// candidates too near a limit for the spherical bounds to decide.
	Refined int

	cand []cand
	best []float64
}

type cand struct {
	c2 float64
	i  int32 // internal position
}

// Search answers q into res.
func (ix *Index) Search(q Query, res *Result) {
	res.Within, res.Refined = 0, 0
	res.Nearest = res.Nearest[:0]
	res.cand = res.cand[:0]
	res.best = res.best[:0]
	if len(ix.pts) == 0 || (q.Radius <= 0 && q.K <= 0) {
		return
	}
	c := unit(q.Center)
	s := searcher{ix: ix, q: &q, res: res, c: c, k: q.K, knnCut: 4}

	// Pass 1: the count radius (or a first guess for the nearest search).
	var angle float64
	if q.Radius > 0 {
		m := q.Radius * MetersPerMile
		lo, hi := curvatureBounds(q.Center.Lat, m/radiusM(0))
		s.countIn = angleToChord2(m / hi)
		s.countOut = angleToChord2(m / lo)
		s.counting = true
		angle = m / lo
	} else {
		angle = 10 * MetersPerMile / radiusM(0)
	}
	s.scan(angle)
	s.counting = false

	// Widen until the k-th nearest is settled.
	for s.k > 0 {
		lo, hi := curvatureBounds(q.Center.Lat, angle)
		if len(res.best) >= s.k {
			need := chord2ToAngle(res.best[s.k-1]) * hi / lo
			if need <= angle {
				break
			}
			angle = need
		} else {
			if angle >= math.Pi {
				break
			}
			angle = math.Min(math.Pi, angle*4)
		}
		res.cand = res.cand[:0]
		res.best = res.best[:0]
		s.scan(angle)
	}
	if s.k > 0 {
		s.finishNearest(angle)
	}
}

type searcher struct {
	ix       *Index
	q        *Query
	res      *Result
	c        vec3
	k        int
	counting bool
	countIn  float64 // squared chords: certainly within / certainly beyond
	countOut float64
	knnCut   float64 // squared chord beyond which a point cannot be among the k nearest
}

// scan visits every point inside the spherical cap of the given angle.
func (s *searcher) scan(angle float64) {
	if s.k > 0 {
		s.knnCut = 4
	}
	iter := func(_, _ [2]float32, i int32) bool {
		s.visit(i)
		return true
	}
	for _, b := range capBoxes(s.q.Center, angle) {
		s.ix.tree.Search(b[0], b[1], iter)
	}
}

func (s *searcher) visit(i int32) {
	c2 := chord2(s.c, s.ix.us[i])
	inCount := s.counting && c2 <= s.countOut
	inKNN := s.k > 0 && c2 <= s.knnCut
	if !inCount && !inKNN {
		return
	}
	if s.q.Accept != nil && !s.q.Accept(s.ix.ids[i]) {
		return
	}
	if inCount {
		if c2 <= s.countIn {
			s.res.Within++
		} else {
			s.res.Refined++
			if Distance(s.q.Center, s.ix.pts[i]) <= s.q.Radius {
				s.res.Within++
			}
		}
	}
	if inKNN {
		s.addCandidate(c2, i)
	}
}

// addCandidate keeps the k smallest squared chords in res.best and every
// candidate that could still be among the exact k nearest in res.cand.
func (s *searcher) addCandidate(c2 float64, i int32) {
	r := s.res
	r.cand = append(r.cand, cand{c2, i})
	if len(r.best) < s.k {
		r.best = insertSorted(r.best, c2)
	} else if c2 < r.best[s.k-1] {
		r.best = insertSorted(r.best[:s.k-1], c2)
	} else {
		return
	}
	if len(r.best) == s.k {
		lo, hi := curvatureBounds(s.q.Center.Lat, math.Pi)
		s.knnCut = angleToChord2(chord2ToAngle(r.best[s.k-1]) * hi / lo)
		if len(r.cand) > 8*s.k+64 { // prune what can no longer qualify
			kept := r.cand[:0]
			for _, c := range r.cand {
				if c.c2 <= s.knnCut {
					kept = append(kept, c)
				}
			}
			r.cand = kept
		}
	}
}

func insertSorted(xs []float64, x float64) []float64 {
	j := len(xs)
	xs = append(xs, x)
	for j > 0 && xs[j-1] > x {
		xs[j] = xs[j-1]
		j--
	}
	xs[j] = x
	return xs
}

// finishNearest turns the spherical candidates into the exact k nearest.
func (s *searcher) finishNearest(angle float64) {
	r := s.res
	if len(r.best) == 0 {
		return
	}
	kth := r.best[min(s.k, len(r.best))-1]
	lo, hi := curvatureBounds(s.q.Center.Lat, angle)
	cut := angleToChord2(chord2ToAngle(kth) * hi / lo)
	for _, c := range r.cand {
		if c.c2 <= cut {
			r.Refined++
			r.Nearest = append(r.Nearest, Neighbor{ID: s.ix.ids[c.i], Miles: Distance(s.q.Center, s.ix.pts[c.i])})
		}
	}
	slices.SortFunc(r.Nearest, func(a, b Neighbor) int {
		switch {
		case a.Miles < b.Miles:
			return -1
		case a.Miles > b.Miles:
			return 1
		}
		return int(a.ID) - int(b.ID)
	})
	if len(r.Nearest) > s.k {
		r.Nearest = r.Nearest[:s.k]
	}
}

// Within appends to dst every accepted point within miles of center, with
// exact distances, nearest first.
func (ix *Index) Within(center Point, miles float64, accept func(id int32) bool, dst []Neighbor) []Neighbor {
	if len(ix.pts) == 0 || !(miles >= 0) {
		return dst
	}
	m := miles * MetersPerMile
	lo, _ := curvatureBounds(center.Lat, m/radiusM(0))
	angle := m / lo
	out := angleToChord2(angle)
	c := unit(center)
	start := len(dst)
	for _, b := range capBoxes(center, angle) {
		ix.tree.Search(b[0], b[1], func(_, _ [2]float32, i int32) bool {
			if chord2(c, ix.us[i]) > out || (accept != nil && !accept(ix.ids[i])) {
				return true
			}
			if d := Distance(center, ix.pts[i]); d <= miles {
				dst = append(dst, Neighbor{ID: ix.ids[i], Miles: d})
			}
			return true
		})
	}
	slices.SortFunc(dst[start:], func(a, b Neighbor) int {
		switch {
		case a.Miles < b.Miles:
			return -1
		case a.Miles > b.Miles:
			return 1
		}
		return int(a.ID) - int(b.ID)
	})
	return dst
}

// curvatureBounds returns the least meridional and the greatest prime
// vertical radius of curvature (metres) over the latitudes a path of
// central angle ≤ angle from latitude lat can visit. Any geodesic from the
// centre whose sphere angle is θ ≤ angle is between lo·θ and hi·θ long.
func curvatureBounds(lat, angle float64) (lo, hi float64) {
	// A path of ellipsoidal length ≤ hi·angle stays within hi·angle/M(0)
	// radians of the centre; widen the band by that factor.
	band := angle * radiusN(90) / radiusM(0) / deg
	a, b := lat-band, lat+band
	minAbs := 0.0
	if a > 0 {
		minAbs = a
	} else if b < 0 {
		minAbs = -b
	}
	maxAbs := math.Min(90, math.Max(math.Abs(a), math.Abs(b)))
	return radiusM(minAbs), radiusN(maxAbs)
}

// boxPad widens query boxes past float32 rounding of stored coordinates.
const boxPad = 1e-4

// capBoxes returns lon/lat boxes covering the spherical cap of the given
// angle around p, split at the antimeridian.
func capBoxes(p Point, angle float64) [][2][2]float32 {
	θ := angle / deg
	latLo, latHi := p.Lat-θ-boxPad, p.Lat+θ+boxPad
	full := [][2][2]float32{{{-180 - boxPad, float32(math.Max(latLo, -90-boxPad))}, {180 + boxPad, float32(math.Min(latHi, 90+boxPad))}}}
	if angle >= math.Pi/2 || latHi >= 90 || latLo <= -90 {
		return full
	}
	dλ := math.Asin(math.Min(1, math.Sin(angle)/math.Cos(p.Lat*deg)))/deg + boxPad
	if dλ >= 180 {
		return full
	}
	lo, hi := p.Lon-dλ, p.Lon+dλ
	box := func(a, b float64) [2][2]float32 {
		return [2][2]float32{{float32(a), float32(latLo)}, {float32(b), float32(latHi)}}
	}
	switch {
	case lo < -180:
		return [][2][2]float32{box(-180-boxPad, hi), box(lo+360, 180+boxPad)}
	case hi > 180:
		return [][2][2]float32{box(lo, 180+boxPad), box(-180-boxPad, hi-360)}
	}
	return [][2][2]float32{box(lo, hi)}
}

// SpatialKey orders points along a Hilbert curve over longitude and
// latitude, so that points near each other on the ground are usually near
// each other in a sorted slice.
func SpatialKey(p Point) uint64 {
	const n = 1 << 16
	x := uint64(math.Min(n-1, math.Max(0, (p.Lon+180)/360*n)))
	y := uint64(math.Min(n-1, math.Max(0, (p.Lat+90)/180*n)))
	var d uint64
	for s := uint64(n / 2); s > 0; s /= 2 {
		var rx, ry uint64
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		if ry == 0 {
			if rx == 1 {
				x, y = n-1-x, n-1-y
			}
			x, y = y, x
		}
	}
	return d
}
