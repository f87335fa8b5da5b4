package adequacy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/par"
)

// A gap report evaluates every member of a plan for every discipline and
// rolls the answers up by county: who is served, which counties pass the
// served-share rule and the minimum provider count, who is left unserved.
// Answers are those of Decide, member by member (the tests check it); the
// speed comes from taking members in spatial order and answering a cell of
// neighbours with one index search (geo.Index.ProbeCell).

// GapMember is one row of a member file.
type GapMember struct {
	ID         string
	Line       int // 1-based line of the member file, for rejections
	Point      geo.Point
	HasPoint   bool   // false: located by ZIP
	ZIP        string // optional with a point
	CountyFIPS string // optional; trusted over the polygons
}

// GapOptions control a gap report.
type GapOptions struct {
	Profile string // "" = the engine's default
	// ProfileVersion: the profile version to report with (a replay; see
	// Request.ProfileVersion); "" = the one in effect on AsOf.
	ProfileVersion string
	AsOf           Date
	// AsOfToday: AsOf is today, not a date the caller named (see
	// Request.AsOfToday).
	AsOfToday   bool
	Disciplines []Discipline // nil = every discipline the profile covers
	Detail      bool         // keep every member × discipline answer
	// Credits claims credits of the profile that apply only when
	// requested (e.g. "new_or_expanding_applicant").
	Credits []string
	// CellDegrees sizes the grid unserved members are counted on for maps.
	// 0 = 0.05°.
	CellDegrees float64
	// Progress, if not nil, is called now and then with members evaluated.
	Progress func(done, total int)
	Workers  int // 0 = GOMAXPROCS
}

// Rejection is a member the report could not evaluate, with why.
type Rejection struct {
	Line     int
	MemberID string
	Field    string // the request field at fault (location.latitude, zip, county_fips), "" for none
	Reason   string
}

// GapReport is the result.
type GapReport struct {
	Profile *Profile
	// ProfileExpired: Profile was carried forward past its end (see
	// Decision.ProfileExpired).
	ProfileExpired bool
	RosterVersion  string
	AsOf           Date
	CountySource   string // the county table's source
	Disciplines    []Discipline
	Members        int // members evaluated
	Rejected       []Rejection
	Counties       []CountyRow   // by FIPS, then discipline
	Unserved       []UnservedRow // in member-file order, then discipline
	Cells          []GapCell     // unserved members on a grid, for maps
	// ByDiscipline totals.
	Totals []DisciplineTotal

	// state kept for recruitment ranking and the access rows
	ev        *gapEval
	members   []GapMember
	detail    bool
	orderOnce sync.Once
	order     []int32 // sorted-member index in member-file order
}

// ErrNoDetail is returned for access rows of a report made without
// GapOptions.Detail.
var ErrNoDetail = errors.New("gap report: access rows need GapOptions.Detail")

// AccessMembers is how many members AccessRows can list.
func (r *GapReport) AccessMembers() int { return len(r.ev.members) }

// AccessRows appends to dst the member × discipline answers of the
// evaluated members start..end-1 in member-file order, each member's
// disciplines in report order. Rows are made on request, not kept; calls
// may run in parallel.
func (r *GapReport) AccessRows(start, end int, dst []AccessRow) ([]AccessRow, error) {
	if !r.detail || r.ev == nil {
		return dst, ErrNoDetail
	}
	r.orderOnce.Do(func() { r.order = r.ev.fileOrder() })
	ev := r.ev
	for _, i := range r.order[start:end] {
		m := &ev.members[i]
		for _, d := range ev.ds {
			dst = append(dst, AccessRow{MemberID: r.members[m.src].ID, Discipline: d, CountyFIPS: ev.counties[m.county].FIPS,
				Served: ev.served(d, int(i)), ProvidersWithin: int(ev.within[d][i]),
				NearestNPI: ev.npi(d, ev.nearest[d][i]), NearestMiles: ev.miles[d][i]})
		}
	}
	return dst, nil
}

// CountingProviders returns, for each discipline of the report, where its
// providers that count lie: participating, and in person, accepting new
// patients and effective on the report's as-of date as far as the
// profile's counting rules require (Counting.Counts) — the providers the
// report's rows count, in roster order.
func (r *GapReport) CountingProviders() map[Discipline][]geo.Point {
	out := make(map[Discipline][]geo.Point, len(r.Disciplines))
	for _, d := range r.Disciplines {
		out[d] = nil
	}
	if r.ev == nil {
		return out
	}
	for i := range r.ev.e.Network.Roster.Providers {
		p := &r.ev.e.Network.Roster.Providers[i]
		if pts, ok := out[p.Discipline]; ok && r.Profile.Counting.Counts(p, r.AsOf) {
			out[p.Discipline] = append(pts, p.Location)
		}
	}
	return out
}

// EachAccess calls fn with every member × discipline answer, in
// member-file order (see AccessRows); it stops at fn's first error.
func (r *GapReport) EachAccess(fn func(*AccessRow) error) error {
	var rows []AccessRow
	for start := 0; start < r.AccessMembers(); start += 4096 {
		var err error
		if rows, err = r.AccessRows(start, min(start+4096, r.AccessMembers()), rows[:0]); err != nil {
			return err
		}
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// CountyRow is one county × discipline of the report.
type CountyRow struct {
	County      *County
	Discipline  Discipline
	Members     int
	Served      int
	ServedPct   float64 // 0..100
	RequiredPct float64 // 0..100, after credits
	Credits     []string
	Pass        bool
	Counted     int           // providers within time and distance of at least one member (422.116(e))
	MinRequired int           // minimum number of providers
	MinSource   MinimumSource // where MinRequired came from
	MinPass     bool
	NearestP50  float64 // median miles to the nearest counting provider; NaN when none
	NearestP90  float64
	requiredBP  int // required share in basis points, for exact comparison
	unreachable int // members with no counting provider anywhere
	nearest     []nearItem
}

// UnservedRow is one member left unserved for one discipline.
type UnservedRow struct {
	MemberID     string
	CountyFIPS   string
	Discipline   Discipline
	NearestNPI   string // "" when no counting provider exists
	NearestMiles float64
}

// AccessRow is one member × discipline answer (with Detail).
type AccessRow struct {
	MemberID        string
	Discipline      Discipline
	CountyFIPS      string
	Served          bool
	ProvidersWithin int
	NearestNPI      string
	NearestMiles    float64
}

// GapCell counts unserved members of one grid cell.
type GapCell struct {
	Lat, Lon float64 // south-west corner
	Size     float64 // degrees
	Unserved [numDisciplines]int
}

// DisciplineTotal sums a discipline over the report.
type DisciplineTotal struct {
	Discipline             Discipline
	Members, Served        int
	Counties, CountiesPass int
	CountiesMinPass        int
	ProvidersCounted       int
	Unreachable            int
}

// gapEval holds the per-member answers, in sorted (spatial) order.
type gapEval struct {
	e        *Engine
	p        *Profile
	ds       []Discipline
	members  []gapLoc   // located members, spatial order
	cells    []geo.Cell // runs of members answered together
	rules    [][]Rule   // county index → discipline → rule
	counties []*County  // county index → county
	within   [numDisciplines][]int32
	nearest  [numDisciplines][]int32 // index ID of the nearest counting provider, −1 none
	miles    [numDisciplines][]float64
	estim    [numDisciplines][]bool // miles[d][i] is an estimate (served members, without Detail)
	filter   geo.Filter
	covered  [numDisciplines][]int64 // sorted, distinct: county index << 32 | index ID
}

type gapLoc struct {
	point  geo.Point
	county int32 // index into gapEval.counties
	src    int32 // index into the input slice
}

// ErrNoMembers is returned when no member could be evaluated.
var ErrNoMembers = errors.New("no member could be evaluated")

// Gap runs a gap report over members.
func (e *Engine) Gap(ctx context.Context, members []GapMember, opts GapOptions) (*GapReport, error) {
	bad := &InvalidRequest{}
	ch := e.chooseProfile(opts.Profile, "", opts.ProfileVersion, opts.AsOf, opts.AsOfToday, bad)
	if err := bad.orNil(); err != nil {
		return nil, err
	}
	p := ch.Profile
	if e.Network == nil {
		return nil, ErrNoRoster
	}
	if !p.Time.DistanceOnly() {
		return nil, fmt.Errorf("gap report: profile %s's time model is not a function of distance; gap reports need one", p.Name)
	}
	ds := opts.Disciplines
	if ds == nil {
		ds = p.CoveredDisciplines()
	}
	for i, d := range ds {
		if !p.Covers(d) {
			return nil, &InvalidRequest{Violations: []FieldViolation{{fmt.Sprintf("disciplines[%d]", i), fmt.Sprintf("profile %s has no standard for %s", p.Name, d)}}}
		}
	}
	credits, err := claimedCredits(p, opts.Credits)
	if err != nil {
		return nil, err
	}
	ev := &gapEval{e: e, p: p, ds: ds}
	rep := &GapReport{Profile: p, ProfileExpired: ch.Expired, RosterVersion: e.Network.Version(), AsOf: opts.AsOf,
		CountySource: e.countiesFor(p).Source, Disciplines: ds,
		ev: ev, members: members, detail: opts.Detail}
	rep.Rejected = ev.locate(members)
	if len(ev.members) == 0 {
		return rep, ErrNoMembers
	}
	rep.Members = len(ev.members)
	if err := ev.evaluate(ctx, opts); err != nil {
		return nil, err
	}
	ev.aggregate(rep, members, opts, credits)
	return rep, nil
}

// claimedCredits checks the names of requested credits against the profile.
func claimedCredits(p *Profile, names []string) (map[string]bool, error) {
	out := map[string]bool{}
	for i, n := range names {
		found := false
		for _, c := range p.Credits {
			if c.Name == n && c.AppliesWhen == CreditRequested {
				found = true
			}
		}
		if !found {
			return nil, &InvalidRequest{Violations: []FieldViolation{{fmt.Sprintf("credits[%d]", i), fmt.Sprintf("profile %s has no credit %q that can be claimed", p.Name, Excerpt(n))}}}
		}
		out[n] = true
	}
	return out, nil
}

// locate places every member in a county, in parallel, sorts them in
// spatial order and cuts them into cells of neighbours (geo.Cells, each
// member's radius the smallest of its county's rules). Members that
// cannot be placed are rejected with why.
func (ev *gapEval) locate(members []GapMember) []Rejection {
	type placed struct {
		loc gapLoc
		c   *County
		rej []FieldViolation // every wrong field, or the reason it has no county
	}
	out := make([]placed, len(members))
	par.Chunks(len(members), 4096, 0, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			m := &members[i]
			bad := &InvalidRequest{}
			mem := Member{ZIP: m.ZIP, CountyFIPS: m.CountyFIPS}
			if m.HasPoint {
				pt := m.Point
				mem.Point = &pt
			}
			l := ev.e.locate(mem, ev.e.countiesFor(ev.p), bad)
			switch {
			case len(bad.Violations) > 0:
				out[i].rej = bad.Violations
			case l.county == nil:
				out[i].rej = []FieldViolation{{Reason: l.reason}}
			default:
				out[i] = placed{loc: gapLoc{point: l.point, src: int32(i)}, c: l.county}
			}
		}
	})
	var rej []Rejection
	countyIx := map[*County]int32{}
	kept := make([]int32, 0, len(out))
	for i := range out {
		if out[i].rej != nil {
			for _, v := range out[i].rej { // one rejection per wrong field
				rej = append(rej, Rejection{Line: members[i].Line, MemberID: members[i].ID, Field: v.Field, Reason: v.Reason})
			}
			continue
		}
		ci, ok := countyIx[out[i].c]
		if !ok {
			ci = int32(len(ev.counties))
			countyIx[out[i].c] = ci
			ev.counties = append(ev.counties, out[i].c)
		}
		out[i].loc.county = ci
		kept = append(kept, int32(i))
	}
	ev.rules = make([][]Rule, len(ev.counties))
	minRadius := make([]float64, len(ev.counties))
	for ci, c := range ev.counties {
		ev.rules[ci] = make([]Rule, numDisciplines)
		minRadius[ci] = math.Inf(1)
		for _, d := range ev.ds {
			ev.rules[ci][d], _ = RuleFor(ev.p, c, d) // coverage checked in Gap
			minRadius[ci] = math.Min(minRadius[ci], ev.rules[ci][d].RadiusMiles)
		}
	}
	pts := make([]geo.CellPoint, len(kept))
	for k, i := range kept {
		l := &out[i].loc
		pts[k] = geo.CellPoint{Point: l.point, Radius: minRadius[l.county], Group: l.county}
	}
	order, cells := geo.Cells(pts, geo.CellLimits{})
	ev.members = make([]gapLoc, len(pts))
	for k := range pts {
		ev.members[k] = gapLoc{point: pts[k].Point, county: pts[k].Group, src: kept[order[k]]}
	}
	ev.cells = cells
	return rej
}

// evaluate answers every cell × discipline in parallel.
func (ev *gapEval) evaluate(ctx context.Context, opts GapOptions) error {
	n := len(ev.members)
	for _, d := range ev.ds {
		ev.within[d] = make([]int32, n)
		ev.nearest[d] = make([]int32, n)
		ev.miles[d] = make([]float64, n)
		ev.estim[d] = make([]bool, n)
	}
	cells := ev.cells
	filter := ev.p.Counting.filter(opts.AsOf)
	ev.filter = filter
	// Each worker keeps its own scratch and covered pairs.
	type worker struct {
		sc     geo.ProbeScratch
		probes []geo.Probe
		out    []geo.ProbeResult
		cov    [numDisciplines]coveredSet
	}
	ws := make([]worker, par.Workers(opts.Workers))
	var done atomic.Int64
	err := par.ForContext(ctx, len(cells), len(ws), func(w, k int) {
		wk := &ws[w]
		lo, hi := cells[k].Start, cells[k].End
		wk.out = slices.Grow(wk.out[:0], hi-lo)[:hi-lo]
		for _, d := range ev.ds {
			wk.probes = wk.probes[:0]
			for i := lo; i < hi; i++ {
				m := &ev.members[i]
				r := ev.rules[m.county][d].RadiusMiles
				if math.IsInf(r, 1) {
					r = 1e5
				}
				wk.probes = append(wk.probes, geo.Probe{Center: m.point, Radius: r, Group: m.county,
					Estimate: !opts.Detail, Required: ev.rules[m.county][d].ProvidersRequired})
			}
			cov := &wk.cov[d]
			ev.e.Network.disc[d].ix.ProbeCell(wk.probes, filter, wk.out, func(g, id int32) {
				cov.add(int64(g)<<32 | int64(id))
			}, &wk.sc)
			for j := range wk.probes {
				ev.within[d][lo+j] = int32(wk.out[j].Within)
				ev.nearest[d][lo+j] = wk.out[j].Nearest.ID
				ev.miles[d][lo+j] = wk.out[j].Nearest.Miles
				ev.estim[d][lo+j] = wk.out[j].Estimated
			}
		}
		if opts.Progress != nil {
			opts.Progress(int(done.Add(int64(hi-lo))), len(ev.members))
		}
	})
	for w := range ws {
		for _, d := range ev.ds {
			ev.covered[d] = append(ev.covered[d], ws[w].cov[d].keys...)
		}
	}
	for _, d := range ev.ds {
		slices.Sort(ev.covered[d])
		ev.covered[d] = slices.Compact(ev.covered[d])
	}
	return err
}

// served reports whether sorted member i is served for d.
func (ev *gapEval) served(d Discipline, i int) bool {
	m := &ev.members[i]
	return int(ev.within[d][i]) >= ev.rules[m.county][d].ProvidersRequired
}

// exactNearest is sorted member i's exact distance to its nearest counting
// provider of d.
func (ev *gapEval) exactNearest(d Discipline, i int) float64 {
	if !ev.estim[d][i] {
		return ev.miles[d][i]
	}
	var res geo.Result
	ev.e.Network.disc[d].ix.Search(geo.Query{Center: ev.members[i].point, K: 1, Filter: ev.filter}, &res)
	ev.miles[d][i], ev.estim[d][i] = res.Nearest[0].Miles, false
	return ev.miles[d][i]
}

// npi returns the NPI of an index ID of discipline d ("" for −1).
func (ev *gapEval) npi(d Discipline, id int32) string {
	if id < 0 {
		return ""
	}
	return ev.e.Network.Roster.Providers[ev.e.Network.disc[d].prov[id]].NPI
}

// coveredSet collects (county, provider) keys. Neighbouring cells report
// mostly the same keys, so a small direct-mapped cache of recent keys drops
// nearly every repeat before it is stored; the rest are removed by sorting.
type coveredSet struct {
	recent []int64
	keys   []int64
}

func (c *coveredSet) add(k int64) {
	if c.recent == nil {
		c.recent = make([]int64, 1<<16)
		for i := range c.recent {
			c.recent[i] = -1
		}
	}
	slot := uint64(k) * 0x9E3779B97F4A7C15 >> 48
	if c.recent[slot] == k {
		return
	}
	c.recent[slot] = k
	c.keys = append(c.keys, k)
}
