package adequacy

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/geoaccess/geoaccess/geo"
)

// DecideBatch answers many requests at once, each exactly as Decide would
// (the tests check it): requests are validated and located one by one,
// then every (member, discipline) of the batch is grouped by profile,
// as-of date, discipline and k, taken in spatial order and cut into cells
// of neighbours (geo.Cells), and answered a cell at a time with one index search (geo.Index.ProbeCellK),
// on every processor. Answers and errors come back in request order.
func (e *Engine) DecideBatch(reqs []Request) ([][]Decision, []error) {
	out := make([][]Decision, len(reqs))
	errs := make([]error, len(reqs))
	type prepared struct {
		p   *Profile
		loc *located
	}
	preps := make([]prepared, len(reqs))
	groups := map[batchKey][]batchItem{}
	var routed []int
	for i, r := range reqs {
		p, loc, err := e.prepare(r)
		if err != nil {
			errs[i] = err
			continue
		}
		preps[i] = prepared{p, loc}
		out[i] = make([]Decision, len(r.Disciplines))
		if !p.Time.DistanceOnly() {
			routed = append(routed, i)
			continue
		}
		for j, d := range r.Disciplines {
			rule, ok := e.begin(&out[i][j], d, p, loc, r)
			if !ok {
				continue
			}
			k := r.K
			if k == 0 {
				k = DefaultK
			}
			key := batchKey{p, r.AsOf, d, k}
			groups[key] = append(groups[key], batchItem{req: int32(i), disc: int32(j), rule: rule, pt: loc.point})
		}
	}
	for _, i := range routed { // a routing engine's times: one at a time
		res := resultPool.Get().(*geo.Result)
		for j, d := range reqs[i].Disciplines {
			e.decideOne(&out[i][j], d, preps[i].p, preps[i].loc, reqs[i], res)
		}
		resultPool.Put(res)
	}
	var cells []batchCell
	var pts []geo.CellPoint
	for key, items := range groups {
		pts = pts[:0]
		for _, it := range items {
			pts = append(pts, geo.CellPoint{Point: it.pt, Radius: searchRadius(it.rule)})
		}
		order, cuts := geo.Cells(pts, geo.CellLimits{})
		sorted := make([]batchItem, len(items))
		for k, i := range order {
			sorted[k] = items[i]
		}
		for _, c := range cuts {
			cells = append(cells, batchCell{key: key, items: sorted[c.Start:c.End]})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(cells), workers()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc geo.ProbeScratch
			var probes []geo.Probe
			var res []geo.ProbeResult
			for {
				c := int(next.Add(1)) - 1
				if c >= len(cells) {
					return
				}
				cell := cells[c]
				p, d := cell.key.p, cell.key.d
				if len(cell.items) < minCell { // a lone member: the plain search is cheaper
					r := resultPool.Get().(*geo.Result)
					for _, it := range cell.items {
						e.Network.disc[d].ix.Search(geo.Query{Center: it.pt, Radius: searchRadius(it.rule), K: cell.key.k, Filter: p.Counting.filter(cell.key.asOf)}, r)
						e.finish(&out[it.req][it.disc], d, p, preps[it.req].loc, it.rule, r.Within, r.Nearest)
					}
					resultPool.Put(r)
					continue
				}
				probes = probes[:0]
				for _, it := range cell.items {
					probes = append(probes, geo.Probe{Center: it.pt, Radius: searchRadius(it.rule)})
				}
				res = slices.Grow(res[:0], len(probes))[:len(probes)]
				e.Network.disc[d].ix.ProbeCellK(probes, cell.key.k, p.Counting.filter(cell.key.asOf), res, nil, &sc)
				for j, it := range cell.items {
					nearest := res[j].NearestK
					if cell.key.k == 1 && res[j].Nearest.ID >= 0 {
						nearest = []geo.Neighbor{res[j].Nearest}
					}
					e.finish(&out[it.req][it.disc], d, p, preps[it.req].loc, it.rule, res[j].Within, nearest)
				}
			}
		}()
	}
	wg.Wait()
	return out, errs
}

// minCell is the smallest cell worth one shared search; smaller cells
// (members scattered across the country) are searched one by one.
const minCell = 8

type batchKey struct {
	p    *Profile
	asOf Date
	d    Discipline
	k    int
}

type batchItem struct {
	req, disc int32
	rule      Rule
	pt        geo.Point
}

type batchCell struct {
	key   batchKey
	items []batchItem
}

func workers() int { return max(1, runtime.GOMAXPROCS(0)) }
