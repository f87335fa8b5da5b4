package pgsource_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/pgtest"
	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/serving"
	"github.com/geoaccess/geoaccess/internal/serving/pgsource"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// migratedPool is a pool on a fresh, migrated schema of the shared server.
func migratedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t)
	if _, err := pg.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// publish loads providers as a new published version past the loader's
// default guard and returns its id.
func publish(t testing.TB, pool *pgxpool.Pool, ps []adequacy.Provider) int64 {
	t.Helper()
	return publishWith(t, pool, ps, adequacy.ShrinkLimit{})
}

// publishWith is publish with the loader's guard at maxShrink.
func publishWith(t testing.TB, pool *pgxpool.Pool, ps []adequacy.Provider, maxShrink adequacy.ShrinkLimit) int64 {
	t.Helper()
	var b bytes.Buffer
	if err := data.WriteRoster(&b, ps); err != nil {
		t.Fatal(err)
	}
	res, err := pg.Load(context.Background(), pool, &b, pg.LoadOptions{Source: "test.csv", MaxShrink: maxShrink})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res.Version.ID
}

// rosters are two versions of the sample roster. B differs from A by
// exactly: one PT row added (newNPI, at the member location), one DC and
// one OT row removed, one ST row moved about 3.5 miles, one PT row
// renamed.
type rosters struct {
	a, b   []adequacy.Provider
	newNPI string
	member *pb.LatLng // where newNPI is the nearest PT provider
}

var twoRosters = sync.OnceValue(func() *rosters {
	r, err := data.SampleRoster()
	if err != nil {
		panic(err)
	}
	a := r.Providers
	// Rows whose NPI has no other row in the discipline: diff identity is
	// unambiguous for them.
	groups := map[string]int{}
	for _, p := range a {
		groups[p.NPI+p.Discipline.String()]++
	}
	pick := func(d adequacy.Discipline, skip int) int {
		for i, p := range a {
			if p.Discipline == d && p.Participating && !p.TelehealthOnly && groups[p.NPI+d.String()] == 1 {
				if skip--; skip < 0 {
					return i
				}
			}
		}
		panic("no row to pick")
	}
	anchor, renamed, moved := pick(adequacy.PT, 0), pick(adequacy.PT, 1), pick(adequacy.ST, 0)
	rmDC, rmOT := pick(adequacy.DC, 0), pick(adequacy.OT, 0)
	rs := &rosters{a: a}
	rng := rand.New(rand.NewPCG(4, 2))
	for rs.newNPI == "" || groups[rs.newNPI+"PT"] > 0 {
		rs.newNPI = synth.NPI(rng)
	}
	loc := a[anchor].Location
	rs.member = &pb.LatLng{Latitude: loc.Lat + 0.002, Longitude: loc.Lon}
	for i, p := range a {
		switch i {
		case rmDC, rmOT:
			continue
		case renamed:
			p.Name += " (renamed)"
		case moved:
			p.Location.Lat += 0.05
		}
		rs.b = append(rs.b, p)
	}
	added := a[anchor]
	added.NPI, added.Name = rs.newNPI, "Added In B Physical Therapy"
	added.Location = geo.Point{Lat: rs.member.Latitude, Lon: rs.member.Longitude}
	rs.b = append(rs.b, added)
	return rs
})

// shrunk drops 30% of A's participating PT rows: past the 20% guard.
func (rs *rosters) shrunk() []adequacy.Provider {
	var out []adequacy.Provider
	n := 0
	for _, p := range rs.a {
		if p.Discipline == adequacy.PT && p.Participating {
			if n++; n%10 < 3 {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// reloadServer is a server reloading from a version source.
type reloadServer struct {
	srv    *server.Server
	rl     *serving.Reloader
	addr   string
	events chan serving.RosterStatus // every load attempt (Holder.OnChange)
}

const readerTok, adminTok = "reader-token-0123456789ab", "admin-token-0123456789ab"

func tokens(t testing.TB) *server.Tokens {
	tk, err := server.ParseTokens(strings.NewReader(readerTok + " reader dashboard\n" + adminTok + " admin ops\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func bearer(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// attach wires a reloader from src to srv, as geoaccessd does.
func attach(t testing.TB, srv *server.Server, src serving.VersionSource, cfg serving.ReloadConfig) *serving.Reloader {
	t.Helper()
	rl := serving.NewReloader(srv.Roster(), src, cfg)
	if err := srv.SetReloader(rl); err != nil {
		t.Fatal(err)
	}
	return rl
}

// startReloading serves src with token auth, starts the reloader (Start
// must succeed) and runs it until the test ends.
func startReloading(t *testing.T, src serving.VersionSource, cfg serving.ReloadConfig) *reloadServer {
	t.Helper()
	srv, addr := startServer(t, server.Config{Tokens: tokens(t)})
	rs := &reloadServer{srv: srv, addr: addr, events: make(chan serving.RosterStatus, 1000)}
	srv.Roster().OnChange(func(st serving.RosterStatus) { rs.events <- st })
	rs.rl = attach(t, srv, src, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if err := rs.rl.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	done := make(chan struct{})
	go func() { rs.rl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rs
}

// await returns the first load attempt that satisfies ok. The limit only
// keeps a broken test from hanging; nothing is timed.
func (rs *reloadServer) await(t *testing.T, what string, ok func(serving.RosterStatus) bool) serving.RosterStatus {
	t.Helper()
	limit := time.After(45 * time.Second)
	for {
		select {
		case st := <-rs.events:
			if ok(st) {
				return st
			}
		case <-limit:
			t.Fatalf("no load attempt where %s; status %+v", what, rs.srv.Roster().Status())
		}
	}
}

func loadedVersion(v string) func(serving.RosterStatus) bool {
	return func(st serving.RosterStatus) bool { return st.LastReload.Success && st.Version == v }
}

func failedVersion(v string) func(serving.RosterStatus) bool {
	return func(st serving.RosterStatus) bool { return !st.LastReload.Success && st.LastReload.Version == v }
}

// checkPT asks for the PT decision at the member location.
func checkPT(ctx context.Context, c pb.AdequacyServiceClient, rs *rosters) (*pb.CheckAccessResponse, error) {
	return c.CheckAccess(bearer(ctx, readerTok), &pb.CheckAccessRequest{Location: rs.member, Disciplines: []pb.Discipline{pt}, AsOf: testAsOf, K: 3})
}

// consistent says whether an answer's content matches its roster version:
// newNPI, nearest in B, is never in an answer stamped A.
func consistent(r *pb.CheckAccessResponse, rs *rosters, a, b string) error {
	var nearest []string
	for _, n := range r.Decisions[0].Nearest {
		nearest = append(nearest, n.Npi)
	}
	has := strings.Contains(strings.Join(nearest, " "), rs.newNPI)
	switch {
	case r.RosterVersion == a && has:
		return fmt.Errorf("answer stamped %s lists %s, which only %s has", a, rs.newNPI, b)
	case r.RosterVersion == b && (len(nearest) == 0 || nearest[0] != rs.newNPI):
		return fmt.Errorf("answer stamped %s does not list %s first: %v", b, rs.newNPI, nearest)
	case r.RosterVersion != a && r.RosterVersion != b:
		return fmt.Errorf("answer stamped %q, want %s or %s", r.RosterVersion, a, b)
	}
	return nil
}

func scrape(t *testing.T, srv *server.Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func healthOf(t *testing.T, addr string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	r, err := healthpb.NewHealthClient(dial(t, addr)).Check(ctxFor(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// TestReloadFromPostgres: the server serves the current version; a
// publish is heard by NOTIFY and served; the diff has the right counts;
// the reload metrics count it.
func TestReloadFromPostgres(t *testing.T) {
	pool := migratedPool(t)
	rs := twoRosters()
	a := pg.Label(publish(t, pool, rs.a))
	s := startReloading(t, &pgsource.Source{Pool: pool}, serving.ReloadConfig{})
	c := client(t, s.addr)
	ctx := ctxFor(t)
	r, err := checkPT(ctx, c, rs)
	if err != nil || r.RosterVersion != a {
		t.Fatalf("before the publish: %v %v", r, err)
	}
	if h := healthOf(t, s.addr); h != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health %v", h)
	}
	if _, err := c.GetRosterDiff(bearer(ctx, adminTok), &pb.GetRosterDiffRequest{}); status.Code(err) != codes.NotFound {
		t.Fatalf("diff before any reload: %v, want NotFound", err)
	}

	b := pg.Label(publish(t, pool, rs.b))
	s.await(t, "B is served", loadedVersion(b))
	if r, err = checkPT(ctx, c, rs); err != nil || consistent(r, rs, a, b) != nil || r.RosterVersion != b {
		t.Fatalf("after the publish: %v %v %v", r.GetRosterVersion(), err, consistent(r, rs, a, b))
	}
	st := s.srv.Roster().Status()
	if !strings.Contains(st.LastReload.Loader, "notify") {
		t.Errorf("loaded by %q, want a notification", st.LastReload.Loader)
	}

	d, err := c.GetRosterDiff(bearer(ctx, adminTok), &pb.GetRosterDiffRequest{PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	sum := d.Summary
	if sum.OldVersion != a || sum.NewVersion != b || sum.MoveMiles != serving.DefaultMoveMiles {
		t.Errorf("summary %v", sum)
	}
	want := map[pb.Discipline]string{
		pb.Discipline_DISCIPLINE_DC: "0 1 0 0", pb.Discipline_DISCIPLINE_OT: "0 1 0 0",
		pb.Discipline_DISCIPLINE_PT: "1 0 0 1", pb.Discipline_DISCIPLINE_ST: "0 0 1 0",
	}
	for _, dc := range sum.Counts {
		k := dc.Counts
		if got := fmt.Sprint(k.Added, k.Removed, k.Moved, k.Changed); got != want[dc.Discipline] {
			t.Errorf("%v: added removed moved changed = %s, want %s", dc.Discipline, got, want[dc.Discipline])
		}
	}
	if tot := sum.Total; tot.Added != 1 || tot.Removed != 2 || tot.Moved != 1 || tot.Changed != 1 || tot.Unchanged != int32(len(rs.a)-4) {
		t.Errorf("total %v", tot)
	}
	if len(d.Added) != 1 || d.Added[0].Npi != rs.newNPI || len(d.Removed) != 2 || len(d.Moved) != 1 || d.Moved[0].Miles < 3 ||
		len(d.Changed) != 1 || d.Changed[0].Fields[0] != "name" {
		t.Errorf("rows: %v", d)
	}
	if _, err := c.GetRosterDiff(bearer(ctx, readerTok), &pb.GetRosterDiffRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("reader's diff: %v, want PermissionDenied", err)
	}
	if _, err := c.GetRosterDiff(bearer(ctx, adminTok), &pb.GetRosterDiffRequest{PageSize: 5000}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("page size 5000: %v, want InvalidArgument", err)
	}
	m := scrape(t, s.srv)
	for _, w := range []string{
		`geoaccess_roster_reloads_total{outcome="loaded",trigger="notify"} 1`,
		`geoaccess_roster_reloads_total{outcome="loaded",trigger="start"} 1`,
		`geoaccess_roster_listener_up 1`,
		`geoaccess_roster_reload_consecutive_failures 0`,
		`geoaccess_roster_next_reload_timestamp_seconds 0`,
		`geoaccess_roster_reload_duration_seconds_count 2`,
		`geoaccess_roster_info{source="test.csv",version="` + b + `"} 1`,
	} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if strings.Contains(m, `geoaccess_roster_last_reload_success_timestamp_seconds 0`) {
		t.Error("no last-success time")
	}
}

// TestReloadRosterRPC: admin only; a reload of current that changes
// nothing; a rollback to a named version, which pins the server; the
// shrink guard refusing a publish (old roster kept, status says why) and
// force overriding it.
func TestReloadRosterRPC(t *testing.T) {
	pool := migratedPool(t)
	rs := twoRosters()
	a := pg.Label(publish(t, pool, rs.a))
	b := pg.Label(publish(t, pool, rs.b))
	s := startReloading(t, &pgsource.Source{Pool: pool}, serving.ReloadConfig{})
	c := client(t, s.addr)
	ctx := ctxFor(t)
	if v := s.srv.Roster().Status().Version; v != b {
		t.Fatalf("serving %s, want the current %s", v, b)
	}
	if _, err := c.ReloadRoster(bearer(ctx, readerTok), &pb.ReloadRosterRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("reader: %v, want PermissionDenied", err)
	}
	r, err := c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{Version: "current"})
	if err != nil || r.Result != pb.ReloadResult_RELOAD_RESULT_UNCHANGED || r.Status.Version != b || r.Diff != nil {
		t.Fatalf("reload of current: %v %v", r, err)
	}
	// Rollback on this server: named, pinned.
	r, err = c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{Version: a})
	if err != nil || r.Result != pb.ReloadResult_RELOAD_RESULT_LOADED || r.Status.Version != a || !r.Status.Pinned ||
		r.Diff.OldVersion != b || r.Diff.NewVersion != a || r.Diff.Total.Removed != 1 {
		t.Fatalf("rollback: %v %v", r, err)
	}
	if a, err := checkPT(ctx, c, rs); err != nil || a.RosterVersion != r.Status.Version || consistent(a, rs, r.Status.Version, b) != nil {
		t.Fatalf("after the rollback: %v %v", a, err)
	}
	// Pinned: a notification does not move it.
	s.rl.Notify()
	if r, err = c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{Version: a}); err != nil || r.Result != pb.ReloadResult_RELOAD_RESULT_UNCHANGED || !r.Status.Pinned {
		t.Fatalf("pinned: %v %v", r, err)
	}
	// Bad, unknown versions.
	for v, code := range map[string]codes.Code{"banana": codes.InvalidArgument, "pg:999": codes.NotFound} {
		if _, err := c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{Version: v}); status.Code(err) != code {
			t.Errorf("version %q: %v, want %v", v, err, code)
		}
	}
	// Back to current: unpinned.
	if r, err = c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{}); err != nil || r.Status.Version != b || r.Status.Pinned {
		t.Fatalf("back to current: %v %v", r, err)
	}

	// A publish the shrink guard refuses (the loader allowed it).
	shr := pg.Label(publishWith(t, pool, rs.shrunk(), adequacy.MaxShrink(0.5)))
	st := s.await(t, "the shrunk version is refused", failedVersion(shr))
	if st.Version != b || !strings.Contains(st.LastReload.Err, "shrinks too much") || !strings.Contains(st.LastReload.Err, "PT participating") {
		t.Fatalf("after the refusal: %+v", st)
	}
	if h := healthOf(t, s.addr); h != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health %v after a refusal", h)
	}
	gs, err := c.GetRosterStatus(bearer(ctx, readerTok), &pb.GetRosterStatusRequest{})
	if err != nil || gs.Status.Version != b || gs.Status.LastReload.Success || gs.Status.LastReload.Version != shr || gs.Status.LastReload.Error == "" {
		t.Fatalf("GetRosterStatus after the refusal: %v %v", gs, err)
	}
	if _, err := c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{}); status.Code(err) != codes.FailedPrecondition ||
		!strings.Contains(err.Error(), "still serving "+b) {
		t.Fatalf("admin reload without force: %v", err)
	}
	r, err = c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{Force: true})
	if err != nil || r.Status.Version != shr || r.Result != pb.ReloadResult_RELOAD_RESULT_LOADED || r.Diff.Total.Removed == 0 {
		t.Fatalf("forced: %v %v", r, err)
	}
	m := scrape(t, s.srv)
	for _, w := range []string{`geoaccess_roster_reloads_total{outcome="refused",trigger="notify"} 1`,
		`geoaccess_roster_reloads_total{outcome="loaded",trigger="admin"} 3`, `geoaccess_roster_pinned 0`} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

// TestSwapUnderLoad: 20 reloads alternating between two versions while
// clients call CheckAccess continuously over gRPC: no call fails, and
// every answer is consistent with the version it is stamped with.
func TestSwapUnderLoad(t *testing.T) {
	pool := migratedPool(t)
	rs := twoRosters()
	a := pg.Label(publish(t, pool, rs.a))
	b := pg.Label(publish(t, pool, rs.b))
	s := startReloading(t, &pgsource.Source{Pool: pool}, serving.ReloadConfig{})
	c := client(t, s.addr)
	ctx := ctxFor(t)
	var stop atomic.Bool
	var calls, failures atomic.Int64
	seen := [2]atomic.Int64{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				r, err := checkPT(ctx, c, rs)
				calls.Add(1)
				if err == nil {
					err = consistent(r, rs, a, b)
				}
				if err != nil {
					failures.Add(1)
					t.Errorf("call %d: %v", calls.Load(), err)
					return
				}
				if r.RosterVersion == a {
					seen[0].Add(1)
				} else {
					seen[1].Add(1)
				}
			}
		})
	}
	var took []time.Duration
	for i := range 20 {
		v := []string{a, b}[i%2]
		start := time.Now()
		r, err := c.ReloadRoster(bearer(ctx, adminTok), &pb.ReloadRosterRequest{Version: v})
		if err != nil || r.Status.Version != v || r.Result != pb.ReloadResult_RELOAD_RESULT_LOADED {
			t.Fatalf("reload %d to %s: %v %v", i, v, r, err)
		}
		took = append(took, time.Since(start))
		// Let some calls land on each version.
		for n := calls.Load(); calls.Load() < n+20 && !t.Failed(); {
			time.Sleep(time.Millisecond)
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("20 reloads (%d providers each) under load: %d CheckAccess calls, %d failed; answers on %s: %d, on %s: %d; reload times %v",
		len(rs.a), calls.Load(), failures.Load(), a, seen[0].Load(), b, seen[1].Load(), took)
	if failures.Load() != 0 || seen[0].Load() == 0 || seen[1].Load() == 0 {
		t.Fatalf("%d failures; answers per version %d, %d", failures.Load(), seen[0].Load(), seen[1].Load())
	}
}

// injectInvalid publishes a copy of version from whose first row has
// latitude 95, with SQL, bypassing the loader's validation (and the
// table's CHECK, dropped for this test's schema), and makes it current
// with a NOTIFY, as a broken loader or a hand edit might.
func injectInvalid(t *testing.T, pool *pgxpool.Pool, from int64) int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var check string
	if err := tx.QueryRow(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = 'providers'::regclass AND contype = 'c'
		AND pg_get_constraintdef(oid) LIKE '%lat%'`).Scan(&check); err != nil {
		t.Fatal(err)
	}
	var id int64
	stmts := []string{
		`ALTER TABLE providers DROP CONSTRAINT ` + check,
		`INSERT INTO roster_versions (status, finished_at, published_at, source, rows_read, providers)
			SELECT 'published', now(), now(), 'injected.sql', rows_read, providers FROM roster_versions WHERE id = $1 RETURNING id`,
	}
	if _, err := tx.Exec(ctx, stmts[0]); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, stmts[1], from).Scan(&id); err != nil {
		t.Fatal(err)
	}
	tbl := fmt.Sprintf("providers_v%d", id)
	for _, q := range []string{
		fmt.Sprintf(`CREATE TABLE %s (LIKE providers INCLUDING DEFAULTS INCLUDING CONSTRAINTS, CHECK (version_id = %d))`, tbl, id),
		fmt.Sprintf(`INSERT INTO %s SELECT %d, row_no, line, npi, discipline, name, CASE WHEN row_no = 0 THEN 95 ELSE lat END, lon,
			address1, address2, city, state, zip, county_fips, network, participating, telehealth_only, accepting_new_patients,
			effective_date, termination_date FROM providers_v%d`, tbl, id, from),
		fmt.Sprintf(`ALTER TABLE %s ADD PRIMARY KEY (version_id, row_no)`, tbl),
		fmt.Sprintf(`ALTER TABLE providers ATTACH PARTITION %s FOR VALUES IN (%d)`, tbl, id),
		fmt.Sprintf(`INSERT INTO roster_version_counts SELECT %d, discipline, providers, participating, telehealth_only
			FROM roster_version_counts WHERE version_id = %d`, id, from),
		fmt.Sprintf(`UPDATE roster_current SET version_id = %d, since = now()`, id),
		fmt.Sprintf(`SELECT pg_notify('%s', '%d')`, pg.Channel, id),
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestInvalidVersionAndRestart: a published version with an invalid row
// fails to reload cleanly (old roster serving, health SERVING, the error
// in the status, a log line without the row's values); a restarted server
// comes back on the last good version, not the broken current one.
func TestInvalidVersionAndRestart(t *testing.T) {
	pool := migratedPool(t)
	rs := twoRosters()
	aID := publish(t, pool, rs.a)
	a := pg.Label(aID)
	var logs syncBuffer
	log := jsonLogger(&logs)
	srv, addr := startServer(t, server.Config{Tokens: tokens(t), Logger: log})
	events := make(chan serving.RosterStatus, 100)
	srv.Roster().OnChange(func(st serving.RosterStatus) { events <- st })
	s := &reloadServer{srv: srv, addr: addr, events: events}
	s.rl = attach(t, srv, &pgsource.Source{Pool: pool}, serving.ReloadConfig{Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.rl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.rl.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	bad := pg.Label(injectInvalid(t, pool, aID))
	st := s.await(t, "the invalid version fails", failedVersion(bad))
	if st.Version != a || !strings.Contains(st.LastReload.Err, "latitude") {
		t.Fatalf("after the invalid version: %+v", st)
	}
	if h := healthOf(t, addr); h != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health %v", h)
	}
	if r, err := checkPT(ctxFor(t), client(t, addr), rs); err != nil || r.RosterVersion != a {
		t.Fatalf("after the invalid version: %v %v", r, err)
	}
	if m := scrape(t, srv); !strings.Contains(m, `geoaccess_roster_reloads_total{outcome="refused",trigger="notify"} 1`) {
		t.Error("metrics do not count the refusal")
	}
	if l := logs.String(); strings.Contains(l, "got 95") || strings.Contains(l, rs.a[0].NPI) || !strings.Contains(l, `"version_tried":"`+bad+`"`) {
		t.Errorf("log:\n%s", logs.String())
	}

	// A restart: a new server on the same database.
	s2 := startReloading(t, &pgsource.Source{Pool: pool}, serving.ReloadConfig{})
	st = s2.srv.Roster().Status()
	if st.Version != a || st.LastReload.Success || st.LastReload.Version != bad {
		t.Fatalf("restarted: %+v", st)
	}
	if r, err := checkPT(ctxFor(t), client(t, s2.addr), rs); err != nil || r.RosterVersion != a {
		t.Fatalf("restarted: %v %v", r, err)
	}
}

// failingSource stops the database server in the middle of a reload:
// after the version check, before the roster is read.
type failingSource struct {
	pg         *pgsource.Source // not embedded: not a Watcher, so retries alone must recover
	mu         sync.Mutex
	beforeRead func()
}

func (f *failingSource) Read(ctx context.Context, v serving.VersionInfo) (*adequacy.Roster, error) {
	f.mu.Lock()
	hook := f.beforeRead
	f.beforeRead = nil
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return f.pg.Read(ctx, v)
}

func (f *failingSource) Current(ctx context.Context) (serving.VersionInfo, error) {
	return f.pg.Current(ctx)
}
func (f *failingSource) Lookup(ctx context.Context, v string) (serving.VersionInfo, error) {
	return f.pg.Lookup(ctx, v)
}
func (f *failingSource) Published(ctx context.Context, n int) ([]serving.VersionInfo, error) {
	return f.pg.Published(ctx, n)
}
func (f *failingSource) Name() string { return "postgres" }

// TestDatabaseDownDuringReload: the database server stops dead during a
// reload; the old roster keeps serving, health stays SERVING, status and
// metrics show the failure; retries with backoff fail while it is down and
// succeed once it is back; a restarted server comes back on the version
// current in the database.
func TestDatabaseDownDuringReload(t *testing.T) {
	cl := pgtest.NewCluster(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, cl.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pg.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	rs := twoRosters()
	a := pg.Label(publish(t, pool, rs.a))
	src := &failingSource{pg: &pgsource.Source{Pool: pool}}
	s := startReloading(t, src, serving.ReloadConfig{Backoff: serving.Backoff{Min: 50 * time.Millisecond, Max: 400 * time.Millisecond}})
	b := pg.Label(publish(t, pool, rs.b))
	src.mu.Lock()
	src.beforeRead = func() {
		if err := cl.Stop("immediate"); err != nil {
			t.Error(err)
		}
	}
	src.mu.Unlock()
	s.rl.Notify()
	st := s.await(t, "the reload fails", failedVersion(b))
	if st.Version != a || st.LastReload.Err == "" || !strings.Contains(st.LastReload.Loader, "notify") {
		t.Fatalf("after the failure: %+v", st)
	}
	if h := healthOf(t, s.addr); h != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health %v with the database down", h)
	}
	c := client(t, s.addr)
	if r, err := checkPT(ctxFor(t), c, rs); err != nil || r.RosterVersion != a {
		t.Fatalf("with the database down: %v %v", r, err)
	}
	// Retries fail while it is down.
	s.await(t, "a retry fails", func(st serving.RosterStatus) bool {
		return !st.LastReload.Success && strings.Contains(st.LastReload.Loader, "retry")
	})
	m := scrape(t, s.srv)
	for _, w := range []string{`geoaccess_roster_reloads_total{outcome="failed",trigger="notify"} 1`, `geoaccess_roster_loads_total{outcome="failure"}`} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if strings.Contains(m, "geoaccess_roster_reload_consecutive_failures 0") {
		t.Error("no consecutive failures while the database is down")
	}
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	st = s.await(t, "a retry loads B", loadedVersion(b))
	if !strings.Contains(st.LastReload.Loader, "retry") {
		t.Errorf("loaded by %q, want a retry", st.LastReload.Loader)
	}
	if r, err := checkPT(ctxFor(t), c, rs); err != nil || r.RosterVersion != b {
		t.Fatalf("after recovery: %v %v", r, err)
	}
	if m := scrape(t, s.srv); !strings.Contains(m, "geoaccess_roster_reload_consecutive_failures 0") {
		t.Error("the failure count was not reset")
	}
	s2 := startReloading(t, &pgsource.Source{Pool: pool}, serving.ReloadConfig{})
	if v := s2.srv.Roster().Status().Version; v != b {
		t.Fatalf("restarted on %s, want %s", v, b)
	}
}
