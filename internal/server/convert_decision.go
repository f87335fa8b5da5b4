package server

import (
	"github.com/geoaccess/geoaccess/adequacy"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// checkResponse converts a request's decisions; they share profile,
// roster and date, which the response states once.
func checkResponse(ds []adequacy.Decision) *pb.CheckAccessResponse {
	out := &pb.CheckAccessResponse{Decisions: make([]*pb.AccessDecision, len(ds))}
	// One allocation for every decision message of the response.
	msgs := make([]pb.AccessDecision, len(ds))
	for i := range ds {
		fillDecision(&msgs[i], &ds[i])
		out.Decisions[i] = &msgs[i]
	}
	if len(ds) > 0 {
		d := &ds[0]
		out.Profile, out.ProfileVersion, out.RosterVersion, out.AsOf = d.Profile, d.ProfileVersion, d.RosterVersion, d.AsOf.String()
		out.ProfileExpired, out.ProfileEffectiveTo = d.ProfileExpired, d.ProfileEnd.String()
		out.Plan, out.Networks, out.PlansVersion = d.Plan, d.Networks, d.PlansVersion
	}
	return out
}

func decisionProto(d *adequacy.Decision) *pb.AccessDecision {
	out := &pb.AccessDecision{}
	fillDecision(out, d)
	return out
}

func fillDecision(out *pb.AccessDecision, d *adequacy.Decision) {
	out.Discipline = disciplineProto(d.Discipline)
	out.Status = accessStatusProto(d.Status)
	out.Served = d.Served()
	out.ProvidersWithin = int32(d.ProvidersWithin)
	out.TimeModel = d.TimeModel
	out.TimeEstimated = d.TimeEstimated
	out.LocationSource = locationSourceProto(d.Location.Source)
	out.LocationApproximate = d.Location.Approximate
	out.Explanation = d.Explain()
	if d.County.FIPS != "" {
		out.County = countyProto(&d.County)
	}
	if d.Status != adequacy.Indeterminate && d.Status != adequacy.OutOfServiceArea {
		out.Rule = ruleProto(&d.Rule)
	}
	out.Nearest = nearestProto(d.Nearest)
	out.Service = d.Service
	for i := range d.Components {
		c := &d.Components[i]
		out.Components = append(out.Components, &pb.DisciplineComponent{Discipline: disciplineProto(c.Discipline), Rule: ruleProto(&c.Rule),
			ProvidersWithin: int32(c.ProvidersWithin)})
	}
}

func countyProto(c *adequacy.CountyEvidence) *pb.County {
	return &pb.County{Fips: c.FIPS, Name: c.Name, State: c.State, Type: countyTypeProto(c.Type),
		TypeOfficial: c.TypeOfficial, TypeBasis: c.TypeBasis, Source: countySourceProto(c.Source),
		SnapMiles: c.SnapMiles, Note: c.Note}
}

func ruleProto(r *adequacy.Rule) *pb.Rule {
	return &pb.Rule{CountyType: countyTypeProto(r.CountyType), MaxMiles: r.MaxMiles, MaxMinutes: r.MaxMinutes,
		ProvidersRequired: int32(r.ProvidersRequired), ServedShare: r.ServedShare, Source: ruleSourceProto(r.Source),
		RadiusMiles: r.RadiusMiles}
}

func nearestProto(ns []adequacy.NearbyProvider) []*pb.NearbyProvider {
	if len(ns) == 0 {
		return nil
	}
	out := make([]*pb.NearbyProvider, len(ns))
	msgs := make([]pb.NearbyProvider, len(ns))
	for i := range ns {
		n := &ns[i]
		m := &msgs[i]
		m.Npi, m.Name, m.Miles, m.Minutes, m.CountyFips, m.WithinStandard = n.NPI, n.Name, n.Miles, n.Minutes, n.CountyFIPS, n.WithinStandard
		m.Discipline, m.Designations, m.Services = disciplineProto(n.Discipline), n.Designations, n.Services
		out[i] = m
	}
	return out
}

func disciplineProto(d adequacy.Discipline) pb.Discipline {
	switch d {
	case adequacy.DC:
		return pb.Discipline_DISCIPLINE_DC
	case adequacy.PT:
		return pb.Discipline_DISCIPLINE_PT
	case adequacy.OT:
		return pb.Discipline_DISCIPLINE_OT
	case adequacy.ST:
		return pb.Discipline_DISCIPLINE_ST
	}
	return pb.Discipline_DISCIPLINE_UNSPECIFIED
}

func disciplinesProto(ds []adequacy.Discipline) []pb.Discipline {
	out := make([]pb.Discipline, len(ds))
	for i, d := range ds {
		out[i] = disciplineProto(d)
	}
	return out
}

func accessStatusProto(s adequacy.Status) pb.AccessStatus {
	switch s {
	case adequacy.Served:
		return pb.AccessStatus_ACCESS_STATUS_SERVED
	case adequacy.NotServed:
		return pb.AccessStatus_ACCESS_STATUS_NOT_SERVED
	case adequacy.Indeterminate:
		return pb.AccessStatus_ACCESS_STATUS_INDETERMINATE
	case adequacy.OutOfServiceArea:
		return pb.AccessStatus_ACCESS_STATUS_OUT_OF_SERVICE_AREA
	}
	return pb.AccessStatus_ACCESS_STATUS_UNSPECIFIED
}

func countyTypeProto(t adequacy.CountyType) pb.CountyType {
	switch t {
	case adequacy.LargeMetro:
		return pb.CountyType_COUNTY_TYPE_LARGE_METRO
	case adequacy.Metro:
		return pb.CountyType_COUNTY_TYPE_METRO
	case adequacy.Micro:
		return pb.CountyType_COUNTY_TYPE_MICRO
	case adequacy.Rural:
		return pb.CountyType_COUNTY_TYPE_RURAL
	case adequacy.CEAC:
		return pb.CountyType_COUNTY_TYPE_CEAC
	}
	return pb.CountyType_COUNTY_TYPE_UNSPECIFIED
}

func locationSourceProto(s adequacy.LocationSource) pb.LocationSource {
	switch s {
	case adequacy.LocatedByPoint:
		return pb.LocationSource_LOCATION_SOURCE_POINT
	case adequacy.LocatedByZIP:
		return pb.LocationSource_LOCATION_SOURCE_ZIP
	}
	return pb.LocationSource_LOCATION_SOURCE_UNSPECIFIED
}

func countySourceProto(s adequacy.CountySource) pb.CountySource {
	switch s {
	case adequacy.CountyGiven:
		return pb.CountySource_COUNTY_SOURCE_GIVEN
	case adequacy.CountyPolygon:
		return pb.CountySource_COUNTY_SOURCE_POLYGON
	case adequacy.CountyZIP:
		return pb.CountySource_COUNTY_SOURCE_ZIP
	case adequacy.CountyNearest:
		return pb.CountySource_COUNTY_SOURCE_NEAREST
	}
	return pb.CountySource_COUNTY_SOURCE_UNSPECIFIED
}

func ruleSourceProto(s adequacy.RuleSource) pb.RuleSource {
	switch s {
	case adequacy.RuleOfficial:
		return pb.RuleSource_RULE_SOURCE_OFFICIAL_COUNTY_STANDARD
	case adequacy.RuleFromProfile:
		return pb.RuleSource_RULE_SOURCE_PROFILE_BASE_TABLE
	}
	return pb.RuleSource_RULE_SOURCE_UNSPECIFIED
}

// negotiationResponse converts the gate's answer.
func negotiationResponse(g *adequacy.GateResult) *pb.EvaluateNegotiationResponse {
	d := &g.GeoAccess
	out := &pb.EvaluateNegotiationResponse{Supported: g.Supported, Summary: g.Summary, GeoAccess: decisionProto(d),
		Profile: d.Profile, ProfileVersion: d.ProfileVersion, RosterVersion: d.RosterVersion, AsOf: d.AsOf.String(),
		ProfileExpired: d.ProfileExpired, ProfileEffectiveTo: d.ProfileEnd.String(), Plan: d.Plan, Networks: d.Networks,
		PlansVersion: d.PlansVersion}
	if g.DisciplineAccess != nil {
		out.DisciplineAccess = decisionProto(g.DisciplineAccess)
	}
	if g.Provider.Service != "" && g.Provider.Known {
		offers := g.Provider.OffersService
		out.ProviderOffersService = &offers
	}
	out.Criteria = make([]*pb.Criterion, len(g.Criteria))
	for i := range g.Criteria {
		out.Criteria[i] = criterionProto(&g.Criteria[i])
	}
	return out
}

func criterionProto(c *adequacy.CriterionResult) *pb.Criterion {
	return &pb.Criterion{Id: c.ID, Kind: criterionKindProto(c.Kind), Clause: c.Clause, Attested: c.Attested,
		Outcome: outcomeProto(c.Outcome), Detail: c.Detail}
}

func criterionKindProto(k adequacy.CriterionKind) pb.CriterionKind {
	switch k {
	case adequacy.Requirement:
		return pb.CriterionKind_CRITERION_KIND_REQUIREMENT
	case adequacy.Exclusion:
		return pb.CriterionKind_CRITERION_KIND_EXCLUSION
	case adequacy.Computed:
		return pb.CriterionKind_CRITERION_KIND_COMPUTED
	}
	return pb.CriterionKind_CRITERION_KIND_UNSPECIFIED
}

func outcomeProto(o adequacy.Outcome) pb.CriterionOutcome {
	switch o {
	case adequacy.Pass:
		return pb.CriterionOutcome_CRITERION_OUTCOME_PASS
	case adequacy.Fail:
		return pb.CriterionOutcome_CRITERION_OUTCOME_FAIL
	case adequacy.NotAttested:
		return pb.CriterionOutcome_CRITERION_OUTCOME_NOT_ATTESTED
	case adequacy.Undecided:
		return pb.CriterionOutcome_CRITERION_OUTCOME_UNDECIDED
	}
	return pb.CriterionOutcome_CRITERION_OUTCOME_UNSPECIFIED
}
