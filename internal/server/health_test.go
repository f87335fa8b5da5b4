package server_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// TestHealthFollowsRoster: NOT_SERVING and UNAVAILABLE while the first
// roster load is blocked, SERVING and answers once it completes.
func TestHealthFollowsRoster(t *testing.T) {
	srv, addr := startServer(t, server.Config{}, true)
	cc := dial(t, addr)
	h := healthpb.NewHealthClient(cc)
	c := pb.NewAdequacyServiceClient(cc)
	ctx := ctxFor(t)
	release := make(chan struct{})
	loaded := make(chan error, 1)
	go func() {
		loaded <- srv.Roster().Load(ctx, "blocked", func(ctx context.Context) (*adequacy.Roster, error) {
			<-release
			return loadSample(ctx)
		})
	}()
	for _, svc := range []string{"", server.HealthService} {
		r, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.Status != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("health %q before the roster: %v %v", svc, r, err)
		}
	}
	req := &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf}
	if _, err := c.CheckAccess(ctx, req); status.Code(err) != codes.Unavailable {
		t.Fatalf("CheckAccess before the roster: %v, want Unavailable", err)
	}
	if _, err := c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("EvaluateNegotiation before the roster: %v, want Unavailable", err)
	}
	s, err := c.CheckAccessBatch(ctx)
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("CheckAccessBatch before the roster: %v, want Unavailable", err)
	}
	st, err := c.GetRosterStatus(ctx, &pb.GetRosterStatusRequest{})
	if err != nil || st.Status.Loaded {
		t.Fatalf("roster status before the roster: %v %v", st, err)
	}
	watch, err := h.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("watch: %v %v", r, err)
	}
	close(release)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch after load: %v %v", r, err)
	}
	if _, err := c.CheckAccess(ctx, req); err != nil {
		t.Fatalf("CheckAccess after the roster: %v", err)
	}
}

// TestReloadSwapsWithoutFailingCalls: calls keep succeeding while rosters
// are swapped under them; a failed reload keeps the serving roster and is
// reported.
func TestReloadSwapsWithoutFailingCalls(t *testing.T) {
	srv, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	req := &pb.CheckAccessRequest{Location: nyc(), Disciplines: allDisciplines(), AsOf: testAsOf}
	var stop atomic.Bool
	var calls atomic.Int64
	var wg sync.WaitGroup
	versions := sync.Map{}
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				r, err := c.CheckAccess(ctx, req)
				if err != nil {
					t.Errorf("call during reload: %v", err)
					return
				}
				versions.Store(r.RosterVersion, true)
				calls.Add(1)
			}
		})
	}
	for i := range 5 {
		v := "reload-" + string(rune('a'+i))
		if err := srv.Roster().Load(ctx, "test", func(context.Context) (*adequacy.Roster, error) {
			r := *fixture.roster
			r.Version = v
			return &r, nil
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := srv.Roster().Load(ctx, "broken", func(context.Context) (*adequacy.Roster, error) { return nil, errors.New("database down") })
	if err == nil {
		t.Fatal("failed load reported no error")
	}
	stop.Store(true)
	wg.Wait()
	st, err := c.GetRosterStatus(ctx, &pb.GetRosterStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Status
	if !s.Loaded || s.Version != "reload-e" || s.LastReload.Success || !strings.Contains(s.LastReload.Error, "database down") || s.LastReload.Loader != "broken" {
		t.Errorf("status after a failed reload: %v", s)
	}
	if len(s.Counts) != 4 || s.TotalProviders != int32(len(fixture.roster.Providers)) || s.LoadedAt == nil {
		t.Errorf("counts: %v", s)
	}
	if _, ok := versions.Load("reload-e"); !ok {
		t.Errorf("no call saw the last roster (%d calls)", calls.Load())
	}
}

// TestMetrics scrapes the metrics handler after some calls.
func TestMetrics(t *testing.T) {
	srv, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf})
	c.CheckAccess(ctx, &pb.CheckAccessRequest{Disciplines: []pb.Discipline{pt}})
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`geoaccess_grpc_requests_total{code="OK",method="/geoaccess.v1.AdequacyService/CheckAccess"} 1`,
		`geoaccess_grpc_requests_total{code="InvalidArgument",method="/geoaccess.v1.AdequacyService/CheckAccess"} 1`,
		`geoaccess_grpc_request_duration_seconds_bucket{method="/geoaccess.v1.AdequacyService/CheckAccess"`,
		`geoaccess_decisions_total{discipline="PT"} 1`,
		`geoaccess_roster_providers{discipline="PT",kind="participating"}`,
		`geoaccess_roster_info{source="embedded sample roster",version="sample-2026.11"} 1`,
		`geoaccess_roster_age_seconds `,
		`geoaccess_roster_loads_total{outcome="success"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
