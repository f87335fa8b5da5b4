package adequacy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/geo"
)

// RosterDiff is what changed from one roster to the next.
//
// Identity. A roster row is a provider at one service location in one
// discipline; an NPI may have several rows per discipline. Rows are
// matched within their NPI and discipline: first rows at exactly the same
// point, then the remaining rows in pairs by nearest location (the closest
// pair first, then the closest of the rest, and so on). A matched pair
// farther apart than MoveMiles is a move; a matched pair that is not a
// move but differs in any other field is a change. Rows left unmatched are
// added (only in the new roster) or removed (only in the old). So a
// provider who closes one of three sites is one removal, not three
// changes; a row whose discipline or NPI changes is a removal and an
// addition.
//
// A shift of at most MoveMiles is neither a move nor a change: rosters are
// re-geocoded, and a few feet of drift says nothing about access. Use a
// MoveMiles of 0 to see every shift as a move.
type RosterDiff struct {
	Old, New  string  // the rosters' versions
	MoveMiles float64 // the move threshold used

	// Counts has an entry for every discipline.
	Counts map[Discipline]DiffCounts
	Total  DiffCounts

	// The rows, ordered by NPI, discipline and location.
	Added   []Provider
	Removed []Provider
	Moved   []ProviderChange // also lists any other field that changed
	Changed []ProviderChange
}

// DiffCounts counts matched and unmatched rows. Old rows = Removed +
// Moved + Changed + Unchanged; new rows = Added + Moved + Changed +
// Unchanged.
type DiffCounts struct {
	Added, Removed, Moved, Changed, Unchanged int
}

// ProviderChange is one row matched across the two rosters.
type ProviderChange struct {
	Old, New Provider
	Miles    float64  // geodesic distance between the two locations
	Fields   []string // fields that differ, besides the location; see DiffFields
}

// DiffFields names the fields a change can list, in the order listed.
var DiffFields = []string{"name", "address", "county_fips", "networks", "designations", "services", "participating",
	"telehealth_only", "accepting_new_patients", "effective_date", "termination_date"}

// DiffRosters compares two rosters (see RosterDiff for how rows are
// matched). Either may be nil, meaning empty. A negative moveMiles is 0.
func DiffRosters(old, new *Roster, moveMiles float64) RosterDiff {
	if moveMiles < 0 || math.IsNaN(moveMiles) {
		moveMiles = 0
	}
	d := RosterDiff{MoveMiles: moveMiles, Counts: make(map[Discipline]DiffCounts, numDisciplines)}
	var op, np rows
	if old != nil {
		d.Old, op = old.Version, rowsOf(old)
	}
	if new != nil {
		d.New, np = new.Version, rowsOf(new)
	}
	var counts [numDisciplines]DiffCounts
	oi, ni := sortedRows(op), sortedRows(np)
	for len(oi) > 0 || len(ni) > 0 {
		// The next NPI and discipline group, from either side.
		var g group
		switch {
		case len(oi) == 0:
			g = np.group(ni[0])
		case len(ni) == 0:
			g = op.group(oi[0])
		case compareGroup(op.group(oi[0]), np.group(ni[0])) <= 0:
			g = op.group(oi[0])
		default:
			g = np.group(ni[0])
		}
		no := groupLen(op, oi, g)
		nn := groupLen(np, ni, g)
		d.diffGroup(op, np, oi[:no], ni[:nn], &counts[g.disc])
		oi, ni = oi[no:], ni[nn:]
	}
	for _, disc := range Disciplines {
		c := counts[disc]
		d.Counts[disc] = c
		d.Total.Added += c.Added
		d.Total.Removed += c.Removed
		d.Total.Moved += c.Moved
		d.Total.Changed += c.Changed
		d.Total.Unchanged += c.Unchanged
	}
	return d
}

// rows reads a roster's rows in either form without copying them.
type rows struct {
	ps []Provider   // a roster of values
	t  *rosterTable // a compact roster
}

func rowsOf(r *Roster) rows {
	if t := r.compact(); t != nil {
		return rows{t: t}
	}
	return rows{ps: r.Providers}
}

func (x rows) len() int {
	if x.t != nil {
		return len(x.t.recs)
	}
	return len(x.ps)
}

// group is a row's NPI and discipline.
type group struct {
	npi  string
	disc Discipline
}

func (x rows) group(i int32) group {
	if x.t != nil {
		return group{x.t.str(int(i), fNPI), x.t.recs[i].disc}
	}
	return group{x.ps[i].NPI, x.ps[i].Discipline}
}

func (x rows) loc(i int32) geo.Point {
	if x.t != nil {
		return x.t.recs[i].loc
	}
	return x.ps[i].Location
}

// at is row i: in place for values, else written into scratch.
func (x rows) at(i int32, scratch *Provider) *Provider {
	if x.t != nil {
		x.t.provider(int(i), scratch)
		return scratch
	}
	return &x.ps[i]
}

// sortedRows returns row positions ordered by NPI, discipline, location.
func sortedRows(x rows) []int32 {
	ix := make([]int32, x.len())
	for i := range ix {
		ix[i] = int32(i)
	}
	slices.SortFunc(ix, func(a, b int32) int {
		if c := compareGroup(x.group(a), x.group(b)); c != 0 {
			return c
		}
		if c := comparePoint(x.loc(a), x.loc(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // roster order: a deterministic result
	})
	return ix
}

func compareGroup(a, b group) int {
	if c := strings.Compare(a.npi, b.npi); c != 0 {
		return c
	}
	return cmp.Compare(a.disc, b.disc)
}

func comparePoint(a, b geo.Point) int {
	if c := cmp.Compare(a.Lat, b.Lat); c != 0 {
		return c
	}
	return cmp.Compare(a.Lon, b.Lon)
}

// groupLen is how many leading rows of ix are in g's NPI and discipline.
func groupLen(x rows, ix []int32, g group) int {
	n := 0
	for n < len(ix) && compareGroup(x.group(ix[n]), g) == 0 {
		n++
	}
	return n
}

// maxPairs bounds the candidate pairs sorted when matching one group's
// leftover rows; beyond it (an organisation NPI re-geocoded at thousands
// of sites) each old row takes its nearest free new row in turn, in
// constant memory.
const maxPairs = 1 << 20

// diffGroup matches the rows of one NPI and discipline.
func (d *RosterDiff) diffGroup(op, np rows, oi, ni []int32, c *DiffCounts) {
	var os, ns Provider // scratch for compact rows
	// Rows at the same point pair first: both lists are sorted by
	// location, so one merge finds them.
	var oRest, nRest []int32
	i, j := 0, 0
	for i < len(oi) && j < len(ni) {
		switch comparePoint(op.loc(oi[i]), np.loc(ni[j])) {
		case 0:
			d.pair(op.at(oi[i], &os), np.at(ni[j], &ns), 0, c)
			i, j = i+1, j+1
		case -1:
			oRest = append(oRest, oi[i])
			i++
		default:
			nRest = append(nRest, ni[j])
			j++
		}
	}
	oRest = append(oRest, oi[i:]...)
	nRest = append(nRest, ni[j:]...)
	if len(oRest) > 0 && len(nRest) > 0 {
		oUsed := make([]bool, len(oRest))
		nUsed := make([]bool, len(nRest))
		if len(oRest)*len(nRest) <= maxPairs {
			// Closest pair first, then the closest of the rest.
			type cand struct {
				miles float64
				o, n  int32
			}
			cs := make([]cand, 0, len(oRest)*len(nRest))
			for a, o := range oRest {
				for b, n := range nRest {
					cs = append(cs, cand{geo.Distance(op.loc(o), np.loc(n)), int32(a), int32(b)})
				}
			}
			slices.SortFunc(cs, func(x, y cand) int {
				if c := cmp.Compare(x.miles, y.miles); c != 0 {
					return c
				}
				if c := cmp.Compare(x.o, y.o); c != 0 {
					return c
				}
				return cmp.Compare(x.n, y.n)
			})
			for _, k := range cs {
				if !oUsed[k.o] && !nUsed[k.n] {
					oUsed[k.o], nUsed[k.n] = true, true
					d.pair(op.at(oRest[k.o], &os), np.at(nRest[k.n], &ns), k.miles, c)
				}
			}
		} else {
			for a, o := range oRest {
				best, bestMiles := -1, math.Inf(1)
				for b, n := range nRest {
					if !nUsed[b] {
						if m := geo.Distance(op.loc(o), np.loc(n)); m < bestMiles {
							best, bestMiles = b, m
						}
					}
				}
				if best < 0 {
					break
				}
				oUsed[a], nUsed[best] = true, true
				d.pair(op.at(o, &os), np.at(nRest[best], &ns), bestMiles, c)
			}
		}
		oRest = unused(oRest, oUsed)
		nRest = unused(nRest, nUsed)
	}
	for _, o := range oRest {
		d.Removed = append(d.Removed, *op.at(o, &os))
		c.Removed++
	}
	for _, n := range nRest {
		d.Added = append(d.Added, *np.at(n, &ns))
		c.Added++
	}
}

func unused(ix []int32, used []bool) []int32 {
	out := ix[:0]
	for k, i := range ix {
		if !used[k] {
			out = append(out, i)
		}
	}
	return out
}

func (d *RosterDiff) pair(o, n *Provider, miles float64, c *DiffCounts) {
	fields := changedFields(o, n)
	switch {
	case miles > d.MoveMiles:
		d.Moved = append(d.Moved, ProviderChange{Old: *o, New: *n, Miles: miles, Fields: fields})
		c.Moved++
	case len(fields) > 0:
		d.Changed = append(d.Changed, ProviderChange{Old: *o, New: *n, Miles: miles, Fields: fields})
		c.Changed++
	default:
		c.Unchanged++
	}
}

// changedFields lists the fields of DiffFields that differ. The list
// fields are compared in order: roster readers sort them, so a roster that
// lists the same codes in another order reads the same.
func changedFields(o, n *Provider) []string {
	var f []string
	add := func(differ bool, name string) {
		if differ {
			f = append(f, name)
		}
	}
	add(o.Name != n.Name, "name")
	add(o.Address != n.Address, "address")
	add(o.CountyFIPS != n.CountyFIPS, "county_fips")
	add(!slices.Equal(o.Networks, n.Networks), "networks")
	add(!slices.Equal(o.Designations, n.Designations), "designations")
	add(!slices.Equal(o.Services, n.Services), "services")
	add(o.Participating != n.Participating, "participating")
	add(o.TelehealthOnly != n.TelehealthOnly, "telehealth_only")
	add(o.AcceptingNewPatients != n.AcceptingNewPatients, "accepting_new_patients")
	add(o.Effective != n.Effective, "effective_date")
	add(o.Termination != n.Termination, "termination_date")
	return f
}

// DefaultMaxShrink is the shrink guard's default: a new roster may not
// cut any discipline's participating providers by more than 20%.
const DefaultMaxShrink = 0.20

// ErrShrink is wrapped by *ShrinkError: a new roster would cut a
// discipline's participating providers by more than allowed. A roster
// that loses a fifth of a discipline overnight is far more often a
// truncated or mis-filtered extract than a real change, and serving it
// would flip members to "not served" and open negotiations wrongly.
var ErrShrink = errors.New("roster shrinks too much")

// Shrink is one discipline's participating count before and after.
type Shrink struct {
	Discipline Discipline
	Old, New   int
}

// Fraction is the share lost: 0.25 when 100 became 75; negative when it
// grew; 0 when there were none before.
func (s Shrink) Fraction() float64 {
	if s.Old == 0 {
		return 0
	}
	return float64(s.Old-s.New) / float64(s.Old)
}

// ShrinkError lists the disciplines that shrink by more than MaxShrink.
type ShrinkError struct {
	MaxShrink float64
	Shrinks   []Shrink
}

func (e *ShrinkError) Error() string {
	var b strings.Builder
	b.WriteString(ErrShrink.Error())
	b.WriteString(":")
	for i, s := range e.Shrinks {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s participating %d → %d (−%.1f%%)", s.Discipline, s.Old, s.New, 100*s.Fraction())
	}
	fmt.Fprintf(&b, "; at most %.1f%% allowed", 100*e.MaxShrink)
	return b.String()
}

func (e *ShrinkError) Unwrap() error { return ErrShrink }

// Shrinks compares participating counts, discipline by discipline.
func Shrinks(old, new NetworkStats) []Shrink {
	out := make([]Shrink, 0, numDisciplines)
	for _, d := range Disciplines {
		out = append(out, Shrink{d, old.Participating[d], new.Participating[d]})
	}
	return out
}

// ShrinkLimit is the shrink guard's setting, as loaders and servers take
// it. Its zero value is the default, DefaultMaxShrink; MaxShrink(f)
// allows a fall of at most the fraction f (0: no fall at all), and
// NoShrinkLimit allows any fall.
type ShrinkLimit struct {
	fraction float64
	set      bool
}

// MaxShrink is the limit that lets each discipline's participating
// providers fall by at most the fraction f (0.2 = 20%); 0 allows no fall,
// 1 or more any fall.
func MaxShrink(f float64) ShrinkLimit { return ShrinkLimit{fraction: f, set: true} }

// NoShrinkLimit turns the shrink guard off.
var NoShrinkLimit = MaxShrink(1)

// Fraction is the largest fall allowed: DefaultMaxShrink for the zero
// limit.
func (l ShrinkLimit) Fraction() float64 {
	if !l.set {
		return DefaultMaxShrink
	}
	return l.fraction
}

// Off reports whether the limit allows any fall.
func (l ShrinkLimit) Off() bool { return l.Fraction() >= 1 }

// Check is CheckShrink with this limit.
func (l ShrinkLimit) Check(old, new NetworkStats) error { return CheckShrink(old, new, l.Fraction()) }

func (l ShrinkLimit) String() string {
	if l.Off() {
		return "no limit"
	}
	return strconv.FormatFloat(100*l.Fraction(), 'f', -1, 64) + "%"
}

// CheckShrink returns a *ShrinkError if any discipline's participating
// providers fall by more than the fraction maxShrink (0.2 = 20%; 0 allows
// no fall at all), else nil. Participating includes telehealth-only
// providers: the guard is about the roster's completeness, not access.
func CheckShrink(old, new NetworkStats, maxShrink float64) error {
	var bad []Shrink
	for _, s := range Shrinks(old, new) {
		if s.Old > 0 && float64(s.Old-s.New) > maxShrink*float64(s.Old) {
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		return &ShrinkError{MaxShrink: maxShrink, Shrinks: bad}
	}
	return nil
}
