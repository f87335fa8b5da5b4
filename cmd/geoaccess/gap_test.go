package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/data"
)

// gapMembers writes a small member file: served in Manhattan, unserved in
// Nome, one bad row.
func gapMembers(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("member_id,lat,lon\nA,40.75,-73.99\nB,64.5,-165.41\nC,91,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// candidatesFile writes the sample roster's non-participating providers.
func candidatesFile(t *testing.T, path string) {
	t.Helper()
	r, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	var ps = r.Providers[:0:0]
	for _, p := range r.Providers {
		if !p.Participating {
			ps = append(ps, p)
		}
	}
	writeRoster(t, filepath.Dir(path), filepath.Base(path), ps)
}

func ls(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// gap --out replaces an earlier report's files — removing those the new
// report does not write — leaves other files alone, and leaves no
// temporary directory behind.
func TestGapOutReplacesOnlyItsFiles(t *testing.T) {
	dir := t.TempDir()
	members, cands, out := filepath.Join(dir, "members.csv"), filepath.Join(dir, "cands.csv"), filepath.Join(dir, "report")
	sample, err := data.SampleMembers() // enough unserved members for recruitment picks
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(members, sample, 0o644)
	candidatesFile(t, cands)
	mustCLI(t, "gap", "--members", members, "--out", out, "--as-of", "2026-11-24", "--detail", "--candidates", cands)
	for _, f := range []string{"member_access.csv", "recruitment.csv", "index.html", "map_PT.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("first report: %v", err)
		}
	}
	notes := filepath.Join(out, "notes.txt")
	os.WriteFile(notes, []byte("mine"), 0o644)

	// Without --detail and --candidates, and for PT only: the earlier
	// report's detail, recruitment and other maps must not stay beside it.
	mustCLI(t, "gap", "--members", members, "--out", out, "--as-of", "2026-11-24", "--discipline", "PT")
	got := strings.Join(ls(t, out), " ")
	if want := "adequacy.csv gaps.geojson index.html map_PT.svg notes.txt rejected.csv unserved.csv"; got != want {
		t.Errorf("report directory holds %s, want %s", got, want)
	}
	if b, _ := os.ReadFile(notes); string(b) != "mine" {
		t.Error("a file the report does not own was changed")
	}
	if got := strings.Join(ls(t, dir), " "); got != "cands.csv members.csv report" {
		t.Errorf("beside the report: %s (a temporary directory left behind?)", got)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("report directory mode %v, %v", st.Mode(), err)
	}
}

// gap --out refuses a symbolic link, for the directory or any report file
// in it, and changes nothing where it points.
func TestGapOutRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	members := filepath.Join(dir, "members.csv")
	gapMembers(t, members)
	elsewhere := filepath.Join(dir, "elsewhere")
	os.Mkdir(elsewhere, 0o755)
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("precious"), 0o644)

	link := filepath.Join(dir, "link")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, "gap", "--members", members, "--out", link, "--as-of", "2026-11-24")
	if code != 1 || !strings.Contains(errOut, "is a symbolic link") || len(ls(t, elsewhere)) != 0 {
		t.Errorf("symlinked --out: exit %d, %s; %v written where it points", code, errOut, ls(t, elsewhere))
	}

	out := filepath.Join(dir, "report")
	os.Mkdir(out, 0o755)
	if err := os.Symlink(victim, filepath.Join(out, "index.html")); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cli(t, "gap", "--members", members, "--out", out, "--as-of", "2026-11-24")
	if b, _ := os.ReadFile(victim); code != 1 || !strings.Contains(errOut, "index.html is a symbolic link") || string(b) != "precious" {
		t.Errorf("symlinked index.html: exit %d, %s; victim now %q", code, errOut, b)
	}
	if got := strings.Join(ls(t, out), " "); got != "index.html" {
		t.Errorf("the refused report wrote %s", got)
	}
	if got := strings.Join(ls(t, dir), " "); got != "elsewhere link members.csv report victim.txt" {
		t.Errorf("beside the report: %s", got)
	}
}

// gap refuses an input that is one of the report's own files in --out —
// by name, through a symbolic link or a hard link — rather than
// overwrite or remove it.
func TestGapOutRefusesItsOwnInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	os.Mkdir(out, 0o755)
	inside := filepath.Join(out, "unserved.csv")
	gapMembers(t, inside)
	want, _ := os.ReadFile(inside)

	symlink, hardlink := filepath.Join(dir, "sym.csv"), filepath.Join(dir, "hard.csv")
	os.Symlink(inside, symlink)
	os.Link(inside, hardlink)
	cands := filepath.Join(out, "member_access.csv") // removed as stale without --detail
	candidatesFile(t, cands)
	for _, args := range [][]string{
		{"--members", inside},
		{"--members", symlink},
		{"--members", hardlink},
		{"--members", filepath.Join(dir, "..", filepath.Base(dir), "report", ".", "unserved.csv")},
		{"--members", filepath.Join(dir, "sym.csv"), "--roster", cands},
		{"--members", symlink, "--cpuprofile", filepath.Join(out, "index.html")},
	} {
		args := append([]string{"gap", "--out", out, "--as-of", "2026-11-24"}, args...)
		code, _, errOut := cli(t, args...)
		if code != 1 || !strings.Contains(errOut, "which the report would overwrite or remove") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
		if b, _ := os.ReadFile(inside); string(b) != string(want) {
			t.Fatalf("%v: the input was overwritten", args)
		}
	}
	if got := strings.Join(ls(t, out), " "); got != "member_access.csv unserved.csv" {
		t.Errorf("the refused reports left %s", got)
	}
	// A member file in the directory that is no report file is fine.
	mine := filepath.Join(out, "members.csv")
	gapMembers(t, mine)
	mustCLI(t, "gap", "--members", mine, "--out", out, "--as-of", "2026-11-24")
}
