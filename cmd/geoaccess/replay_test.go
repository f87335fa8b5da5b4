package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/pgtest"
)

// everyColumn is the sample roster with every column of the CSV in use:
// designations and declared services, several networks, telehealth-only
// and not-accepting rows, effective and termination dates, both address
// lines, and a name a spreadsheet would run as a formula.
func everyColumn(t *testing.T) []adequacy.Provider {
	t.Helper()
	r, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	ps := r.Providers
	for i := range ps {
		p := &ps[i]
		switch {
		case i%7 == 0 && (p.Discipline == adequacy.PT || p.Discipline == adequacy.OT):
			p.Designations = []string{"CHT", "CLT"}
		case i%11 == 0 && p.Discipline == adequacy.PT:
			p.Services = []string{"vestibular"}
		case i%13 == 0:
			p.Networks = []string{"ACME-COMM", "ACME-MA", "ACME-MCD"}
		case i%17 == 0:
			p.TelehealthOnly = true
		case i%19 == 0:
			p.AcceptingNewPatients = false
		case i%23 == 0:
			p.Effective, p.Termination = mustDate(t, "2026-03-01"), mustDate(t, "2026-09-30")
		case i%29 == 0:
			p.Address = adequacy.Address{Line1: "12 Main St", Line2: "Suite =5", City: "Ithaca", State: p.Address.State, ZIP: p.Address.ZIP}
		case i%31 == 0:
			p.Name = "=HYPERLINK(\"http://x\")"
		}
	}
	return ps
}

// members is a few sample members as --lat/--lon pairs.
var replayMembers = [][2]string{{"40.713795", "-73.809547"}, {"29.73582", "-95.328721"}, {"61.2181", "-149.9003"}, {"40.75", "-73.99"}, {"31.7619", "-106.485"}}

type checkJSON []struct {
	Discipline    string `json:"discipline"`
	RosterVersion string `json:"roster_version"`
	PlansVersion  string `json:"plans_version"`
	Nearest       []struct {
		NPI string `json:"npi"`
	} `json:"nearest"`
}

// checks runs check for every member with the given flags: every
// discipline, a service, and a plan; the outputs in order.
func checks(t *testing.T, flags ...string) []string {
	t.Helper()
	var out []string
	for _, m := range replayMembers {
		for _, extra := range [][]string{{"--discipline", "all"}, {"--service", "lymphedema"}, {"--discipline", "PT", "--plan", "acme-ma"}} {
			args := append([]string{"check", "--lat", m[0], "--lon", m[1], "--as-of", "2026-06-01", "--json", "--k", "5"}, extra...)
			out = append(out, mustCLI(t, append(args, flags...)...))
		}
	}
	return out
}

// The CLI replay: decisions and gap reports made on version 1 come back
// identical with --roster-version 1 after version 2 moved and removed the
// providers near the members, while the current version answers
// differently; the export of version 1, loaded into an empty database,
// reads back to the same providers and gives the same answers; retired
// and unknown versions are refused by name.
func TestReplayAndExportCLI(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	db := pgtest.URL(t)
	dir := t.TempDir()
	mustCLI(t, "db", "migrate", "--db", db)
	v1 := everyColumn(t)
	mustCLI(t, "roster", "load", writeRoster(t, dir, "v1.csv", v1), "--db", db)
	mustCLI(t, "plans", "load", examplePlansPath, "--db", db)
	members := filepath.Join(dir, "members.csv")
	sample, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(members, sample, 0o644); err != nil {
		t.Fatal(err)
	}

	// Version 1, live: the decisions and a gap report.
	orig := checks(t, "--db", db)
	mustCLI(t, "gap", "--members", members, "--out", filepath.Join(dir, "gap1"), "--db", db, "--as-of", "2026-06-01")
	var first checkJSON
	if err := json.Unmarshal([]byte(orig[0]), &first); err != nil || first[0].RosterVersion != "pg:1" {
		t.Fatalf("live on version 1: %v %s", err, orig[0])
	}
	var planned checkJSON
	if err := json.Unmarshal([]byte(orig[2]), &planned); err != nil || planned[0].PlansVersion != "pg:1" {
		t.Errorf("plan decision without its plans version: %v %s", err, orig[2])
	}

	// Version 2: every member's nearest providers removed or moved.
	near := map[string]bool{}
	for _, o := range orig {
		var ds checkJSON
		if err := json.Unmarshal([]byte(o), &ds); err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			for j, n := range d.Nearest {
				if j < 2 {
					near[n.NPI] = true
				}
			}
		}
	}
	var v2 []adequacy.Provider
	for i, p := range v1 {
		if near[p.NPI] {
			if i%2 == 0 {
				continue
			}
			p.Location.Lat += 0.4
			p.CountyFIPS = ""
		}
		v2 = append(v2, p)
	}
	mustCLI(t, "roster", "load", writeRoster(t, dir, "v2.csv", v2), "--db", db, "--force")

	replayed := checks(t, "--db", db, "--roster-version", "1")
	live := checks(t, "--db", db)
	for i := range orig {
		if replayed[i] != orig[i] {
			t.Fatalf("replay %d differs:\n got  %s\n want %s", i, replayed[i], orig[i])
		}
	}
	changed := 0
	for i := range orig {
		if live[i] != orig[i] {
			changed++
		}
		if !strings.Contains(live[i], `"roster_version": "pg:2"`) {
			t.Errorf("live answer not on version 2: %s", live[i])
		}
	}
	if changed < len(orig)/2 {
		t.Errorf("only %d of %d answers changed with version 2", changed, len(orig))
	}
	mustCLI(t, "gap", "--members", members, "--out", filepath.Join(dir, "gap1r"), "--db", db, "--roster-version", "pg:1", "--as-of", "2026-06-01")
	mustCLI(t, "gap", "--members", members, "--out", filepath.Join(dir, "gap2"), "--db", db, "--as-of", "2026-06-01")
	for _, f := range []string{"adequacy.csv", "unserved.csv"} {
		a, b, c := readFile(t, dir, "gap1", f), readFile(t, dir, "gap1r", f), readFile(t, dir, "gap2", f)
		if a != b {
			t.Errorf("gap replay: %s differs", f)
		}
		if a == c {
			t.Errorf("gap on version 2: %s unchanged", f)
		}
	}

	// Export version 1; load it into an empty database; same providers,
	// same answers, the same CSV again.
	csv1 := filepath.Join(dir, "export-v1.csv")
	code, _, errOut := cli(t, "roster", "export", "pg:1", "--db", db, "--out", csv1)
	if code != 0 || !strings.Contains(errOut, "exported pg:1: 5000 providers to ") {
		t.Fatalf("export: exit %d, %s", code, errOut)
	}
	db2 := pgtest.URL(t)
	mustCLI(t, "db", "migrate", "--db", db2)
	mustCLI(t, "roster", "load", csv1, "--db", db2)
	mustCLI(t, "plans", "load", examplePlansPath, "--db", db2)
	if again := mustCLI(t, "roster", "export", "1", "--db", db2); again != readFile(t, csv1) {
		t.Error("the export of the reloaded version differs from the export it was loaded from")
	}
	if got, want := readProviders(t, db2, 1), readProviders(t, db, 1); !reflect.DeepEqual(got, want) {
		t.Errorf("reloaded export: providers differ from version 1's")
	}
	if got := readProviders(t, db, 1); !reflect.DeepEqual(got, placed(t, v1)) {
		t.Errorf("version 1 in the database differs from the roster loaded")
	}
	reloaded := checks(t, "--db", db2)
	for i := range orig {
		if reloaded[i] != orig[i] {
			t.Fatalf("answer %d on the reloaded export differs:\n got  %s\n want %s", i, reloaded[i], orig[i])
		}
	}

	// Refusals, each naming the version.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"check", "--zip", "10001", "--discipline", "PT", "--db", db, "--roster-version", "1"}, 2, "give its --as-of"},
		{[]string{"check", "--zip", "10001", "--discipline", "PT", "--profile-version", "2026.1"}, 2, "give its --as-of"},
		{[]string{"check", "--zip", "10001", "--discipline", "PT", "--db", db, "--roster-version", "9", "--as-of", "2026-06-01"}, 1, "no such roster version: 9"},
		{[]string{"check", "--zip", "10001", "--discipline", "PT", "--db", db, "--roster-version", "one", "--as-of", "2026-06-01"}, 2, `roster version "one"`},
		{[]string{"check", "--zip", "10001", "--discipline", "PT", "--roster", csv1, "--roster-version", "1", "--as-of", "2026-06-01"}, 2, "not both"},
		{[]string{"check", "--zip", "10001", "--discipline", "PT", "--profile-version", "2027.1", "--as-of", "2026-06-01"}, 1, `profile_version: unknown profile: cms-ma has no version "2027.1"`},
		{[]string{"check", "--zip", "10001", "--discipline", "PT", "--db", db, "--plans-version", "5", "--plan", "acme-ma", "--as-of", "2026-06-01"}, 1, "plans version 5"},
		{[]string{"roster", "export", "7", "--db", db}, 1, "7"},
	} {
		code, _, errOut := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, %s; want %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.want)
		}
	}
	mustCLI(t, "roster", "load", writeRoster(t, dir, "v3.csv", v1), "--db", db, "--force")
	mustCLI(t, "roster", "retire", "--keep", "1", "--db", db)
	for _, args := range [][]string{
		{"check", "--zip", "10001", "--discipline", "PT", "--db", db, "--roster-version", "1", "--as-of", "2026-06-01"},
		{"roster", "export", "1", "--db", db},
	} {
		if code, _, errOut := cli(t, args...); code != 1 || !strings.Contains(errOut, "retired") || !strings.Contains(errOut, "1") {
			t.Errorf("%s: exit %d, %s", args[0], code, errOut)
		}
	}
}

func mustDate(t *testing.T, s string) adequacy.Date {
	t.Helper()
	d, err := adequacy.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func readFile(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readProviders(t *testing.T, url string, id int64) []adequacy.Provider {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	r, err := pg.ReadRoster(context.Background(), pool, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Providers
}

// placed is ps as the loader stores them: read back through the roster
// reader (a county for every point, lists canonical).
func placed(t *testing.T, ps []adequacy.Provider) []adequacy.Provider {
	t.Helper()
	path := writeRoster(t, t.TempDir(), "placed.csv", ps)
	r, _, err := data.ReadRosterFile(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Expand().Providers
}
