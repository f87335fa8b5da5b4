package adequacy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/par"
)

// A Baseline is a member file evaluated against the serving network,
// kept ready for questions about changes to it: what a change of
// providers does (Impact), how critical each provider is (Criticality),
// what one provider's leaving or joining does (Dossier). Each member ×
// discipline keeps its count of counting providers within the standard;
// the county rows are the gap report's (Engine.Gap), without its
// distance quantiles. One pass over the members (geo.Index.ReachCell)
// finds the counts, and, for criticality, the providers in reach of the
// members who have exactly as many as the standard requires, and how
// many members each provider reaches.

// ImpactOptions control a Baseline.
type ImpactOptions struct {
	Profile string // "" = the plan's, or the engine's default
	// ProfileVersion, if set, names the profile's version (a replay), as
	// GapOptions.ProfileVersion does.
	ProfileVersion string
	// Plan, if set, is a plan id: only providers in its networks count,
	// under the profile its contract mandates, and members outside its
	// service area are not evaluated (they are rejected with why).
	Plan        string
	AsOf        Date
	AsOfToday   bool         // AsOf is today, not a date the caller named
	Disciplines []Discipline // nil = every discipline the profile covers
	// Credits claims credits of the profile that apply only on request.
	Credits []string
	// Criticality also tallies, per provider, the members it reaches and
	// those for whom it is one of exactly as many as required (a little
	// more work in the one pass); Baseline.Criticality needs it.
	Criticality bool
	// Progress, if not nil, is called now and then with members evaluated.
	Progress func(done, total int)
	Workers  int // 0 = GOMAXPROCS
}

// Baseline is a member file evaluated against one network; see the
// comment above. Immutable once made; Impact, Criticality and Dossier may
// be called any number of times, concurrently.
type Baseline struct {
	Profile        *Profile
	ProfileExpired bool
	Plan           *Plan // nil without a plan
	RosterVersion  string
	AsOf           Date
	CountySource   string
	Disciplines    []Discipline
	Members        int // members evaluated
	Rejected       []Rejection
	// Rows are the county × discipline rows of the gap report on the
	// network (by FIPS, then discipline), without distance quantiles
	// (NearestP50 and NearestP90 are NaN).
	Rows []CountyRow

	e       *Engine
	ev      *gapEval // located members (spatial order), counties, rules
	members []GapMember
	filter  geo.Filter // the counting providers: the profile's rules and the plan's networks
	credits map[string]bool
	inArea  []bool // county index → in the plan's service area
	within  [numDisciplines][]int32
	rowAt   map[int64]int // county index << 8 | discipline → Rows index
	tallied bool
	reach   [numDisciplines][]int32 // index ID → members within its reach
	sole    [numDisciplines][]int32 // index ID → members for whom it is one of exactly as many as required
	soleBy  [numDisciplines][]soleCount

	idxOnce sync.Once
	classes []memberClass // members by search radius, for reverse searches
	idsOnce sync.Once
	ids     []int32 // roster position → index ID, −1 when not indexed
}

// soleCount: n members of a county have the provider as one of exactly
// as many as required.
type soleCount struct {
	county int32
	id     int32
	n      int32
}

// memberClass indexes the members whose radius for some discipline is
// one value: bit d of a point's Tag.Sets[0] is set when the member's
// radius for d is that value.
type memberClass struct {
	radius float64
	ix     *geo.Index
	member []int32 // index ID → sorted member index
}

// NewBaseline evaluates members against the engine's network. Caller
// mistakes come back as *InvalidRequest; ErrNoRoster without a network;
// ErrNoMembers (with the baseline, for its rejections) when no member
// could be evaluated.
func (e *Engine) NewBaseline(ctx context.Context, members []GapMember, opts ImpactOptions) (*Baseline, error) {
	bad := &InvalidRequest{}
	plan, ch := e.reportPlanProfile(opts.Plan, opts.Profile, opts.ProfileVersion, opts.AsOf, opts.AsOfToday, bad)
	if bad.NotFound && len(bad.Violations) > 1 {
		bad.NotFound, bad.Missing = false, nil
	}
	if err := bad.orNil(); err != nil {
		return nil, err
	}
	p := ch.Profile
	if e.Network == nil {
		return nil, ErrNoRoster
	}
	if !p.Time.DistanceOnly() {
		return nil, fmt.Errorf("impact: profile %s's time model is not a function of distance; impact needs one", p.Name)
	}
	ds := opts.Disciplines
	if ds == nil {
		ds = p.CoveredDisciplines()
	}
	checkRequestDisciplines(bad, ds, p, nil)
	if err := bad.orNil(); err != nil {
		return nil, err
	}
	credits, err := claimedCredits(p, opts.Credits)
	if err != nil {
		return nil, err
	}
	var sc scope
	if plan != nil {
		sc.need |= 1 << setNetworks
		sc.nets = e.Network.networkBits(plan.Networks)
	}
	b := &Baseline{Profile: p, ProfileExpired: ch.Expired, Plan: plan, RosterVersion: e.Network.Version(), AsOf: opts.AsOf,
		CountySource: e.countiesFor(p).Source, Disciplines: ds, e: e, members: members, credits: credits,
		filter: sc.apply(p.Counting.filter(opts.AsOf)), tallied: opts.Criticality}
	b.ev = &gapEval{e: e, p: p, ds: ds, scope: sc}
	b.ev.plan(opts.AsOf, nil) // the disciplines' layers: their rules per county
	b.Rejected = b.ev.locate(members, nil)
	b.inArea = make([]bool, len(b.ev.counties))
	for ci, c := range b.ev.counties {
		b.inArea[ci] = plan == nil || plan.InServiceArea(c.FIPS)
	}
	if plan != nil {
		b.rejectOutOfArea()
	}
	for i := range b.ev.members {
		if b.inArea[b.ev.members[i].county] {
			b.Members++
		}
	}
	if b.Members == 0 {
		return b, ErrNoMembers
	}
	if err := b.evaluate(ctx, opts); err != nil {
		return nil, err
	}
	b.rollup()
	return b, nil
}

// rejectOutOfArea rejects the members outside the plan's service area, as
// Decide answers them (OutOfServiceArea), in member-file order with the
// other rejections.
func (b *Baseline) rejectOutOfArea() {
	for i := range b.ev.members {
		m := &b.ev.members[i]
		if b.inArea[m.county] {
			continue
		}
		c := b.ev.counties[m.county]
		g := &b.members[m.src]
		b.Rejected = append(b.Rejected, Rejection{Line: g.Line, MemberID: g.ID,
			Reason: fmt.Sprintf("the member's county, %s %s, %s, is outside plan %s's service area", c.FIPS, c.Name, c.State, b.Plan.ID)})
	}
	slices.SortStableFunc(b.Rejected, func(x, y Rejection) int { return cmp.Compare(x.Line, y.Line) })
}

// evaluate counts, for every member × discipline, the counting providers
// within the standard: one ReachCell per cell and discipline.
func (b *Baseline) evaluate(ctx context.Context, opts ImpactOptions) error {
	ev := b.ev
	n := len(ev.members)
	for _, d := range b.Disciplines {
		b.within[d] = make([]int32, n)
	}
	type worker struct {
		rs     geo.ReachScratch
		probes []geo.Probe
		at     []int32
		out    []geo.ReachResult
		cov    [numDisciplines]coveredSet
		reach  [numDisciplines][]int32
		sole   [numDisciplines][]int32
		soleBy [numDisciplines]soleSet
	}
	ws := make([]worker, par.Workers(opts.Workers))
	net := b.e.Network
	var done atomic.Int64
	err := par.ForContext(ctx, len(ev.cells), len(ws), func(w, k int) {
		wk := &ws[w]
		lo, hi := ev.cells[k].Start, ev.cells[k].End
		for _, d := range b.Disciplines {
			wk.probes, wk.at = wk.probes[:0], wk.at[:0]
			for i := lo; i < hi; i++ {
				m := &ev.members[i]
				if !b.inArea[m.county] {
					continue
				}
				rule := ev.discRule(m.county, d)
				wk.probes = append(wk.probes, geo.Probe{Center: m.point, Radius: searchRadius(*rule), Group: m.county, Required: rule.ProvidersRequired})
				wk.at = append(wk.at, int32(i))
			}
			if len(wk.probes) == 0 {
				continue
			}
			wk.out = slices.Grow(wk.out[:0], len(wk.probes))[:len(wk.probes)]
			var counts []int32
			if b.tallied {
				if wk.reach[d] == nil {
					wk.reach[d] = make([]int32, net.disc[d].ix.Len())
					wk.sole[d] = make([]int32, net.disc[d].ix.Len())
				}
				counts = wk.reach[d]
			}
			cov := &wk.cov[d]
			net.disc[d].ix.ReachCell(wk.probes, b.filter, wk.out, counts, func(g, id int32) {
				cov.add(int64(g)<<32 | int64(id))
			}, &wk.rs)
			for j, i := range wk.at {
				r := &wk.out[j]
				b.within[d][i] = int32(r.Within)
				if b.tallied && r.Within > 0 && r.Within == wk.probes[j].Required {
					for _, id := range r.InReach {
						wk.sole[d][id]++
						wk.soleBy[d].add(wk.probes[j].Group, id)
					}
				}
			}
		}
		if opts.Progress != nil {
			opts.Progress(int(done.Add(int64(hi-lo))), n)
		}
	})
	if err != nil {
		return err
	}
	for _, d := range b.Disciplines {
		var keys []int64
		for w := range ws {
			keys = append(keys, ws[w].cov[d].keys...)
		}
		slices.Sort(keys)
		ev.layers[ev.discLayer[d]].covered = slices.Compact(keys)
		if !b.tallied {
			continue
		}
		b.reach[d] = make([]int32, net.disc[d].ix.Len())
		b.sole[d] = make([]int32, net.disc[d].ix.Len())
		var all []soleCount
		for w := range ws {
			for id, c := range ws[w].reach[d] {
				b.reach[d][id] += c
			}
			for id, c := range ws[w].sole[d] {
				b.sole[d][id] += c
			}
			all = append(all, ws[w].soleBy[d].counts()...)
		}
		b.soleBy[d] = mergeSoleCounts(all)
	}
	return nil
}

// soleSet counts (county, provider) pairs. Members come a cell of
// neighbours at a time, so a small direct-mapped cache of recent pairs
// finds nearly every repeat; the rest are merged by sorting.
type soleSet struct {
	recent []int32 // slot → position in list + 1
	list   []soleCount
}

func (s *soleSet) add(county, id int32) {
	if s.recent == nil {
		s.recent = make([]int32, 1<<12)
	}
	k := uint64(county)<<32 | uint64(uint32(id))
	slot := k * 0x9E3779B97F4A7C15 >> 52
	if j := s.recent[slot] - 1; j >= 0 && s.list[j].county == county && s.list[j].id == id {
		s.list[j].n++
		return
	}
	s.list = append(s.list, soleCount{county, id, 1})
	s.recent[slot] = int32(len(s.list))
}

func (s *soleSet) counts() []soleCount { return s.list }

// mergeSoleCounts sorts by provider, then county, adding up repeats.
func mergeSoleCounts(all []soleCount) []soleCount {
	slices.SortFunc(all, func(a, b soleCount) int {
		if c := cmp.Compare(a.id, b.id); c != 0 {
			return c
		}
		return cmp.Compare(a.county, b.county)
	})
	out := all[:0]
	for _, s := range all {
		if n := len(out); n > 0 && out[n-1].id == s.id && out[n-1].county == s.county {
			out[n-1].n += s.n
			continue
		}
		out = append(out, s)
	}
	return out
}

// rollup makes the county rows, as the gap report makes them.
func (b *Baseline) rollup() {
	ev := b.ev
	b.rowAt = map[int64]int{}
	for _, d := range b.Disciplines {
		rows := make([]*CountyRow, len(ev.counties))
		for i := range ev.members {
			m := &ev.members[i]
			if !b.inArea[m.county] {
				continue
			}
			r := rows[m.county]
			if r == nil {
				r = &CountyRow{County: ev.counties[m.county], Discipline: d, subject: ev.layers[ev.discLayer[d]].subject, ci: m.county}
				rows[m.county] = r
			}
			r.Members++
			if b.served(d, i) {
				r.Served++
			}
		}
		for _, key := range ev.layers[ev.discLayer[d]].covered {
			rows[key>>32].Counted++
		}
		for _, r := range rows {
			if r != nil {
				ev.finishRow(r, b.credits)
				b.Rows = append(b.Rows, *r)
			}
		}
	}
	slices.SortFunc(b.Rows, compareRows)
	ci := make(map[*County]int64, len(ev.counties))
	for i, c := range ev.counties {
		ci[c] = int64(i)
	}
	for i := range b.Rows {
		b.rowAt[ci[b.Rows[i].County]<<8|int64(b.Rows[i].Discipline)] = i
	}
}

func compareRows(a, b CountyRow) int {
	if c := cmp.Compare(a.County.FIPS, b.County.FIPS); c != 0 {
		return c
	}
	return cmp.Compare(a.Discipline, b.Discipline)
}

// served reports whether sorted member i is served for d.
func (b *Baseline) served(d Discipline, i int) bool {
	return int(b.within[d][i]) >= b.ev.discRule(b.ev.members[i].county, d).ProvidersRequired
}

// row is the county row of county index ci and discipline d.
func (b *Baseline) row(ci int32, d Discipline) *CountyRow {
	return &b.Rows[b.rowAt[int64(ci)<<8|int64(d)]]
}

// passes reports whether row r passes its served share with served
// members (the gap report's exact rule).
func passes(r *CountyRow, served int) bool {
	return r.Members > 0 && served*10000 >= r.requiredBP*r.Members
}

// IndexMembers builds the indexes of the members by search radius that
// Impact searches from each changed provider; the first Impact builds
// them otherwise. Safe to call any number of times.
func (b *Baseline) IndexMembers() { b.memberClasses() }

// memberClasses indexes the members by search radius, once.
func (b *Baseline) memberClasses() []memberClass {
	b.idxOnce.Do(func() {
		ev := b.ev
		byRadius := map[float64]int{}
		type acc struct {
			pts    []geo.Point
			tags   []geo.Tag
			member []int32
		}
		var accs []acc
		for i := range ev.members {
			m := &ev.members[i]
			if !b.inArea[m.county] {
				continue
			}
			// The member's disciplines by radius: one entry per radius.
			var rs [numDisciplines]float64
			var bits [numDisciplines]uint64
			nr := 0
			for _, d := range b.Disciplines {
				r := searchRadius(*ev.discRule(m.county, d))
				k := slices.Index(rs[:nr], r)
				if k < 0 {
					k, rs[nr] = nr, r
					nr++
				}
				bits[k] |= 1 << d
			}
			for k := range nr {
				c, ok := byRadius[rs[k]]
				if !ok {
					c = len(accs)
					byRadius[rs[k]] = c
					accs = append(accs, acc{})
					b.classes = append(b.classes, memberClass{radius: rs[k]})
				}
				t := geo.Always
				t.Sets[0] = bits[k]
				accs[c].pts = append(accs[c].pts, m.point)
				accs[c].tags = append(accs[c].tags, t)
				accs[c].member = append(accs[c].member, int32(i))
			}
		}
		par.For(len(accs), 0, func(_, c int) {
			ix, err := geo.NewIndex(accs[c].pts, accs[c].tags)
			if err != nil {
				panic(fmt.Sprintf("impact: member index: %v", err)) // located members are valid points
			}
			b.classes[c].ix, b.classes[c].member = ix, accs[c].member
		})
	})
	return b.classes
}

// eachInReach calls fn with every evaluated member (sorted index) within
// the standard of discipline d of a provider at pt.
func (b *Baseline) eachInReach(pt geo.Point, d Discipline, fn func(i int32)) {
	f := geo.Filter{}.Require(0, 1<<d)
	for _, c := range b.memberClasses() {
		c.ix.EachWithin(pt, c.radius, f, func(id int32) { fn(c.member[id]) })
	}
}

// Counts reports whether a provider counts toward the baseline's standard:
// participating, in person, accepting new patients and effective on the
// as-of date as the profile requires, and in the plan's networks.
func (b *Baseline) Counts(p *Provider) bool { return b.countsFor(p) }

// countsFor reports whether a provider counts for the baseline: what the
// index filter decides for the network's providers, decided from the
// provider's own fields, so that it holds for providers not in the
// network too (those a change adds).
func (b *Baseline) countsFor(p *Provider) bool {
	return b.Profile.Counting.Counts(p, b.AsOf) && b.inPlan(p)
}
