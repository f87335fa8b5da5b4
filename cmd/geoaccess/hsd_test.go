package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	sampleRosterPath  = "../../data/assets/sample/roster.csv"
	sampleMembersPath = "../../data/assets/sample/members.csv"
)

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func csvRows(t *testing.T, path string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(string(mustReadFile(t, path)))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// hsd export with a member file, then without one (the ZIP points stand
// in, and the output says so), then with a service area.
func TestHSDExportCLI(t *testing.T) {
	dir := t.TempDir()
	out := mustCLI(t, "hsd", "export", "--roster", sampleRosterPath, "--members", sampleMembersPath, "--out", dir, "--as-of", "2026-11-24")
	for _, want := range []string{"census: the member file (2000 members evaluated, 0 rejected", "service area: the counties of the member file; 210 counties",
		"hsd_provider.csv: ", "field edits: ", "preview: ", "left blank, for the plan to fill:", "wrote " + dir} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
	for _, f := range []string{"hsd_provider.csv", "hsd_provider.xlsx", "hsd_facility.csv", "hsd_facility.xlsx", "hsd_errors.csv", "hsd_preview.csv",
		"hsd_not_listed.csv", "rejected.csv", "README.txt"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if rows := csvRows(t, filepath.Join(dir, "hsd_preview.csv")); len(rows) != 1+210*4 || rows[1][7] != "member file" {
		t.Errorf("preview: %d rows, census %q", len(rows), rows[1][7])
	}

	zdir := t.TempDir()
	out = mustCLI(t, "hsd", "export", "--roster", sampleRosterPath, "--out", zdir, "--as-of", "2026-11-24", "--service-area", "fips:36061,ssa:45410")
	if !strings.Contains(out, "census: no member file, so one point per ZIP code of the service area's counties stands for the beneficiaries") ||
		!strings.Contains(out, "service area: given with --service-area; 2 counties, 2 SSA county codes") {
		t.Errorf("ZIP points:\n%s", out)
	}
	readme := string(mustReadFile(t, filepath.Join(zdir, "README.txt")))
	if !strings.Contains(readme, "census: no member file") || !strings.Contains(readme, "roster: csv:") {
		t.Errorf("README.txt:\n%s", readme)
	}
	for _, r := range csvRows(t, filepath.Join(zdir, "hsd_preview.csv"))[1:] {
		if r[7] != "ZIP points" || (r[0] != "33420" && r[0] != "45410") {
			t.Errorf("preview row %q", r)
		}
	}
	for _, r := range csvRows(t, filepath.Join(zdir, "hsd_facility.csv"))[1:] {
		if r[0] != "33420" && r[0] != "45410" {
			t.Errorf("facility row for %s, outside the service area", r[0])
		}
	}

	// A service area from a file.
	area := filepath.Join(t.TempDir(), "area.csv")
	if err := os.WriteFile(area, []byte("ssa\n33420\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = mustCLI(t, "hsd", "export", "--roster", sampleRosterPath, "--out", t.TempDir(), "--as-of", "2026-11-24", "--service-area", area)
	if !strings.Contains(out, "1 counties, 1 SSA county codes") {
		t.Errorf("service area file:\n%s", out)
	}
}

func TestHSDExportCLIErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"hsd"}, 2, "hsd needs a subcommand"},
		{[]string{"hsd", "import"}, 2, `unknown hsd subcommand "import"`},
		{[]string{"hsd", "export", "--out", dir}, 2, "give the contracted network with --roster FILE or --db URL"},
		{[]string{"hsd", "export", "--roster", sampleRosterPath}, 2, "--out is required"},
		{[]string{"hsd", "export", "--roster", sampleRosterPath, "--out", dir, "--service-area", "12"}, 2, `"12" is not a county code`},
		{[]string{"hsd", "export", "--roster", sampleRosterPath, "--out", dir, "--service-area", "51510"}, 2, "51510 is the SSA code of Wetzel, WV and the FIPS code of Alexandria, VA: write ssa:51510 or fips:51510"},
		{[]string{"hsd", "export", "--roster", sampleRosterPath, "--out", dir, "--as-of", "2026-02-30"}, 2, "--as-of"},
		{[]string{"exceptions", "--roster", sampleRosterPath, "--out", dir}, 2, "--members and --candidates are required"},
	} {
		code, _, errOut := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, %s\nwant exit %d with %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// exceptions end to end: a packet and a row per failing county ×
// specialty, bad candidate rows listed.
func TestExceptionsCLI(t *testing.T) {
	dir := t.TempDir()
	cands := filepath.Join(dir, "candidates.csv")
	roster := csvRows(t, sampleRosterPath)
	var b strings.Builder
	w := csv.NewWriter(&b)
	head := append(append([]string{}, roster[0]...), "contract_status", "status_date", "notes")
	w.Write(head)
	par := 0
	for i, h := range roster[0] {
		if h == "participating" {
			par = i
		}
	}
	n := 0
	for _, r := range roster[1:] {
		if r[par] == "N" {
			r[par] = ""
			w.Write(append(r, []string{"declined", "not credentialed", "closed panel", "no response", "other"}[n%5], "2026-06-01", "called"))
			n++
		}
	}
	w.Write(append(make([]string, len(roster[0])), "maybe", "", ""))
	w.Flush()
	if err := os.WriteFile(cands, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "exceptions", "--members", sampleMembersPath, "--roster", sampleRosterPath, "--candidates", cands, "--out", dir, "--as-of", "2026-11-24")
	if !strings.Contains(out, "rows rejected (rejected_candidates.csv)") || !strings.Contains(out, "failing county x specialty rows: ") {
		t.Errorf("exceptions:\n%s", out)
	}
	rows := csvRows(t, filepath.Join(dir, "exceptions.csv"))
	if len(rows) < 2 {
		t.Fatalf("exceptions.csv: %d rows", len(rows))
	}
	for _, r := range rows[1:] {
		packet := filepath.Join(dir, r[len(r)-1])
		if page := string(mustReadFile(t, packet)); !strings.Contains(page, "SSA state/county code "+r[0]) {
			t.Errorf("%s lacks its county", packet)
		}
	}
	if bad := csvRows(t, filepath.Join(dir, "rejected_candidates.csv")); len(bad) < 2 || !strings.Contains(bad[len(bad)-1][4], "must be declined") {
		t.Errorf("rejected_candidates.csv: %q", bad)
	}

	// Run again with a service area of one county: the packets folder is
	// this run's alone; a file beside the report's stays.
	if err := os.WriteFile(filepath.Join(dir, ExceptionsStale), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "exceptions", "--members", sampleMembersPath, "--roster", sampleRosterPath, "--candidates", "../../data/assets/sample/candidates.csv",
		"--out", dir, "--as-of", "2026-11-24", "--service-area", "ssa:45410")
	rows = csvRows(t, filepath.Join(dir, "exceptions.csv"))
	ents, _ := os.ReadDir(filepath.Join(dir, "exceptions"))
	if len(ents) != len(rows)-1 {
		t.Errorf("%d files in exceptions/, %d rows in exceptions.csv", len(ents), len(rows)-1)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Error("a file that is not the report's was removed")
	}
	// An input inside the report's folder is refused, not overwritten.
	if code, _, errOut := cli(t, "exceptions", "--members", sampleMembersPath, "--roster", sampleRosterPath, "--candidates", filepath.Join(dir, "exceptions.csv"),
		"--out", dir); code != 1 || !strings.Contains(errOut, "which the report would overwrite or remove") {
		t.Errorf("candidates file in --out: exit %d %s", code, errOut)
	}
}

// ExceptionsStale is a packet an earlier run left.
const ExceptionsStale = "exceptions/99999-049.html"

func TestHSDExportNoXLSX(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "hsd", "export", "--roster", sampleRosterPath, "--out", dir, "--as-of", "2026-11-24", "--service-area", "fips:36061")
	// The twins of the first run go: they would not match the new CSVs.
	if _, err := os.Stat(filepath.Join(dir, "hsd_facility.xlsx")); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "hsd", "export", "--roster", sampleRosterPath, "--out", dir, "--as-of", "2026-11-24", "--service-area", "fips:36061", "-xlsx=false")
	if !strings.Contains(out, "(no .xlsx twins: -xlsx=false)") {
		t.Errorf("stdout:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "hsd_facility.xlsx")); err == nil {
		t.Error("hsd_facility.xlsx written with -xlsx=false")
	}
}
