package report

import (
	"math"
	"slices"

	"github.com/paulmach/orb"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// A map is a composite of panels, one per region with members: the
// contiguous states, then Alaska, Hawaii and the territories as insets
// below it. Each panel frames the plan's own counties (those with members)
// with a margin, in an equirectangular projection scaled by the cosine of
// its middle latitude, and is clipped to its rectangle; within it are
// drawn every county of the states with members (grey where the plan has
// none) and the outlines of every state for context. The static SVG maps
// and the page's interactive map share this layout.

const (
	mapWidth     = 980.0 // the composite's width, pixels
	mainWidth    = 960.0 // the first panel's width
	insetWidth   = 300.0
	mainMaxH     = 600.0
	insetMaxH    = 220.0
	panelGap     = 24.0 // between panels, horizontally and vertically
	labelHeight  = 18.0 // a panel's name above it
	labelCharW   = 7.0  // an upper bound of a 12 px sans-serif character's width
	framePadding = 0.06 // margin around the plan's counties, share of the span
	minPadding   = 0.25 // degrees
)

// Regions in drawing order; a region's panel is named after it.
var regionOrder = []string{"US", "AK", "HI", "PR", "GU", "AS"}

var regionNames = map[string]string{"US": "Contiguous states", "AK": "Alaska", "HI": "Hawaii",
	"PR": "Puerto Rico and Virgin Islands", "GU": "Guam and Northern Mariana Islands", "AS": "American Samoa"}

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

// panel is one region's frame: its projection and its place in the
// composite.
type panel struct {
	region, name string
	wrap         bool // Alaska: east longitudes drawn west of the antimeridian
	// the geographic frame, in wrapped longitudes
	minLon, maxLon, minLat, maxLat float64
	lon0, cosφ, minX, maxY, scale  float64
	x0, y0, w, h                   float64 // the panel's rectangle in the composite, pixels
	shapes                         []int   // indexes into CountyMap.Shapes drawn here
}

// mapLayout is the whole composite.
type mapLayout struct {
	panels        []*panel
	width, height float64
}

func (p *panel) lon(lon float64) float64 {
	if p.wrap && lon > 0 {
		return lon - 360
	}
	return lon
}

func (p *panel) project(lon, lat float64) (float64, float64) {
	return p.x0 + ((p.lon(lon)-p.lon0)*p.cosφ-p.minX)*p.scale, p.y0 + (p.maxY-lat)*p.scale
}

// holds reports whether the point lies in the panel's geographic frame.
func (p *panel) holds(lon, lat float64) bool {
	lon = p.lon(lon)
	return lon >= p.minLon && lon <= p.maxLon && lat >= p.minLat && lat <= p.maxLat
}

func (p *panel) bound(mp orb.MultiPolygon) orb.Bound {
	b := emptyBound()
	for _, poly := range mp {
		if len(poly) == 0 {
			continue
		}
		for _, pt := range poly[0] {
			b = b.Extend(orb.Point{p.lon(pt[0]), pt[1]})
		}
	}
	return b
}

func emptyBound() orb.Bound {
	return orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
}

func (p *panel) overlaps(b orb.Bound) bool {
	return b.Min[0] <= p.maxLon && b.Max[0] >= p.minLon && b.Min[1] <= p.maxLat && b.Max[1] >= p.minLat
}

// layout frames the report's counties.
func layout(r *adequacy.GapReport, shapes *geo.CountyMap) *mapLayout {
	plan := map[string]bool{}
	states := map[string]bool{}
	for _, row := range r.Counties {
		plan[row.County.FIPS] = true
		states[row.County.State] = true
	}
	byRegion := map[string]*panel{}
	all := shapes.Shapes()
	for i := range all {
		s := &all[i]
		if !plan[s.FIPS] {
			continue
		}
		rg := region(s.State)
		p := byRegion[rg]
		if p == nil {
			p = &panel{region: rg, name: regionNames[rg], wrap: rg == "AK",
				minLon: math.Inf(1), minLat: math.Inf(1), maxLon: math.Inf(-1), maxLat: math.Inf(-1)}
			byRegion[rg] = p
		}
		b := p.bound(s.Shape)
		p.minLon, p.minLat = math.Min(p.minLon, b.Min[0]), math.Min(p.minLat, b.Min[1])
		p.maxLon, p.maxLat = math.Max(p.maxLon, b.Max[0]), math.Max(p.maxLat, b.Max[1])
	}
	l := &mapLayout{width: mapWidth}
	for _, rg := range regionOrder {
		p := byRegion[rg]
		if p == nil || math.IsInf(p.minLon, 0) {
			continue
		}
		padX := math.Max(minPadding, framePadding*(p.maxLon-p.minLon))
		padY := math.Max(minPadding, framePadding*(p.maxLat-p.minLat))
		p.minLon, p.maxLon, p.minLat, p.maxLat = p.minLon-padX, p.maxLon+padX, math.Max(-89, p.minLat-padY), math.Min(89, p.maxLat+padY)
		for i := range all {
			s := &all[i]
			if region(s.State) == rg && states[s.State] && p.overlaps(p.bound(s.Shape)) {
				p.shapes = append(p.shapes, i)
			}
		}
		l.panels = append(l.panels, p)
	}
	// Place: the first panel on a row of its own, the insets in rows
	// below, each slot as wide as its panel or its name, whichever is wider.
	x, y, rowH := 0.0, 0.0, 0.0
	for k, p := range l.panels {
		width, maxH := insetWidth, insetMaxH
		if k == 0 {
			width, maxH = mainWidth, mainMaxH
		}
		p.fit(width, maxH)
		slot := math.Max(p.w, labelWidth(p.name))
		if k > 0 && x > 0 && x+slot > mainWidth {
			x, y, rowH = 0, y+rowH+panelGap, 0
		}
		p.x0, p.y0 = 10+x, y+labelHeight
		x += slot + panelGap
		rowH = math.Max(rowH, labelHeight+p.h)
		if k == 0 {
			x, y, rowH = 0, y+rowH+panelGap, 0
		}
	}
	l.height = y + rowH + 10
	return l
}

func labelWidth(s string) float64 { return labelCharW * float64(len([]rune(s))) }

// fit sets the projection so the frame fills width pixels, or maxH
// pixels of height when it is tall.
func (p *panel) fit(width, maxH float64) {
	p.lon0 = (p.minLon + p.maxLon) / 2
	p.cosφ = math.Cos((p.minLat + p.maxLat) / 2 * math.Pi / 180)
	p.minX = (p.minLon - p.lon0) * p.cosφ
	spanX := math.Max((p.maxLon-p.lon0)*p.cosφ-p.minX, 1e-6)
	spanY := math.Max(p.maxLat-p.minLat, 1e-6)
	p.maxY = p.maxLat
	p.scale = width / spanX
	if spanY*p.scale > maxH {
		p.scale = maxH / spanY
	}
	p.w, p.h = spanX*p.scale, spanY*p.scale
}

// overlapping reports whether any two panels' slots (rectangle and name)
// overlap; the layout must never make such a pair.
func (l *mapLayout) overlapping() (a, b string, ok bool) {
	type box struct{ x0, y0, x1, y1 float64 }
	boxes := make([]box, len(l.panels))
	for i, p := range l.panels {
		boxes[i] = box{p.x0, p.y0 - labelHeight, p.x0 + math.Max(p.w, labelWidth(p.name)), p.y0 + p.h}
	}
	for i := range boxes {
		for j := i + 1; j < len(boxes); j++ {
			u, v := boxes[i], boxes[j]
			if u.x0 < v.x1 && v.x0 < u.x1 && u.y0 < v.y1 && v.y0 < u.y1 {
				return l.panels[i].name, l.panels[j].name, true
			}
		}
	}
	return "", "", false
}

// panelOf returns the index of the first panel whose frame holds the
// point, or -1.
func (l *mapLayout) panelOf(lon, lat float64) int {
	return slices.IndexFunc(l.panels, func(p *panel) bool { return p.holds(lon, lat) })
}
