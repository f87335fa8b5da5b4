package adequacy

import (
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/geoaccess/geoaccess/geo"
)

// Recruitment ranking: which non-participating providers would close the
// most gaps if recruited. Greedy maximum coverage: each pick is the
// candidate that would newly serve the most members still unserved after
// the picks above it (ties: the larger reduction of providers still
// needed — "choice of 2" standards need two —, then roster order), with
// lazy re-evaluation of gains, the standard way to run the greedy
// algorithm over large sets.

// RecruitPick is one ranked candidate.
type RecruitPick struct {
	Rank             int
	Provider         *Provider
	NewlyServed      int // members newly served by this pick, after the picks above
	CumulativeServed int // members newly served by this and every pick above
	CountiesFlipped  int // county × discipline rows that pass once this pick is made
}

// RecruitSkip counts candidates that cannot count toward the standard.
type RecruitSkip struct {
	Participating   int // already participating: not a recruitment candidate
	NotCounting     int // telehealth-only, not accepting, or not effective on the as-of date under the profile
	OtherDiscipline int // a discipline the report does not cover
}

// ErrNoGapState is returned by Recruit on a report built without Gap.
var ErrNoGapState = errors.New("recruitment needs a report made by Engine.Gap")

// Recruit ranks candidates against the report's unserved members. Only
// picks that newly serve a member or reduce the providers still needed are
// listed.
func (r *GapReport) Recruit(ctx context.Context, candidates []Provider) ([]RecruitPick, RecruitSkip, error) {
	var skip RecruitSkip
	ev := r.ev
	if ev == nil {
		return nil, skip, ErrNoGapState
	}
	rs := newRecruitState(ev, r)
	for d := range numDisciplines {
		if !contains(ev.ds, d) {
			continue
		}
		var idx []int32
		for i := range candidates {
			c := &candidates[i]
			switch {
			case c.Discipline != d:
				continue
			case c.Participating:
				skip.Participating++
				continue
			}
			cc := *c
			cc.Participating = true
			if !ev.p.Counting.Counts(&cc, r.AsOf) {
				skip.NotCounting++
				continue
			}
			idx = append(idx, int32(i))
		}
		if err := rs.cover(ctx, d, candidates, idx); err != nil {
			return nil, skip, err
		}
	}
	for i := range candidates {
		if !contains(ev.ds, candidates[i].Discipline) {
			skip.OtherDiscipline++
		}
	}
	return rs.greedy(candidates), skip, nil
}

func contains(ds []Discipline, d Discipline) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

type recruitState struct {
	ev      *gapEval
	need    [numDisciplines][]int32 // per sorted member: providers still needed (0 = served)
	covers  [][]int32               // per candidate: sorted-member indices within its reach
	served  map[int64]int           // county index << 8 | discipline → members served
	members map[int64]int
	reqBP   map[int64]int
}

func newRecruitState(ev *gapEval, r *GapReport) *recruitState {
	rs := &recruitState{ev: ev, served: map[int64]int{}, members: map[int64]int{}, reqBP: map[int64]int{}}
	for _, d := range ev.ds {
		rs.need[d] = make([]int32, len(ev.members))
		for i := range ev.members {
			m := &ev.members[i]
			rs.need[d][i] = int32(max(0, ev.rules[m.county][d].ProvidersRequired-int(ev.within[d][i])))
		}
	}
	fipsIx := map[string]int32{}
	for ci, c := range ev.counties {
		fipsIx[c.FIPS] = int32(ci)
	}
	for _, row := range r.Counties {
		k := int64(fipsIx[row.County.FIPS])<<8 | int64(row.Discipline)
		rs.served[k], rs.members[k], rs.reqBP[k] = row.Served, row.Members, row.requiredBP
	}
	return rs
}

// cover finds, for each candidate of discipline d, the unserved members
// it would be within reach of: the unserved members, a cell of at most 64
// neighbours at a time, probed against an index of the candidates.
func (rs *recruitState) cover(ctx context.Context, d Discipline, cands []Provider, idx []int32) error {
	if rs.covers == nil {
		rs.covers = make([][]int32, len(cands))
	}
	if len(idx) == 0 {
		return nil
	}
	pts := make([]geo.Point, len(idx))
	for k, i := range idx {
		pts[k] = cands[i].Location
	}
	cix, err := geo.NewIndex(pts, nil)
	if err != nil {
		return fmt.Errorf("recruit: candidates: %w", err)
	}
	var un []int
	for i := range rs.ev.members {
		if rs.need[d][i] > 0 {
			un = append(un, i)
		}
	}
	var sc geo.ProbeScratch
	probes := make([]geo.Probe, 0, 64)
	out := make([]geo.ProbeResult, 64)
	for start := 0; start < len(un); start += 64 {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+64, len(un))
		probes = probes[:0]
		for k, i := range un[start:end] {
			m := &rs.ev.members[i]
			probes = append(probes, geo.Probe{Center: m.point, Radius: rs.ev.rules[m.county][d].RadiusMiles, Group: int32(k)})
		}
		cix.ProbeCell(probes, geo.Filter{}, out, func(g, id int32) {
			c := idx[id]
			rs.covers[c] = append(rs.covers[c], int32(un[start+int(g)]))
		}, &sc)
	}
	return nil
}

// gain is what picking candidate c would do now.
func (rs *recruitState) gain(c int, d Discipline) (newly, reduce int) {
	for _, i := range rs.covers[c] {
		switch rs.need[d][i] {
		case 0:
		case 1:
			newly++
			reduce++
		default:
			reduce++
		}
	}
	return newly, reduce
}

func (rs *recruitState) greedy(cands []Provider) []RecruitPick {
	h := &gainHeap{}
	for c := range cands {
		if len(rs.covers[c]) == 0 {
			continue
		}
		n, red := rs.gain(c, cands[c].Discipline)
		if red > 0 {
			h.items = append(h.items, gainItem{c, n, red})
		}
	}
	heap.Init(h)
	var picks []RecruitPick
	cum := 0
	for h.Len() > 0 {
		top := heap.Pop(h).(gainItem)
		d := cands[top.c].Discipline
		n, red := rs.gain(top.c, d)
		if red == 0 {
			continue
		}
		if n != top.newly || red != top.reduce { // stale: requeue with the current gain
			heap.Push(h, gainItem{top.c, n, red})
			continue
		}
		flipped := rs.apply(top.c, d)
		cum += n
		picks = append(picks, RecruitPick{Rank: len(picks) + 1, Provider: &cands[top.c], NewlyServed: n, CumulativeServed: cum, CountiesFlipped: flipped})
	}
	return picks
}

// apply records a pick and returns how many county rows it makes pass.
func (rs *recruitState) apply(c int, d Discipline) int {
	touched := map[int64]bool{}
	before := map[int64]bool{}
	for _, i := range rs.covers[c] {
		if rs.need[d][i] == 0 {
			continue
		}
		rs.need[d][i]--
		if rs.need[d][i] == 0 {
			k := int64(rs.ev.members[i].county)<<8 | int64(d)
			if !touched[k] {
				touched[k], before[k] = true, rs.pass(k)
			}
			rs.served[k]++
		}
	}
	flipped := 0
	for k := range touched {
		if !before[k] && rs.pass(k) {
			flipped++
		}
	}
	return flipped
}

func (rs *recruitState) pass(k int64) bool {
	return rs.members[k] > 0 && rs.served[k]*10000 >= rs.reqBP[k]*rs.members[k]
}

type gainItem struct {
	c             int
	newly, reduce int
}

type gainHeap struct{ items []gainItem }

func (h *gainHeap) Len() int { return len(h.items) }
func (h *gainHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.newly != b.newly {
		return a.newly > b.newly
	}
	if a.reduce != b.reduce {
		return a.reduce > b.reduce
	}
	return a.c < b.c
}
func (h *gainHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *gainHeap) Push(x any)    { h.items = append(h.items, x.(gainItem)) }
func (h *gainHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
