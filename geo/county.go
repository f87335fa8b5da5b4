package geo

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// CountyShape is one county polygon: a FIPS code and its boundary in
// WGS84 lon/lat (orb order). A county crossing the antimeridian (Aleutians
// West) is stored as separate polygons on each side of it.
type CountyShape struct {
	FIPS  string
	Name  string
	State string
	Shape orb.MultiPolygon
}

// CountyMap answers point → county by point-in-polygon over county shapes,
// with an R-tree over polygon bounds. Immutable once built; safe for
// concurrent use.
type CountyMap struct {
	shapes []CountyShape
	polys  []polyRef // one per polygon of every shape
	tree   rtree.RTreeG[int32]
	byFIPS map[string]int
	noArea []string
}

// NoArea lists counties whose polygons are all degenerate (no area at this
// generalisation): Locate never returns them, so members there need their
// county given.
func (m *CountyMap) NoArea() []string { return m.noArea }

type polyRef struct {
	shape int32
	poly  orb.Polygon
	bound orb.Bound
}

// ErrNoCounty means a point lies in no county polygon.
var ErrNoCounty = errors.New("point is in no county")

// NewCountyMap indexes county shapes. FIPS codes must be unique.
func NewCountyMap(shapes []CountyShape) (*CountyMap, error) {
	m := &CountyMap{shapes: shapes, byFIPS: make(map[string]int, len(shapes))}
	for i, s := range shapes {
		if _, dup := m.byFIPS[s.FIPS]; dup {
			return nil, fmt.Errorf("county map: FIPS %s appears twice", s.FIPS)
		}
		m.byFIPS[s.FIPS] = i
		parts := 0
		for _, p := range s.Shape {
			if len(p) == 0 || len(p[0]) < 4 {
				continue // degenerate at this generalisation: a sliver with no area
			}
			parts++
			b := p.Bound()
			m.tree.Insert(b.Min, b.Max, int32(len(m.polys)))
			m.polys = append(m.polys, polyRef{int32(i), p, b})
		}
		if parts == 0 {
			// Kept for lookups by FIPS, but no point can fall in it: at
			// 1:10m, Falls Church city, VA collapses to a line.
			m.noArea = append(m.noArea, s.FIPS)
		}
	}
	return m, nil
}

// Len is the number of counties.
func (m *CountyMap) Len() int { return len(m.shapes) }

// Shape returns the county with the given FIPS code.
func (m *CountyMap) Shape(fips string) (*CountyShape, bool) {
	i, ok := m.byFIPS[fips]
	if !ok {
		return nil, false
	}
	return &m.shapes[i], true
}

// Shapes returns every county shape in the order given to NewCountyMap.
func (m *CountyMap) Shapes() []CountyShape { return m.shapes }

// Locate returns the county whose polygon contains p. Where generalised
// polygons overlap, the lowest FIPS code wins, so answers are stable.
func (m *CountyMap) Locate(p Point) (*CountyShape, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pt := orb.Point{p.Lon, p.Lat}
	best := -1
	m.tree.Search(pt, pt, func(_, _ [2]float64, i int32) bool {
		r := m.polys[i]
		if polygonContains(r.poly, p.Lon, p.Lat) {
			if best < 0 || m.shapes[r.shape].FIPS < m.shapes[best].FIPS {
				best = int(r.shape)
			}
		}
		return true
	})
	if best < 0 {
		return nil, ErrNoCounty
	}
	return &m.shapes[best], nil
}

// Nearest returns the county whose boundary is nearest to p, if within
// maxMiles, and that distance. It places points just off a generalised
// coastline; the distance is measured on a local flat projection, which is
// accurate to well under 1% at the few miles this is meant for.
func (m *CountyMap) Nearest(p Point, maxMiles float64) (*CountyShape, float64, error) {
	if err := p.Validate(); err != nil {
		return nil, 0, err
	}
	dLat := maxMiles / 68.7 // statute miles per degree of latitude, at least
	dLon := 180.0
	if c := math.Cos(p.Lat * deg); c > 1e-6 {
		dLon = math.Min(180, dLat/c)
	}
	kx := 69.17 * math.Cos(p.Lat*deg) // miles per degree of longitude here
	const ky = 69.05
	best, bestD := -1, math.Inf(1)
	for _, b := range lonBoxes(p.Lon-dLon, p.Lon+dLon) {
		min := [2]float64{b[0], p.Lat - dLat}
		max := [2]float64{b[1], p.Lat + dLat}
		m.tree.Search(min, max, func(_, _ [2]float64, i int32) bool {
			r := m.polys[i]
			for _, ring := range r.poly {
				d := ringDistance(ring, p, kx, ky)
				if d < bestD || (d == bestD && m.shapes[r.shape].FIPS < m.shapes[best].FIPS) {
					best, bestD = int(r.shape), d
				}
			}
			return true
		})
	}
	if best < 0 || bestD > maxMiles {
		return nil, 0, ErrNoCounty
	}
	return &m.shapes[best], bestD, nil
}

// polygonContains tests a point against a polygon's outer ring and holes
// by ray casting. The R-tree has already checked the polygon's bounds.
func polygonContains(poly orb.Polygon, x, y float64) bool {
	if !ringContains(poly[0], x, y) {
		return false
	}
	for _, hole := range poly[1:] {
		if ringContains(hole, x, y) {
			return false
		}
	}
	return true
}

func ringContains(r orb.Ring, x, y float64) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		xi, yi, xj, yj := r[i][0], r[i][1], r[j][0], r[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

func lonBoxes(lo, hi float64) [][2]float64 {
	switch {
	case hi-lo >= 360:
		return [][2]float64{{-180, 180}}
	case lo < -180:
		return [][2]float64{{-180, hi}, {lo + 360, 180}}
	case hi > 180:
		return [][2]float64{{lo, 180}, {-180, hi - 360}}
	}
	return [][2]float64{{lo, hi}}
}

// ringDistance is the planar distance in miles from p to a ring's edges,
// with longitudes unwrapped around p so the antimeridian does no harm.
func ringDistance(ring orb.Ring, p Point, kx, ky float64) float64 {
	best := math.Inf(1)
	for i := 0; i+1 < len(ring); i++ {
		ax, ay := unwrap(ring[i][0]-p.Lon)*kx, (ring[i][1]-p.Lat)*ky
		bx, by := unwrap(ring[i+1][0]-p.Lon)*kx, (ring[i+1][1]-p.Lat)*ky
		best = math.Min(best, segDist(ax, ay, bx, by))
	}
	return best
}

func unwrap(d float64) float64 {
	if d > 180 {
		return d - 360
	}
	if d < -180 {
		return d + 360
	}
	return d
}

// segDist is the distance from the origin to segment ab.
func segDist(ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Hypot(x, y)
}

// AreaSqMiles is the area of a county shape in square miles, computed on
// the authalic sphere (the sphere of WGS84's area), accurate to a fraction
// of a percent: enough for the population densities of 422.116(c).
func AreaSqMiles(s orb.MultiPolygon) float64 {
	total := 0.0
	for _, poly := range s {
		for k, ring := range poly {
			a := math.Abs(ringArea(ring)) * authalicEarthRadius * authalicEarthRadius
			if k > 0 {
				a = -a // holes
			}
			total += a
		}
	}
	return total / (MetersPerMile * MetersPerMile)
}

// ringArea is the spherical area of a ring on the unit sphere (steradians),
// by the trapezoid formula in longitude and sin(latitude).
func ringArea(r orb.Ring) float64 {
	s := 0.0
	for i := 0; i+1 < len(r); i++ {
		λ1, λ2 := r[i][0]*deg, r[i+1][0]*deg
		dλ := λ2 - λ1
		if dλ > math.Pi {
			dλ -= 2 * math.Pi
		} else if dλ < -math.Pi {
			dλ += 2 * math.Pi
		}
		s += dλ * (2 + math.Sin(r[i][1]*deg) + math.Sin(r[i+1][1]*deg))
	}
	return s / 2
}

// SortShapes orders shapes by FIPS code.
func SortShapes(s []CountyShape) {
	sort.Slice(s, func(i, j int) bool { return s[i].FIPS < s[j].FIPS })
}
