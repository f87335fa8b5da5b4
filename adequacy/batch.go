package adequacy

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/geoaccess/geoaccess/geo"
)

// DecideBatch answers many requests at once, each exactly as Decide would
// (the tests check it): requests are validated and located one by one,
// then every (member, discipline) of the batch is grouped by profile,
// as-of date, discipline and k, taken in spatial order, and answered a cell
// of neighbours at a time with one index search (geo.Index.ProbeCellK),
// on every processor. Answers and errors come back in request order.
func (e *Engine) DecideBatch(reqs []Request) ([][]Decision, []error) {
	out := make([][]Decision, len(reqs))
	errs := make([]error, len(reqs))
	type prepared struct {
		ch  Choice
		loc *located
	}
	preps := make([]prepared, len(reqs))
	groups := map[batchKey][]batchItem{}
	var routed []int
	for i, r := range reqs {
		ch, loc, err := e.prepare(r)
		if err != nil {
			errs[i] = err
			continue
		}
		preps[i] = prepared{ch, loc}
		p := ch.Profile
		out[i] = make([]Decision, len(r.Disciplines))
		if !p.Time.DistanceOnly() {
			routed = append(routed, i)
			continue
		}
		for j, d := range r.Disciplines {
			rule, ok := e.begin(&out[i][j], d, ch, loc, r)
			if !ok {
				continue
			}
			k := r.K
			if k == 0 {
				k = DefaultK
			}
			key := batchKey{p, r.AsOf, d, k}
			groups[key] = append(groups[key], batchItem{req: int32(i), disc: int32(j), rule: rule, pt: loc.point, sk: geo.SpatialKey(loc.point)})
		}
	}
	for _, i := range routed { // a routing engine's times: one at a time
		res := resultPool.Get().(*geo.Result)
		for j, d := range reqs[i].Disciplines {
			e.decideOne(&out[i][j], d, preps[i].ch, preps[i].loc, reqs[i], res)
		}
		resultPool.Put(res)
	}
	var cells []batchCell
	for key, items := range groups {
		slices.SortFunc(items, func(a, b batchItem) int { return cmp.Compare(a.sk, b.sk) })
		for _, c := range cutCells(items) {
			cells = append(cells, batchCell{key: key, items: c})
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
	sk        uint64
}

type batchCell struct {
	key   batchKey
	items []batchItem
}

// cutCells cuts spatially sorted items into cells of neighbours: at most
// 256, within a tenth of the smallest radius among them of the first (see
// gapEval.cells).
func cutCells(items []batchItem) [][]batchItem {
	var out [][]batchItem
	start, limit := 0, 0.0
	for i := range items {
		lim := angleOfMiles(math.Max(0.5, math.Min(searchRadius(items[i].rule)/10, 10)))
		if i > start && (i-start == 256 || geoAngle(items[start].pt, items[i].pt) > math.Min(limit, lim)) {
			out = append(out, items[start:i])
			start = i
		}
		if i == start {
			limit = lim
		} else {
			limit = math.Min(limit, lim)
		}
	}
	if start < len(items) {
		out = append(out, items[start:])
	}
	return out
}

func workers() int { return max(1, runtime.GOMAXPROCS(0)) }
