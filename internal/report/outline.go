package report

import (
	"sync"

	"github.com/paulmach/orb"

	"github.com/geoaccess/geoaccess/geo"
)

// State outlines are dissolved from the embedded county polygons: the
// counties come from one topology, so two neighbouring counties share
// their common boundary vertex for vertex. An edge of a county ring that
// a county of the same state also has (in either direction) lies inside
// the state and is dropped; an edge any other state's county has is a
// border, and every other edge is coastline or the nation's border: those
// are kept, each once. Runs of kept edges along
// a ring become polylines.

// stateLine is one polyline of a state's outline, in lon/lat.
type stateLine struct {
	state string
	pts   []orb.Point
	bound orb.Bound
}

type edgeKey struct{ a, b orb.Point }

var outlineCache sync.Map // *geo.CountyMap → []stateLine

// stateOutlines returns the dissolved state outlines of the map's
// counties, computed once per map.
func stateOutlines(m *geo.CountyMap) []stateLine {
	if v, ok := outlineCache.Load(m); ok {
		return v.([]stateLine)
	}
	v, _ := outlineCache.LoadOrStore(m, dissolve(m.Shapes()))
	return v.([]stateLine)
}

func dissolve(shapes []geo.CountyShape) []stateLine {
	owners := map[edgeKey][]string{} // undirected edge → the states of the counties having it
	norm := func(a, b orb.Point) edgeKey {
		if b[0] < a[0] || (b[0] == a[0] && b[1] < a[1]) {
			a, b = b, a
		}
		return edgeKey{a, b}
	}
	for _, s := range shapes {
		for _, poly := range s.Shape {
			for _, ring := range poly {
				for i := 1; i < len(ring); i++ {
					k := norm(ring[i-1], ring[i])
					owners[k] = append(owners[k], s.State)
				}
			}
		}
	}
	emitted := map[edgeKey]bool{}
	keep := func(k edgeKey) bool {
		if emitted[k] || k.a[0] == k.b[0] && (k.a[0] == 180 || k.a[0] == -180) {
			return false // drawn already, or where Aleutians West is cut at the antimeridian
		}
		by := owners[k]
		inner := len(by) > 1
		for _, st := range by[1:] {
			if st != by[0] {
				inner = false // a border
			}
		}
		emitted[k] = !inner
		return !inner
	}
	var out []stateLine
	for _, s := range shapes {
		for _, poly := range s.Shape {
			for _, ring := range poly {
				var run []orb.Point
				flush := func() {
					if len(run) >= 2 {
						b := orb.MultiPoint(run).Bound()
						out = append(out, stateLine{state: s.State, pts: run, bound: b})
					}
					run = nil
				}
				for i := 1; i < len(ring); i++ {
					if !keep(norm(ring[i-1], ring[i])) {
						flush()
						continue
					}
					if len(run) == 0 {
						run = append(run, ring[i-1])
					}
					run = append(run, ring[i])
				}
				flush()
			}
		}
	}
	return out
}
