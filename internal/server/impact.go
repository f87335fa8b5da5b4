package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// AssessNetworkChange implements AdequacyService: what a change of
// providers does to the request's members, streamed as a summary, county
// rows, the members who lose and gain access, and rejected members.
func (s *service) AssessNetworkChange(req *pb.AssessNetworkChangeRequest, stream pb.AdequacyService_AssessNetworkChangeServer) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	if faults := changeLimits(req); len(faults) > 0 {
		return errorStatus(nil, faults, nil).Err()
	}
	opts, faults := impactOptions(req, s.today())
	ch, cfaults := changeFromProto(eng, req.GetRemoveNpis(), req.GetAdd())
	if faults = append(faults, cfaults...); len(faults) > 0 {
		return errorStatus(nil, faults, nil).Err()
	}
	b, rejected, err := baselineOf(stream, eng, req.GetMembers(), opts)
	if err != nil {
		return err
	}
	var im *adequacy.Impact
	if b.Members > 0 {
		if im, err = b.Impact(stream.Context(), ch); err != nil {
			return errorStatus(err, nil, nil).Err()
		}
	}
	return sendImpact(stream, b, im, len(ch.Remove), len(ch.Add), rejected)
}

// baselineOf evaluates a request's members for impact or criticality:
// the baseline, and the members rejected (by the request's checks or the
// baseline's), as a status error when it fails.
func baselineOf(stream interface{ Context() context.Context }, eng *adequacy.Engine, ms []*pb.GapMember, opts adequacy.ImpactOptions) (*adequacy.Baseline, []*pb.RejectedMember, error) {
	members, rejected := gapMembers(ms)
	b, err := eng.NewBaseline(stream.Context(), members, opts)
	if err != nil && !errors.Is(err, adequacy.ErrNoMembers) {
		return nil, nil, errorStatus(err, nil, nil).Err()
	}
	noteProfile(stream, b)
	for _, r := range b.Rejected {
		rejected = append(rejected, &pb.RejectedMember{MemberRef: r.MemberID, Field: r.Field, Reason: r.Reason})
	}
	return b, rejected, nil
}

// noteProfile tells the call's log line which profile answered (and how
// many answers it carried past its end).
func noteProfile(stream interface{ Context() context.Context }, b *adequacy.Baseline) {
	if b == nil || b.Members == 0 {
		return
	}
	carried := 0
	if b.ProfileExpired {
		carried = b.Members * len(b.Disciplines)
	}
	infoOf(stream.Context()).useProfile(b.Profile.Name, carried)
}

// Limits on a change and a criticality request. docs/api.md lists them.
const (
	// MaxChangeNPIs is the most remove_npis of one AssessNetworkChange.
	MaxChangeNPIs = 10_000
	// MaxChangeProviders is the most providers one AssessNetworkChange
	// may add.
	MaxChangeProviders = 10_000
	// MaxCriticalityNPIs is the most npis of one GetProviderCriticality:
	// each gets a dossier, a change of its own.
	MaxCriticalityNPIs = 100
	// MaxCriticalityTop bounds GetProviderCriticality's top.
	MaxCriticalityTop = 1000
)

func changeLimits(req *pb.AssessNetworkChangeRequest) []adequacy.FieldViolation {
	out := memberLimits(len(req.GetMembers()), len(req.GetDisciplines()), len(req.GetCredits()))
	if n := len(req.GetRemoveNpis()); n > MaxChangeNPIs {
		out = append(out, tooMany("remove_npis", n, MaxChangeNPIs, ""))
	}
	if n := len(req.GetAdd()); n > MaxChangeProviders {
		out = append(out, tooMany("add", n, MaxChangeProviders, ""))
	}
	return out
}

func memberLimits(members, disciplines, credits int) []adequacy.FieldViolation {
	var out []adequacy.FieldViolation
	if members > MaxGapMembers {
		out = append(out, tooMany("members", members, MaxGapMembers, "; larger member files suit the geoaccess command line"))
	}
	if disciplines > MaxDisciplines {
		out = append(out, tooMany("disciplines", disciplines, MaxDisciplines, disciplinesWhy))
	}
	if credits > MaxCredits {
		out = append(out, tooMany("credits", credits, MaxCredits, ""))
	}
	return out
}

// baselineFields are the fields both requests share.
type baselineFields interface {
	GetProfile() string
	GetAsOf() string
	GetDisciplines() []pb.Discipline
	GetCredits() []string
	GetPlan() string
}

func impactOptions(req baselineFields, today adequacy.Date) (adequacy.ImpactOptions, []adequacy.FieldViolation) {
	dr := domainRequest{}
	opts := adequacy.ImpactOptions{Profile: req.GetProfile(), Plan: req.GetPlan(), Credits: req.GetCredits(),
		AsOf: dr.asOf(req.GetAsOf(), today), AsOfToday: req.GetAsOf() == ""}
	for i, d := range req.GetDisciplines() {
		dd, ok := disciplineFromProto(d)
		if !ok {
			dr.fault(fmt.Sprintf("disciplines[%d]", i), disciplineFault(d))
		}
		opts.Disciplines = append(opts.Disciplines, dd)
	}
	return opts, dr.faults
}

// changeFromProto converts a change: NPIs the serving roster lacks and
// providers that are not valid roster rows are field violations.
func changeFromProto(eng *adequacy.Engine, remove []string, add []*pb.NetworkProvider) (adequacy.Change, []adequacy.FieldViolation) {
	var ch adequacy.Change
	var bad []adequacy.FieldViolation
	if len(remove) > 0 {
		rows, err := eng.Network.RowsOf(remove)
		var un *adequacy.UnknownNPIError
		switch {
		case errors.As(err, &un):
			for k, i := range un.Index {
				bad = append(bad, adequacy.FieldViolation{Field: fmt.Sprintf("remove_npis[%d]", i),
					Reason: fmt.Sprintf("NPI %q is not in the serving roster %s", un.NPIs[k], eng.Network.Version())})
			}
		case err != nil:
			bad = append(bad, adequacy.FieldViolation{Field: "remove_npis", Reason: err.Error()})
		}
		ch.Remove = rows
	}
	for i, p := range add {
		prov, faults := providerFromProto(eng, p, fmt.Sprintf("add[%d]", i))
		bad = append(bad, faults...)
		ch.Add = append(ch.Add, prov)
	}
	return ch, bad
}

// providerFromProto validates one provider as a roster file's row is
// validated (data.RosterReader: NPI check digit, discipline, coordinates,
// county, networks, designations and services under the server's
// vocabulary, dates), and names each wrong field under prefix. A
// designation or service code the roster reader would ignore with a
// warning is a violation here.
func providerFromProto(eng *adequacy.Engine, p *pb.NetworkProvider, prefix string) (adequacy.Provider, []adequacy.FieldViolation) {
	var bad []adequacy.FieldViolation
	field := func(f string) string { return prefix + "." + f }
	fault := func(f, reason string) { bad = append(bad, adequacy.FieldViolation{Field: field(f), Reason: reason}) }
	prov := adequacy.Provider{NPI: p.GetNpi(), Name: p.GetName(), CountyFIPS: p.GetCountyFips(), Participating: true,
		TelehealthOnly: p.GetTelehealthOnly(), AcceptingNewPatients: !p.GetNotAcceptingNewPatients(),
		Networks: p.GetNetworks(), Designations: p.GetDesignations(), Services: p.GetServices()}
	d, ok := disciplineFromProto(p.GetDiscipline())
	if !ok {
		fault("discipline", disciplineFault(p.GetDiscipline()))
	}
	prov.Discipline = d
	if loc := p.GetLocation(); loc == nil {
		fault("location", "is required")
	} else {
		prov.Location = geo.Point{Lat: loc.GetLatitude(), Lon: loc.GetLongitude()}
	}
	for _, list := range []struct {
		name string
		vs   []string
	}{{"networks", prov.Networks}, {"designations", prov.Designations}, {"services", prov.Services}} {
		for j, v := range list.vs {
			if strings.Contains(v, ";") || strings.TrimSpace(v) == "" {
				fault(fmt.Sprintf("%s[%d]", list.name, j), fmt.Sprintf("%q: a code is not empty and has no ';'", adequacy.Excerpt(v)))
			}
		}
	}
	for _, dt := range []struct {
		name string
		v    string
		dst  *adequacy.Date
	}{{"effective_date", p.GetEffectiveDate(), &prov.Effective}, {"termination_date", p.GetTerminationDate(), &prov.Termination}} {
		if dt.v == "" {
			continue
		}
		v, err := adequacy.ParseDate(dt.v)
		if err != nil {
			fault(dt.name, err.Error())
		}
		*dt.dst = v
	}
	if len(bad) > 0 {
		return prov, bad
	}
	// One row through the roster reader: the same checks as a file's.
	var buf bytes.Buffer
	if err := data.WriteRoster(&buf, []adequacy.Provider{prov}); err != nil {
		return prov, []adequacy.FieldViolation{{Field: prefix, Reason: err.Error()}}
	}
	rd, err := data.NewRosterReader(&buf, data.RosterOptions{Counties: eng.Map, Vocabulary: eng.Vocabulary})
	if err != nil {
		return prov, []adequacy.FieldViolation{{Field: prefix, Reason: err.Error()}}
	}
	row, _, errs, err := rd.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		return prov, []adequacy.FieldViolation{{Field: prefix, Reason: err.Error()}}
	}
	for _, e := range append(errs, rd.Report.Warnings...) {
		reason := e.Reason
		if e.Value != "" {
			reason = fmt.Sprintf("%q: %s", e.Value, e.Reason)
		}
		bad = append(bad, adequacy.FieldViolation{Field: field(providerField(e.Column)), Reason: reason})
	}
	return row, bad
}

// providerField names a roster column by its NetworkProvider field.
func providerField(col string) string {
	switch col {
	case "lat":
		return "location.latitude"
	case "lon":
		return "location.longitude"
	case "telehealth_only", "in_person":
		return "telehealth_only"
	case "accepting_new_patients":
		return "not_accepting_new_patients"
	}
	return col
}

func sendImpact(stream pb.AdequacyService_AssessNetworkChangeServer, b *adequacy.Baseline, im *adequacy.Impact, removed, added int, rejected []*pb.RejectedMember) error {
	send := func(r *pb.AssessNetworkChangeResponse) error { return stream.Send(r) }
	sum := &pb.ImpactSummary{Profile: b.Profile.Name, ProfileVersion: b.Profile.Version, RosterVersion: b.RosterVersion, AsOf: b.AsOf.String(),
		MembersEvaluated: count32(b.Members), MembersRejected: count32(len(rejected)), CountyTable: b.CountySource, RowsRemoved: count32(removed),
		RowsAdded: count32(added), ProfileExpired: b.ProfileExpired, ProfileEffectiveTo: b.Profile.Effective.To.String()}
	if b.Plan != nil {
		sum.Plan = b.Plan.ID
	}
	if im != nil {
		sum.RowsRemovedCounting, sum.RowsAddedCounting = count32(im.RemovedCounting), count32(im.AddedCounting)
		sum.MembersInReach, sum.LosesCounty = count32(im.AffectedMembers), im.LosesCounty()
		sum.Totals = impactTotalsProto(im.Totals)
	}
	if err := send(&pb.AssessNetworkChangeResponse{Row: &pb.AssessNetworkChangeResponse_Summary{Summary: sum}}); err != nil {
		return err
	}
	if im != nil {
		for _, r := range im.Rows {
			row := &pb.ImpactCounty{CountyFips: r.County.FIPS, State: r.County.State, County: r.County.Name, Discipline: disciplineProto(r.Discipline),
				Members: count32(r.Members), ServedBefore: count32(r.Before.Served), ServedAfter: count32(r.After.Served), ServedPctBefore: r.Before.ServedPct,
				ServedPctAfter: r.After.ServedPct, RequiredPct: r.RequiredPct, PassBefore: r.Before.Pass, PassAfter: r.After.Pass,
				ProvidersCountedBefore: count32(r.Before.Counted), ProvidersCountedAfter: count32(r.After.Counted)}
			if err := send(&pb.AssessNetworkChangeResponse{Row: &pb.AssessNetworkChangeResponse_County{County: row}}); err != nil {
				return err
			}
		}
		for _, m := range im.Lost {
			if err := send(&pb.AssessNetworkChangeResponse{Row: &pb.AssessNetworkChangeResponse_Lost{Lost: changedMemberProto(&m)}}); err != nil {
				return err
			}
		}
		for _, m := range im.Gained {
			if err := send(&pb.AssessNetworkChangeResponse{Row: &pb.AssessNetworkChangeResponse_Gained{Gained: changedMemberProto(&m)}}); err != nil {
				return err
			}
		}
	}
	for _, r := range rejected {
		if err := send(&pb.AssessNetworkChangeResponse{Row: &pb.AssessNetworkChangeResponse_Rejected{Rejected: r}}); err != nil {
			return err
		}
	}
	return nil
}

func impactTotalsProto(ts []adequacy.ImpactTotal) []*pb.ImpactTotal {
	var out []*pb.ImpactTotal
	for _, t := range ts {
		out = append(out, &pb.ImpactTotal{Discipline: disciplineProto(t.Discipline), Members: count32(t.Members), ServedBefore: count32(t.ServedBefore),
			ServedAfter: count32(t.ServedAfter), Lost: count32(t.Lost), Gained: count32(t.Gained), Counties: count32(t.Counties),
			CountiesPassBefore: count32(t.PassBefore), CountiesPassAfter: count32(t.PassAfter), CountiesToFail: count32(t.ToFail), CountiesToPass: count32(t.ToPass)})
	}
	return out
}

func changedMemberProto(m *adequacy.ChangedMember) *pb.ChangedMember {
	return &pb.ChangedMember{MemberRef: m.MemberID, Discipline: disciplineProto(m.Discipline), CountyFips: m.CountyFIPS,
		NearestNpiBefore: m.Before.NPI, NearestMilesBefore: finite(m.Before.Miles), NearestNpiAfter: m.After.NPI,
		NearestMilesAfter: finite(m.After.Miles), ProvidersWithinBefore: count32(m.WithinBefore), ProvidersWithinAfter: count32(m.WithinAfter),
		ProvidersRequired: count32(m.Required)}
}

// finite is x, or unset for NaN and infinities.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// GetProviderCriticality implements AdequacyService: every provider's
// criticality in one pass; the rows of the NPIs asked (and of the top
// providers, if asked) and a dossier per NPI.
func (s *service) GetProviderCriticality(req *pb.GetProviderCriticalityRequest, stream pb.AdequacyService_GetProviderCriticalityServer) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	faults := memberLimits(len(req.GetMembers()), len(req.GetDisciplines()), len(req.GetCredits()))
	if n := len(req.GetNpis()); n > MaxCriticalityNPIs {
		faults = append(faults, tooMany("npis", n, MaxCriticalityNPIs, " (each gets a dossier); rank every provider with the geoaccess criticality command"))
	}
	if len(faults) > 0 {
		return errorStatus(nil, faults, nil).Err()
	}
	opts, faults := impactOptions(req, s.today())
	opts.Criticality = true
	if top := req.GetTop(); top < 0 || top > MaxCriticalityTop {
		faults = append(faults, adequacy.FieldViolation{Field: "top", Reason: fmt.Sprintf("%d must be between 0 and %d", top, MaxCriticalityTop)})
	}
	seen := map[string]int{}
	for i, npi := range req.GetNpis() {
		if j, dup := seen[npi]; dup {
			faults = append(faults, adequacy.FieldViolation{Field: fmt.Sprintf("npis[%d]", i), Reason: fmt.Sprintf("repeats npis[%d]", j)})
			continue
		}
		seen[npi] = i
		if _, err := eng.Network.RowsOf([]string{npi}); err != nil {
			faults = append(faults, adequacy.FieldViolation{Field: fmt.Sprintf("npis[%d]", i),
				Reason: fmt.Sprintf("NPI %q is not in the serving roster %s", adequacy.Excerpt(npi), eng.Network.Version())})
		}
	}
	if len(faults) > 0 {
		return errorStatus(nil, faults, nil).Err()
	}
	b, rejected, err := baselineOf(stream, eng, req.GetMembers(), opts)
	if err != nil {
		return err
	}
	send := func(r *pb.GetProviderCriticalityResponse) error { return stream.Send(r) }
	sum := &pb.CriticalitySummary{Profile: b.Profile.Name, ProfileVersion: b.Profile.Version, RosterVersion: b.RosterVersion, AsOf: b.AsOf.String(),
		MembersEvaluated: count32(b.Members), MembersRejected: count32(len(rejected)), ProfileExpired: b.ProfileExpired}
	if b.Plan != nil {
		sum.Plan = b.Plan.ID
	}
	var crit *adequacy.Criticality
	var dossiers []*adequacy.Dossier
	if b.Members > 0 {
		if crit, err = b.Criticality(); err != nil {
			return errorStatus(err, nil, nil).Err()
		}
		for _, npi := range req.GetNpis() {
			dz, err := b.Dossier(stream.Context(), npi)
			if err != nil {
				return errorStatus(err, nil, nil).Err()
			}
			dossiers = append(dossiers, dz)
		}
		sum.ProvidersRanked = count32(len(crit.Providers))
		for _, p := range crit.Providers {
			if p.MembersSole > 0 {
				sum.ProvidersSole++
			}
			if len(p.CountiesAtRisk) > 0 {
				sum.ProvidersAtRisk++
			}
		}
	}
	if err := send(&pb.GetProviderCriticalityResponse{Row: &pb.GetProviderCriticalityResponse_Summary{Summary: sum}}); err != nil {
		return err
	}
	if crit != nil {
		var rows []*pb.ProviderCriticality
		for _, p := range crit.Providers[:min(int(req.GetTop()), len(crit.Providers))] {
			rows = append(rows, criticalityProto(&p))
		}
		for _, dz := range dossiers {
			for i := range dz.Rows {
				rows = append(rows, npiRowProto(crit, dz, &dz.Rows[i]))
			}
		}
		for _, r := range rows {
			if err := send(&pb.GetProviderCriticalityResponse{Row: &pb.GetProviderCriticalityResponse_Provider{Provider: r}}); err != nil {
				return err
			}
		}
		for _, dz := range dossiers {
			if err := send(&pb.GetProviderCriticalityResponse{Row: &pb.GetProviderCriticalityResponse_Dossier{Dossier: dossierProto(dz)}}); err != nil {
				return err
			}
		}
	}
	for _, r := range rejected {
		if err := send(&pb.GetProviderCriticalityResponse{Row: &pb.GetProviderCriticalityResponse_Rejected{Rejected: r}}); err != nil {
			return err
		}
	}
	return nil
}

func criticalityProto(p *adequacy.ProviderCriticality) *pb.ProviderCriticality {
	out := &pb.ProviderCriticality{Rank: count32(p.Rank), Npi: p.Provider.NPI, Name: p.Provider.Name, Discipline: disciplineProto(p.Provider.Discipline),
		CountyFips: p.Provider.CountyFIPS, MembersInReach: count32(p.MembersInReach), MembersSole: count32(p.MembersSole), Counts: p.Counts,
		Location: &pb.LatLng{Latitude: p.Provider.Location.Lat, Longitude: p.Provider.Location.Lon}}
	for _, c := range p.CountiesAtRisk {
		out.CountiesAtRisk = append(out.CountiesAtRisk, c.FIPS)
	}
	return out
}

// npiRowProto is a dossier row's ranked entry, or an unranked one (rank
// 0) for a row that does not participate.
func npiRowProto(c *adequacy.Criticality, dz *adequacy.Dossier, row *adequacy.Provider) *pb.ProviderCriticality {
	for i := range c.Providers {
		p := &c.Providers[i]
		if p.Provider.NPI == dz.NPI && p.Provider.Discipline == row.Discipline && p.Provider.Location == row.Location {
			return criticalityProto(p)
		}
	}
	return criticalityProto(&adequacy.ProviderCriticality{Provider: row})
}

func dossierProto(dz *adequacy.Dossier) *pb.ProviderDossier {
	out := &pb.ProviderDossier{Npi: dz.NPI, Name: dz.Name, Joining: dz.Joining, CountingLocations: count32(dz.Counting),
		Totals: impactTotalsProto(dz.Impact.Totals), MembersChanged: count32(dz.ChangedMiles.N),
		ChangedNearestMedianMiles: finite(dz.ChangedMiles.Median), ChangedNearestP90Miles: finite(dz.ChangedMiles.P90),
		ChangedNearestMaxMiles: finite(dz.ChangedMiles.Max), ChangedWithoutAny: count32(dz.ChangedMiles.NoneAvailable)}
	for _, c := range dz.Counties {
		out.Counties = append(out.Counties, &pb.DossierCounty{CountyFips: c.County.FIPS, State: c.County.State, County: c.County.Name,
			Discipline: disciplineProto(c.Discipline), Members: count32(c.Members), InReach: count32(c.InReach), Changed: count32(c.Changed),
			ServedPctBefore: c.Before.ServedPct, ServedPctAfter: c.After.ServedPct, PassBefore: c.Before.Pass, PassAfter: c.After.Pass})
	}
	for _, a := range dz.Alternatives {
		out.Alternatives = append(out.Alternatives, &pb.Alternative{From: &pb.LatLng{Latitude: a.From.Location.Lat, Longitude: a.From.Location.Lon},
			Npi: a.Provider.NPI, Name: a.Provider.Name, Discipline: disciplineProto(a.Provider.Discipline), CountyFips: a.Provider.CountyFIPS, Miles: a.Miles})
	}
	return out
}
