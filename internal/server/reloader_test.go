package server_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/serving"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// oneVersion is a version store holding the sample roster as "v1".
type oneVersion struct{}

func (oneVersion) Name() string { return "memory" }

func (oneVersion) Current(context.Context) (serving.VersionInfo, error) {
	return serving.VersionInfo{Label: "v1"}, nil
}

func (oneVersion) Lookup(_ context.Context, v string) (serving.VersionInfo, error) {
	if v != "v1" {
		return serving.VersionInfo{}, adequacy.ErrUnknownVersion
	}
	return serving.VersionInfo{Label: v}, nil
}

func (oneVersion) Read(context.Context, serving.VersionInfo) (*adequacy.Roster, error) {
	r := *fixture.roster
	r.Version = "v1"
	return &r, nil
}

func (oneVersion) Published(context.Context, int) ([]serving.VersionInfo, error) { return nil, nil }

// TestSetReloader: without a reloader the admin RPCs say reloads are not
// configured; a reloader of another holder, or a second one, is refused;
// the one handed over serves ReloadRoster and GetRosterDiff, its errors
// mapped to codes, and its metrics join the server's.
func TestSetReloader(t *testing.T) {
	srv, addr := startServer(t, server.Config{}, true)
	c := client(t, addr)
	ctx := ctxFor(t)
	if _, err := c.ReloadRoster(ctx, &pb.ReloadRosterRequest{}); status.Code(err) != codes.FailedPrecondition ||
		!strings.Contains(err.Error(), server.ErrNoReloader.Error()) {
		t.Fatalf("ReloadRoster without a reloader: %v", err)
	}
	if _, err := c.GetRosterDiff(ctx, &pb.GetRosterDiffRequest{}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("GetRosterDiff without a reloader: %v", err)
	}

	other := serving.NewReloader(serving.NewHolder(baseEngine(t), nil), oneVersion{}, serving.ReloadConfig{})
	if err := srv.SetReloader(other); err == nil {
		t.Fatal("a reloader of another holder was accepted")
	}
	rl := serving.NewReloader(srv.Roster(), oneVersion{}, serving.ReloadConfig{})
	if err := srv.SetReloader(rl); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetReloader(serving.NewReloader(srv.Roster(), oneVersion{}, serving.ReloadConfig{})); err == nil {
		t.Fatal("a second reloader was accepted")
	}

	r, err := c.ReloadRoster(ctx, &pb.ReloadRosterRequest{})
	if err != nil || r.Result != pb.ReloadResult_RELOAD_RESULT_LOADED || r.Status.Version != "v1" {
		t.Fatalf("ReloadRoster: %v %v", r, err)
	}
	if _, err := c.ReloadRoster(ctx, &pb.ReloadRosterRequest{Version: "v9"}); status.Code(err) != codes.NotFound ||
		!strings.Contains(err.Error(), "still serving v1") {
		t.Fatalf("ReloadRoster of an unknown version: %v", err)
	}
	if _, err := c.GetRosterDiff(ctx, &pb.GetRosterDiffRequest{}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetRosterDiff before any swap of rosters: %v", err)
	}
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{`geoaccess_roster_reloads_total{outcome="loaded",trigger="admin"} 1`,
		`geoaccess_roster_reloads_total{outcome="refused",trigger="admin"} 1`, `geoaccess_roster_loads_total{outcome="success"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
