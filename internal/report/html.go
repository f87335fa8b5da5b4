package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// WriteHTML writes index.html: a page that needs nothing but itself (maps
// inline, no scripts or styles fetched), with the totals, the worst
// counties first, every county row in a sortable table, and the
// recruitment ranking when there is one.
// svgs holds each discipline's map, as WriteMaps rendered it.
func WriteHTML(dir string, r *adequacy.GapReport, svgs map[adequacy.Discipline][]byte, picks []adequacy.RecruitPick, rejected int) error {
	var maps []mapSection
	for _, d := range r.Disciplines {
		maps = append(maps, mapSection{Discipline: d.String(), Name: d.Name(), SVG: template.HTML(svgs[d])})
	}
	page := pageData{Report: r, Totals: r.Totals, Worst: r.Worst(25), Rows: r.Counties, Maps: maps, Rejected: rejected, Unserved: len(r.Unserved)}
	if len(picks) > 0 {
		page.Picks = picks[:min(len(picks), 200)]
		page.MorePicks = len(picks) - len(page.Picks)
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return fmt.Errorf("write index.html: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = pageTemplate.Execute(w, page)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write index.html: %w", err)
	}
	return nil
}

type mapSection struct {
	Discipline, Name string
	SVG              template.HTML
}

type pageData struct {
	Report    *adequacy.GapReport
	Totals    []adequacy.DisciplineTotal
	Worst     []adequacy.CountyRow
	Rows      []adequacy.CountyRow
	Maps      []mapSection
	Picks     []adequacy.RecruitPick
	MorePicks int
	Rejected  int
	Unserved  int
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"pct": func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"mi": func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return fmt.Sprintf("%.1f", x)
	},
	"yn": func(b bool) string {
		if b {
			return "pass"
		}
		return "FAIL"
	},
	"src":  typeSource,
	"sub":  func(a, b int) int { return a - b },
	"join": func(xs []string) string { return strings.Join(xs, ", ") },
	"share": func(t adequacy.DisciplineTotal) string {
		if t.Members == 0 {
			return "0.0"
		}
		return fmt.Sprintf("%.1f", 100*float64(t.Served)/float64(t.Members))
	},
}).Parse(pageHTML))

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Geo-access gap report — {{.Report.Profile.Name}} {{.Report.Profile.Version}}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 24px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f2f2f2;cursor:pointer;position:sticky;top:0}
td.l,th.l{text-align:left}
tr.FAIL td.v{color:#a50026;font-weight:bold}
.meta{color:#555}
svg{max-width:100%;height:auto;border:1px solid #eee}
</style></head><body>
<h1>Geo-access gap report</h1>
<p class="meta">Profile <b>{{.Report.Profile.Name}} {{.Report.Profile.Version}}</b> ({{.Report.Profile.Title}}) ·
roster <b>{{.Report.RosterVersion}}</b> · as of <b>{{.Report.AsOf}}</b> · county table: {{.Report.CountySource}} ·
{{.Report.Members}} members evaluated, {{.Rejected}} rows rejected (rejected.csv), {{.Unserved}} member × discipline pairs unserved (unserved.csv).</p>

<h2>By discipline</h2>
<table><tr><th class="l">Discipline</th><th>Members</th><th>Served</th><th>Served %</th><th>Counties</th><th>Pass share</th><th>Meet minimum</th><th>No provider anywhere</th></tr>
{{range .Totals}}<tr><td class="l">{{.Discipline}}</td><td>{{.Members}}</td><td>{{.Served}}</td><td>{{share .}}</td><td>{{.Counties}}</td><td>{{.CountiesPass}}</td><td>{{.CountiesMinPass}}</td><td>{{.Unreachable}}</td></tr>
{{end}}</table>

<h2>Worst counties</h2>
{{if .Worst}}<table class="sortable"><thead><tr><th class="l">County</th><th class="l">Type</th><th class="l">Discipline</th><th>Members</th><th>Served %</th><th>Required %</th><th>Unserved</th><th>Nearest median mi</th><th>Nearest p90 mi</th></tr></thead><tbody>
{{range .Worst}}<tr><td class="l">{{.County.Name}}, {{.County.State}} ({{.County.FIPS}})</td><td class="l">{{.County.Designation.Type}}</td><td class="l">{{.Discipline}}</td><td>{{.Members}}</td><td>{{pct .ServedPct}}</td><td>{{pct .RequiredPct}}</td><td>{{sub .Members .Served}}</td><td>{{mi .NearestP50}}</td><td>{{mi .NearestP90}}</td></tr>
{{end}}</tbody></table>{{else}}<p>Every county passes.</p>{{end}}

<h2>Maps</h2>
{{range .Maps}}<h3>{{.Name}} ({{.Discipline}})</h3>
{{.SVG}}
{{end}}

{{if .Picks}}<h2>Recruitment targets</h2>
<p class="meta">Greedy maximum coverage: each candidate's members newly served after the picks above it.{{if .MorePicks}} {{.MorePicks}} more in recruitment.csv.{{end}}</p>
<table class="sortable"><thead><tr><th>Rank</th><th class="l">NPI</th><th class="l">Name</th><th class="l">Discipline</th><th class="l">County</th><th>Newly served</th><th>Cumulative</th><th>Counties flipped to pass</th></tr></thead><tbody>
{{range .Picks}}<tr><td>{{.Rank}}</td><td class="l">{{.Provider.NPI}}</td><td class="l">{{.Provider.Name}}</td><td class="l">{{.Provider.Discipline}}</td><td class="l">{{.Provider.CountyFIPS}}</td><td>{{.NewlyServed}}</td><td>{{.CumulativeServed}}</td><td>{{.CountiesFlipped}}</td></tr>
{{end}}</tbody></table>{{end}}

<h2>Every county</h2>
<p class="meta">Click a column to sort. Providers counted: within time and distance of at least one member, not telehealth-only (42 CFR 422.116(e)).</p>
<table class="sortable"><thead><tr><th class="l">FIPS</th><th class="l">County</th><th class="l">State</th><th class="l">Type</th><th class="l">Type source</th><th class="l">Discipline</th><th>Members</th><th>Served</th><th>Served %</th><th>Required %</th><th class="l">Share</th><th>Counted</th><th>Minimum</th><th class="l">Minimum met</th><th>Nearest median mi</th><th>Nearest p90 mi</th><th class="l">Credits</th></tr></thead><tbody>
{{range .Rows}}<tr class="{{yn .Pass}}"><td class="l">{{.County.FIPS}}</td><td class="l">{{.County.Name}}</td><td class="l">{{.County.State}}</td><td class="l">{{.County.Designation.Type}}</td><td class="l">{{src .County}}</td><td class="l">{{.Discipline}}</td><td>{{.Members}}</td><td>{{.Served}}</td><td>{{pct .ServedPct}}</td><td>{{pct .RequiredPct}}</td><td class="l v">{{yn .Pass}}</td><td>{{.Counted}}</td><td>{{.MinRequired}}</td><td class="l">{{yn .MinPass}}</td><td>{{mi .NearestP50}}</td><td>{{mi .NearestP90}}</td><td class="l">{{join .Credits}}</td></tr>
{{end}}</tbody></table>
<script>
document.querySelectorAll("table.sortable").forEach(function(t){
  t.querySelectorAll("th").forEach(function(th,i){
    var asc=true;
    th.addEventListener("click",function(){
      var rows=Array.from(t.tBodies[0].rows);
      rows.sort(function(a,b){
        var x=a.cells[i].textContent,y=b.cells[i].textContent,nx=parseFloat(x),ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
        return asc?c:-c;
      });
      asc=!asc;
      rows.forEach(function(r){t.tBodies[0].appendChild(r)});
    });
  });
});
</script>
</body></html>
`

// WriteSummary prints the short summary for a terminal.
func WriteSummary(w io.Writer, r *adequacy.GapReport, rejected int, picks []adequacy.RecruitPick) {
	fmt.Fprintf(w, "gap report: profile %s %s, roster %s, as of %s\n", r.Profile.Name, r.Profile.Version, r.RosterVersion, r.AsOf)
	if r.ProfileExpired {
		fmt.Fprintf(w, "standards carried forward: profile %s %s ended %s and no later version is loaded\n", r.Profile.Name, r.Profile.Version, r.Profile.Effective.To)
	}
	fmt.Fprintf(w, "members: %d evaluated, %d rejected\n", r.Members, rejected)
	for _, t := range r.Totals {
		verdict := "PASS"
		if t.CountiesPass < t.Counties {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s\n", verdict, t.Summary())
	}
	worst := r.Worst(10)
	if len(worst) > 0 {
		fmt.Fprintln(w, "worst counties:")
		for _, c := range worst {
			fmt.Fprintf(w, "  %s %-28s %-11s %s  %5.1f%% served of %d (%.0f%% required)\n", c.County.FIPS, c.County.Name+", "+c.County.State,
				c.County.Designation.Type, c.Discipline, c.ServedPct, c.Members, c.RequiredPct)
		}
	}
	if len(picks) > 0 {
		last := picks[len(picks)-1]
		fmt.Fprintf(w, "recruitment: %d candidates would newly serve %d member-disciplines; the top one serves %d\n", len(picks), last.CumulativeServed, picks[0].NewlyServed)
	}
}
