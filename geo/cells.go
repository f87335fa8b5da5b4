package geo

import (
	"cmp"
	"math"
	"slices"
)

// Many query points are answered a cell at a time (Index.ProbeCell): the
// points are sorted along the Hilbert curve of SpatialKey and cut into
// runs of neighbours. A cell is kept small beside its members' radii, so
// the ring of index buckets that some but not all of its members reach
// stays thin (ProbeCell counts the rest once per cell).

// Limits of a cell.
const (
	// DefaultCellPoints is the most points Cells puts in one cell.
	DefaultCellPoints = 256
	// MaxCellGroups is the most distinct Probe.Group values ProbeCell
	// tells apart in one pass over a cell; Cells never puts more in one.
	MaxCellGroups = 64

	// A cell spreads at most cellSpreadShare of its smallest radius from
	// its first point, and never less than minCellSpreadMiles nor more
	// than maxCellSpreadMiles.
	cellSpreadShare    = 0.1
	minCellSpreadMiles = 0.5
	maxCellSpreadMiles = 10
)

// CellPoint is a query point to be batched.
type CellPoint struct {
	Point Point
	// Radius is the search radius, in miles, the point will be probed
	// with; a cell spreads at most a tenth of its smallest radius (from
	// 0.5 to 10 miles) from its first point. +Inf: no limit.
	Radius float64
	// Group tags the point as Probe.Group does (a county, say). A cell
	// holds at most CellLimits.MaxGroups groups; points all in one group
	// (the zero value) never cut a cell for it.
	Group int32
}

// CellLimits bound the cells Cells makes.
type CellLimits struct {
	MaxPoints int // points per cell; 0 (or less) = DefaultCellPoints
	MaxGroups int // distinct groups per cell; 0 (or less, or more) = MaxCellGroups
}

// Cell is a run of points in spatial order: pts[Start:End] after Cells.
type Cell struct{ Start, End int }

// Cells sorts pts in place along the Hilbert curve (SpatialKey; points
// with the same key keep their input order) and cuts them into cells of
// neighbours: a point joins the current cell unless the cell is full
// (lim.MaxPoints), it would bring one group too many (lim.MaxGroups), or
// it lies farther from the cell's first point than the cell's spread, a
// tenth of the smallest radius among the cell's points and its own
// (between 0.5 and 10 miles), measured as a central angle on the sphere
// of the mean Earth radius. order[k] is the input index of what is now
// pts[k]; the cells are runs pts[Start:End] covering pts in order, each a
// valid batch for one ProbeCell call. Nothing is lost for a point the
// rule places badly: ProbeCell's answers are exact for any cell, the rule
// only keeps them fast.
func Cells(pts []CellPoint, lim CellLimits) (order []int32, cells []Cell) {
	if lim.MaxPoints <= 0 {
		lim.MaxPoints = DefaultCellPoints
	}
	if lim.MaxGroups <= 0 || lim.MaxGroups > MaxCellGroups {
		lim.MaxGroups = MaxCellGroups
	}
	order = sortSpatial(pts)
	if len(pts) == 0 {
		return order, nil
	}
	var groups []int32
	start := 0
	var first vec3
	spread := 0.0 // the cell's spread as a squared chord
	lastR, s := math.NaN(), 0.0
	for k := range pts {
		p := &pts[k]
		if p.Radius != lastR { // neighbours mostly share a radius
			lastR, s = p.Radius, cellSpreadChord2(p.Radius)
		}
		fresh := !slices.Contains(groups, p.Group)
		if k > start && (k-start == lim.MaxPoints || (fresh && len(groups) == lim.MaxGroups) || chord2(first, unit(p.Point)) > math.Min(spread, s)) {
			cells = append(cells, Cell{start, k})
			start, groups, fresh = k, groups[:0], true
		}
		if k == start {
			first, spread = unit(p.Point), s
		} else {
			spread = math.Min(spread, s)
		}
		if fresh {
			groups = append(groups, p.Group)
		}
	}
	return order, append(cells, Cell{start, len(pts)})
}

// sortSpatial sorts pts by SpatialKey, ties in input order, and returns
// each one's input index.
func sortSpatial(pts []CellPoint) []int32 {
	type keyed struct {
		key uint64
		i   int32
	}
	ks := make([]keyed, len(pts))
	for i := range pts {
		ks[i] = keyed{SpatialKey(pts[i].Point), int32(i)}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	order := make([]int32, len(ks))
	sorted := make([]CellPoint, len(pts))
	for k := range ks {
		order[k] = ks[k].i
		sorted[k] = pts[ks[k].i]
	}
	copy(pts, sorted)
	return order
}

// cellSpreadChord2 is the spread a point of the given radius allows its
// cell, as a squared chord of the unit sphere.
func cellSpreadChord2(radius float64) float64 {
	mi := minCellSpreadMiles
	if radius > 0 { // NaN and negative radii take the least spread
		mi = clamp(radius*cellSpreadShare, minCellSpreadMiles, maxCellSpreadMiles)
	}
	return angleToChord2(angleOfMiles(mi))
}

// angleOfMiles is the central angle, in radians, of an arc of the given
// length on the sphere of the mean Earth radius: for grouping and tests
// only, never for a decision.
func angleOfMiles(mi float64) float64 { return mi * MetersPerMile / meanEarthRadius }
