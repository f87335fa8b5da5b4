package report

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paulmach/orb"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/par"
)

// A map shows one discipline: counties of the states with members shaded
// by how far their served share is from the required one, the grid cells
// of unserved members, the counting providers, a legend and a title with
// the profile and roster versions. Places far apart (Alaska, Hawaii, the
// territories) get panels of their own, each in an equirectangular
// projection scaled by the cosine of its middle latitude.

// MapFile names a discipline's map.
func MapFile(d adequacy.Discipline) string { return "map_" + d.String() + ".svg" }

// WriteMaps writes one SVG map per discipline of the report, rendering
// them in parallel, and returns them for the index page.
func WriteMaps(dir string, r *adequacy.GapReport, shapes *geo.CountyMap, providers map[adequacy.Discipline][]geo.Point) (map[adequacy.Discipline][]byte, error) {
	out := make(map[adequacy.Discipline][]byte, len(r.Disciplines))
	bufs := make([]bytes.Buffer, len(r.Disciplines))
	errs := make([]error, len(r.Disciplines))
	par.For(len(r.Disciplines), 0, func(_, i int) {
		d := r.Disciplines[i]
		if errs[i] = RenderMap(&bufs[i], r, d, shapes, providers[d]); errs[i] == nil {
			errs[i] = os.WriteFile(filepath.Join(dir, MapFile(d)), bufs[i].Bytes(), 0o644)
		}
	})
	for i, d := range r.Disciplines {
		if errs[i] != nil {
			return nil, fmt.Errorf("write %s: %w", MapFile(d), errs[i])
		}
		out[d] = bufs[i].Bytes()
	}
	return out, nil
}

// Legend bins: a passing county, four sizes of shortfall, no members.
var bins = []struct {
	label, color string
	maxGap       float64 // percentage points below the required share
}{
	{"passes", "#4caf50", 0},
	{"short by < 5 points", "#fdae61", 5},
	{"short by 5–15 points", "#f46d43", 15},
	{"short by 15–40 points", "#d73027", 40},
	{"short by > 40 points", "#a50026", math.Inf(1)},
}

const noMembers = "#e6e6e6"

func fillFor(row adequacy.CountyRow) string {
	if row.Pass {
		return bins[0].color
	}
	gap := row.RequiredPct - row.ServedPct
	for _, b := range bins[1:] {
		if gap < b.maxGap {
			return b.color
		}
	}
	return bins[len(bins)-1].color
}

func region(state string) string {
	switch state {
	case "AK", "HI", "AS":
		return state
	case "PR", "VI":
		return "PR"
	case "GU", "MP":
		return "GU"
	}
	return "US"
}

var regionNames = map[string]string{"US": "Contiguous states", "AK": "Alaska", "HI": "Hawaii", "PR": "Puerto Rico and Virgin Islands", "GU": "Guam and Northern Mariana Islands", "AS": "American Samoa"}

// panel is one region's frame: which counties it draws and how it projects.
type panel struct {
	name         string
	shapes       []*geo.CountyShape
	lon0, cosφ   float64
	minX, maxY   float64
	scale        float64
	x0, y0, w, h float64 // placement on the canvas, pixels
	wrap         bool    // Alaska: east longitudes drawn west of the antimeridian
}

func (p *panel) project(lon, lat float64) (float64, float64) {
	if p.wrap && lon > 0 {
		lon -= 360
	}
	return p.x0 + ((lon-p.lon0)*p.cosφ-p.minX)*p.scale, p.y0 + (p.maxY-lat)*p.scale
}

// panels lays out a frame per region with members.
func panels(r *adequacy.GapReport, shapes *geo.CountyMap) []*panel {
	states := map[string]bool{}
	for _, row := range r.Counties {
		states[row.County.State] = true
	}
	byRegion := map[string]*panel{}
	var order []string
	for i, s := range shapes.Shapes() {
		if !states[s.State] {
			continue
		}
		rg := region(s.State)
		p, ok := byRegion[rg]
		if !ok {
			p = &panel{name: regionNames[rg], wrap: rg == "AK"}
			byRegion[rg] = p
			order = append(order, rg)
		}
		p.shapes = append(p.shapes, &shapes.Shapes()[i])
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i] == "US" && order[j] != "US" })
	var out []*panel
	x, y, rowH := 0.0, 40.0, 0.0
	for k, rg := range order {
		p := byRegion[rg]
		width := 300.0
		if rg == "US" || len(order) == 1 {
			width = 960
		}
		p.fit(width)
		if k > 0 && x+p.w > 960 {
			x, y, rowH = 0, y+rowH+30, 0
		}
		p.x0, p.y0 = x+10, y+20
		x += p.w + 20
		rowH = math.Max(rowH, p.h+20)
		if rg == "US" && len(order) > 1 {
			x, y, rowH = 0, y+rowH+30, 0
		}
		out = append(out, p)
	}
	return out
}

// fit sets the projection so the panel's counties fill width pixels.
func (p *panel) fit(width float64) {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for _, s := range p.shapes {
		for _, poly := range s.Shape {
			for _, pt := range poly[0] {
				lon := pt[0]
				if p.wrap && lon > 0 {
					lon -= 360
				}
				b = b.Extend(orb.Point{lon, pt[1]})
			}
		}
	}
	p.lon0 = (b.Min[0] + b.Max[0]) / 2
	p.cosφ = math.Cos((b.Min[1] + b.Max[1]) / 2 * math.Pi / 180)
	p.minX = (b.Min[0] - p.lon0) * p.cosφ
	spanX := math.Max((b.Max[0]-p.lon0)*p.cosφ-p.minX, 1e-6)
	spanY := math.Max(b.Max[1]-b.Min[1], 1e-6)
	p.maxY = b.Max[1]
	p.scale = width / spanX
	if h := spanY * p.scale; h > 600 { // keep tall regions on the page
		p.scale = 600 / spanY
	}
	p.w, p.h = spanX*p.scale, spanY*p.scale
}

func (p *panel) contains(lon, lat float64) bool {
	x, y := p.project(lon, lat)
	return x >= p.x0-1 && x <= p.x0+p.w+1 && y >= p.y0-1 && y <= p.y0+p.h+1
}

// RenderMap draws discipline d's map as SVG.
func RenderMap(w io.Writer, r *adequacy.GapReport, d adequacy.Discipline, shapes *geo.CountyMap, providers []geo.Point) error {
	rows := map[string]adequacy.CountyRow{}
	for _, row := range r.Counties {
		if row.Discipline == d {
			rows[row.County.FIPS] = row
		}
	}
	ps := panels(r, shapes)
	height := 60.0
	for _, p := range ps {
		height = math.Max(height, p.y0+p.h+40)
	}
	legendY := height
	height += 110
	bw := &errWriter{w: w}
	bw.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="980" height="%.0f" viewBox="0 0 980 %.0f" font-family="sans-serif" font-size="12">`+"\n", height, height)
	bw.printf(`<title>%s access: %s %s, roster %s, as of %s</title>`+"\n", d.Name(), esc(r.Profile.Name), esc(r.Profile.Version), esc(r.RosterVersion), r.AsOf)
	bw.printf(`<text x="10" y="22" font-size="16" font-weight="bold">%s (%s) access — profile %s %s — roster %s — as of %s</text>`+"\n",
		d.Name(), d, esc(r.Profile.Name), esc(r.Profile.Version), esc(r.RosterVersion), r.AsOf)
	for _, p := range ps {
		bw.printf(`<g class="panel"><text x="%.1f" y="%.1f" fill="#555">%s</text>`+"\n", p.x0, p.y0-6, esc(p.name))
		for _, s := range p.shapes {
			fill, tip := noMembers, fmt.Sprintf("%s, %s (%s): no members", s.Name, s.State, s.FIPS)
			if row, ok := rows[s.FIPS]; ok {
				fill = fillFor(row)
				verdict := "PASS"
				if !row.Pass {
					verdict = "FAIL"
				}
				tip = fmt.Sprintf("%s, %s (%s) %s: %s %d of %d served (%.1f%%, %.0f%% required) %s; %d providers counted, %d required",
					s.Name, s.State, s.FIPS, row.County.Designation.Type, d, row.Served, row.Members, row.ServedPct, row.RequiredPct, verdict, row.Counted, row.MinRequired)
			}
			bw.printf(`<path id="c-%s" class="county" fill="%s" stroke="#fff" stroke-width="0.4" d="%s"><title>%s</title></path>`+"\n",
				s.FIPS, fill, p.path(s.Shape), esc(tip))
		}
		p.drawCells(bw, r, d)
		p.drawProviders(bw, providers)
		bw.printf("</g>\n")
	}
	drawLegend(bw, legendY)
	bw.printf("</svg>\n")
	return bw.err
}

func (p *panel) path(mp orb.MultiPolygon) string {
	var b strings.Builder
	for _, poly := range mp {
		for _, ring := range poly {
			for i, pt := range ring {
				x, y := p.project(pt[0], pt[1])
				if i == 0 {
					fmt.Fprintf(&b, "M%.1f %.1f", x, y)
				} else {
					fmt.Fprintf(&b, "L%.1f %.1f", x, y)
				}
			}
			b.WriteString("Z")
		}
	}
	return b.String()
}

func (p *panel) drawCells(bw *errWriter, r *adequacy.GapReport, d adequacy.Discipline) {
	for _, c := range r.Cells {
		n := c.Unserved[d]
		if n == 0 || !p.contains(c.Lon+c.Size/2, c.Lat+c.Size/2) {
			continue
		}
		x, y := p.project(c.Lon, c.Lat+c.Size)
		x2, y2 := p.project(c.Lon+c.Size, c.Lat)
		side := math.Max(math.Max(x2-x, y2-y), 2)
		op := math.Min(0.9, 0.35+0.12*math.Log2(float64(n)))
		bw.printf(`<rect class="unserved" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#111" fill-opacity="%.2f"><title>%d unserved</title></rect>`+"\n",
			x, y, side, side, op, n)
	}
}

func (p *panel) drawProviders(bw *errWriter, pts []geo.Point) {
	for _, pt := range pts {
		if !p.contains(pt.Lon, pt.Lat) {
			continue
		}
		x, y := p.project(pt.Lon, pt.Lat)
		bw.printf(`<circle class="provider" cx="%.1f" cy="%.1f" r="1.3" fill="#1f4e9c"/>`+"\n", x, y)
	}
}

func drawLegend(bw *errWriter, y float64) {
	bw.printf(`<g class="legend"><text x="10" y="%.0f" font-weight="bold">Counties: served share against the required share</text>`+"\n", y+14)
	x := 10.0
	for _, b := range bins {
		bw.printf(`<rect x="%.0f" y="%.0f" width="14" height="14" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", x, y+24, b.color, x+18, y+35, esc(b.label))
		x += 170
	}
	bw.printf(`<rect x="10" y="%.0f" width="14" height="14" fill="%s"/><text x="28" y="%.0f">no members</text>`+"\n", y+50, noMembers, y+61)
	bw.printf(`<rect x="180" y="%.0f" width="14" height="14" fill="#111" fill-opacity="0.6"/><text x="198" y="%.0f">unserved members (grid cell; darker = more)</text>`+"\n", y+50, y+61)
	bw.printf(`<circle cx="527" cy="%.0f" r="3" fill="#1f4e9c"/><text x="536" y="%.0f">counting provider</text></g>`+"\n", y+57, y+61)
}

func esc(s string) string { return html.EscapeString(s) }

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
