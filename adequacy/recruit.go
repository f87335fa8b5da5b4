package adequacy

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"strings"

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
	Service          string // the service targeted (RecruitService), "" for the disciplines
	NewlyServed      int    // members newly served by this pick, after the picks above
	CumulativeServed int    // members newly served by this and every pick above
	CountiesFlipped  int    // county × discipline (or × service) rows that pass once this pick is made
}

// RecruitSkip counts candidates that cannot count toward the standard.
type RecruitSkip struct {
	Participating   int // already participating (in the plan's networks, with a plan): not a recruitment candidate
	NotCounting     int // telehealth-only, not accepting, or not effective on the as-of date under the profile
	OtherDiscipline int // a discipline the report (or the service targeted) does not cover
	NotOffering     int // does not offer the service targeted (same or similar)
}

// ErrNoGapState is returned by Recruit on a report built without Gap.
var ErrNoGapState = errors.New("recruitment needs a report made by Engine.Gap")

// Recruit ranks candidates against the report's members unserved for
// its disciplines. Only picks that newly serve a member or reduce the
// providers still needed are listed.
func (r *GapReport) Recruit(ctx context.Context, candidates []Provider) ([]RecruitPick, RecruitSkip, error) {
	if r.ev == nil {
		return nil, RecruitSkip{}, ErrNoGapState
	}
	var subs []int
	for _, d := range r.ev.ds {
		subs = append(subs, r.ev.layers[r.ev.discLayer[d]].subject)
	}
	return r.recruit(ctx, subs, candidates)
}

// RecruitService ranks candidates against the report's members unserved
// for one of its services (a code or alias): only candidates offering
// it (same or similar) in one of its disciplines count, each within its
// own discipline's standard, and gains are members newly served on the
// service's rows. The service must be one of the report's (GapOptions.
// Services); otherwise the error is an *InvalidRequest naming "service".
func (r *GapReport) RecruitService(ctx context.Context, service string, candidates []Provider) ([]RecruitPick, RecruitSkip, error) {
	if r.ev == nil {
		return nil, RecruitSkip{}, ErrNoGapState
	}
	for s := range r.ev.subjects {
		if sv := r.ev.subjects[s].Service; sv != nil && r.ev.e.vocabulary() != nil {
			if got, ok := r.ev.e.vocabulary().Service(service); ok && got == sv {
				return r.recruit(ctx, []int{s}, candidates)
			}
		}
	}
	codes := make([]string, len(r.Services))
	for i, s := range r.Services {
		codes[i] = s.Code
	}
	why := "the report has no services"
	if len(codes) > 0 {
		why = "the report's services are " + strings.Join(codes, ", ")
	}
	return nil, RecruitSkip{}, &InvalidRequest{Violations: []FieldViolation{{"service", fmt.Sprintf("%q is not a service of the report: %s", ExcerptN(service, 64), why)}}}
}

// recruit ranks candidates for the target subjects.
func (r *GapReport) recruit(ctx context.Context, subs []int, candidates []Provider) ([]RecruitPick, RecruitSkip, error) {
	var skip RecruitSkip
	ev := r.ev
	rs := newRecruitState(ev, r, subs, len(candidates))
	byLayer := map[int][]int32{}
	n := ev.e.Network
	for i := range candidates {
		c := &candidates[i]
		l := -1
		for t, s := range subs {
			for _, k := range ev.subjects[s].layers {
				if ev.layers[k].d == c.Discipline {
					l = k
					rs.target[i] = int32(t)
				}
			}
		}
		ly := (*gapLayer)(nil)
		if l >= 0 {
			ly = &ev.layers[l]
		}
		cc := *c
		cc.Participating = true
		switch {
		case ly == nil:
			skip.OtherDiscipline++
		case c.Participating && (ev.scope.need&(1<<setNetworks) == 0 || n.networkBits(c.Networks)&ev.scope.nets != 0):
			skip.Participating++
		case ly.svc != nil && uint64(n.Offers(c))&ly.filter.AnyOf[setServices] == 0:
			skip.NotOffering++
		case !ev.p.Counting.Counts(&cc, r.AsOf):
			skip.NotCounting++
		default:
			byLayer[l] = append(byLayer[l], int32(i))
			continue
		}
		rs.target[i] = -1
	}
	for l := range ev.layers {
		if idx, ok := byLayer[l]; ok {
			if err := rs.cover(ctx, l, candidates, idx); err != nil {
				return nil, skip, err
			}
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
	subs    []int     // the target subjects
	need    [][]int32 // per target, per sorted member: providers still needed (0 = served)
	target  []int32   // per candidate: its target (index into subs), −1 none
	covers  [][]int32 // per candidate: sorted-member indices within its reach
	served  map[int64]int
	members map[int64]int // county index << 16 | subject → members
	reqBP   map[int64]int
}

func countySubject(county int32, subject int) int64 { return int64(county)<<16 | int64(subject) }

func newRecruitState(ev *gapEval, r *GapReport, subs []int, ncand int) *recruitState {
	rs := &recruitState{ev: ev, subs: subs, need: make([][]int32, len(subs)), target: make([]int32, ncand), covers: make([][]int32, ncand),
		served: map[int64]int{}, members: map[int64]int{}, reqBP: map[int64]int{}}
	for t, s := range subs {
		rs.need[t] = make([]int32, len(ev.members))
		for i := range ev.members {
			rs.need[t][i] = int32(max(0, int(ev.req[ev.members[i].county][s])-ev.withinOf(s, i)))
		}
	}
	for _, row := range r.Counties {
		k := countySubject(row.ci, row.subject)
		rs.served[k], rs.members[k], rs.reqBP[k] = row.Served, row.Members, row.requiredBP
	}
	return rs
}

// cover finds, for each candidate of layer l, the members still unserved
// for the layer's subject it would be within reach of: those members, a
// cell of at most 64 neighbours at a time, probed against an index of the
// candidates.
func (rs *recruitState) cover(ctx context.Context, l int, cands []Provider, idx []int32) error {
	pts := make([]geo.Point, len(idx))
	for k, i := range idx {
		pts[k] = cands[i].Location
	}
	cix, err := geo.NewIndex(pts, nil)
	if err != nil {
		return fmt.Errorf("recruit: candidates: %w", err)
	}
	need := rs.need[rs.target[idx[0]]]
	var un []int
	for i := range rs.ev.members {
		if need[i] > 0 {
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
			probes = append(probes, geo.Probe{Center: m.point, Radius: rs.ev.layerRules[m.county][l].RadiusMiles, Group: int32(k)})
		}
		cix.ProbeCell(probes, geo.Filter{}, out, func(g, id int32) {
			c := idx[id]
			rs.covers[c] = append(rs.covers[c], int32(un[start+int(g)]))
		}, &sc)
	}
	return nil
}

// gain is what picking candidate c would do now.
func (rs *recruitState) gain(c int) (newly, reduce int) {
	need := rs.need[rs.target[c]]
	for _, i := range rs.covers[c] {
		switch need[i] {
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
		n, red := rs.gain(c)
		if red > 0 {
			h.items = append(h.items, gainItem{c, n, red})
		}
	}
	heap.Init(h)
	// Gains only fall — except where a standard needs two or more
	// providers: a pick that leaves a member one provider short raises the
	// newly-served gain of every other candidate within reach of that
	// member. Those candidates are watched, and queued again with their
	// new gain when it rises, so the heap's top, once its gain is current,
	// is always the best.
	watch := map[int64][]int32{}
	for c := range cands {
		t := rs.target[c]
		if t < 0 {
			continue
		}
		for _, i := range rs.covers[c] {
			if rs.need[t][i] >= 2 {
				k := int64(t)<<32 | int64(i)
				watch[k] = append(watch[k], int32(c))
			}
		}
	}
	picked := make([]bool, len(cands))
	var picks []RecruitPick
	cum := 0
	for h.Len() > 0 {
		top := heap.Pop(h).(gainItem)
		if picked[top.c] {
			continue
		}
		n, red := rs.gain(top.c)
		if red == 0 {
			continue
		}
		if n != top.newly || red != top.reduce { // stale: requeue with the current gain
			heap.Push(h, gainItem{top.c, n, red})
			continue
		}
		picked[top.c] = true
		flipped, raised := rs.apply(top.c, watch)
		for _, c := range raised {
			if !picked[c] {
				n, red := rs.gain(int(c))
				heap.Push(h, gainItem{int(c), n, red})
			}
		}
		cum += n
		picks = append(picks, RecruitPick{Rank: len(picks) + 1, Provider: &cands[top.c], Service: rs.ev.subjects[rs.subs[rs.target[top.c]]].code(),
			NewlyServed: n, CumulativeServed: cum, CountiesFlipped: flipped})
	}
	return picks
}

// apply records a pick and returns how many county rows it makes pass,
// and the watched candidates whose gain it raised.
func (rs *recruitState) apply(c int, watch map[int64][]int32) (int, []int32) {
	t := rs.target[c]
	need, s := rs.need[t], rs.subs[t]
	touched := map[int64]bool{}
	before := map[int64]bool{}
	var raised []int32
	for _, i := range rs.covers[c] {
		if need[i] == 0 {
			continue
		}
		need[i]--
		switch need[i] {
		case 0:
			k := countySubject(rs.ev.members[i].county, s)
			if !touched[k] {
				touched[k], before[k] = true, rs.pass(k)
			}
			rs.served[k]++
		case 1:
			raised = append(raised, watch[int64(t)<<32|int64(i)]...)
		}
	}
	flipped := 0
	for k := range touched {
		if !before[k] && rs.pass(k) {
			flipped++
		}
	}
	return flipped, raised
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
