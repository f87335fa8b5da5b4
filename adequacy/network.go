package adequacy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/geoaccess/geoaccess/geo"
)

// Tag bits the network gives each indexed provider.
const (
	tagInPerson  uint8 = 1 << iota // not telehealth-only
	tagAccepting                   // accepting new patients
)

// Network is a roster made ready for decisions: per discipline, an index
// of its participating providers. Immutable once built; safe for any
// number of concurrent readers. A reload builds a new Network beside the
// serving one and swaps the pointer.
type Network struct {
	Roster *Roster
	// tab is the roster's compact records (the roster's own, or a compact
	// copy of a roster given as values): decisions and reports read them.
	tab   *rosterTable
	disc  [numDisciplines]discNet
	byNPI []npiPos // sorted by NPI, then roster position
	stats NetworkStats
	// vocab gives providers their services (index set 0); nil: none.
	vocab *Vocabulary
	// netBit numbers the roster's network ids (index set 1).
	netBit map[string]uint64
	// svcCodes lists the codes of each set of services some provider
	// offers, in vocabulary order (the evidence's Services).
	svcCodes map[ServiceSet][]string
}

// The index's bit sets.
const (
	setServices = 0 // the services a provider offers (ServiceSet)
	setNetworks = 1 // the networks it joins (Network.netBit)
)

// MaxNetworks is how many distinct network ids a roster may have: a
// provider's networks are a 64-bit set in the index.
const MaxNetworks = 64

// ErrTooManyNetworks: a roster names more than MaxNetworks network ids.
var ErrTooManyNetworks = errors.New("too many networks")

type npiPos struct {
	npi uint64
	pos int32
}

type discNet struct {
	ix     *geo.Index
	prov   []int32      // index ID → roster position
	offers []ServiceSet // index ID → the services the provider offers
}

// NetworkStats counts a network's providers by discipline.
type NetworkStats struct {
	Participating    [numDisciplines]int
	NonParticipating [numDisciplines]int
	TelehealthOnly   [numDisciplines]int // participating but telehealth-only
	Total            int
}

// CountProviders counts providers by discipline as NewNetwork does,
// without validating or indexing them (Roster.Stats counts a roster in
// either form).
func CountProviders(ps []Provider) NetworkStats {
	var s NetworkStats
	s.Total = len(ps)
	for i := range ps {
		p := &ps[i]
		if !p.Discipline.Valid() {
			continue
		}
		if !p.Participating {
			s.NonParticipating[p.Discipline]++
			continue
		}
		s.Participating[p.Discipline]++
		if p.TelehealthOnly {
			s.TelehealthOnly[p.Discipline]++
		}
	}
	return s
}

// Servable says whether a roster with these counts may be served: it
// needs at least one participating provider who is not telehealth-only,
// in any discipline. Otherwise every member would be unserved and every
// negotiation with a non-participating provider supported, so the error
// wraps ErrEmptyRoster and says what the roster has.
func (s NetworkStats) Servable() error {
	par, tele := 0, 0
	for d := range numDisciplines {
		par += s.Participating[d]
		tele += s.TelehealthOnly[d]
	}
	switch {
	case par > tele:
		return nil
	case s.Total == 0:
		return fmt.Errorf("%w: it has no providers at all", ErrEmptyRoster)
	case par == 0:
		return fmt.Errorf("%w: none of its %d providers participates", ErrEmptyRoster, s.Total)
	}
	return fmt.Errorf("%w: its %d participating providers are all telehealth-only", ErrEmptyRoster, par)
}

// NewNetwork indexes a roster, with the services each provider offers under
// vocabulary v (nil: services are unknown and service requests fail). The
// roster must already be validated (the readers in package data do that);
// NewNetwork still refuses invalid locations and disciplines rather than
// index them, and a roster of more than MaxNetworks network ids. A roster
// given as values is compacted for the network (the roster itself is left
// as it is): a server should hold compact rosters (Roster.Compact).
func NewNetwork(r *Roster, v *Vocabulary) (*Network, error) {
	t, err := r.records()
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	n := &Network{Roster: r, tab: t, byNPI: make([]npiPos, len(t.recs)), vocab: v, netBit: map[string]uint64{}}
	// Network ids take bits in the order the roster first names them.
	seenList := make([]bool, len(t.lists))
	for i := range t.recs {
		id := t.recs[i].lists[lNetworks]
		if seenList[id] {
			continue
		}
		seenList[id] = true
		for _, nid := range t.lists[id] {
			if _, ok := n.netBit[nid]; !ok {
				if len(n.netBit) == MaxNetworks {
					return nil, fmt.Errorf("network: %w: the roster names more than %d network ids", ErrTooManyNetworks, MaxNetworks)
				}
				n.netBit[nid] = 1 << len(n.netBit)
			}
		}
	}
	// Each distinct list's network bits, once.
	listBits := make([]uint64, len(t.lists))
	for id, seen := range seenList {
		if seen {
			listBits[id] = n.networkBits(t.lists[id])
		}
	}
	n.stats.Total = len(t.recs)
	var members [numDisciplines][]int32
	var counts [numDisciplines]int
	for i := range t.recs {
		if rec := &t.recs[i]; rec.disc.Valid() && rec.has(recParticipating) {
			counts[rec.disc]++
		}
	}
	for d := range members {
		members[d] = make([]int32, 0, counts[d])
	}
	for i := range t.recs {
		rec := &t.recs[i]
		if !rec.disc.Valid() {
			return nil, fmt.Errorf("network: provider %s (row %d): %w", t.str(i, fNPI), i+1, ErrUnknownDiscipline)
		}
		if err := rec.loc.Validate(); err != nil {
			return nil, fmt.Errorf("network: provider %s (row %d): %w", t.str(i, fNPI), i+1, err)
		}
		npiText := t.str(i, fNPI)
		npi, err := strconv.ParseUint(npiText, 10, 64)
		if err != nil || len(npiText) != 10 {
			return nil, fmt.Errorf("network: provider %q (row %d): an NPI is 10 digits", Excerpt(npiText), i+1)
		}
		n.byNPI[i] = npiPos{npi, int32(i)}
		if !rec.has(recParticipating) {
			n.stats.NonParticipating[rec.disc]++
			continue
		}
		n.stats.Participating[rec.disc]++
		if rec.has(recTelehealthOnly) {
			n.stats.TelehealthOnly[rec.disc]++
		}
		members[rec.disc] = append(members[rec.disc], int32(i))
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		slices.SortFunc(n.byNPI, func(a, b npiPos) int {
			if a.npi != b.npi {
				return cmp.Compare(a.npi, b.npi)
			}
			return cmp.Compare(a.pos, b.pos)
		})
	}()
	errs := make([]error, numDisciplines)
	for d := range numDisciplines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.disc[d], errs[d] = n.buildDisc(members[d], listBits)
		}()
	}
	wg.Wait()
	for d, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("network: %s: %w", Discipline(d), err)
		}
	}
	n.svcCodes = map[ServiceSet][]string{}
	for d := range n.disc {
		for _, set := range n.disc[d].offers {
			if _, ok := n.svcCodes[set]; !ok {
				n.svcCodes[set] = n.codesOf(set)
			}
		}
	}
	return n, nil
}

// buildDisc indexes one discipline's participating providers; listBits
// are each list's network bits.
func (n *Network) buildDisc(ids []int32, listBits []uint64) (discNet, error) {
	t := n.tab
	// Spatial order makes the index's IDs our order: cache-friendly.
	type keyed struct {
		key uint64
		pos int32
	}
	ks := make([]keyed, len(ids))
	for k, i := range ids {
		ks[k] = keyed{geo.SpatialKey(t.recs[i].loc), i}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		return cmp.Compare(a.pos, b.pos)
	})
	for k := range ks {
		ids[k] = ks[k].pos
	}
	pts := make([]geo.Point, len(ids))
	tags := make([]geo.Tag, len(ids))
	offers := make([]ServiceSet, len(ids))
	// The services offered depend on the discipline (one here) and the
	// two lists: worked out once per pair of lists.
	offered := map[[2]uint32]ServiceSet{}
	for k, i := range ids {
		rec := &t.recs[i]
		pts[k] = rec.loc
		tags[k] = rec.tag()
		if lists := [2]uint32{rec.lists[lDesignations], rec.lists[lServices]}; lists != [2]uint32{} {
			set, ok := offered[lists]
			if !ok {
				set = n.offers(int(i))
				offered[lists] = set
			}
			offers[k] = set
		}
		tags[k].Sets[setServices] = uint64(offers[k])
		tags[k].Sets[setNetworks] = listBits[rec.lists[lNetworks]]
	}
	ix, err := geo.NewIndex(pts, tags)
	if err != nil {
		return discNet{}, err
	}
	return discNet{ix: ix, prov: ids, offers: offers}, nil
}

// providerTag is the index tag of a provider's counting attributes.
func providerTag(p *Provider) geo.Tag {
	return tagOf(!p.TelehealthOnly, p.AcceptingNewPatients, p.Effective, p.Termination)
}

// tagOf is the index tag of counting attributes: in person, accepting
// new patients, and the effective and termination dates (zero: open).
func tagOf(inPerson, accepting bool, eff, term Date) geo.Tag {
	t := geo.Always
	if inPerson {
		t.Flags |= tagInPerson
	}
	if accepting {
		t.Flags |= tagAccepting
	}
	if !eff.IsZero() {
		t.From = eff.dayNumber()
	}
	if !term.IsZero() {
		t.To = term.dayNumber()
	}
	return t
}

// Offers is the set of services a provider offers under the network's
// vocabulary.
func (n *Network) Offers(p *Provider) ServiceSet {
	if n.vocab == nil {
		return 0
	}
	return n.vocab.Offers(p.Discipline, p.Designations, p.Services)
}

// offers is Offers of the provider at roster position i.
func (n *Network) offers(i int) ServiceSet {
	if n.vocab == nil {
		return 0
	}
	return n.vocab.Offers(n.tab.recs[i].disc, n.tab.list(i, lDesignations), n.tab.list(i, lServices))
}

// networkBits is the index set of network ids; ids the roster does not
// name have no bit.
func (n *Network) networkBits(ids []string) uint64 {
	var b uint64
	for _, id := range ids {
		b |= n.netBit[id]
	}
	return b
}

// Networks lists the roster's network ids, sorted.
func (n *Network) Networks() []string {
	out := make([]string, 0, len(n.netBit))
	for id := range n.netBit {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Vocabulary is the services vocabulary the network was built with.
func (n *Network) Vocabulary() *Vocabulary { return n.vocab }

// Stats returns provider counts by discipline.
func (n *Network) Stats() NetworkStats { return n.stats }

// Version is the roster version decisions cite.
func (n *Network) Version() string { return n.Roster.Version }

// ByNPI returns every roster row with that NPI (any discipline, location
// or participation).
func (n *Network) ByNPI(npi string) []*Provider {
	v, err := strconv.ParseUint(npi, 10, 64)
	if err != nil {
		return nil
	}
	i, _ := slices.BinarySearchFunc(n.byNPI, v, func(e npiPos, t uint64) int { return cmp.Compare(e.npi, t) })
	var out []*Provider
	for ; i < len(n.byNPI) && n.byNPI[i].npi == v; i++ {
		out = append(out, n.Roster.Provider(int(n.byNPI[i].pos)))
	}
	return out
}

// counts reports whether p counts under the rule at the as-of date.
func (c Counting) filter(asOf Date) geo.Filter {
	var f geo.Filter
	if c.InPersonOnly {
		f.Mask |= tagInPerson
		f.Want |= tagInPerson
	}
	if c.AcceptingNewPatients {
		f.Mask |= tagAccepting
		f.Want |= tagAccepting
	}
	if c.EffectiveOnAsOf && !asOf.IsZero() {
		f.Timed, f.At = true, asOf.dayNumber()
	}
	return f
}

// Counts reports whether a participating provider counts under c at asOf.
func (c Counting) Counts(p *Provider, asOf Date) bool {
	if !p.Participating {
		return false
	}
	return tagPasses(c.filter(asOf), providerTag(p))
}

// counts is Counts of a compact record.
func (c Counting) counts(rec *provRec, asOf Date) bool {
	return rec.has(recParticipating) && tagPasses(c.filter(asOf), rec.tag())
}

// tagPasses applies a counting filter's flags and date to a tag.
func tagPasses(f geo.Filter, t geo.Tag) bool {
	return t.Flags&f.Mask == f.Want && (!f.Timed || (t.From <= f.At && f.At < t.To))
}
