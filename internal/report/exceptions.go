package report

import (
	"bufio"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
)

// ExceptionsDir is the folder of the printable packets.
const ExceptionsDir = "exceptions"

// ExceptionContext is what every packet says about how it was made.
type ExceptionContext struct {
	Profile       *adequacy.Profile
	AsOf          adequacy.Date
	RosterVersion string
	CountySource  string
	Area          *adequacy.ServiceArea
	Census        string
}

// ExceptionHeader is the header of exceptions.csv.
var ExceptionHeader = []string{"ssa_county_code", "county_fips", "state", "county", "county_type", "specialty_code", "specialty",
	"max_miles", "max_minutes", "members", "served", "served_pct", "required_pct", "time_distance_met", "providers_counted",
	"minimum_required", "minimum_met", "unserved_members", "unserved_cells", "nearest_beyond_npi", "nearest_beyond_name",
	"nearest_beyond_miles", "candidates_within", "declined", "not_credentialed", "closed_panel", "no_response", "other", "packet"}

// packetName is a packet's file name in ExceptionsDir: <ssa>-<specialty>.html,
// or fips<FIPS>-<specialty>.html for a county without an SSA code.
func packetName(ssa string, x *adequacy.Exception) string {
	if ssa == "" {
		ssa = "fips" + x.Row.County.FIPS
	}
	return ssa + "-" + x.Row.Discipline.CMSSpecialty() + ".html"
}

// ExceptionFiles are the files the exceptions command owns in its
// directory, and ExceptionsDir the folder (replaced whole by each run).
func ExceptionFiles() []string {
	return []string{"exceptions.csv", "rejected.csv", "rejected_candidates.csv"}
}

// WriteExceptions writes exceptions.csv (one row per failing SSA county ×
// specialty) and a printable packet for each in exceptions/, which it
// creates: write into a fresh directory (NewOutputFor), so the folder
// holds this run's packets only.
func WriteExceptions(dir string, exs []adequacy.Exception, ctx ExceptionContext) (int, error) {
	pdir := filepath.Join(dir, ExceptionsDir)
	if err := os.Mkdir(pdir, 0o755); err != nil {
		return 0, fmt.Errorf("write %s: %w", ExceptionsDir, err)
	}
	w, err := createCSV(dir, "exceptions.csv", ExceptionHeader)
	if err != nil {
		return 0, err
	}
	packets := 0
	for i := range exs {
		x := &exs[i]
		for _, ssa := range ctx.Area.SSAOf(x.Row.County) {
			name := packetName(ssa, x)
			if err = writePacket(pdir, name, ssa, x, ctx); err != nil {
				return packets, w.close(err)
			}
			packets++
			if err = w.row(exceptionRecord(ssa, x, ExceptionsDir+"/"+name)...); err != nil {
				return packets, w.close(err)
			}
		}
	}
	return packets, w.close(nil)
}

func exceptionRecord(ssa string, x *adequacy.Exception, packet string) []csvsafe.Cell {
	r, c := &x.Row, x.Row.County
	by := map[adequacy.ContractStatus]int{}
	for _, n := range x.Candidates {
		by[n.Candidate.Status]++
	}
	npi, name, mi := "", "", milesCell(math.NaN())
	if len(x.Nearest) > 0 {
		npi, name, mi = x.Nearest[0].Provider.NPI, x.Nearest[0].Provider.Name, milesCell(x.Nearest[0].Miles)
	}
	t, n := csvsafe.Text, csvsafe.Int
	return []csvsafe.Cell{t(ssa), t(c.FIPS), t(c.State), t(c.Name), t(c.Designation.Type.String()), t(r.Discipline.CMSSpecialty()), t(r.Discipline.Name()),
		csvsafe.Number(limit(x.Rule.MaxMiles)), csvsafe.Number(limit(x.Rule.MaxMinutes)), n(r.Members), n(r.Served), pct(r.ServedPct), pct(r.RequiredPct),
		t(yn(r.Pass)), n(r.Counted), n(r.MinRequired), t(yn(r.MinPass)), n(x.Unserved), n(len(x.Cells)), t(npi), t(name), mi,
		n(len(x.Candidates)), n(by[adequacy.StatusDeclined]), n(by[adequacy.StatusNotCredentialed]),
		n(by[adequacy.StatusClosedPanel]), n(by[adequacy.StatusNoResponse]), n(by[adequacy.StatusOther]), t(packet)}
}

func limit(x float64) string {
	if x == 0 {
		return ""
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

type packetData struct {
	SSA  string
	X    *adequacy.Exception
	Ctx  ExceptionContext
	Rule adequacy.Rule
}

func writePacket(pdir, name, ssa string, x *adequacy.Exception, ctx ExceptionContext) error {
	f, err := createOut(pdir, name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<15)
	err = packetTemplate.Execute(w, packetData{SSA: ssa, X: x, Ctx: ctx, Rule: x.Rule})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", ExceptionsDir, name, err)
	}
	return nil
}

var packetTemplate = template.Must(template.New("packet").Funcs(template.FuncMap{
	"pct":   func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) },
	"miles": miles,
	"coord": func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) },
	"lim": func(x float64, unit string) string {
		if x == 0 {
			return "none"
		}
		return strconv.FormatFloat(x, 'f', -1, 64) + " " + unit
	},
	"yn": func(b bool) string {
		if b {
			return "met"
		}
		return "NOT met"
	},
	"addr": func(a adequacy.Address) string {
		return strings.Join(nonEmpty(a.Line1, a.Line2, a.City, strings.TrimSpace(a.State+" "+a.ZIP)), ", ")
	},
	"date": func(d adequacy.Date) string {
		if d.IsZero() {
			return "—"
		}
		return d.String()
	},
	"share": func(x float64) string { return strconv.FormatFloat(100*x, 'f', -1, 64) + "%" },
	"inf":   func(x float64) bool { return math.IsInf(x, 0) },
}).Parse(packetHTML))

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

const packetHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Exception request: {{.X.Row.County.Name}}, {{.X.Row.County.State}} (SSA {{.SSA}}) — {{.X.Row.Discipline.Name}} ({{.X.Row.Discipline.CMSSpecialty}})</title>
<style>
body{font:11pt/1.4 system-ui,sans-serif;max-width:60em;margin:1.5em auto;padding:0 1em;color:#111}
h1{font-size:1.35em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.3em 0}th,td{border:1px solid #bbb;padding:.2em .4em;text-align:left;vertical-align:top}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
.fail{color:#a00;font-weight:600}.ok{color:#060}.meta{color:#444;font-size:.9em}
.box{border:1px solid #666;min-height:7em;margin:.3em 0 1em;padding:.3em}.line{border-bottom:1px solid #666;min-width:18em;display:inline-block;height:1.2em}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,.box{break-inside:avoid}}
</style></head><body>
<h1>Exception request, 42 CFR 422.116(f)</h1>
<p><strong>{{.X.Row.County.Name}}, {{.X.Row.County.State}}</strong> — SSA state/county code {{.SSA}} (county FIPS {{.X.Row.County.FIPS}}), {{.X.Row.County.Designation.Type}} county<br>
<strong>{{.X.Row.Discipline.Name}}</strong>, CMS specialty code {{.X.Row.Discipline.CMSSpecialty}}</p>
<p>Contract number <span class="line"></span> Plan <span class="line"></span><br>Prepared by <span class="line"></span> Date <span class="line"></span></p>

<h2>1. The standard</h2>
<table>
<tr><th>Maximum distance</th><td>{{lim .Rule.MaxMiles "miles"}}</td><th>Maximum time</th><td>{{lim .Rule.MaxMinutes "minutes"}}</td></tr>
<tr><th>Providers required within both</th><td>{{.Rule.ProvidersRequired}}</td><th>Limits from</th><td>{{.Rule.Source}}</td></tr>
<tr><th>Share of members to serve</th><td>{{pct .X.Row.RequiredPct}}%{{if .X.Row.Credits}} (after credits: {{range $i, $c := .X.Row.Credits}}{{if $i}}, {{end}}{{$c}}{{end}}){{end}}</td><th>Minimum number of providers</th><td>{{.X.Row.MinRequired}} ({{.X.Row.MinSource}})</td></tr>
</table>
<p class="meta">Standards profile {{.Ctx.Profile.Name}} {{.Ctx.Profile.Version}} ({{.Ctx.Profile.Source}}); county table: {{.Ctx.CountySource}}. Time is estimated from distance ({{.Ctx.Profile.Time.Name}}).</p>

<h2>2. Where the network stands</h2>
<table>
<tr><th>{{.Ctx.Census}}: members in the county</th><td class="n">{{.X.Row.Members}}</td><th>Served</th><td class="n">{{.X.Row.Served}} ({{pct .X.Row.ServedPct}}%)</td></tr>
<tr><th>Time and distance</th><td class="{{if .X.Row.Pass}}ok{{else}}fail{{end}}">{{yn .X.Row.Pass}}</td><th>Providers counted</th><td class="n">{{.X.Row.Counted}}</td></tr>
<tr><th>Minimum number</th><td class="{{if .X.Row.MinPass}}ok{{else}}fail{{end}}">{{yn .X.Row.MinPass}}</td><th>Median / 90th percentile miles to the nearest provider</th><td class="n">{{miles .X.Row.NearestP50}} / {{miles .X.Row.NearestP90}}</td></tr>
</table>

<h2>3. Members not served</h2>
<p>{{.X.Unserved}} member(s) of the county have fewer than {{.Rule.ProvidersRequired}} contracted provider(s) within the standard.{{if .X.Cells}} Where they live, counted on a grid of {{(index .X.Cells 0).Size}}° cells (no member is identified):{{end}}</p>
{{if .X.Cells}}<table><tr><th>Cell, south-west corner (latitude, longitude)</th><th>Members not served</th></tr>
{{range .X.Cells}}<tr><td>{{coord .Lat}}, {{coord .Lon}}</td><td class="n">{{.Unserved}}</td></tr>
{{end}}</table>{{else}}<p>None: every member is served; the county fails on the minimum number of providers.</p>{{end}}

<h2>4. Pattern of care: the nearest contracted providers beyond the standard</h2>
<p>Contracted providers that count under the standard but lie beyond it for every {{if .X.Unserved}}member not served{{else}}member of the county{{end}}, nearest first, with the distance to the closest such member (geodesic miles).</p>
{{if .X.Nearest}}<table><tr><th>NPI</th><th>Name</th><th>Service address</th><th>County FIPS</th><th>Miles</th><th>Nearest for members</th></tr>
{{range .X.Nearest}}<tr><td>{{.Provider.NPI}}</td><td>{{.Provider.Name}}</td><td>{{addr .Provider.Address}}</td><td>{{.Provider.CountyFIPS}}</td><td class="n">{{miles .Miles}}</td><td class="n">{{.NearestFor}}</td></tr>
{{end}}</table>{{else}}<p>No contracted provider of this specialty counts under the standard anywhere.</p>{{end}}

<h2>5. Providers within the standard the plan does not contract with</h2>
<p>Every candidate from the candidates file within the standard of at least one member of the county, nearest first, with the plan's record of contracting.</p>
{{if .X.Candidates}}<table><tr><th>NPI</th><th>Name</th><th>Service address</th><th>Miles</th><th>Members not served within reach</th><th>Status</th><th>Since</th><th>Notes</th></tr>
{{range .X.Candidates}}<tr><td>{{.Candidate.Provider.NPI}}</td><td>{{.Candidate.Provider.Name}}</td><td>{{addr .Candidate.Provider.Address}}</td><td class="n">{{miles .Miles}}</td><td class="n">{{.UnservedWithin}}</td><td>{{.Candidate.Status}}</td><td>{{date .Candidate.StatusDate}}</td><td>{{.Candidate.Notes}}</td></tr>
{{end}}</table>{{else}}<p>None in the candidates file.</p>{{end}}

<h2>6. The plan's justification</h2>
<p>Rationale (providers not available, or farther providers consistent with the local pattern of care):</p><div class="box"></div>
<p>Efforts to contract with the providers in section 5:</p><div class="box"></div>
<p>How members not served get care (other factors, 42 CFR 422.112(a)(10)):</p><div class="box"></div>

<p class="meta">Made by geoaccess on as-of date {{.Ctx.AsOf}}; roster {{.Ctx.RosterVersion}}; service area: {{.Ctx.Area.Basis}}. Distances are geodesic miles on the WGS84 ellipsoid.</p>
</body></html>
`

// RejectedCandidate is one problem with a row of the candidates file.
type RejectedCandidate struct {
	Line                       int
	NPI, Column, Value, Reason string
}

// WriteRejectedCandidates writes rejected_candidates.csv: every bad row of
// the candidates file, with line, column and reason.
func WriteRejectedCandidates(dir string, rows []RejectedCandidate) error {
	w, err := createCSV(dir, "rejected_candidates.csv", []string{"line", "npi", "column", "value", "reason"})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err = w.row(csvsafe.Int(r.Line), csvsafe.Text(r.NPI), csvsafe.Text(r.Column), csvsafe.Text(r.Value), csvsafe.Text(r.Reason)); err != nil {
			break
		}
	}
	return w.close(err)
}
