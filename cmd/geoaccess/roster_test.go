package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/pgtest"
)

// cli runs the command line in-process and returns its exit code and
// output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, args...)
	if code != 0 {
		t.Fatalf("geoaccess %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func writeRoster(t *testing.T, dir, name string, ps []adequacy.Provider) string {
	t.Helper()
	path := filepath.Join(dir, name)
	var b bytes.Buffer
	if err := data.WriteRoster(&b, ps); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The database tests share one PostgreSQL server, started on first use.
func TestMain(m *testing.M) { pgtest.Main(m) }

// The db and roster commands end to end against a real PostgreSQL.
func TestRosterCLI(t *testing.T) {
	db := pgtest.URL(t)
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()

	sample, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	samplePath := writeRoster(t, dir, "sample.csv", sample.Providers)

	// Without a database the commands say how to give one.
	if code, _, errOut := cli(t, "roster", "list"); code != 2 || !strings.Contains(errOut, "give --db URL or set DATABASE_URL") {
		t.Errorf("no --db: exit %d, %s", code, errOut)
	}

	if out := mustCLI(t, "db", "migrate", "--db", db); !strings.Contains(out, "applied 0001_rosters") {
		t.Errorf("migrate: %s", out)
	}
	if out := mustCLI(t, "db", "migrate", "--db", db); !strings.Contains(out, "nothing to apply") {
		t.Errorf("migrate again: %s", out)
	}
	if out := mustCLI(t, "db", "status", "--db", db); !regexp.MustCompile(`0001_rosters +applied`).MatchString(out) ||
		!regexp.MustCompile(`0002_provider_services_networks +applied`).MatchString(out) {
		t.Errorf("status: %s", out)
	}

	// Flags after the file, as the usage shows them.
	out := mustCLI(t, "roster", "load", samplePath, "--db", db, "--source", "sample")
	for _, want := range []string{"5000 rows read, 5000 accepted, 0 bad (limit 0)", "published version 1 (pg:1)", "PARTICIPATING"} {
		if !strings.Contains(out, want) {
			t.Errorf("load: want %q in\n%s", want, out)
		}
	}

	// Bad rows: every one listed with its line, column and reason; over
	// the limit nothing publishes and version 1 stays current.
	code, out, errOut := cli(t, "roster", "load", "--db", db, "--max-bad-rows", "3", "../../data/testdata/roster_bad.csv")
	if code != 1 || strings.Count(out, "bad row: line ") != 12 || !strings.Contains(out, `bad row: line 12, column county_fips: "99999": is not a known county FIPS code`) ||
		!strings.Contains(out, "version 2 failed: nothing published; version 1 stays current") || !strings.Contains(errOut, "12 of 14 rows are bad (limit 3)") {
		t.Errorf("bad rows: exit %d\n%s%s", code, out, errOut)
	}

	// JSON lists them too.
	code, out, _ = cli(t, "roster", "load", "--db", db, "--max-bad-rows", "-1", "--json", "--force", "../../data/testdata/roster_bad.csv")
	var lj struct {
		Published bool `json:"published"`
		Bad       int  `json:"bad"`
		Errors    []struct {
			Line   int    `json:"line"`
			Column string `json:"column"`
			Reason string `json:"reason"`
		} `json:"errors"`
		Version struct {
			ID     int64 `json:"id"`
			Forced bool  `json:"forced"`
		} `json:"version"`
	}
	if err := json.Unmarshal([]byte(out), &lj); err != nil || code != 0 {
		t.Fatalf("load --json: exit %d, %v\n%s", code, err, out)
	}
	if !lj.Published || lj.Bad != 12 || len(lj.Errors) != 12 || lj.Errors[0].Line != 3 || lj.Errors[0].Column != "npi" || lj.Version.ID != 3 || !lj.Version.Forced {
		t.Errorf("load --json = %+v", lj)
	}

	// The shrink guard, then --force; the roster that shrank is version 4.
	code, _, errOut = cli(t, "roster", "load", samplePath, "--db", db)
	if code != 0 {
		t.Fatalf("reload sample: %s", errOut)
	}
	var cut []adequacy.Provider
	for i, p := range sample.Providers {
		if p.Discipline == adequacy.ST && i%2 == 0 {
			continue
		}
		cut = append(cut, p)
	}
	cutPath := writeRoster(t, dir, "cut.csv", cut)
	code, out, errOut = cli(t, "roster", "load", cutPath, "--db", db, "--max-shrink", "20%")
	if code != 1 || !strings.Contains(errOut, "roster shrinks too much: ST participating") || !strings.Contains(out, "version 5 failed") {
		t.Errorf("shrink guard: exit %d\n%s%s", code, out, errOut)
	}
	out = mustCLI(t, "roster", "load", cutPath, "--db", db, "--max-shrink", "0.2", "--force")
	if !strings.Contains(out, "published version 6 (pg:6)") || !strings.Contains(out, "forced past the shrink guard") {
		t.Errorf("forced: %s", out)
	}

	// list, show, diff.
	out = mustCLI(t, "roster", "list", "--db", db)
	for _, want := range []string{"6   published * (forced)", "5   failed", "2   failed", "1   published", "sample"} {
		if !strings.Contains(out, want) {
			t.Errorf("list: want %q in\n%s", want, out)
		}
	}
	var vs []struct {
		ID      int64  `json:"id"`
		Status  string `json:"status"`
		Current bool   `json:"current"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "roster", "list", "--db", db, "--json", "--limit", "2")), &vs); err != nil || len(vs) != 2 || vs[0].ID != 6 || !vs[0].Current {
		t.Errorf("list --json = %+v, %v", vs, err)
	}
	out = mustCLI(t, "roster", "show", "pg:5", "--db", db)
	if !strings.Contains(out, "status     failed") || !strings.Contains(out, "error      ") || !strings.Contains(out, "ST participating") {
		t.Errorf("show 5:\n%s", out)
	}
	var sv struct {
		ID     int64 `json:"id"`
		Counts []struct {
			Discipline string `json:"discipline"`
			Providers  int    `json:"providers"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "roster", "show", "current", "--db", db, "--json")), &sv); err != nil || sv.ID != 6 || len(sv.Counts) != 4 {
		t.Errorf("show current --json = %+v, %v", sv, err)
	}

	out = mustCLI(t, "roster", "diff", "1", "current", "--db", db, "--rows", "2")
	removedST := len(sample.Providers) - len(cut)
	for _, want := range []string{"roster diff pg:1 → pg:6", "removed (" + strconv.Itoa(removedST) + "):", "… and " + strconv.Itoa(removedST-2) + " more"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff: want %q in\n%s", want, out)
		}
	}
	var dj struct {
		Counts map[string]struct {
			Removed, Unchanged int
		} `json:"counts"`
		Removed []struct {
			NPI        string `json:"npi"`
			Discipline string `json:"discipline"`
		} `json:"removed"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "roster", "diff", "1", "6", "--db", db, "--json")), &dj); err != nil {
		t.Fatal(err)
	}
	if dj.Counts["ST"].Removed != removedST || dj.Counts["PT"].Removed != 0 || len(dj.Removed) != removedST || dj.Removed[0].Discipline != "ST" {
		t.Errorf("diff --json counts %+v, %d removed", dj.Counts, len(dj.Removed))
	}

	// Rollback to version 1 is a shrink in reverse (growth): allowed.
	if out := mustCLI(t, "roster", "rollback", "1", "--db", db); !strings.Contains(out, "version 1 (pg:1) is current, replacing version 6") {
		t.Errorf("rollback: %s", out)
	}
	// Back to 6 is the shrink again: refused unless forced.
	if code, _, errOut := cli(t, "roster", "rollback", "6", "--db", db); code != 1 || !strings.Contains(errOut, "roster shrinks too much") {
		t.Errorf("rollback past the guard: exit %d %s", code, errOut)
	}
	var rj struct{ Retired []int64 }
	if err := json.Unmarshal([]byte(mustCLI(t, "roster", "retire", "--keep", "2", "--db", db, "--json")), &rj); err != nil || len(rj.Retired) != 2 {
		t.Errorf("retire = %+v, %v", rj, err)
	}
	if code, _, errOut := cli(t, "roster", "diff", "1", "3", "--db", db); code != 1 || !strings.Contains(errOut, "retired") {
		t.Errorf("diff with a retired version: exit %d %s", code, errOut)
	}
	if code, _, _ := cli(t, "roster", "show", "nonsense", "--db", db); code != 2 {
		t.Errorf("show nonsense: exit %d, want 2", code)
	}

	// check and gap read the current published roster (version 1 after the
	// rollback) straight from the database.
	var ds []struct {
		RosterVersion string `json:"roster_version"`
		Served        bool   `json:"served"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "check", "--db", db, "--lat", "40.75", "--lon", "-73.99", "--discipline", "PT", "--json", "--as-of", "2026-11-24")), &ds); err != nil ||
		len(ds) != 1 || ds[0].RosterVersion != "pg:1" || !ds[0].Served {
		t.Errorf("check --db = %+v, %v", ds, err)
	}
	members := filepath.Join(dir, "members.csv")
	if err := os.WriteFile(members, []byte("member_id,lat,lon\nA,40.75,-73.99\nB,31.0,-100.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = mustCLI(t, "gap", "--db", db, "--members", members, "--out", filepath.Join(dir, "gap"), "--as-of", "2026-11-24")
	if !strings.Contains(out, "roster pg:1") || !strings.Contains(out, "members: 2 evaluated") {
		t.Errorf("gap --db: %s", out)
	}
	// hsd export and exceptions too.
	hsdDir := filepath.Join(dir, "hsd")
	out = mustCLI(t, "hsd", "export", "--db", db, "--members", members, "--out", hsdDir, "--as-of", "2026-11-24")
	if readme := string(mustReadFile(t, filepath.Join(hsdDir, "README.txt"))); !strings.Contains(out, "hsd_facility.csv: ") ||
		!strings.Contains(readme, "roster: pg:1") {
		t.Errorf("hsd export --db: %s\n%s", out, readme)
	}
	if code, _, errOut := cli(t, "check", "--db", db, "--roster", samplePath, "--zip", "10001", "--discipline", "PT"); code != 2 || !strings.Contains(errOut, "not both") {
		t.Errorf("--db with --roster: exit %d %s", code, errOut)
	}

	// Providers in no county (at 0,0; in mid-Atlantic) are loaded without
	// one, counted and listed by line, with or without a bad-row limit.
	ocean := filepath.Join(dir, "ocean.csv")
	os.WriteFile(ocean, append(mustRead(t, samplePath), "1234567893,PT,,0,0,,,,,,,,,,Y,N,Y,,\n1234567893,OT,,30,-40,,,,,,,,,,Y,N,Y,,\n"...), 0o644)
	for _, limit := range []string{"-1", "0"} {
		out := mustCLI(t, "roster", "load", ocean, "--db", db, "--max-bad-rows", limit, "--force")
		if !strings.Contains(out, "2 providers are in no county (lines 5002, 5003): loaded without a county") {
			t.Errorf("--max-bad-rows %s: unplaced rows not reported:\n%s", limit, out)
		}
	}
	var uj struct {
		Unplaced      int   `json:"unplaced"`
		UnplacedLines []int `json:"unplaced_lines"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "roster", "load", ocean, "--db", db, "--max-bad-rows", "-1", "--force", "--json")), &uj); err != nil ||
		uj.Unplaced != 2 || !slices.Equal(uj.UnplacedLines, []int{5002, 5003}) {
		t.Errorf("load --json: %+v, %v", uj, err)
	}
	if code, _, errOut := cli(t, "check", "--roster", ocean, "--zip", "10001", "--discipline", "PT"); code != 0 || !strings.Contains(errOut, "2 providers are in no county") {
		t.Errorf("check --roster: exit %d, %s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roster load lists the designation and service codes it ignored, and
// resolves a services file's own codes.
func TestRosterLoadWarnings(t *testing.T) {
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
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()
	mustCLI(t, "db", "migrate", "--db", db)
	roster := filepath.Join(dir, "r.csv")
	csv := "npi,discipline,lat,lon,networks,credentials,services\n" +
		"1234567893,PT,40.75,-73.99,ACME-MA,DPT;OCS;CVRT,vestibular\n" +
		"1245319599,OT,40.76,-73.98,ACME-MA,CHT,\n"
	if err := os.WriteFile(roster, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "roster", "load", roster, "--db", db)
	for _, want := range []string{`warning: line 2, column credentials: "DPT": unknown designation: ignored`,
		`warning: line 2, column credentials: "CVRT": unknown designation: ignored`, "2 designation or service codes ignored", "published version 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("load: want %q in\n%s", want, out)
		}
	}
	vocab := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(vocab, []byte(`version: "1"
source: test
designations:
  - {code: CVRT, name: Vestibular, body: Acme, disciplines: [PT], source: test}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var lj struct {
		WarningCount int `json:"warning_count"`
		Warnings     []struct {
			Line  int    `json:"line"`
			Value string `json:"value"`
		} `json:"warnings"`
	}
	code, out, _ := cli(t, "roster", "load", roster, "--db", db, "--services-file", vocab, "--json")
	if err := json.Unmarshal([]byte(out), &lj); code != 0 || err != nil || lj.WarningCount != 1 || len(lj.Warnings) != 1 || lj.Warnings[0].Value != "DPT" {
		t.Errorf("load --services-file --json: exit %d %v %+v\n%s", code, err, lj, out)
	}
	if code, _, errOut := cli(t, "roster", "load", roster, "--db", db, "--services-file", filepath.Join(dir, "none.yaml")); code == 0 || !strings.Contains(errOut, "services file") {
		t.Errorf("missing services file: exit %d %s", code, errOut)
	}
}
