package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/internal/pgtest"
)

const examplePlansPath = "../../data/assets/plans/example.yaml"

// wantAll fails the test for each wanted text out lacks.
func wantAll(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: want %q in\n%s", what, w, out)
		}
	}
}

// customProfile writes a copy of a built-in profile under another name,
// so plans can name a profile only --profile-file loads.
func customProfile(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("../../data/assets/profiles/commercial-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "name: commercial-example", "name: acme-contract", 1)
	if s == string(b) {
		t.Fatal("the profile's name line moved")
	}
	path := filepath.Join(dir, "acme-contract.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, dir, name, s string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const customPlans = "plans:\n  - {id: acme-custom, name: Acme Custom, profile: acme-contract, networks: [ACME-PPO]}\n"

// plans list and show on a file: what the file says, errors with their
// place, and the usage errors.
func TestPlansFileCLI(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()
	out := mustCLI(t, "plans", "list", "--plans-file", examplePlansPath)
	wantAll(t, "list", out, "plans file:", "3 plans",
		"acme-ma    Acme Medicare Advantage     medicare_advantage  cms-ma 2026.1       ACME-MA            316 counties (NY, TX)          2026-01-01 to 2026-12-31",
		"acme-ppo   Acme Commercial PPO         commercial          commercial-example  ACME-COMM          4 counties (AK part, NY part)  always",
		"acme-star  Acme Texas STAR (Medicaid)  medicaid            tx-medicaid         ACME-MA, ACME-MCD  253 counties (TX part)         from 2026-01-01")

	var lj struct {
		Version string `json:"version"`
		Plans   []struct {
			ID          string   `json:"id"`
			Networks    []string `json:"networks"`
			ServiceArea *struct {
				Counties int `json:"counties"`
			} `json:"service_area"`
			Effective *struct{ From, To string } `json:"effective"`
		} `json:"plans"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "plans", "list", "--plans-file", examplePlansPath, "--json")), &lj); err != nil {
		t.Fatal(err)
	}
	if len(lj.Plans) != 3 || !strings.HasPrefix(lj.Version, "file:") || lj.Plans[0].ServiceArea.Counties != 316 ||
		lj.Plans[1].ServiceArea.Counties != 4 || lj.Plans[1].Effective != nil || lj.Plans[0].Effective.To != "2026-12-31" {
		t.Errorf("list --json = %+v", lj)
	}

	out = mustCLI(t, "plans", "show", "acme-star", "--plans-file", examplePlansPath)
	wantAll(t, "show", out, "plan          acme-star", "profile       tx-medicaid, the version in effect on the as-of date (loaded: 2026.1",
		"networks      ACME-MA, ACME-MCD", "TX: 253 of 254 counties, all but:\n  El Paso (48141)")
	out = mustCLI(t, "plans", "show", "--plans-file", examplePlansPath, "acme-ppo")
	wantAll(t, "show", out, "AK: 1 of 29 counties:\n  Anchorage (02020)", "NY: 3 of 62 counties:\n  Kings (36047), New York (36061), Queens (36081)")
	out = mustCLI(t, "plans", "show", "acme-ma", "--plans-file", examplePlansPath, "--counties")
	wantAll(t, "show --counties", out, "profile       cms-ma, pinned to version 2026.1", "NY: all 62 counties:\n  Albany (36001), Allegany (36003)", "El Paso (48141)")
	var sj struct {
		ServiceArea struct {
			List []struct{ FIPS, Name, State string } `json:"county_list"`
		} `json:"service_area"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "plans", "show", "acme-ma", "--plans-file", examplePlansPath, "--json")), &sj); err != nil {
		t.Fatal(err)
	}
	if l := sj.ServiceArea.List; len(l) != 316 || l[0].Name != "Albany" || l[0].State != "NY" || l[315].State != "TX" {
		t.Errorf("show --json: %d counties, first %+v", len(l), l[0])
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown plan", []string{"plans", "show", "nope", "--plans-file", examplePlansPath}, 1, `unknown plan "nope" in file:`},
		{"no source", []string{"plans", "list"}, 2, "give --plans-file FILE, or --db URL"},
		{"both sources", []string{"plans", "list", "--plans-file", examplePlansPath, "--db", "postgres://x"}, 2, "give --plans-file or --db, not both"},
		{"version with a file", []string{"plans", "list", "--plans-file", examplePlansPath, "--version", "3"}, 2, "--version reads the database"},
		{"bad file", []string{"plans", "list", "--plans-file", writeFile(t, dir, "bad.yaml", strings.Replace(customPlans, "acme-contract", "acme-contrct", 1))}, 1,
			`bad.yaml, line 2, plans.0.profile: unknown profile "acme-contrct"`},
		{"profile not loaded", []string{"plans", "list", "--plans-file", writeFile(t, dir, "custom.yaml", customPlans)}, 1, `plans.0.profile: unknown profile "acme-contract"`},
		{"no subcommand", []string{"plans"}, 2, "plans needs a subcommand"},
		{"unknown subcommand", []string{"plans", "lst"}, 2, `unknown plans subcommand "lst"`},
		{"show without id", []string{"plans", "show", "--plans-file", examplePlansPath}, 2, "want a plan id"},
	} {
		code, out, errOut := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q\n%s%s", tc.name, code, tc.code, tc.want, out, errOut)
		}
	}
	out = mustCLI(t, "plans", "list", "--plans-file", filepath.Join(dir, "custom.yaml"), "--profile-file", customProfile(t, dir))
	wantAll(t, "list with --profile-file", out, "acme-custom  Acme Custom  other         acme-contract  ACME-PPO  everywhere    always")
}

// The plans commands against a real PostgreSQL: load, list and show from
// the database, versions, a refused file, rollback.
func TestPlansDBCLI(t *testing.T) {
	db := pgtest.URL(t)
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()
	// Before any migration: the error says what to do.
	for _, args := range [][]string{{"plans", "load", examplePlansPath}, {"plans", "versions"}, {"roster", "show", "current"}} {
		code, _, errOut := cli(t, append(args, "--db", db)...)
		if code != 1 || !strings.Contains(errOut, `run "geoaccess db migrate" first`) {
			t.Errorf("%v before migrating: exit %d, %s", args, code, errOut)
		}
	}
	mustCLI(t, "db", "migrate", "--db", db)
	wantAll(t, "status", mustCLI(t, "db", "status", "--db", db), "0003_plans")
	wantAll(t, "versions", mustCLI(t, "plans", "versions", "--db", db), "no plans versions yet")
	if code, _, errOut := cli(t, "plans", "list", "--db", db); code != 1 || !strings.Contains(errOut, "no plans version is published: load a plans file first") {
		t.Errorf("list before a load: exit %d, %s", code, errOut)
	}

	out := mustCLI(t, "plans", "load", examplePlansPath, "--db", db)
	wantAll(t, "load", out, "3 plans validated; published version 1 (pg:1)", "listeners notified", "sha256 ")
	out = mustCLI(t, "plans", "list", "--db", db)
	wantAll(t, "list --db", out, "plans pg:1 (published, current, published ", "from example.yaml: 3 plans", "acme-star  Acme Texas STAR (Medicaid)")
	// DATABASE_URL is the default database.
	t.Setenv("DATABASE_URL", db)
	wantAll(t, "show from $DATABASE_URL", mustCLI(t, "plans", "show", "acme-ma"), "from          plans pg:1 (published, current")
	t.Setenv("DATABASE_URL", "")

	// A refused file: every place named, nothing published.
	bad := writeFile(t, dir, "bad.yaml", strings.NewReplacer("networks: [ACME-PPO]", "networks: [ACME-PPO, ACME-PPO]", "acme-contract", "cms-ma").Replace(customPlans))
	code, out, errOut := cli(t, "plans", "load", bad, "--db", db)
	if code != 1 || !strings.Contains(out, "version 2 failed: nothing published; version 1 stays current") ||
		!strings.Contains(errOut, "plans bad.yaml, line 2, plans.0.networks.1: ACME-PPO is listed twice") {
		t.Errorf("bad load: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = cli(t, "plans", "load", bad, "--db", db, "--json")
	var lj struct {
		Published bool   `json:"published"`
		Line      int    `json:"line"`
		Path      string `json:"path"`
		Version   struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"version"`
		Previous struct {
			ID int64 `json:"id"`
		} `json:"previous"`
	}
	if err := json.Unmarshal([]byte(out), &lj); err != nil || code != 1 || lj.Published || lj.Line != 2 || lj.Path != "plans.0.networks.1" ||
		lj.Version.ID != 3 || lj.Version.Status != "failed" || lj.Previous.ID != 1 {
		t.Errorf("bad load --json: exit %d, %+v, %v\n%s", code, lj, err, out)
	}

	// A version naming a profile of its own loads with --profile-file; a
	// rollback to it without that profile is refused.
	custom := writeFile(t, dir, "custom.yaml", customPlans)
	profile := customProfile(t, dir)
	wantAll(t, "load custom", mustCLI(t, "plans", "load", custom, "--db", db, "--profile-file", profile, "--source", "contract-2026"),
		"1 plan validated; published version 4 (pg:4)", "replacing version 1")
	if code, _, errOut := cli(t, "plans", "list", "--db", db); code != 1 || !strings.Contains(errOut, `plan acme-custom: profile: unknown profile "acme-contract"`) || !strings.Contains(errOut, "may need --profile-file") {
		t.Errorf("list without the profile: exit %d, %s", code, errOut)
	}
	out = mustCLI(t, "plans", "versions", "--db", db)
	wantAll(t, "versions", out, "ID  STATUS       LOADED (UTC)", "4   published *", "contract-2026", "3   failed", "plans.0.networks.1: ACME-PPO is listed twice",
		"1   published  ", "example.yaml", "* current")
	wantAll(t, "list --version", mustCLI(t, "plans", "list", "--db", db, "--version", "pg:1"), "plans pg:1 (published, published ", "3 plans")

	wantAll(t, "rollback", mustCLI(t, "plans", "rollback", "1", "--db", db), "plans version 1 (pg:1, 3 plans) is current, replacing version 4; listeners notified")
	wantAll(t, "rollback again", mustCLI(t, "plans", "rollback", "pg:1", "--db", db), "plans version 1 is already current")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plans", "rollback", "3", "--db", db}, 1, "plans version 3 is failed, not published"},
		{[]string{"plans", "rollback", "4", "--db", db}, 1, "not rolled back (give --profile-file"},
		{[]string{"plans", "rollback", "9", "--db", db}, 1, "no such plans version: 9"},
		{[]string{"plans", "rollback", "x", "--db", db}, 2, `plans version "x": want an id such as 7 or pg:7`},
	} {
		code, out, errOut := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q\n%s%s", strings.Join(tc.args[:3], " "), code, tc.code, tc.want, out, errOut)
		}
	}
	wantAll(t, "rollback with the profile", mustCLI(t, "plans", "rollback", "4", "--db", db, "--profile-file", profile), "plans version 4 (pg:4, 1 plan) is current")
	var vs []struct {
		ID      int64 `json:"id"`
		Current bool  `json:"current"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "plans", "versions", "--db", db, "--json", "--limit", "2")), &vs); err != nil || len(vs) != 2 || vs[0].ID != 4 || !vs[0].Current {
		t.Errorf("versions --json = %+v, %v", vs, err)
	}
}
