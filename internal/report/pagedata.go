package report

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// The page's data model, embedded once as JSON and drawn by its script.
// The map's subjects are layers: a list keyed by name, one per discipline
// (kind "discipline") and one per service of the report (kind "service",
// keyed by the service's code); the page's switcher and tables list
// whatever layers there are. Coordinates are integers in thousandths of
// a degree; geometry, unserved cells and providers are integer streams
// (see intStream).

// coordQ is the page's coordinate unit: 1/coordQ degree.
const coordQ = 1000

type pageModel struct {
	Title          string      `json:"title"`
	Plan           string      `json:"plan,omitempty"`
	Profile        string      `json:"profile"`
	ProfileVersion string      `json:"profileVersion"`
	Roster         string      `json:"roster"`
	AsOf           string      `json:"asOf"`
	Width          float64     `json:"width"`
	Height         float64     `json:"height"`
	Q              int         `json:"q"`
	CellSize       float64     `json:"cellSize"`
	Panels         []pagePanel `json:"panels"`
	Counties       pageCounty  `json:"counties"`
	Layers         []pageLayer `json:"layers"`
	Worst          [][2]int    `json:"worst"` // layer, row
	Picks          *pagePicks  `json:"picks,omitempty"`
	MorePicks      int         `json:"morePicks"`
	Bins           []pageBin   `json:"bins"`
	NoMembers      string      `json:"noMembers"`
}

type pagePanel struct {
	Name  string  `json:"name"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	W     float64 `json:"w"`
	H     float64 `json:"h"`
	Lon0  float64 `json:"lon0"`
	Cos   float64 `json:"cos"`
	MinX  float64 `json:"minX"`
	MaxY  float64 `json:"maxY"`
	Scale float64 `json:"scale"`
	Wrap  bool    `json:"wrap"`
	// Outline: the state outlines in the frame, as polylines: count,
	// then each one's length and delta-coded lon, lat.
	Outline string `json:"outline"`
}

// pageCounty holds the counties drawn, column by column. Geom: for each
// county, its ring count, then each ring's point count and delta-coded
// lon, lat (continuing from the previous point of the stream); outer
// rings counter-clockwise, holes clockwise.
type pageCounty struct {
	FIPS     []string `json:"fips"`
	Name     []string `json:"name"`
	State    []string `json:"state"`
	Type     []string `json:"type"`
	Official []int    `json:"official"`
	Panel    []int    `json:"panel"`
	Geom     string   `json:"geom"`
}

type pageLayer struct {
	Key    string    `json:"key"`
	Name   string    `json:"name"`
	Kind   string    `json:"kind"` // "discipline" or "service"
	Rows   pageRows  `json:"rows"`
	Totals pageTotal `json:"totals"`
	// Cells: for each panel, its count of unserved cells, then each
	// cell's delta-coded row and column (latitude and longitude ÷
	// CellSize) and unserved member count.
	Cells string `json:"cells"`
	// Providers: for each panel, its count of counting providers, then
	// their delta-coded lon, lat.
	Providers string `json:"providers"`
}

// pageRows is a layer's county rows. Shares are in basis points, miles
// in tenths (-1: no counting provider).
type pageRows struct {
	County  []int    `json:"county"` // index into counties
	Members []int    `json:"members"`
	Served  []int    `json:"served"`
	Pct     []int    `json:"pct"`
	Req     []int    `json:"req"`
	Pass    []int    `json:"pass"`
	Counted []int    `json:"counted"`
	Min     []int    `json:"min"`
	MinPass []int    `json:"minPass"`
	P50     []int    `json:"p50"`
	P90     []int    `json:"p90"`
	Credits []string `json:"credits"`
}

type pageTotal struct {
	Members      int `json:"members"`
	Served       int `json:"served"`
	Counties     int `json:"counties"`
	CountiesPass int `json:"countiesPass"`
	MinPass      int `json:"minPass"`
	Unreachable  int `json:"unreachable"`
}

type pagePicks struct {
	Rank    []int    `json:"rank"`
	NPI     []string `json:"npi"`
	Name    []string `json:"name"`
	Layer   []string `json:"layer"`
	FIPS    []string `json:"fips"`
	County  []string `json:"county"` // "Name, ST"; "" when the FIPS code is unknown
	Newly   []int    `json:"newly"`
	Cum     []int    `json:"cum"`
	Flipped []int    `json:"flipped"`
}

type pageBin struct {
	Label string `json:"label"`
	Color string `json:"color"`
}

// buildPage makes the page's data model.
func buildPage(r *adequacy.GapReport, shapes *geo.CountyMap, providers map[string][]geo.Point, picks []adequacy.RecruitPick, maxPicks int) *pageModel {
	l := layout(r, shapes)
	m := &pageModel{Title: "Geo-access gap report", Profile: r.Profile.Name, ProfileVersion: r.Profile.Version, Roster: r.RosterVersion,
		AsOf: r.AsOf.String(), Width: l.width, Height: l.height, Q: coordQ, CellSize: 0.05, NoMembers: noMembers}
	if r.Plan != nil {
		m.Plan = r.Plan.ID
	}
	for _, b := range bins {
		m.Bins = append(m.Bins, pageBin{b.label, b.color})
	}
	// Empty lists, never null: a report with no member evaluated has none.
	m.Panels, m.Layers, m.Worst = []pagePanel{}, []pageLayer{}, [][2]int{}
	m.Counties = pageCounty{FIPS: []string{}, Name: []string{}, State: []string{}, Type: []string{}, Official: []int{}, Panel: []int{}}
	if len(r.Cells) > 0 {
		m.CellSize = r.Cells[0].Size
	}
	all := shapes.Shapes()
	countyIdx := map[string]int{}
	var geom intStream
	var px, py int
	addCounty := func(c *adequacy.County, s *geo.CountyShape, panel int) {
		cs := &m.Counties
		countyIdx[c.FIPS] = len(cs.FIPS)
		official := 0
		if c.Designation.Official {
			official = 1
		}
		cs.FIPS, cs.Name, cs.State = append(cs.FIPS, c.FIPS), append(cs.Name, c.Name), append(cs.State, c.State)
		cs.Type, cs.Official, cs.Panel = append(cs.Type, c.Designation.Type.String()), append(cs.Official, official), append(cs.Panel, panel)
		var rings []orb.Ring
		if s != nil {
			for _, poly := range s.Shape {
				for k, ring := range poly {
					if len(ring) < 4 {
						continue
					}
					if (orb.Ring.Orientation(ring) == orb.CCW) != (k == 0) {
						ring = slices.Clone(ring)
						ring.Reverse()
					}
					rings = append(rings, ring)
				}
			}
		}
		geom.put(len(rings))
		for _, ring := range rings {
			geom.put(len(ring) - 1)
			for _, pt := range ring[:len(ring)-1] {
				x, y := q(pt[0]), q(pt[1])
				geom.put(x - px)
				geom.put(y - py)
				px, py = x, y
			}
		}
	}
	rowCounty := map[string]*adequacy.County{}
	for _, row := range r.Counties {
		rowCounty[row.County.FIPS] = row.County
	}
	for pi, p := range l.panels {
		for _, si := range p.shapes {
			s := &all[si]
			c := rowCounty[s.FIPS]
			if c == nil {
				c = &adequacy.County{FIPS: s.FIPS, Name: s.Name, State: s.State}
			}
			addCounty(c, s, pi)
		}
	}
	for _, row := range r.Counties { // counties without a polygon
		if _, ok := countyIdx[row.County.FIPS]; !ok {
			addCounty(row.County, nil, -1)
		}
	}
	m.Counties.Geom = geom.String()

	lines := stateOutlines(shapes)
	for _, p := range l.panels {
		pp := pagePanel{Name: p.name, X: round2(p.x0), Y: round2(p.y0), W: round2(p.w), H: round2(p.h), Lon0: p.lon0, Cos: p.cosφ,
			MinX: p.minX, MaxY: p.maxY, Scale: p.scale, Wrap: p.wrap}
		var s intStream
		var in []stateLine
		for _, sl := range lines {
			if region(sl.state) == p.region && p.overlaps(wrapBound(p, sl.bound)) {
				in = append(in, sl)
			}
		}
		s.put(len(in))
		px, py := 0, 0
		for _, sl := range in {
			s.put(len(sl.pts))
			for _, pt := range sl.pts {
				x, y := q(pt[0]), q(pt[1])
				s.put(x - px)
				s.put(y - py)
				px, py = x, y
			}
		}
		pp.Outline = s.String()
		m.Panels = append(m.Panels, pp)
	}

	layerOf := map[string]int{}
	rowOf := map[[2]string]int{}
	for li, s := range r.Subjects {
		layerOf[s.Key()] = li
		kind := "discipline"
		if s.Service != nil {
			kind = "service"
		}
		m.Layers = append(m.Layers, pageLayer{Key: s.Key(), Name: s.Name(), Kind: kind, Rows: pageRows{
			County: []int{}, Members: []int{}, Served: []int{}, Pct: []int{}, Req: []int{}, Pass: []int{}, Counted: []int{},
			Min: []int{}, MinPass: []int{}, P50: []int{}, P90: []int{}, Credits: []string{}}})
	}
	for _, row := range r.Counties {
		li, ok := layerOf[row.Key()]
		if !ok {
			continue
		}
		rs := &m.Layers[li].Rows
		rowOf[[2]string{row.County.FIPS, row.Key()}] = len(rs.County)
		rs.County = append(rs.County, countyIdx[row.County.FIPS])
		rs.Members = append(rs.Members, row.Members)
		rs.Served = append(rs.Served, row.Served)
		rs.Pct = append(rs.Pct, bp(row.ServedPct))
		rs.Req = append(rs.Req, bp(row.RequiredPct))
		rs.Pass = append(rs.Pass, b01(row.Pass))
		rs.Counted = append(rs.Counted, row.Counted)
		rs.Min = append(rs.Min, row.MinRequired)
		rs.MinPass = append(rs.MinPass, b01(row.MinPass))
		rs.P50 = append(rs.P50, tenths(row.NearestP50))
		rs.P90 = append(rs.P90, tenths(row.NearestP90))
		rs.Credits = append(rs.Credits, strings.Join(row.Credits, ", "))
	}
	for _, t := range r.Totals {
		if li, ok := layerOf[t.Key()]; ok {
			m.Layers[li].Totals = pageTotal{t.Members, t.Served, t.Counties, t.CountiesPass, t.CountiesMinPass, t.Unreachable}
		}
	}
	for _, w := range r.Worst(25) {
		m.Worst = append(m.Worst, [2]int{layerOf[w.Key()], rowOf[[2]string{w.County.FIPS, w.Key()}]})
	}
	for li, s := range r.Subjects {
		m.Layers[li].Cells = encodeCells(l, r.Cells, li, m.CellSize)
		m.Layers[li].Providers = encodePoints(l, providers[s.Key()])
	}
	if len(picks) > 0 {
		pk := &pagePicks{}
		n := min(len(picks), maxPicks)
		for _, p := range picks[:n] {
			county := ""
			if s, ok := shapes.Shape(p.Provider.CountyFIPS); ok {
				county = s.Name + ", " + s.State
			}
			pk.Rank, pk.NPI, pk.Name = append(pk.Rank, p.Rank), append(pk.NPI, p.Provider.NPI), append(pk.Name, p.Provider.Name)
			layer := p.Provider.Discipline.String()
			if p.Service != "" {
				layer = p.Service + " (" + layer + ")"
			}
			pk.Layer, pk.FIPS, pk.County = append(pk.Layer, layer), append(pk.FIPS, p.Provider.CountyFIPS), append(pk.County, county)
			pk.Newly, pk.Cum, pk.Flipped = append(pk.Newly, p.NewlyServed), append(pk.Cum, p.CumulativeServed), append(pk.Flipped, p.CountiesFlipped)
		}
		m.Picks, m.MorePicks = pk, len(picks)-n
	}
	return m
}

func wrapBound(p *panel, b orb.Bound) orb.Bound {
	if p.wrap && b.Min[0] > 0 {
		b.Min[0] -= 360
		b.Max[0] -= 360
	}
	return b
}

func q(deg float64) int  { return int(math.Round(deg * coordQ)) }
func bp(pct float64) int { return int(math.Round(pct * 100)) }
func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

func tenths(mi float64) int {
	if math.IsNaN(mi) || math.IsInf(mi, 0) {
		return -1
	}
	return int(math.Round(mi * 10))
}

// encodeCells writes subject si's unserved cells, panel by panel.
func encodeCells(l *mapLayout, cells []adequacy.GapCell, si int, size float64) string {
	type cell struct{ panel, iy, ix, n int }
	var cs []cell
	for _, c := range cells {
		n := c.UnservedBy[si]
		if n == 0 {
			continue
		}
		pi := l.panelOf(c.Lon+c.Size/2, c.Lat+c.Size/2)
		if pi < 0 {
			continue
		}
		cs = append(cs, cell{pi, int(math.Round(c.Lat / size)), int(math.Round(c.Lon / size)), n})
	}
	slices.SortFunc(cs, func(a, b cell) int {
		return cmp.Or(cmp.Compare(a.panel, b.panel), cmp.Compare(a.iy, b.iy), cmp.Compare(a.ix, b.ix))
	})
	var s intStream
	k := 0
	for pi := range l.panels {
		j := k
		for j < len(cs) && cs[j].panel == pi {
			j++
		}
		s.put(j - k)
		py, px := 0, 0
		for _, c := range cs[k:j] {
			s.put(c.iy - py)
			s.put(c.ix - px)
			s.put(c.n)
			py, px = c.iy, c.ix
		}
		k = j
	}
	return s.String()
}

// encodePoints writes points panel by panel, in bands of a tenth of a
// degree of latitude and by longitude within a band, so that deltas stay
// small.
func encodePoints(l *mapLayout, pts []geo.Point) string {
	type pt struct{ panel, band, x, y int }
	var ps []pt
	for _, p := range pts {
		pi := l.panelOf(p.Lon, p.Lat)
		if pi < 0 {
			continue
		}
		ps = append(ps, pt{pi, int(math.Floor(p.Lat * 10)), q(p.Lon), q(p.Lat)})
	}
	slices.SortFunc(ps, func(a, b pt) int {
		return cmp.Or(cmp.Compare(a.panel, b.panel), cmp.Compare(a.band, b.band), cmp.Compare(a.x, b.x), cmp.Compare(a.y, b.y))
	})
	var s intStream
	k := 0
	for pi := range l.panels {
		j := k
		for j < len(ps) && ps[j].panel == pi {
			j++
		}
		s.put(j - k)
		px, py := 0, 0
		for _, p := range ps[k:j] {
			s.put(p.x - px)
			s.put(p.y - py)
			px, py = p.x, p.y
		}
		k = j
	}
	return s.String()
}
