package adequacy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"strings"
	"time"

	"github.com/geoaccess/geoaccess/geo"
)

// A roster holds its providers in one of two forms:
//
//   - as values (Roster.Providers): how rosters built in code are given —
//     tests, synthetic data, recruitment candidates;
//   - compactly (a RosterBuilder's Roster, or Roster.Compact): flat records
//     with no pointers, every string of every provider in one block of
//     text, and each distinct code list (networks, designations,
//     services) stored once. A server's roster is compact: the garbage
//     collector has one record slice, one text block and a few lists to
//     look at, not a dozen strings and slices per provider on every cycle.
//
// Len, Provider, All and Stats read either form. Networks, decisions and
// reports read the compact records (a Network compacts a roster given as
// values when it is built).

// Stats counts the roster's providers by discipline as NewNetwork does,
// without validating or indexing them.
func (r *Roster) Stats() NetworkStats {
	if r.compact() == nil {
		return CountProviders(r.Providers)
	}
	var s NetworkStats
	s.Total = len(r.table.recs)
	for i := range r.table.recs {
		rec := &r.table.recs[i]
		if !rec.disc.Valid() {
			continue
		}
		if !rec.has(recParticipating) {
			s.NonParticipating[rec.disc]++
			continue
		}
		s.Participating[rec.disc]++
		if rec.has(recTelehealthOnly) {
			s.TelehealthOnly[rec.disc]++
		}
	}
	return s
}

// Len is the number of providers.
func (r *Roster) Len() int {
	if t := r.compact(); t != nil {
		return len(t.recs)
	}
	return len(r.Providers)
}

// Provider returns the i-th provider: for a roster given as values a
// pointer into Providers, for a compact one a new copy (its strings and
// lists shared with the roster). Treat it as read-only.
func (r *Roster) Provider(i int) *Provider {
	if t := r.compact(); t != nil {
		p := new(Provider)
		t.provider(i, p)
		return p
	}
	return &r.Providers[i]
}

// All yields every provider with its position, in roster order. For a
// compact roster the provider is one value rewritten at each step: copy
// it to keep it past the step.
func (r *Roster) All() iter.Seq2[int, *Provider] {
	return func(yield func(int, *Provider) bool) {
		if t := r.compact(); t != nil {
			var p Provider
			for i := range t.recs {
				t.provider(i, &p)
				if !yield(i, &p) {
					return
				}
			}
			return
		}
		for i := range r.Providers {
			if !yield(i, &r.Providers[i]) {
				return
			}
		}
	}
}

// Detached returns a copy of p whose strings are its own: a provider read
// from a compact roster shares the roster's block of text, and keeping it
// would keep the whole block. Keep detached copies past the roster's life
// (a reload's diff rows, say).
func (p Provider) Detached() Provider {
	c := strings.Clone
	p.NPI, p.Name, p.CountyFIPS = c(p.NPI), c(p.Name), c(p.CountyFIPS)
	p.Address = Address{Line1: c(p.Address.Line1), Line2: c(p.Address.Line2), City: c(p.Address.City), State: c(p.Address.State), ZIP: c(p.Address.ZIP)}
	return p
}

// IsCompact reports whether the roster holds its providers compactly.
func (r *Roster) IsCompact() bool { return r.compact() != nil }

// Compact returns the roster in compact form: r itself when it is
// compact, else a compact copy (r is left as it is).
func (r *Roster) Compact() (*Roster, error) {
	if r.compact() != nil {
		return r, nil
	}
	t, err := compactTable(r.Providers)
	if err != nil {
		return nil, err
	}
	return &Roster{Version: r.Version, Source: r.Source, LoadedAt: r.LoadedAt, table: t}, nil
}

// Expand returns the roster with its providers as values: r itself when
// it holds values, else a copy whose providers share the compact
// roster's strings and lists.
func (r *Roster) Expand() *Roster {
	t := r.compact()
	if t == nil {
		return r
	}
	var ps []Provider
	if len(t.recs) > 0 {
		ps = make([]Provider, len(t.recs))
	}
	for i := range ps {
		t.provider(i, &ps[i])
	}
	return &Roster{Version: r.Version, Source: r.Source, LoadedAt: r.LoadedAt, Providers: ps}
}

// compact is the roster's compact table, or nil when it holds values
// (Providers wins should both be set, as by copying a compact roster and
// then setting Providers).
func (r *Roster) compact() *rosterTable {
	if r.Providers != nil {
		return nil
	}
	return r.table
}

// records returns the roster's compact records: its own, or for a roster of
// values a compact copy.
func (r *Roster) records() (*rosterTable, error) {
	if t := r.compact(); t != nil {
		return t, nil
	}
	return compactTable(r.Providers)
}

// ErrRosterTooLarge: a compact roster holds at most 4 GiB of text and
// 2^31 providers.
var ErrRosterTooLarge = errors.New("roster too large")

// span is a string of a compact roster's text.
type span struct{ off, n uint32 }

// The strings of a provider record, in Provider's order.
const (
	fNPI = iota
	fName
	fLine1
	fLine2
	fCity
	fState
	fZIP
	fCounty
	numFields
)

// The code lists of a provider record.
const (
	lNetworks = iota
	lDesignations
	lServices
	numLists
)

// Record flags.
const (
	recParticipating uint8 = 1 << iota
	recTelehealthOnly
	recAccepting
)

// provRec is one provider of a compact roster. It holds no pointers: its
// strings are spans of the roster's text and its lists indices into the
// roster's distinct lists.
type provRec struct {
	loc       geo.Point
	str       [numFields]span
	lists     [numLists]uint32 // 0: nil; 1: empty, not nil; else lists[i]
	eff, term Date
	disc      Discipline
	flags     uint8
}

func (rec *provRec) has(f uint8) bool { return rec.flags&f != 0 }

// tag is the index tag of the provider's counting attributes.
func (rec *provRec) tag() geo.Tag {
	return tagOf(!rec.has(recTelehealthOnly), rec.has(recAccepting), rec.eff, rec.term)
}

// rosterTable is a compact roster's providers.
type rosterTable struct {
	recs  []provRec
	text  string     // every string of every provider, back to back
	lists [][]string // distinct code lists; [0] nil, [1] empty
}

func (t *rosterTable) str(i int, f int) string {
	s := t.recs[i].str[f]
	return t.text[s.off : s.off+s.n]
}

func (t *rosterTable) list(i int, l int) []string { return t.lists[t.recs[i].lists[l]] }

// provider writes the i-th provider into p.
func (t *rosterTable) provider(i int, p *Provider) {
	rec := &t.recs[i]
	s := func(f int) string { return t.text[rec.str[f].off : rec.str[f].off+rec.str[f].n] }
	*p = Provider{NPI: s(fNPI), Name: s(fName), Discipline: rec.disc, Location: rec.loc,
		Address:    Address{Line1: s(fLine1), Line2: s(fLine2), City: s(fCity), State: s(fState), ZIP: s(fZIP)},
		CountyFIPS: s(fCounty), Networks: t.lists[rec.lists[lNetworks]], Designations: t.lists[rec.lists[lDesignations]],
		Services: t.lists[rec.lists[lServices]], Participating: rec.has(recParticipating), TelehealthOnly: rec.has(recTelehealthOnly),
		AcceptingNewPatients: rec.has(recAccepting), Effective: rec.eff, Termination: rec.term}
}

func compactTable(ps []Provider) (*rosterTable, error) {
	b := NewRosterBuilder(len(ps))
	for i := range ps {
		if err := b.Add(&ps[i]); err != nil {
			return nil, err
		}
	}
	return b.table(), nil
}

// RosterBuilder makes a compact roster provider by provider. Readers that
// work in parallel give each worker its own builder and join them in
// order with Append.
type RosterBuilder struct {
	recs   []provRec
	text   strings.Builder
	lists  [][]string
	listIx map[string]uint32
	// seen remembers lists by identity: readers share equal lists, so
	// most rows' lists are found without building a key.
	seen map[listRef]uint32
	key  []byte
}

type listRef struct {
	first *string
	n     int
}

// NewRosterBuilder returns an empty builder with room for n providers.
func NewRosterBuilder(n int) *RosterBuilder {
	return &RosterBuilder{recs: make([]provRec, 0, n), lists: [][]string{nil, {}}, listIx: map[string]uint32{}, seen: map[listRef]uint32{}}
}

// Len is the number of providers added.
func (b *RosterBuilder) Len() int { return len(b.recs) }

// TextLen is the bytes of text the providers added hold.
func (b *RosterBuilder) TextLen() int { return b.text.Len() }

// Add appends a provider, copying its strings; its lists are stored once
// per distinct list (and must not change while the builder is in use:
// lists are recognised by identity too).
func (b *RosterBuilder) Add(p *Provider) error {
	rec, err := b.record(p)
	if err != nil {
		return err
	}
	for f, s := range [numFields]string{p.NPI, p.Name, p.Address.Line1, p.Address.Line2, p.Address.City, p.Address.State, p.Address.ZIP, p.CountyFIPS} {
		if rec.str[f], err = b.appendText(len(s)); err != nil {
			return err
		}
		b.text.WriteString(s)
	}
	b.recs = append(b.recs, rec)
	return nil
}

// ProviderBytes are a provider's strings as bytes, for a reader that holds
// bytes (a database row): AddBytes copies them without making a string of
// each.
type ProviderBytes struct {
	NPI, Name, Line1, Line2, City, State, ZIP, CountyFIPS []byte
}

// AddBytes is Add with the provider's strings given as bytes; p's own
// strings are not read.
func (b *RosterBuilder) AddBytes(p *Provider, t *ProviderBytes) error {
	rec, err := b.record(p)
	if err != nil {
		return err
	}
	for f, s := range [numFields][]byte{t.NPI, t.Name, t.Line1, t.Line2, t.City, t.State, t.ZIP, t.CountyFIPS} {
		if rec.str[f], err = b.appendText(len(s)); err != nil {
			return err
		}
		b.text.Write(s)
	}
	b.recs = append(b.recs, rec)
	return nil
}

// record is p's record but for its strings.
func (b *RosterBuilder) record(p *Provider) (provRec, error) {
	if len(b.recs) >= math.MaxInt32 {
		return provRec{}, fmt.Errorf("%w: more than %d providers", ErrRosterTooLarge, math.MaxInt32)
	}
	rec := provRec{loc: p.Location, eff: p.Effective, term: p.Termination, disc: p.Discipline}
	if p.Participating {
		rec.flags |= recParticipating
	}
	if p.TelehealthOnly {
		rec.flags |= recTelehealthOnly
	}
	if p.AcceptingNewPatients {
		rec.flags |= recAccepting
	}
	for l, codes := range [numLists][]string{p.Networks, p.Designations, p.Services} {
		rec.lists[l] = b.intern(codes)
	}
	return rec, nil
}

// appendText is the span of n bytes about to be written to the text.
func (b *RosterBuilder) appendText(n int) (span, error) {
	if n == 0 {
		return span{}, nil
	}
	if b.text.Len()+n > math.MaxUint32 {
		return span{}, fmt.Errorf("%w: more than 4 GiB of text", ErrRosterTooLarge)
	}
	return span{uint32(b.text.Len()), uint32(n)}, nil
}

// intern returns the index of a list, adding it when new. Equal lists
// share one slice, as readers share them.
func (b *RosterBuilder) intern(codes []string) uint32 {
	switch {
	case codes == nil:
		return 0
	case len(codes) == 0:
		return 1
	}
	ref := listRef{&codes[0], len(codes)}
	if i, ok := b.seen[ref]; ok {
		return i
	}
	b.key = b.key[:0]
	for _, c := range codes {
		b.key = binary.AppendUvarint(b.key, uint64(len(c)))
		b.key = append(b.key, c...)
	}
	i, ok := b.listIx[string(b.key)]
	if !ok {
		i = uint32(len(b.lists))
		b.lists = append(b.lists, codes)
		b.listIx[string(b.key)] = i
	}
	if len(b.seen) < maxSeenLists {
		b.seen[ref] = i
	}
	return i
}

// maxSeenLists bounds the lists a builder remembers by identity.
const maxSeenLists = 1 << 16

// Append adds o's providers after b's, those for which keep returns true
// (every one when keep is nil), in o's order. o is not changed.
func (b *RosterBuilder) Append(o *RosterBuilder, keep func(i int) bool) error {
	if b.text.Len()+o.text.Len() > math.MaxUint32 {
		return fmt.Errorf("%w: more than 4 GiB of text", ErrRosterTooLarge)
	}
	if len(b.recs)+len(o.recs) > math.MaxInt32 {
		return fmt.Errorf("%w: more than %d providers", ErrRosterTooLarge, math.MaxInt32)
	}
	base := uint32(b.text.Len())
	b.text.WriteString(o.text.String())
	ids := make([]uint32, len(o.lists))
	for i, l := range o.lists {
		ids[i] = b.intern(l)
	}
	b.recs = growRecs(b.recs, len(o.recs))
	for i := range o.recs {
		if keep != nil && !keep(i) {
			continue
		}
		rec := o.recs[i]
		for f := range rec.str {
			if rec.str[f].n > 0 {
				rec.str[f].off += base
			}
		}
		for l := range rec.lists {
			rec.lists[l] = ids[rec.lists[l]]
		}
		b.recs = append(b.recs, rec)
	}
	return nil
}

func growRecs(s []provRec, n int) []provRec {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]provRec, len(s), len(s)+n)
	copy(out, s)
	return out
}

// Reorder puts the providers in the order given: the i-th becomes the
// provider added at position order[i]. order must be a permutation of
// 0..Len()-1.
func (b *RosterBuilder) Reorder(order []int32) error {
	if len(order) != len(b.recs) {
		return fmt.Errorf("reorder: %d positions for %d providers", len(order), len(b.recs))
	}
	seen := make([]bool, len(order))
	out := make([]provRec, len(order))
	for i, j := range order {
		if j < 0 || int(j) >= len(order) || seen[j] {
			return fmt.Errorf("reorder: position %d is out of range or repeated", j)
		}
		seen[j] = true
		out[i] = b.recs[j]
	}
	b.recs = out
	return nil
}

// Grow makes room for n more providers and text bytes more text.
func (b *RosterBuilder) Grow(n, text int) {
	b.recs = growRecs(b.recs, n)
	b.text.Grow(text)
}

func (b *RosterBuilder) table() *rosterTable {
	return &rosterTable{recs: b.recs, text: b.text.String(), lists: b.lists}
}

// Roster returns the compact roster built. The builder must not be used
// after.
func (b *RosterBuilder) Roster(version, source string, loadedAt time.Time) *Roster {
	t := b.table()
	*b = RosterBuilder{}
	return &Roster{Version: version, Source: source, LoadedAt: loadedAt, table: t}
}
