package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// A GapReport with services, a plan and a service's recruitment, over a
// real client, equals the engine's own report row for row: county ×
// service rows, unserved members by service, totals, plan, members
// outside the plan's service area rejected, and candidates' designations
// deciding whether they offer the service.
func TestGapReportServicesAndPlan(t *testing.T) {
	eng := planEngine(t)
	var ny []string // New York's counties
	for _, c := range eng.Counties.All() {
		if c.State == "NY" {
			ny = append(ny, c.FIPS)
		}
	}
	var err error
	eng.Plans, err = adequacy.NewPlans("test", "test", []adequacy.Plan{{ID: "acme-ny", Name: "Acme New York", ProductLine: adequacy.MedicareAdvantage,
		Profile: "cms-ma", Networks: []string{"ACME-MA"}, ServiceArea: ny}}, eng.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, server.Config{Engine: eng}, false)
	c := client(t, addr)
	n, err := eng.NewNetwork(fixture.roster)
	if err != nil {
		t.Fatal(err)
	}
	ref := eng.WithNetwork(n)
	asOf, _ := adequacy.ParseDate(testAsOf)
	req := &pb.GapReportRequest{AsOf: testAsOf, Plan: "acme-ny", Services: []string{"lymphedema", "Hand Therapy"}, RecruitService: "lymphedema"}
	var members []adequacy.GapMember
	for i, m := range sampleMembers(t) {
		req.Members = append(req.Members, &pb.GapMember{MemberRef: m.id, Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon}})
		members = append(members, adequacy.GapMember{ID: m.id, Line: i + 1, Point: geo.Point{Lat: m.lat, Lon: m.lon}, HasPoint: true})
	}
	var cands []adequacy.Provider
	for _, p := range fixture.roster.Providers {
		if !p.Participating {
			cands = append(cands, p)
			req.Candidates = append(req.Candidates, &pb.RecruitmentCandidate{Npi: p.NPI, Name: p.Name, Discipline: disciplineOf(p.Discipline),
				Location: &pb.LatLng{Latitude: p.Location.Lat, Longitude: p.Location.Lon}, CountyFips: p.CountyFIPS,
				TelehealthOnly: p.TelehealthOnly, NotAcceptingNewPatients: !p.AcceptingNewPatients,
				Designations: p.Designations, Services: p.Services})
		}
	}
	rows, err := gapRows(t, c, req)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf, Plan: "acme-ny", Services: []string{"lymphedema", "hand"}})
	if err != nil {
		t.Fatal(err)
	}
	picks, _, err := want.RecruitService(context.Background(), "lymphedema", cands)
	if err != nil {
		t.Fatal(err)
	}
	summary := rows[0].GetSummary()
	if summary.GetPlan() != "acme-ny" || summary.GetPlansVersion() != "test" || strings.Join(summary.GetNetworks(), ",") != "ACME-MA" || strings.Join(summary.GetServices(), ",") != "lymphedema,hand" ||
		summary.GetMembersEvaluated() != int32(want.Members) || summary.GetMembersRejected() != int32(len(want.Rejected)) || len(want.Rejected) == 0 {
		t.Fatalf("summary %v; engine %d members, %d rejected", summary, want.Members, len(want.Rejected))
	}
	for i, tot := range summary.GetTotals() {
		w := want.Totals[i]
		if tot.GetService() != w.Service || tot.GetDiscipline() != disciplineProtoOf(w.Discipline) || tot.GetServed() != int32(w.Served) || tot.GetMembers() != int32(w.Members) {
			t.Errorf("total %d: %v, want %+v", i, tot, w)
		}
	}
	var counties []*pb.CountyAdequacy
	var unserved []*pb.UnservedMember
	var recruits []*pb.RecruitmentTarget
	outside := 0
	for _, r := range rows[1:] {
		switch {
		case r.GetCounty() != nil:
			counties = append(counties, r.GetCounty())
		case r.GetUnserved() != nil:
			unserved = append(unserved, r.GetUnserved())
		case r.GetRecruitment() != nil:
			recruits = append(recruits, r.GetRecruitment())
		case strings.Contains(r.GetRejected().GetReason(), "is outside plan acme-ny's service area"):
			outside++
		}
	}
	if len(counties) != len(want.Counties) || len(unserved) != len(want.Unserved) || len(recruits) != len(picks) || len(picks) == 0 || outside != len(want.Rejected) {
		t.Fatalf("%d counties, %d unserved, %d recruits, %d outside; want %d, %d, %d, %d", len(counties), len(unserved), len(recruits), outside,
			len(want.Counties), len(want.Unserved), len(picks), len(want.Rejected))
	}
	services := 0
	for i, got := range counties {
		w := want.Counties[i]
		if got.Service != w.Service || got.Discipline != disciplineProtoOf(w.Discipline) || got.CountyFips != w.County.FIPS || got.Served != int32(w.Served) ||
			got.ProvidersCounted != int32(w.Counted) || got.MinRequired != int32(w.MinRequired) {
			t.Errorf("county row %d: %v, want %+v", i, got, w)
		}
		if got.Service != "" {
			services++
		}
	}
	for i, got := range unserved {
		w := want.Unserved[i]
		if got.MemberRef != w.MemberID || got.Service != w.Service || got.Discipline != disciplineProtoOf(w.Discipline) || got.NearestNpi != w.NearestNPI {
			t.Errorf("unserved %d: %v, want %+v", i, got, w)
		}
	}
	for i, got := range recruits {
		if got.Npi != picks[i].Provider.NPI || got.NewlyServed != int32(picks[i].NewlyServed) || got.Service != "lymphedema" {
			t.Errorf("recruit %d: %v, want %+v", i, got, picks[i])
		}
	}
	if services == 0 {
		t.Error("no service rows")
	}
}

func disciplineProtoOf(d adequacy.Discipline) pb.Discipline {
	if !d.Valid() {
		return pb.Discipline_DISCIPLINE_UNSPECIFIED
	}
	return disciplineOf(d)
}

// Bad services, plans and candidates' codes name the field.
func TestGapReportScopeErrors(t *testing.T) {
	_, addr := startServer(t, server.Config{Engine: planEngine(t)}, false)
	c := client(t, addr)
	m := []*pb.GapMember{{MemberRef: "a", Zip: "10001"}}
	pt := func(mod func(*pb.RecruitmentCandidate)) []*pb.RecruitmentCandidate {
		cand := &pb.RecruitmentCandidate{Npi: "1234567893", Discipline: pb.Discipline_DISCIPLINE_PT, Location: &pb.LatLng{Latitude: 40, Longitude: -74}}
		mod(cand)
		return []*pb.RecruitmentCandidate{cand}
	}
	many := make([]string, 17)
	for i := range many {
		many[i] = "lymphedema"
	}
	tests := []struct {
		name  string
		req   *pb.GapReportRequest
		code  codes.Code
		field string
		want  string
	}{
		{"unknown service", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Services: []string{"lymphedema", "reiki"}}, codes.InvalidArgument, "services[1]", `unknown service "reiki"`},
		{"service twice", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Services: []string{"hand", "hand-therapy"}}, codes.InvalidArgument, "services[1]", "listed twice"},
		{"too many services", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Services: many}, codes.InvalidArgument, "services", "17 elements: at most 16"},
		{"unknown plan", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Plan: "nope"}, codes.NotFound, "plan", `unknown plan "nope"`},
		{"plan and profile", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Plan: "acme-tx", Profile: "cms-ma"}, codes.InvalidArgument, "profile", "mandates profile tx-medicaid"},
		{"unknown recruit service", &pb.GapReportRequest{Members: m, AsOf: testAsOf, RecruitService: "reiki"}, codes.InvalidArgument, "recruit_service", `unknown service "reiki"`},
		{"unknown designation", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Candidates: pt(func(c *pb.RecruitmentCandidate) { c.Designations = []string{"CLT", "DPT"} })},
			codes.InvalidArgument, "candidates[0].designations[1]", `unknown designation "DPT"`},
		{"unknown candidate service", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Candidates: pt(func(c *pb.RecruitmentCandidate) { c.Services = []string{"reiki"} })},
			codes.InvalidArgument, "candidates[0].services[0]", `unknown service "reiki"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gapRows(t, c, tc.req)
			st, _ := status.FromError(err)
			if st.Code() != tc.code || len(fields(err)) == 0 || fields(err)[0] != tc.field || !strings.Contains(st.Message(), tc.want) {
				t.Errorf("err = %v (fields %v), want %v on %s: %s", err, fields(err), tc.code, tc.field, tc.want)
			}
		})
	}
}
