package pgsource_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/serving"
	"github.com/geoaccess/geoaccess/internal/serving/pgsource"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

const auditorTok = "auditor-token-0123456789ab"

func replayTokens(t testing.TB) *server.Tokens {
	tk, err := server.ParseTokens(strings.NewReader(readerTok + " reader dashboard\n" + auditorTok + " auditor appeals\n" + adminTok + " admin ops\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// replayMembers are the first n members of the embedded sample file.
func replayMembers(t testing.TB, n int) []*pb.LatLng {
	t.Helper()
	b, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []*pb.LatLng
	for _, r := range rows[1 : n+1] {
		lat, _ := strconv.ParseFloat(r[1], 64)
		lon, _ := strconv.ParseFloat(r[2], 64)
		out = append(out, &pb.LatLng{Latitude: lat, Longitude: lon})
	}
	return out
}

// call is one request a member's decisions were asked with: a check or a
// negotiation, and the answer it got.
type call struct {
	check  *pb.CheckAccessRequest
	neg    *pb.EvaluateNegotiationRequest
	answer proto.Message
}

func (c *call) do(ctx context.Context, cl pb.AdequacyServiceClient, roster string) (proto.Message, error) {
	if c.check != nil {
		r := proto.Clone(c.check).(*pb.CheckAccessRequest)
		r.RosterVersion = roster
		return cl.CheckAccess(ctx, r)
	}
	r := proto.Clone(c.neg).(*pb.EvaluateNegotiationRequest)
	r.RosterVersion = roster
	return cl.EvaluateNegotiation(ctx, r)
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The appeal: decisions made on version 1 are kept; version 2 moves and
// removes the providers nearest those members and is served; a replay
// against version 1 gives every decision again byte for byte (checks for
// every discipline, for a service, for a plan, and the negotiation gate),
// while live decisions follow version 2 exactly as an engine built from
// it decides. Version 1 is read from PostgreSQL once, then answered from
// memory; readers are refused; retired and unknown versions are refused,
// naming them.
func TestReplayPastVersionFromPostgres(t *testing.T) {
	pool := migratedPool(t)
	eng, _, err := data.NewEngine(data.Setup{PlansFile: "../../../data/assets/plans/example.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	sample, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	v1 := sample.Providers
	id1 := publish(t, pool, v1)
	var now atomic.Int64
	now.Store(time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	srv, addr := startServer(t, server.Config{Engine: eng, Tokens: replayTokens(t)})
	src := &pgsource.Source{Pool: pool}
	rl := attach(t, srv, src, serving.ReloadConfig{})
	if err := rl.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetReplays(serving.NewReplays(srv.Roster(), src, serving.ReplayConfig{Now: clock})); err != nil {
		t.Fatal(err)
	}
	c := client(t, addr)
	auditor, reader := bearer(ctxFor(t), auditorTok), bearer(ctxFor(t), readerTok)

	// Version 1: the decisions an appeal will ask about.
	members := replayMembers(t, 60)
	var calls []*call
	for i, m := range members {
		calls = append(calls, &call{check: &pb.CheckAccessRequest{Location: m, Disciplines: allDisciplines(), AsOf: testAsOf, K: 5}})
		switch i % 3 {
		case 0:
			calls = append(calls, &call{check: &pb.CheckAccessRequest{Location: m, Service: "lymphedema", AsOf: testAsOf}})
		case 1:
			calls = append(calls, &call{check: &pb.CheckAccessRequest{Location: m, Disciplines: []pb.Discipline{pt}, Plan: "acme-ma", AsOf: testAsOf}})
		case 2:
			calls = append(calls, &call{neg: &pb.EvaluateNegotiationRequest{Location: m, Discipline: pt, AsOf: testAsOf,
				Provider: &pb.RequestedProvider{Npi: "1234567893"}, Plan: "acme-star", Service: "vestibular"}})
		}
	}
	for _, cl := range calls {
		if cl.answer, err = cl.do(reader, c, ""); err != nil {
			t.Fatal(err)
		}
	}

	// Version 2 removes each member's nearest provider of every
	// discipline and moves the second nearest about 20 miles north.
	type key struct {
		npi  string
		disc adequacy.Discipline
	}
	removed, moved := map[key]bool{}, map[key]bool{}
	for _, cl := range calls {
		r, ok := cl.answer.(*pb.CheckAccessResponse)
		if !ok || cl.check.Service != "" || cl.check.Plan != "" {
			continue
		}
		for _, d := range r.Decisions {
			disc := adequacy.Discipline(d.Discipline - 1)
			if len(d.Nearest) > 0 {
				removed[key{d.Nearest[0].Npi, disc}] = true
			}
			if len(d.Nearest) > 1 && !removed[key{d.Nearest[1].Npi, disc}] {
				moved[key{d.Nearest[1].Npi, disc}] = true
			}
		}
	}
	var v2 []adequacy.Provider
	for _, p := range v1 {
		k := key{p.NPI, p.Discipline}
		switch {
		case removed[k]:
			continue
		case moved[k]:
			p.Location.Lat += 0.3
			p.CountyFIPS = "" // placed again by the loader
		}
		v2 = append(v2, p)
	}
	id2 := publishWith(t, pool, v2, adequacy.NoShrinkLimit)
	if res, err := rl.Reload(t.Context(), "", true); err != nil || !res.Loaded || res.Status.Version != pg.Label(id2) {
		t.Fatalf("reload to version 2: %+v %v", res, err)
	}
	t.Logf("version 2: %d providers removed, %d moved", len(removed), len(moved))

	// The replays: byte-identical, and a reader may not ask.
	for i, cl := range calls {
		got, err := cl.do(auditor, c, pg.Label(id1))
		if err != nil {
			t.Fatalf("replay %d: %v", i, err)
		}
		if !bytes.Equal(marshal(t, got), marshal(t, cl.answer)) {
			t.Fatalf("replay %d differs from the original:\n got  %v\n want %v", i, got, cl.answer)
		}
	}
	if _, err := calls[0].do(reader, c, pg.Label(id1)); status.Code(err) != codes.PermissionDenied {
		t.Errorf("reader replay: %v", err)
	}
	m := scrape(t, srv)
	if !strings.Contains(m, `geoaccess_replay_lookups_total{result="read"} 1`) ||
		!strings.Contains(m, `geoaccess_replay_lookups_total{result="cached"} `+strconv.Itoa(len(calls)-1)) ||
		!strings.Contains(m, "geoaccess_replay_cached_versions 1") {
		t.Errorf("version 1 not read once then cached:\n%s", grepLines(m, "geoaccess_replay_"))
	}

	// Live decisions follow version 2, as an engine built from it decides.
	r2, err := pg.ReadRoster(t.Context(), pool, id2)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := eng.NewNetwork(r2)
	if err != nil {
		t.Fatal(err)
	}
	oracle := eng.WithNetwork(n2)
	changed := 0
	for _, cl := range calls {
		if cl.check == nil || cl.check.Service != "" || cl.check.Plan != "" {
			continue
		}
		got, err := cl.do(reader, c, "")
		if err != nil {
			t.Fatal(err)
		}
		live := got.(*pb.CheckAccessResponse)
		if live.RosterVersion != pg.Label(id2) {
			t.Fatalf("live answer on %s", live.RosterVersion)
		}
		if !bytes.Equal(marshal(t, live), marshal(t, cl.answer)) {
			changed++
		}
		loc := cl.check.Location
		want, err := oracle.Decide(adequacy.Request{Member: adequacy.Member{Point: &geo.Point{Lat: loc.Latitude, Lon: loc.Longitude}},
			Disciplines: adequacy.Disciplines, AsOf: mustDate(t, testAsOf), K: 5})
		if err != nil {
			t.Fatal(err)
		}
		for j, d := range live.Decisions {
			w := want[j]
			var got, wantNPIs []string
			for _, n := range d.Nearest {
				got = append(got, n.Npi)
				if removed[key{n.Npi, w.Discipline}] {
					t.Errorf("live answer lists %s, removed in version 2", n.Npi)
				}
			}
			for _, n := range w.Nearest {
				wantNPIs = append(wantNPIs, n.NPI)
			}
			if int(d.ProvidersWithin) != w.ProvidersWithin || d.Served != w.Served() || !slices.Equal(got, wantNPIs) {
				t.Errorf("live %s: within %d served %v nearest %v; version 2 decides %d %v %v", w.Discipline, d.ProvidersWithin, d.Served, got,
					w.ProvidersWithin, w.Served(), wantNPIs)
			}
		}
	}
	if changed != len(members) {
		t.Errorf("%d of %d members' live answers changed with version 2", changed, len(members))
	}

	// Unknown, malformed and retired versions are refused, naming them.
	_, err = calls[0].do(auditor, c, "pg:999")
	if st := status.Convert(err); st.Code() != codes.NotFound || !strings.Contains(st.Message(), "999") || !hasResource(st, "geoaccess.v1.RosterVersion") {
		t.Errorf("unknown version: %v", err)
	}
	if _, err := calls[0].do(auditor, c, "version one"); status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "roster_version") {
		t.Errorf("malformed version: %v", err)
	}
	publish(t, pool, v2)
	if ids, err := pg.Retire(t.Context(), pool, 1); err != nil || !slices.Contains(ids, id1) {
		t.Fatalf("retire: %v %v", ids, err)
	}
	now.Add(int64(2 * serving.DefaultReplayRecheck)) // the cached copy is checked again
	_, err = calls[0].do(auditor, c, pg.Label(id1))
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "pg:1") || !strings.Contains(st.Message(), "retired") {
		t.Errorf("retired version: %v", err)
	}
}

// A replay naming a plans version reads it from PostgreSQL: the plan's
// networks then are that version's, and the answer cites it.
func TestReplayPlansVersionFromPostgres(t *testing.T) {
	pool := migratedPool(t)
	eng, _, err := data.NewEngine(data.Setup{PlansFile: "../../../data/assets/plans/example.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	sample, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	publish(t, pool, sample.Providers)
	yaml, err := os.ReadFile("../../../data/assets/plans/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The same plans, acme-ma counting the commercial network instead.
	other := strings.Replace(string(yaml), "networks: [ACME-MA]", "networks: [ACME-COMM]", 1)
	res, err := pg.LoadPlans(t.Context(), pool, "plans.yaml", []byte(other), pg.PlansLoadOptions{Profiles: eng.Profiles})
	if err != nil {
		t.Fatal(err)
	}
	srv, addr := startServer(t, server.Config{Engine: eng})
	src := &pgsource.Source{Pool: pool}
	rl := attach(t, srv, src, serving.ReloadConfig{})
	if err := rl.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetReplays(serving.NewReplays(srv.Roster(), src, serving.ReplayConfig{})); err != nil {
		t.Fatal(err)
	}
	c := client(t, addr)
	req := &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 40.75, Longitude: -73.99}, Disciplines: []pb.Discipline{pt}, Plan: "acme-ma", AsOf: testAsOf}
	live, err := c.CheckAccess(ctxFor(t), req)
	if err != nil {
		t.Fatal(err)
	}
	req.PlansVersion = res.Version.Label
	past, err := c.CheckAccess(ctxFor(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(live.PlansVersion, "file:") || past.PlansVersion != res.Version.Label ||
		!slices.Equal(live.Networks, []string{"ACME-MA"}) || !slices.Equal(past.Networks, []string{"ACME-COMM"}) {
		t.Errorf("live plans %s %v, replay plans %s %v", live.PlansVersion, live.Networks, past.PlansVersion, past.Networks)
	}
	req.PlansVersion = live.PlansVersion // the served registry, by its version
	if same, err := c.CheckAccess(ctxFor(t), req); err != nil || !proto.Equal(same, live) {
		t.Errorf("replay naming the served plans version: %v", err)
	}
	req.PlansVersion = "pg:99"
	_, err = c.CheckAccess(ctxFor(t), req)
	if st := status.Convert(err); st.Code() != codes.NotFound || !hasResource(st, "geoaccess.v1.PlansVersion") {
		t.Errorf("unknown plans version: %v", err)
	}
}

func hasResource(st *status.Status, kind string) bool {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.ResourceInfo); ok && ri.ResourceType == kind {
			return true
		}
	}
	return false
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func allDisciplines() []pb.Discipline {
	return []pb.Discipline{pb.Discipline_DISCIPLINE_DC, pb.Discipline_DISCIPLINE_PT, pb.Discipline_DISCIPLINE_OT, pb.Discipline_DISCIPLINE_ST}
}

func mustDate(t testing.TB, s string) adequacy.Date {
	d, err := adequacy.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
