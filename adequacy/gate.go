package adequacy

import (
	"errors"
	"fmt"

	"github.com/geoaccess/geoaccess/geo"
)

// The negotiation gate of the utilization policy "Negotiated Services"
// (MSK policy 477): negotiating with a non-participating DC, PT, OT or ST
// on a member's behalf is supported only when the geo-access standard is
// not met for the member, every requirement holds and no exclusion does.
// Every criterion but geo-access is a human or clinical judgement: the
// caller attests it, the gate reports each criterion's outcome and clause.

// CriterionKind says how a criterion acts.
type CriterionKind string

// Criterion kinds.
const (
	Requirement CriterionKind = "requirement" // must hold
	Exclusion   CriterionKind = "exclusion"   // must not hold
	Computed    CriterionKind = "computed"    // decided by geoaccess
)

// Outcome is one criterion's effect on the request.
type Outcome string

// Outcomes.
const (
	Pass        Outcome = "pass"         // does not stand in the way
	Fail        Outcome = "fail"         // blocks negotiation
	NotAttested Outcome = "not_attested" // blocks until someone attests it
	Undecided   Outcome = "undecided"    // could not be decided (e.g. geo-access indeterminate): blocks, refer for review
)

// Criterion identifiers, stable for callers and audit logs.
const (
	CritHealthcareRequirement = "healthcare_requirement"
	CritScopeOfPractice       = "scope_of_practice"
	CritSuperiorOutcomes      = "superior_outcomes"
	CritBenefitCovers         = "benefit_covers_negotiation"
	CritGeoAccessNotMet       = "geo_access_not_met"
	CritProviderNonPar        = "provider_non_participating"
	CritComfortConvenience    = "solely_comfort_or_convenience"
	CritTechniquePreference   = "technique_preference"
	CritInvestigational       = "investigational"
	CritEquivalentOutcomes    = "equivalent_outcomes_available"
	CritMedicallyNecessary    = "medically_necessary"
)

// Attestations are the human and clinical judgements the gate takes as
// given; nil means nobody attested it.
type Attestations struct {
	HealthcareRequirement       *bool // the service meets a defined healthcare requirement of the member
	WithinScope                 *bool // within the provider's professional scope of practice
	SuperiorOutcomes            *bool // reasonable expectation of superior outcomes, or less risk for equivalent outcomes
	BenefitCoversNegotiation    *bool // the member's benefit covers negotiation with non-participating providers
	SolelyComfortOrConvenience  *bool // the services are solely for comfort or convenience
	TechniquePreference         *bool // the request rests primarily on a technique preference
	Investigational             *bool // investigational, experimental or unproven
	EquivalentOutcomesAvailable *bool // equivalent outcomes can be expected from an accessible participating provider
	MedicallyNecessary          *bool // the service is medically necessary
}

// RequestedProvider is the non-participating provider the member asks for,
// as the roster knows it.
type RequestedProvider struct {
	NPI string
	// ParticipatingInDiscipline: the roster lists this NPI as participating
	// in the requested discipline (then there is nothing to negotiate).
	ParticipatingInDiscipline bool
	// Miles from the member, when the provider's location is known.
	Miles    float64
	HasMiles bool
	// With a service: Known, when the roster lists the NPI in the
	// discipline (participating or not), and then OffersService, whether
	// it offers the service or a similar one there.
	Service       string
	Known         bool
	OffersService bool
}

// CriterionResult is one criterion's outcome with the clause it rests on.
type CriterionResult struct {
	ID       string
	Kind     CriterionKind
	Clause   string
	Attested *bool // the attested answer, nil for computed or unattested criteria
	Outcome  Outcome
	Detail   string
}

// GateResult is the gate's answer.
type GateResult struct {
	Supported bool
	Summary   string
	Criteria  []CriterionResult
	// GeoAccess is the decision the gate rests on: for the service, when
	// the request names one (same or similar, within the discipline).
	GeoAccess Decision
	// DisciplineAccess is, with a service, the discipline's own decision
	// beside it, so both answers show.
	DisciplineAccess *Decision
	// Provider is the requested provider as the roster knows it.
	Provider RequestedProvider
}

// PolicyReference names the policy the gate implements.
const PolicyReference = `Utilization policy "Negotiated Services" (MSK policy 477)`

type attestedCriterion struct {
	id, clause string
	kind       CriterionKind
	get        func(*Attestations) *bool
}

var attestedCriteria = []attestedCriterion{
	{CritHealthcareRequirement, "The service meets a defined healthcare requirement of the member.", Requirement,
		func(a *Attestations) *bool { return a.HealthcareRequirement }},
	{CritScopeOfPractice, "The service is within the provider's professional scope of practice (state board rules).", Requirement,
		func(a *Attestations) *bool { return a.WithinScope }},
	{CritSuperiorOutcomes, "There is a reasonable expectation of superior relevant outcomes, or less risk for equivalent outcomes, than participating providers within the geo-access standard.", Requirement,
		func(a *Attestations) *bool { return a.SuperiorOutcomes }},
	{CritBenefitCovers, "Not supported when the member's benefit does not cover negotiation with non-participating providers.", Requirement,
		func(a *Attestations) *bool { return a.BenefitCoversNegotiation }},
	{CritComfortConvenience, "Not supported when the services are solely for the member's comfort or convenience.", Exclusion,
		func(a *Attestations) *bool { return a.SolelyComfortOrConvenience }},
	{CritTechniquePreference, "Not supported when the request rests primarily on a technique preference (a specific manipulative technique or exercise approach).", Exclusion,
		func(a *Attestations) *bool { return a.TechniquePreference }},
	{CritInvestigational, "Not supported when the services are investigational, experimental or unproven.", Exclusion,
		func(a *Attestations) *bool { return a.Investigational }},
	{CritEquivalentOutcomes, "Not supported when equivalent outcomes (effectiveness and safety) can reasonably be expected from an accessible participating provider.", Exclusion,
		func(a *Attestations) *bool { return a.EquivalentOutcomesAvailable }},
	{CritMedicallyNecessary, "Not supported when the service is not medically necessary.", Requirement,
		func(a *Attestations) *bool { return a.MedicallyNecessary }},
}

// EvaluateNegotiation applies the gate to a geo-access decision for the
// requested discipline, the requested provider and the attestations.
//
// With a service, geo is the service's decision (providers of the
// discipline offering the same or a similar service) and discipline, if
// not nil, the discipline's own decision, which the criterion's detail
// reports beside it.
func EvaluateNegotiation(geo Decision, discipline *Decision, prov RequestedProvider, a Attestations) GateResult {
	res := GateResult{GeoAccess: geo, DisciplineAccess: discipline, Provider: prov, Supported: true}
	res.Criteria = append(res.Criteria, geoCriterion(geo, discipline), providerCriterion(prov))
	for _, c := range attestedCriteria {
		v := c.get(&a)
		r := CriterionResult{ID: c.id, Kind: c.kind, Clause: c.clause, Attested: v}
		switch {
		case v == nil:
			r.Outcome, r.Detail = NotAttested, "not attested: the reviewer must answer it"
		case c.kind == Requirement && *v, c.kind == Exclusion && !*v:
			r.Outcome = Pass
		default:
			r.Outcome = Fail
		}
		res.Criteria = append(res.Criteria, r)
	}
	var blocking []string
	for _, c := range res.Criteria {
		if c.Outcome != Pass {
			res.Supported = false
			blocking = append(blocking, fmt.Sprintf("%s (%s)", c.ID, c.Outcome))
		}
	}
	if res.Supported {
		what := geo.Discipline.String()
		if geo.Service != "" {
			what = fmt.Sprintf("%s geo-access standard for %s", what, geo.ServiceName)
		} else {
			what += " geo-access standard"
		}
		res.Summary = fmt.Sprintf("Negotiation supported: the %s is not met and every criterion of %s holds.", what, PolicyReference)
	} else {
		res.Summary = fmt.Sprintf("Negotiation not supported under %s: %d criterion(s) stand in the way: %s.", PolicyReference, len(blocking), joinComma(blocking))
	}
	return res
}

func geoCriterion(d Decision, disc *Decision) CriterionResult {
	r := CriterionResult{ID: CritGeoAccessNotMet, Kind: Computed,
		Clause: "Supported only when the plan's geo-access standards are not met for the member; not supported when participating providers offering the same or similar services are accessible to the member."}
	switch d.Status {
	case NotServed:
		r.Outcome = Pass
	case Served:
		r.Outcome = Fail
	default:
		r.Outcome = Undecided
	}
	r.Detail = d.Explain()
	if disc != nil && d.Status != Indeterminate && d.Status != OutOfServiceArea {
		similar := ""
		if len(d.Similar) > 0 {
			similar = " (or a similar service)"
		}
		r.Detail = fmt.Sprintf("%d participating %s provider(s) within %s; %d offering %s%s. Service: %s",
			disc.ProvidersWithin, disc.Discipline, disc.Rule.Limits(), d.ProvidersWithin, d.ServiceName, similar, d.Explain())
	}
	return r
}

func providerCriterion(p RequestedProvider) CriterionResult {
	r := CriterionResult{ID: CritProviderNonPar, Kind: Computed,
		Clause: "Negotiation is with a non-participating provider."}
	if p.ParticipatingInDiscipline {
		r.Outcome, r.Detail = Fail, fmt.Sprintf("NPI %s is a participating provider of this discipline in the roster: no negotiation is needed", p.NPI)
		return r
	}
	r.Outcome, r.Detail = Pass, fmt.Sprintf("NPI %s is not a participating provider of this discipline in the roster", p.NPI)
	if p.HasMiles {
		r.Detail += fmt.Sprintf("; %.1f miles from the member", p.Miles)
	}
	switch {
	case p.Service == "":
	case !p.Known:
		r.Detail += fmt.Sprintf("; the roster does not list it, so whether it offers %s is not known", p.Service)
	case p.OffersService:
		r.Detail += fmt.Sprintf("; the roster lists it as offering %s (or a similar service)", p.Service)
	default:
		r.Detail += fmt.Sprintf("; the roster lists it, without %s or a similar service", p.Service)
	}
	return r
}

func joinComma(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// NegotiationRequest asks the gate about one member, discipline and
// requested non-participating provider.
type NegotiationRequest struct {
	Member       Member
	Discipline   Discipline
	Profile      string
	AsOf         Date
	AsOfToday    bool // AsOf is today, not a date the caller named (Request.AsOfToday)
	ProviderNPI  string
	ProviderAt   *geo.Point // the requested provider's service location, if known
	Attestations Attestations
	// Service requested (a vocabulary code): geo-access is then decided
	// for participating providers of the discipline offering the same or
	// a similar service. Plan: the member's plan.
	Service string
	Plan    string
	// ProfileVersion: the profile version to decide with (a replay; see
	// Request.ProfileVersion).
	ProfileVersion string
}

// Negotiate decides geo-access for the member and applies the gate.
func (e *Engine) Negotiate(req NegotiationRequest) (GateResult, error) {
	bad := &InvalidRequest{}
	if err := validNPI(req.ProviderNPI); err != nil {
		bad.add("provider.npi", err.Error())
	}
	if req.ProviderAt != nil {
		if err := geo.CheckLat(req.ProviderAt.Lat); err != nil {
			bad.add("provider.location.latitude", err.Error())
		}
		if err := geo.CheckLon(req.ProviderAt.Lon); err != nil {
			bad.add("provider.location.longitude", err.Error())
		}
	}
	dreq := Request{Member: req.Member, Disciplines: []Discipline{req.Discipline}, Profile: req.Profile, AsOf: req.AsOf, AsOfToday: req.AsOfToday,
		Service: req.Service, Plan: req.Plan, ProfileVersion: req.ProfileVersion}
	ds, err := e.Decide(dreq)
	if len(bad.Violations) > 0 {
		// The member's faults too: every wrong field at once.
		if ir := (*InvalidRequest)(nil); errors.As(err, &ir) {
			bad.Violations = append(bad.Violations, ir.Violations...)
		}
		return GateResult{}, bad
	}
	if err != nil {
		return GateResult{}, err
	}
	var disc *Decision
	prov := RequestedProvider{NPI: req.ProviderNPI}
	if req.Service != "" {
		dreq.Service = ""
		both, err := e.Decide(dreq)
		if err != nil {
			return GateResult{}, err
		}
		disc = &both[0]
		prov.Service = ds[0].ServiceName
	}
	var same ServiceSet
	if v := e.vocabulary(); v != nil && req.Service != "" {
		if svc, ok := v.Service(req.Service); ok {
			same = v.SameOrSimilar(svc)
		}
	}
	for _, p := range e.Network.ByNPI(req.ProviderNPI) {
		if p.Discipline != req.Discipline {
			continue
		}
		if p.Participating {
			prov.ParticipatingInDiscipline = true
		}
		if req.Service != "" {
			prov.Known = true
			prov.OffersService = prov.OffersService || e.Network.Offers(p)&same != 0
		}
	}
	if req.ProviderAt != nil {
		prov.Miles, prov.HasMiles = geo.Distance(ds[0].memberPoint, *req.ProviderAt), true
	}
	return EvaluateNegotiation(ds[0], disc, prov, req.Attestations), nil
}

// validNPI checks ten digits and the Luhn check digit over 80840 + the
// first nine.
func validNPI(s string) error {
	if len(s) != 10 {
		return fmt.Errorf("an NPI is 10 digits (got %q)", Excerpt(s))
	}
	sum := 24
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("an NPI is 10 digits (got %q)", Excerpt(s))
		}
	}
	for i := 0; i < 9; i++ {
		d := int(s[i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if want := byte('0' + (10-sum%10)%10); s[9] != want {
		return fmt.Errorf("NPI %s fails its check digit (want %c)", s, want)
	}
	return nil
}
