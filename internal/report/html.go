package report

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// Page is what index.html shows.
type Page struct {
	Report    *adequacy.GapReport
	Shapes    *geo.CountyMap
	Providers map[string][]geo.Point // counting providers by subject key (GapReport.CountingProviders), drawn on the map
	Picks     []adequacy.RecruitPick
	Rejected  int      // member-file rows not evaluated (rejected.csv)
	Files     []string // the other files of the report directory, linked from the page
}

// MaxPicks is how many recruitment targets the page lists; the rest are
// in recruitment.csv.
const MaxPicks = 500

//go:embed assets/report.js
var pageScript string

//go:embed assets/report.css
var pageStyle string

// WriteHTML writes index.html: one self-contained file (no script, style,
// font or image fetched) holding the report's data once, as JSON, and the
// script that draws it: the totals, an interactive map (pan, zoom, hover
// details, a switcher over the report's layers — its disciplines and
// services), the
// worst counties, the recruitment ranking and every county row in tables
// that sort, filter and page, and links to the other files.
func WriteHTML(dir string, p Page) error {
	r := p.Report
	model := buildPage(r, p.Shapes, p.Providers, p.Picks, MaxPicks)
	data, err := json.Marshal(model)
	if err != nil {
		return fmt.Errorf("write index.html: %w", err)
	}
	page := pageData{Report: r, Totals: r.Totals, Rejected: p.Rejected, Unserved: len(r.Unserved), Picks: len(p.Picks),
		Data: template.JS(data), Script: template.JS(pageScript), Style: template.CSS(pageStyle)}
	page.MorePicks = max(0, len(p.Picks)-MaxPicks)
	page.Worst = len(model.Worst)
	for _, name := range p.Files {
		page.Files = append(page.Files, fileLink{Name: name, What: fileWhat(r, name)})
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

type fileLink struct{ Name, What string }

// fileWhat says what a report file holds.
func fileWhat(r *adequacy.GapReport, name string) string {
	switch name {
	case "adequacy.csv":
		return "every county × discipline (and × service) row"
	case "unserved.csv":
		return "every unserved member × discipline (and × service), with the nearest counting provider"
	case "rejected.csv":
		return "member-file rows not evaluated, with line, column and reason"
	case "member_access.csv":
		return "every member × discipline (and × service)"
	case "recruitment.csv":
		return "every recruitment candidate ranked"
	case "gaps.geojson":
		return "counties and unserved cells for GIS tools"
	}
	if strings.HasPrefix(name, "map_") && strings.HasSuffix(name, ".svg") {
		for _, s := range r.Subjects {
			if MapFile(s.Key()) == name {
				return "static map of " + s.Name() + " (print, slides)"
			}
		}
		return "static map"
	}
	return ""
}

type pageData struct {
	Report    *adequacy.GapReport
	Totals    []adequacy.DisciplineTotal
	Worst     int
	Picks     int
	MorePicks int
	Rejected  int
	Unserved  int
	Files     []fileLink
	Data      template.JS
	Script    template.JS
	Style     template.CSS
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"sub":  func(a, b int) int { return a - b },
	"join": strings.Join,
	"share": func(t adequacy.DisciplineTotal) string {
		if t.Members == 0 {
			return "0.0"
		}
		return fmt.Sprintf("%.1f", 100*float64(t.Served)/float64(t.Members))
	},
}).Parse(pageHTML))

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Geo-access gap report — {{.Report.Profile.Name}} {{.Report.Profile.Version}}</title>
<style>{{.Style}}</style></head><body>
<h1>Geo-access gap report</h1>
<p class="meta">{{with .Report.Plan}}Plan <b>{{.ID}}</b> ({{.Name}}; networks {{join .Networks ", "}}; plans {{$.Report.PlansVersion}}) · {{end}}Profile <b>{{.Report.Profile.Name}} {{.Report.Profile.Version}}</b> ({{.Report.Profile.Title}}) ·
roster <b>{{.Report.RosterVersion}}</b> · as of <b>{{.Report.AsOf}}</b> · county table: {{.Report.CountySource}} ·
{{.Report.Members}} members evaluated, {{.Rejected}} rows rejected, {{.Unserved}} member × discipline{{if .Report.Services}} (or service){{end}} pairs unserved.</p>
<noscript><p><b>This page draws its map and tables with a script; with scripts off, the same figures are in the files below.</b></p></noscript>
{{if .Files}}<h2>Files</h2>
<ul class="files">{{range .Files}}<li><a href="{{.Name}}">{{.Name}}</a>{{if .What}}: {{.What}}{{end}}</li>
{{end}}</ul>{{end}}

<h2>By discipline{{if .Report.Services}} and service{{end}}</h2>
<div class="scroll" tabindex="0" role="region" aria-label="By discipline{{if .Report.Services}} and service{{end}}"><table><thead><tr><th scope="col" class="l">{{if .Report.Services}}Discipline or service{{else}}Discipline{{end}}</th><th scope="col">Members</th><th scope="col">Served</th><th scope="col">Served %</th><th scope="col">Counties</th><th scope="col">Pass share</th><th scope="col">Meet minimum</th><th scope="col">No provider anywhere</th></tr></thead><tbody>
{{range .Totals}}<tr><td class="l">{{.Key}}</td><td>{{.Members}}</td><td>{{.Served}}</td><td>{{share .}}</td><td>{{.Counties}}</td><td>{{.CountiesPass}}</td><td>{{.CountiesMinPass}}</td><td>{{.Unreachable}}</td></tr>
{{end}}</tbody></table></div>

<h2 id="map-title">Map</h2>
<p class="meta">Counties shaded by their served share against the required share; grey: no members. Framed to the plan's counties, with state outlines.</p>
<div id="map" class="map" role="group" aria-labelledby="map-title"></div>

<h2>Worst counties</h2>
{{if .Worst}}<div id="worst"></div>{{else}}<p>Every county passes.</p>{{end}}

{{if .Picks}}<h2>Recruitment targets</h2>
{{if .MorePicks}}<p class="meta">The first {{sub .Picks .MorePicks}} of {{.Picks}}; every one is in recruitment.csv.</p>{{end}}
<div id="picks"></div>{{end}}

<h2>Every county</h2>
<div id="counties"></div>
<script type="application/json" id="report-data">{{.Data}}</script>
<script>{{.Script}}</script>
</body></html>
`

// WriteSummary prints the short summary for a terminal.
func WriteSummary(w io.Writer, r *adequacy.GapReport, rejected int, picks []adequacy.RecruitPick) {
	fmt.Fprintf(w, "gap report: profile %s %s, roster %s, as of %s\n", r.Profile.Name, r.Profile.Version, r.RosterVersion, r.AsOf)
	if r.Plan != nil {
		fmt.Fprintf(w, "plan %s (%s; plans %s): only providers in networks %s count\n", r.Plan.ID, r.Plan.Name, r.PlansVersion, strings.Join(r.Plan.Networks, ", "))
	}
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
				c.County.Designation.Type, c.Key(), c.ServedPct, c.Members, c.RequiredPct)
		}
	}
	if len(picks) > 0 {
		last := picks[len(picks)-1]
		what := "member-disciplines"
		if picks[0].Service != "" {
			what = "members for " + picks[0].Service
		}
		fmt.Fprintf(w, "recruitment: %d candidates would newly serve %d %s; the top one serves %d\n", len(picks), last.CumulativeServed, what, picks[0].NewlyServed)
	}
}
