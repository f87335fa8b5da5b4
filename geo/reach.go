package geo

import (
	"math"
	"slices"
)

// Reach: who lies within whose radius, without the nearest. A question
// about a change to the indexed points — which probes lose or gain a point
// within their radius when one leaves or joins, and which points are the
// only ones within some probe's radius — needs, per probe, the count and
// (when it is small) the points themselves, and per point the number of
// probes that reach it. ReachCell answers that for a cell of probes with
// one search, as ProbeCell does for counts and nearest points; EachWithin
// lists the points within one radius.

// ReachResult answers one probe of ReachCell.
type ReachResult struct {
	// Within counts the points passing the filter within the probe's
	// radius, as Search and ProbeCell count them.
	Within int
	// InReach lists those points' IDs, ascending, when Within is at most
	// the probe's Required (an empty list when none is within); nil when
	// more are within. The slice lives in the scratch until its next use.
	InReach []int32
}

// ReachScratch holds ReachCell's working memory; reuse one per goroutine.
type ReachScratch struct {
	ps    ProbeScratch
	hits  []int32 // per gathered point: probes whose radius holds it, found point by point
	bhits []int32 // per gathered bucket: probes whose radius holds all of it
	ids   []int32 // backing for ReachResult.InReach
	sub   []Probe
	at    []int
	res   []ReachResult
}

// ReachCell answers probes whose centres lie close together (a cell of
// Cells) with one search of the index, as ProbeCell does, but finds no
// nearest point: out[i].Within counts the points passing f within probe
// i's radius, and lists them when there are at most probe i's Required.
//
// counts, if not nil, must have an element per indexed point: counts[id]
// grows by the number of the probes whose radius holds point id, so that
// over many cells it counts the probes that reach each point. covered, if
// not nil, is called once per (group, point) such that the point lies
// within the radius of a probe of that group, as ProbeCell calls it.
//
// The decisions are exactly Search's: the sphere decides most points, the
// second-order estimate most of the rest, the exact geodesic the few near
// a limit.
func (ix *Index) ReachCell(probes []Probe, f Filter, out []ReachResult, counts []int32, covered func(group, id int32), rs *ReachScratch) {
	if rs.ids == nil {
		rs.ids = make([]int32, 0, 256) // an empty list is not nil
	}
	rs.ids = rs.ids[:0]
	if rs.ps.assignGroups(probes, covered != nil) {
		ix.reachCell(probes, f, out, counts, covered, rs)
		return
	}
	// More groups than one pass tells apart: passes of whole groups, so
	// that covered still hears of each (group, point) once.
	pass := map[int32]int{}
	for _, p := range probes {
		if _, ok := pass[p.Group]; !ok {
			pass[p.Group] = len(pass) / MaxCellGroups
		}
	}
	for n := range (len(pass) + MaxCellGroups - 1) / MaxCellGroups {
		rs.sub, rs.at = rs.sub[:0], rs.at[:0]
		for i, p := range probes {
			if pass[p.Group] == n {
				rs.sub, rs.at = append(rs.sub, p), append(rs.at, i)
			}
		}
		rs.res = slices.Grow(rs.res[:0], len(rs.sub))[:len(rs.sub)]
		rs.ps.assignGroups(rs.sub, true)
		ix.reachCell(rs.sub, f, rs.res, counts, covered, rs)
		for j, i := range rs.at {
			out[i] = rs.res[j]
		}
	}
}

// reachCell answers probes of at most MaxCellGroups groups, their bits
// assigned.
func (ix *Index) reachCell(probes []Probe, f Filter, out []ReachResult, counts []int32, covered func(group, id int32), rs *ReachScratch) {
	sc := &rs.ps
	for i := range probes {
		out[i] = ReachResult{}
	}
	if len(probes) == 0 || len(ix.pts) == 0 {
		for i := range probes {
			out[i].InReach = rs.ids[len(rs.ids):len(rs.ids):len(rs.ids)]
		}
		return
	}
	center, cu, rCell, rMax := sc.cellOf(probes)
	capAngle := math.Min(math.Pi, (rCell+rMax*MetersPerMile/radiusM(0))*(1+1e-9))
	sc.gather(ix, center, cu, capAngle, f, 1)
	sc.lo, sc.hi = curvatureBoundsRange(sc.latMin, sc.latMax, capAngle)
	sc.spare = append(sc.spare, sc.classes...)
	sc.classes = sc.classes[:0]
	tally := counts != nil
	if tally {
		rs.hits = zeroed(rs.hits, len(sc.cand))
		rs.bhits = zeroed(rs.bhits, len(sc.bk))
	}
	rc := math.Sqrt(angleToChord2(rCell))
	for pi := range probes {
		p := &probes[pi]
		cl := sc.classFor(p.Radius, cu, rc)
		cl.mask |= sc.bits[pi]
		out[pi] = ix.reachOne(p, sc.units[pi], sc.bits[pi], cl, rs, tally)
	}
	for _, cl := range sc.classes {
		n := int32(0) // the class's probes: each holds every bucket inside
		if tally {
			for pi := range probes {
				if probes[pi].Radius == cl.radius {
					n++
				}
			}
		}
		for _, bi := range cl.inside {
			sc.bk[bi].mask |= cl.mask
			if tally {
				rs.bhits[bi] += n
			}
		}
	}
	if tally {
		for bi := range sc.bk {
			b := &sc.bk[bi]
			for k := b.start; k < b.end; k++ {
				if n := rs.bhits[bi] + rs.hits[k]; n > 0 {
					counts[ix.ids[sc.cand[k].i]] += n
				}
			}
		}
	}
	if covered != nil {
		sc.reportCovered(ix, covered)
	}
}

func zeroed(s []int32, n int) []int32 {
	s = slices.Grow(s[:0], n)[:n]
	clear(s)
	return s
}

// reachOne counts one probe's points from the gathered ones, bucket by
// bucket, listing them while there are at most p.Required.
func (ix *Index) reachOne(p *Probe, u vec3, bit uint64, cl *radiusClass, rs *ReachScratch, tally bool) ReachResult {
	sc := &rs.ps
	var res ReachResult
	start := len(rs.ids)
	list := true
	add := func(k int32) {
		if !list {
			return
		}
		if res.Within > p.Required {
			list = false
			return
		}
		rs.ids = append(rs.ids, ix.ids[sc.cand[k].i])
	}
	if cl.out2 >= 0 {
		res.Within = cl.base
		if res.Within > p.Required {
			list = false
		} else {
			for _, bi := range cl.inside {
				b := &sc.bk[bi]
				for k := b.start; k < b.end; k++ {
					rs.ids = append(rs.ids, ix.ids[sc.cand[k].i])
				}
			}
		}
		s := newSearcher(ix, &Query{Center: p.Center, Radius: p.Radius}, &sc.res, u)
		in2, out2 := cl.in2, cl.out2
		in, out := math.Sqrt(in2), math.Sqrt(out2)
		m := p.Radius * MetersPerMile
		for _, bi := range cl.uncertain {
			b := &sc.bk[bi]
			d2 := chord2(u, b.c)
			if o := out + b.r; d2 > o*o {
				continue
			}
			if i := in - b.r; i >= 0 && d2 <= i*i {
				res.Within += int(b.end - b.start)
				b.mask |= bit
				if tally {
					rs.bhits[bi]++
				}
				for k := b.start; k < b.end && list; k++ {
					add(k)
				}
				continue
			}
			for k := b.start; k < b.end; k++ {
				c := &sc.cand[k]
				c2 := chord2(u, c.u)
				if c2 <= out2 && (c2 <= in2 || s.within(c.i, c2, m)) {
					res.Within++
					c.mask |= bit
					if tally {
						rs.hits[k]++
					}
					add(k)
				}
			}
		}
	}
	if !list || res.Within > p.Required {
		rs.ids = rs.ids[:start]
		return res
	}
	res.InReach = rs.ids[start:len(rs.ids):len(rs.ids)]
	slices.Sort(res.InReach)
	return res
}

// EachWithin calls fn with the ID of every point passing f within miles
// of center, in no particular order: the points Search counts for that
// radius (none for a radius of 0 or less). Buckets wholly inside are
// listed without a distance; only points near the limit get the exact one.
func (ix *Index) EachWithin(center Point, miles float64, f Filter, fn func(id int32)) {
	if len(ix.pts) == 0 || !(miles > 0) || center.Validate() != nil {
		return
	}
	var res Result
	s := newSearcher(ix, &Query{Center: center, Radius: miles, Filter: f}, &res, unit(center))
	m := miles * MetersPerMile
	lo, hi := curvatureBounds(center.Lat, m/radiusM(0))
	angle := m / lo
	in, out := math.Sqrt(angleToChord2(m/hi)), math.Sqrt(angleToChord2(m/lo))
	in2, out2 := in*in, out*out
	s.groupsIn(angle, func(g *bucket, d float64) {
		if d-g.r > out || f.skips(g) {
			return
		}
		for n := g.start; n < g.end; n++ {
			b := &ix.buckets[n]
			if f.skips(b) {
				continue
			}
			d2 := chord2(s.c, b.c)
			if o := out + b.r; d2 > o*o {
				continue
			}
			inside := in-b.r >= 0 && d2 <= (in-b.r)*(in-b.r)
			for i := b.start; i < b.end; i++ {
				if !ix.passAt(&f, i) {
					continue
				}
				if inside {
					fn(ix.ids[i])
					continue
				}
				c2 := chord2(s.c, ix.items[i].u)
				if c2 <= out2 && (c2 <= in2 || s.within(i, c2, m)) {
					fn(ix.ids[i])
				}
			}
		}
	})
}
