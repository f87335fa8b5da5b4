package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/pgtest"
)

// readCSV reads a report file's rows, header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// column returns a header's column, or fails.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %s in %v", name, header)
	}
	return i
}

// gap --plan --service --recruit-service end to end: only the plan's
// networks count under its profile, members outside its service area are
// in rejected.csv with why, every service has its rows, unserved rows,
// map and page layer, and the ranking targets the service; a later report
// without services removes their maps.
func TestGapServicesAndPlanCLI(t *testing.T) {
	dir := t.TempDir()
	members, cands, out := filepath.Join(dir, "members.csv"), filepath.Join(dir, "cands.csv"), filepath.Join(dir, "report")
	sample, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(members, sample, 0o644)
	candidatesFile(t, cands)
	stdout := mustCLI(t, "gap", "--members", members, "--out", out, "--as-of", "2026-11-24", "--plans-file", examplePlansPath, "--plan", "acme-ma",
		"--service", "lymphedema", "--service", "Hand Therapy", "--candidates", cands, "--recruit-service", "lymphedema", "--detail")
	wantAll(t, "summary", stdout, "profile cms-ma 2026.1", "plan acme-ma (Acme Medicare Advantage; plans file:", "): only providers in networks ACME-MA count",
		"lymphedema: ", "hand: ", "PT: ", "recruitment: ")
	got := strings.Join(ls(t, out), " ")
	if want := "adequacy.csv gaps.geojson index.html map_DC.svg map_OT.svg map_PT.svg map_ST.svg map_hand.svg map_lymphedema.svg member_access.csv recruitment.csv rejected.csv unserved.csv"; got != want {
		t.Errorf("report files %s, want %s", got, want)
	}
	adq := readCSV(t, filepath.Join(out, "adequacy.csv"))
	fips, disc, svc := column(t, adq[0], "county_fips"), column(t, adq[0], "discipline"), column(t, adq[0], "service")
	kinds := map[string]int{}
	for _, r := range adq[1:] {
		if (r[disc] == "") == (r[svc] == "") {
			t.Errorf("row with discipline %q and service %q", r[disc], r[svc])
		}
		if !strings.HasPrefix(r[fips], "48") && !strings.HasPrefix(r[fips], "36") {
			t.Errorf("a row for county %s, outside acme-ma's service area", r[fips])
		}
		kinds[r[disc]+r[svc]]++
	}
	if kinds["lymphedema"] == 0 || kinds["hand"] == 0 || kinds["PT"] != kinds["lymphedema"] || kinds["DC"] != kinds["PT"] {
		t.Errorf("rows by subject %v", kinds)
	}
	rej := readCSV(t, filepath.Join(out, "rejected.csv"))
	outside := 0
	for _, r := range rej[1:] {
		if strings.Contains(r[3], "is outside plan acme-ma's service area: its standard does not apply there") {
			outside++
		}
	}
	if outside != 26 { // the sample's Alaska members
		t.Errorf("%d members rejected as outside the service area", outside)
	}
	un := readCSV(t, filepath.Join(out, "unserved.csv"))
	if column(t, un[0], "service") != 3 {
		t.Errorf("unserved.csv header %v", un[0])
	}
	unSvc := 0
	for _, r := range un[1:] {
		if r[3] == "lymphedema" {
			unSvc++
		}
	}
	rec := readCSV(t, filepath.Join(out, "recruitment.csv"))
	if len(rec) < 2 || unSvc == 0 {
		t.Fatalf("%d recruitment rows, %d unserved for lymphedema", len(rec)-1, unSvc)
	}
	for _, r := range rec[1:] {
		if r[column(t, rec[0], "service")] != "lymphedema" || (r[3] != "PT" && r[3] != "OT") {
			t.Errorf("recruitment row %v", r)
		}
	}
	acc := readCSV(t, filepath.Join(out, "member_access.csv"))
	if strings.Join(acc[0][:3], ",") != "member_id,discipline,service" || (len(acc)-1)%6 != 0 {
		t.Errorf("member_access.csv: %v, %d rows (4 disciplines and 2 services a member)", acc[0], len(acc)-1)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	for _, want := range []string{`"key":"lymphedema"`, `"kind":"service"`, `"plan":"acme-ma"`, `href="map_lymphedema.svg"`, "Plan <b>acme-ma</b>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(out, "map_lymphedema.svg"))
	if !strings.Contains(string(svg), "<title>Lymphedema therapy (complete decongestive therapy) access: cms-ma 2026.1 — plan acme-ma") {
		t.Errorf("map_lymphedema.svg title: %.300s", svg)
	}

	// The same report without services or a plan: their maps go.
	mustCLI(t, "gap", "--members", members, "--out", out, "--as-of", "2026-11-24")
	if got := strings.Join(ls(t, out), " "); strings.Contains(got, "lymphedema") || strings.Contains(got, "hand") || !strings.Contains(got, "map_DC.svg") {
		t.Errorf("after a report without services: %s", got)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown service", []string{"--service", "lymphedema", "--service", "reiki"}, 1, `gap: --service services[1]: unknown service "reiki" (known: lymphedema`},
		{"unknown plan", []string{"--plans-file", examplePlansPath, "--plan", "acme-nope"}, 1, `gap: --plan: unknown plan "acme-nope"`},
		{"plan without plans", []string{"--plan", "acme-ma"}, 1, `--plan: unknown plan "acme-ma"`},
		{"plan and another profile", []string{"--plans-file", examplePlansPath, "--plan", "acme-ma", "--profile", "tx-medicaid"}, 1,
			"--profile: plan acme-ma's contract mandates profile cms-ma, not tx-medicaid"},
		{"recruit-service without candidates", []string{"--recruit-service", "lymphedema"}, 2, "--recruit-service needs --candidates"},
	} {
		args := append([]string{"gap", "--members", members, "--out", filepath.Join(dir, "bad"), "--as-of", "2026-11-24"}, tc.args...)
		if code, _, errOut := cli(t, args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q: %s", tc.name, code, tc.code, tc.want, errOut)
		}
	}
}

// gap --plan with --db reads the plans of the database's current version.
func TestGapPlanFromDB(t *testing.T) {
	db := pgtest.URL(t)
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()
	mustCLI(t, "db", "migrate", "--db", db)
	sample, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "roster", "load", writeRoster(t, dir, "roster.csv", sample.Providers), "--db", db)
	mustCLI(t, "plans", "load", examplePlansPath, "--db", db)
	members := filepath.Join(dir, "members.csv")
	gapMembers(t, members) // Manhattan, Nome, a bad row
	out := filepath.Join(dir, "report")
	stdout := mustCLI(t, "gap", "--members", members, "--out", out, "--as-of", "2026-11-24", "--db", db, "--plan", "acme-ppo", "--service", "lymphedema")
	wantAll(t, "summary", stdout, "profile commercial-example", "plan acme-ppo", "members: 1 evaluated, 2 rejected")
	rej := readCSV(t, filepath.Join(out, "rejected.csv"))
	if len(rej) != 3 || !strings.Contains(rej[2][3], "02180 Nome, AK, is outside plan acme-ppo's service area") {
		t.Errorf("rejected.csv %v", rej)
	}
}
