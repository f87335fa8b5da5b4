package adequacy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/par"
)

// Network change impact: who loses access, and who gains it, when
// providers leave or join. It is the gap report before and after the
// change, computed incrementally: a member's count of counting providers
// within the standard changes only by the changed providers within its
// reach, so only those members are looked at — found by searching, from
// each changed provider, indexes of the members by search radius
// (Baseline.eachInReach). The tests check it against two gap reports.

// Change is a change of providers: roster rows that leave and providers
// that join. A provider that moves, or whose other fields change, is a
// row that leaves and one that joins.
type Change struct {
	// Remove are positions in the baseline network's roster
	// (Roster.Providers), each at most once.
	Remove []int
	// Add are providers that join, valid as a roster's rows are (the
	// readers in package data validate them); none may repeat a row of
	// the roster that stays, or another added row (same NPI, discipline
	// and location).
	Add []Provider
	// Label says what the change is in reports ("pg:42", "2 removed");
	// "" = counts of rows removed and added.
	Label string
}

// Impact is what a change does to a baseline's members.
type Impact struct {
	Baseline *Baseline
	Label    string     // the change, in words or as a roster version
	Removed  []Provider // the rows that leave, in roster order
	Added    []Provider
	// RemovedCounting and AddedCounting count the changed rows that count
	// under the baseline's rules (participating, in person, … in the
	// plan's networks) for a discipline of the baseline: only those change
	// anyone's access.
	RemovedCounting, AddedCounting int
	// Rows are the county × discipline rows before and after, by FIPS then
	// discipline: the gap report's rows on each network.
	Rows []ImpactRow
	// Lost are the members served before and not after, Gained the
	// reverse, in member-file order then discipline.
	Lost, Gained []ChangedMember
	Totals       []ImpactTotal
	// AffectedMembers counts member × discipline pairs within reach of a
	// counting changed provider: all the change made us look at.
	AffectedMembers int
}

// ImpactRow is one county × discipline before and after a change.
type ImpactRow struct {
	County      *County
	Discipline  Discipline
	Members     int
	RequiredPct float64
	MinRequired int
	Before      RowState
	After       RowState
}

// RowState is a county row's figures on one network.
type RowState struct {
	Served    int
	ServedPct float64 // 0..100
	Pass      bool    // the served share meets the required share
	Counted   int     // providers within time and distance of at least one member
	MinPass   bool    // Counted meets MinRequired
}

// ChangedMember is one member whose access to a discipline changes.
type ChangedMember struct {
	MemberID   string
	Line       int // in the member file
	Discipline Discipline
	CountyFIPS string
	// Before and After are the nearest counting provider on each network;
	// NPI "" when there is none.
	Before, After Nearest
	// WithinBefore and WithinAfter count the counting providers within
	// the standard; Required is the standard's number.
	WithinBefore, WithinAfter, Required int
}

// Nearest is a nearest counting provider and its exact distance.
type Nearest struct {
	NPI   string
	Miles float64 // +Inf when there is none
}

// ImpactTotal sums a discipline's rows.
type ImpactTotal struct {
	Discipline                       Discipline
	Members                          int
	ServedBefore, ServedAfter        int
	Lost, Gained                     int
	Counties                         int
	PassBefore, PassAfter            int
	ToFail, ToPass                   int // rows that go from pass to fail, and back
	ProvidersBefore, ProvidersAfter  int // providers counted, summed over counties
	MinPassBefore, MinPassAfter      int
	RemovedCounting, AddedCounting   int
	MembersInReachOfChangedProviders int
}

// LosesCounty reports whether any county × discipline goes from pass to
// fail.
func (im *Impact) LosesCounty() bool {
	for _, r := range im.Rows {
		if r.Before.Pass && !r.After.Pass {
			return true
		}
	}
	return false
}

// ErrUnknownNPI is wrapped by *UnknownNPIError.
var ErrUnknownNPI = errors.New("not in the roster")

// UnknownNPIError names the NPIs a roster lacks.
type UnknownNPIError struct {
	NPIs  []string // as given, shortened
	Index []int    // their positions in the list given
}

func (e *UnknownNPIError) Error() string {
	const show = 20
	names := e.NPIs
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(" and %d more", len(names)-show)
		names = names[:show]
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	word := "NPI"
	if len(e.NPIs) > 1 {
		word = "NPIs"
	}
	return fmt.Sprintf("%s %s%s %s", word, strings.Join(q, ", "), more, ErrUnknownNPI)
}

func (e *UnknownNPIError) Unwrap() error { return ErrUnknownNPI }

// RowsOf returns the roster positions of every row of the NPIs (any
// discipline, location or participation), ascending and distinct; an
// *UnknownNPIError names the NPIs the roster has no row of.
func (n *Network) RowsOf(npis []string) ([]int, error) {
	var out []int
	var unknown UnknownNPIError
	for k, npi := range npis {
		pos := n.positionsOf(npi)
		for _, p := range pos {
			out = append(out, int(p))
		}
		if len(pos) == 0 || len(npi) != 10 {
			unknown.NPIs = append(unknown.NPIs, Excerpt(npi))
			unknown.Index = append(unknown.Index, k)
		}
	}
	if len(unknown.NPIs) > 0 {
		return nil, &unknown
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ChangeBetween is the change from one roster to the next: the rows of
// old that new does not have exactly, and the rows of new that old does
// not have exactly. Exactly: the same NPI, discipline, location, networks,
// designations, services, participation, telehealth, new patients and
// dates, the fields decisions read (a renamed practice is no change of
// access). Unlike DiffRosters, a shift of a few feet is a change: it can
// move a member across a limit.
func ChangeBetween(old, new *Roster) Change {
	seed := maphash.MakeSeed()
	byKey := map[uint64][]int32{}
	for i, p := range old.All() {
		k := accessKey(seed, p)
		byKey[k] = append(byKey[k], int32(i))
	}
	used := make([]bool, old.Len())
	var ch Change
	for _, p := range new.All() {
		k := accessKey(seed, p)
		matched := false
		for _, j := range byKey[k] {
			if !used[j] && sameAccess(old.Provider(int(j)), p) {
				used[j], matched = true, true
				break
			}
		}
		if !matched {
			ch.Add = append(ch.Add, p.Detached())
		}
	}
	for i, u := range used {
		if !u {
			ch.Remove = append(ch.Remove, i)
		}
	}
	ch.Label = new.Version
	return ch
}

func accessKey(seed maphash.Seed, p *Provider) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(p.NPI)
	h.WriteByte(byte(p.Discipline))
	maphash.WriteComparable(&h, p.Location)
	maphash.WriteComparable(&h, [2]Date{p.Effective, p.Termination})
	maphash.WriteComparable(&h, [3]bool{p.Participating, p.TelehealthOnly, p.AcceptingNewPatients})
	for _, list := range [][]string{p.Networks, p.Designations, p.Services} {
		h.WriteByte(0xff)
		for _, s := range list {
			h.WriteString(s)
			h.WriteByte(0)
		}
	}
	return h.Sum64()
}

func sameAccess(a, b *Provider) bool {
	return a.NPI == b.NPI && a.Discipline == b.Discipline && a.Location == b.Location && a.Effective == b.Effective &&
		a.Termination == b.Termination && a.Participating == b.Participating && a.TelehealthOnly == b.TelehealthOnly &&
		a.AcceptingNewPatients == b.AcceptingNewPatients && slices.Equal(a.Networks, b.Networks) &&
		slices.Equal(a.Designations, b.Designations) && slices.Equal(a.Services, b.Services)
}

// dupKey identifies a roster row as the roster readers do for duplicates:
// NPI, discipline and location to about 10 cm.
type dupKey struct {
	npi      string
	d        Discipline
	lat, lon float64
}

func dupKeyOf(p *Provider) dupKey {
	return dupKey{p.NPI, p.Discipline, math.Round(p.Location.Lat * 1e6), math.Round(p.Location.Lon * 1e6)}
}

// checkChange validates a change against the baseline's roster.
func (b *Baseline) checkChange(ch Change) error {
	bad := &InvalidRequest{}
	roster := b.e.Network.Roster
	removed := make(map[int]bool, len(ch.Remove))
	for k, i := range ch.Remove {
		switch {
		case i < 0 || i >= roster.Len():
			bad.add(fmt.Sprintf("remove[%d]", k), fmt.Sprintf("%d is not a row of the roster (it has %d)", i, roster.Len()))
		case removed[i]:
			bad.add(fmt.Sprintf("remove[%d]", k), fmt.Sprintf("row %d is listed twice", i))
		}
		removed[i] = true
	}
	added := map[dupKey]int{}
	for k, p := range ch.Add {
		field := func(f string) string { return fmt.Sprintf("add[%d].%s", k, f) }
		if v, err := strconv.ParseUint(p.NPI, 10, 64); err != nil || len(p.NPI) != 10 || v == 0 {
			bad.add(field("npi"), fmt.Sprintf("%q: an NPI is 10 digits", Excerpt(p.NPI)))
		}
		if !p.Discipline.Valid() {
			bad.add(field("discipline"), ErrUnknownDiscipline.Error())
		}
		if err := p.Location.Validate(); err != nil {
			bad.add(field("location"), err.Error())
			continue
		}
		key := dupKeyOf(&p)
		if j, dup := added[key]; dup {
			bad.add(fmt.Sprintf("add[%d]", k), fmt.Sprintf("NPI %s (%s at %s) repeats add[%d]", Excerpt(p.NPI), p.Discipline, p.Location, j))
			continue
		}
		added[key] = k
		for _, pos := range b.e.Network.positionsOf(p.NPI) {
			if !removed[int(pos)] && dupKeyOf(roster.Provider(int(pos))) == key {
				bad.add(fmt.Sprintf("add[%d]", k), fmt.Sprintf("NPI %s (%s at %s) is already in the roster: remove it in the same change to replace it",
					Excerpt(p.NPI), p.Discipline, p.Location))
				break
			}
		}
	}
	return bad.orNil()
}

// positionsOf lists the roster positions of an NPI's rows.
func (n *Network) positionsOf(npi string) []int32 {
	v, err := strconv.ParseUint(npi, 10, 64)
	if err != nil {
		return nil
	}
	i, _ := slices.BinarySearchFunc(n.byNPI, v, func(e npiPos, t uint64) int { return cmp.Compare(e.npi, t) })
	var out []int32
	for ; i < len(n.byNPI) && n.byNPI[i].npi == v; i++ {
		out = append(out, n.byNPI[i].pos)
	}
	return out
}

// changed is a counting provider that leaves (sign −1) or joins (+1).
type changed struct {
	pt   geo.Point
	sign int32
}

// Impact applies a change to the baseline's network and says what it
// does: every county row before and after, the members who lose and gain
// access, with their nearest provider on each network. Only members
// within reach of a changed provider that counts are re-evaluated. Caller
// mistakes in the change come back as *InvalidRequest (fields remove[i],
// add[i]…).
func (b *Baseline) Impact(ctx context.Context, ch Change) (*Impact, error) {
	if err := b.checkChange(ch); err != nil {
		return nil, err
	}
	roster := b.e.Network.Roster
	im := &Impact{Baseline: b, Label: ch.Label, Added: ch.Add}
	rm := slices.Clone(ch.Remove)
	slices.Sort(rm)
	for _, i := range rm {
		im.Removed = append(im.Removed, *roster.Provider(i))
	}
	if im.Label == "" {
		im.Label = fmt.Sprintf("%d row(s) removed, %d added", len(rm), len(ch.Add))
	}
	idOf := b.indexIDs()
	var chg [numDisciplines][]changed
	var removedIDs [numDisciplines]map[int32]bool
	var added [numDisciplines][]int // positions in ch.Add
	inReport := uint32(0)
	for _, d := range b.Disciplines {
		inReport |= 1 << d
		removedIDs[d] = map[int32]bool{}
	}
	for _, i := range rm {
		p := roster.Provider(i)
		if inReport&(1<<p.Discipline) == 0 || !b.countsFor(p) {
			continue
		}
		chg[p.Discipline] = append(chg[p.Discipline], changed{p.Location, -1})
		removedIDs[p.Discipline][idOf[i]] = true
		im.RemovedCounting++
	}
	for k := range ch.Add {
		p := &ch.Add[k]
		if inReport&(1<<p.Discipline) == 0 || !b.countsFor(p) {
			continue
		}
		chg[p.Discipline] = append(chg[p.Discipline], changed{p.Location, +1})
		added[p.Discipline] = append(added[p.Discipline], k)
		im.AddedCounting++
	}
	ev := b.ev
	type member struct {
		i     int32
		d     Discipline
		after int32
	}
	var lost, gained []member
	im.Rows = make([]ImpactRow, len(b.Rows))
	for k := range b.Rows {
		r := &b.Rows[k]
		st := RowState{Served: r.Served, ServedPct: r.ServedPct, Pass: r.Pass, Counted: r.Counted, MinPass: r.MinPass}
		im.Rows[k] = ImpactRow{County: r.County, Discipline: r.Discipline, Members: r.Members, RequiredPct: r.RequiredPct,
			MinRequired: r.MinRequired, Before: st, After: st}
	}
	tot := map[Discipline]*ImpactTotal{}
	for _, d := range b.Disciplines {
		tot[d] = &ImpactTotal{Discipline: d}
	}
	for _, d := range b.Disciplines {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		delta := map[int32]int32{}
		counties := map[int32]bool{}
		for _, c := range chg[d] {
			clear(counties)
			b.eachInReach(c.pt, d, func(i int32) {
				delta[i] += c.sign
				counties[ev.members[i].county] = true
			})
			for ci := range counties {
				im.Rows[b.rowAt[int64(ci)<<8|int64(d)]].After.Counted += int(c.sign)
			}
			if c.sign < 0 {
				tot[d].RemovedCounting++
			} else {
				tot[d].AddedCounting++
			}
		}
		for i, dl := range delta {
			tot[d].MembersInReachOfChangedProviders++
			if dl == 0 {
				continue
			}
			req := int32(ev.discRule(ev.members[i].county, d).ProvidersRequired)
			before := b.within[d][i]
			after := before + dl
			row := &im.Rows[b.rowAt[int64(ev.members[i].county)<<8|int64(d)]]
			switch {
			case before >= req && after < req:
				lost = append(lost, member{i, d, after})
				row.After.Served--
			case before < req && after >= req:
				gained = append(gained, member{i, d, after})
				row.After.Served++
			}
		}
		im.AffectedMembers += len(delta)
	}
	for k := range im.Rows {
		r, base := &im.Rows[k], &b.Rows[k]
		a := &r.After
		a.ServedPct = 100 * float64(a.Served) / float64(r.Members)
		a.Pass = passes(base, a.Served)
		a.MinPass = a.Counted >= r.MinRequired
		t := tot[r.Discipline]
		t.Members += r.Members
		t.ServedBefore += r.Before.Served
		t.ServedAfter += a.Served
		t.Counties++
		t.ProvidersBefore += r.Before.Counted
		t.ProvidersAfter += a.Counted
		if r.Before.Pass {
			t.PassBefore++
		}
		if a.Pass {
			t.PassAfter++
		}
		if r.Before.MinPass {
			t.MinPassBefore++
		}
		if a.MinPass {
			t.MinPassAfter++
		}
		switch {
		case r.Before.Pass && !a.Pass:
			t.ToFail++
		case !r.Before.Pass && a.Pass:
			t.ToPass++
		}
	}
	// The nearest provider before and after, for the members who change.
	nearest := func(ms []member) []ChangedMember {
		slices.SortFunc(ms, func(x, y member) int {
			if c := cmp.Compare(ev.members[x.i].src, ev.members[y.i].src); c != 0 {
				return c
			}
			return cmp.Compare(x.d, y.d)
		})
		out := make([]ChangedMember, len(ms))
		par.Chunks(len(ms), 64, 0, func(_, lo, hi int) {
			var res geo.Result
			for k := lo; k < hi; k++ {
				m := ms[k]
				out[k] = b.changedMember(m.i, m.d, &res, removedIDs[m.d], ch.Add, added[m.d])
				out[k].WithinAfter = int(m.after)
			}
		})
		return out
	}
	im.Lost, im.Gained = nearest(lost), nearest(gained)
	for _, m := range im.Lost {
		tot[m.Discipline].Lost++
	}
	for _, m := range im.Gained {
		tot[m.Discipline].Gained++
	}
	for _, d := range b.Disciplines {
		im.Totals = append(im.Totals, *tot[d])
	}
	return im, nil
}

// changedMember describes sorted member i's access to d on both networks.
func (b *Baseline) changedMember(i int32, d Discipline, res *geo.Result, removed map[int32]bool, add []Provider, added []int) ChangedMember {
	ev := b.ev
	m := &ev.members[i]
	g := &b.members[m.src]
	dn := &b.e.Network.disc[d]
	tab := b.e.Network.tab
	out := ChangedMember{MemberID: g.ID, Line: g.Line, Discipline: d, CountyFIPS: ev.counties[m.county].FIPS,
		Required: ev.discRule(m.county, d).ProvidersRequired, WithinBefore: int(b.within[d][i]),
		Before: Nearest{Miles: math.Inf(1)}, After: Nearest{Miles: math.Inf(1)}}
	dn.ix.Search(geo.Query{Center: m.point, K: 1, Filter: b.filter}, res)
	if len(res.Nearest) > 0 {
		out.Before = Nearest{tab.str(int(dn.prov[res.Nearest[0].ID]), fNPI), res.Nearest[0].Miles}
	}
	q := geo.Query{Center: m.point, K: 1, Filter: b.filter}
	if len(removed) > 0 {
		q.Accept = func(id int32) bool { return !removed[id] }
	}
	dn.ix.Search(q, res)
	if len(res.Nearest) > 0 {
		out.After = Nearest{tab.str(int(dn.prov[res.Nearest[0].ID]), fNPI), res.Nearest[0].Miles}
	}
	for _, k := range added {
		p := &add[k]
		mi := geo.Distance(m.point, p.Location)
		if mi < out.After.Miles || (mi == out.After.Miles && p.NPI < out.After.NPI) {
			out.After = Nearest{p.NPI, mi}
		}
	}
	return out
}

// indexIDs maps each roster position to its index ID in its discipline's
// index (−1 for rows not indexed: not participating), once.
func (b *Baseline) indexIDs() []int32 {
	b.idsOnce.Do(func() {
		n := b.e.Network
		b.ids = make([]int32, n.Roster.Len())
		for i := range b.ids {
			b.ids[i] = -1
		}
		for d := range numDisciplines {
			for id, pos := range n.disc[d].prov {
				b.ids[pos] = int32(id)
			}
		}
	})
	return b.ids
}
