package server

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// GapReport implements AdequacyService: the CLI's gap report over a
// request's members — its disciplines, services and plan —, streamed as a
// summary, county rows, unserved members, recruitment targets and
// rejected members.
func (s *service) GapReport(req *pb.GapReportRequest, stream pb.AdequacyService_GapReportServer) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	if faults := gapLimits(req); len(faults) > 0 {
		return errorStatus(nil, faults, nil).Err()
	}
	opts, faults := gapOptions(req, s.today(), eng.Vocabulary)
	cands, cfaults := candidatesFromProto(req.GetCandidates(), eng.Vocabulary)
	faults = append(faults, cfaults...)
	if len(faults) > 0 {
		return errorStatus(nil, faults, nil).Err()
	}
	members, rejected := gapMembers(req.GetMembers())
	rep, err := eng.Gap(stream.Context(), members, opts)
	if err != nil && !errors.Is(err, adequacy.ErrNoMembers) { // no member at all still gets its summary and rejections
		return errorStatus(err, nil, nil).Err()
	}
	if rep.Members > 0 {
		carried := 0
		if rep.ProfileExpired {
			carried = rep.Members * len(rep.Subjects)
		}
		infoOf(stream.Context()).useProfile(rep.Profile.Name, carried)
	}
	for _, r := range rep.Rejected {
		rejected = append(rejected, &pb.RejectedMember{MemberRef: r.MemberID, Field: r.Field, Reason: r.Reason})
	}
	var picks []adequacy.RecruitPick
	if len(cands) > 0 && rep.Members > 0 {
		if rs := req.GetRecruitService(); rs != "" {
			picks, _, err = rep.RecruitService(stream.Context(), rs, cands)
		} else {
			picks, _, err = rep.Recruit(stream.Context(), cands)
		}
		if err != nil {
			return errorStatus(err, nil, func(f string) string {
				if f == "service" {
					return "recruit_service"
				}
				return f
			}).Err()
		}
	}
	return sendGapReport(stream, rep, picks, rejected)
}

func gapOptions(req *pb.GapReportRequest, today adequacy.Date, v *adequacy.Vocabulary) (adequacy.GapOptions, []adequacy.FieldViolation) {
	dr := domainRequest{}
	opts := adequacy.GapOptions{Profile: req.GetProfile(), Credits: req.GetCredits(), AsOf: dr.asOf(req.GetAsOf(), today),
		AsOfToday: req.GetAsOf() == "", Services: req.GetServices(), Plan: req.GetPlan()}
	if rs := req.GetRecruitService(); rs != "" {
		// Reported as if listed in services (once).
		switch want, ok := lookupService(v, rs); {
		case !ok:
			dr.fault("recruit_service", unknownServiceFault(v, rs))
		case !slices.ContainsFunc(opts.Services, func(c string) bool { s, ok := lookupService(v, c); return ok && s == want }):
			opts.Services = append(slices.Clip(opts.Services), rs)
		}
	}
	for i, d := range req.GetDisciplines() {
		dd, ok := disciplineFromProto(d)
		if !ok {
			dr.fault(fmt.Sprintf("disciplines[%d]", i), disciplineFault(d))
		}
		opts.Disciplines = append(opts.Disciplines, dd)
	}
	return opts, dr.faults
}

// gapMembers converts the members; a missing or repeated member_ref is
// rejected here, everything else by the report (which says which field).
func gapMembers(ms []*pb.GapMember) ([]adequacy.GapMember, []*pb.RejectedMember) {
	out := make([]adequacy.GapMember, 0, len(ms))
	var rej []*pb.RejectedMember
	seen := make(map[string]int, len(ms))
	for i, m := range ms {
		ref := m.GetMemberRef()
		switch first, dup := seen[ref]; {
		case ref == "":
			rej = append(rej, &pb.RejectedMember{Field: fmt.Sprintf("members[%d].member_ref", i), Reason: "is required"})
			continue
		case dup:
			rej = append(rej, &pb.RejectedMember{MemberRef: ref, Field: "member_ref", Reason: fmt.Sprintf("repeats members[%d]", first)})
			continue
		}
		seen[ref] = i
		gm := adequacy.GapMember{ID: ref, Line: i + 1, ZIP: m.GetZip(), CountyFIPS: m.GetCountyFips()}
		if loc := m.GetLocation(); loc != nil {
			gm.Point, gm.HasPoint = geo.Point{Lat: loc.GetLatitude(), Lon: loc.GetLongitude()}, true
		}
		out = append(out, gm)
	}
	return out, rej
}

// lookupService resolves a service code or alias in v (nil: none).
func lookupService(v *adequacy.Vocabulary, code string) (*adequacy.Service, bool) {
	if v == nil {
		return nil, false
	}
	return v.Service(code)
}

func unknownServiceFault(v *adequacy.Vocabulary, code string) string {
	if v == nil {
		return "no services vocabulary is loaded"
	}
	_, err := v.LookupService(code)
	return err.Error()
}

// candidatesFromProto converts recruitment candidates, naming every bad
// field; designations and services must be the vocabulary's (codes or
// aliases).
func candidatesFromProto(cs []*pb.RecruitmentCandidate, v *adequacy.Vocabulary) ([]adequacy.Provider, []adequacy.FieldViolation) {
	var out []adequacy.Provider
	var bad []adequacy.FieldViolation
	for i, c := range cs {
		f := func(name string) string { return fmt.Sprintf("candidates[%d].%s", i, name) }
		p := adequacy.Provider{NPI: c.GetNpi(), Name: c.GetName(), CountyFIPS: c.GetCountyFips(),
			TelehealthOnly: c.GetTelehealthOnly(), AcceptingNewPatients: !c.GetNotAcceptingNewPatients()}
		for j, code := range c.GetDesignations() {
			d, ok := (*adequacy.SpecialtyDesignation)(nil), false
			if v != nil {
				d, ok = v.Designation(code)
			}
			if !ok {
				bad = append(bad, adequacy.FieldViolation{Field: f(fmt.Sprintf("designations[%d]", j)),
					Reason: fmt.Sprintf("%v %q (ListServices lists the designations)", adequacy.ErrUnknownDesignation, adequacy.ExcerptN(code, 32))})
				continue
			}
			p.Designations = append(p.Designations, d.Code)
		}
		for j, code := range c.GetServices() {
			s, ok := lookupService(v, code)
			if !ok {
				bad = append(bad, adequacy.FieldViolation{Field: f(fmt.Sprintf("services[%d]", j)), Reason: unknownServiceFault(v, code)})
				continue
			}
			p.Services = append(p.Services, s.Code)
		}
		if err := data.ValidNPI(p.NPI); err != nil {
			bad = append(bad, adequacy.FieldViolation{Field: f("npi"), Reason: err.Error()})
		}
		d, ok := disciplineFromProto(c.GetDiscipline())
		if !ok {
			bad = append(bad, adequacy.FieldViolation{Field: f("discipline"), Reason: disciplineFault(c.GetDiscipline())})
		}
		p.Discipline = d
		loc := c.GetLocation()
		if loc == nil {
			bad = append(bad, adequacy.FieldViolation{Field: f("location"), Reason: "is required"})
		} else {
			p.Location = geo.Point{Lat: loc.GetLatitude(), Lon: loc.GetLongitude()}
			if err := p.Location.Validate(); err != nil {
				bad = append(bad, adequacy.FieldViolation{Field: f("location." + pointField(p.Location)), Reason: err.Error()})
			}
		}
		out = append(out, p)
	}
	return out, bad
}

func sendGapReport(stream pb.AdequacyService_GapReportServer, rep *adequacy.GapReport, picks []adequacy.RecruitPick, rejected []*pb.RejectedMember) error {
	send := func(r *pb.GapReportResponse) error { return stream.Send(r) }
	if err := send(&pb.GapReportResponse{Row: &pb.GapReportResponse_Summary{Summary: gapSummaryProto(rep, len(rejected))}}); err != nil {
		return err
	}
	for i := range rep.Counties {
		if err := send(&pb.GapReportResponse{Row: &pb.GapReportResponse_County{County: countyRowProto(&rep.Counties[i])}}); err != nil {
			return err
		}
	}
	for _, u := range rep.Unserved {
		row := &pb.UnservedMember{MemberRef: u.MemberID, CountyFips: u.CountyFIPS, Discipline: disciplineProto(u.Discipline), NearestNpi: u.NearestNPI,
			Service: u.Service}
		if u.NearestNPI != "" {
			row.NearestMiles = &u.NearestMiles
		}
		if err := send(&pb.GapReportResponse{Row: &pb.GapReportResponse_Unserved{Unserved: row}}); err != nil {
			return err
		}
	}
	for _, p := range picks {
		row := &pb.RecruitmentTarget{Rank: count32(p.Rank), Npi: p.Provider.NPI, Name: p.Provider.Name, Discipline: disciplineProto(p.Provider.Discipline),
			CountyFips: p.Provider.CountyFIPS, NewlyServed: count32(p.NewlyServed), CumulativeServed: count32(p.CumulativeServed), CountiesFlippedToPass: count32(p.CountiesFlipped),
			Service: p.Service}
		if err := send(&pb.GapReportResponse{Row: &pb.GapReportResponse_Recruitment{Recruitment: row}}); err != nil {
			return err
		}
	}
	for _, r := range rejected {
		if err := send(&pb.GapReportResponse{Row: &pb.GapReportResponse_Rejected{Rejected: r}}); err != nil {
			return err
		}
	}
	return nil
}

func gapSummaryProto(rep *adequacy.GapReport, rejected int) *pb.GapSummary {
	s := &pb.GapSummary{Profile: rep.Profile.Name, ProfileVersion: rep.Profile.Version, RosterVersion: rep.RosterVersion,
		AsOf: rep.AsOf.String(), MembersEvaluated: count32(rep.Members), MembersRejected: count32(rejected), CountyTable: rep.CountySource,
		ProfileExpired: rep.ProfileExpired, ProfileEffectiveTo: rep.Profile.Effective.To.String()}
	if rep.Plan != nil {
		s.Plan, s.Networks, s.PlansVersion = rep.Plan.ID, rep.Plan.Networks, rep.PlansVersion
	}
	for _, sv := range rep.Services {
		s.Services = append(s.Services, sv.Code)
	}
	for _, t := range rep.Totals {
		s.Totals = append(s.Totals, &pb.DisciplineTotal{Discipline: disciplineProto(t.Discipline), Members: count32(t.Members), Served: count32(t.Served),
			Counties: count32(t.Counties), CountiesPass: count32(t.CountiesPass), CountiesMinPass: count32(t.CountiesMinPass), Service: t.Service})
	}
	return s
}

func countyRowProto(c *adequacy.CountyRow) *pb.CountyAdequacy {
	row := &pb.CountyAdequacy{CountyFips: c.County.FIPS, State: c.County.State, County: c.County.Name,
		CountyType: countyTypeProto(c.County.Designation.Type), CountyTypeOfficial: c.County.Designation.Official,
		Discipline: disciplineProto(c.Discipline), Members: count32(c.Members), Served: count32(c.Served), ServedPct: c.ServedPct,
		RequiredPct: c.RequiredPct, Pass: c.Pass, ProvidersCounted: count32(c.Counted), MinRequired: count32(c.MinRequired),
		MinPass: c.MinPass, MinSource: c.MinSource.String(), Credits: c.Credits, Service: c.Service}
	if !math.IsNaN(c.NearestP50) {
		row.NearestMedianMiles = &c.NearestP50
	}
	if !math.IsNaN(c.NearestP90) {
		row.NearestP90Miles = &c.NearestP90
	}
	return row
}
