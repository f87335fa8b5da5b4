package adequacy

import (
	"slices"

	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/par"
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
	preps := make([]*prepared, len(reqs))
	// Requests are validated, located and given their rules on every
	// processor, then grouped in request order.
	type keyedItem struct {
		key batchKey
		it  batchItem
	}
	type prepOut struct {
		items  []keyedItem
		single []int // targets decided one at a time
	}
	outs := make([]prepOut, len(reqs))
	par.Chunks(len(reqs), 64, 0, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			r := reqs[i]
			pr, err := e.prepare(r)
			if err != nil {
				errs[i] = err
				continue
			}
			preps[i] = pr
			p := pr.ch.Profile
			out[i] = make([]Decision, len(pr.targets))
			o := &outs[i]
			o.items = make([]keyedItem, 0, len(pr.targets))
			for j, d := range pr.targets {
				if !p.Time.DistanceOnly() || d == AnyDiscipline { // a routing engine's times, or a service across disciplines
					o.single = append(o.single, j)
					continue
				}
				rule, ok := e.begin(&out[i][j], d, pr, r)
				if !ok {
					continue
				}
				k := r.K
				if k == 0 {
					k = DefaultK
				}
				o.items = append(o.items, keyedItem{batchKey{p, r.AsOf, d, k, pr.scope}, batchItem{req: int32(i), disc: int32(j), rule: rule, pt: pr.loc.point}})
			}
		}
	})
	groups := map[batchKey][]batchItem{}
	var single [][2]int // (request, target) decided one at a time
	for i := range outs {
		for _, j := range outs[i].single {
			single = append(single, [2]int{i, j})
		}
		for _, ki := range outs[i].items {
			groups[ki.key] = append(groups[ki.key], ki.it)
		}
	}
	if len(single) > 0 {
		res := resultPool.Get().(*geo.Result)
		for _, ij := range single {
			i, j := ij[0], ij[1]
			e.decideOne(&out[i][j], preps[i].targets[j], preps[i], reqs[i], res)
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
	type worker struct {
		sc     geo.ProbeScratch
		probes []geo.Probe
		res    []geo.ProbeResult
	}
	ws := make([]worker, min(len(cells), par.Workers(0)))
	par.For(len(cells), len(ws), func(w, c int) {
		wk := &ws[w]
		cell := cells[c]
		p, d := cell.key.p, cell.key.d
		filter := cell.key.scope.apply(p.Counting.filter(cell.key.asOf))
		if len(cell.items) < minCell { // a lone member: the plain search is cheaper
			r := resultPool.Get().(*geo.Result)
			for _, it := range cell.items {
				e.Network.disc[d].ix.Search(geo.Query{Center: it.pt, Radius: searchRadius(it.rule), K: cell.key.k, Filter: filter}, r)
				e.finish(&out[it.req][it.disc], d, preps[it.req], it.rule, r.Within, r.Nearest)
			}
			resultPool.Put(r)
			return
		}
		wk.probes = wk.probes[:0]
		for _, it := range cell.items {
			wk.probes = append(wk.probes, geo.Probe{Center: it.pt, Radius: searchRadius(it.rule)})
		}
		wk.res = slices.Grow(wk.res[:0], len(wk.probes))[:len(wk.probes)]
		e.Network.disc[d].ix.ProbeCellK(wk.probes, cell.key.k, filter, wk.res, nil, &wk.sc)
		for j, it := range cell.items {
			nearest := wk.res[j].NearestK
			if cell.key.k == 1 && wk.res[j].Nearest.ID >= 0 {
				nearest = []geo.Neighbor{wk.res[j].Nearest}
			}
			e.finish(&out[it.req][it.disc], d, preps[it.req], it.rule, wk.res[j].Within, nearest)
		}
	})
	return out, errs
}

// minCell is the smallest cell worth one shared search; smaller cells
// (members scattered across the country) are searched one by one.
const minCell = 8

type batchKey struct {
	p     *Profile
	asOf  Date
	d     Discipline
	k     int
	scope scope
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
