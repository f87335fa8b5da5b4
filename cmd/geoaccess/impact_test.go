package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/pgtest"
)

const sampleMembersCSV = "../../data/assets/sample/members.csv"

// readCSVFile reads a report's CSV as records of cells.
func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		out = append(out, strings.Split(line, ","))
	}
	return out
}

// mostCritical runs criticality over the sample and returns its first
// row (the provider whose leaving loses the most members).
func mostCritical(t *testing.T) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "crit")
	mustCLI(t, "criticality", "--members", sampleMembersCSV, "--as-of", "2026-11-24", "--out", out)
	rows := readCSVFile(t, filepath.Join(out, "criticality.csv"))
	if rows[1][6] == "0" || rows[1][7] == "" {
		t.Fatalf("the most critical provider loses nobody: %v", rows[1])
	}
	return rows[1]
}

// The impact command: removing the most critical provider loses exactly
// its sole-access members and fails its counties at risk; --fail-on-loss
// turns that into exit status 3; a replacement at the same place loses
// nobody.
func TestImpactCLI(t *testing.T) {
	top := mostCritical(t) // rank,npi,name,discipline,county_fips,members_in_reach,members_sole,counties_at_risk
	dir := t.TempDir()
	out := filepath.Join(dir, "impact")
	args := []string{"impact", "--members", sampleMembersCSV, "--remove", top[1], "--as-of", "2026-11-24", "--out", out}
	code, stdout, stderr := cli(t, append(args, "--fail-on-loss")...)
	if code != 3 || !strings.Contains(stderr, "goes from pass to fail (--fail-on-loss)") {
		t.Fatalf("--fail-on-loss: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, top[3]+": "+top[6]+" lost access") || !strings.Contains(stdout, "FAILS "+strings.Split(top[7], ";")[0]) {
		t.Errorf("summary:\n%s", stdout)
	}
	if got := ls(t, out); !slices.Equal(got, []string{"impact.csv", "index.html", "members_gained.csv", "members_lost.csv", "rejected.csv"}) {
		t.Errorf("files: %v", got)
	}
	lost := readCSVFile(t, filepath.Join(out, "members_lost.csv"))
	if strings.Join(lost[0], ",") != "member_id,discipline,county_fips,nearest_npi_before,nearest_miles_before,nearest_npi_after,nearest_miles_after" ||
		len(lost)-1 != atoi(t, top[6]) {
		t.Errorf("members_lost.csv: %d rows, criticality says %s", len(lost)-1, top[6])
	}
	for _, rec := range lost[1:] {
		if rec[1] != top[3] || rec[3] != top[1] && rec[3] == "" {
			t.Errorf("lost row %v", rec)
		}
	}
	failing := map[string]bool{}
	for _, rec := range readCSVFile(t, filepath.Join(out, "impact.csv"))[1:] {
		if rec[9] == "Y" && rec[10] == "N" {
			failing[rec[0]+" "+rec[3]] = true
		}
	}
	for _, c := range strings.Split(top[7], ";") {
		if !failing[c+" "+top[3]] {
			t.Errorf("county %s at risk by criticality does not fail: %v", c, failing)
		}
	}
	if len(failing) != len(strings.Split(top[7], ";")) {
		t.Errorf("failing %v, at risk %s", failing, top[7])
	}
	// Without the gate the same run succeeds.
	mustCLI(t, args...)

	// A replacement at the same location: nothing lost, the gate passes.
	roster, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := mustNetwork(t, roster).RowsOf([]string{top[1]})
	if err != nil {
		t.Fatal(err)
	}
	repl := roster.Providers[rows[0]]
	repl.NPI, repl.Name = "1234567893", "Replacement"
	add := writeRoster(t, dir, "add.csv", []adequacy.Provider{repl})
	stdout = mustCLI(t, "impact", "--members", sampleMembersCSV, "--remove", top[1], "--add", add, "--as-of", "2026-11-24", "--out", out, "--fail-on-loss")
	if !strings.Contains(stdout, top[3]+": 0 lost access, 0 gained") || !strings.Contains(stdout, "1 added (1 counting)") {
		t.Errorf("replacement:\n%s", stdout)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("%q is not a number", s)
		}
		n = 10*n + int(r-'0')
	}
	return n
}

func mustNetwork(t *testing.T, r *adequacy.Roster) *adequacy.Network {
	t.Helper()
	n, err := adequacy.NewNetwork(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Bad input: an unknown NPI is named, bad --add rows are listed with line
// and column, and nothing is written.
func TestImpactCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "impact")
	roster, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	known := roster.Providers[0].NPI
	bad := filepath.Join(dir, "bad_add.csv")
	os.WriteFile(bad, []byte("npi,discipline,lat,lon\n1234567893,PT,91,-74\n1234567893,XX,40,-74\n"), 0o644)
	dup := writeRoster(t, dir, "dup.csv", roster.Providers[:1])
	npis := filepath.Join(dir, "npis.txt")
	os.WriteFile(npis, []byte("npi\n"+known+"\n\n# a comment\nabc\n"), 0o644)
	base := []string{"impact", "--members", sampleMembersCSV, "--as-of", "2026-11-24", "--out", out}
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--remove", known + ",1234567893"}, 1, []string{`NPI "1234567893" not in the roster sample-2026.11`}},
		{[]string{"--add", bad}, 1, []string{"--add", "line 2", "lat", "line 3", "discipline"}},
		{[]string{"--add", dup}, 1, []string{"add[0]: NPI " + known, "already in the roster"}},
		{[]string{"--remove-file", npis}, 1, []string{"line 5", `"abc"`}},
		{nil, 2, []string{"say what changes"}},
		{[]string{"--from-version", "1", "--to-version", "2"}, 2, []string{"give --db"}},
		{[]string{"--from-version", "1"}, 2, []string{"give both --from-version and --to-version"}},
	} {
		code, stdout, stderr := cli(t, append(slices.Clone(base), c.args...)...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, stderr)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", c.args, out)
		}
	}
}

// The criticality command ranks every participating provider and writes
// a dossier per --npi; an NPI the roster lacks is named.
func TestCriticalityCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "crit")
	roster, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	var par, non string
	participating := 0
	for _, p := range roster.Providers {
		switch {
		case p.Participating:
			participating++
			if par == "" {
				par = p.NPI
			}
		case non == "":
			non = p.NPI
		}
	}
	stdout := mustCLI(t, "criticality", "--members", sampleMembersCSV, "--as-of", "2026-11-24", "--out", out, "--npi", par+","+non)
	rows := readCSVFile(t, filepath.Join(out, "criticality.csv"))
	if len(rows)-1 != participating || rows[1][0] != "1" {
		t.Errorf("criticality.csv: %d rows for %d participating providers", len(rows)-1, participating)
	}
	for _, npi := range []string{par, non} {
		b, err := os.ReadFile(filepath.Join(out, "dossiers", npi+".html"))
		if err != nil {
			t.Fatal(err)
		}
		want := "What leaving would do"
		if npi == non {
			want = "What joining would add"
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("dossier %s lacks %q", npi, want)
		}
	}
	if !strings.Contains(stdout, "dossier "+non+": joining") {
		t.Errorf("summary:\n%s", stdout)
	}
	code, _, stderr := cli(t, "criticality", "--members", sampleMembersCSV, "--as-of", "2026-11-24", "--out", filepath.Join(dir, "x"), "--npi", "1234567893")
	if code != 1 || !strings.Contains(stderr, `--npi: NPI "1234567893" not in the roster`) {
		t.Errorf("unknown --npi: exit %d, %s", code, stderr)
	}
}

// Against PostgreSQL: the impact between two published versions equals
// the impact of the rows that differ; a version that does not exist is an
// error; roster diff --impact adds the members affected; --plan reads the
// database's plans.
func TestImpactVersionsCLI(t *testing.T) {
	db := pgtest.URL(t)
	t.Setenv("DATABASE_URL", "")
	top := mostCritical(t)
	dir := t.TempDir()
	sample, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "db", "migrate", "--db", db)
	mustCLI(t, "roster", "load", writeRoster(t, dir, "v1.csv", sample.Providers), "--db", db)
	var cut []adequacy.Provider
	for _, p := range sample.Providers {
		if p.NPI != top[1] {
			cut = append(cut, p)
		}
	}
	mustCLI(t, "roster", "load", writeRoster(t, dir, "v2.csv", cut), "--db", db)

	byVersion, byRemove := filepath.Join(dir, "v"), filepath.Join(dir, "r")
	stdout := mustCLI(t, "impact", "--members", sampleMembersCSV, "--db", db, "--from-version", "1", "--to-version", "current", "--as-of", "2026-11-24", "--out", byVersion)
	if !strings.Contains(stdout, "impact of pg:2") || !strings.Contains(stdout, "roster pg:1") {
		t.Errorf("versions:\n%s", stdout)
	}
	mustCLI(t, "impact", "--members", sampleMembersCSV, "--roster", filepath.Join(dir, "v1.csv"), "--remove", top[1], "--as-of", "2026-11-24", "--out", byRemove)
	for _, f := range []string{"impact.csv", "members_lost.csv", "members_gained.csv"} {
		a, _ := os.ReadFile(filepath.Join(byVersion, f))
		b, _ := os.ReadFile(filepath.Join(byRemove, f))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs between the versions and the removal", f)
		}
	}
	code, _, stderr := cli(t, "impact", "--members", sampleMembersCSV, "--db", db, "--from-version", "1", "--to-version", "99", "--as-of", "2026-11-24", "--out", filepath.Join(dir, "x"))
	if code != 1 || !strings.Contains(stderr, "--to-version: read roster version 99") {
		t.Errorf("version 99: exit %d, %s", code, stderr)
	}

	// roster diff --impact.
	stdout = mustCLI(t, "roster", "diff", "1", "2", "--db", db, "--impact", "--members", sampleMembersCSV, "--as-of", "2026-11-24")
	if !strings.Contains(stdout, "removed (1):") || !strings.Contains(stdout, "members who lose access ("+top[6]+"):") {
		t.Errorf("roster diff --impact:\n%s", stdout)
	}
	var dj struct {
		Impact struct {
			Lost []struct {
				MemberID string `json:"member_id"`
			} `json:"members_lost"`
			Flipped []struct {
				CountyFIPS string `json:"county_fips"`
			} `json:"counties_flipped"`
		} `json:"impact"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "roster", "diff", "1", "2", "--db", db, "--json", "--impact", "--members", sampleMembersCSV, "--as-of", "2026-11-24")), &dj); err != nil {
		t.Fatal(err)
	}
	if len(dj.Impact.Lost) != atoi(t, top[6]) || len(dj.Impact.Flipped) == 0 {
		t.Errorf("roster diff --impact --json: %+v", dj.Impact)
	}
	if code, _, stderr := cli(t, "roster", "diff", "1", "2", "--db", db, "--impact"); code != 2 || !strings.Contains(stderr, "--impact and --members go together") {
		t.Errorf("--impact without --members: exit %d %s", code, stderr)
	}

	// --plan from the database's plans.
	mustCLI(t, "plans", "load", "../../data/assets/plans/example.yaml", "--db", db)
	stdout = mustCLI(t, "impact", "--members", sampleMembersCSV, "--db", db, "--plan", "acme-ma", "--remove", cut[0].NPI, "--as-of", "2026-11-24", "--out", filepath.Join(dir, "plan"))
	if !strings.Contains(stdout, "plan acme-ma: networks ACME-MA") || !strings.Contains(stdout, "roster pg:2") {
		t.Errorf("--plan:\n%s", stdout)
	}
}

// readNPIFile never panics, and what it returns are valid NPIs; a bad
// line is an error naming its number.
func FuzzReadNPIFile(f *testing.F) {
	f.Add("npi\n1234567893\n\n# note\n1245319599\n")
	f.Add("\ufeff1234567893\r\n")
	f.Add("12345\n")
	f.Add(strings.Repeat("9", 5000))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		path := filepath.Join(dir, "npis.txt")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		npis, err := readNPIFile(path)
		if err != nil {
			if !strings.Contains(err.Error(), "--remove-file") {
				t.Errorf("error without its flag: %v", err)
			}
			return
		}
		for _, n := range npis {
			if data.ValidNPI(n) != nil {
				t.Errorf("returned %q", n)
			}
		}
	})
}
