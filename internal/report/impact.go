package report

import (
	"bufio"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
)

// The files of a network change's impact (geoaccess impact) and of
// provider criticality (geoaccess criticality): CSV tables through
// csvsafe, a self-contained summary page, and one printable dossier per
// NPI asked for. Member IDs appear in the members_lost and members_gained
// tables only; the pages and dossiers are aggregates.

// ImpactFiles are the files an impact report owns in its directory.
func ImpactFiles() []string {
	return []string{"impact.csv", "members_lost.csv", "members_gained.csv", "rejected.csv", "index.html"}
}

// CriticalityFiles are the files a criticality report owns in its
// directory, and its folder of dossiers (replaced whole).
func CriticalityFiles() (files, dirs []string) {
	return []string{"criticality.csv", "rejected.csv"}, []string{DossierDir}
}

// DossierDir is the folder of a criticality report's dossiers.
const DossierDir = "dossiers"

// DossierFile is the dossier page of an NPI, in DossierDir.
func DossierFile(npi string) string { return npi + ".html" }

// ImpactHeader is the header of impact.csv.
var ImpactHeader = []string{"county_fips", "state", "county", "discipline", "members", "served_before", "served_after",
	"served_pct_before", "served_pct_after", "pass_before", "pass_after", "providers_counted_before", "providers_counted_after"}

// ChangedHeader is the header of members_lost.csv and members_gained.csv.
var ChangedHeader = []string{"member_id", "discipline", "county_fips", "nearest_npi_before", "nearest_miles_before",
	"nearest_npi_after", "nearest_miles_after"}

// CriticalityHeader is the header of criticality.csv.
var CriticalityHeader = []string{"rank", "npi", "name", "discipline", "county_fips", "members_in_reach", "members_sole", "counties_at_risk"}

// WriteImpact writes impact.csv: one row per county × discipline.
func WriteImpact(dir string, im *adequacy.Impact) error {
	return writeCSV(dir, "impact.csv", ImpactHeader, func(w *csvsafe.Writer) error {
		t := csvsafe.Text
		for _, r := range im.Rows {
			if err := w.Write(t(r.County.FIPS), t(r.County.State), t(r.County.Name), t(r.Discipline.String()), csvsafe.Int(r.Members),
				csvsafe.Int(r.Before.Served), csvsafe.Int(r.After.Served), pct(r.Before.ServedPct), pct(r.After.ServedPct),
				t(yn(r.Before.Pass)), t(yn(r.After.Pass)), csvsafe.Int(r.Before.Counted), csvsafe.Int(r.After.Counted)); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteChangedMembers writes members_lost.csv (lost) or
// members_gained.csv with the members and their nearest provider on each
// network.
func WriteChangedMembers(dir, name string, ms []adequacy.ChangedMember) error {
	return writeCSV(dir, name, ChangedHeader, func(w *csvsafe.Writer) error {
		t := csvsafe.Text
		for _, m := range ms {
			if err := w.Write(t(m.MemberID), t(m.Discipline.String()), t(m.CountyFIPS), t(m.Before.NPI), milesCell(m.Before.Miles),
				t(m.After.NPI), milesCell(m.After.Miles)); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteCriticality writes criticality.csv: every provider ranked.
func WriteCriticality(dir string, c *adequacy.Criticality) error {
	return writeCSV(dir, "criticality.csv", CriticalityHeader, func(w *csvsafe.Writer) error {
		t := csvsafe.Text
		for _, p := range c.Providers {
			if err := w.Write(csvsafe.Int(p.Rank), t(p.Provider.NPI), t(p.Provider.Name), t(p.Provider.Discipline.String()),
				t(p.Provider.CountyFIPS), csvsafe.Int(p.MembersInReach), csvsafe.Int(p.MembersSole), t(countyList(p.CountiesAtRisk))); err != nil {
				return err
			}
		}
		return nil
	})
}

func countyList(cs []*adequacy.County) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.FIPS
	}
	return strings.Join(s, ";")
}

// WriteImpactSummary prints the short summary of an impact.
func WriteImpactSummary(w io.Writer, im *adequacy.Impact, rejected int) {
	b := im.Baseline
	fmt.Fprintf(w, "impact of %s: profile %s %s, roster %s, as of %s\n", im.Label, b.Profile.Name, b.Profile.Version, b.RosterVersion, b.AsOf)
	if b.Plan != nil {
		fmt.Fprintf(w, "plan %s: networks %s\n", b.Plan.ID, strings.Join(b.Plan.Networks, ", "))
	}
	fmt.Fprintf(w, "change: %d row(s) removed (%d counting), %d added (%d counting)\n", len(im.Removed), im.RemovedCounting, len(im.Added), im.AddedCounting)
	fmt.Fprintf(w, "members: %d evaluated, %d rejected; %d member × discipline pairs within reach of a changed provider\n", b.Members, rejected, im.AffectedMembers)
	for _, t := range im.Totals {
		fmt.Fprintf(w, "  %s: %d lost access, %d gained; served %d → %d of %d; counties passing %d → %d of %d (%d to fail, %d to pass)\n",
			t.Discipline, t.Lost, t.Gained, t.ServedBefore, t.ServedAfter, t.Members, t.PassBefore, t.PassAfter, t.Counties, t.ToFail, t.ToPass)
	}
	for _, r := range flippedRows(im) {
		verb := "FAILS"
		if r.After.Pass {
			verb = "passes"
		}
		fmt.Fprintf(w, "  %s %s %-28s %s: %.1f%% → %.1f%% served of %d (%.0f%% required)\n", verb, r.County.FIPS, r.County.Name+", "+r.County.State,
			r.Discipline, r.Before.ServedPct, r.After.ServedPct, r.Members, r.RequiredPct)
	}
}

// flippedRows are the rows whose pass changes, failures first.
func flippedRows(im *adequacy.Impact) []adequacy.ImpactRow {
	var out []adequacy.ImpactRow
	for _, r := range im.Rows {
		if r.Before.Pass != r.After.Pass {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b adequacy.ImpactRow) int {
		if a.After.Pass != b.After.Pass {
			return cmp.Compare(b2i(a.After.Pass), b2i(b.After.Pass))
		}
		return cmp.Compare(b.Before.Served-b.After.Served, a.Before.Served-a.After.Served)
	})
	return out
}

// ImpactPage is what an impact's index.html shows.
type ImpactPage struct {
	Impact   *adequacy.Impact
	Rejected int
	Files    []string
}

// MaxImpactRows bounds the county rows and providers the page lists; the
// CSVs hold them all.
const MaxImpactRows = 500

type impactPageData struct {
	Im        *adequacy.Impact
	B         *adequacy.Baseline
	Rejected  int
	Files     []fileLink
	Changed   []adequacy.ImpactRow
	More      int
	Removed   []adequacy.Provider
	MoreRem   int
	Added     []adequacy.Provider
	MoreAdd   int
	Gate      bool
	LostTotal int
}

// WriteImpactHTML writes index.html: the change, totals by discipline, the
// counties whose figures change (failures first), the changed providers,
// and links to the files. Self-contained: no script, and every value
// escaped.
func WriteImpactHTML(dir string, p ImpactPage) error {
	im := p.Impact
	d := impactPageData{Im: im, B: im.Baseline, Rejected: p.Rejected, Gate: im.LosesCounty(), LostTotal: len(im.Lost)}
	for _, name := range p.Files {
		d.Files = append(d.Files, fileLink{Name: name, What: impactFileWhat(name)})
	}
	changed := flippedRows(im)
	for _, r := range im.Rows {
		if r.Before.Pass == r.After.Pass && (r.Before.Served != r.After.Served || r.Before.Counted != r.After.Counted) {
			changed = append(changed, r)
		}
	}
	d.Changed, d.More = clipRows(changed, MaxImpactRows)
	d.Removed, d.MoreRem = clipRows(im.Removed, MaxImpactRows)
	d.Added, d.MoreAdd = clipRows(im.Added, MaxImpactRows)
	return writeTemplate(dir, "index.html", impactTemplate, d)
}

func clipRows[T any](xs []T, n int) ([]T, int) {
	if len(xs) <= n {
		return xs, 0
	}
	return xs[:n], len(xs) - n
}

func impactFileWhat(name string) string {
	switch name {
	case "impact.csv":
		return "every county × discipline before and after the change"
	case "members_lost.csv":
		return "members served before and not after, with the nearest provider on each network"
	case "members_gained.csv":
		return "members served after and not before"
	case "rejected.csv":
		return "member-file rows not evaluated, with line, column and reason"
	}
	return ""
}

// writeTemplate executes t into dir/name.
func writeTemplate(dir, name string, t *template.Template, data any) error {
	f, err := createOut(dir, name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<15)
	err = t.Execute(w, data)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

var impactFuncs = template.FuncMap{
	"pct":   func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) },
	"miles": miles,
	"yn": func(b bool) string {
		if b {
			return "pass"
		}
		return "FAIL"
	},
	"sub":    func(a, b int) int { return a - b },
	"coord":  func(x float64) string { return strconv.FormatFloat(x, 'f', 5, 64) },
	"counts": func(b *adequacy.Baseline, p adequacy.Provider) bool { return b.Counts(&p) },
	"date": func(d adequacy.Date) string {
		if d.IsZero() {
			return "—"
		}
		return d.String()
	},
	"nets": func(ns []string) string { return strings.Join(ns, ", ") },
	"inf":  func(x float64) bool { return math.IsInf(x, 0) },
	"nan":  func(x float64) bool { return math.IsNaN(x) },
}

const pageHead = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{block "title" .}}{{end}}</title>
<style>
body{font:11pt/1.45 system-ui,sans-serif;max-width:64em;margin:1.5em auto;padding:0 1em;color:#111}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.12em;margin:1.5em 0 .4em;border-bottom:1px solid #999}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.3em 0;min-width:50%}
th,td{border:1px solid #bbb;padding:.2em .45em;text-align:left;vertical-align:top}th{background:#eee}
td.n{text-align:right;font-variant-numeric:tabular-nums}.fail{color:#a00;font-weight:600}.ok{color:#060}
.meta{color:#444;font-size:.9em}.gate{border:2px solid #a00;padding:.4em .7em;margin:.6em 0}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table{break-inside:avoid}}
</style></head><body>
`

var impactTemplate = template.Must(template.New("impact").Funcs(impactFuncs).Parse(pageHead + `
{{define "title"}}Network change impact: {{.Im.Label}}{{end}}
<h1>Network change impact</h1>
<p><strong>{{.Im.Label}}</strong>: {{len .Im.Removed}} provider row(s) leave ({{.Im.RemovedCounting}} counting), {{len .Im.Added}} join ({{.Im.AddedCounting}} counting).</p>
<p class="meta">Standards profile {{.B.Profile.Name}} {{.B.Profile.Version}}; roster {{.B.RosterVersion}}; as of {{.B.AsOf}}{{if .B.Plan}}; plan {{.B.Plan.ID}} (networks {{nets .B.Plan.Networks}}){{end}}; county table: {{.B.CountySource}}.
{{.B.Members}} members evaluated, {{.Rejected}} rejected; {{.Im.AffectedMembers}} member × discipline pairs lie within reach of a changed provider and were re-evaluated.</p>
{{if .Gate}}<p class="gate fail">At least one county × discipline goes from pass to fail.</p>{{end}}

<h2>By discipline</h2>
<div class="scroll"><table>
<tr><th>Discipline</th><th>Members</th><th>Served before</th><th>Served after</th><th>Lost access</th><th>Gained</th><th>Counties passing before</th><th>after</th><th>To fail</th><th>To pass</th><th>Providers counted before</th><th>after</th></tr>
{{range .Im.Totals}}<tr><td>{{.Discipline}}</td><td class="n">{{.Members}}</td><td class="n">{{.ServedBefore}}</td><td class="n">{{.ServedAfter}}</td><td class="n">{{.Lost}}</td><td class="n">{{.Gained}}</td><td class="n">{{.PassBefore}} of {{.Counties}}</td><td class="n">{{.PassAfter}}</td><td class="n{{if .ToFail}} fail{{end}}">{{.ToFail}}</td><td class="n">{{.ToPass}}</td><td class="n">{{.ProvidersBefore}}</td><td class="n">{{.ProvidersAfter}}</td></tr>
{{end}}</table></div>

<h2>Counties that change</h2>
{{if .Changed}}<p class="meta">Counties whose pass or fail changes first (failures first), then those whose served share or providers counted change{{if .More}}; the first {{len .Changed}}, every row is in impact.csv{{end}}.</p>
<div class="scroll"><table>
<tr><th>County</th><th>Discipline</th><th>Members</th><th>Served before</th><th>after</th><th>Required</th><th>Before</th><th>After</th><th>Providers counted before</th><th>after</th></tr>
{{range .Changed}}<tr><td>{{.County.Name}}, {{.County.State}} ({{.County.FIPS}})</td><td>{{.Discipline}}</td><td class="n">{{.Members}}</td><td class="n">{{pct .Before.ServedPct}}%</td><td class="n">{{pct .After.ServedPct}}%</td><td class="n">{{pct .RequiredPct}}%</td><td class="{{if .Before.Pass}}ok{{else}}fail{{end}}">{{yn .Before.Pass}}</td><td class="{{if .After.Pass}}ok{{else}}fail{{end}}">{{yn .After.Pass}}</td><td class="n">{{.Before.Counted}}</td><td class="n">{{.After.Counted}}</td></tr>
{{end}}</table></div>{{else}}<p>No county's figures change.</p>{{end}}

<h2>Providers leaving</h2>
{{if .Removed}}<div class="scroll"><table><tr><th>NPI</th><th>Name</th><th>Discipline</th><th>County</th><th>Location</th><th>Participating</th></tr>
{{range .Removed}}<tr><td>{{.NPI}}</td><td>{{.Name}}</td><td>{{.Discipline}}</td><td>{{.CountyFIPS}}</td><td>{{coord .Location.Lat}}, {{coord .Location.Lon}}</td><td>{{if .Participating}}yes{{else}}no{{end}}</td></tr>
{{end}}</table></div>{{if .MoreRem}}<p class="meta">… and {{.MoreRem}} more.</p>{{end}}{{else}}<p>None.</p>{{end}}

<h2>Providers joining</h2>
{{if .Added}}<div class="scroll"><table><tr><th>NPI</th><th>Name</th><th>Discipline</th><th>County</th><th>Location</th><th>Counts</th></tr>
{{range .Added}}<tr><td>{{.NPI}}</td><td>{{.Name}}</td><td>{{.Discipline}}</td><td>{{.CountyFIPS}}</td><td>{{coord .Location.Lat}}, {{coord .Location.Lon}}</td><td>{{if counts $.B .}}yes{{else}}no{{end}}</td></tr>
{{end}}</table></div>{{if .MoreAdd}}<p class="meta">… and {{.MoreAdd}} more.</p>{{end}}{{else}}<p>None.</p>{{end}}

<h2>Files</h2>
<ul>{{range .Files}}<li><a href="{{.Name}}">{{.Name}}</a>: {{.What}}</li>
{{end}}</ul>
<p class="meta">Made by geoaccess. A member is served when at least the required number of counting providers lie within the time and distance standard of the member's county (geodesic miles on the WGS84 ellipsoid). The rows equal the gap report run on the roster before and after the change; only the members within reach of a changed provider were evaluated again. This page names no member: members_lost.csv and members_gained.csv do.</p>
</body></html>
`))

// DossierContext is what a dossier says about where it comes from.
type DossierContext struct {
	Rank []adequacy.ProviderCriticality // the NPI's rows in the criticality ranking, if any
	Of   int                            // providers ranked
}

// RanksOf picks an NPI's rows out of a criticality ranking.
func RanksOf(c *adequacy.Criticality, npi string) DossierContext {
	ctx := DossierContext{Of: len(c.Providers)}
	for _, p := range c.Providers {
		if p.Provider.NPI == npi {
			ctx.Rank = append(ctx.Rank, p)
		}
	}
	return ctx
}

// WriteDossier writes one NPI's dossier page into dir (a criticality
// report's DossierDir): aggregate figures only, no member identified.
func WriteDossier(dir string, dz *adequacy.Dossier, ctx DossierContext) error {
	var totals []adequacy.ImpactTotal // of the NPI's disciplines
	for _, t := range dz.Impact.Totals {
		if slices.ContainsFunc(dz.Rows, func(p adequacy.Provider) bool { return p.Discipline == t.Discipline }) {
			totals = append(totals, t)
		}
	}
	return writeTemplate(dir, DossierFile(dz.NPI), dossierTemplate, struct {
		D      *adequacy.Dossier
		B      *adequacy.Baseline
		Ctx    DossierContext
		Totals []adequacy.ImpactTotal
	}{dz, dz.Impact.Baseline, ctx, totals})
}

var dossierTemplate = template.Must(template.New("dossier").Funcs(impactFuncs).Parse(pageHead + `
{{define "title"}}Provider dossier: NPI {{.D.NPI}}{{if .D.Name}} — {{.D.Name}}{{end}}{{end}}
<h1>Provider dossier: NPI {{.D.NPI}}{{if .D.Name}} — {{.D.Name}}{{end}}</h1>
<p>{{if .D.Joining}}This provider does not participate{{if .B.Plan}} in plan {{.B.Plan.ID}}'s networks{{end}}: the figures say what <strong>joining</strong> would add.{{else}}This provider participates: the figures say what its <strong>leaving</strong> would do to members' access.{{end}}</p>
<p class="meta">Standards profile {{.B.Profile.Name}} {{.B.Profile.Version}}; roster {{.B.RosterVersion}}; as of {{.B.AsOf}}{{if .B.Plan}}; plan {{.B.Plan.ID}}{{end}}; {{.B.Members}} members evaluated. Figures are counts of members; no member is identified.</p>

<h2>Locations</h2>
<div class="scroll"><table><tr><th>Discipline</th><th>County</th><th>Location</th><th>Participating</th><th>Networks</th></tr>
{{range .D.Rows}}<tr><td>{{.Discipline}}</td><td>{{.CountyFIPS}}</td><td>{{coord .Location.Lat}}, {{coord .Location.Lon}}</td><td>{{if .Participating}}yes{{else}}no{{end}}</td><td>{{nets .Networks}}</td></tr>
{{end}}</table></div>
{{if .Ctx.Rank}}<p>Criticality rank{{if gt (len .Ctx.Rank) 1}}s{{end}} among {{.Ctx.Of}} participating providers: {{range $i, $r := .Ctx.Rank}}{{if $i}}; {{end}}{{$r.Provider.Discipline}} {{$r.Rank}} ({{$r.MembersSole}} sole-access members of {{$r.MembersInReach}} in reach){{end}}.</p>{{end}}
{{if not .D.Counting}}<p class="fail">None of its locations counts toward the standard (telehealth only, not accepting new patients, not effective on the as-of date, or outside the plan's networks): it reaches no member for the standard.</p>{{end}}

<h2>{{if .D.Joining}}What joining would add{{else}}What leaving would do{{end}}</h2>
<div class="scroll"><table><tr><th>Discipline</th><th>{{if .D.Joining}}Members gaining access{{else}}Members losing access{{end}}</th><th>Counties passing before</th><th>after</th></tr>
{{range .Totals}}<tr><td>{{.Discipline}}</td><td class="n">{{if $.D.Joining}}{{.Gained}}{{else}}{{.Lost}}{{end}}</td><td class="n">{{.PassBefore}} of {{.Counties}}</td><td class="n">{{.PassAfter}}</td></tr>
{{end}}</table></div>
{{with .D.ChangedMiles}}{{if .N}}<p>{{if $.D.Joining}}Today, the nearest counting provider of the {{.N}} members who would gain access{{else}}Without it, the nearest counting provider of the {{.N}} members who would lose access{{end}} is {{miles .Median}} miles away at the median, {{miles .P90}} at the 90th percentile, {{miles .Max}} at most{{if .NoneAvailable}} ({{.NoneAvailable}} would have none at all){{end}}.</p>{{end}}{{end}}

<h2>By county</h2>
{{if .D.Counties}}<div class="scroll"><table><tr><th>County</th><th>Discipline</th><th>Members</th><th>In reach</th><th>{{if .D.Joining}}Would gain access{{else}}Sole access: would lose it{{end}}</th><th>Served before</th><th>after</th><th>Required</th><th>Before</th><th>After</th></tr>
{{range .D.Counties}}<tr><td>{{.County.Name}}, {{.County.State}} ({{.County.FIPS}})</td><td>{{.Discipline}}</td><td class="n">{{.Members}}</td><td class="n">{{.InReach}}</td><td class="n">{{.Changed}}</td><td class="n">{{pct .Before.ServedPct}}%</td><td class="n">{{pct .After.ServedPct}}%</td><td class="n">{{pct .RequiredPct}}%</td><td class="{{if .Before.Pass}}ok{{else}}fail{{end}}">{{yn .Before.Pass}}</td><td class="{{if .After.Pass}}ok{{else}}fail{{end}}">{{yn .After.Pass}}</td></tr>
{{end}}</table></div>{{else}}<p>No member of the file lies within the standard of its locations.</p>{{end}}

<h2>Nearest alternatives</h2>
{{if .D.Alternatives}}<p class="meta">For each location, the nearest other counting providers of the discipline, geodesic miles from it.</p>
<div class="scroll"><table><tr><th>From</th><th>NPI</th><th>Name</th><th>Discipline</th><th>County</th><th>Miles</th></tr>
{{range .D.Alternatives}}<tr><td>{{coord .From.Location.Lat}}, {{coord .From.Location.Lon}}</td><td>{{.Provider.NPI}}</td><td>{{.Provider.Name}}</td><td>{{.Provider.Discipline}}</td><td>{{.Provider.CountyFIPS}}</td><td class="n">{{miles .Miles}}</td></tr>
{{end}}</table></div>{{else}}<p>No other counting provider of its discipline.</p>{{end}}
<p class="meta">Made by geoaccess. A member is served when at least the required number of counting providers lie within the time and distance standard of the member's county; under a "choice of N" standard a provider is irreplaceable for the members who have exactly N within reach, itself one of them.</p>
</body></html>
`))
