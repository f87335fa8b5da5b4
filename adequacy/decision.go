package adequacy

import (
	"errors"
	"fmt"
	"math"
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
)

func (s Status) String() string {
	switch s {
	case Served:
		return "served"
	case NotServed:
		return "not_served"
	case Indeterminate:
		return "indeterminate"
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
	// standard, or the profile's base table.
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
	Location       geo.Point
	CountyFIPS     string
	Miles          float64
	Minutes        float64
	WithinStandard bool
}

// Decision is the geo-access answer for one member and discipline, with
// the evidence needed to replay it.
type Decision struct {
	Discipline      Discipline
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
	Expiry  ExpiryPolicy
	Network *Network // nil until a roster is loaded
}

// WithNetwork returns a copy of e serving network n.
func (e *Engine) WithNetwork(n *Network) *Engine {
	c := *e
	c.Network = n
	return &c
}

var resultPool = sync.Pool{New: func() any { return new(geo.Result) }}

// Decide answers a request: one Decision per discipline, in request order.
// Caller mistakes come back as *InvalidRequest (wrapping ErrInvalidRequest
// and, for an unknown profile, ErrUnknownProfile); ErrNoRoster when no
// network is loaded.
func (e *Engine) Decide(req Request) ([]Decision, error) {
	ch, loc, err := e.prepare(req)
	if err != nil {
		return nil, err
	}
	res := resultPool.Get().(*geo.Result)
	defer resultPool.Put(res)
	out := make([]Decision, len(req.Disciplines))
	for i, d := range req.Disciplines {
		e.decideOne(&out[i], d, ch, loc, req, res)
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

func (e *Engine) prepare(req Request) (Choice, *located, error) {
	bad := &InvalidRequest{}
	ch := e.chooseProfile(req.Profile, req.AsOf, req.AsOfToday, bad)
	p := ch.Profile
	if p == nil && !bad.NotFound {
		p, _ = e.profileFor(req.Profile) // check the disciplines against some version
	}
	if len(req.Disciplines) == 0 {
		bad.add("disciplines", "at least one discipline is required (DC, PT, OT, ST)")
	}
	var seen uint32
	for i, d := range req.Disciplines {
		switch {
		case !d.Valid():
			bad.add(fmt.Sprintf("disciplines[%d]", i), ErrUnknownDiscipline.Error())
		case seen&(1<<d) != 0:
			bad.add(fmt.Sprintf("disciplines[%d]", i), fmt.Sprintf("%s is listed twice", d))
		case p != nil && !p.Covers(d):
			bad.add(fmt.Sprintf("disciplines[%d]", i), fmt.Sprintf("profile %s has no standard for %s", p.Name, d))
		}
		if d.Valid() {
			seen |= 1 << d
		}
	}
	if req.K < 0 || req.K > MaxK {
		bad.add("k", fmt.Sprintf("%d must be between 0 and %d", req.K, MaxK))
	}
	loc := e.locate(req.Member, e.countiesFor(p), bad)
	if bad.NotFound && len(bad.Violations) > 1 {
		bad.NotFound = false // other faults too: report as invalid argument
	}
	if err := bad.orNil(); err != nil {
		return Choice{}, nil, err
	}
	if e.Network == nil {
		return Choice{}, nil, ErrNoRoster
	}
	return ch, loc, nil
}

// chooseProfile resolves a request's profile version, adding violations
// for an unknown profile, a missing as-of date or one no version covers.
func (e *Engine) chooseProfile(name string, asOf Date, today bool, bad *InvalidRequest) Choice {
	if name == "" {
		name = e.DefaultProfile
	}
	if asOf.IsZero() {
		if _, err := e.Profiles.Versions(name); err != nil {
			bad.add("profile", err.Error())
			bad.NotFound = true
		}
		bad.add("as_of", "is required")
		return Choice{}
	}
	ch, err := e.Profiles.Choose(name, asOf, today, e.Expiry)
	switch {
	case errors.Is(err, ErrUnknownProfile):
		bad.add("profile", err.Error())
		bad.NotFound = true
	case err != nil:
		bad.add("as_of", err.Error())
	}
	return ch
}

// countiesFor is the county table a profile decides with: its own (the
// CMS file of its year) or the engine's.
func (e *Engine) countiesFor(p *Profile) *Counties {
	if p != nil && p.Counties != nil {
		return p.Counties
	}
	return e.Counties
}

func orOpen(d Date) string {
	if d.IsZero() {
		return "open"
	}
	return d.String()
}

func (e *Engine) profileFor(name string) (*Profile, error) {
	if name == "" {
		name = e.DefaultProfile
	}
	return e.Profiles.Get(name)
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
	r.RadiusMiles = math.Inf(1)
	if r.MaxMiles > 0 {
		r.RadiusMiles = r.MaxMiles
	}
	if r.MaxMinutes > 0 {
		r.RadiusMiles = math.Min(r.RadiusMiles, p.Time.ReachMiles(r))
	}
	return r, nil
}

func (e *Engine) decideOne(out *Decision, d Discipline, ch Choice, l *located, req Request, res *geo.Result) {
	rule, ok := e.begin(out, d, ch, l, req)
	if !ok {
		return
	}
	p := ch.Profile
	n := e.Network
	dn := &n.disc[d]
	filter := p.Counting.filter(req.AsOf)
	k := req.K
	if k == 0 {
		k = DefaultK
	}
	within := 0
	if p.Time.DistanceOnly() {
		dn.ix.Search(geo.Query{Center: l.point, Radius: searchRadius(rule), K: k, Filter: filter}, res)
		within = res.Within
	} else {
		within = e.countRouted(dn, l.point, rule, p.Time, filter)
		dn.ix.Search(geo.Query{Center: l.point, K: k, Filter: filter}, res)
	}
	e.finish(out, d, p, l, rule, within, res.Nearest)
}

// searchRadius is a rule's radius for the index; no limit is the Earth.
func searchRadius(r Rule) float64 {
	if math.IsInf(r.RadiusMiles, 1) {
		return 1e5
	}
	return r.RadiusMiles
}

// begin fills a decision's evidence up to the rule; false when the
// decision is already settled (indeterminate).
func (e *Engine) begin(out *Decision, d Discipline, ch Choice, l *located, req Request) (Rule, bool) {
	p := ch.Profile
	*out = Decision{Discipline: d, Location: l.ev, Profile: p.Name, ProfileVersion: p.Version, ProfileExpired: ch.Expired, ProfileEnd: p.Effective.To,
		RosterVersion: e.Network.Version(), AsOf: req.AsOf, TimeModel: p.Time.Name(), TimeEstimated: p.Time.Estimated(), memberPoint: l.point}
	if l.county == nil {
		out.Status, out.Reason = Indeterminate, l.reason
		return Rule{}, false
	}
	c := l.county
	out.County = l.cev
	out.County.FIPS, out.County.Name, out.County.State = c.FIPS, c.Name, c.State
	out.County.Type, out.County.TypeOfficial, out.County.TypeBasis, out.County.Note =
		c.Designation.Type, c.Designation.Official, c.Designation.Basis, c.Note
	rule, err := RuleFor(p, c, d)
	if err != nil { // prepare() checked coverage; keep the answer honest anyway
		out.Status, out.Reason = Indeterminate, err.Error()
		return Rule{}, false
	}
	out.Rule = rule
	return rule, true
}

// finish fills the count, the nearest providers and the status.
func (e *Engine) finish(out *Decision, d Discipline, p *Profile, l *located, rule Rule, within int, nearest []geo.Neighbor) {
	n := e.Network
	dn := &n.disc[d]
	out.ProvidersWithin = within
	out.Nearest = make([]NearbyProvider, len(nearest))
	for i, nb := range nearest {
		pr := &n.Roster.Providers[dn.prov[nb.ID]]
		mins := p.Time.Minutes(l.point, pr.Location, nb.Miles, rule)
		out.Nearest[i] = NearbyProvider{NPI: pr.NPI, Name: pr.Name, Location: pr.Location, CountyFIPS: pr.CountyFIPS,
			Miles: nb.Miles, Minutes: mins, WithinStandard: withinRule(rule, nb.Miles, mins, p.Time.DistanceOnly())}
	}
	out.Status = NotServed
	if out.ProvidersWithin >= rule.ProvidersRequired {
		out.Status = Served
	}
}

// Explain says in a sentence why the decision came out as it did.
func (d *Decision) Explain() string {
	if d.Status == Indeterminate {
		return d.Reason + d.ExpiredNote()
	}
	verb := "not served"
	if d.Status == Served {
		verb = "served"
	}
	s := fmt.Sprintf("%s: %d counting %s provider(s) within %s of the member; %d required in a %s county",
		verb, d.ProvidersWithin, d.Discipline, d.Rule.Limits(), d.Rule.ProvidersRequired, d.Rule.CountyType)
	if d.ProfileExpired {
		s += d.ExpiredNote()
	}
	return s
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
