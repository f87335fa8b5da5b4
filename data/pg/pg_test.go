package pg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// migrated is a pool on a fresh, migrated schema.
func migrated(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t)
	if _, err := Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

var counties = sync.OnceValue(func() *geo.CountyMap {
	g, err := data.EmbeddedGeography()
	if err != nil {
		panic(err)
	}
	return g.Counties
})

func sampleCSV(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../assets/sample/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleRoster(t testing.TB) *adequacy.Roster {
	t.Helper()
	r, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// load loads CSV bytes with the default guard, failing the test on error.
func load(t testing.TB, pool *pgxpool.Pool, csv []byte, opts LoadOptions) *LoadResult {
	t.Helper()
	if opts.Source == "" {
		opts.Source = "test.csv"
	}
	opts.Counties = counties()
	res, err := Load(context.Background(), pool, bytes.NewReader(csv), opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return res
}

func currentID(t testing.TB, pool *pgxpool.Pool) int64 {
	t.Helper()
	v, err := CurrentVersion(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func TestMigrationsEmbedded(t *testing.T) {
	ms := Migrations()
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "rosters" || len(ms[0].Checksum) != 64 {
		t.Fatalf("migrations = %+v", ms)
	}
}

// Migrating twice is a no-op the second time; migrators racing each other
// serialize on the advisory lock and exactly one applies each migration.
func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if err := CheckSchema(ctx, pool); !errors.Is(err, ErrSchemaNotMigrated) {
		t.Errorf("CheckSchema before migrating = %v, want ErrSchemaNotMigrated", err)
	}
	var wg sync.WaitGroup
	applied := make([]int, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			ms, err := Migrate(ctx, pool)
			applied[i], errs[i] = len(ms), err
		})
	}
	wg.Wait()
	total := 0
	for i := range 4 {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	if total != len(Migrations()) {
		t.Errorf("racing migrators applied %d migrations in all, want %d", total, len(Migrations()))
	}
	ms, err := Migrate(ctx, pool)
	if err != nil || len(ms) != 0 {
		t.Errorf("second migrate applied %d, err %v", len(ms), err)
	}
	if err := CheckSchema(ctx, pool); err != nil {
		t.Errorf("CheckSchema = %v", err)
	}
	st, err := MigrationStatus(ctx, pool)
	if err != nil || len(st) != len(Migrations()) || st[0].Checksum != Migrations()[0].Checksum {
		t.Errorf("status = %+v, %v", st, err)
	}

	// An edited migration and a newer binary's migration are refused.
	if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'future', 'x')`); err != nil {
		t.Fatal(err)
	}
	if err := CheckSchema(ctx, pool); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("CheckSchema with a future migration = %v", err)
	}
	if _, err := Migrate(ctx, pool); err != nil {
		t.Errorf("Migrate with a future migration = %v, want nil (a newer schema is a superset)", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(ctx, pool); !errors.Is(err, ErrMigrationChanged) {
		t.Errorf("Migrate after an edit = %v, want ErrMigrationChanged", err)
	}
}

// The sample roster goes in and comes back exactly as data.SampleRoster
// reads it, in the same order.
func TestLoadAndReadSample(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	if _, _, err := Current(ctx, pool); !errors.Is(err, ErrNoPublishedRoster) {
		t.Errorf("Current on an empty database = %v", err)
	}
	res := load(t, pool, sampleCSV(t), LoadOptions{Source: "roster.csv"})
	v := res.Version
	want := sampleRoster(t)
	if v.Status != StatusPublished || !v.Current || v.Providers != len(want.Providers) || v.BadRows != 0 ||
		v.RowsRead != len(want.Providers) || len(v.Checksum) != 64 || v.Source != "roster.csv" || v.PublishedAt.IsZero() {
		t.Errorf("version = %+v", v)
	}
	if res.Previous != nil || res.Report.Accepted != len(want.Providers) {
		t.Errorf("previous %v, report %+v", res.Previous, res.Report)
	}
	got, cv, err := Current(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "pg:"+itoa(v.ID) || got.Source != "roster.csv" || got.LoadedAt.IsZero() || cv.ID != v.ID {
		t.Errorf("roster version %q source %q loaded %v", got.Version, got.Source, got.LoadedAt)
	}
	if len(got.Providers) != len(want.Providers) {
		t.Fatalf("read %d providers, want %d", len(got.Providers), len(want.Providers))
	}
	for i := range want.Providers {
		if !reflect.DeepEqual(got.Providers[i], want.Providers[i]) {
			t.Fatalf("provider %d:\n got %+v\nwant %+v", i, got.Providers[i], want.Providers[i])
		}
	}
	// The recorded counts are the network's.
	n, err := adequacy.NewNetwork(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := v.Stats(); st != n.Stats() {
		t.Errorf("recorded stats %+v, network %+v", st, n.Stats())
	}
}

func itoa(id int64) string { return Label(id)[3:] }

// A text-only protocol (pgbouncer's simple query mode) reads the same.
func TestReadRosterTextFormat(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	binPool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer binPool.Close()
	if _, err := Migrate(ctx, binPool); err != nil {
		t.Fatal(err)
	}
	id := load(t, binPool, sampleCSV(t), LoadOptions{}).Version.ID
	// A server default date style other than ISO, too.
	textPool, err := pgxpool.New(ctx, pgtest.WithParam(pgtest.WithParam(u, "default_query_exec_mode", "simple_protocol"), "datestyle", "SQL, DMY"))
	if err != nil {
		t.Fatal(err)
	}
	defer textPool.Close()
	a, err := ReadRoster(ctx, binPool, id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadRoster(ctx, textPool, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Providers, b.Providers) {
		t.Error("text and binary formats read different rosters")
	}
}

// Every bad row is reported with its line, column and reason; within the
// limit the good rows publish, over it nothing does.
func TestLoadBadRows(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	bad, err := os.ReadFile("../testdata/roster_bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`line 3, column npi: "1234567890": invalid NPI: check digit is 0, want 3`,
		`line 4, column discipline: "XX": must be DC, PT, OT or ST`,
		`line 5, column lat: "95.5": latitude must be a finite number between -90 and 90 (got 95.5)`,
		`line 6, column lon: "west": is not a number`,
		`line 7, column lat: "NaN": latitude must be a finite number between -90 and 90 (got NaN)`,
		`line 8, column participating: "MAYBE": must be Y or N`,
		`line 9, column termination_date: "2026-01-01": must be after effective_date 2026-05-01`,
		`line 10, column telehealth_only: "Y": contradicts in_person`,
		`line 11, column npi: "1234567893": duplicate of line 2: same NPI, discipline and location`,
		`line 12, column county_fips: "99999": is not a known county FIPS code`,
		`line 13: malformed CSV at column 19: bare " in non-quoted-field`,
		`line 14: row has 4 fields, the header has 13`,
	}
	errStrings := func(es []data.RowError) []string {
		var s []string
		for _, e := range es {
			s = append(s, e.Error())
		}
		return s
	}

	// No limit: the two good rows publish; the twelve bad are counted.
	var streamed []data.RowError
	res := load(t, pool, bad, LoadOptions{MaxBadRows: -1, OnBadRow: func(es []data.RowError) { streamed = append(streamed, es...) }})
	if got := errStrings(res.Report.Errors); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !reflect.DeepEqual(streamed, res.Report.Errors) {
		t.Errorf("OnBadRow heard %d errors, the report has %d", len(streamed), len(res.Report.Errors))
	}
	good := res.Version
	if good.Status != StatusPublished || good.Providers != 2 || good.BadRows != 12 || good.RowsRead != 14 {
		t.Errorf("version = %+v", good)
	}
	r, err := ReadRoster(ctx, pool, good.ID)
	if err != nil || len(r.Providers) != 2 || r.Providers[1].Name != "Good Occupational Therapy" || r.Providers[1].CountyFIPS != "36061" {
		t.Fatalf("read back %+v, %v", r, err)
	}

	// Over the limit: nothing publishes, every bad row is still reported,
	// the version is failed with the reason, the previous stays current.
	res, err = Load(ctx, pool, bytes.NewReader(bad), LoadOptions{Source: "roster_bad.csv", MaxBadRows: 3, MaxShrink: adequacy.NoShrinkLimit, Counties: counties()})
	var br *data.BadRows
	if !errors.As(err, &br) || !errors.Is(err, data.ErrTooManyBadRows) {
		t.Fatalf("err = %v, want *data.BadRows", err)
	}
	if got := errStrings(res.Report.Errors); !reflect.DeepEqual(got, want) || br.Bad != 12 || br.Limit != 3 {
		t.Errorf("over the limit, errors:\n%s", strings.Join(got, "\n"))
	}
	v := res.Version
	if v == nil || v.Status != StatusFailed || v.BadRows != 12 || !strings.Contains(v.Error, "12 of 14 rows are bad (limit 3)") || !v.PublishedAt.IsZero() {
		t.Errorf("failed version = %+v", v)
	}
	if currentID(t, pool) != good.ID {
		t.Errorf("current = %d, want %d", currentID(t, pool), good.ID)
	}
	if _, err := ReadRoster(ctx, pool, v.ID); !errors.Is(err, ErrNotPublished) {
		t.Errorf("ReadRoster(failed) = %v", err)
	}
	assertNoPartition(t, pool, v.ID)
}

func assertNoPartition(t *testing.T, pool *pgxpool.Pool, id int64) {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace`,
		"providers_v"+itoa(id)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("version %d still has its providers table", id)
	}
}

// The same NPI, discipline and location twice is a bad row; the same NPI
// at another location or in another discipline is not.
func TestDuplicateNPIAtOneLocation(t *testing.T) {
	pool := migrated(t)
	csv := "npi,discipline,lat,lon,county_fips\n" +
		"1234567893,PT,40.7505,-73.9934,36061\n" +
		"1234567893,PT,40.7505,-73.9934,36061\n" + // duplicate
		"1234567893,PT,40.75050000001,-73.9934,36061\n" + // the same to a micro-degree
		"1234567893,PT,40.7600,-73.9934,36061\n" + // another site
		"1234567893,OT,40.7505,-73.9934,36061\n" // another discipline
	res, err := Load(context.Background(), pool, strings.NewReader(csv), LoadOptions{MaxBadRows: 0})
	if !errors.Is(err, data.ErrTooManyBadRows) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, e := range res.Report.Errors {
		got = append(got, e.Error())
	}
	want := []string{
		`line 3, column npi: "1234567893": duplicate of line 2: same NPI, discipline and location`,
		`line 4, column npi: "1234567893": duplicate of line 2: same NPI, discipline and location`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s", strings.Join(got, "\n"))
	}
	res = load(t, pool, []byte(csv), LoadOptions{MaxBadRows: 2})
	if res.Version.Providers != 3 || res.Version.BadRows != 2 {
		t.Errorf("version = %+v", res.Version)
	}
}

// shrunk is the sample CSV without every k-th participating row of disc.
func shrunk(t testing.TB, disc adequacy.Discipline, keepNumer, keepDenom int) []byte {
	t.Helper()
	r := sampleRoster(t)
	var ps []adequacy.Provider
	n := 0
	for _, p := range r.Providers {
		if p.Discipline == disc && p.Participating {
			n++
			if n%keepDenom >= keepNumer {
				continue
			}
		}
		ps = append(ps, p)
	}
	var b bytes.Buffer
	if err := data.WriteRoster(&b, ps); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A roster that cuts a discipline's participating providers by more than
// the limit is refused and the current version stays; forced, it
// publishes and says so.
func TestShrinkGuard(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	first := load(t, pool, sampleCSV(t), LoadOptions{}).Version
	ptBefore := first.Stats().Participating[adequacy.PT]

	// 7 of every 10 PT kept: −30%.
	cut := shrunk(t, adequacy.PT, 7, 10)
	res, err := Load(ctx, pool, bytes.NewReader(cut), LoadOptions{Source: "cut.csv", MaxShrink: adequacy.MaxShrink(0.2)})
	var se *adequacy.ShrinkError
	if !errors.As(err, &se) || !errors.Is(err, ErrShrink) {
		t.Fatalf("err = %v, want *adequacy.ShrinkError", err)
	}
	if len(se.Shrinks) != 1 || se.Shrinks[0].Discipline != adequacy.PT || se.Shrinks[0].Old != ptBefore {
		t.Errorf("shrinks = %+v", se.Shrinks)
	}
	refused := res.Version
	if refused.Status != StatusFailed || !strings.Contains(refused.Error, "roster shrinks too much: PT participating") ||
		refused.Stats().Participating[adequacy.PT] != se.Shrinks[0].New {
		t.Errorf("refused version = %+v", refused)
	}
	if currentID(t, pool) != first.ID {
		t.Error("the refused roster became current")
	}
	assertNoPartition(t, pool, refused.ID)

	// Within the limit (−10%) it publishes.
	res = load(t, pool, shrunk(t, adequacy.PT, 9, 10), LoadOptions{MaxShrink: adequacy.MaxShrink(0.2)})
	if res.Version.Forced || res.Previous.ID != first.ID || res.Shrinks[adequacy.PT].Fraction() < 0.09 {
		t.Errorf("−10%%: %+v shrinks %+v", res.Version, res.Shrinks)
	}

	// Forced, the −30% roster publishes.
	res = load(t, pool, cut, LoadOptions{MaxShrink: adequacy.MaxShrink(0.2), Force: true})
	if !res.Version.Forced || currentID(t, pool) != res.Version.ID {
		t.Errorf("forced: %+v", res.Version)
	}
}

// A roster with no valid rows and a file without the required columns
// fail and publish nothing.
func TestLoadRefusesEmptyAndHeaderless(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	first := load(t, pool, sampleCSV(t), LoadOptions{}).Version
	tests := []struct {
		name, csv string
		want      error
		wantText  string
	}{
		{"header only", "npi,discipline,lat,lon\n", ErrEmptyRoster, "roster has no participating providers: it has no providers at all"},
		{"none participating", "npi,discipline,lat,lon,participating\n1234567893,PT,40.75,-73.99,N\n", data.ErrEmptyRoster, "none of its 1 providers participates"},
		{"all telehealth-only", "npi,discipline,lat,lon,telehealth_only\n1234567893,PT,40.75,-73.99,Y\n", adequacy.ErrEmptyRoster, "all telehealth-only"},
		{"no lon column", "npi,discipline,lat\n1234567893,PT,40\n", data.ErrMissingColumn, "missing required column: lon"},
		{"empty file", "", nil, "the file is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Load(ctx, pool, strings.NewReader(tc.csv), LoadOptions{Force: true})
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("err = %v, want %v %q", err, tc.want, tc.wantText)
			}
			if res.Version == nil || res.Version.Status != StatusFailed || res.Version.Error == "" {
				t.Errorf("version = %+v", res.Version)
			}
			if currentID(t, pool) != first.ID {
				t.Error("current changed")
			}
		})
	}
}

// The reader path never hands out a roster with no participating
// in-person provider to serve, should the database hold one (published
// by an earlier geoaccess that only refused rosters without rows).
func TestReadRefusesEmptyVersion(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	v := load(t, pool, sampleCSV(t), LoadOptions{}).Version
	if _, err := pool.Exec(ctx, `UPDATE providers SET participating = false WHERE version_id = $1`, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRoster(ctx, pool, v.ID); !errors.Is(err, ErrEmptyRoster) || !strings.Contains(err.Error(), "none of its") ||
		!errors.Is(err, adequacy.ErrVersionNotServable) || !adequacy.VersionFinal(err) {
		t.Errorf("ReadRoster = %v, want ErrEmptyRoster, not servable, final", err)
	}
	if _, _, err := Current(ctx, pool); !errors.Is(err, ErrEmptyRoster) {
		t.Errorf("Current = %v, want ErrEmptyRoster", err)
	}
}

// Retention retires all but the current and the newest others; a
// retired version keeps its record and loses its rows; the current
// version is never retired, even after a rollback made an old one current.
func TestRetentionAndRollback(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	csv := sampleCSV(t)
	var ids []int64
	for range 4 {
		ids = append(ids, load(t, pool, csv, LoadOptions{}).Version.ID)
	}
	if _, err := Retire(ctx, pool, 0); err == nil {
		t.Error("Retire(keep 0) succeeded")
	}
	retired, err := Retire(ctx, pool, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(retired, []int64{ids[1], ids[0]}) {
		t.Errorf("retired %v, want %v", retired, []int64{ids[1], ids[0]})
	}
	v, err := GetVersion(ctx, pool, ids[0])
	if err != nil || v.Status != StatusRetired || v.RetiredAt.IsZero() || v.PublishedAt.IsZero() || len(v.Counts) != 4 {
		t.Errorf("retired version = %+v, %v", v, err)
	}
	if _, err := ReadRoster(ctx, pool, ids[0]); !errors.Is(err, ErrRetired) {
		t.Errorf("ReadRoster(retired) = %v", err)
	}
	assertNoPartition(t, pool, ids[0])
	if _, err := SetCurrent(ctx, pool, ids[0], PublishOptions{}); !errors.Is(err, ErrRetired) {
		t.Errorf("SetCurrent(retired) = %v", err)
	}
	if _, err := SetCurrent(ctx, pool, 999, PublishOptions{}); !errors.Is(err, ErrNoSuchVersion) {
		t.Errorf("SetCurrent(999) = %v", err)
	}

	// Roll back to the third; keeping one keeps only it.
	if _, err := SetCurrent(ctx, pool, ids[2], PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if currentID(t, pool) != ids[2] {
		t.Fatal("rollback did not move current")
	}
	retired, err = Retire(ctx, pool, 1)
	if err != nil || !reflect.DeepEqual(retired, []int64{ids[3]}) {
		t.Errorf("retired %v, %v; want [%d]", retired, err, ids[3])
	}
	if _, err := ReadRoster(ctx, pool, ids[2]); err != nil {
		t.Errorf("current after retention: %v", err)
	}
	vs, err := List(ctx, pool, ListOptions{})
	if err != nil || len(vs) != 4 {
		t.Fatalf("list = %d versions, %v", len(vs), err)
	}
	var statuses []string
	for _, v := range vs {
		statuses = append(statuses, string(v.Status))
	}
	if got := strings.Join(statuses, ","); got != "retired,published,retired,retired" || !vs[1].Current {
		t.Errorf("statuses newest first = %s", got)
	}
}

// A publish notifies listeners with the new version's id; a rollback
// too; and a listener that loses its connection reconnects, catches up
// with the current version, and hears the next publish.
func TestListenNotify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	// The listener's pool names itself so the test can cut its connection.
	app := "pgtest_listener_" + itoa(time.Now().UnixNano())
	lpool, err := pgxpool.New(ctx, pgtest.WithParam(u, "application_name", app))
	if err != nil {
		t.Fatal(err)
	}
	defer lpool.Close()

	heard := make(chan int64, 16)
	connected := make(chan struct{}, 16)
	errs := make(chan error, 16)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Listen(lctx, lpool, func(id int64) { heard <- id }, ListenOptions{
			OnConnect:  func() { connected <- struct{}{} },
			OnError:    func(err error) { errs <- err },
			MinBackoff: 10 * time.Millisecond,
		})
	}()
	wait := func(what string, want int64) {
		t.Helper()
		for {
			select {
			case id := <-heard:
				if id == want {
					return
				}
			case <-ctx.Done():
				t.Fatalf("%s: never heard version %d", what, want)
			}
		}
	}
	<-connected
	csv := sampleCSV(t)
	v1 := load(t, pool, csv, LoadOptions{}).Version.ID
	wait("publish", v1)
	v2 := load(t, pool, csv, LoadOptions{}).Version.ID
	wait("second publish", v2)
	if _, err := SetCurrent(ctx, pool, v1, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("rollback", v1)

	// Cut the listener's connection: it reconnects and catches up.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminated %d listener sessions, %v", n, err)
	}
	select {
	case err := <-errs:
		t.Logf("listener reported: %v", err)
	case <-ctx.Done():
		t.Fatal("the listener never reported losing its connection")
	}
	<-connected
	wait("catch-up after reconnecting", v1)
	v3 := load(t, pool, csv, LoadOptions{}).Version.ID
	wait("publish after reconnecting", v3)

	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Listen returned %v, want context.Canceled", err)
	}
}

// RecoverAbandoned leaves a live load alone: it holds its version's lock.
func TestRecoverAbandonedSkipsLiveLoad(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	reached := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	done := make(chan *LoadResult, 1)
	go func() {
		res, err := Load(ctx, pool, bytes.NewReader(sampleCSV(t)), LoadOptions{afterRow: func(n int) {
			if n == 100 {
				once.Do(func() { close(reached); <-release })
			}
		}})
		if err != nil {
			t.Errorf("load: %v", err)
		}
		done <- res
	}()
	<-reached
	ids, err := RecoverAbandoned(ctx, pool)
	if err != nil || len(ids) != 0 {
		t.Errorf("RecoverAbandoned during a live load = %v, %v", ids, err)
	}
	vs, err := List(ctx, pool, ListOptions{})
	if err != nil || len(vs) != 1 || vs[0].Status != StatusLoading {
		t.Errorf("during the load: %+v, %v", vs, err)
	}
	close(release)
	if res := <-done; res.Version == nil || res.Version.Status != StatusPublished {
		t.Errorf("load result %+v", res.Version)
	}
}

// The database server stopped dead in the middle of a COPY: after it
// restarts, the half-loaded version is not published, the previous one is
// current, the abandoned load is marked failed, and a retry succeeds.
func TestServerStoppedMidLoad(t *testing.T) {
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	open := func() *pgxpool.Pool {
		p, err := pgxpool.New(ctx, c.ConnString("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pool := open()
	defer func() { pool.Close() }()
	if _, err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	csv := sampleCSV(t)
	first := load(t, pool, csv, LoadOptions{}).Version

	var stopErr error
	_, err := Load(ctx, pool, bytes.NewReader(csv), LoadOptions{Source: "crash.csv", MaxShrink: adequacy.MaxShrink(0.2), Counties: counties(),
		afterRow: func(n int) {
			if n == 2000 {
				stopErr = c.Stop("immediate")
			}
		}})
	if stopErr != nil {
		t.Fatal(stopErr)
	}
	if err == nil {
		t.Fatal("the load succeeded with the server stopped under it")
	}
	t.Logf("load with the server stopped: %v", err)

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	pool = open()
	crashed := first.ID + 1
	v, err := GetVersion(ctx, pool, crashed)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != StatusLoading || v.Source != "crash.csv" {
		t.Errorf("after the crash, version %d = %+v, want still loading", crashed, v)
	}
	if currentID(t, pool) != first.ID {
		t.Errorf("current = %d, want %d", currentID(t, pool), first.ID)
	}
	if _, err := ReadRoster(ctx, pool, crashed); !errors.Is(err, ErrNotPublished) {
		t.Errorf("ReadRoster(crashed) = %v", err)
	}
	assertNoPartition(t, pool, crashed)
	ids, err := RecoverAbandoned(ctx, pool)
	if err != nil || !reflect.DeepEqual(ids, []int64{crashed}) {
		t.Errorf("RecoverAbandoned = %v, %v", ids, err)
	}
	if v, _ := GetVersion(ctx, pool, crashed); v.Status != StatusFailed || !strings.Contains(v.Error, "abandoned") {
		t.Errorf("recovered version = %+v", v)
	}
	retry := load(t, pool, csv, LoadOptions{Source: "retry.csv"}).Version
	if retry.Status != StatusPublished || currentID(t, pool) != retry.ID {
		t.Errorf("retry = %+v", retry)
	}
	r, err := ReadRoster(ctx, pool, retry.ID)
	if err != nil || len(r.Providers) != 5000 {
		t.Errorf("retry read %v, %v", r, err)
	}
}

// A load cancelled mid-COPY (an operator's Ctrl-C) is recorded as failed,
// not left loading, and publishes nothing.
func TestLoadCancelled(t *testing.T) {
	pool := migrated(t)
	first := load(t, pool, sampleCSV(t), LoadOptions{}).Version
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Load(ctx, pool, bytes.NewReader(sampleCSV(t)), LoadOptions{MaxShrink: adequacy.MaxShrink(0.2), afterRow: func(n int) {
		if n == 1000 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res.Version == nil || res.Version.Status != StatusFailed || !strings.Contains(res.Version.Error, "context canceled") {
		t.Errorf("version = %+v", res.Version)
	}
	if currentID(t, pool) != first.ID {
		t.Error("current changed")
	}
	assertNoPartition(t, pool, res.Version.ID)
}

// Loads running at once both publish; the publish lock orders them, and
// the later one's shrink guard compares with the earlier.
func TestConcurrentLoads(t *testing.T) {
	pool := migrated(t)
	csv := sampleCSV(t)
	var wg sync.WaitGroup
	results := make([]*LoadResult, 3)
	for i := range results {
		wg.Go(func() {
			res, err := Load(context.Background(), pool, bytes.NewReader(csv), LoadOptions{MaxShrink: adequacy.MaxShrink(0.2), Counties: counties()})
			if err != nil {
				t.Errorf("load %d: %v", i, err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	previous := 0
	var last *Version
	for _, r := range results {
		if r.Version == nil || r.Version.Status != StatusPublished {
			t.Fatalf("version %+v", r.Version)
		}
		if r.Previous != nil {
			previous++
		}
		if last == nil || r.Version.PublishedAt.After(last.PublishedAt) {
			last = r.Version
		}
	}
	if previous != 2 {
		t.Errorf("%d loads replaced a version, want 2", previous)
	}
	if currentID(t, pool) != last.ID {
		t.Errorf("current = %d, want the last published, %d", currentID(t, pool), last.ID)
	}
}
