package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// readStream reads a server stream to its end.
func readStream[T any](stream interface{ Recv() (T, error) }) ([]T, error) {
	var rows []T
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

func assess(t *testing.T, c pb.AdequacyServiceClient, req *pb.AssessNetworkChangeRequest) ([]*pb.AssessNetworkChangeResponse, error) {
	t.Helper()
	s, err := c.AssessNetworkChange(ctxFor(t), req)
	if err != nil {
		return nil, err
	}
	return readStream[*pb.AssessNetworkChangeResponse](s)
}

func criticality(t *testing.T, c pb.AdequacyServiceClient, req *pb.GetProviderCriticalityRequest) ([]*pb.GetProviderCriticalityResponse, error) {
	t.Helper()
	s, err := c.GetProviderCriticality(ctxFor(t), req)
	if err != nil {
		return nil, err
	}
	return readStream[*pb.GetProviderCriticalityResponse](s)
}

// sampleRequestMembers are the sample members as a request's and the
// engine's.
func sampleRequestMembers(t *testing.T) ([]*pb.GapMember, []adequacy.GapMember) {
	var pm []*pb.GapMember
	var am []adequacy.GapMember
	for i, m := range sampleMembers(t) {
		pm = append(pm, &pb.GapMember{MemberRef: m.id, Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon}})
		am = append(am, adequacy.GapMember{ID: m.id, Line: i + 1, Point: geo.Point{Lat: m.lat, Lon: m.lon}, HasPoint: true})
	}
	return pm, am
}

// The RPC's rows equal the engine's own impact of the same change: the
// county rows, the members who lose and gain access; rejections stream
// after them.
func TestAssessNetworkChangeMatchesEngine(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ref := sampleEngine(t)
	pm, am := sampleRequestMembers(t)
	asOf, _ := adequacy.ParseDate(testAsOf)
	b, err := ref.NewBaseline(context.Background(), am, adequacy.ImpactOptions{Profile: "commercial-example", AsOf: asOf, Criticality: true})
	if err != nil {
		t.Fatal(err)
	}
	crit, err := b.Criticality()
	if err != nil {
		t.Fatal(err)
	}
	var remove []string
	for _, p := range crit.Providers[:30] {
		remove = append(remove, p.Provider.NPI)
	}
	// Two PTs join where a member is unserved for PT: that member gains.
	gap, err := ref.Gap(context.Background(), am, adequacy.GapOptions{Profile: "commercial-example", AsOf: asOf, Disciplines: []adequacy.Discipline{adequacy.PT}})
	if err != nil || len(gap.Unserved) == 0 {
		t.Fatalf("gap report: %v, %d unserved", err, len(gap.Unserved))
	}
	var at geo.Point
	for _, m := range am {
		if m.ID == gap.Unserved[0].MemberID {
			at = m.Point
		}
	}
	var add []*pb.NetworkProvider
	var addP []adequacy.Provider
	for k, npi := range []string{"1234567893", "1234567901"} {
		pt := geo.Point{Lat: at.Lat + 0.001*float64(k), Lon: at.Lon}
		add = append(add, &pb.NetworkProvider{Npi: npi, Name: "Joins", Discipline: pb.Discipline_DISCIPLINE_PT,
			Location: &pb.LatLng{Latitude: pt.Lat, Longitude: pt.Lon}, Networks: []string{"ACME-MA"}})
		addP = append(addP, adequacy.Provider{NPI: npi, Name: "Joins", Discipline: adequacy.PT, Location: pt, Networks: []string{"ACME-MA"},
			Participating: true, AcceptingNewPatients: true})
	}
	req := &pb.AssessNetworkChangeRequest{Members: append(pm, &pb.GapMember{MemberRef: "bad", Zip: "00000"}), Profile: "commercial-example",
		AsOf: testAsOf, RemoveNpis: remove, Add: add}
	rows, err := assess(t, c, req)
	if err != nil {
		t.Fatal(err)
	}
	rowsOf, err := ref.Network.RowsOf(remove)
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.Impact(context.Background(), adequacy.Change{Remove: rowsOf, Add: addP})
	if err != nil {
		t.Fatal(err)
	}
	sum := rows[0].GetSummary()
	if sum == nil || sum.MembersEvaluated != int32(len(am)) || sum.MembersRejected != 1 || sum.RowsRemoved != int32(len(rowsOf)) ||
		sum.RowsAdded != 2 || sum.RowsAddedCounting != 2 || sum.LosesCounty != want.LosesCounty() || sum.MembersInReach != int32(want.AffectedMembers) {
		t.Fatalf("summary %v", sum)
	}
	var counties []*pb.ImpactCounty
	var lost, gained []*pb.ChangedMember
	var rejected []*pb.RejectedMember
	for _, r := range rows[1:] {
		switch {
		case r.GetCounty() != nil:
			counties = append(counties, r.GetCounty())
		case r.GetLost() != nil:
			lost = append(lost, r.GetLost())
		case r.GetGained() != nil:
			gained = append(gained, r.GetGained())
		case r.GetRejected() != nil:
			rejected = append(rejected, r.GetRejected())
		}
	}
	if len(counties) != len(want.Rows) || len(lost) != len(want.Lost) || len(gained) != len(want.Gained) || len(lost) == 0 || len(gained) == 0 ||
		len(rejected) != 1 || rejected[0].Field != "zip" {
		t.Fatalf("%d counties, %d lost, %d gained, %v rejected; want %d, %d, %d", len(counties), len(lost), len(gained), rejected, len(want.Rows), len(want.Lost), len(want.Gained))
	}
	for i, r := range counties {
		w := want.Rows[i]
		if r.CountyFips != w.County.FIPS || r.ServedBefore != int32(w.Before.Served) || r.ServedAfter != int32(w.After.Served) ||
			r.PassAfter != w.After.Pass || r.ProvidersCountedAfter != int32(w.After.Counted) {
			t.Errorf("county %d: %v, want %+v", i, r, w)
		}
	}
	for i, m := range lost {
		w := want.Lost[i]
		if m.MemberRef != w.MemberID || m.NearestNpiAfter != w.After.NPI || (m.NearestMilesAfter != nil) != (w.After.NPI != "") ||
			m.NearestMilesAfter != nil && m.GetNearestMilesAfter() != w.After.Miles {
			t.Errorf("lost %d: %v, want %+v", i, m, w)
		}
	}
}

// Bad requests: limits on the repeated fields before anything is looked
// at, an unknown NPI named by its position, a joining provider's bad
// fields named as a roster's would be, and the domain's own violations.
func TestAssessNetworkChangeErrors(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	m := []*pb.GapMember{{MemberRef: "a", Zip: "10001"}}
	known := fixture.roster.Providers[0]
	loc := &pb.LatLng{Latitude: 40, Longitude: -74}
	many := make([]string, server.MaxChangeNPIs+1)
	tests := []struct {
		name   string
		req    *pb.AssessNetworkChangeRequest
		code   codes.Code
		fields []string
		reason string
	}{
		{"too many NPIs", &pb.AssessNetworkChangeRequest{Members: m, RemoveNpis: many}, codes.InvalidArgument, []string{"remove_npis"}, "10001 elements: at most 10000"},
		{"unknown NPI", &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, RemoveNpis: []string{known.NPI, "1234567893"}}, codes.InvalidArgument,
			[]string{"remove_npis[1]"}, `NPI "1234567893" is not in the serving roster sample-2026.11`},
		{"bad provider", &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, Add: []*pb.NetworkProvider{
			{Npi: "1234567890", Discipline: pb.Discipline_DISCIPLINE_PT, Location: &pb.LatLng{Latitude: 91, Longitude: -74}},
			{Npi: "1234567893", Location: loc, EffectiveDate: "2026-02-30"},
			{Npi: "1234567893", Discipline: pb.Discipline_DISCIPLINE_OT, Location: loc, Designations: []string{"NOPE"}},
		}}, codes.InvalidArgument, []string{"add[0].npi", "add[0].location.latitude", "add[1].discipline", "add[1].effective_date", "add[2].designations"}, ""},
		{"duplicate of a roster row", &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, Add: []*pb.NetworkProvider{{Npi: known.NPI,
			Discipline: disciplineOf(known.Discipline), Location: &pb.LatLng{Latitude: known.Location.Lat, Longitude: known.Location.Lon}}}},
			codes.InvalidArgument, []string{"add[0]"}, "already in the roster"},
		{"unknown plan", &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, Plan: "nope", RemoveNpis: []string{known.NPI}}, codes.NotFound, []string{"plan"}, ""},
		{"bad discipline", &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, RemoveNpis: []string{known.NPI}, Disciplines: []pb.Discipline{0}},
			codes.InvalidArgument, []string{"disciplines[0]"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assess(t, c, tc.req)
			got := fields(err)
			if status.Code(err) != tc.code || strings.Join(got, " ") != strings.Join(tc.fields, " ") || !strings.Contains(status.Convert(err).Message(), tc.reason) {
				t.Errorf("err = %v (fields %v), want %v on %v", err, got, tc.code, tc.fields)
			}
		})
	}
	_, empty := startServer(t, server.Config{}, true)
	if _, err := assess(t, client(t, empty), &pb.AssessNetworkChangeRequest{Members: m}); status.Code(err) != codes.Unavailable {
		t.Errorf("no roster: %v", err)
	}
}

// GetProviderCriticality: the NPIs' rows equal the engine's ranking, each
// with a dossier; the top rows come first; limits and unknown NPIs are
// field violations.
func TestGetProviderCriticality(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ref := sampleEngine(t)
	pm, am := sampleRequestMembers(t)
	asOf, _ := adequacy.ParseDate(testAsOf)
	b, err := ref.NewBaseline(context.Background(), am, adequacy.ImpactOptions{AsOf: asOf, Criticality: true})
	if err != nil {
		t.Fatal(err)
	}
	crit, err := b.Criticality()
	if err != nil {
		t.Fatal(err)
	}
	top := crit.Providers[0]
	var non string
	for _, p := range fixture.roster.Providers {
		if !p.Participating {
			non = p.NPI
			break
		}
	}
	rows, err := criticality(t, c, &pb.GetProviderCriticalityRequest{Members: pm, AsOf: testAsOf, Npis: []string{top.Provider.NPI, non}, Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	sum := rows[0].GetSummary()
	if sum == nil || sum.ProvidersRanked != int32(len(crit.Providers)) || sum.MembersEvaluated != int32(len(am)) {
		t.Fatalf("summary %v", sum)
	}
	var provs []*pb.ProviderCriticality
	var dossiers []*pb.ProviderDossier
	for _, r := range rows[1:] {
		if p := r.GetProvider(); p != nil {
			provs = append(provs, p)
		}
		if d := r.GetDossier(); d != nil {
			dossiers = append(dossiers, d)
		}
	}
	if len(provs) != 5 || len(dossiers) != 2 {
		t.Fatalf("%d provider rows, %d dossiers", len(provs), len(dossiers))
	}
	for i := range 3 {
		w := crit.Providers[i]
		if p := provs[i]; p.Rank != int32(i+1) || p.Npi != w.Provider.NPI || p.MembersSole != int32(w.MembersSole) || p.MembersInReach != int32(w.MembersInReach) ||
			len(p.CountiesAtRisk) != len(w.CountiesAtRisk) {
			t.Errorf("top %d: %v, want %+v", i, p, w)
		}
	}
	if provs[3].Npi != top.Provider.NPI || provs[3].Rank != 1 || provs[4].Npi != non || provs[4].Rank != 0 {
		t.Errorf("NPI rows: %v %v", provs[3], provs[4])
	}
	if d := dossiers[0]; d.Npi != top.Provider.NPI || d.Joining || d.MembersChanged != int32(top.MembersSole) || len(d.Alternatives) != adequacy.DossierAlternatives {
		t.Errorf("dossier %v", d)
	}
	if d := dossiers[1]; d.Npi != non || !d.Joining {
		t.Errorf("dossier %v", d)
	}
	for _, tc := range []struct {
		req    *pb.GetProviderCriticalityRequest
		fields []string
	}{
		{&pb.GetProviderCriticalityRequest{Members: pm[:1], AsOf: testAsOf, Npis: make([]string, server.MaxCriticalityNPIs+1)}, []string{"npis"}},
		{&pb.GetProviderCriticalityRequest{Members: pm[:1], AsOf: testAsOf, Npis: []string{"1234567893", non, non}, Top: -1}, []string{"top", "npis[0]", "npis[2]"}},
	} {
		_, err := criticality(t, c, tc.req)
		if status.Code(err) != codes.InvalidArgument || strings.Join(fields(err), " ") != strings.Join(tc.fields, " ") {
			t.Errorf("%v: %v (fields %v)", tc.fields, err, fields(err))
		}
	}
}

// Neither RPC logs a member's reference or location, and both count as
// gap reports toward the stream limit.
func TestImpactRPCsLogsAndLimits(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, addr := startServer(t, server.Config{Logger: log, MaxGapReports: 1}, false)
	c := client(t, addr)
	home := &pb.LatLng{Latitude: 40.748817, Longitude: -73.985428}
	m := []*pb.GapMember{{MemberRef: "member-ref-SECRET-1", Location: home}, {MemberRef: "member-ref-SECRET-2", Zip: "10016"},
		{MemberRef: "member-ref-SECRET-3", Location: &pb.LatLng{Latitude: 91.123456, Longitude: 0}}}
	npi := fixture.roster.Providers[0].NPI
	assess(t, c, &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, RemoveNpis: []string{npi}})
	assess(t, c, &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, RemoveNpis: []string{"MEMBER-ID-4242"}})
	criticality(t, c, &pb.GetProviderCriticalityRequest{Members: m, AsOf: testAsOf, Npis: []string{npi}})
	criticality(t, c, &pb.GetProviderCriticalityRequest{Members: m, Profile: "MEMBER-ID-4242"})
	assertNoSecrets(t, buf.String())
	if n := strings.Count(buf.String(), `"msg":"call"`); n != 4 {
		t.Errorf("%d call lines logged, want 4:\n%s", n, buf.String())
	}

	// A gap report being sent to a caller that does not read holds the one
	// report slot: the impact RPCs are refused until it ends.
	slow := pb.NewAdequacyServiceClient(dial(t, addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10)))
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	var big []*pb.GapMember
	for i := range 2000 {
		big = append(big, &pb.GapMember{MemberRef: strings.Repeat("m", 1000) + string(rune('a'+i%26)) + strings.Repeat("x", i%7) + itoa(i), Location: &pb.LatLng{Latitude: 70.2, Longitude: -150.5}})
	}
	first, err := slow.GapReport(ctx, &pb.GapReportRequest{Members: big, AsOf: testAsOf})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Recv(); err != nil {
		t.Fatal(err)
	}
	_, err = assess(t, c, &pb.AssessNetworkChangeRequest{Members: m, AsOf: testAsOf, RemoveNpis: []string{npi}})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "--max-gap-reports") {
		t.Errorf("impact beside a gap report: %v", err)
	}
	_, err = criticality(t, c, &pb.GetProviderCriticalityRequest{Members: m, AsOf: testAsOf})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("criticality beside a gap report: %v", err)
	}
	cancel()
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}
