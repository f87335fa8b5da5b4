package adequacy

import (
	"errors"
	"fmt"
	"slices"

	"github.com/geoaccess/geoaccess/geo"
)

// prepared is a validated request: the profile version, plan and service
// it resolved to, where the member is, and the decisions to make.
type prepared struct {
	ch      Choice
	plan    *Plan
	service *Service
	loc     *located
	scope   scope
	// targets are the decisions in request order: disciplines, or
	// AnyDiscipline for a service across its disciplines (parts).
	targets []Discipline
	parts   []Discipline
}

// scope narrows the providers that count, inside the index: a service
// (same or similar) and a plan's networks.
type scope struct {
	need uint8 // bit setServices, bit setNetworks
	svcs ServiceSet
	nets uint64
}

// filter is the index filter for a request's counting providers on asOf.
func (pr *prepared) filter(asOf Date) geo.Filter {
	return pr.scope.apply(pr.ch.Counting.filter(asOf))
}

func (sc scope) apply(f geo.Filter) geo.Filter {
	if sc.need&(1<<setServices) != 0 {
		f = f.Require(setServices, uint64(sc.svcs))
	}
	if sc.need&(1<<setNetworks) != 0 {
		f = f.Require(setNetworks, sc.nets)
	}
	return f
}

func (e *Engine) prepare(req Request) (*prepared, error) {
	bad := &InvalidRequest{}
	pr := &prepared{}
	profile, pinned := req.Profile, ""
	if req.Plan != "" {
		pr.plan, profile, pinned = e.planFor(req, bad)
	}
	pr.ch = e.chooseProfile(profile, pinned, req.ProfileVersion, req.AsOf, req.AsOfToday, bad)
	p := pr.ch.Profile
	if p == nil && !bad.NotFound {
		p, _ = e.profileFor(profile) // check the disciplines against some version
	}
	if req.Service != "" {
		pr.service = e.serviceFor(req.Service, bad)
	}
	e.targets(pr, req, p, bad)
	if req.K < 0 || req.K > MaxK {
		bad.add("k", fmt.Sprintf("%d must be between 0 and %d", req.K, MaxK))
	}
	pr.loc = e.locate(req.Member, e.countiesFor(p), bad)
	if bad.NotFound && len(bad.Violations) > 1 {
		bad.NotFound, bad.Missing = false, nil // other faults too: report as invalid argument
	}
	if err := bad.orNil(); err != nil {
		return nil, err
	}
	if e.Network == nil {
		return nil, ErrNoRoster
	}
	if pr.service != nil {
		if err := e.checkVocabulary(); err != nil {
			return nil, err
		}
		pr.scope.need |= 1 << setServices
		pr.scope.svcs = e.Network.vocab.SameOrSimilar(pr.service)
	}
	if pr.plan != nil {
		pr.scope.need |= 1 << setNetworks
		pr.scope.nets = e.Network.networkBits(pr.plan.Networks)
	}
	return pr, nil
}

// ErrVocabularyMismatch: the serving network was indexed under another
// services vocabulary than the engine's (a wiring fault, not the
// caller's).
var ErrVocabularyMismatch = errors.New("the network was indexed under another services vocabulary")

func (e *Engine) checkVocabulary() error {
	if e.Network.vocab != e.Vocabulary {
		return ErrVocabularyMismatch
	}
	return nil
}

// planFor resolves a request's plan, its profile and pinned version.
func (e *Engine) planFor(req Request, bad *InvalidRequest) (*Plan, string, string) {
	pl, err := e.Plans.Get(req.Plan)
	if err != nil {
		bad.add("plan", err.Error())
		bad.notFound(ErrUnknownPlan)
		return nil, req.Profile, ""
	}
	if req.Profile != "" && req.Profile != pl.Profile {
		bad.add("profile", fmt.Sprintf("plan %s's contract mandates profile %s, not %s: give the plan or the profile, or both when they agree",
			pl.ID, pl.Profile, Excerpt(req.Profile)))
	}
	if !req.AsOf.IsZero() && !pl.Effective.Contains(req.AsOf) {
		bad.add("as_of", fmt.Sprintf("%s is outside plan %s's effective period %s", req.AsOf, pl.ID, pl.Effective))
	}
	return pl, pl.Profile, pl.ProfileVersion
}

// reportPlanProfile resolves a report's plan (if named) and the profile
// version it decides under, as a request's are: faults go to bad.
func (e *Engine) reportPlanProfile(planID, profile, version string, asOf Date, today bool, bad *InvalidRequest) (*Plan, Choice) {
	var plan *Plan
	pinned := ""
	if planID != "" {
		plan, profile, pinned = e.planFor(Request{Plan: planID, Profile: profile, AsOf: asOf}, bad)
	}
	return plan, e.chooseProfile(profile, pinned, version, asOf, today, bad)
}

// chooseProfile resolves a request's profile version — the one it names
// (a replay), else the one a plan pins, else the one in effect — adding
// violations for an unknown profile or version, a missing as-of date or
// one the version does not cover.
func (e *Engine) chooseProfile(name, pinned, requested string, asOf Date, today bool, bad *InvalidRequest) Choice {
	if name == "" {
		name = e.DefaultProfile
	}
	if asOf.IsZero() {
		if _, err := e.Profiles.Versions(name); err != nil {
			bad.add("profile", err.Error())
			bad.notFound(ErrUnknownProfile)
		}
		bad.add("as_of", "is required")
		return Choice{}
	}
	var ch Choice
	var err error
	field := "as_of"
	switch {
	case requested != "" && pinned != "" && requested != pinned:
		if _, err := e.Profiles.Version(name, requested); err != nil {
			bad.add("profile_version", err.Error())
		} else {
			bad.add("profile_version", fmt.Sprintf("the plan's contract pins %s version %s, not %s", name, pinned, requested))
		}
		return Choice{}
	case requested != "":
		ch, err = e.replayVersion(name, requested, asOf)
		field = "profile_version"
	case pinned != "":
		ch, err = e.pinnedVersion(name, pinned, asOf, today)
	default:
		ch, err = e.Profiles.Choose(name, asOf, today, e.Expiry)
	}
	switch {
	case errors.Is(err, ErrUnknownProfile):
		if _, nameErr := e.Profiles.Versions(name); nameErr == nil && requested != "" {
			field = "profile_version" // the name is known: the version is not
		} else {
			field = "profile"
		}
		bad.add(field, err.Error())
		bad.notFound(ErrUnknownProfile)
	case err != nil:
		bad.add(field, err.Error())
	}
	return ch
}

// replayVersion is the profile version a request names, as a replay of a
// past decision does. It must be in effect on asOf, with one exception: a
// decision made while no version was in effect carried the last ended
// version forward (CarryForward, Decision.ProfileExpired), so the version
// that had ended most recently before asOf is accepted too, and its
// decisions are flagged expired as the original was — even when a version
// for asOf has been loaded since. Any other version is refused: its rules
// never applied on asOf.
func (e *Engine) replayVersion(name, version string, asOf Date) (Choice, error) {
	p, err := e.Profiles.Version(name, version)
	if err != nil {
		return Choice{}, err
	}
	if p.Effective.Contains(asOf) {
		return Choice{Profile: p}, nil
	}
	if e.Expiry == CarryForward && !p.Effective.To.IsZero() && p.Effective.To.Before(asOf) {
		vs, _ := e.Profiles.Versions(name)
		var last *Profile // versions are in order and do not overlap: the last to end before asOf
		for _, q := range vs {
			if !q.Effective.To.IsZero() && q.Effective.To.Before(asOf) {
				last = q
			}
		}
		if last == p {
			return Choice{Profile: p, Expired: true}, nil
		}
	}
	return Choice{}, &VersionNotInEffectError{Profile: p, AsOf: asOf}
}

// VersionNotInEffectError: a request named a profile version whose rules
// did not apply on its as-of date (see Request.ProfileVersion).
type VersionNotInEffectError struct {
	Profile *Profile
	AsOf    Date
}

func (e *VersionNotInEffectError) Error() string {
	return fmt.Sprintf("profile %s version %s is in effect %s, not on %s", e.Profile.Name, e.Profile.Version, e.Profile.Effective, e.AsOf)
}

func (e *VersionNotInEffectError) Unwrap() error { return ErrProfileNotInEffect }

// pinnedVersion is a plan's pinned profile version on asOf: past its end
// only for today, under CarryForward, as Choose does.
func (e *Engine) pinnedVersion(name, version string, asOf Date, today bool) (Choice, error) {
	p, err := e.Profiles.Version(name, version)
	if err != nil {
		return Choice{}, err
	}
	switch {
	case p.Effective.Contains(asOf):
		return Choice{Profile: p}, nil
	case today && e.Expiry == CarryForward && !p.Effective.To.IsZero() && p.Effective.To.Before(asOf):
		return Choice{Profile: p, Expired: true}, nil
	}
	return Choice{}, &NotInEffectError{Name: name, AsOf: asOf, Versions: []*Profile{p}}
}

func (e *Engine) profileFor(name string) (*Profile, error) {
	if name == "" {
		name = e.DefaultProfile
	}
	return e.Profiles.Get(name)
}

// countiesFor is the county table a profile decides with: its own (the
// CMS file of its year) or the engine's.
func (e *Engine) countiesFor(p *Profile) *Counties {
	if p != nil && p.Counties != nil {
		return p.Counties
	}
	return e.Counties
}

// vocabulary is the vocabulary services resolve in: the serving network's
// (its index sets are numbered by it), else the engine's.
func (e *Engine) vocabulary() *Vocabulary {
	if e.Network != nil && e.Network.vocab != nil {
		return e.Network.vocab
	}
	return e.Vocabulary
}

func (e *Engine) serviceFor(code string, bad *InvalidRequest) *Service {
	v := e.vocabulary()
	if v == nil {
		bad.add("service", "no services vocabulary is loaded")
		return nil
	}
	s, err := v.LookupService(code)
	if err != nil {
		bad.add("service", err.Error())
		return nil
	}
	return s
}

// targets lists the decisions to make, checking the disciplines against
// the profile and the service.
func (e *Engine) targets(pr *prepared, req Request, p *Profile, bad *InvalidRequest) {
	svc := pr.service
	if len(req.Disciplines) == 0 {
		switch {
		case svc != nil:
			for _, d := range svc.Disciplines {
				if p == nil || p.Covers(d) {
					pr.parts = append(pr.parts, d)
				}
			}
			if len(pr.parts) == 0 {
				bad.add("service", fmt.Sprintf("profile %s has no standard for %s's disciplines (%s)", p.Name, svc.Code, disciplineList(svc.Disciplines)))
			}
			pr.targets = []Discipline{AnyDiscipline}
		case req.Service == "":
			bad.add("disciplines", "at least one discipline is required (DC, PT, OT, ST), or a service")
		}
		return
	}
	checkRequestDisciplines(bad, req.Disciplines, p, svc)
	pr.targets = req.Disciplines
}

// checkRequestDisciplines adds a violation (field disciplines[i]) for each
// discipline that is unknown, listed twice, without a standard in p (when
// p is not nil), or not one of svc's (when svc is not nil).
func checkRequestDisciplines(bad *InvalidRequest, ds []Discipline, p *Profile, svc *Service) {
	var seen uint32
	for i, d := range ds {
		field := fmt.Sprintf("disciplines[%d]", i)
		switch {
		case !d.Valid():
			bad.add(field, ErrUnknownDiscipline.Error())
		case seen&(1<<d) != 0:
			bad.add(field, fmt.Sprintf("%s is listed twice", d))
		case p != nil && !p.Covers(d):
			bad.add(field, fmt.Sprintf("profile %s has no standard for %s", p.Name, d))
		case svc != nil && !slices.Contains(svc.Disciplines, d):
			bad.add(field, fmt.Sprintf("%s is offered by %s, not %s", svc.Code, disciplineList(svc.Disciplines), d))
		}
		if d.Valid() {
			seen |= 1 << d
		}
	}
}

// codesOf lists a set of services' codes, in vocabulary order; nil for
// none.
func (n *Network) codesOf(set ServiceSet) []string {
	if set == 0 {
		return nil
	}
	var out []string
	for _, s := range n.vocab.sOrder {
		if set.Has(s) {
			out = append(out, s.Code)
		}
	}
	return out
}
