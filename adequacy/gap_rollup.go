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
	// Each discipline rolls up on its own goroutine: county rows, unserved
	// members and cells.
	type part struct {
		rows  []CountyRow
		un    []unservedAt
		cells map[[2]int32]*GapCell
	}
	parts := make([]part, len(ev.ds))
	par.For(len(ev.ds), len(ev.ds), func(_, k int) {
		parts[k].rows, parts[k].un, parts[k].cells = ev.rollup(ev.ds[k], credits, cellSize)
	})
	cells := map[[2]int32]*GapCell{}
	var un []unservedAt
	for _, p := range parts {
		rep.Counties = append(rep.Counties, p.rows...)
		un = append(un, p.un...)
		for key, c := range p.cells {
			if have, ok := cells[key]; ok {
				for d := range have.Unserved {
					have.Unserved[d] += c.Unserved[d]
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
		return cmp.Compare(a.Discipline, b.Discipline)
	})
	slices.SortFunc(un, func(a, b unservedAt) int {
		if c := cmp.Compare(ev.members[a.i].src, ev.members[b.i].src); c != 0 {
			return c
		}
		return cmp.Compare(a.d, b.d)
	})
	rep.Unserved = make([]UnservedRow, len(un))
	for k, u := range un {
		m := &ev.members[u.i]
		rep.Unserved[k] = UnservedRow{MemberID: members[m.src].ID, CountyFIPS: ev.counties[m.county].FIPS, Discipline: u.d,
			NearestNPI: ev.npi(u.d, ev.nearest[u.d][u.i]), NearestMiles: ev.miles[u.d][u.i]}
	}
	for _, c := range cells {
		rep.Cells = append(rep.Cells, *c)
	}
	slices.SortFunc(rep.Cells, func(a, b GapCell) int {
		if c := cmp.Compare(a.Lat, b.Lat); c != 0 {
			return c
		}
		return cmp.Compare(a.Lon, b.Lon)
	})
	rep.Totals = totals(ev.ds, rep.Counties)
}

// unservedAt is a sorted member unserved for a discipline.
type unservedAt struct {
	i int
	d Discipline
}

// rollup makes discipline d's county rows, unserved list and grid cells.
func (ev *gapEval) rollup(d Discipline, credits map[string]bool, cellSize float64) ([]CountyRow, []unservedAt, map[[2]int32]*GapCell) {
	rows := make([]*CountyRow, len(ev.counties))
	cells := map[[2]int32]*GapCell{}
	var un []unservedAt
	for i := range ev.members {
		m := &ev.members[i]
		r := rows[m.county]
		if r == nil {
			r = &CountyRow{County: ev.counties[m.county], Discipline: d}
			rows[m.county] = r
		}
		r.Members++
		if ev.served(d, i) {
			r.Served++
		} else {
			un = append(un, unservedAt{i, d})
			ev.cellOf(cells, m.point, cellSize).Unserved[d]++
		}
		if ev.nearest[d][i] >= 0 {
			r.nearest = append(r.nearest, nearItem{ev.miles[d][i], int32(i)})
		} else {
			r.unreachable++
		}
	}
	for _, key := range ev.covered[d] {
		rows[key>>32].Counted++
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

func (ev *gapEval) cellOf(cells map[[2]int32]*GapCell, p geo.Point, size float64) *GapCell {
	k := [2]int32{int32(math.Floor(p.Lat / size)), int32(math.Floor(p.Lon / size))}
	c, ok := cells[k]
	if !ok {
		c = &GapCell{Lat: float64(k[0]) * size, Lon: float64(k[1]) * size, Size: size}
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
// distances.
func (ev *gapEval) finishRow(r *CountyRow, claimed map[string]bool) {
	rule, _ := RuleFor(ev.p, r.County, r.Discipline)
	bp := int(math.Round(rule.ServedShare * 10000))
	for _, c := range ev.p.Credits {
		if !slices.Contains(c.Disciplines, r.Discipline) {
			continue
		}
		applies := false
		switch c.AppliesWhen {
		case CreditCertificateOfNeed:
			s, _ := r.County.Standard(r.Discipline)
			applies = s.CertificateOfNeed
		case CreditRequested:
			applies = claimed[c.Name]
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
	r.NearestP50, r.NearestP90 = ev.quantile(r.Discipline, r.nearest, 0.5), ev.quantile(r.Discipline, r.nearest, 0.9)
	r.nearest = nil
}

// nearItem is a member's distance to its nearest counting provider: exact,
// or an estimate within geo.EstimateTolerance.
type nearItem struct {
	v float64
	i int32 // sorted member index
}

// quantile is the nearest-rank quantile of the members' exact distances to
// their nearest provider: the smallest value with at least q of the values
// at or below it; NaN when there are none. Items sorted by value, some
// estimated: the k-th exact value lies within the tolerance of the k-th
// estimate, so only the members whose values fall in that window need the
// exact figure — those below it are certainly smaller, those above larger.
func (ev *gapEval) quantile(d Discipline, items []nearItem, q float64) float64 {
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
			window = append(window, ev.exactNearest(d, int(it.i)))
		}
	}
	slices.Sort(window)
	return window[k-below]
}

// minimum is the minimum provider count of 422.116(e) for a county row,
// and where it came from.
func (ev *gapEval) minimum(r *CountyRow) (int, MinimumSource) {
	if s, ok := r.County.Standard(r.Discipline); ok && ev.p.OfficialCountyStandards {
		return s.MinProviders, MinimumOfficial
	}
	mc := ev.p.Disciplines[r.Discipline].MinimumCount
	switch mc.Rule {
	case MinimumFixed:
		return mc.Fixed, MinimumProfileFixed
	case MinimumPer1000:
		ratio := mc.Ratio[r.County.Designation.Type]
		if r.County.BeneficiariesRequired > 0 {
			return int(math.Ceil(ratio * float64(r.County.BeneficiariesRequired) / 1000)), MinimumProfileRatio
		}
		return int(math.Ceil(ratio * float64(r.Members) / 1000)), MinimumProfileRatioPlan
	}
	return 0, MinimumNoRule
}

func totals(ds []Discipline, rows []CountyRow) []DisciplineTotal {
	out := make([]DisciplineTotal, len(ds))
	idx := map[Discipline]int{}
	for i, d := range ds {
		out[i].Discipline = d
		idx[d] = i
	}
	for _, r := range rows {
		t := &out[idx[r.Discipline]]
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

// Summary says in a line how a discipline fared.
func (t DisciplineTotal) Summary() string {
	pct := 0.0
	if t.Members > 0 {
		pct = 100 * float64(t.Served) / float64(t.Members)
	}
	return fmt.Sprintf("%s: %d of %d members served (%.1f%%); %d of %d counties pass the served share, %d meet the minimum count",
		t.Discipline, t.Served, t.Members, pct, t.CountiesPass, t.Counties, t.CountiesMinPass)
}
