package adequacy

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/par"
)

// aggregate rolls the per-member answers up into the report's rows.
func (ev *gapEval) aggregate(rep *GapReport, members []GapMember, opts GapOptions, credits map[string]bool) {
	cellSize := opts.CellDegrees
	if cellSize <= 0 {
		cellSize = 0.05
	}
	// Each subject rolls up on its own goroutine: county rows, unserved
	// members and cells.
	type part struct {
		rows  []CountyRow
		un    []unservedAt
		cells map[[2]int32]*GapCell
	}
	parts := make([]part, len(ev.subjects))
	par.For(len(ev.subjects), len(ev.subjects), func(_, k int) {
		parts[k].rows, parts[k].un, parts[k].cells = ev.rollup(k, credits, cellSize)
	})
	cells := map[[2]int32]*GapCell{}
	nun := 0
	for _, p := range parts {
		rep.Counties = append(rep.Counties, p.rows...)
		nun += len(p.un)
		for key, c := range p.cells {
			if have, ok := cells[key]; ok {
				for s := range have.UnservedBy {
					have.UnservedBy[s] += c.UnservedBy[s]
				}
			} else {
				cells[key] = c
			}
		}
	}
	slices.SortFunc(rep.Counties, func(a, b CountyRow) int {
		if c := strings.Compare(a.County.FIPS, b.County.FIPS); c != 0 {
			return c
		}
		return cmp.Compare(a.subject, b.subject)
	})
	// Unserved rows in member-file order, then subject: a stable counting
	// sort by input position of the subjects' lists, taken in subject
	// order (a service can leave most members unserved: no comparison
	// sort of millions of rows).
	at := make([]int32, len(members)+1)
	for _, p := range parts {
		for _, u := range p.un {
			at[ev.members[u.i].src+1]++
		}
	}
	for k := 1; k < len(at); k++ {
		at[k] += at[k-1]
	}
	un := make([]unservedAt, nun)
	for _, p := range parts {
		for _, u := range p.un {
			src := ev.members[u.i].src
			un[at[src]] = u
			at[src]++
		}
	}
	rep.Unserved = make([]UnservedRow, len(un))
	par.Chunks(len(un), 1<<14, 0, func(_, lo, hi int) {
		for k := lo; k < hi; k++ {
			u := un[k]
			m := &ev.members[u.i]
			sub := &ev.subjects[u.s]
			l, id, miles := ev.nearestOf(int(u.s), int(u.i))
			rep.Unserved[k] = UnservedRow{MemberID: members[m.src].ID, CountyFIPS: ev.counties[m.county].FIPS, Discipline: sub.Discipline,
				Service: sub.code(), NearestNPI: ev.npi(l, id), NearestMiles: miles}
		}
	})
	for _, c := range cells {
		rep.Cells = append(rep.Cells, *c)
	}
	slices.SortFunc(rep.Cells, func(a, b GapCell) int {
		if c := cmp.Compare(a.Lat, b.Lat); c != 0 {
			return c
		}
		return cmp.Compare(a.Lon, b.Lon)
	})
	rep.Totals = ev.totals(rep.Counties)
}

// unservedAt is a sorted member unserved for a subject.
type unservedAt struct {
	i int32
	s int32
}

// rollup makes subject s's county rows, unserved list and grid cells.
func (ev *gapEval) rollup(s int, credits map[string]bool, cellSize float64) ([]CountyRow, []unservedAt, map[[2]int32]*GapCell) {
	sub := &ev.subjects[s]
	rows := make([]*CountyRow, len(ev.counties))
	cells := map[[2]int32]*GapCell{}
	var un []unservedAt
	var cell *GapCell
	var key [2]int32
	for i := range ev.members {
		m := &ev.members[i]
		r := rows[m.county]
		if r == nil {
			r = &CountyRow{County: ev.counties[m.county], Discipline: sub.Discipline, Service: sub.code(), subject: s, ci: m.county}
			rows[m.county] = r
		}
		r.Members++
		if ev.servedAt(s, i) {
			r.Served++
		} else {
			un = append(un, unservedAt{int32(i), int32(s)})
			// Members come in spatial order: most share the last one's cell.
			k := cellKey(m.point, cellSize)
			if cell == nil || k != key {
				cell, key = ev.cellOf(cells, k, cellSize), k
			}
			cell.UnservedBy[s]++
		}
		if _, id, miles := ev.nearestOf(s, i); id >= 0 {
			r.nearest = append(r.nearest, nearItem{miles, int32(i)})
		} else {
			r.unreachable++
		}
	}
	// A provider belongs to one discipline's index, so a service's
	// distinct providers are the sum of its layers'.
	for _, l := range sub.layers {
		for _, key := range ev.layers[l].covered {
			rows[key>>32].Counted++
		}
	}
	out := make([]CountyRow, 0, len(rows))
	for _, r := range rows {
		if r != nil {
			ev.finishRow(r, credits)
			out = append(out, *r)
		}
	}
	return out, un, cells
}

// cellKey is the grid cell of a point: its row and column.
func cellKey(p geo.Point, size float64) [2]int32 {
	return [2]int32{int32(math.Floor(p.Lat / size)), int32(math.Floor(p.Lon / size))}
}

func (ev *gapEval) cellOf(cells map[[2]int32]*GapCell, k [2]int32, size float64) *GapCell {
	c, ok := cells[k]
	if !ok {
		c = &GapCell{Lat: float64(k[0]) * size, Lon: float64(k[1]) * size, Size: size, UnservedBy: make([]int, len(ev.subjects))}
		cells[k] = c
	}
	return c
}

// fileOrder lists the sorted members in member-file order.
func (ev *gapEval) fileOrder() []int32 {
	order := make([]int32, len(ev.members))
	for i := range ev.members {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(ev.members[a].src, ev.members[b].src) })
	return order
}

// finishRow computes a county row's shares, credits, minimum and
// distances. A service row's required share is the largest of its
// disciplines' (the rule Decide applies across them), and a credit
// applies to it when it applies to each of them.
func (ev *gapEval) finishRow(r *CountyRow, claimed map[string]bool) {
	sub := &ev.subjects[r.subject]
	share := 0.0
	for _, l := range sub.layers {
		share = math.Max(share, ev.layerRules[r.ci][l].ServedShare)
	}
	bp := int(math.Round(share * 10000))
	for _, c := range ev.p.Credits {
		applies := true
		for _, l := range sub.layers {
			d := ev.layers[l].d
			ok := slices.Contains(c.Disciplines, d)
			switch c.AppliesWhen {
			case CreditCertificateOfNeed:
				s, _ := r.County.Standard(d)
				ok = ok && s.CertificateOfNeed
			case CreditRequested:
				ok = ok && claimed[c.Name]
			default:
				ok = false
			}
			applies = applies && ok
		}
		if applies {
			bp -= int(math.Round(c.Points * 100))
			r.Credits = append(r.Credits, c.Name)
		}
	}
	r.requiredBP = max(bp, 0)
	r.RequiredPct = float64(r.requiredBP) / 100
	if r.Members > 0 {
		r.ServedPct = 100 * float64(r.Served) / float64(r.Members)
	}
	r.Pass = r.Members > 0 && r.Served*10000 >= r.requiredBP*r.Members
	r.MinRequired, r.MinSource = ev.minimum(r)
	r.MinPass = r.Counted >= r.MinRequired
	slices.SortFunc(r.nearest, func(a, b nearItem) int { return cmp.Compare(a.v, b.v) })
	r.NearestP50, r.NearestP90 = ev.quantile(r.subject, r.nearest, 0.5), ev.quantile(r.subject, r.nearest, 0.9)
	r.nearest = nil
}

// nearItem is a member's distance to its nearest counting provider: exact,
// or an estimate within geo.EstimateTolerance.
type nearItem struct {
	v float64
	i int32 // sorted member index
}

// quantile is the nearest-rank quantile of the members' exact distances to
// their nearest provider for subject s: the smallest value with at least
// q of the values at or below it; NaN when there are none. Items sorted by
// value, some estimated: the k-th exact value lies within the tolerance of
// the k-th estimate, so only the members whose values fall in that window
// need the exact figure — those below it are certainly smaller, those
// above larger. (A service's value is the least of its disciplines', each
// within the tolerance of its exact figure, so the least is too.)
func (ev *gapEval) quantile(s int, items []nearItem, q float64) float64 {
	if len(items) == 0 {
		return math.NaN()
	}
	k := max(0, min(int(math.Ceil(q*float64(len(items))))-1, len(items)-1))
	e := items[k].v
	tol := 3 * geo.EstimateTolerance
	lo, hi := e*(1-tol), e*(1+tol)
	below := 0
	var window []float64
	for _, it := range items {
		switch {
		case it.v < lo:
			below++
		case it.v <= hi:
			window = append(window, ev.exactNearestOf(s, int(it.i)))
		}
	}
	slices.Sort(window)
	return window[k-below]
}

// minimum is the minimum provider count of 422.116(e) for a county row,
// and where it came from. A service row takes the profile's minimum for
// the service where the profile sets one, else the largest of its
// disciplines' minimums (the first of them on a tie names the source).
func (ev *gapEval) minimum(r *CountyRow) (int, MinimumSource) {
	sub := &ev.subjects[r.subject]
	if sub.Service == nil {
		return ev.disciplineMinimum(r.County, r.Discipline, r.Members)
	}
	if ss, ok := ev.p.Services[sub.Service.Code]; ok && ss.MinimumCount.Rule != MinimumNone {
		n, src := ratioMinimum(ss.MinimumCount, r.County, r.Members)
		return n, serviceSource(src)
	}
	best, src := -1, MinimumNoRule
	for _, l := range sub.layers {
		if n, s := ev.disciplineMinimum(r.County, ev.layers[l].d, r.Members); n > best {
			best, src = n, s
		}
	}
	return max(best, 0), src
}

// disciplineMinimum is a county × discipline row's minimum count.
func (ev *gapEval) disciplineMinimum(c *County, d Discipline, members int) (int, MinimumSource) {
	if s, ok := c.Standard(d); ok && ev.p.OfficialCountyStandards {
		return s.MinProviders, MinimumOfficial
	}
	return ratioMinimum(ev.p.Disciplines[d].MinimumCount, c, members)
}

// ratioMinimum applies a profile's minimum-count rule in a county.
func ratioMinimum(mc MinimumCount, c *County, members int) (int, MinimumSource) {
	switch mc.Rule {
	case MinimumFixed:
		return mc.Fixed, MinimumProfileFixed
	case MinimumPer1000:
		ratio := mc.Ratio[c.Designation.Type]
		if c.BeneficiariesRequired > 0 {
			return int(math.Ceil(ratio * float64(c.BeneficiariesRequired) / 1000)), MinimumProfileRatio
		}
		return int(math.Ceil(ratio * float64(members) / 1000)), MinimumProfileRatioPlan
	}
	return 0, MinimumNoRule
}

// serviceSource is the source of a profile's own minimum for a service.
func serviceSource(s MinimumSource) MinimumSource {
	switch s {
	case MinimumProfileFixed:
		return MinimumServiceFixed
	case MinimumProfileRatio:
		return MinimumServiceRatio
	case MinimumProfileRatioPlan:
		return MinimumServiceRatioPlan
	}
	return s
}

// totals sums the rows by subject.
func (ev *gapEval) totals(rows []CountyRow) []DisciplineTotal {
	out := make([]DisciplineTotal, len(ev.subjects))
	for s := range ev.subjects {
		out[s].Discipline, out[s].Service = ev.subjects[s].Discipline, ev.subjects[s].code()
	}
	for _, r := range rows {
		t := &out[r.subject]
		t.Members += r.Members
		t.Served += r.Served
		t.Counties++
		t.ProvidersCounted += r.Counted
		t.Unreachable += r.unreachable
		if r.Pass {
			t.CountiesPass++
		}
		if r.MinPass {
			t.CountiesMinPass++
		}
	}
	return out
}

// Worst returns the county rows that fail, worst first: the largest gap
// between required and served share, then the most members unserved.
func (r *GapReport) Worst(n int) []CountyRow {
	var fail []CountyRow
	for _, c := range r.Counties {
		if !c.Pass {
			fail = append(fail, c)
		}
	}
	slices.SortStableFunc(fail, func(a, b CountyRow) int {
		ga, gb := a.RequiredPct-a.ServedPct, b.RequiredPct-b.ServedPct
		if c := cmp.Compare(gb, ga); c != 0 {
			return c
		}
		return cmp.Compare(b.Members-b.Served, a.Members-a.Served)
	})
	if n >= 0 && len(fail) > n {
		fail = fail[:n]
	}
	return fail
}

// Summary says in a line how a discipline or service fared.
func (t DisciplineTotal) Summary() string {
	pct := 0.0
	if t.Members > 0 {
		pct = 100 * float64(t.Served) / float64(t.Members)
	}
	return fmt.Sprintf("%s: %d of %d members served (%.1f%%); %d of %d counties pass the served share, %d meet the minimum count",
		t.Key(), t.Served, t.Members, pct, t.CountiesPass, t.Counties, t.CountiesMinPass)
}
