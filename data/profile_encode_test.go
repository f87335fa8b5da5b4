package data

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Every built-in profile survives writing and reading back unchanged.
func TestEncodeProfileRoundTrip(t *testing.T) {
	ps, err := BuiltinProfiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			b, err := EncodeProfile(p, "", "a header line")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), "# a header line\n") {
				t.Errorf("header missing:\n%s", b)
			}
			q, err := ParseProfile("encoded.yaml", b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if !reflect.DeepEqual(p, q) {
				t.Errorf("round trip differs:\n%+v\n%+v", p, q)
			}
		})
	}
}

// A profile file's county_table is read relative to the file and used by
// that version alone; the built-in version it does not overlap stays.
func TestLoadProfileVersionWithCountyTable(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("assets/standards/cms-hsd-2026.csv")
	if err != nil {
		t.Fatal(err)
	}
	// A "2027" table: the 2026 one with New York County (36061) turned Rural.
	lines := strings.Split(string(src), "\n")
	changed := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "36061,") {
			lines[i] = strings.Replace(l, "Large Metro", "Rural", 1)
			changed++
		}
	}
	if changed != 1 {
		t.Fatalf("36061 rows changed: %d", changed)
	}
	if err := os.WriteFile(filepath.Join(dir, "hsd-2027.csv"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	builtin, err := BuiltinProfiles()
	if err != nil {
		t.Fatal(err)
	}
	var cms *adequacy.Profile
	for _, p := range builtin {
		if p.Name == "cms-ma" {
			cms = p
		}
	}
	next := *cms
	next.Version = "2027.1"
	next.Effective = adequacy.DateRange{From: cms.Effective.To.AddDays(1), To: cms.Effective.To.AddDays(365)}
	b, err := EncodeProfile(&next, "hsd-2027.csv")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cms-ma-2027.yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadProfiles(file)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ps.Versions("cms-ma")
	if err != nil || len(vs) != 2 || vs[0].Version != "2026.1" || vs[1].Version != "2027.1" {
		t.Fatalf("versions = %v, %v", vs, err)
	}
	if vs[0].Counties != nil || vs[1].Counties == nil {
		t.Fatalf("county tables: 2026 %v, 2027 %v", vs[0].Counties != nil, vs[1].Counties != nil)
	}
	c, err := vs[1].Counties.Lookup("36061")
	if err != nil || c.Designation.Type != adequacy.Rural {
		t.Errorf("2027 table's 36061: %+v %v", c, err)
	}
	// A file overlapping the built-in version replaces it.
	local := *cms
	local.Version = "2026.1-local"
	b, _ = EncodeProfile(&local, "")
	file2 := filepath.Join(dir, "cms-ma-local.yaml")
	os.WriteFile(file2, b, 0o644)
	ps, err = LoadProfiles(file2)
	if err != nil {
		t.Fatal(err)
	}
	if vs, _ := ps.Versions("cms-ma"); len(vs) != 1 || vs[0].Version != "2026.1-local" {
		t.Errorf("local edition did not replace the built-in: %v", vs)
	}
	// Two files with overlapping versions are refused.
	if _, err := LoadProfiles(file2, file2); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("same file twice: %v", err)
	}
	// A missing county table names the field.
	b, _ = EncodeProfile(&next, "missing.csv")
	os.WriteFile(file, b, 0o644)
	if _, err := LoadProfiles(file); err == nil || !strings.Contains(err.Error(), "county_table") {
		t.Errorf("missing table: %v", err)
	}
}
