package adequacy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/geo"
)

// Exception requests, 42 CFR 422.116(f): where a county does not meet the
// standard, the plan may ask CMS to accept its network, showing that
// providers are not available or that it contracts with farther providers
// in line with the local pattern of care. An Exception gathers the
// evidence for one failing county × discipline: the standard, the served
// share, where the unserved members are (counted on a grid, never listed),
// the nearest contracted providers beyond the standard, and every
// non-contracted candidate within the standard with the plan's record of
// trying to contract with it.

// ContractStatus is the plan's record of contracting with a candidate.
type ContractStatus uint8

// Contract statuses.
const (
	StatusUnknown ContractStatus = iota
	StatusDeclined
	StatusNotCredentialed
	StatusClosedPanel
	StatusNoResponse
	StatusOther
)

var statusNames = [...]string{"", "declined", "not credentialed", "closed panel", "no response", "other"}

func (s ContractStatus) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("ContractStatus(%d)", uint8(s))
}

// ErrContractStatus is wrapped by ParseContractStatus.
var ErrContractStatus = errors.New("unknown contract status")

// ParseContractStatus accepts the names in any case, with spaces,
// underscores or hyphens between words ("not_credentialed").
func ParseContractStatus(s string) (ContractStatus, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.NewReplacer("_", " ", "-", " ").Replace(t)
	t = strings.Join(strings.Fields(t), " ")
	for i, n := range statusNames {
		if i > 0 && t == n {
			return ContractStatus(i), nil
		}
	}
	return StatusUnknown, fmt.Errorf("%w %q (want declined, not credentialed, closed panel, no response or other)", ErrContractStatus, Excerpt(s))
}

// Candidate is a provider the plan does not contract with, and what came
// of trying to.
type Candidate struct {
	Provider   Provider
	Status     ContractStatus
	StatusDate Date
	Notes      string
	Line       int // line of the candidates file
}

// ExceptionOptions control Exceptions.
type ExceptionOptions struct {
	Nearest     int     // contracted providers beyond the standard to list; 0 = 10
	CellDegrees float64 // the grid unserved members are counted on; 0 = 0.05°
}

// Exception is the evidence for one failing county × discipline.
type Exception struct {
	Row  CountyRow
	Rule Rule
	// Unserved members of the county for the discipline, and where they
	// are: counts on a grid of CellDegrees.
	Unserved int
	Cells    []ExceptionCell
	// Nearest contracted providers beyond the standard: counting providers
	// not within the standard of any reference member (the unserved
	// members, or every member when all are served and only the minimum
	// number fails), nearest first by their distance to the closest one.
	Nearest []PatternProvider
	// Candidates within the standard of at least one member living in the
	// county, nearest first.
	Candidates []NearbyCandidate
}

// ExceptionCell counts unserved members in one grid cell.
type ExceptionCell struct {
	Lat, Lon, Size float64 // south-west corner, degrees
	Unserved       int
}

// PatternProvider is a contracted provider beyond the standard.
type PatternProvider struct {
	Provider *Provider
	Miles    float64 // to the closest reference member
	// NearestFor counts reference members for whom it is the nearest
	// provider beyond the standard.
	NearestFor int
}

// NearbyCandidate is a non-contracted provider within the standard.
type NearbyCandidate struct {
	Candidate *Candidate
	Miles     float64 // to the closest member of the county
	// UnservedWithin counts unserved members of the county it is within
	// the standard of.
	UnservedWithin int
}

// CandidateSkip counts candidates that cannot count toward the standard.
type CandidateSkip struct {
	NotCounting     int // telehealth-only or not in effect on the as-of date under the profile
	OtherDiscipline int // a discipline the report does not cover
}

// Failing reports whether a county row fails CMS's criteria: the served
// share or the minimum number.
func (c *CountyRow) Failing() bool { return !c.Pass || !c.MinPass }

// Exceptions gathers the evidence for every failing county × discipline
// of the report, in the report's order (county FIPS, discipline).
func (r *GapReport) Exceptions(ctx context.Context, cands []Candidate, opts ExceptionOptions) ([]Exception, CandidateSkip, error) {
	var skip CandidateSkip
	ev := r.ev
	if ev == nil {
		return nil, skip, ErrNoGapState
	}
	k := opts.Nearest
	if k <= 0 {
		k = 10
	}
	size := opts.CellDegrees
	if size <= 0 {
		size = 0.05
	}
	countyIx := map[*County]int32{}
	for ci, c := range ev.counties {
		countyIx[c] = int32(ci)
	}
	// Members of each failing county × discipline, in spatial order.
	type key struct {
		county int32
		d      Discipline
	}
	failing := map[key]int{} // → index into out
	var out []Exception
	for _, row := range r.Counties {
		if row.Service == "" && row.Failing() { // services are not CMS specialties
			rule, _ := RuleFor(ev.p, row.County, row.Discipline)
			failing[key{countyIx[row.County], row.Discipline}] = len(out)
			out = append(out, Exception{Row: row, Rule: rule})
		}
	}
	members := map[key][]int32{}
	for i := range ev.members {
		for _, d := range ev.ds {
			kk := key{ev.members[i].county, d}
			if _, ok := failing[kk]; ok {
				members[kk] = append(members[kk], int32(i))
			}
		}
	}
	// Candidates that would count, per discipline, in an index each.
	var cix [numDisciplines]*geo.Index
	var cpos [numDisciplines][]int32
	for i := range cands {
		c := &cands[i]
		if !contains(ev.ds, c.Provider.Discipline) {
			skip.OtherDiscipline++
			continue
		}
		p := c.Provider
		p.Participating = true
		if !ev.p.Counting.Counts(&p, r.AsOf) {
			skip.NotCounting++
			continue
		}
		cpos[c.Provider.Discipline] = append(cpos[c.Provider.Discipline], int32(i))
	}
	for _, d := range ev.ds {
		pts := make([]geo.Point, len(cpos[d]))
		for j, i := range cpos[d] {
			pts[j] = cands[i].Provider.Location
		}
		var err error
		if cix[d], err = geo.NewIndex(pts, nil); err != nil {
			return nil, skip, fmt.Errorf("exceptions: candidates: %w", err)
		}
	}
	for kk, at := range failing {
		if err := ctx.Err(); err != nil {
			return nil, skip, err
		}
		x := &out[at]
		ms := members[kk]
		var unserved []int32
		for _, i := range ms {
			if !ev.served(kk.d, int(i)) {
				unserved = append(unserved, i)
			}
		}
		x.Unserved = len(unserved)
		x.Cells = ev.cellsOf(unserved, kk.d, size)
		ref := unserved
		if len(ref) == 0 {
			ref = ms
		}
		x.Nearest = ev.patternOfCare(kk.d, ref, k)
		x.Candidates = ev.candidatesNear(kk.d, ms, cands, cix[kk.d], cpos[kk.d])
	}
	return out, skip, nil
}

// cellsOf counts members on a grid of size degrees, by latitude then
// longitude of the cells' corners.
func (ev *gapEval) cellsOf(ms []int32, d Discipline, size float64) []ExceptionCell {
	counts := map[[2]int32]int{}
	for _, i := range ms {
		p := ev.members[i].point
		counts[[2]int32{int32(math.Floor(p.Lat / size)), int32(math.Floor(p.Lon / size))}]++
	}
	out := make([]ExceptionCell, 0, len(counts))
	for c, n := range counts {
		out = append(out, ExceptionCell{Lat: float64(c[0]) * size, Lon: float64(c[1]) * size, Size: size, Unserved: n})
	}
	slices.SortFunc(out, func(a, b ExceptionCell) int {
		if c := cmp.Compare(a.Lat, b.Lat); c != 0 {
			return c
		}
		return cmp.Compare(a.Lon, b.Lon)
	})
	return out
}

// radius is sorted member i's search radius for d.
func (ev *gapEval) radius(d Discipline, i int32) float64 {
	m := &ev.members[i]
	return searchRadius(*ev.discRule(m.county, d))
}

// patternOfCare finds the k counting providers of d that are within the
// standard of no reference member, nearest first by their distance to the
// closest reference member. Each reference member's own k nearest such
// providers contain the answer: a provider missing from its closest
// member's list has k others nearer to that member, each then at least as
// near to the set.
func (ev *gapEval) patternOfCare(d Discipline, ref []int32, k int) []PatternProvider {
	dn := &ev.e.Network.disc[d]
	within := map[int32]bool{}
	var buf []geo.Neighbor
	for _, i := range ref {
		buf = dn.ix.Within(ev.members[i].point, ev.radius(d, i), ev.filter, nil, buf[:0])
		for _, nb := range buf {
			within[nb.ID] = true
		}
	}
	accept := func(id int32) bool { return !within[id] }
	best := map[int32]*PatternProvider{}
	var res geo.Result
	for _, i := range ref {
		dn.ix.Search(geo.Query{Center: ev.members[i].point, K: k, Filter: ev.filter, Accept: accept}, &res)
		for j, nb := range res.Nearest {
			b := best[nb.ID]
			if b == nil {
				b = &PatternProvider{Provider: ev.e.Network.Roster.Provider(int(dn.prov[nb.ID])), Miles: math.Inf(1)}
				best[nb.ID] = b
			}
			b.Miles = math.Min(b.Miles, nb.Miles)
			if j == 0 {
				b.NearestFor++
			}
		}
	}
	out := make([]PatternProvider, 0, len(best))
	for _, b := range best {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b PatternProvider) int {
		if c := cmp.Compare(a.Miles, b.Miles); c != 0 {
			return c
		}
		return strings.Compare(a.Provider.NPI, b.Provider.NPI)
	})
	return out[:min(k, len(out))]
}

// candidatesNear finds the candidates within the standard of at least one
// of the members, nearest first.
func (ev *gapEval) candidatesNear(d Discipline, ms []int32, cands []Candidate, ix *geo.Index, pos []int32) []NearbyCandidate {
	if ix == nil || ix.Len() == 0 {
		return nil
	}
	found := map[int32]*NearbyCandidate{}
	var buf []geo.Neighbor
	for _, i := range ms {
		buf = ix.Within(ev.members[i].point, ev.radius(d, i), geo.Filter{}, nil, buf[:0])
		unserved := !ev.served(d, int(i))
		for _, nb := range buf {
			c := found[nb.ID]
			if c == nil {
				c = &NearbyCandidate{Candidate: &cands[pos[nb.ID]], Miles: math.Inf(1)}
				found[nb.ID] = c
			}
			c.Miles = math.Min(c.Miles, nb.Miles)
			if unserved {
				c.UnservedWithin++
			}
		}
	}
	out := make([]NearbyCandidate, 0, len(found))
	for _, c := range found {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b NearbyCandidate) int {
		if c := cmp.Compare(a.Miles, b.Miles); c != 0 {
			return c
		}
		return cmp.Compare(a.Candidate.Line, b.Candidate.Line)
	})
	return out
}
