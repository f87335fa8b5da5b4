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

// A gap report evaluates every member of a plan for every discipline (and
// every service asked for) and rolls the answers up by county: who is
// served, which counties pass the served-share rule and the minimum
// provider count, who is left unserved. Answers are those of Decide,
// member by member (the tests check it); the speed comes from taking
// members in spatial order and answering a cell of neighbours with one
// index search (geo.Index.ProbeCell).
//
// The evaluation works on layers: a layer is one discipline's index
// searched under one filter and one rule per county — a discipline under
// the report's scope (the profile's counting rules on the as-of date, the
// plan's networks), or a (service, discipline) pair, whose filter also
// requires the service (same or similar) and whose rule is the profile's
// standard for the service where it sets one. A row's subject combines
// layers: a discipline row is its discipline's layer; a service row sums
// its disciplines' layers, as Decide does for a service across its
// disciplines. Every layer is probed the same way, cell by cell, so a
// service costs only its extra layers.

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
	Profile string // "" = the engine's default, or the plan's
	// ProfileVersion: the profile version to report with (a replay; see
	// Request.ProfileVersion); "" = the one in effect on AsOf (or the one
	// the plan pins).
	ProfileVersion string
	AsOf           Date
	// AsOfToday: AsOf is today, not a date the caller named (see
	// Request.AsOfToday).
	AsOfToday   bool
	Disciplines []Discipline // nil = every discipline the profile covers
	// Services are vocabulary codes: each adds county × service rows,
	// decided across the service's disciplines as Decide does for a
	// Request with that Service and no Disciplines.
	Services []string
	// Plan, if set, is a plan id: only providers in the plan's networks
	// count, under the profile its contract mandates (Profile must then
	// be empty or agree); members living outside the plan's service area
	// are rejected, with why, not evaluated.
	Plan   string
	Detail bool // keep every member × subject answer
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

// Subject is what a row of a gap report is about: a discipline, or a
// service across its disciplines (Discipline is then AnyDiscipline).
type Subject struct {
	Discipline Discipline
	Service    *Service
}

// Key names the subject as rows, files and maps do: the discipline's
// code ("PT") or the service's ("lymphedema").
func (s Subject) Key() string {
	if s.Service != nil {
		return s.Service.Code
	}
	return s.Discipline.String()
}

// Name is the subject's long name.
func (s Subject) Name() string {
	if s.Service != nil {
		return s.Service.Name
	}
	return s.Discipline.Name()
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
	// Plan applied, nil when none: only its networks' providers counted;
	// PlansVersion is the version of the registry it was read from.
	Plan         *Plan
	PlansVersion string
	Disciplines  []Discipline
	Services     []*Service // services reported, in request order
	// Subjects are the report's disciplines, then its services: the order
	// of rows within a county, of totals, and of GapCell.UnservedBy.
	Subjects []Subject
	Members  int // members evaluated
	Rejected []Rejection
	Counties []CountyRow   // by FIPS, then subject
	Unserved []UnservedRow // in member-file order, then subject
	Cells    []GapCell     // unserved members on a grid, for maps
	// Totals by subject.
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

// AccessRows appends to dst the member × subject answers of the evaluated
// members start..end-1 in member-file order, each member's subjects in
// report order. Rows are made on request, not kept; calls may run in
// parallel.
func (r *GapReport) AccessRows(start, end int, dst []AccessRow) ([]AccessRow, error) {
	if !r.detail || r.ev == nil {
		return dst, ErrNoDetail
	}
	r.orderOnce.Do(func() { r.order = r.ev.fileOrder() })
	ev := r.ev
	for _, i := range r.order[start:end] {
		m := &ev.members[i]
		for s := range ev.subjects {
			sub := &ev.subjects[s]
			l, id, miles := ev.nearestOf(s, int(i))
			dst = append(dst, AccessRow{MemberID: r.members[m.src].ID, Discipline: sub.Discipline, Service: sub.code(),
				CountyFIPS: ev.counties[m.county].FIPS, Served: ev.servedAt(s, int(i)), ProvidersWithin: ev.withinOf(s, int(i)),
				NearestNPI: ev.npi(l, id), NearestMiles: miles})
		}
	}
	return dst, nil
}

// CountingProviders returns, for each subject of the report (by Key),
// where its providers that count lie: participating, and in person,
// accepting new patients and effective on the report's as-of date as far
// as the profile's counting rules require (Counting.Counts), in the
// plan's networks when the report has a plan, and for a service offering
// it (same or similar) in one of its disciplines — the providers the
// report's rows count, in roster order.
func (r *GapReport) CountingProviders() map[string][]geo.Point {
	out := make(map[string][]geo.Point, len(r.Subjects))
	for _, s := range r.Subjects {
		out[s.Key()] = nil
	}
	ev := r.ev
	if ev == nil {
		return out
	}
	n := ev.e.Network
	t := n.tab
	for i := range t.recs {
		rec := &t.recs[i]
		if !rec.disc.Valid() || !ev.p.Counting.counts(rec, r.AsOf) || (ev.scope.need&(1<<setNetworks) != 0 && n.networkBits(t.list(i, lNetworks))&ev.scope.nets == 0) {
			continue
		}
		for l := range ev.layers {
			ly := &ev.layers[l]
			if ly.d != rec.disc || (ly.svc != nil && uint64(n.offers(i))&ly.filter.AnyOf[setServices] == 0) {
				continue
			}
			key := ev.subjects[ly.subject].Key()
			out[key] = append(out[key], rec.loc)
		}
	}
	return out
}

// EachAccess calls fn with every member × subject answer, in member-file
// order (see AccessRows); it stops at fn's first error.
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

// CountyRow is one county × subject of the report: a discipline, or a
// service across its disciplines (Service set, Discipline AnyDiscipline).
type CountyRow struct {
	County      *County
	Discipline  Discipline
	Service     string // the service's code on a service row, "" on a discipline row
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
	requiredBP  int   // required share in basis points, for exact comparison
	unreachable int   // members with no counting provider anywhere
	subject     int   // index into the report's subjects
	ci          int32 // index into the evaluation's counties
	nearest     []nearItem
}

// Key names the row's subject: the service's code, or the discipline's.
func (c *CountyRow) Key() string { return subjectKey(c.Discipline, c.Service) }

func subjectKey(d Discipline, service string) string {
	if service != "" {
		return service
	}
	return d.String()
}

// UnservedRow is one member left unserved for one subject.
type UnservedRow struct {
	MemberID     string
	CountyFIPS   string
	Discipline   Discipline // AnyDiscipline on a service row
	Service      string     // the service's code on a service row
	NearestNPI   string     // "" when no counting provider exists
	NearestMiles float64
}

// Key names the row's subject.
func (u *UnservedRow) Key() string { return subjectKey(u.Discipline, u.Service) }

// AccessRow is one member × subject answer (with Detail).
type AccessRow struct {
	MemberID        string
	Discipline      Discipline // AnyDiscipline on a service row
	Service         string     // the service's code on a service row
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
	// UnservedBy counts the cell's unserved members by subject, in
	// GapReport.Subjects order.
	UnservedBy []int
}

// DisciplineTotal sums a subject over the report: a discipline, or a
// service (Service set, Discipline AnyDiscipline).
type DisciplineTotal struct {
	Discipline             Discipline
	Service                string
	Members, Served        int
	Counties, CountiesPass int
	CountiesMinPass        int
	ProvidersCounted       int
	Unreachable            int
}

// Key names the total's subject.
func (t DisciplineTotal) Key() string { return subjectKey(t.Discipline, t.Service) }

// gapEval holds the per-member answers, in sorted (spatial) order, layer
// by layer.
type gapEval struct {
	e        *Engine
	p        *Profile
	ds       []Discipline
	members  []gapLoc   // located members, spatial order
	cells    []geo.Cell // runs of members answered together
	counties []*County  // county index → county
	layers   []gapLayer
	subjects []gapSubject
	// layerRules: county index → layer → rule (discRule for a
	// discipline's).
	layerRules [][]Rule
	req        [][]int32 // county index → subject → providers required
	// discLayer is each discipline's layer, −1 when the report has none.
	discLayer [numDisciplines]int
	scope     scope
	filter    geo.Filter // the discipline layers' filter
}

// gapLayer is one discipline's index searched under one filter, with its
// per-member answers.
type gapLayer struct {
	d       Discipline
	svc     *Service // the service of a service's layer
	subject int      // the subject the layer belongs to
	filter  geo.Filter
	within  []int32
	nearest []int32 // index ID of the nearest counting provider, −1 none
	miles   []float64
	estim   []bool  // miles[i] is an estimate (served members, without Detail)
	covered []int64 // sorted, distinct: county index << 32 | index ID
}

// gapSubject is a row subject and the layers it sums.
type gapSubject struct {
	Subject
	layers []int // in the service's discipline order
}

func (s *gapSubject) code() string {
	if s.Service != nil {
		return s.Service.Code
	}
	return ""
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
	plan, ch := e.reportPlanProfile(opts.Plan, opts.Profile, opts.ProfileVersion, opts.AsOf, opts.AsOfToday, bad)
	services := e.gapServices(opts.Services, ch.Profile, bad)
	if bad.NotFound && len(bad.Violations) > 1 {
		bad.NotFound, bad.Missing = false, nil // other faults too: report as invalid argument
	}
	if err := bad.orNil(); err != nil {
		return nil, err
	}
	p := ch.Profile
	if e.Network == nil {
		return nil, ErrNoRoster
	}
	if len(services) > 0 {
		if err := e.checkVocabulary(); err != nil {
			return nil, err
		}
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
	if plan != nil {
		ev.scope.need |= 1 << setNetworks
		ev.scope.nets = e.Network.networkBits(plan.Networks)
	}
	ev.plan(opts.AsOf, services)
	rep := &GapReport{Profile: p, ProfileExpired: ch.Expired, RosterVersion: e.Network.Version(), AsOf: opts.AsOf,
		CountySource: e.countiesFor(p).Source, Plan: plan, Disciplines: ds, Services: services,
		ev: ev, members: members, detail: opts.Detail}
	if plan != nil {
		rep.PlansVersion = e.Plans.Version
	}
	for _, s := range ev.subjects {
		rep.Subjects = append(rep.Subjects, s.Subject)
	}
	rep.Rejected = ev.locate(members, plan)
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

// gapServices resolves the services of a report: known, each once, and
// with a discipline the profile covers.
func (e *Engine) gapServices(codes []string, p *Profile, bad *InvalidRequest) []*Service {
	var out []*Service
	at := map[*Service]int{}
	for i, code := range codes {
		field := fmt.Sprintf("services[%d]", i)
		why := &InvalidRequest{}
		s := e.serviceFor(code, why)
		switch {
		case s == nil:
			bad.add(field, why.Violations[0].Reason)
			continue
		case at[s] > 0:
			bad.add(field, fmt.Sprintf("%s is listed twice (services[%d])", s.Code, at[s]-1))
			continue
		case p != nil && !slices.ContainsFunc(s.Disciplines, p.Covers):
			bad.add(field, fmt.Sprintf("profile %s has no standard for %s's disciplines (%s)", p.Name, s.Code, disciplineList(s.Disciplines)))
			continue
		}
		at[s] = i + 1
		out = append(out, s)
	}
	return out
}

// plan lays out the report's subjects and their layers: each discipline,
// then each service's disciplines that the profile covers.
func (ev *gapEval) plan(asOf Date, services []*Service) {
	base := ev.scope.apply(ev.p.Counting.filter(asOf))
	ev.filter = base
	for d := range ev.discLayer {
		ev.discLayer[d] = -1
	}
	for _, d := range ev.ds {
		s := len(ev.subjects)
		ev.discLayer[d] = len(ev.layers)
		ev.subjects = append(ev.subjects, gapSubject{Subject: Subject{Discipline: d}, layers: []int{len(ev.layers)}})
		ev.layers = append(ev.layers, gapLayer{d: d, subject: s, filter: base})
	}
	for _, svc := range services {
		s := len(ev.subjects)
		sub := gapSubject{Subject: Subject{Discipline: AnyDiscipline, Service: svc}}
		f := base.Require(setServices, uint64(ev.e.Network.vocab.SameOrSimilar(svc)))
		for _, d := range svc.Disciplines {
			if ev.p.Covers(d) {
				sub.layers = append(sub.layers, len(ev.layers))
				ev.layers = append(ev.layers, gapLayer{d: d, svc: svc, subject: s, filter: f})
			}
		}
		ev.subjects = append(ev.subjects, sub)
	}
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

// outOfServiceArea says why a member in county c is not decided for plan
// pl: the same words as the decision's.
func outOfServiceArea(c *County, pl *Plan) string {
	return fmt.Sprintf("the member's county, %s %s, %s, is outside plan %s's service area: its standard does not apply there",
		c.FIPS, c.Name, c.State, pl.ID)
}

// locate places every member in a county, in parallel, sorts them in
// spatial order and cuts them into cells of neighbours (geo.Cells, each
// member's radius the smallest of its county's rules). Members that
// cannot be placed, or (with a plan) live outside its service area, are
// rejected with why.
func (ev *gapEval) locate(members []GapMember, plan *Plan) []Rejection {
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
			case plan != nil && !plan.InServiceArea(l.county.FIPS):
				out[i].rej = []FieldViolation{{Reason: outOfServiceArea(l.county, plan)}}
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
	ev.layerRules = make([][]Rule, len(ev.counties))
	ev.req = make([][]int32, len(ev.counties))
	minRadius := make([]float64, len(ev.counties))
	for ci, c := range ev.counties {
		ev.layerRules[ci] = make([]Rule, len(ev.layers))
		ev.req[ci] = make([]int32, len(ev.subjects))
		minRadius[ci] = math.Inf(1)
		for l := range ev.layers {
			ly := &ev.layers[l]
			r, _ := ruleFor(ev.p, c, ly.d, ly.svc) // coverage checked in Gap
			ev.layerRules[ci][l] = r
			ev.req[ci][ly.subject] = max(ev.req[ci][ly.subject], int32(r.ProvidersRequired))
			minRadius[ci] = math.Min(minRadius[ci], r.RadiusMiles)
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

// A service's providers are a small share of its disciplines': its
// layers find little within any member's radius, and their cost is the
// cell's own (gathering, the nearest from the cell's centre). So service
// layers take runs of neighbouring cells at once, wideCellPoints members
// of at most geo.MaxCellGroups counties: any cell gets exact answers
// (geo.Index.ProbeCell), a wide one for a sparse filter in fewer searches.
const wideCellPoints = 1024

// wideCells groups consecutive cells into runs for the service layers;
// without them, one run per cell.
func (ev *gapEval) wideCells() []geo.Cell {
	cells := ev.cells
	wide := false
	for l := range ev.layers {
		wide = wide || ev.layers[l].svc != nil
	}
	if !wide {
		out := make([]geo.Cell, len(cells))
		for k := range cells {
			out[k] = geo.Cell{Start: k, End: k + 1}
		}
		return out
	}
	var out []geo.Cell
	var groups []int32
	for k := 0; k < len(cells); {
		start, n := k, 0
		groups = groups[:0]
		for ; k < len(cells); k++ {
			c := cells[k]
			more := 0
			for i := c.Start; i < c.End; i++ {
				g := ev.members[i].county
				if !slices.Contains(groups, g) {
					groups = append(groups, g)
					more++
				}
			}
			if k > start && (n+c.End-c.Start > wideCellPoints || len(groups) > geo.MaxCellGroups) {
				groups = groups[:len(groups)-more]
				break
			}
			n += c.End - c.Start
		}
		out = append(out, geo.Cell{Start: start, End: k}) // cells [Start, End)
	}
	return out
}

// evaluate answers every cell × layer in parallel: discipline layers a
// cell at a time, service layers a run of cells at a time.
func (ev *gapEval) evaluate(ctx context.Context, opts GapOptions) error {
	n := len(ev.members)
	for l := range ev.layers {
		ly := &ev.layers[l]
		ly.within = make([]int32, n)
		ly.nearest = make([]int32, n)
		ly.miles = make([]float64, n)
		ly.estim = make([]bool, n)
	}
	cells := ev.cells
	runs := ev.wideCells()
	// Each worker keeps its own scratch and covered pairs.
	type worker struct {
		sc     geo.ProbeScratch
		probes []geo.Probe
		out    []geo.ProbeResult
		cov    []coveredSet // by layer
	}
	ws := make([]worker, par.Workers(opts.Workers))
	for w := range ws {
		ws[w].cov = make([]coveredSet, len(ev.layers))
	}
	probe := func(wk *worker, l, lo, hi int) {
		ly := &ev.layers[l]
		wk.out = slices.Grow(wk.out[:0], hi-lo)[:hi-lo]
		wk.probes = wk.probes[:0]
		for i := lo; i < hi; i++ {
			m := &ev.members[i]
			r := ev.layerRules[m.county][l].RadiusMiles
			if math.IsInf(r, 1) {
				r = 1e5
			}
			// A layer's estimate is allowed only where the layer alone
			// serves the member: its subject then needs no exact figure.
			wk.probes = append(wk.probes, geo.Probe{Center: m.point, Radius: r, Group: m.county,
				Estimate: !opts.Detail, Required: int(ev.req[m.county][ly.subject])})
		}
		cov := &wk.cov[l]
		ev.e.Network.disc[ly.d].ix.ProbeCell(wk.probes, ly.filter, wk.out, func(g, id int32) {
			cov.add(int64(g)<<32 | int64(id))
		}, &wk.sc)
		for j := range wk.probes {
			ly.within[lo+j] = int32(wk.out[j].Within)
			ly.nearest[lo+j] = wk.out[j].Nearest.ID
			ly.miles[lo+j] = wk.out[j].Nearest.Miles
			ly.estim[lo+j] = wk.out[j].Estimated
		}
	}
	var done atomic.Int64
	err := par.ForContext(ctx, len(runs), len(ws), func(w, k int) {
		wk := &ws[w]
		run := runs[k]
		for l := range ev.layers {
			if ev.layers[l].svc != nil {
				probe(wk, l, cells[run.Start].Start, cells[run.End-1].End)
				continue
			}
			for c := run.Start; c < run.End; c++ {
				probe(wk, l, cells[c].Start, cells[c].End)
			}
		}
		if opts.Progress != nil {
			opts.Progress(int(done.Add(int64(cells[run.End-1].End-cells[run.Start].Start))), len(ev.members))
		}
	})
	for l := range ev.layers {
		ly := &ev.layers[l]
		for w := range ws {
			ly.covered = append(ly.covered, ws[w].cov[l].keys...)
		}
		slices.Sort(ly.covered)
		ly.covered = slices.Compact(ly.covered)
	}
	return err
}

// discRule is the rule of discipline d's layer in county index ci.
func (ev *gapEval) discRule(ci int32, d Discipline) *Rule {
	return &ev.layerRules[ci][ev.discLayer[d]]
}

// withinOf is how many counting providers are within sorted member i's
// standard for subject s (summed over a service's disciplines).
func (ev *gapEval) withinOf(s, i int) int {
	ls := ev.subjects[s].layers
	if len(ls) == 1 {
		return int(ev.layers[ls[0]].within[i])
	}
	n := 0
	for _, l := range ls {
		n += int(ev.layers[l].within[i])
	}
	return n
}

// servedAt reports whether sorted member i is served for subject s.
func (ev *gapEval) servedAt(s, i int) bool {
	return ev.withinOf(s, i) >= int(ev.req[ev.members[i].county][s])
}

// served reports whether sorted member i is served for discipline d.
func (ev *gapEval) served(d Discipline, i int) bool {
	return ev.servedAt(ev.layers[ev.discLayer[d]].subject, i)
}

// nearestOf is sorted member i's nearest counting provider for subject s:
// its layer, index ID (−1: none) and distance (an estimate when the
// layer's is). Ties go to the earlier discipline, as Decide orders them.
func (ev *gapEval) nearestOf(s, i int) (int, int32, float64) {
	best, id, miles := -1, int32(-1), math.Inf(1)
	for _, l := range ev.subjects[s].layers {
		ly := &ev.layers[l]
		if ly.nearest[i] >= 0 && (best < 0 || ly.miles[i] < miles) {
			best, id, miles = l, ly.nearest[i], ly.miles[i]
		}
	}
	return best, id, miles
}

// exactNearest is sorted member i's exact distance to its nearest
// counting provider of layer l.
func (ev *gapEval) exactNearest(l, i int) float64 {
	ly := &ev.layers[l]
	if !ly.estim[i] {
		return ly.miles[i]
	}
	var res geo.Result
	ev.e.Network.disc[ly.d].ix.Search(geo.Query{Center: ev.members[i].point, K: 1, Filter: ly.filter}, &res)
	ly.miles[i], ly.estim[i] = res.Nearest[0].Miles, false
	return ly.miles[i]
}

// exactNearestOf is the exact distance for subject s: the least over its
// layers.
func (ev *gapEval) exactNearestOf(s, i int) float64 {
	miles := math.Inf(1)
	for _, l := range ev.subjects[s].layers {
		if ev.layers[l].nearest[i] >= 0 {
			miles = math.Min(miles, ev.exactNearest(l, i))
		}
	}
	return miles
}

// npi returns the NPI of an index ID of layer l ("" for −1).
func (ev *gapEval) npi(l int, id int32) string {
	if id < 0 || l < 0 {
		return ""
	}
	dn := &ev.e.Network.disc[ev.layers[l].d]
	return ev.e.Network.tab.str(int(dn.prov[id]), fNPI)
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
