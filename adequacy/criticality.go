package adequacy

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/geo"
)

// Provider criticality: how many members each provider reaches, and for
// how many it is irreplaceable — one of exactly as many counting providers
// within the standard as the standard requires, so that its leaving alone
// leaves them unserved (under a "choice of 2" standard, one of exactly
// two). One pass over the members finds it for every provider at once
// (Baseline, with ImpactOptions.Criticality): a member with exactly the
// required number in reach lists them (geo.ReachCell), and each provider
// tallies the members that reach it. A county is at risk from a provider
// when it passes and would fail without those members. The tests check it
// against removing each provider in turn and running the gap report again.

// ProviderCriticality is one roster row's weight in the network.
type ProviderCriticality struct {
	Rank     int // 1 = the most critical
	Provider *Provider
	Position int // in the roster
	// Counts: the provider counts toward the standard (in person,
	// accepting new patients and effective as the profile requires, in the
	// plan's networks); one that does not reaches no member.
	Counts bool
	// MembersInReach counts the member × discipline pairs it is within the
	// standard of (a member counts once per discipline of the report: a
	// provider has one discipline).
	MembersInReach int
	// MembersSole counts the members who would lose access if it alone
	// left: those for whom it is one of exactly as many counting providers
	// within the standard as required.
	MembersSole int
	// CountiesAtRisk are the counties (of its discipline) that pass and
	// would fail the served share if it alone left, by FIPS.
	CountiesAtRisk []*County
}

// Criticality ranks a network's providers.
type Criticality struct {
	Baseline *Baseline
	// Providers are the roster's participating rows of the report's
	// disciplines (in the plan's networks, with a plan), most critical
	// first: the most sole-access members, then the most counties at risk,
	// the most members in reach, then NPI and roster order.
	Providers []ProviderCriticality
}

// ErrNoTally: Criticality on a baseline made without
// ImpactOptions.Criticality.
var ErrNoTally = errors.New("criticality needs a baseline made with ImpactOptions.Criticality")

// Criticality ranks every participating provider of the baseline.
func (b *Baseline) Criticality() (*Criticality, error) {
	if !b.tallied {
		return nil, ErrNoTally
	}
	ids := b.indexIDs()
	roster := b.e.Network.Roster
	inReport := uint32(0)
	for _, d := range b.Disciplines {
		inReport |= 1 << d
	}
	c := &Criticality{Baseline: b}
	for pos := range roster.Len() {
		p := roster.Provider(pos)
		if !p.Participating || inReport&(1<<p.Discipline) == 0 || !b.inPlan(p) {
			continue
		}
		pc := ProviderCriticality{Provider: p, Position: pos, Counts: b.countsFor(p)}
		if pc.Counts {
			d, id := p.Discipline, ids[pos]
			pc.MembersInReach, pc.MembersSole = int(b.reach[d][id]), int(b.sole[d][id])
			pc.CountiesAtRisk = b.countiesAtRisk(d, id)
		}
		c.Providers = append(c.Providers, pc)
	}
	slices.SortFunc(c.Providers, compareCriticality)
	for i := range c.Providers {
		c.Providers[i].Rank = i + 1
	}
	return c, nil
}

func compareCriticality(a, b ProviderCriticality) int {
	if c := cmp.Compare(b.MembersSole, a.MembersSole); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.CountiesAtRisk), len(a.CountiesAtRisk)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.MembersInReach, a.MembersInReach); c != 0 {
		return c
	}
	if c := strings.Compare(a.Provider.NPI, b.Provider.NPI); c != 0 {
		return c
	}
	return cmp.Compare(a.Position, b.Position)
}

// countiesAtRisk lists the counties of d that pass and would fail without
// the members for whom provider id is one of exactly as many as required.
func (b *Baseline) countiesAtRisk(d Discipline, id int32) []*County {
	s := b.soleBy[d]
	i, _ := slices.BinarySearchFunc(s, id, func(e soleCount, t int32) int { return cmp.Compare(e.id, t) })
	var out []*County
	for ; i < len(s) && s[i].id == id; i++ {
		r := b.row(s[i].county, d)
		if r.Pass && !passes(r, r.Served-int(s[i].n)) {
			out = append(out, r.County)
		}
	}
	slices.SortFunc(out, func(x, y *County) int { return strings.Compare(x.FIPS, y.FIPS) })
	return out
}

// inPlan reports whether a provider is in the plan's networks (always,
// without a plan).
func (b *Baseline) inPlan(p *Provider) bool {
	return b.Plan == nil || slices.ContainsFunc(p.Networks, b.Plan.HasNetwork)
}

// Dossier is one NPI's case, aggregate only (no member is identified): for
// a participating NPI what its leaving would do, for one that does not
// participate what its joining would add.
type Dossier struct {
	NPI  string
	Name string
	Rows []Provider // its roster rows, in roster order
	// Joining: the NPI does not participate (in the plan's networks, with
	// a plan), so the dossier says what joining would do: its rows
	// participating, in person, accepting new patients as the roster
	// says, in the plan's first network.
	Joining bool
	// Counting counts its rows that count (or would, joining) for a
	// discipline of the report.
	Counting int
	// Impact is the impact of its leaving (or joining).
	Impact *Impact
	// Counties are the county × discipline rows it touches: members in
	// reach of one of its locations, or members who would lose (gain)
	// access; by FIPS then discipline.
	Counties []DossierCounty
	// Alternatives are, for each of its counting locations, the nearest
	// other counting providers of the discipline and how far they are from
	// it (DossierAlternatives of them).
	Alternatives []Alternative
	// ChangedMiles summarise how far the members who would lose access
	// (joining: who would gain it) must go without it: the distance to
	// their nearest counting provider after it leaves (before it joins).
	// NaN when there are none, +Inf when some have none at all.
	ChangedMiles Quantiles
}

// DossierAlternatives is how many nearest alternatives a dossier lists per
// location.
const DossierAlternatives = 5

// DossierCounty is one county × discipline of a dossier.
type DossierCounty struct {
	County     *County
	Discipline Discipline
	Members    int // members of the county evaluated
	InReach    int // members within the standard of one of its locations
	// Changed counts the members who would lose access if it left (gain
	// it, joining).
	Changed                int
	Before, After          RowState
	RequiredPct            float64
	ChangedNearestMedian   float64 // miles: the changed members' nearest without it (with it, joining); NaN for none
	ChangedNearestFarthest float64
}

// Alternative is another provider near one of the NPI's locations.
type Alternative struct {
	From     *Provider // the NPI's row
	Provider *Provider
	Miles    float64
}

// Quantiles of a set of distances (miles).
type Quantiles struct {
	N             int
	Median, P90   float64
	Max           float64
	NoneAvailable int // members with no counting provider at all
}

// Dossier makes an NPI's dossier; an *UnknownNPIError when the roster has
// no row of it.
func (b *Baseline) Dossier(ctx context.Context, npi string) (*Dossier, error) {
	net := b.e.Network
	roster := net.Roster
	pos := net.positionsOf(npi)
	if len(pos) == 0 || len(npi) != 10 {
		return nil, &UnknownNPIError{NPIs: []string{Excerpt(npi)}, Index: []int{0}}
	}
	slices.Sort(pos)
	dz := &Dossier{NPI: npi, Name: roster.Provider(int(pos[0])).Name, Joining: true}
	for _, i := range pos {
		p := *roster.Provider(int(i))
		dz.Rows = append(dz.Rows, p)
		if p.Participating && b.inPlan(&p) {
			dz.Joining = false
		}
	}
	ch := Change{Label: "NPI " + npi + " leaves"}
	for _, i := range pos {
		ch.Remove = append(ch.Remove, int(i))
	}
	rows := dz.Rows // as they count: today's, or joining
	if dz.Joining {
		ch.Label = "NPI " + npi + " joins"
		rows = make([]Provider, len(dz.Rows))
		for k, p := range dz.Rows {
			p.Participating = true
			if b.Plan != nil && len(b.Plan.Networks) > 0 {
				p.Networks = append(slices.Clone(p.Networks), b.Plan.Networks[0])
				slices.Sort(p.Networks)
				p.Networks = slices.Compact(p.Networks)
			}
			rows[k] = p
		}
		ch.Add = rows
	}
	im, err := b.Impact(ctx, ch)
	if err != nil {
		return nil, err
	}
	dz.Impact = im
	inReport := uint32(0)
	for _, d := range b.Disciplines {
		inReport |= 1 << d
	}
	type key struct {
		ci int32
		d  Discipline
	}
	reach := map[key]int{}
	seen := map[Discipline]map[int32]bool{}
	exclude := map[Discipline]map[int32]bool{}
	ids := b.indexIDs()
	for k := range rows {
		p := &rows[k]
		if inReport&(1<<p.Discipline) == 0 || !b.countsFor(p) {
			continue
		}
		dz.Counting++
		if seen[p.Discipline] == nil {
			seen[p.Discipline], exclude[p.Discipline] = map[int32]bool{}, map[int32]bool{}
		}
		if id := ids[pos[k]]; id >= 0 {
			exclude[p.Discipline][id] = true
		}
		b.eachInReach(p.Location, p.Discipline, func(i int32) {
			if !seen[p.Discipline][i] {
				seen[p.Discipline][i] = true
				reach[key{b.ev.members[i].county, p.Discipline}]++
			}
		})
	}
	// Alternatives: the nearest other counting providers of each location.
	var res geo.Result
	for k := range rows {
		p := &rows[k]
		if inReport&(1<<p.Discipline) == 0 || !b.countsFor(p) {
			continue
		}
		dn := &net.disc[p.Discipline]
		ex := exclude[p.Discipline]
		dn.ix.Search(geo.Query{Center: p.Location, K: DossierAlternatives, Filter: b.filter, Accept: func(id int32) bool { return !ex[id] }}, &res)
		for _, nb := range res.Nearest {
			dz.Alternatives = append(dz.Alternatives, Alternative{From: &dz.Rows[k], Provider: roster.Provider(int(dn.prov[nb.ID])), Miles: nb.Miles})
		}
	}
	changed := im.Lost
	miles := func(m *ChangedMember) float64 { return m.After.Miles }
	if dz.Joining {
		changed = im.Gained
		miles = func(m *ChangedMember) float64 { return m.Before.Miles }
	}
	byCounty := map[key][]float64{}
	var all []float64
	fipsIx := make(map[string]int32, len(b.ev.counties))
	for ci, c := range b.ev.counties {
		fipsIx[c.FIPS] = int32(ci)
	}
	for k := range changed {
		m := &changed[k]
		kk := key{fipsIx[m.CountyFIPS], m.Discipline}
		byCounty[kk] = append(byCounty[kk], miles(m))
		all = append(all, miles(m))
	}
	dz.ChangedMiles = quantilesOf(all)
	touched := map[key]bool{}
	for k := range reach {
		touched[k] = true
	}
	for k := range byCounty {
		touched[k] = true
	}
	for k := range touched {
		r := &im.Rows[b.rowAt[int64(k.ci)<<8|int64(k.d)]]
		q := quantilesOf(byCounty[k])
		dz.Counties = append(dz.Counties, DossierCounty{County: r.County, Discipline: k.d, Members: r.Members, InReach: reach[k],
			Changed: len(byCounty[k]), Before: r.Before, After: r.After, RequiredPct: r.RequiredPct,
			ChangedNearestMedian: q.Median, ChangedNearestFarthest: q.Max})
	}
	slices.SortFunc(dz.Counties, func(x, y DossierCounty) int {
		if c := strings.Compare(x.County.FIPS, y.County.FIPS); c != 0 {
			return c
		}
		return cmp.Compare(x.Discipline, y.Discipline)
	})
	return dz, nil
}

// quantilesOf summarises distances (+Inf: no provider at all).
func quantilesOf(xs []float64) Quantiles {
	q := Quantiles{N: len(xs), Median: math.NaN(), P90: math.NaN(), Max: math.NaN()}
	if len(xs) == 0 {
		return q
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(f float64) float64 { return s[max(0, min(int(math.Ceil(f*float64(len(s))))-1, len(s)-1))] }
	q.Median, q.P90, q.Max = at(0.5), at(0.9), s[len(s)-1]
	for _, x := range s {
		if math.IsInf(x, 1) {
			q.NoneAvailable++
		}
	}
	return q
}
