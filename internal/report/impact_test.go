package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

const scriptName = `<script>alert("x")</script>`

// sampleImpact: the sample members with the hostile ones; every
// participating PT within 40 miles of Manhattan leaves (the member "-5"
// there loses access) and providers with hostile names join near Nome,
// AK (where the member "=HYPERLINK(…)" gains it).
func sampleImpact(t *testing.T) (*adequacy.Impact, *adequacy.Criticality, *adequacy.Dossier, *adequacy.Dossier) {
	t.Helper()
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	roster, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	r := *roster
	r.Providers = slices.Clone(roster.Providers)
	manhattan := geo.Point{Lat: 40.75, Lon: -73.99}
	var ch adequacy.Change
	named := 0
	for i := range r.Providers {
		p := &r.Providers[i]
		if p.Discipline == adequacy.PT && p.Participating && geo.Distance(p.Location, manhattan) < 40 {
			ch.Remove = append(ch.Remove, i)
			if named < 3 {
				p.Name = []string{scriptName, hostileNames[0], "O'Brien & <b>Sons</b>"}[named]
				named++
			}
		}
	}
	n, err := adequacy.NewNetwork(&r, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng = eng.WithNetwork(n)
	b, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	ms, _, err := data.ReadMembers(strings.NewReader(string(b)+hostileMembers), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, name := range append([]string{scriptName}, hostileNames...) {
		ch.Add = append(ch.Add, adequacy.Provider{NPI: "123456789" + string(rune('0'+k)), Name: name, Discipline: adequacy.Disciplines[k%4],
			Location: geo.Point{Lat: 64.5 + float64(k)*0.001, Lon: -165.4}, CountyFIPS: "02180", Participating: true, AcceptingNewPatients: true})
	}
	asOf, _ := adequacy.ParseDate("2026-11-24")
	bl, err := eng.NewBaseline(context.Background(), ms, adequacy.ImpactOptions{AsOf: asOf, Criticality: true})
	if err != nil {
		t.Fatal(err)
	}
	im, err := bl.Impact(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	crit, err := bl.Criticality()
	if err != nil {
		t.Fatal(err)
	}
	dz, err := bl.Dossier(context.Background(), r.Providers[ch.Remove[0]].NPI)
	if err != nil {
		t.Fatal(err)
	}
	var np string
	for _, p := range r.Providers {
		if !p.Participating {
			np = p.NPI
			break
		}
	}
	jz, err := bl.Dossier(context.Background(), np)
	if err != nil {
		t.Fatal(err)
	}
	return im, crit, dz, jz
}

// The impact files hold what the impact says, in the columns;
// the pages escape every value and the dossiers name no member.
func TestImpactFiles(t *testing.T) {
	im, crit, dz, jz := sampleImpact(t)
	if len(im.Lost) == 0 || len(im.Gained) == 0 {
		t.Fatalf("the sample change loses %d and gains %d: the test shows nothing", len(im.Lost), len(im.Gained))
	}
	dir := t.TempDir()
	for _, err := range []error{
		WriteImpact(dir, im), WriteChangedMembers(dir, "members_lost.csv", im.Lost), WriteChangedMembers(dir, "members_gained.csv", im.Gained),
		WriteImpactHTML(dir, ImpactPage{Impact: im, Rejected: 2, Files: ImpactFiles()[:4]}), WriteCriticality(dir, crit),
		WriteDossier(dir, dz, RanksOf(crit, dz.NPI)), WriteDossier(dir, jz, DossierContext{}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	rows := readCSV(t, filepath.Join(dir, "impact.csv"))
	if !slices.Equal(rows[0], ImpactHeader) || len(rows) != len(im.Rows)+1 {
		t.Errorf("impact.csv: %d records, header %v", len(rows), rows[0])
	}
	want := strings.Join(ImpactHeader, ",")
	if want != "county_fips,state,county,discipline,members,served_before,served_after,served_pct_before,served_pct_after,pass_before,pass_after,providers_counted_before,providers_counted_after" {
		t.Errorf("impact.csv header %s", want)
	}
	lost := readCSV(t, filepath.Join(dir, "members_lost.csv"))
	if strings.Join(lost[0], ",") != "member_id,discipline,county_fips,nearest_npi_before,nearest_miles_before,nearest_npi_after,nearest_miles_after" || len(lost) != len(im.Lost)+1 {
		t.Errorf("members_lost.csv: %d records, header %v", len(lost), lost[0])
	}
	found := false
	for _, rec := range lost[1:] {
		if rec[0] == "'-5" && rec[1] == "PT" && rec[3] != "" && rec[5] != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("members_lost.csv: no neutralised row for member -5: %v", lost[1:min(4, len(lost))])
	}
	crows := readCSV(t, filepath.Join(dir, "criticality.csv"))
	if strings.Join(crows[0], ",") != "rank,npi,name,discipline,county_fips,members_in_reach,members_sole,counties_at_risk" || len(crows) != len(crit.Providers)+1 || crows[1][0] != "1" {
		t.Errorf("criticality.csv: %d records, %v %v", len(crows), crows[0], crows[1])
	}
	for _, page := range []string{"index.html", DossierFile(dz.NPI), DossierFile(jz.NPI)} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if strings.Contains(s, "<script") || strings.Contains(s, "<b>Sons") {
			t.Errorf("%s: a value is not escaped", page)
		}
		if page == "index.html" && (!strings.Contains(s, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") || !strings.Contains(s, "members_lost.csv")) {
			t.Errorf("%s: the hostile provider name or the file links are missing", page)
		}
		if page != "index.html" {
			for _, id := range []string{"-5", "HYPERLINK", "@SUM(1+1)"} {
				if strings.Contains(s, ">"+id) || strings.Contains(s, id+"<") {
					t.Errorf("%s: names member %s", page, id)
				}
			}
		}
	}
	d, err := os.ReadFile(filepath.Join(dir, DossierFile(dz.NPI)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d), "What leaving would do") || !strings.Contains(string(d), "Nearest alternatives") {
		t.Errorf("dossier of %s lacks its sections", dz.NPI)
	}
	j, _ := os.ReadFile(filepath.Join(dir, DossierFile(jz.NPI)))
	if !strings.Contains(string(j), "What joining would add") {
		t.Errorf("dossier of %s (not participating) does not say what joining adds", jz.NPI)
	}
	var sum bytes.Buffer
	WriteImpactSummary(&sum, im, 2)
	if !strings.Contains(sum.String(), "PT: ") || !strings.Contains(sum.String(), "lost access") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

// A dossier is a page a provider takes to a negotiation: Chromium builds
// it with every section and prints it to a PDF of a page or two; the
// impact summary loads whole too.
func TestDossierPrints(t *testing.T) {
	chromium := packetChromium(t)
	im, crit, dz, _ := sampleImpact(t)
	dir := t.TempDir()
	if err := WriteDossier(dir, dz, RanksOf(crit, dz.NPI)); err != nil {
		t.Fatal(err)
	}
	if err := WriteImpactHTML(dir, ImpactPage{Impact: im, Files: ImpactFiles()}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + t.TempDir()}, args...)
		out, err := exec.CommandContext(ctx, chromium, args...).Output()
		if err != nil {
			t.Fatalf("chromium %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	page := "file://" + filepath.Join(dir, DossierFile(dz.NPI))
	dom := string(run("--dump-dom", page))
	for _, s := range []string{"Provider dossier: NPI " + dz.NPI, "Locations", "What leaving would do", "By county", "Nearest alternatives",
		"&lt;script&gt;alert(\"x\")&lt;/script&gt;"} {
		if !strings.Contains(dom, s) {
			t.Errorf("the dossier Chromium built lacks %q", s)
		}
	}
	pdf := filepath.Join(t.TempDir(), "dossier.pdf")
	run("--no-pdf-header-footer", "--print-to-pdf="+pdf, page)
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := bytes.Count(b, []byte("/Type /Page")) - bytes.Count(b, []byte("/Type /Pages"))
	if !bytes.HasPrefix(b, []byte("%PDF-")) || pages < 1 || pages > 3 {
		t.Errorf("printed %d bytes, %d pages", len(b), pages)
	}
	idx := string(run("--dump-dom", "file://"+filepath.Join(dir, "index.html")))
	for _, s := range []string{"Network change impact", "By discipline", "Counties that change", "Providers leaving", "Providers joining", "members_lost.csv"} {
		if !strings.Contains(idx, s) {
			t.Errorf("the impact page Chromium built lacks %q", s)
		}
	}
}
