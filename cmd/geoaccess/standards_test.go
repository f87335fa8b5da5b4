package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The yearly update as the README gives it: next year's county table (here
// this year's, renamed), a new version from the latest, and decisions that
// take each version on its own dates.
func TestStandardsNewVersion(t *testing.T) {
	dir := t.TempDir()
	table, err := os.ReadFile(filepath.Join("..", "..", "data", "assets", "standards", "cms-hsd-2026.csv"))
	if err != nil {
		t.Fatal(err)
	}
	tablePath := filepath.Join(dir, "tables", "hsd-2027.csv")
	os.MkdirAll(filepath.Dir(tablePath), 0o755)
	if err := os.WriteFile(tablePath, table, 0o644); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "cms-ma-2027.yaml")
	out := mustCLI(t, "standards", "new-version", "cms-ma", "--county-table", tablePath, "--out", profile)
	if !strings.Contains(out, "cms-ma 2027.1, 2027-01-01 to 2027-12-31, county table tables/hsd-2027.csv") {
		t.Errorf("new-version said:\n%s", out)
	}
	b, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version: \"2027.1\"", "county_table: tables/hsd-2027.csv", "from: \"2027-01-01\"", "to: \"2027-12-31\""} {
		if !strings.Contains(string(b), want) {
			t.Errorf("profile file lacks %q:\n%s", want, b)
		}
	}
	list := mustCLI(t, "standards", "profiles", "--profile-file", profile, "--today", "2026-11-30")
	if !strings.Contains(list, "2027.1   2027-01-01 to 2027-12-31  upcoming") || !strings.Contains(list, "warning: qhp-ffe") ||
		strings.Contains(list, "warning: cms-ma") {
		t.Errorf("profiles with 2027 loaded:\n%s", list)
	}
	list = mustCLI(t, "standards", "profiles", "--today", "2027-01-02")
	if !strings.Contains(list, "2026.1   2026-01-01 to 2026-12-31  expired, in use  -1") || !strings.Contains(list, "warning: cms-ma has no version in effect on 2027-01-02") {
		t.Errorf("profiles after the end:\n%s", list)
	}
	decide := func(args ...string) map[string]any {
		t.Helper()
		out := mustCLI(t, append([]string{"check", "--lat", "40.75", "--lon", "-73.99", "--discipline", "PT", "--json"}, args...)...)
		var ds []map[string]any
		if err := json.Unmarshal([]byte(out), &ds); err != nil || len(ds) != 1 {
			t.Fatalf("%v: %s", err, out)
		}
		return ds[0]
	}
	if d := decide("--profile-file", profile, "--as-of", "2027-01-02"); d["profile_version"] != "2027.1" || d["profile_expired"] != false || d["served"] != true {
		t.Errorf("2027 decision: %v", d)
	}
	if d := decide("--profile-file", profile, "--as-of", "2026-12-31"); d["profile_version"] != "2026.1" {
		t.Errorf("2026 decision: %v", d)
	}
	code, _, errOut := cli(t, "check", "--lat", "40.75", "--lon", "-73.99", "--discipline", "PT", "--as-of", "2027-01-02")
	if code != 1 || !strings.Contains(errOut, "as_of: 2027-01-02 is outside profile cms-ma's effective period (2026.1: 2026-01-01 to 2026-12-31)") {
		t.Errorf("named date past the end without 2027: exit %d %s", code, errOut)
	}
	code, _, errOut = cli(t, "standards", "new-version", "cms-ma", "--out", profile, "--from", "soon")
	if code != 2 || !strings.Contains(errOut, "--from") {
		t.Errorf("bad --from: exit %d %s", code, errOut)
	}
}

// Asking a standards subcommand for help is not a usage error; leaving
// out its argument is.
func TestStandardsHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"standards", "import-hsd", "--help"}, 0},
		{[]string{"standards", "import-hsd", "-h"}, 0},
		{[]string{"standards", "new-version", "--help"}, 0},
		{[]string{"standards", "import-hsd"}, 2},
		{[]string{"standards", "new-version", "--out", "x.yaml"}, 2},
	} {
		code, _, errOut := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, "usage: geoaccess standards") {
			t.Errorf("%v: exit %d, want %d\n%s", tc.args, code, tc.code, errOut)
		}
	}
}
