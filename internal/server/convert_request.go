package server

import (
	"fmt"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// checkFields are the fields CheckAccessRequest and CheckAccessBatchRequest
// share; both generated types satisfy it, so one conversion serves both.
type checkFields interface {
	GetLocation() *pb.LatLng
	GetZip() string
	GetCountyFips() string
	GetDisciplines() []pb.Discipline
	GetProfile() string
	GetAsOf() string
	GetK() int32
	GetService() string
	GetPlan() string
}

// domainRequest is a domain request with the faults found while
// converting it: protocol-level faults the domain cannot phrase well (an
// unparseable date, DISCIPLINE_UNSPECIFIED). Each makes the domain request
// invalid too, so the domain still reports every other fault; see
// mergeFaults.
type domainRequest struct {
	req    adequacy.Request
	faults []adequacy.FieldViolation
}

// badDiscipline is what an unknown or unspecified protocol discipline
// becomes: invalid, so the domain flags its position.
const badDiscipline = adequacy.Discipline(255)

// checkRequest converts a check to a domain request; today is the as-of
// date when the caller gives none.
func checkRequest(m checkFields, today adequacy.Date) domainRequest {
	var dr domainRequest
	dr.req.Member = memberOf(m.GetLocation(), m.GetZip(), m.GetCountyFips())
	dr.req.Profile = m.GetProfile()
	dr.req.Service, dr.req.Plan = m.GetService(), m.GetPlan()
	dr.req.K = int(m.GetK())
	if ds := m.GetDisciplines(); len(ds) > MaxDisciplines {
		// Refused whole, before any element is looked at; the domain sees
		// none, and this replaces its "required" (mergeFaults).
		dr.faults = append(dr.faults, tooMany("disciplines", len(ds), MaxDisciplines, disciplinesWhy))
	} else {
		dr.req.Disciplines = make([]adequacy.Discipline, len(ds))
		for i, d := range ds {
			dd, ok := disciplineFromProto(d)
			if !ok {
				dr.fault(fmt.Sprintf("disciplines[%d]", i), disciplineFault(d))
			}
			dr.req.Disciplines[i] = dd
		}
	}
	dr.req.AsOf = dr.asOf(m.GetAsOf(), today)
	dr.req.AsOfToday = m.GetAsOf() == ""
	if r, ok := m.(replayFields); ok {
		dr.req.ProfileVersion = r.GetProfileVersion()
		dr.replayAsOf(r)
	}
	return dr
}

// replayAsOf refuses a replay without its as_of: the domain then sees
// none either, and reports the field with the others.
func (dr *domainRequest) replayAsOf(m replayFields) {
	if isReplay(m) && m.GetAsOf() == "" {
		dr.fault("as_of", replayAsOfFault)
		dr.req.AsOf, dr.req.AsOfToday = adequacy.Date{}, false
	}
}

func (dr *domainRequest) fault(field, reason string) {
	dr.faults = append(dr.faults, adequacy.FieldViolation{Field: field, Reason: reason})
}

// asOf parses the as-of date; a bad one is a fault and stays unset, which
// the domain reports as missing (replaced by the fault's reason).
func (dr *domainRequest) asOf(s string, today adequacy.Date) adequacy.Date {
	if s == "" {
		return today
	}
	d, err := adequacy.ParseDate(s)
	if err != nil {
		dr.fault("as_of", err.Error())
		return adequacy.Date{}
	}
	return d
}

func memberOf(loc *pb.LatLng, zip, county string) adequacy.Member {
	m := adequacy.Member{ZIP: zip, CountyFIPS: county}
	if loc != nil {
		m.Point = &geo.Point{Lat: loc.GetLatitude(), Lon: loc.GetLongitude()}
	}
	return m
}

func disciplineFault(d pb.Discipline) string {
	name := d.String()
	if _, known := pb.Discipline_name[int32(d)]; !known {
		name = fmt.Sprintf("discipline %d", int32(d))
	}
	return name + " is not a discipline: use DISCIPLINE_DC, DISCIPLINE_PT, DISCIPLINE_OT or DISCIPLINE_ST"
}

// disciplineFromProto maps the protocol enum to the domain's discipline.
func disciplineFromProto(d pb.Discipline) (adequacy.Discipline, bool) {
	switch d {
	case pb.Discipline_DISCIPLINE_DC:
		return adequacy.DC, true
	case pb.Discipline_DISCIPLINE_PT:
		return adequacy.PT, true
	case pb.Discipline_DISCIPLINE_OT:
		return adequacy.OT, true
	case pb.Discipline_DISCIPLINE_ST:
		return adequacy.ST, true
	}
	return badDiscipline, false
}

// negotiationRequest converts a negotiation request; the domain decides
// geo-access for the one discipline as "disciplines[0]", which
// negotiationField renames.
func negotiationRequest(m *pb.EvaluateNegotiationRequest, today adequacy.Date) (adequacy.NegotiationRequest, []adequacy.FieldViolation) {
	dr := domainRequest{}
	req := adequacy.NegotiationRequest{
		Member:       memberOf(m.GetLocation(), m.GetZip(), m.GetCountyFips()),
		Profile:      m.GetProfile(),
		ProviderNPI:  m.GetProvider().GetNpi(),
		Attestations: attestationsFromProto(m.GetAttestations()),
		Service:      m.GetService(),
		Plan:         m.GetPlan(),
	}
	d, ok := disciplineFromProto(m.GetDiscipline())
	if !ok {
		// Named as the domain names it (see negotiationField) so the two merge.
		dr.fault("disciplines[0]", disciplineFault(m.GetDiscipline()))
	}
	req.Discipline = d
	if loc := m.GetProvider().GetLocation(); loc != nil {
		req.ProviderAt = &geo.Point{Lat: loc.GetLatitude(), Lon: loc.GetLongitude()}
	}
	req.AsOf = dr.asOf(m.GetAsOf(), today)
	req.AsOfToday = m.GetAsOf() == ""
	req.ProfileVersion = m.GetProfileVersion()
	if isReplay(m) && m.GetAsOf() == "" {
		dr.fault("as_of", replayAsOfFault)
		req.AsOf, req.AsOfToday = adequacy.Date{}, false
	}
	return req, dr.faults
}

// negotiationField names a domain violation of a negotiation request by
// its protocol field.
func negotiationField(field string, req adequacy.NegotiationRequest) string {
	switch field {
	case "disciplines", "disciplines[0]":
		return "discipline"
	case "provider.location":
		if req.ProviderAt != nil {
			return "provider.location." + pointField(*req.ProviderAt)
		}
	}
	return field
}

// pointField names the coordinate that makes p invalid.
func pointField(p geo.Point) string {
	if err := (geo.Point{Lat: p.Lat}).Validate(); err != nil {
		return "latitude"
	}
	return "longitude"
}

func attestationsFromProto(a *pb.Attestations) adequacy.Attestations {
	if a == nil {
		return adequacy.Attestations{}
	}
	return adequacy.Attestations{
		HealthcareRequirement:       a.HealthcareRequirement,
		WithinScope:                 a.WithinScope,
		SuperiorOutcomes:            a.SuperiorOutcomes,
		BenefitCoversNegotiation:    a.BenefitCoversNegotiation,
		SolelyComfortOrConvenience:  a.SolelyComfortOrConvenience,
		TechniquePreference:         a.TechniquePreference,
		Investigational:             a.Investigational,
		EquivalentOutcomesAvailable: a.EquivalentOutcomesAvailable,
		MedicallyNecessary:          a.MedicallyNecessary,
	}
}

// today is the calendar date now in loc: the default as-of date.
func today(now time.Time, loc *time.Location) adequacy.Date {
	return adequacy.DateOf(now.In(loc))
}
