package pg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
)

var builtinProfiles = sync.OnceValues(func() (*adequacy.Profiles, error) { return data.LoadProfiles() })

func profiles(t testing.TB) *adequacy.Profiles {
	t.Helper()
	ps, err := builtinProfiles()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

const examplePlansFile = "../assets/plans/example.yaml"

func examplePlans(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(examplePlansFile)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadPlans(t testing.TB, pool *pgxpool.Pool, name string, b []byte) *PlansLoadResult {
	t.Helper()
	res, err := LoadPlans(context.Background(), pool, name, b, PlansLoadOptions{Profiles: profiles(t)})
	if err != nil {
		t.Fatalf("load plans: %v", err)
	}
	return res
}

// samePlans compares two registries plan by plan, whatever their versions.
func samePlans(t testing.TB, got, want *adequacy.Plans) {
	t.Helper()
	g, w := got.All(), want.All()
	if len(g) != len(w) {
		t.Fatalf("%d plans, want %d", len(g), len(w))
	}
	for i := range g {
		if !reflect.DeepEqual(*g[i], *w[i]) {
			t.Errorf("plan %d:\n got %+v\nwant %+v", i, *g[i], *w[i])
		}
	}
}

// The migration creates the tables, and their checks hold rows that
// bypass the loader to the format's rules.
func TestPlansMigration(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	if ms := Migrations(); len(ms) < 3 || ms[2].Name != "plans" {
		t.Fatalf("migration 0003 is not plans: %+v", ms)
	}
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO plan_versions (source) VALUES ('sql') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	good := `INSERT INTO plans (version_id, plan_id, name, product_line, profile, networks) VALUES ($1, 'p', 'P', 'commercial', 'cms-ma', '{A}')`
	if _, err := pool.Exec(ctx, good, id); err != nil {
		t.Fatalf("a good row: %v", err)
	}
	for name, sql := range map[string]string{
		"no networks":       `INSERT INTO plans (version_id, plan_id, name, product_line, profile, networks) VALUES ($1, 'q', 'Q', 'commercial', 'cms-ma', '{}')`,
		"null network":      `INSERT INTO plans (version_id, plan_id, name, product_line, profile, networks) VALUES ($1, 'q', 'Q', 'commercial', 'cms-ma', '{A,NULL}')`,
		"product line":      `INSERT INTO plans (version_id, plan_id, name, product_line, profile, networks) VALUES ($1, 'q', 'Q', 'hmo', 'cms-ma', '{A}')`,
		"reversed dates":    `INSERT INTO plans (version_id, plan_id, name, product_line, profile, networks, effective_from, effective_to) VALUES ($1, 'q', 'Q', 'other', 'cms-ma', '{A}', '2026-02-01', '2026-01-01')`,
		"same id twice":     `INSERT INTO plans (version_id, plan_id, name, product_line, profile, networks) VALUES ($1, 'p', 'P', 'commercial', 'cms-ma', '{A}')`,
		"no such version":   `INSERT INTO plans (version_id, plan_id, name, product_line, profile, networks) VALUES ($1 + 100, 'q', 'Q', 'other', 'cms-ma', '{A}')`,
		"published no time": `UPDATE plan_versions SET status = 'published' WHERE id = $1`,
	} {
		if _, err := pool.Exec(ctx, sql, id); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := CheckSchema(ctx, pool); err != nil {
		t.Error(err)
	}
}

// A plans file loads as a version, publishes, and reads back as the same
// registry, current or by id.
func TestPlansLoadPublishRead(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	ps := profiles(t)
	if _, _, err := CurrentPlans(ctx, pool, ps); !errors.Is(err, ErrNoPublishedPlans) || !errors.Is(err, adequacy.ErrNoCurrentVersion) {
		t.Errorf("CurrentPlans before any load = %v", err)
	}
	b := examplePlans(t)
	want, err := data.ParsePlans("example.yaml", b, ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := loadPlans(t, pool, "example.yaml", b)
	v := res.Version
	sum := sha256.Sum256(b)
	if v.Status != StatusPublished || !v.Current || v.Plans != 3 || v.Source != "example.yaml" || v.SHA256 != hex.EncodeToString(sum[:]) ||
		v.Label != "pg:1" || v.PublishedAt.IsZero() || v.LoadedAt.IsZero() || res.Previous != nil {
		t.Errorf("version = %+v, previous %+v", v, res.Previous)
	}
	if res.Plans.Version != "pg:1" || res.Plans.Source != "example.yaml" {
		t.Errorf("published registry %s from %s", res.Plans.Version, res.Plans.Source)
	}
	samePlans(t, res.Plans, want)

	got, gv, err := CurrentPlans(ctx, pool, ps)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "pg:1" || got.Source != "example.yaml" || gv.ID != v.ID {
		t.Errorf("current: %s from %s, record %+v", got.Version, got.Source, gv)
	}
	samePlans(t, got, want)
	byID, _, err := PlansVersion(ctx, pool, v.ID, ps)
	if err != nil {
		t.Fatal(err)
	}
	samePlans(t, byID, want)
	cur, err := CurrentPlanVersion(ctx, pool)
	if err != nil || cur.ID != v.ID {
		t.Errorf("CurrentPlanVersion = %+v, %v", cur, err)
	}
}

// Two versions side by side, a rollback, and the version errors.
func TestPlansVersionsAndRollback(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	ps := profiles(t)
	b1 := examplePlans(t)
	v1 := loadPlans(t, pool, "v1.yaml", b1).Version.ID
	// The next contract year: acme-ppo leaves, acme-ma adds a network.
	b2 := []byte(strings.Replace(string(b1[:strings.Index(string(b1), "  # A commercial plan")]), "networks: [ACME-MA]\n", "networks: [ACME-MA, ACME-NEW]\n", 1))
	res2 := loadPlans(t, pool, "v2.yaml", b2)
	v2 := res2.Version.ID
	if res2.Previous == nil || res2.Previous.ID != v1 || res2.Version.Plans != 2 {
		t.Fatalf("second load: %+v, previous %+v", res2.Version, res2.Previous)
	}
	cur, _, err := CurrentPlans(ctx, pool, ps)
	if err != nil {
		t.Fatal(err)
	}
	ma, _ := cur.Get("acme-ma")
	if cur.Version != Label(v2) || cur.Len() != 2 || !ma.HasNetwork("ACME-NEW") {
		t.Errorf("current after v2: %s, %d plans, acme-ma %v", cur.Version, cur.Len(), ma.Networks)
	}
	if _, err := cur.Get("acme-ppo"); !errors.Is(err, adequacy.ErrUnknownPlan) {
		t.Errorf("acme-ppo in v2: %v", err)
	}
	old, _, err := PlansVersion(ctx, pool, v1, ps)
	if err != nil || old.Len() != 3 {
		t.Fatalf("v1 still readable: %v", err)
	}

	vs, err := ListPlanVersions(ctx, pool, ListOptions{})
	if err != nil || len(vs) != 2 || vs[0].ID != v2 || !vs[0].Current || vs[1].ID != v1 || vs[1].Current {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	if vs, _ := ListPlanVersions(ctx, pool, ListOptions{Limit: 1}); len(vs) != 1 || vs[0].ID != v2 {
		t.Errorf("limit 1 = %+v", vs)
	}

	rv, err := SetCurrentPlans(ctx, pool, v1)
	if err != nil || !rv.Current || rv.ID != v1 {
		t.Fatalf("rollback = %+v, %v", rv, err)
	}
	cur, _, err = CurrentPlans(ctx, pool, ps)
	if err != nil || cur.Version != Label(v1) || cur.Len() != 3 {
		t.Fatalf("current after rollback: %v, %v", cur, err)
	}
	if rv, err := SetCurrentPlans(ctx, pool, v1); err != nil || !rv.Current {
		t.Errorf("rollback to the current version: %+v, %v", rv, err)
	}

	// A failed version cannot be served or made current; an unknown one
	// is unknown; a bad string is not a version.
	bad, err := LoadPlans(ctx, pool, "bad.yaml", []byte("plans: []"), PlansLoadOptions{Profiles: ps})
	if err == nil {
		t.Fatal("an empty plans file published")
	}
	failed := bad.Version.ID
	for _, tc := range []struct {
		name string
		err  error
		code adequacy.VersionCode
	}{
		{"rollback to failed", second(SetCurrentPlans(ctx, pool, failed)), adequacy.VersionNotServable},
		{"read failed", third(PlansVersion(ctx, pool, failed, ps)), adequacy.VersionNotServable},
		{"rollback to unknown", second(SetCurrentPlans(ctx, pool, 99)), adequacy.VersionUnknown},
		{"read unknown", third(PlansVersion(ctx, pool, 99, ps)), adequacy.VersionUnknown},
		{"record of unknown", second(GetPlanVersion(ctx, pool, 99)), adequacy.VersionUnknown},
		{"bad string", second(ParsePlansVersion("seven")), adequacy.VersionBad},
	} {
		if got := adequacy.VersionCodeOf(tc.err); got != tc.code || !strings.Contains(tc.err.Error(), "plans version") {
			t.Errorf("%s: %v (code %v), want %v", tc.name, tc.err, got, tc.code)
		}
	}
	if id, err := ParsePlansVersion(" pg:12 "); err != nil || id != 12 {
		t.Errorf("ParsePlansVersion(pg:12) = %d, %v", id, err)
	}
	if cur, _ := CurrentPlanVersion(ctx, pool); cur.ID != v1 {
		t.Errorf("current moved to %d", cur.ID)
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// A file that does not validate publishes nothing: it is recorded as a
// failed version with the error's place, and the current version stays.
func TestPlansBadFilePublishesNothing(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	ps := profiles(t)
	v1 := loadPlans(t, pool, "v1.yaml", examplePlans(t)).Version.ID
	bad := []byte(strings.Replace(string(examplePlans(t)), "profile: tx-medicaid", "profile: tx-medicaid-2031", 1))
	res, err := LoadPlans(ctx, pool, "bad.yaml", bad, PlansLoadOptions{Profiles: ps})
	var pe *data.PlansError
	if !errors.As(err, &pe) || !errors.Is(err, data.ErrInvalidPlans) || pe.Path != "plans.1.profile" || pe.Line != 26 {
		t.Fatalf("err = %v (%+v)", err, pe)
	}
	v := res.Version
	if v == nil || v.Status != StatusFailed || v.Current || !v.PublishedAt.IsZero() || v.Plans != 0 ||
		!strings.Contains(v.Error, `plans bad.yaml, line 26, plans.1.profile: unknown profile "tx-medicaid-2031"`) || v.SHA256 == "" {
		t.Errorf("failed version = %+v", v)
	}
	if res.Previous == nil || res.Previous.ID != v1 || res.Plans != nil {
		t.Errorf("previous %+v, plans %v", res.Previous, res.Plans)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM plans WHERE version_id = $1`, v.ID).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d plan rows of the failed version, %v", rows, err)
	}
	if cur, _ := CurrentPlanVersion(ctx, pool); cur.ID != v1 {
		t.Errorf("current moved to %d", cur.ID)
	}

	// A load the database never finishes (here: cancelled just before
	// its commit) publishes nothing either, and says why.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res, err = LoadPlans(cctx, pool, "late.yaml", examplePlans(t), PlansLoadOptions{Profiles: ps, beforeCommit: cancel})
	if !errors.Is(err, context.Canceled) || res.Version == nil || res.Version.Status != StatusFailed || res.Plans != nil {
		t.Errorf("cancelled load: %v, %+v", err, res.Version)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM plans WHERE version_id > $1`, v1).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d plan rows after the cancelled load, %v", rows, err)
	}
	if cur, _ := CurrentPlanVersion(ctx, pool); cur.ID != v1 {
		t.Errorf("current moved to %d", cur.ID)
	}
}

// A version stored under profiles this reader lacks cannot be served
// here: its rows are invalid for this reader, and that is final.
func TestPlansReadWithOtherProfiles(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	base, err := profiles(t).Get("commercial-example")
	if err != nil {
		t.Fatal(err)
	}
	custom := *base
	custom.Name = "acme-contract"
	withCustom, err := adequacy.NewProfiles(append(profiles(t).All(), &custom)...)
	if err != nil {
		t.Fatal(err)
	}
	file := []byte("plans:\n  - {id: acme, name: Acme, profile: acme-contract, networks: [A]}\n")
	if _, err := LoadPlans(ctx, pool, "custom.yaml", file, PlansLoadOptions{Profiles: withCustom}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := CurrentPlans(ctx, pool, withCustom); err != nil {
		t.Errorf("read with the loader's profiles: %v", err)
	}
	_, _, err = CurrentPlans(ctx, pool, profiles(t))
	if adequacy.VersionCodeOf(err) != adequacy.VersionInvalidRows || !adequacy.VersionFinal(err) || !errors.Is(err, adequacy.ErrUnknownProfile) ||
		!strings.Contains(err.Error(), `plan acme: profile: unknown profile "acme-contract"`) {
		t.Errorf("read without the profile: %v", err)
	}
}

// Listeners hear every plans publish and rollback, and the current
// version when they connect; roster listeners hear none of them.
func TestListenPlans(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := migrated(t)
	v1 := loadPlans(t, pool, "v1.yaml", examplePlans(t)).Version.ID

	heard := make(chan int64, 16)
	rosterHeard := make(chan int64, 16)
	connected := make(chan struct{}, 4)
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		ListenPlans(lctx, pool, func(id int64) { heard <- id }, ListenOptions{OnConnect: func() { connected <- struct{}{} }, MinBackoff: 10 * time.Millisecond})
	})
	wg.Go(func() {
		Listen(lctx, pool, func(id int64) { rosterHeard <- id }, ListenOptions{OnConnect: func() { connected <- struct{}{} }, MinBackoff: 10 * time.Millisecond})
	})
	defer func() { stop(); wg.Wait() }()
	<-connected
	<-connected
	next := func(what string) int64 {
		t.Helper()
		select {
		case id := <-heard:
			return id
		case <-ctx.Done():
			t.Fatalf("%s: heard nothing", what)
		}
		return 0
	}
	if id := next("catch-up"); id != v1 {
		t.Errorf("catch-up heard %d, want %d", id, v1)
	}
	v2 := loadPlans(t, pool, "v2.yaml", examplePlans(t)).Version.ID
	if id := next("publish"); id != v2 {
		t.Errorf("publish: heard %d, want %d", id, v2)
	}
	if _, err := SetCurrentPlans(ctx, pool, v1); err != nil {
		t.Fatal(err)
	}
	if id := next("rollback"); id != v1 {
		t.Errorf("rollback: heard %d, want %d", id, v1)
	}
	// A refused load notifies nobody.
	if _, err := LoadPlans(ctx, pool, "bad.yaml", []byte("plans: []"), PlansLoadOptions{Profiles: profiles(t)}); err == nil {
		t.Fatal("an empty plans file published")
	}
	if _, err := SetCurrentPlans(ctx, pool, v2); err != nil {
		t.Fatal(err)
	}
	if id := next("second rollback"); id != v2 {
		t.Errorf("after a refused load: heard %d, want %d (the refused load notified)", id, v2)
	}
	select {
	case id := <-rosterHeard:
		t.Errorf("the roster channel heard plans version %d", id)
	default:
	}
}

// Two loaders at once: both publish, one after the other, and the
// current version is the one that committed last.
func TestPlansConcurrentLoads(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	b := examplePlans(t)
	var wg sync.WaitGroup
	ids := make([]int64, 4)
	for i := range ids {
		wg.Go(func() {
			res, err := LoadPlans(ctx, pool, "c.yaml", b, PlansLoadOptions{Profiles: profiles(t)})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = res.Version.ID
		})
	}
	wg.Wait()
	vs, err := ListPlanVersions(ctx, pool, ListOptions{})
	if err != nil || len(vs) != 4 {
		t.Fatalf("versions: %+v, %v", vs, err)
	}
	var last PlanVersion
	for _, v := range vs {
		if v.Status != StatusPublished || v.Plans != 3 {
			t.Errorf("version %+v", v)
		}
		if v.PublishedAt.After(last.PublishedAt) {
			last = v
		}
	}
	if cur, _ := CurrentPlanVersion(ctx, pool); cur.ID != last.ID {
		t.Errorf("current %d, last published %d", cur.ID, last.ID)
	}
}
