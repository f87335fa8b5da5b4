package report

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/par"
)

// A static map shows one discipline (or service) for print and slides: the composite
// of layout.go, counties shaded by how far their served share is from the
// required one, state outlines, the grid cells of unserved members, the
// counting providers, a legend and a title with the profile and roster
// versions. Geometry is aggregated — one path per shade, one for the
// outlines, one per shade of cells, one for the providers — so the file
// stays the size of the geography whatever the member count. Details per
// county are in index.html's interactive map and in adequacy.csv.

// MapFile names the map of a report subject, by its key: map_PT.svg,
// map_lymphedema.svg. A service whose code is a discipline's in another
// case (a vocabulary may define "pt") gets map_service-pt.svg, so that no
// two maps share a name on a file system that ignores case.
func MapFile(key string) string {
	if _, err := adequacy.ParseDiscipline(key); err == nil && key != strings.ToUpper(key) {
		return "map_service-" + key + ".svg"
	}
	return "map_" + key + ".svg"
}

// WriteMaps writes one SVG map per subject of the report (each
// discipline, each service), rendering them in parallel; providers are
// the counting providers by subject key (GapReport.CountingProviders).
func WriteMaps(dir string, r *adequacy.GapReport, shapes *geo.CountyMap, providers map[string][]geo.Point) error {
	errs := make([]error, len(r.Subjects))
	l := layout(r, shapes)
	par.For(len(r.Subjects), 0, func(_, i int) {
		key := r.Subjects[i].Key()
		var b bytes.Buffer
		if errs[i] = renderMap(&b, l, r, i, shapes, providers[key]); errs[i] == nil {
			errs[i] = os.WriteFile(filepath.Join(dir, MapFile(key)), b.Bytes(), 0o644)
		}
	})
	for i, s := range r.Subjects {
		if errs[i] != nil {
			return fmt.Errorf("write %s: %w", MapFile(s.Key()), errs[i])
		}
	}
	return nil
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

// Unserved cells: drawn at least minCell pixels wide so they show at any
// scale, darker with more members.
const (
	minCell    = 3.0
	cellColor  = "#2d004b"
	outlineCol = "#4d4d4d"
	providerCl = "#1f4e9c"
)

var cellShades = []struct {
	min     int
	opacity float64
	label   string
}{{1, 0.7, "1–2"}, {3, 0.8, "3–9"}, {10, 0.9, "10–49"}, {50, 1, "50 or more"}}

func cellShade(n int) int {
	k := 0
	for i, s := range cellShades {
		if n >= s.min {
			k = i
		}
	}
	return k
}

func binOf(row adequacy.CountyRow) int {
	if row.Pass {
		return 0
	}
	gap := row.RequiredPct - row.ServedPct
	for i, b := range bins[1:] {
		if gap < b.maxGap {
			return i + 1
		}
	}
	return len(bins) - 1
}

// RenderMap draws the map of the report subject with that key (a
// discipline's code or a service's) as SVG.
func RenderMap(w io.Writer, r *adequacy.GapReport, key string, shapes *geo.CountyMap, providers []geo.Point) error {
	for si, s := range r.Subjects {
		if s.Key() == key {
			return renderMap(w, layout(r, shapes), r, si, shapes, providers)
		}
	}
	return fmt.Errorf("render map: the report has no discipline or service %q", key)
}

func renderMap(w io.Writer, l *mapLayout, r *adequacy.GapReport, si int, shapes *geo.CountyMap, providers []geo.Point) error {
	sub := r.Subjects[si]
	key := sub.Key()
	shade := map[string]int{}
	for _, row := range r.Counties {
		if row.Key() == key {
			shade[row.County.FIPS] = binOf(row)
		}
	}
	top := 34.0
	legendY := top + l.height + 10
	height := legendY + 80
	bw := &errWriter{w: w}
	bw.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		l.width, height, l.width, height)
	plan := ""
	if r.Plan != nil {
		plan = " — plan " + esc(r.Plan.ID)
	}
	bw.printf(`<title>%s access: %s %s%s, roster %s, as of %s</title>`+"\n", esc(sub.Name()), esc(r.Profile.Name), esc(r.Profile.Version), plan, esc(r.RosterVersion), r.AsOf)
	bw.printf(`<text x="10" y="22" font-size="16" font-weight="bold">%s (%s) access — profile %s %s%s — roster %s — as of %s</text>`+"\n",
		esc(sub.Name()), esc(key), esc(r.Profile.Name), esc(r.Profile.Version), plan, esc(r.RosterVersion), r.AsOf)
	bw.printf("<defs>")
	for i, p := range l.panels {
		bw.printf(`<clipPath id="clip%d"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></clipPath>`, i, p.x0, top+p.y0, p.w, p.h)
	}
	bw.printf("</defs>\n")
	all := shapes.Shapes()
	lines := stateOutlines(shapes)
	for i, p := range l.panels {
		bw.printf(`<g class="panel"><text x="%.1f" y="%.1f" fill="#555">%s</text>`+"\n", p.x0, top+p.y0-6, esc(p.name))
		bw.printf(`<g clip-path="url(#clip%d)">`+"\n", i)
		paths := make([][]byte, len(bins)+1) // the bins, then no members
		for _, si := range p.shapes {
			k, ok := shade[all[si].FIPS]
			if !ok {
				k = len(bins)
			}
			paths[k] = p.appendPolygons(paths[k], all[si].Shape, top)
		}
		for k, d := range paths {
			if len(d) == 0 {
				continue
			}
			fill, class := noMembers, "shade-none"
			if k < len(bins) {
				fill, class = bins[k].color, "shade-"+strconv.Itoa(k)
			}
			bw.printf(`<path class="county %s" fill="%s" stroke="#fff" stroke-width="0.4" d="%s"/>`+"\n", class, fill, d)
		}
		var outline []byte
		for _, sl := range lines {
			if region(sl.state) == p.region && p.overlaps(wrapBound(p, sl.bound)) {
				outline = p.appendLine(outline, sl.pts, top)
			}
		}
		if len(outline) > 0 {
			bw.printf(`<path class="states" fill="none" stroke="%s" stroke-width="0.9" stroke-linejoin="round" d="%s"/>`+"\n", outlineCol, outline)
		}
		p.drawCells(bw, r.Cells, si, i, l, top)
		p.drawProviders(bw, providers, i, l, top)
		bw.printf("</g>")
		bw.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#bbb" stroke-width="0.6"/></g>`+"\n", p.x0, top+p.y0, p.w, p.h)
	}
	drawLegend(bw, legendY)
	bw.printf("</svg>\n")
	return bw.err
}

func appendXY(b []byte, cmd byte, x, y float64) []byte {
	b = append(b, cmd)
	b = strconv.AppendFloat(b, math.Round(x*10)/10, 'f', -1, 64)
	b = append(b, ' ')
	return strconv.AppendFloat(b, math.Round(y*10)/10, 'f', -1, 64)
}

func (p *panel) appendPolygons(b []byte, mp orb.MultiPolygon, top float64) []byte {
	for _, poly := range mp {
		for _, ring := range poly {
			if len(ring) < 4 {
				continue
			}
			for i, pt := range ring[:len(ring)-1] {
				x, y := p.project(pt[0], pt[1])
				b = appendXY(b, "LM"[b2i(i == 0)], x, y+top)
			}
			b = append(b, 'Z')
		}
	}
	return b
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p *panel) appendLine(b []byte, pts []orb.Point, top float64) []byte {
	for i, pt := range pts {
		x, y := p.project(pt[0], pt[1])
		b = appendXY(b, "LM"[b2i(i == 0)], x, y+top)
	}
	return b
}

func (p *panel) drawCells(bw *errWriter, cells []adequacy.GapCell, si int, pi int, l *mapLayout, top float64) {
	paths := make([][]byte, len(cellShades))
	for _, c := range cells {
		n := c.UnservedBy[si]
		if n == 0 || l.panelOf(c.Lon+c.Size/2, c.Lat+c.Size/2) != pi {
			continue
		}
		x, y := p.project(c.Lon, c.Lat+c.Size)
		x2, y2 := p.project(c.Lon+c.Size, c.Lat)
		side := math.Max(math.Max(x2-x, y2-y), minCell)
		cx, cy := (x+x2)/2, (y+y2)/2
		k := cellShade(n)
		paths[k] = appendXY(paths[k], 'M', cx-side/2, cy-side/2+top)
		paths[k] = append(paths[k], 'h')
		paths[k] = strconv.AppendFloat(paths[k], math.Round(side*10)/10, 'f', -1, 64)
		paths[k] = append(paths[k], 'v')
		paths[k] = strconv.AppendFloat(paths[k], math.Round(side*10)/10, 'f', -1, 64)
		paths[k] = append(paths[k], 'h')
		paths[k] = strconv.AppendFloat(paths[k], -math.Round(side*10)/10, 'f', -1, 64)
		paths[k] = append(paths[k], 'Z')
	}
	for k, d := range paths {
		if len(d) > 0 {
			bw.printf(`<path class="unserved" fill="%s" fill-opacity="%.2f" d="%s"/>`+"\n", cellColor, cellShades[k].opacity, d)
		}
	}
}

func (p *panel) drawProviders(bw *errWriter, pts []geo.Point, pi int, l *mapLayout, top float64) {
	var b []byte
	for _, pt := range pts {
		if l.panelOf(pt.Lon, pt.Lat) != pi {
			continue
		}
		x, y := p.project(pt.Lon, pt.Lat)
		b = appendXY(b, 'M', x, y+top)
		b = append(b, "h0"...)
	}
	if len(b) > 0 {
		bw.printf(`<path class="provider" stroke="%s" stroke-width="2.4" stroke-linecap="round" d="%s"/>`+"\n", providerCl, b)
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
	bw.printf(`<rect x="180" y="%.0f" width="14" height="14" fill="%s" fill-opacity="0.7"/><text x="198" y="%.0f">unserved members (grid cell; darker = more)</text>`+"\n", y+50, cellColor, y+61)
	bw.printf(`<circle cx="527" cy="%.0f" r="3" fill="%s"/><text x="536" y="%.0f">counting provider</text>`+"\n", y+57, providerCl, y+61)
	bw.printf(`<line x1="680" x2="700" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="1.2"/><text x="706" y="%.0f">state outline</text></g>`+"\n", y+57, y+57, outlineCol, y+61)
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
