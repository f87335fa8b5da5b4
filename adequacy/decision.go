package adequacy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/geoaccess/geoaccess/geo"
)

// Status is the outcome of a geo-access decision.
type Status uint8

// Decision outcomes.
const (
	// NotServed: fewer counting providers than required lie within the
	// standard. Negotiation with a non-participating provider may proceed
	// on the geo-access criterion.
	NotServed Status = iota
	// Served: the geo-access standard is met.
	Served
	// Indeterminate: the standard could not be applied, e.g. the location
	// is in no county. Reason says why.
	Indeterminate
	// OutOfServiceArea: the member lives outside the plan's service area,
	// where the plan's standard does not apply. Reason says which county.
	OutOfServiceArea
)

func (s Status) String() string {
	switch s {
	case Served:
		return "served"
	case NotServed:
		return "not_served"
	case Indeterminate:
		return "indeterminate"
	case OutOfServiceArea:
		return "out_of_service_area"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Member is where a member lives: a point, or only a ZIP code, and
// optionally the county of residence, which is trusted over the polygons.
type Member struct {
	Point      *geo.Point
	ZIP        string
	CountyFIPS string
}

// Request asks for geo-access decisions for one member.
type Request struct {
	Member      Member
	Disciplines []Discipline
	Profile     string // "" = the engine's default profile
	AsOf        Date   // required
	// AsOfToday: AsOf is the caller's today, not a date they named, so an
	// expired profile may be carried forward (Engine.Expiry).
	AsOfToday bool
	K         int // nearest providers to report; 0 = DefaultK
	// Service, if set, is a vocabulary code: only providers offering the
	// same or a similar service count. With no Disciplines, one decision
	// across the service's disciplines (AnyDiscipline), each provider
	// measured against its own discipline's standard.
	Service string
	// Plan, if set, is a plan id: only providers in the plan's networks
	// count, under the profile its contract mandates.
	Plan string
	// ProfileVersion, if set, is the version of the profile to decide
	// with, as a replay of a past decision names it: used even when
	// another version is in effect on AsOf. It must be in effect on AsOf
	// (or be the version a live decision on AsOf carried forward; see
	// Engine.Expiry), and agree with a version the plan pins.
	ProfileVersion string
}

// Limits on requests.
const (
	DefaultK = 5
	MaxK     = 50
)

// Rule is the standard a decision applied.
type Rule struct {
	CountyType        CountyType
	MaxMiles          float64 // 0 = no distance limit
	MaxMinutes        float64 // 0 = no time limit
	ProvidersRequired int
	ServedShare       float64 // the county's required served share (for reports)
	// Source says where the limits came from: the official per-county
	// standard, the profile's base table, or its standard for the service.
	Source RuleSource
	// RadiusMiles is the distance within which a provider is within both
	// limits under the time model (for distance-only models).
	RadiusMiles float64
}

// LocationEvidence says how the member was located.
type LocationEvidence struct {
	Source      LocationSource // LocatedByPoint or LocatedByZIP
	ZIP         string
	Approximate bool // located by ZIP only
}

// CountyEvidence says which county's standard applies and why.
type CountyEvidence struct {
	FIPS, Name, State string
	Type              CountyType
	TypeOfficial      bool
	TypeBasis         string
	// Source: CountyGiven (the caller's county), CountyPolygon (point in
	// polygon), CountyZIP (the ZIP's county), CountyNearest (nearest
	// polygon within SnapMiles of a point just off the generalised
	// coastline).
	Source    CountySource
	SnapMiles float64
	Note      string
}

// NearbyProvider is one of the nearest counting providers.
type NearbyProvider struct {
	NPI            string
	Name           string
	Discipline     Discipline
	Location       geo.Point
	CountyFIPS     string
	Miles          float64
	Minutes        float64
	WithinStandard bool
	// Designations the roster gives the provider, and the services it
	// offers (declared or by a qualifying designation), as codes.
	Designations []string
	Services     []string
}

// Component is one discipline's part of a service decided across its
// disciplines: that discipline's rule in the member's county and its
// providers offering the service within it.
type Component struct {
	Discipline      Discipline
	Rule            Rule
	ProvidersWithin int
}

// Decision is the geo-access answer for one member and discipline, with
// the evidence needed to replay it.
type Decision struct {
	// Discipline decided; AnyDiscipline for a service decided across its
	// disciplines (see Components).
	Discipline Discipline
	// Service decided (its code and name), when the request named one,
	// and the services counted as similar to it.
	Service, ServiceName string
	Similar              []string
	// Components: for a service across disciplines, each discipline's
	// rule and count; Rule then holds the county type and the providers
	// required, ProvidersWithin the sum.
	Components      []Component
	Status          Status
	Reason          string // why the decision is indeterminate; see Explain
	Location        LocationEvidence
	County          CountyEvidence
	Rule            Rule
	ProvidersWithin int
	Nearest         []NearbyProvider
	TimeModel       string
	TimeEstimated   bool
	Profile         string
	ProfileVersion  string
	// ProfileExpired: no loaded version of the profile is in effect on
	// AsOf; this version, which ended on ProfileEnd, was carried forward.
	ProfileExpired bool
	ProfileEnd     Date // the version's last day; zero when open-ended
	RosterVersion  string
	AsOf           Date
	// Plan applied, when the request named one, the networks whose
	// providers counted, and the version of the plan registry the plan
	// was read from (Plans.Version).
	Plan         string
	Networks     []string
	PlansVersion string

	memberPoint geo.Point // kept for the gate; never reported (PHI)
}

// Served reports whether the standard is met.
func (d *Decision) Served() bool { return d.Status == Served }

// Engine makes decisions against one county table, one set of profiles and
// one network. It is immutable: a roster reload makes a new Engine with
// WithNetwork and swaps it in.
type Engine struct {
	Counties       *Counties
	Map            *geo.CountyMap
	ZIPs           *geo.ZIPs
	Profiles       *Profiles
	DefaultProfile string
	// SnapMiles: a point in no polygon takes the nearest county within
	// this distance (generalised coastlines); 0 disables.
	SnapMiles float64
	// Expiry: what a request for today does when no version of its
	// profile is in effect (the zero value carries the last one forward).
	Expiry ExpiryPolicy
	// Vocabulary names the services requests may ask for; networks are
	// built with it (Engine.NewNetwork). Nil: no service requests.
	Vocabulary *Vocabulary
	// Plans are the client plans requests may name; nil: none.
	Plans   *Plans
	Network *Network // nil until a roster is loaded
}

// NewNetwork indexes a roster under the engine's vocabulary.
func (e *Engine) NewNetwork(r *Roster) (*Network, error) { return NewNetwork(r, e.Vocabulary) }

// WithNetwork returns a copy of e serving network n.
func (e *Engine) WithNetwork(n *Network) *Engine {
	c := *e
	c.Network = n
	return &c
}

// WithPlans returns a copy of e deciding with plans ps (a replay with a
// past version of the plan registry).
func (e *Engine) WithPlans(ps *Plans) *Engine {
	c := *e
	c.Plans = ps
	return &c
}

var resultPool = sync.Pool{New: func() any { return new(geo.Result) }}

// Decide answers a request: one Decision per discipline, in request order
// (or one across the service's disciplines when a service is named without
// disciplines). Caller mistakes come back as *InvalidRequest (wrapping
// ErrInvalidRequest and, for an unknown profile or plan, ErrUnknownProfile
// or ErrUnknownPlan); ErrNoRoster when no network is loaded.
func (e *Engine) Decide(req Request) ([]Decision, error) {
	pr, err := e.prepare(req)
	if err != nil {
		return nil, err
	}
	res := resultPool.Get().(*geo.Result)
	defer resultPool.Put(res)
	out := make([]Decision, len(pr.targets))
	for i, d := range pr.targets {
		e.decideOne(&out[i], d, pr, req, res)
	}
	return out, nil
}

// located is a resolved member location and county.
type located struct {
	point  geo.Point
	ev     LocationEvidence
	county *County
	cev    CountyEvidence
	reason string // set when the county could not be found
}

func orOpen(d Date) string {
	if d.IsZero() {
		return "open"
	}
	return d.String()
}

// locate resolves the member's point and county, adding violations for
// bad input; a point in no county is not a caller error but makes the
// decisions indeterminate.
//
// Every wrong field is reported, not only the first: a latitude and a
// longitude both out of range, a malformed ZIP beside a point, a county
// FIPS code the table lacks beside a bad location.
func (e *Engine) locate(m Member, counties *Counties, bad *InvalidRequest) *located {
	l := &located{}
	ok := true
	fail := func(field, reason string) { bad.add(field, reason); ok = false }
	switch {
	case m.Point != nil:
		pt := *m.Point
		if err := geo.CheckLat(pt.Lat); err != nil {
			fail("location.latitude", err.Error())
		}
		if err := geo.CheckLon(pt.Lon); err != nil {
			fail("location.longitude", err.Error())
		}
		if m.ZIP != "" {
			if _, err := geo.NormalizeZIP(m.ZIP); err != nil {
				fail("zip", zipReason(err, m.ZIP))
			}
		}
		l.point, l.ev = pt, LocationEvidence{Source: LocatedByPoint, ZIP: m.ZIP}
	case m.ZIP != "":
		z, err := e.ZIPs.Lookup(m.ZIP)
		if err != nil {
			fail("zip", zipReason(err, m.ZIP))
		}
		l.point, l.ev = z.Point, LocationEvidence{Source: LocatedByZIP, ZIP: z.Code, Approximate: true}
	default:
		fail("location", "a location (latitude and longitude) or a ZIP code is required")
	}
	if m.CountyFIPS != "" {
		c, err := counties.Lookup(m.CountyFIPS)
		if err != nil {
			fail("county_fips", err.Error())
		}
		l.county, l.cev.Source = c, CountyGiven
	}
	if !ok {
		return nil
	}
	if l.county == nil {
		e.findCounty(l, m, counties)
	}
	return l
}

// zipReason is why a ZIP code was refused, quoting what the caller sent.
func zipReason(err error, zip string) string {
	if errors.Is(err, geo.ErrMalformedZIP) {
		return fmt.Sprintf("%v (got %q)", err, Excerpt(zip))
	}
	return err.Error()
}

func (e *Engine) findCounty(l *located, m Member, counties *Counties) {
	if s, err := e.Map.Locate(l.point); err == nil {
		l.setCounty(counties, s.FIPS, CountyPolygon, 0)
		return
	}
	if m.ZIP != "" {
		if z, err := e.ZIPs.Lookup(m.ZIP); err == nil && z.CountyFIPS != "" {
			if l.setCounty(counties, z.CountyFIPS, CountyZIP, 0) {
				return
			}
		}
	}
	if e.SnapMiles > 0 {
		if s, d, err := e.Map.Nearest(l.point, e.SnapMiles); err == nil {
			l.setCounty(counties, s.FIPS, CountyNearest, d)
			return
		}
	}
	l.reason = fmt.Sprintf("the location is in no county polygon and none is within %.1f miles; pass the member's county FIPS", e.SnapMiles)
}

func (l *located) setCounty(t *Counties, fips string, source CountySource, snap float64) bool {
	c, err := t.Lookup(fips)
	if err != nil {
		l.reason = fmt.Sprintf("county %s has no entry in the county table", fips)
		return false
	}
	l.county, l.cev.Source, l.cev.SnapMiles, l.reason = c, source, snap, ""
	return true
}

// RuleFor returns the standard a profile applies in a county for a
// discipline: the official per-county limits where the profile uses them
// and the table has them, otherwise the profile's base table.
func RuleFor(p *Profile, c *County, d Discipline) (Rule, error) {
	ds, ok := p.Disciplines[d]
	if !ok {
		return Rule{}, fmt.Errorf("profile %s has no standard for %s", p.Name, d)
	}
	t := c.Designation.Type
	s := ds.ByType[t]
	r := Rule{CountyType: t, MaxMiles: s.MaxMiles, MaxMinutes: s.MaxMinutes, ProvidersRequired: s.ProvidersRequired,
		ServedShare: s.ServedShare, Source: RuleFromProfile}
	if cs, ok := c.Standard(d); ok && p.OfficialCountyStandards {
		r.MaxMiles, r.MaxMinutes = cs.MaxMiles, cs.MaxMinutes
		r.Source = RuleOfficial
	}
	r.RadiusMiles = reach(p, r)
	return r, nil
}

// RuleForService is the standard for a service in a discipline: the
// profile's own standard for the service where it sets one, otherwise the
// discipline's (RuleFor).
func RuleForService(p *Profile, c *County, d Discipline, svc *Service) (Rule, error) {
	return ruleFor(p, c, d, svc)
}

func ruleFor(p *Profile, c *County, d Discipline, svc *Service) (Rule, error) {
	if svc == nil {
		return RuleFor(p, c, d)
	}
	ss, ok := p.Services[svc.Code]
	if !ok {
		return RuleFor(p, c, d)
	}
	if !p.Covers(d) {
		return Rule{}, fmt.Errorf("profile %s has no standard for %s", p.Name, d)
	}
	t := c.Designation.Type
	s := ss.ByType[t]
	r := Rule{CountyType: t, MaxMiles: s.MaxMiles, MaxMinutes: s.MaxMinutes, ProvidersRequired: s.ProvidersRequired,
		ServedShare: s.ServedShare, Source: RuleServiceStandard}
	r.RadiusMiles = reach(p, r)
	return r, nil
}

// reach is the distance within which a provider meets both limits of r.
func reach(p *Profile, r Rule) float64 {
	radius := math.Inf(1)
	if r.MaxMiles > 0 {
		radius = r.MaxMiles
	}
	if r.MaxMinutes > 0 {
		radius = math.Min(radius, p.Time.ReachMiles(r))
	}
	return radius
}

func (e *Engine) decideOne(out *Decision, d Discipline, pr *prepared, req Request, res *geo.Result) {
	if d == AnyDiscipline {
		e.decideAcross(out, pr, req, res)
		return
	}
	rule, ok := e.begin(out, d, pr, req)
	if !ok {
		return
	}
	within := e.search(d, rule, pr, req, res)
	e.finish(out, d, pr, rule, within, res.Nearest)
}

// search counts the counting providers of d within rule of the member and
// finds the k nearest into res.
func (e *Engine) search(d Discipline, rule Rule, pr *prepared, req Request, res *geo.Result) int {
	p := pr.ch.Profile
	dn := &e.Network.disc[d]
	filter := pr.filter(req.AsOf)
	k := req.K
	if k == 0 {
		k = DefaultK
	}
	if p.Time.DistanceOnly() {
		dn.ix.Search(geo.Query{Center: pr.loc.point, Radius: searchRadius(rule), K: k, Filter: filter}, res)
		return res.Within
	}
	within := e.countRouted(dn, pr.loc.point, rule, p.Time, filter)
	dn.ix.Search(geo.Query{Center: pr.loc.point, K: k, Filter: filter}, res)
	return within
}

// decideAcross decides a service across its disciplines: each provider
// measured against its own discipline's standard, the counts summed, the
// nearest merged.
func (e *Engine) decideAcross(out *Decision, pr *prepared, req Request, res *geo.Result) {
	if _, ok := e.begin(out, AnyDiscipline, pr, req); !ok {
		return
	}
	c, p := pr.loc.county, pr.ch.Profile
	k := req.K
	if k == 0 {
		k = DefaultK
	}
	var all []NearbyProvider
	out.Rule = Rule{CountyType: c.Designation.Type}
	for _, d := range pr.parts {
		rule, err := ruleFor(p, c, d, pr.service)
		if err != nil {
			continue // prepare kept only the disciplines the profile covers
		}
		within := e.search(d, rule, pr, req, res)
		out.Components = append(out.Components, Component{Discipline: d, Rule: rule, ProvidersWithin: within})
		out.ProvidersWithin += within
		out.Rule.ProvidersRequired = max(out.Rule.ProvidersRequired, rule.ProvidersRequired)
		out.Rule.ServedShare = max(out.Rule.ServedShare, rule.ServedShare)
		out.Rule.RadiusMiles = max(out.Rule.RadiusMiles, rule.RadiusMiles)
		all = append(all, e.nearby(d, p, pr, rule, res.Nearest)...)
	}
	slices.SortStableFunc(all, func(a, b NearbyProvider) int { return cmp.Compare(a.Miles, b.Miles) })
	out.Nearest = all[:min(k, len(all))]
	out.Status = NotServed
	if out.ProvidersWithin >= out.Rule.ProvidersRequired {
		out.Status = Served
	}
}

// searchRadius is a rule's radius for the index; no limit is the Earth.
func searchRadius(r Rule) float64 {
	if math.IsInf(r.RadiusMiles, 1) {
		return 1e5
	}
	return r.RadiusMiles
}

// begin fills a decision's evidence up to the rule; false when the
// decision is already settled (indeterminate, or outside the plan's
// service area).
func (e *Engine) begin(out *Decision, d Discipline, pr *prepared, req Request) (Rule, bool) {
	p, l := pr.ch.Profile, pr.loc
	*out = Decision{Discipline: d, Location: l.ev, Profile: p.Name, ProfileVersion: p.Version, ProfileExpired: pr.ch.Expired, ProfileEnd: p.Effective.To,
		RosterVersion: e.Network.Version(), AsOf: req.AsOf, TimeModel: p.Time.Name(), TimeEstimated: p.Time.Estimated(), memberPoint: l.point}
	if pr.service != nil {
		out.Service, out.ServiceName, out.Similar = pr.service.Code, pr.service.Name, pr.service.Similar
	}
	if pr.plan != nil {
		out.Plan, out.Networks, out.PlansVersion = pr.plan.ID, pr.plan.Networks, e.Plans.Version
	}
	if l.county == nil {
		out.Status, out.Reason = Indeterminate, l.reason
		return Rule{}, false
	}
	c := l.county
	out.County = l.cev
	out.County.FIPS, out.County.Name, out.County.State = c.FIPS, c.Name, c.State
	out.County.Type, out.County.TypeOfficial, out.County.TypeBasis, out.County.Note =
		c.Designation.Type, c.Designation.Official, c.Designation.Basis, c.Note
	if pr.plan != nil && !pr.plan.InServiceArea(c.FIPS) {
		out.Status = OutOfServiceArea
		out.Reason = fmt.Sprintf("the member's county, %s %s, %s, is outside plan %s's service area: its standard does not apply there",
			c.FIPS, c.Name, c.State, pr.plan.ID)
		return Rule{}, false
	}
	if d == AnyDiscipline {
		return Rule{}, true
	}
	rule, err := ruleFor(p, c, d, pr.service)
	if err != nil { // prepare() checked coverage; keep the answer honest anyway
		out.Status, out.Reason = Indeterminate, err.Error()
		return Rule{}, false
	}
	out.Rule = rule
	return rule, true
}

// finish fills the count, the nearest providers and the status.
func (e *Engine) finish(out *Decision, d Discipline, pr *prepared, rule Rule, within int, nearest []geo.Neighbor) {
	out.ProvidersWithin = within
	out.Nearest = e.nearby(d, pr.ch.Profile, pr, rule, nearest)
	out.Status = NotServed
	if out.ProvidersWithin >= rule.ProvidersRequired {
		out.Status = Served
	}
}

// nearby turns index neighbours of discipline d into the evidence's
// nearest providers.
func (e *Engine) nearby(d Discipline, p *Profile, pr *prepared, rule Rule, nearest []geo.Neighbor) []NearbyProvider {
	n := e.Network
	dn := &n.disc[d]
	out := make([]NearbyProvider, len(nearest))
	for i, nb := range nearest {
		prov := &n.Roster.Providers[dn.prov[nb.ID]]
		mins := p.Time.Minutes(pr.loc.point, prov.Location, nb.Miles, rule)
		out[i] = NearbyProvider{NPI: prov.NPI, Name: prov.Name, Discipline: d, Location: prov.Location, CountyFIPS: prov.CountyFIPS,
			Miles: nb.Miles, Minutes: mins, WithinStandard: withinRule(rule, nb.Miles, mins, p.Time.DistanceOnly()),
			Designations: prov.Designations, Services: n.serviceCodes(prov)}
	}
	return out
}

// Explain says in a sentence why the decision came out as it did.
func (d *Decision) Explain() string {
	if d.Status == Indeterminate || d.Status == OutOfServiceArea {
		return d.Reason + d.ExpiredNote()
	}
	verb := "not served"
	if d.Status == Served {
		verb = "served"
	}
	offering := ""
	if d.Service != "" {
		offering = " offering " + d.ServiceName
		if len(d.Similar) > 0 {
			offering += " (or a similar service: " + strings.Join(d.Similar, ", ") + ")"
		}
	}
	var s string
	if d.Discipline == AnyDiscipline {
		parts := make([]string, len(d.Components))
		for i, c := range d.Components {
			parts[i] = fmt.Sprintf("%s %d within %s", c.Discipline, c.ProvidersWithin, c.Rule.Limits())
		}
		s = fmt.Sprintf("%s: %d counting provider(s)%s within their discipline's standard of the member (%s); %d required in a %s county",
			verb, d.ProvidersWithin, offering, strings.Join(parts, ", "), d.Rule.ProvidersRequired, d.Rule.CountyType)
	} else {
		s = fmt.Sprintf("%s: %d counting %s provider(s)%s within %s of the member; %d required in a %s county",
			verb, d.ProvidersWithin, d.Discipline, offering, d.Rule.Limits(), d.Rule.ProvidersRequired, d.Rule.CountyType)
	}
	if d.Plan != "" {
		s += fmt.Sprintf(" (plan %s: networks %s)", d.Plan, strings.Join(d.Networks, ", "))
	}
	return s + d.ExpiredNote()
}

// ExpiredNote says, for a decision made with a carried-forward profile,
// which version was used past its end: "" otherwise.
func (d *Decision) ExpiredNote() string {
	if !d.ProfileExpired {
		return ""
	}
	return fmt.Sprintf(" (standards carried forward: profile %s %s ended %s and no later version is loaded)", d.Profile, d.ProfileVersion, d.ProfileEnd)
}

// within reports whether a trip meets both limits of a rule. For a
// distance-only time model the radius decides, exactly as the count does.
func withinRule(r Rule, miles, minutes float64, distanceOnly bool) bool {
	if distanceOnly {
		return miles <= r.RadiusMiles
	}
	return (r.MaxMiles == 0 || miles <= r.MaxMiles) && (r.MaxMinutes == 0 || minutes <= r.MaxMinutes) && miles <= r.RadiusMiles
}

// Limits says a rule's limits in words: "30 miles and 45 minutes".
func (r Rule) Limits() string {
	switch {
	case r.MaxMiles > 0 && r.MaxMinutes > 0:
		return fmt.Sprintf("%g miles and %g minutes", r.MaxMiles, r.MaxMinutes)
	case r.MaxMiles > 0:
		return fmt.Sprintf("%g miles", r.MaxMiles)
	}
	return fmt.Sprintf("%g minutes", r.MaxMinutes)
}

// countRouted counts providers within both limits when minutes come from a
// model that is not a function of distance alone (a routing engine): every
// provider within the distance bound is timed.
func (e *Engine) countRouted(dn *discNet, pt geo.Point, r Rule, tm TimeModel, f geo.Filter) int {
	n := 0
	for _, nb := range dn.ix.Within(pt, searchRadius(r), f, nil, nil) {
		pr := &e.Network.Roster.Providers[dn.prov[nb.ID]]
		if withinRule(r, nb.Miles, tm.Minutes(pt, pr.Location, nb.Miles, r), false) {
			n++
		}
	}
	return n
}
