package server

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

func profileSummaryProto(p *adequacy.Profile) *pb.ProfileSummary {
	return &pb.ProfileSummary{Name: p.Name, Title: p.Title, Version: p.Version, Source: p.Source,
		EffectiveFrom: p.Effective.From.String(), EffectiveTo: p.Effective.To.String(),
		Disciplines: disciplinesProto(p.CoveredDisciplines())}
}

func profileProto(p *adequacy.Profile) *pb.Profile {
	out := &pb.Profile{Summary: profileSummaryProto(p), OfficialCountyStandards: p.OfficialCountyStandards,
		Counting: &pb.CountingRules{InPersonOnly: p.Counting.InPersonOnly, AcceptingNewPatients: p.Counting.AcceptingNewPatients,
			EffectiveOnAsOf: p.Counting.EffectiveOnAsOf},
		TimeModel: timeModelProto(p.Time)}
	for _, d := range p.CoveredDisciplines() {
		out.Disciplines = append(out.Disciplines, disciplineStandardsProto(d, p.Disciplines[d]))
	}
	for i := range p.Credits {
		out.Credits = append(out.Credits, creditProto(&p.Credits[i]))
	}
	return out
}

func disciplineStandardsProto(d adequacy.Discipline, ds *adequacy.DisciplineStandards) *pb.DisciplineStandards {
	out := &pb.DisciplineStandards{Discipline: disciplineProto(d)}
	for _, t := range adequacy.CountyTypes {
		s := ds.ByType[t]
		out.Standards = append(out.Standards, &pb.Standard{CountyType: countyTypeProto(t), MaxMiles: s.MaxMiles,
			MaxMinutes: s.MaxMinutes, ProvidersRequired: int32(s.ProvidersRequired), ServedShare: s.ServedShare})
	}
	switch ds.MinimumCount.Rule {
	case adequacy.MinimumFixed:
		out.MinimumRule, out.MinimumFixed = pb.MinimumRule_MINIMUM_RULE_FIXED, int32(ds.MinimumCount.Fixed)
	case adequacy.MinimumPer1000:
		out.MinimumRule = pb.MinimumRule_MINIMUM_RULE_PER_1000
		out.MinimumRatioPer_1000 = byCountyType(ds.MinimumCount.Ratio[:])
	}
	return out
}

// byCountyType lists per-county-type numbers, densest type first.
func byCountyType(v []float64) []*pb.CountyTypeValue {
	out := make([]*pb.CountyTypeValue, 0, len(adequacy.CountyTypes))
	for _, t := range adequacy.CountyTypes {
		out = append(out, &pb.CountyTypeValue{CountyType: countyTypeProto(t), Value: v[t]})
	}
	return out
}

func timeModelProto(tm adequacy.TimeModel) *pb.TimeModel {
	if tm == nil {
		return nil
	}
	out := &pb.TimeModel{Description: tm.Name(), Estimated: tm.Estimated()}
	switch m := tm.(type) {
	case adequacy.CountyRatio:
		out.Kind = pb.TimeModelKind_TIME_MODEL_KIND_COUNTY_RATIO
	case adequacy.SpeedTable:
		out.Kind = pb.TimeModelKind_TIME_MODEL_KIND_SPEED_TABLE
		out.MinutesPerMile = byCountyType(m.MinutesPerMile[:])
	}
	return out
}

func creditProto(c *adequacy.Credit) *pb.Credit {
	out := &pb.Credit{Name: c.Name, Points: c.Points, Disciplines: disciplinesProto(c.Disciplines), Basis: c.Basis}
	if c.AppliesWhen == adequacy.CreditCertificateOfNeed {
		out.AppliesWhen = pb.CreditCondition_CREDIT_CONDITION_CERTIFICATE_OF_NEED
	}
	return out
}

// rosterStatusProto converts a roster status. Callers that may not
// administer see a failed attempt's error without its connection details
// (serving.PublicError).
func rosterStatusProto(st serving.RosterStatus, admin bool) *pb.RosterStatus {
	out := &pb.RosterStatus{Loaded: st.Loaded, Version: st.Version, Source: st.Source, LoadedAt: timestamp(st.LoadedAt),
		TotalProviders: count32(st.Stats.Total), NextReload: timestamp(st.NextReload), Pinned: st.Pinned}
	if st.Loaded {
		for _, d := range adequacy.Disciplines {
			out.Counts = append(out.Counts, &pb.DisciplineCount{Discipline: disciplineProto(d),
				Participating: count32(st.Stats.Participating[d]), NonParticipating: count32(st.Stats.NonParticipating[d]),
				TelehealthOnly: count32(st.Stats.TelehealthOnly[d])})
		}
	}
	if r := st.LastReload; !r.Time.IsZero() {
		out.LastReload = &pb.ReloadOutcome{Time: timestamp(r.Time), Success: r.Success, Error: r.Err, Loader: r.Loader, Version: r.Version}
		if !admin {
			out.LastReload.Error = r.PublicErr
		}
	}
	return out
}

// timestamp converts a time; the zero time stays unset.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
