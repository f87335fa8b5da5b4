package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/pgtest"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

func TestConfigDB(t *testing.T) {
	c, err := parseConfig([]string{"--db", "postgres://x@y/z", "--reload-at", "02:00", "--max-shrink", "35%"},
		envOf(map[string]string{"GEOACCESS_MOVE_MILES": "0.25", "GEOACCESS_DB_MIGRATE": "true"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.db.url != "postgres://x@y/z" || c.db.reloadAt != "02:00" || c.db.maxShrink != 0.35 || c.db.moveMiles != 0.25 || !c.db.migrate {
		t.Errorf("%+v", c.db)
	}
	for _, args := range [][]string{
		{"--db", "postgres://x@y/z", "--roster", "r.csv"},
		{"--reload-at", "02:00"},
		{"--db-migrate"},
		{"--db", "u", "--reload-at", "25:00"},
		{"--db", "u", "--max-shrink", "120%"},
		{"--db", "u", "--move-miles", "-1"},
		{"--db", "u", "--reload-backoff-min", "0s"},
		{"--db", "u", "--reload-backoff-min", "10s", "--reload-backoff-max", "1s"},
	} {
		if _, err := parseConfig(args, envOf(nil), io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestReloadConfigFromFlags: the flags reach the reloader as given: 0%
// allows no fall and 0 miles makes every shift a move (the zero values of
// the reloader's configuration mean its defaults), 100% turns the guard
// off, and the defaults are the reloader's.
func TestReloadConfigFromFlags(t *testing.T) {
	tests := []struct {
		args  []string
		frac  float64
		off   bool
		miles float64
		daily string
	}{
		{nil, adequacy.DefaultMaxShrink, false, 0.1, ""},
		{[]string{"--max-shrink", "0%", "--move-miles", "0"}, 0, false, 0, ""},
		{[]string{"--max-shrink", "0"}, 0, false, 0.1, ""},
		{[]string{"--max-shrink", "100%", "--reload-at", "2:30"}, 1, true, 0.1, "02:30"},
		{[]string{"--max-shrink", "0.35", "--move-miles", "0.5"}, 0.35, false, 0.5, ""},
	}
	for _, tc := range tests {
		c, err := parseConfig(append([]string{"--db", "postgres://x@y/z"}, tc.args...), envOf(nil), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		rc := c.db.reloadConfig(time.UTC)
		daily := ""
		if rc.Daily != nil {
			daily = rc.Daily.String()
		}
		if rc.MaxShrink.Fraction() != tc.frac || rc.MaxShrink.Off() != tc.off || rc.MoveMiles == nil || *rc.MoveMiles != tc.miles || daily != tc.daily {
			t.Errorf("%q: max shrink %v, move miles %v, daily %q", tc.args, rc.MaxShrink, rc.MoveMiles, daily)
		}
	}
}

func publishCSV(t *testing.T, pool *pgxpool.Pool, ps []adequacy.Provider) string {
	t.Helper()
	var b bytes.Buffer
	if err := data.WriteRoster(&b, ps); err != nil {
		t.Fatal(err)
	}
	res, err := pg.Load(context.Background(), pool, &b, pg.LoadOptions{Source: "daemon-test.csv"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Version.Label
}

// TestDaemonServesFromPostgres runs geoaccessd --db against a real
// PostgreSQL: it refuses an unmigrated schema, serves the current version,
// reloads on a publish (NOTIFY), answers ReloadRoster for admins only,
// announces the nightly reload, and after a restart serves the database's
// current version again.
func TestDaemonServesFromPostgres(t *testing.T) {
	bin := binary(t)
	env, err := pgtest.NewEnv()
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	db := env.URL(t)
	out, _ := exec.Command(bin, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--db", db).CombinedOutput()
	if !strings.Contains(string(out), "not migrated") {
		t.Fatalf("an unmigrated schema was not refused:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pg.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	sample, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	a := publishCSV(t, pool, sample.Providers)
	tokens := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(tokens, []byte("reader-token-0123456789ab reader dash\nadmin-token-0123456789ab admin ops\n"), 0o600)
	args := []string{"--db", db, "--auth-tokens", tokens, "--reload-at", "02:00", "--reload-backoff-min", "100ms"}
	p := start(t, args...)
	cc, c := p.client(t)
	reader := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer reader-token-0123456789ab")
	admin := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer admin-token-0123456789ab")
	check := &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 40.748817, Longitude: -73.985428}, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}, AsOf: "2026-06-01"}
	if r, err := c.CheckAccess(reader, check); err != nil || r.RosterVersion != a {
		t.Fatalf("CheckAccess: %v %v, want %s", r, err, a)
	}
	if h, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", h, err)
	}
	st, err := c.GetRosterStatus(reader, &pb.GetRosterStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	chicago, _ := time.LoadLocation("America/Chicago")
	if next := st.Status.NextReload.AsTime().In(chicago); next.Hour() != 2 && next.Hour() != 3 || next.Minute() != 0 {
		t.Errorf("next reload %v", next)
	}

	// A publish is heard and served.
	b := publishCSV(t, pool, sample.Providers[1:])
	for rec := p.await(t, "roster reloaded"); rec["roster_version"] != b; rec = p.await(t, "roster reloaded") {
	}
	if r, err := c.CheckAccess(reader, check); err != nil || r.RosterVersion != b {
		t.Fatalf("after the publish: %v %v, want %s", r.GetRosterVersion(), err, b)
	}
	if _, err := c.ReloadRoster(reader, &pb.ReloadRosterRequest{Version: a}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("reader's reload: %v", err)
	}
	if r, err := c.ReloadRoster(admin, &pb.ReloadRosterRequest{Version: a}); err != nil || r.Status.Version != a || r.Diff.Total.Added != 1 {
		t.Fatalf("rollback: %v %v", r, err)
	}
	if d, err := c.GetRosterDiff(admin, &pb.GetRosterDiffRequest{}); err != nil || d.Summary.NewVersion != a || len(d.Added) != 1 {
		t.Fatalf("diff: %v %v", d, err)
	}
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{`geoaccess_roster_reloads_total{outcome="loaded",trigger="notify"} 1`,
		`geoaccess_roster_reloads_total{outcome="loaded",trigger="admin"} 1`, `geoaccess_roster_pinned 1`, `geoaccess_roster_listener_up 1`} {
		if !strings.Contains(string(body), w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.logText())
	}

	// A restart serves the database's current version (the rollback
	// above pinned only that process).
	p2 := start(t, args...)
	_, c2 := p2.client(t)
	if r, err := c2.CheckAccess(reader, check); err != nil || r.RosterVersion != b {
		t.Fatalf("after the restart: %v %v, want %s", r.GetRosterVersion(), err, b)
	}
	log := p.logText() + p2.logText()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log contains %q", s)
		}
	}
	if strings.Contains(log, db) {
		t.Error("the log contains the connection string")
	}
}
