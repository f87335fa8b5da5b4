package pg

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/pgtest"
)

// A roster with networks, designations and services, aliases and codes
// the vocabulary does not know among them.
const listsCSV = `npi,discipline,lat,lon,county_fips,networks,credentials,services
1234567893,PT,40.7505,-73.9934,36061,ACME-MA;ACME-COMM,ocs;CLT-LANA;DPT,
1245319599,OT,40.7614,-73.9776,36061,ACME-MA,CHT;WCS,hand therapy
1003000126,PT,42.8864,-78.8784,36029,,,vestibular;Vestibular-Rehabilitation
1861402349,ST,42.6526,-73.7562,36001,"BETA ""ONE"";ACME-MA",BCS-S,dysphagia
`

// The new columns load with COPY and read back exactly as the CSV reader
// gives them, in the binary and the text protocol.
func TestLoadAndReadLists(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	res := load(t, pool, []byte(listsCSV), LoadOptions{})
	if res.Report.WarningCount != 2 || len(res.Report.Warnings) != 2 {
		t.Errorf("warnings %d %v, want DPT and WCS", res.Report.WarningCount, res.Report.Warnings)
	}
	want, _, err := data.ReadRoster(strings.NewReader(listsCSV), data.RosterOptions{Counties: counties()})
	if err != nil {
		t.Fatal(err)
	}
	p := want.Providers
	if !slices.Equal(p[0].Networks, []string{"ACME-COMM", "ACME-MA"}) || !slices.Equal(p[0].Designations, []string{"CLT", "OCS"}) ||
		!slices.Equal(p[1].Services, []string{"hand"}) || !slices.Equal(p[2].Services, []string{"vestibular"}) ||
		!slices.Equal(p[3].Networks, []string{"ACME-MA", `BETA "ONE"`}) || p[2].Networks != nil {
		t.Fatalf("CSV reader: %+v", p)
	}
	textPool, err := pgxpool.New(ctx, pgtest.WithParam(u, "default_query_exec_mode", "simple_protocol"))
	if err != nil {
		t.Fatal(err)
	}
	defer textPool.Close()
	for name, pl := range map[string]*pgxpool.Pool{"binary": pool, "text": textPool} {
		got, err := ReadRoster(ctx, pl, res.Version.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Providers, want.Providers) {
			t.Errorf("%s protocol read:\n got %+v\nwant %+v", name, got.Providers, want.Providers)
		}
	}
	// The deprecated column holds the first network, for older readers.
	var first []string
	rows, err := pool.Query(ctx, `SELECT network FROM providers WHERE version_id = $1 ORDER BY row_no`, res.Version.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		first = append(first, s)
	}
	if !slices.Equal(first, []string{"ACME-COMM", "ACME-MA", "", "ACME-MA"}) {
		t.Errorf("network column %q", first)
	}
}

// A reload that changes a provider's networks, designations or services
// shows in the diff of the two versions.
func TestDiffListsAcrossVersions(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	a := load(t, pool, []byte(listsCSV), LoadOptions{}).Version.ID
	changed := strings.Replace(listsCSV, "ACME-MA;ACME-COMM,ocs;CLT-LANA;DPT,", "ACME-MA,OCS;CLT-LANA,", 1)
	changed = strings.Replace(changed, "36029,,,vestibular;Vestibular-Rehabilitation", "36029,BETA,NCS,vestibular", 1)
	b := load(t, pool, []byte(changed), LoadOptions{}).Version.ID
	ra, err := ReadRoster(ctx, pool, a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := ReadRoster(ctx, pool, b)
	if err != nil {
		t.Fatal(err)
	}
	d := adequacy.DiffRosters(ra, rb, 0.1)
	got := map[string][]string{}
	for _, c := range d.Changed {
		got[c.New.NPI] = c.Fields
	}
	want := map[string][]string{"1234567893": {"networks"}, "1003000126": {"networks", "designations"}}
	if !reflect.DeepEqual(got, want) || d.Total.Unchanged != 2 {
		t.Errorf("changed %v (unchanged %d), want %v", got, d.Total.Unchanged, want)
	}
}

// A database migrated before 0002, holding a published roster with the
// old single network column, migrates: each row's network becomes its
// list of one, and the roster reads as before with networks.
func TestMigrateListsOnOldData(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	// The schema as 0001 left it, recorded as migrated.
	m1 := Migrations()[0]
	for _, q := range []string{createMigrationsTable, m1.SQL} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES (1, $1, $2)`, m1.Name, m1.Checksum); err != nil {
		t.Fatal(err)
	}
	// A roster published by the old loader: its SQL, by hand.
	old := []string{
		`INSERT INTO roster_versions (source, status, finished_at, published_at, providers, rows_read)
		 VALUES ('old.csv', 'published', now(), now(), 3, 3)`,
		`CREATE TABLE providers_v1 PARTITION OF providers FOR VALUES IN (1)`,
		`INSERT INTO providers (version_id, row_no, line, npi, discipline, lat, lon, county_fips, network, participating, telehealth_only, accepting_new_patients)
		 VALUES (1, 0, 2, '1234567893', 'PT', 40.7505, -73.9934, '36061', 'Gold HMO', true, false, true),
		        (1, 1, 3, '1245319599', 'OT', 40.7614, -73.9776, '36061', '', true, false, true),
		        (1, 2, 4, '1003000126', 'DC', 42.8864, -78.8784, '36029', 'Silver', false, false, true)`,
		`INSERT INTO roster_version_counts VALUES (1, 'DC', 1, 0, 0), (1, 'PT', 1, 1, 0), (1, 'OT', 1, 1, 0), (1, 'ST', 0, 0, 0)`,
		`INSERT INTO roster_current (version_id, since) VALUES (1, now())`,
	}
	for _, q := range old {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	applied, err := Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(Migrations())-1 || applied[0].Version != 2 {
		t.Fatalf("applied %v", applied)
	}
	r, _, err := Current(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	var nets [][]string
	for _, p := range r.Providers {
		nets = append(nets, p.Networks)
		if p.Designations != nil || p.Services != nil {
			t.Errorf("%s: designations %v services %v", p.NPI, p.Designations, p.Services)
		}
	}
	if !reflect.DeepEqual(nets, [][]string{{"Gold HMO"}, nil, {"Silver"}}) {
		t.Errorf("networks after migrating: %q", nets)
	}
	// A new load on the migrated schema works beside the old version.
	res := load(t, pool, []byte(listsCSV), LoadOptions{MaxShrink: adequacy.NoShrinkLimit})
	if res.Version.Status != StatusPublished {
		t.Errorf("load after migrating: %+v", res.Version)
	}
	// The constraint keeps a row to MaxNetworksPerRow networks.
	_, err = pool.Exec(ctx, `UPDATE providers SET networks = array_fill('x'::text, ARRAY[33]) WHERE version_id = 1 AND row_no = 0`)
	if err == nil || !strings.Contains(err.Error(), "providers_lists_check") {
		t.Errorf("33 networks: %v", err)
	}
}

// Bad list cells make bad rows before anything reaches the database.
func TestLoadBadNetworks(t *testing.T) {
	pool := migrated(t)
	csv := "npi,discipline,lat,lon,networks\n1234567893,PT,40.75,-73.99,A;;B\n1245319599,OT,40.76,-73.98,OK\n"
	res, err := Load(context.Background(), pool, bytes.NewReader([]byte(csv)), LoadOptions{MaxBadRows: 1, Counties: counties()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Bad != 1 || len(res.Report.Errors) != 1 || !strings.Contains(res.Report.Errors[0].Error(), "line 2, column networks") {
		t.Errorf("report %+v", res.Report)
	}
}
