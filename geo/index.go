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
// Layout: points are sorted along a Hilbert curve and cut into buckets of
// up to bucketSize consecutive points; the R-tree indexes the buckets'
// lon/lat boxes. Each bucket also keeps a bounding sphere (in the 3-D space
// of unit vectors) and a summary of its points' tags, so a query counts a
// bucket lying wholly inside its radius without touching its points. Only
// buckets straddling a limit are examined point by point; of those points,
// the sphere decides all but those within about 0.5% of the limit, a
// second-order estimate (estimate.go) all but those within 0.002%, and the
// exact ellipsoidal distance the rest.
//
// Points are identified by their position in the slice given to NewIndex.
// A caller that sorts its records by SpatialKey before building gets
// identity order, and cache-friendly lookups of its own per-point data.
type Index struct {
	tree    rtree.RTreeGN[float32, int32] // item: group number
	groups  []bucket                      // runs of groupSize buckets, summarised alike
	buckets []bucket
	items   []item  // internal order
	pts     []Point // internal order
	ids     []int32 // internal position → caller's ID
	// sets holds the points' Tag.Sets in internal order; nil when every
	// point's sets are empty (no memory for indexes that never use them).
	sets [][NumSets]uint64
}

const (
	bucketSize = 8  // points
	groupSize  = 16 // buckets
)

type item struct {
	u   vec3
	tag tagCore
}

// tagCore is a Tag without its sets, which live apart (Index.sets).
type tagCore struct {
	Flags    uint8
	From, To int32
}

// bucket summarises a run of points (or, as a group, a run of buckets and
// their points).
type bucket struct {
	start, end int32   // internal positions [start, end) of points, or of buckets for a group
	c          vec3    // centre of the bounding sphere
	r          float64 // its radius (chord units)
	maxFrom    int32   // greatest Tag.From
	minTo      int32   // least Tag.To
	// anySet and allSet are the union and the intersection of the
	// points' Tag.Sets: a filter on a set skips the run when the union
	// misses it and passes every point when the intersection meets it.
	anySet, allSet [NumSets]uint64
	// hist counts the points by Tag.Flags value, when there are at most
	// len(hist) distinct values (nhist ≤ len(hist)); else nhist = 0xff.
	hist  [4]flagCount
	nhist uint8
}

type flagCount struct {
	flags uint8
	n     uint16
}

// Tag is caller-defined data each point carries for filtering: flag bits,
// a validity interval [From, To) in caller units (days, say), and bit sets
// (the services a provider offers, the networks it joins). The index gives
// the bits no meaning.
type Tag struct {
	Flags    uint8
	From, To int32
	Sets     [NumSets]uint64
}

// NumSets is the number of bit sets a Tag carries.
const NumSets = 2

// Always is the tag of a point valid at every time.
var Always = Tag{From: math.MinInt32, To: math.MaxInt32}

// Filter selects points by tag: a point passes when Flags&Mask == Want,
// if Timed, From ≤ At < To, and for each set i that Need names (bit i),
// Sets[i] shares a bit with AnyOf[i] (an empty AnyOf[i] then passes
// nothing). The zero Filter passes every point.
type Filter struct {
	Mask, Want uint8
	Timed      bool
	At         int32
	Need       uint8
	AnyOf      [NumSets]uint64
}

// Require returns f also requiring a point's set i to share a bit with any.
func (f Filter) Require(i int, any uint64) Filter {
	f.Need |= 1 << i
	f.AnyOf[i] = any
	return f
}

func (f Filter) pass(t Tag) bool {
	return t.Flags&f.Mask == f.Want&f.Mask && (!f.Timed || (t.From <= f.At && f.At < t.To)) && f.setsPass(&t.Sets)
}

func (f Filter) setsPass(s *[NumSets]uint64) bool {
	for i := range NumSets {
		if f.Need&(1<<i) != 0 && s[i]&f.AnyOf[i] == 0 {
			return false
		}
	}
	return true
}

// passAt reports whether the point at internal position i passes f.
func (ix *Index) passAt(f *Filter, i int32) bool {
	t := &ix.items[i].tag
	if t.Flags&f.Mask != f.Want&f.Mask || (f.Timed && (t.From > f.At || f.At >= t.To)) {
		return false
	}
	if f.Need == 0 {
		return true
	}
	if ix.sets == nil {
		return f.setsPass(&[NumSets]uint64{})
	}
	return f.setsPass(&ix.sets[i])
}

// skips reports whether no point of b can pass f's sets: b is skipped.
func (f *Filter) skips(b *bucket) bool {
	if f.Need == 0 {
		return false
	}
	for i := range NumSets {
		if f.Need&(1<<i) != 0 && b.anySet[i]&f.AnyOf[i] == 0 {
			return true
		}
	}
	return false
}

// countAll returns how many points of b pass f, and false when that takes
// looking at them one by one. n is b's number of points.
func (f Filter) countAll(b *bucket, n int) (int, bool) {
	if f.Timed && (b.maxFrom > f.At || f.At >= b.minTo) {
		return 0, false
	}
	for i := range NumSets {
		if f.Need&(1<<i) == 0 {
			continue
		}
		if b.anySet[i]&f.AnyOf[i] == 0 {
			return 0, true
		}
		if b.allSet[i]&f.AnyOf[i] == 0 {
			return 0, false
		}
	}
	if f.Mask == 0 {
		return n, true
	}
	if b.nhist > uint8(len(b.hist)) {
		return 0, false
	}
	c := 0
	for _, h := range b.hist[:b.nhist] {
		if h.flags&f.Mask == f.Want&f.Mask {
			c += int(h.n)
		}
	}
	return c, true
}

// Neighbor is one indexed point and its exact distance from a query centre.
type Neighbor struct {
	ID    int32   // position in the slice given to NewIndex
	Miles float64 // geodesic distance, statute miles
}

// NewIndex builds an index over pts. tags, if not nil, must be as long as
// pts; a nil tags gives every point the tag Always. It fails on the first
// invalid point, naming its position.
func NewIndex(pts []Point, tags []Tag) (*Index, error) {
	if len(pts) > math.MaxInt32 {
		return nil, fmt.Errorf("index: %d points exceed the limit of %d", len(pts), math.MaxInt32)
	}
	if tags != nil && len(tags) != len(pts) {
		return nil, fmt.Errorf("index: %d tags for %d points", len(tags), len(pts))
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
		items: make([]item, len(pts)),
		pts:   make([]Point, len(pts)),
		ids:   make([]int32, len(pts)),
	}
	for i, o := range order {
		p := pts[o.id]
		t := Always
		if tags != nil {
			t = tags[o.id]
		}
		if t.Sets != ([NumSets]uint64{}) {
			if ix.sets == nil {
				ix.sets = make([][NumSets]uint64, len(pts))
			}
			ix.sets[i] = t.Sets
		}
		ix.items[i], ix.pts[i], ix.ids[i] = item{unit(p), tagCore{t.Flags, t.From, t.To}}, p, o.id
	}
	ix.buckets = make([]bucket, 0, (len(pts)+bucketSize-1)/bucketSize)
	for start := 0; start < len(pts); start += bucketSize {
		ix.addBucket(int32(start), int32(min(start+bucketSize, len(pts))))
	}
	for start := 0; start < len(ix.buckets); start += groupSize {
		ix.addGroup(int32(start), int32(min(start+groupSize, len(ix.buckets))))
	}
	return ix, nil
}

// addGroup summarises buckets [start, end) and puts the group in the tree.
func (ix *Index) addGroup(start, end int32) {
	first, last := ix.buckets[start].start, ix.buckets[end-1].end
	g := ix.summarize(first, last)
	g.start, g.end = start, end
	lo := [2]float32{math.MaxFloat32, math.MaxFloat32}
	hi := [2]float32{-math.MaxFloat32, -math.MaxFloat32}
	for _, p := range ix.pts[first:last] {
		lo[0], lo[1] = min(lo[0], float32(p.Lon)), min(lo[1], float32(p.Lat))
		hi[0], hi[1] = max(hi[0], float32(p.Lon)), max(hi[1], float32(p.Lat))
	}
	ix.tree.Insert(lo, hi, int32(len(ix.groups)))
	ix.groups = append(ix.groups, g)
}

// points is the number of points under a group.
func (ix *Index) points(g *bucket) int {
	return int(ix.buckets[g.end-1].end - ix.buckets[g.start].start)
}

func (ix *Index) addBucket(start, end int32) {
	ix.buckets = append(ix.buckets, ix.summarize(start, end))
}

// summarize makes the bounding sphere and tag summary of points
// [start, end).
func (ix *Index) summarize(start, end int32) bucket {
	b := bucket{start: start, end: end, maxFrom: math.MinInt32, minTo: math.MaxInt32}
	for i := range NumSets {
		b.allSet[i] = ^uint64(0)
	}
	for i := start; i < end; i++ {
		it := &ix.items[i]
		b.c.x, b.c.y, b.c.z = b.c.x+it.u.x, b.c.y+it.u.y, b.c.z+it.u.z
		b.maxFrom, b.minTo = max(b.maxFrom, it.tag.From), min(b.minTo, it.tag.To)
		b.addFlags(it.tag.Flags)
		var sets [NumSets]uint64
		if ix.sets != nil {
			sets = ix.sets[i]
		}
		for k := range NumSets {
			b.anySet[k] |= sets[k]
			b.allSet[k] &= sets[k]
		}
	}
	n := float64(end - start)
	b.c = vec3{b.c.x / n, b.c.y / n, b.c.z / n}
	for i := start; i < end; i++ {
		b.r = max(b.r, math.Sqrt(chord2(b.c, ix.items[i].u)))
	}
	b.r = b.r*(1+1e-12) + 1e-15 // never understate the radius by rounding
	return b
}

func (b *bucket) addFlags(f uint8) {
	if b.nhist > uint8(len(b.hist)) {
		return
	}
	for i := range b.hist[:b.nhist] {
		if b.hist[i].flags == f {
			b.hist[i].n++
			return
		}
	}
	if int(b.nhist) == len(b.hist) {
		b.nhist = 0xff
		return
	}
	b.hist[b.nhist] = flagCount{f, 1}
	b.nhist++
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
	// Filter on the points' tags.
	Filter Filter
	// Accept, if not nil, further filters points by ID. It is slower than
	// Filter: every candidate is examined one by one.
	Accept func(id int32) bool
}

// Result of a Query. Reuse one across queries to avoid allocation.
type Result struct {
	Within  int
	Nearest []Neighbor
	// Examined counts points looked at one by one for the count (the rest
	// were counted or skipped a bucket at a time); Estimated those the
	// sphere left undecided; Refined the exact geodesic evaluations made.
	Examined, Estimated, Refined int

	near  []visit
	cand  []cand
	best  []float64
	boxes [2][2][2]float32
}

type visit struct {
	b  int32   // bucket
	lo float64 // least chord from the query centre to a point of the bucket
	d  float64 // chord from the query centre to the bucket's sphere centre
}

type cand struct {
	c2  float64 // squared chord, then (after finishNearest's first pass) estimated metres
	est float64
	i   int32 // internal position
}

// Search answers q into res.
func (ix *Index) Search(q Query, res *Result) {
	res.Within, res.Examined, res.Estimated, res.Refined = 0, 0, 0, 0
	res.Nearest = res.Nearest[:0]
	if len(ix.pts) == 0 || (q.Radius <= 0 && q.K <= 0) || q.Center.Validate() != nil {
		return
	}
	s := newSearcher(ix, &q, res, unit(q.Center))
	angle := 10 * MetersPerMile / radiusM(0) // first guess for the nearest
	if q.Radius > 0 {
		m := q.Radius * MetersPerMile
		lo, hi := curvatureBounds(q.Center.Lat, m/radiusM(0))
		s.count(m, m/lo, math.Sqrt(angleToChord2(m/hi)), math.Sqrt(angleToChord2(m/lo)))
		angle = m / lo
		if q.K > 0 && res.Within >= 2*q.K {
			// Enough points within the radius: guess the cap holding the k
			// nearest from their density, and search only that.
			angle *= math.Min(1, 1.5*math.Sqrt(float64(q.K)/float64(res.Within)))
		}
	}
	if q.K <= 0 {
		return
	}
	s.collect(angle)
	for {
		s.nearest()
		lo, hi := curvatureBounds(q.Center.Lat, angle)
		if len(res.best) >= q.K {
			need := chord2ToAngle(res.best[q.K-1]) * hi / lo
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
		s.collect(angle)
	}
	s.finishNearest(angle)
}

type searcher struct {
	ix   *Index
	q    *Query
	res  *Result
	c    vec3
	φ    float64 // centre latitude, radians
	from end     // centre, for exact distances
}

// newSearcher answers q into res from the centre u (q.Center's unit
// vector), ready for exact distances from it.
func newSearcher(ix *Index, q *Query, res *Result, u vec3) searcher {
	return searcher{ix: ix, q: q, res: res, c: u, φ: q.Center.Lat * deg,
		from: ellipsoid{wgs84A, wgs84F}.endFrom(q.Center.Lon, u.z, math.Hypot(u.x, u.y))}
}

// groupsIn calls fn for each group whose box meets the cap of the given
// angle, once each, with the chord from the centre to its sphere's centre.
func (s *searcher) groupsIn(angle float64, fn func(g *bucket, d float64)) {
	boxes := capBoxes(s.q.Center, angle, &s.res.boxes)
	for k, b := range boxes {
		s.ix.tree.Search(b[0], b[1], func(lo, hi [2]float32, n int32) bool {
			// A group meeting both halves of a split cap is visited once.
			if k == 1 && boxesMeet(lo, hi, boxes[0]) {
				return true
			}
			g := &s.ix.groups[n]
			fn(g, math.Sqrt(chord2(s.c, g.c)))
			return true
		})
	}
}

// collect lists the buckets that may hold points within the cap of the
// given angle.
func (s *searcher) collect(angle float64) {
	r := s.res
	r.near = r.near[:0]
	out := math.Sqrt(angleToChord2(angle))
	f := &s.q.Filter
	s.groupsIn(angle, func(g *bucket, d float64) {
		if d-g.r > out || f.skips(g) {
			return
		}
		for n := g.start; n < g.end; n++ {
			b := &s.ix.buckets[n]
			if f.skips(b) {
				continue
			}
			d := math.Sqrt(chord2(s.c, b.c))
			if d-b.r <= out {
				r.near = append(r.near, visit{n, d - b.r, d})
			}
		}
	})
}

func boxesMeet(lo, hi [2]float32, b [2][2]float32) bool {
	return lo[0] <= b[1][0] && hi[0] >= b[0][0] && lo[1] <= b[1][1] && hi[1] >= b[0][1]
}

// exactMeters is the geodesic length from the query centre to point i.
func (s *searcher) exactMeters(i int32) float64 {
	s.res.Refined++
	it := &s.ix.items[i]
	e := ellipsoid{wgs84A, wgs84F}
	if d, ok := e.vincenty(s.from, e.endFrom(s.ix.pts[i].Lon, it.u.z, math.Hypot(it.u.x, it.u.y))); ok {
		return d
	}
	return e.antipodal(s.q.Center, s.ix.pts[i])
}

// within decides whether point i, whose squared chord from the centre lies
// in the sphere's band of doubt, is within m metres.
func (s *searcher) within(i int32, c2, m float64) bool {
	if m <= estimateMaxMeters {
		s.res.Estimated++
		est := estimateMeters(s.φ, s.ix.pts[i].Lat*deg, chord2ToAngle(c2))
		if est <= m*(1-estimateTolerance) {
			return true
		}
		if est > m*(1+estimateTolerance) {
			return false
		}
	}
	return s.exactMeters(i) <= m
}

// count adds up accepted points within m metres (a cap of the given
// angle); in and out are chords within which a point is certainly inside,
// beyond which certainly outside. Groups and buckets wholly inside are
// counted from their summaries.
func (s *searcher) count(m, angle, in, out float64) {
	ix, q, r := s.ix, s.q, s.res
	s.groupsIn(angle, func(g *bucket, d float64) {
		if d-g.r > out || q.Filter.skips(g) {
			return
		}
		if d+g.r <= in && q.Accept == nil {
			if n, ok := q.Filter.countAll(g, ix.points(g)); ok {
				r.Within += n
				return
			}
		}
		for n := g.start; n < g.end; n++ {
			s.countBucket(&ix.buckets[n], m, in, out)
		}
	})
}

func (s *searcher) countBucket(b *bucket, m, in, out float64) {
	ix, q, r := s.ix, s.q, s.res
	if q.Filter.skips(b) {
		return
	}
	d2 := chord2(s.c, b.c)
	if o := out + b.r; d2 > o*o {
		return
	}
	if i := in - b.r; i >= 0 && d2 <= i*i && q.Accept == nil { // wholly inside: only the filter matters
		if n, ok := q.Filter.countAll(b, int(b.end-b.start)); ok {
			r.Within += n
			return
		}
		for i := b.start; i < b.end; i++ {
			if ix.passAt(&q.Filter, i) {
				r.Within++
			}
		}
		return
	}
	r.Examined += int(b.end - b.start)
	in2, out2 := in*in, out*out
	for i := b.start; i < b.end; i++ {
		it := &ix.items[i]
		c2 := chord2(s.c, it.u)
		if c2 > out2 || !ix.passAt(&q.Filter, i) || (q.Accept != nil && !q.Accept(ix.ids[i])) {
			continue
		}
		if c2 <= in2 || s.within(i, c2, m) {
			r.Within++
		}
	}
}

// nearest gathers candidates for the k nearest from the collected buckets,
// nearest buckets first, so the cut-off tightens early and distant buckets
// are skipped whole. res.best keeps the k smallest squared chords; res.cand
// keeps every candidate that could still be among the exact k nearest.
func (s *searcher) nearest() {
	r, k := s.res, s.q.K
	r.cand, r.best = r.cand[:0], r.best[:0]
	cut := math.Inf(1) // chord
	ratio := ratioBound()
	todo := r.near
	for picks := 0; len(todo) > 0; picks++ {
		j := 0
		if picks == 8 { // many buckets needed: order the rest once
			slices.SortFunc(todo, func(a, b visit) int { return cmpFloat(a.lo, b.lo) })
		} else if picks < 8 {
			for i := 1; i < len(todo); i++ {
				if todo[i].lo < todo[j].lo {
					j = i
				}
			}
		}
		v := todo[j]
		todo[j] = todo[0]
		todo = todo[1:]
		if v.lo > cut {
			break // the nearest remaining bucket is beyond the cut: so are the rest
		}
		b := &s.ix.buckets[v.b]
		for i := b.start; i < b.end; i++ {
			it := &s.ix.items[i]
			c2 := chord2(s.c, it.u)
			if c2 > cut*cut || !s.ix.passAt(&s.q.Filter, i) || (s.q.Accept != nil && !s.q.Accept(s.ix.ids[i])) {
				continue
			}
			r.cand = append(r.cand, cand{c2: c2, i: i})
			if len(r.best) < k {
				r.best = insertSorted(r.best, c2)
			} else if c2 < r.best[k-1] {
				r.best = insertSorted(r.best[:k-1], c2)
			} else {
				continue
			}
			if len(r.best) == k {
				// The chord of ratio·θ is at most ratio times the chord
				// of θ (sin is concave on [0, π]): a cut as safe as the
				// exact one, a hair wider, without trigonometry.
				cut = math.Sqrt(r.best[k-1]) * ratio
			}
		}
		if len(r.cand) > 8*k+64 { // prune what can no longer qualify
			kept := r.cand[:0]
			for _, c := range r.cand {
				if c.c2 <= cut*cut {
					kept = append(kept, c)
				}
			}
			r.cand = kept
		}
	}
}

// ratioBound is the greatest ratio of geodesic lengths for equal sphere
// angles anywhere: N(90°)/M(0°) ≈ 1.0101.
func ratioBound() float64 { return ratioMax }

var ratioMax = radiusN(90) / radiusM(0)

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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

// finishNearest turns the spherical candidates into the exact k nearest:
// the sphere's bounds narrow them to a band, estimates narrow the band to
// the few that could be k-th, and those get exact distances.
func (s *searcher) finishNearest(angle float64) {
	r, k := s.res, s.q.K
	if len(r.best) == 0 {
		return
	}
	kth := r.best[min(k, len(r.best))-1]
	lo, hi := curvatureBounds(s.q.Center.Lat, angle)
	cut := angleToChord2(chord2ToAngle(kth) * hi / lo)
	cs := r.cand[:0]
	for _, c := range r.cand {
		if c.c2 <= cut {
			c.est = estimateMeters(s.φ, s.ix.pts[c.i].Lat*deg, chord2ToAngle(c.c2))
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b cand) int { return cmpFloat(a.est, b.est) })
	limit := math.Inf(1)
	if e := cs[min(k, len(cs))-1].est; e <= estimateMaxMeters {
		limit = e * (1 + estimateTolerance) / (1 - estimateTolerance)
	}
	for _, c := range cs {
		if c.est > limit {
			break
		}
		r.Nearest = append(r.Nearest, Neighbor{ID: s.ix.ids[c.i], Miles: s.exactMeters(c.i) / MetersPerMile})
	}
	sortNeighbors(r.Nearest)
	if len(r.Nearest) > k {
		r.Nearest = r.Nearest[:k]
	}
}

func sortNeighbors(ns []Neighbor) {
	slices.SortFunc(ns, func(a, b Neighbor) int {
		if c := cmpFloat(a.Miles, b.Miles); c != 0 {
			return c
		}
		return int(a.ID) - int(b.ID)
	})
}

// Within appends to dst every point passing f (and accept, if not nil)
// within miles of center, with exact distances, nearest first.
func (ix *Index) Within(center Point, miles float64, f Filter, accept func(id int32) bool, dst []Neighbor) []Neighbor {
	if len(ix.pts) == 0 || !(miles >= 0) || center.Validate() != nil {
		return dst
	}
	m := miles * MetersPerMile
	lo, _ := curvatureBounds(center.Lat, m/radiusM(0))
	angle := m / lo
	var res Result
	s := newSearcher(ix, &Query{Center: center, Filter: f}, &res, unit(center))
	s.collect(angle)
	out := math.Sqrt(angleToChord2(angle))
	start := len(dst)
	for _, v := range res.near {
		b := &ix.buckets[v.b]
		if v.lo > out {
			continue
		}
		for i := b.start; i < b.end; i++ {
			it := &ix.items[i]
			if chord2(s.c, it.u) > out*out || !ix.passAt(&f, i) || (accept != nil && !accept(ix.ids[i])) {
				continue
			}
			if d := s.exactMeters(i) / MetersPerMile; d <= miles {
				dst = append(dst, Neighbor{ID: ix.ids[i], Miles: d})
			}
		}
	}
	sortNeighbors(dst[start:])
	return dst
}

// curvatureBounds returns the least meridional and the greatest prime
// vertical radius of curvature (metres) over the latitudes a path of
// central angle ≤ angle from latitude lat can visit. Any geodesic from the
// centre whose sphere angle is θ ≤ angle is between lo·θ and hi·θ long.
func curvatureBounds(lat, angle float64) (lo, hi float64) {
	return curvatureBoundsRange(lat, lat, angle)
}

// curvatureBoundsRange is curvatureBounds for centres anywhere in a band
// of latitudes.
func curvatureBoundsRange(latMin, latMax, angle float64) (lo, hi float64) {
	// A path of ellipsoidal length ≤ hi·angle stays within hi·angle/M(0)
	// radians of the centre; widen the band by that factor.
	band := angle * ratioBound() / deg
	a, b := latMin-band, latMax+band
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
// angle around p, split at the antimeridian, using buf for storage.
func capBoxes(p Point, angle float64, buf *[2][2][2]float32) [][2][2]float32 {
	θ := angle / deg
	latLo, latHi := p.Lat-θ-boxPad, p.Lat+θ+boxPad
	box := func(a, b float64) [2][2]float32 {
		return [2][2]float32{{float32(a), float32(math.Max(latLo, -90-boxPad))}, {float32(b), float32(math.Min(latHi, 90+boxPad))}}
	}
	buf[0] = box(-180-boxPad, 180+boxPad)
	if angle >= math.Pi/2 || latHi >= 90 || latLo <= -90 {
		return buf[:1]
	}
	dλ := math.Asin(math.Min(1, math.Sin(angle)/math.Cos(p.Lat*deg)))/deg + boxPad
	if dλ >= 180 {
		return buf[:1]
	}
	lo, hi := p.Lon-dλ, p.Lon+dλ
	switch {
	case lo < -180:
		buf[0], buf[1] = box(-180-boxPad, hi), box(lo+360, 180+boxPad)
		return buf[:2]
	case hi > 180:
		buf[0], buf[1] = box(lo, 180+boxPad), box(-180-boxPad, hi-360)
		return buf[:2]
	}
	buf[0] = box(lo, hi)
	return buf[:1]
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
