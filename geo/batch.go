package geo

import (
	"math"
	"slices"
)

// Probe is one centre of a batch: count the points within Radius miles,
// find the nearest. Group tags the probe (a county, say): ProbeCell
// reports, per group, which points lie within the radius of at least one
// of its probes.
type Probe struct {
	Center Point
	Radius float64 // miles; 0 or less counts nothing
	Group  int32
	// Estimate allows the nearest distance to be the second-order
	// estimate (relative error below EstimateTolerance) when at least
	// Required points lie within Radius; otherwise it is exact.
	Estimate bool
	Required int
}

// EstimateTolerance bounds the relative error of an estimated distance.
const EstimateTolerance = estimateTolerance

// ProbeResult answers one Probe.
type ProbeResult struct {
	Within  int
	Nearest Neighbor // ID −1 when no point passes the filter
	// Estimated: Nearest.Miles is an estimate within EstimateTolerance
	// (relative) of the exact figure, and Nearest.ID the point nearest by
	// the estimate.
	Estimated bool
	// NearestK holds the k nearest for ProbeCellK (Nearest is its first).
	NearestK []Neighbor
}

// ProbeScratch holds ProbeCell's working memory; reuse one per goroutine.
type ProbeScratch struct {
	res     Result
	cand    []batchCand
	bk      []cellBucket
	nearSet []int32  // indices into cand that can be some probe's nearest
	groups  []int32  // the cell's groups; bit k of a mask is groups[k]
	bits    []uint64 // each probe's group bit
	est     []cand
	units   []vec3
	// latitude range of the cell's probes, and the curvature bounds over
	// it and the search cap
	latMin, latMax float64
	lo, hi         float64
	classes        []*radiusClass
	spare          []*radiusClass
	k              int
	arena          []Neighbor // backing for ProbeResult.NearestK
	tmp            []Neighbor
	kth            []float64 // gather: the k smallest chords to the centre
}

// radiusClass sorts a cell's buckets for the probes of one radius: those
// within the radius of every probe of the cell (counted once), those
// beyond it for every probe (skipped), and the rest, which each probe
// examines.
type radiusClass struct {
	radius    float64
	in2, out2 float64 // squared chords: certainly within, certainly beyond
	base      int     // points in the buckets inside for every probe
	inside    []int32 // those buckets
	uncertain []int32
	mask      uint64 // groups of the class's probes
}

func (sc *ProbeScratch) classFor(radius float64, cu vec3, rc float64) *radiusClass {
	for _, cl := range sc.classes {
		if cl.radius == radius {
			return cl
		}
	}
	var cl *radiusClass
	if n := len(sc.spare); n > 0 {
		cl, sc.spare = sc.spare[n-1], sc.spare[:n-1]
	} else {
		cl = new(radiusClass)
	}
	*cl = radiusClass{radius: radius, inside: cl.inside[:0], uncertain: cl.uncertain[:0], in2: -1, out2: -1}
	sc.classes = append(sc.classes, cl)
	if radius <= 0 {
		return cl
	}
	m := radius * MetersPerMile
	cl.in2, cl.out2 = angleToChord2(m/sc.hi), angleToChord2(m/sc.lo)
	in, out := math.Sqrt(cl.in2), math.Sqrt(cl.out2)
	for bi := range sc.bk {
		b := &sc.bk[bi]
		d := math.Sqrt(chord2(cu, b.c))
		switch {
		case d+b.r+rc <= in:
			cl.base += int(b.end - b.start)
			cl.inside = append(cl.inside, int32(bi))
		case d-b.r-rc > out:
		default:
			cl.uncertain = append(cl.uncertain, int32(bi))
		}
	}
	return cl
}

type batchCand struct {
	u    vec3
	i    int32  // internal position
	mask uint64 // bit g: within the radius of a probe of the cell's g-th group
}

// cellBucket is an index bucket's passing points among the gathered ones,
// with the bucket's bounding sphere, so a probe counts a bucket wholly
// inside its radius at once and skips one wholly outside.
type cellBucket struct {
	c          vec3
	r          float64
	start, end int32  // range of cand
	mask       uint64 // groups whose probes hold the whole bucket
}

// ProbeCell answers probes whose centres lie close together (a cell of
// members in spatial order) with one search of the index: every point that
// could be within a probe's radius, or nearest to one of them, is gathered
// once, and each probe then scans that short list with unit-vector chords.
// Answers are exactly those of Search, probe by probe: the sphere decides
// most points, the second-order estimate most of the rest, and the exact
// geodesic the few within its tolerance of a limit.
//
// covered, if not nil, is called once per (group, point) such that the
// point lies within the radius of a probe of that group. One pass tells
// apart MaxCellGroups groups; a cell of more is answered in several passes
// (slower, the same answers): Cells never makes one.
func (ix *Index) ProbeCell(probes []Probe, f Filter, out []ProbeResult, covered func(group, id int32), sc *ProbeScratch) {
	ix.ProbeCellK(probes, 1, f, out, covered, sc)
}

// ProbeCellK is ProbeCell reporting the k nearest points of each probe in
// ProbeResult.NearestK (nearest first, ties by ID, exact distances; the
// slices live in sc until its next use), as Search does. Estimated
// nearest distances are for k = 1 only.
func (ix *Index) ProbeCellK(probes []Probe, k int, f Filter, out []ProbeResult, covered func(group, id int32), sc *ProbeScratch) {
	k = max(k, 1)
	sc.k = k
	if k > 1 && cap(sc.arena) < len(probes)*k {
		sc.arena = make([]Neighbor, 0, len(probes)*k)
	}
	sc.arena = sc.arena[:0]
	if !sc.assignGroups(probes, covered != nil) {
		ix.probeGroupsApart(probes, f, out, covered, sc)
		return
	}
	ix.probeCell(probes, f, out, covered, sc)
}

// assignGroups gives each probe its group's bit in sc.bits (one bit for
// all when groups do not matter); false when the probes hold more than
// MaxCellGroups groups.
func (sc *ProbeScratch) assignGroups(probes []Probe, grouped bool) bool {
	sc.groups, sc.bits = sc.groups[:0], sc.bits[:0]
	for _, p := range probes {
		if !grouped {
			sc.bits = append(sc.bits, 1)
			continue
		}
		k := slices.Index(sc.groups, p.Group)
		if k < 0 {
			if len(sc.groups) == MaxCellGroups {
				return false
			}
			k = len(sc.groups)
			sc.groups = append(sc.groups, p.Group)
		}
		sc.bits = append(sc.bits, 1<<k)
	}
	return true
}

// probeGroupsApart answers probes of more than MaxCellGroups groups in
// passes of MaxCellGroups whole groups each, so that covered still hears
// of each (group, point) once.
func (ix *Index) probeGroupsApart(probes []Probe, f Filter, out []ProbeResult, covered func(group, id int32), sc *ProbeScratch) {
	pass := map[int32]int{}
	for _, p := range probes {
		if _, ok := pass[p.Group]; !ok {
			pass[p.Group] = len(pass) / MaxCellGroups
		}
	}
	var sub []Probe
	var at []int
	var res []ProbeResult
	for n := range (len(pass) + MaxCellGroups - 1) / MaxCellGroups {
		sub, at = sub[:0], at[:0]
		for i, p := range probes {
			if pass[p.Group] == n {
				sub, at = append(sub, p), append(at, i)
			}
		}
		res = slices.Grow(res[:0], len(sub))[:len(sub)]
		sc.assignGroups(sub, true)
		ix.probeCell(sub, f, res, covered, sc)
		for j, i := range at {
			out[i] = res[j]
		}
	}
}

// probeCell answers probes of at most MaxCellGroups groups, their bits
// assigned.
func (ix *Index) probeCell(probes []Probe, f Filter, out []ProbeResult, covered func(group, id int32), sc *ProbeScratch) {
	k := sc.k
	for i := range probes {
		out[i] = ProbeResult{Nearest: Neighbor{ID: -1}}
	}
	if len(probes) == 0 || len(ix.pts) == 0 {
		return
	}
	center, cu, rCell, rMax := sc.cellOf(probes)
	lo, hi := radiusM(0), radiusN(90)
	capAngle := math.Min(math.Pi, (rCell+rMax*MetersPerMile/lo)*(1+1e-9))
	θc := sc.gather(ix, center, cu, capAngle, f, k)
	if math.IsInf(θc, 1) {
		// Fewer than k points within the radii: bound the k nearest by the
		// points nearest the cell's centre, found by the index.
		ix.Search(Query{Center: center, K: k, Filter: f}, &sc.res)
		if len(sc.res.Nearest) == 0 {
			return // no point passes the filter anywhere
		}
		θc = sc.res.Nearest[len(sc.res.Nearest)-1].Miles * MetersPerMile / lo
		if len(sc.res.Nearest) < k {
			θc = math.Pi // fewer than k anywhere: every point can be among them
		}
	}
	// Every probe's k nearest points are within nearAngle of the centre:
	// the k points nearest the centre are within rCell + θc of a probe.
	nearAngle := math.Min(math.Pi, (rCell+hi/lo*(rCell+θc))*(1+1e-9))
	if nearAngle > capAngle {
		capAngle = nearAngle
		sc.gather(ix, center, cu, capAngle, f, k)
	}
	sc.nearSet = sc.nearSet[:0]
	near2 := angleToChord2(nearAngle)
	for k := range sc.cand {
		if chord2(cu, sc.cand[k].u) <= near2 {
			sc.nearSet = append(sc.nearSet, int32(k))
		}
	}
	sc.lo, sc.hi = curvatureBoundsRange(sc.latMin, sc.latMax, capAngle)
	sc.spare = append(sc.spare, sc.classes...)
	sc.classes = sc.classes[:0]
	rc := math.Sqrt(angleToChord2(rCell))
	for pi := range probes {
		p := &probes[pi]
		g := sc.bits[pi]
		cl := sc.classFor(p.Radius, cu, rc)
		cl.mask |= g
		out[pi] = ix.probeOne(p, sc.units[pi], g, cl, sc)
	}
	for _, cl := range sc.classes {
		for _, bi := range cl.inside {
			sc.bk[bi].mask |= cl.mask
		}
	}
	if covered != nil {
		sc.reportCovered(ix, covered)
	}
}

// cellOf returns the cell's centre, its unit vector, and the greatest
// sphere angle from it to a probe, and the greatest probe radius.
func (sc *ProbeScratch) cellOf(probes []Probe) (Point, vec3, float64, float64) {
	var s vec3
	rMax := 0.0
	sc.units = sc.units[:0]
	sc.latMin, sc.latMax = 90, -90
	for _, p := range probes {
		sc.latMin, sc.latMax = min(sc.latMin, p.Center.Lat), max(sc.latMax, p.Center.Lat)
		u := unit(p.Center)
		sc.units = append(sc.units, u)
		s.x, s.y, s.z = s.x+u.x, s.y+u.y, s.z+u.z
		rMax = math.Max(rMax, p.Radius)
	}
	n := math.Sqrt(s.x*s.x + s.y*s.y + s.z*s.z)
	if n < 1e-9 { // probes all over the globe: any centre will do
		s, n = unit(probes[0].Center), 1
	}
	cu := vec3{s.x / n, s.y / n, s.z / n}
	center := Point{Lat: math.Asin(clamp(cu.z, -1, 1)) / deg, Lon: math.Atan2(cu.y, cu.x) / deg}
	c2 := 0.0
	for _, u := range sc.units {
		if d := chord2(cu, u); d > c2 {
			c2 = d
		}
	}
	return center, cu, chord2ToAngle(c2) * (1 + 1e-9), rMax
}

// gather collects every point passing f within the cap, with its unit
// vector copied beside it so the probe loops read contiguous memory, in
// runs per index bucket. It returns an upper bound on the sphere angle
// from the centre to the nearest such point (+Inf when there is none).
func (sc *ProbeScratch) gather(ix *Index, center Point, cu vec3, angle float64, f Filter, k int) float64 {
	sc.cand, sc.bk, sc.kth = sc.cand[:0], sc.bk[:0], sc.kth[:0]
	s := searcher{ix: ix, q: &Query{Center: center, Filter: f}, res: &sc.res, c: cu}
	s.collect(angle)
	out := math.Sqrt(angleToChord2(angle))
	out2, best := out*out, math.Inf(1)
	for _, v := range sc.res.near {
		b := &ix.buckets[v.b]
		if v.lo > out {
			continue
		}
		start := int32(len(sc.cand))
		for i := b.start; i < b.end; i++ {
			it := &ix.items[i]
			if !ix.passAt(&f, i) {
				continue
			}
			c2 := chord2(cu, it.u)
			if c2 > out2 {
				continue
			}
			if c2 < best {
				if len(sc.kth) < k {
					sc.kth = insertSorted(sc.kth, c2)
				} else {
					sc.kth = insertSorted(sc.kth[:k-1], c2)
				}
				if len(sc.kth) == k {
					best = sc.kth[k-1]
				}
			}
			sc.cand = append(sc.cand, batchCand{u: it.u, i: i})
		}
		if end := int32(len(sc.cand)); end > start {
			sc.bk = append(sc.bk, cellBucket{c: b.c, r: b.r, start: start, end: end})
		}
	}
	if math.IsInf(best, 1) {
		return best
	}
	return chord2ToAngle(best) * (1 + 1e-12)
}

func bitIndex(m uint64) int {
	k := 0
	for m&1 == 0 {
		m >>= 1
		k++
	}
	return k
}

// probeOne answers one probe from the gathered points: the count bucket by
// bucket, the nearest from the short list that can hold it.
func (ix *Index) probeOne(p *Probe, u vec3, bit uint64, cl *radiusClass, sc *ProbeScratch) ProbeResult {
	res := ProbeResult{Nearest: Neighbor{ID: -1}}
	s := newSearcher(ix, &Query{Center: p.Center, Radius: p.Radius}, &sc.res, u)
	in2, out2 := cl.in2, cl.out2
	m := p.Radius * MetersPerMile
	if out2 >= 0 {
		res.Within = cl.base
		in, out := math.Sqrt(in2), math.Sqrt(out2)
		for _, bi := range cl.uncertain {
			b := &sc.bk[bi]
			d2 := chord2(u, b.c)
			if o := out + b.r; d2 > o*o {
				continue
			}
			if i := in - b.r; i >= 0 && d2 <= i*i {
				res.Within += int(b.end - b.start)
				b.mask |= bit
				continue
			}
			for k := b.start; k < b.end; k++ {
				c := &sc.cand[k]
				c2 := chord2(u, c.u)
				if c2 <= out2 && (c2 <= in2 || s.within(c.i, c2, m)) {
					res.Within++
					c.mask |= bit
				}
			}
		}
	}
	if sc.k > 1 {
		res.NearestK = s.nearestK(sc)
		if len(res.NearestK) > 0 {
			res.Nearest = res.NearestK[0]
		}
		return res
	}
	var top topChords
	top.reset()
	for _, k := range sc.nearSet {
		if c2 := chord2(u, sc.cand[k].u); c2 < top.c2[topN-1] {
			top.add(c2, k)
		}
	}
	if top.n == 0 {
		return res
	}
	res.Estimated = p.Estimate && res.Within >= p.Required
	res.Nearest = s.nearestOf(sc, &top, res.Estimated)
	return res
}

// nearestK finds a probe's exact k nearest among the short list, as
// Search's finishNearest does: the sphere bounds narrow the list to those
// that could be among them, estimates narrow it further, and the rest get
// exact distances.
func (s *searcher) nearestK(sc *ProbeScratch) []Neighbor {
	k := sc.k
	sc.kth = sc.kth[:0]
	for _, j := range sc.nearSet {
		c2 := chord2(s.c, sc.cand[j].u)
		if len(sc.kth) < k {
			sc.kth = insertSorted(sc.kth, c2)
		} else if c2 < sc.kth[k-1] {
			sc.kth = insertSorted(sc.kth[:k-1], c2)
		}
	}
	if len(sc.kth) == 0 {
		return nil
	}
	cut := angleToChord2(chord2ToAngle(sc.kth[len(sc.kth)-1]) * sc.hi / sc.lo)
	sc.est = sc.est[:0]
	for _, j := range sc.nearSet {
		if c2 := chord2(s.c, sc.cand[j].u); c2 <= cut {
			i := sc.cand[j].i
			sc.est = append(sc.est, cand{c2: c2, i: i, est: estimateMeters(s.φ, s.ix.pts[i].Lat*deg, chord2ToAngle(c2))})
		}
	}
	slices.SortFunc(sc.est, func(a, b cand) int { return cmpFloat(a.est, b.est) })
	limit := math.Inf(1)
	if e := sc.est[min(k, len(sc.est))-1].est; e <= estimateMaxMeters {
		limit = e * (1 + estimateTolerance) / (1 - estimateTolerance)
	}
	sc.tmp = sc.tmp[:0]
	for _, c := range sc.est {
		if c.est > limit {
			break
		}
		sc.tmp = append(sc.tmp, Neighbor{ID: s.ix.ids[c.i], Miles: s.exactMeters(c.i) / MetersPerMile})
	}
	sortNeighbors(sc.tmp)
	start := len(sc.arena)
	sc.arena = append(sc.arena, sc.tmp[:min(k, len(sc.tmp))]...)
	return sc.arena[start:len(sc.arena):len(sc.arena)]
}

// topChords keeps the topN smallest squared chords seen, sorted.
const topN = 4

type topChords struct {
	c2 [topN]float64
	k  [topN]int32
	n  int
}

func (t *topChords) reset() {
	for i := range t.c2 {
		t.c2[i] = math.Inf(1)
	}
	t.n = 0
}

func (t *topChords) add(c2 float64, k int32) {
	j := topN - 1
	for j > 0 && t.c2[j-1] > c2 {
		t.c2[j], t.k[j] = t.c2[j-1], t.k[j-1]
		j--
	}
	t.c2[j], t.k[j] = c2, k
	t.n = min(t.n+1, topN)
}

// nearestOf finds the exact nearest among the gathered points, given the
// smallest squared chords: only points whose chord is within the sphere's
// error band of the smallest can be nearest, and of those only the ones
// whose estimate is within its tolerance of the best estimate need the
// exact distance. When more than topN points fall in the band (ties in a
// dense cluster), every gathered point is looked at again.
func (s *searcher) nearestOf(sc *ProbeScratch, top *topChords, estimate bool) Neighbor {
	best := top.c2[0]
	cut := angleToChord2(chord2ToAngle(best) * sc.hi / sc.lo)
	sc.est = sc.est[:0]
	add := func(c2 float64, i int32) {
		sc.est = append(sc.est, cand{c2: c2, i: i, est: estimateMeters(s.φ, s.ix.pts[i].Lat*deg, chord2ToAngle(c2))})
	}
	if top.n < topN || top.c2[topN-1] > cut {
		for j := 0; j < top.n && top.c2[j] <= cut; j++ {
			add(top.c2[j], sc.cand[top.k[j]].i)
		}
	} else {
		for _, k := range sc.nearSet {
			if c2 := chord2(s.c, sc.cand[k].u); c2 <= cut {
				add(c2, sc.cand[k].i)
			}
		}
	}
	if len(sc.est) > 1 {
		slices.SortFunc(sc.est, func(a, b cand) int { return cmpFloat(a.est, b.est) })
	}
	if estimate && sc.est[0].est <= estimateMaxMeters {
		return Neighbor{ID: s.ix.ids[sc.est[0].i], Miles: sc.est[0].est / MetersPerMile}
	}
	limit := math.Inf(1)
	if e := sc.est[0].est; e <= estimateMaxMeters {
		limit = e * (1 + estimateTolerance) / (1 - estimateTolerance)
	}
	nb := Neighbor{ID: -1, Miles: math.Inf(1)}
	for _, c := range sc.est {
		if c.est > limit {
			break
		}
		d := s.exactMeters(c.i) / MetersPerMile
		id := s.ix.ids[c.i]
		if d < nb.Miles || (d == nb.Miles && id < nb.ID) {
			nb = Neighbor{ID: id, Miles: d}
		}
	}
	return nb
}

// reportCovered calls covered with every (group, provider ID) pair the
// cell's probes found within reach: candidates in a bucket wholly inside
// a group's reach take the bucket's mask, then each candidate reports
// each group of its mask.
func (sc *ProbeScratch) reportCovered(ix *Index, covered func(group, id int32)) {
	for _, b := range sc.bk {
		if b.mask != 0 {
			for k := b.start; k < b.end; k++ {
				sc.cand[k].mask |= b.mask
			}
		}
	}
	for _, c := range sc.cand {
		for m := c.mask; m != 0; m &= m - 1 {
			covered(sc.groups[bitIndex(m)], ix.ids[c.i])
		}
	}
}
