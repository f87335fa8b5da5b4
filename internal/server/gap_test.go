package server_test

import (
	"context"
	"errors"
	"io"
	"math"
	"strconv"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// gapRows reads a GapReport stream to its end.
func gapRows(t *testing.T, c pb.AdequacyServiceClient, req *pb.GapReportRequest) ([]*pb.GapReportResponse, error) {
	t.Helper()
	stream, err := c.GapReport(ctxFor(t), req)
	if err != nil {
		return nil, err
	}
	var rows []*pb.GapReportResponse
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
}

// The RPC's rows equal the engine's own gap report over the same members,
// with rejections and recruitment targets.
func TestGapReportMatchesEngine(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ref := sampleEngine(t)
	req := &pb.GapReportRequest{AsOf: testAsOf}
	var members []adequacy.GapMember
	all := sampleMembers(t)
	for i, m := range all {
		req.Members = append(req.Members, &pb.GapMember{MemberRef: m.id, Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon}})
		members = append(members, adequacy.GapMember{ID: m.id, Line: i + 1, Point: geo.Point{Lat: m.lat, Lon: m.lon}, HasPoint: true})
	}
	req.Members = append(req.Members,
		&pb.GapMember{MemberRef: "bad-lat", Location: &pb.LatLng{Latitude: 95}},
		&pb.GapMember{MemberRef: "bad-zip", Zip: "00000"},
		&pb.GapMember{MemberRef: req.Members[0].MemberRef, Zip: "10001"},
		&pb.GapMember{Zip: "10001"})
	var cands []adequacy.Provider
	for _, p := range fixture.roster.Providers {
		if !p.Participating {
			cands = append(cands, p)
			req.Candidates = append(req.Candidates, &pb.RecruitmentCandidate{Npi: p.NPI, Name: p.Name, Discipline: disciplineOf(p.Discipline),
				Location: &pb.LatLng{Latitude: p.Location.Lat, Longitude: p.Location.Lon}, CountyFips: p.CountyFIPS,
				TelehealthOnly: p.TelehealthOnly, NotAcceptingNewPatients: !p.AcceptingNewPatients})
		}
	}
	rows, err := gapRows(t, c, req)
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := adequacy.ParseDate(testAsOf)
	want, err := ref.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	picks, _, err := want.Recruit(context.Background(), cands)
	if err != nil {
		t.Fatal(err)
	}
	var counties, unserved, recruits []*pb.GapReportResponse
	rejected := map[string]string{}
	summary := rows[0].GetSummary()
	for _, r := range rows[1:] {
		switch {
		case r.GetCounty() != nil:
			counties = append(counties, r)
		case r.GetUnserved() != nil:
			unserved = append(unserved, r)
		case r.GetRecruitment() != nil:
			recruits = append(recruits, r)
		case r.GetRejected() != nil:
			rejected[r.GetRejected().GetMemberRef()+"|"+r.GetRejected().GetField()] = r.GetRejected().GetReason()
		}
	}
	if summary == nil || summary.MembersEvaluated != int32(len(all)) || summary.MembersRejected != 4 || summary.RosterVersion != "sample-2026.11" || summary.Profile != "cms-ma" {
		t.Fatalf("summary %v", summary)
	}
	for _, k := range []string{"bad-lat|location.latitude", "bad-zip|zip", req.Members[0].MemberRef + "|member_ref", "|members[" + strconv.Itoa(len(all)+3) + "].member_ref"} {
		if rejected[k] == "" {
			t.Errorf("no rejection %s in %v", k, rejected)
		}
	}
	if len(counties) != len(want.Counties) || len(unserved) != len(want.Unserved) || len(recruits) != len(picks) || len(picks) == 0 {
		t.Fatalf("%d counties, %d unserved, %d recruits; want %d, %d, %d", len(counties), len(unserved), len(recruits), len(want.Counties), len(want.Unserved), len(picks))
	}
	for i, r := range counties {
		got, w := r.GetCounty(), want.Counties[i]
		if got.CountyFips != w.County.FIPS || got.Members != int32(w.Members) || got.Served != int32(w.Served) || got.Pass != w.Pass ||
			got.ProvidersCounted != int32(w.Counted) || got.GetNearestMedianMiles() != w.NearestP50 && !math.IsNaN(w.NearestP50) {
			t.Errorf("county row %d: %v, want %+v", i, got, w)
		}
	}
	for i, r := range recruits {
		if got := r.GetRecruitment(); got.Npi != picks[i].Provider.NPI || got.NewlyServed != int32(picks[i].NewlyServed) {
			t.Errorf("recruit %d: %v, want %+v", i, got, picks[i])
		}
	}
}

func TestGapReportErrors(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	m := []*pb.GapMember{{MemberRef: "a", Zip: "10001"}}
	tests := []struct {
		name  string
		req   *pb.GapReportRequest
		code  codes.Code
		field string
	}{
		{"unknown profile", &pb.GapReportRequest{Members: m, Profile: "nope"}, codes.NotFound, "profile"},
		{"bad discipline", &pb.GapReportRequest{Members: m, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_UNSPECIFIED}}, codes.InvalidArgument, "disciplines[0]"},
		{"bad date", &pb.GapReportRequest{Members: m, AsOf: "2026-02-30"}, codes.InvalidArgument, "as_of"},
		{"bad credit", &pb.GapReportRequest{Members: m, AsOf: testAsOf, Credits: []string{"free-pass"}}, codes.InvalidArgument, "credits[0]"},
		{"bad candidate", &pb.GapReportRequest{Members: m, Candidates: []*pb.RecruitmentCandidate{{Npi: "123", Discipline: pb.Discipline_DISCIPLINE_PT,
			Location: &pb.LatLng{Latitude: 40, Longitude: -74}}}}, codes.InvalidArgument, "candidates[0].npi"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gapRows(t, c, tc.req)
			if status.Code(err) != tc.code || len(fields(err)) == 0 || fields(err)[0] != tc.field {
				t.Errorf("err = %v (fields %v), want %v on %s", err, fields(err), tc.code, tc.field)
			}
		})
	}
	_, empty := startServer(t, server.Config{}, true)
	if _, err := gapRows(t, client(t, empty), &pb.GapReportRequest{Members: m}); status.Code(err) != codes.Unavailable {
		t.Errorf("no roster: %v", err)
	}
}

func disciplineOf(d adequacy.Discipline) pb.Discipline {
	return []pb.Discipline{pb.Discipline_DISCIPLINE_DC, pb.Discipline_DISCIPLINE_PT, pb.Discipline_DISCIPLINE_OT, pb.Discipline_DISCIPLINE_ST}[d]
}
