package serving

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
)

// RosterStatus describes the serving roster and the last load attempt.
type RosterStatus struct {
	Loaded     bool // a roster is serving
	Version    string
	Source     string
	LoadedAt   time.Time
	Stats      adequacy.NetworkStats
	LastReload ReloadOutcome
	NextReload time.Time // zero: no reload scheduled
	Pinned     bool      // an admin reload of a named version pinned it (see Reloader)
}

// ReloadOutcome is how one load or reload attempt went.
type ReloadOutcome struct {
	Time    time.Time // zero: no attempt yet
	Success bool
	Err     string // why it failed, in full: for the log and admins
	// PublicErr is Err as any caller may see it: the refusals of a
	// version (shrink guard, no participating providers, not servable) as
	// they are, everything else — a store unreachable, a file unreadable,
	// whose messages name hosts, ports, users and paths — in general
	// words, and invalid rows without the rows (see PublicError).
	PublicErr string
	Loader    string // the name given to Load
	Version   string // the roster version loaded; on failure the one tried, if known
}

// Failed returns o recording err as its failure.
func (o ReloadOutcome) Failed(err error) ReloadOutcome {
	o.Success, o.Err, o.PublicErr = false, err.Error(), PublicError(err)
	return o
}

// PublicError is what a caller without the admin role may see of a
// failed load: the message of a version's refusal (the shrink guard, no
// participating providers, a version not servable, unknown or malformed),
// which says nothing of the infrastructure; for invalid rows only that
// (the message quotes providers' rows); for anything else — the store
// unreachable or failing, a file unreadable — that it failed, without
// the error's host, port, user or path.
func PublicError(err error) string {
	switch code := adequacy.VersionCodeOf(err); {
	case err == nil:
		return ""
	case errors.Is(err, ErrLoadCanceled):
		return ErrLoadCanceled.Error()
	case code == adequacy.VersionInvalidRows:
		return code.String() + " (details for admins and in the server log)"
	case code != 0 || errors.Is(err, adequacy.ErrShrink) || errors.Is(err, adequacy.ErrEmptyRoster):
		return err.Error()
	}
	return "the roster could not be read: its store is unreachable or failed (details for admins and in the server log)"
}

// LoadFunc reads a roster: from a file, the embedded sample, a version
// store.
type LoadFunc func(context.Context) (*adequacy.Roster, error)

// serving is an engine with its network and what is known about it; it
// is replaced whole, never changed.
type serving struct {
	engine *adequacy.Engine
	status RosterStatus
}

// Holder keeps the engine that serves calls. A load builds the new network
// beside the serving one and swaps an atomic pointer, so calls in flight
// finish on the network they started with and no call ever fails for a
// reload.
//
// Load is the whole of a one-off load. A Reloader drives the holder
// through the rest of its exported methods: Swap (a load with a check,
// observers not yet told), Record (an attempt that read nothing), Notify,
// SetPinned and SetNextReload.
type Holder struct {
	// base is the engine without a network: county table, geography,
	// profiles, vocabulary and plans (SetPlans replaces the plans).
	base atomic.Pointer[adequacy.Engine]
	now  func() time.Time

	cur    atomic.Pointer[serving]
	last   atomic.Pointer[ReloadOutcome]
	next   atomic.Int64 // Unix nanoseconds of the next scheduled reload; 0 = none
	pinned atomic.Bool

	loadMu    sync.Mutex // one load at a time
	obsMu     sync.Mutex
	observers []func(RosterStatus)
}

// NewHolder returns a holder with no roster: Engine returns nil until the
// first successful Load.
func NewHolder(base *adequacy.Engine, now func() time.Time) *Holder {
	if now == nil {
		now = time.Now
	}
	h := &Holder{now: now}
	h.base.Store(base)
	return h
}

// Base is the engine without a network: profiles and geography, which
// serve before any roster is loaded.
func (h *Holder) Base() *adequacy.Engine { return h.base.Load() }

// SetPlans serves another plan registry (a new version published in
// PostgreSQL): the base engine and the serving one are replaced by copies
// with the new plans, so calls in flight finish with the plans they
// started with. It waits for a roster load in progress.
func (h *Holder) SetPlans(p *adequacy.Plans) {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	b := *h.base.Load()
	b.Plans = p
	h.base.Store(&b)
	if s := h.cur.Load(); s != nil {
		e := *s.engine
		e.Plans = p
		ns := *s
		ns.engine = &e
		h.cur.Store(&ns)
	}
}

// Engine returns the serving engine, or nil when no roster is loaded.
func (h *Holder) Engine() *adequacy.Engine {
	if s := h.cur.Load(); s != nil {
		return s.engine
	}
	return nil
}

// Status reports the serving roster and the last load attempt. It never
// waits for a load in progress.
func (h *Holder) Status() RosterStatus {
	var st RosterStatus
	if s := h.cur.Load(); s != nil {
		st = s.status
	}
	if o := h.last.Load(); o != nil {
		st.LastReload = *o
	}
	if n := h.next.Load(); n != 0 {
		st.NextReload = time.Unix(0, n)
	}
	st.Pinned = h.pinned.Load()
	return st
}

// SetNextReload records when the next scheduled reload is due (zero: none).
func (h *Holder) SetNextReload(t time.Time) {
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
	}
	h.next.Store(n)
}

// SetPinned records whether an admin reload pinned the serving roster.
func (h *Holder) SetPinned(p bool) { h.pinned.Store(p) }

// Record sets the last attempt's outcome without loading anything: a
// version check that failed, or found the serving version current.
// Observers are not told (see Notify).
func (h *Holder) Record(o ReloadOutcome) { h.last.Store(&o) }

// OnChange registers fn to be called with the status after every load
// attempt, successful or not (health and metrics follow the roster this
// way). fn must not call Load.
func (h *Holder) OnChange(fn func(RosterStatus)) {
	h.obsMu.Lock()
	defer h.obsMu.Unlock()
	h.observers = append(h.observers, fn)
}

// Notify calls the OnChange observers with the current status. Load
// notifies by itself; a caller of Swap or Record notifies once its
// attempt is complete.
func (h *Holder) Notify() {
	st := h.Status()
	h.obsMu.Lock()
	obs := append([]func(RosterStatus){}, h.observers...)
	h.obsMu.Unlock()
	for _, fn := range obs {
		fn(st)
	}
}

// ErrLoadCanceled is returned by Load when its context ends before the
// new roster could be swapped in.
var ErrLoadCanceled = errors.New("roster load canceled")

// Load reads a roster with load, indexes it and swaps it in. On any error
// — a roster with no participating in-person provider included — the
// serving roster (if any) stays; the outcome is recorded either way and
// the observers are told. name says what was loaded from ("file",
// "embedded sample", "postgres"). Loads are serialised.
func (h *Holder) Load(ctx context.Context, name string, load LoadFunc) error {
	_, _, err := h.Swap(ctx, name, "", load, nil)
	h.Notify()
	return err
}

// Swap is Load with a check between building the new network and
// swapping it in (a reloader's shrink guard; nil: none), returning the
// networks served before and after. version is the version being loaded,
// for the outcome of a failure. Unlike Load it leaves telling the
// observers to the caller (Notify). A roster the network refuses (an
// invalid row) fails with adequacy.ErrInvalidRoster.
func (h *Holder) Swap(ctx context.Context, name, version string, load LoadFunc,
	check func(old, new *adequacy.Network) error) (prev, next *adequacy.Network, err error) {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if cur := h.cur.Load(); cur != nil {
		prev = cur.engine.Network
	}
	s, read, err := h.build(ctx, name, load)
	if err == nil && check != nil {
		err = check(prev, s.engine.Network)
	}
	out := ReloadOutcome{Time: h.now().UTC(), Loader: name, Success: err == nil, Version: version}
	if err != nil {
		if out.Version == "" {
			out.Version = read
		}
		out = out.Failed(err)
	} else {
		out.Version = s.status.Version
		next = s.engine.Network
		h.cur.Store(s)
	}
	h.last.Store(&out)
	return prev, next, err
}

// build reads a roster and indexes it beside the serving one. A roster
// with no participating in-person provider is refused whatever read it:
// served, it would leave every member unserved and support every
// negotiation (adequacy.ErrEmptyRoster, a VersionNotServable error, so a
// reloader never reads that version again).
// It returns the version it read, if it read one.
func (h *Holder) build(ctx context.Context, name string, load LoadFunc) (*serving, string, error) {
	r, err := load(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("load roster from %s: %w", name, err)
	}
	if r == nil {
		return nil, "", fmt.Errorf("load roster from %s: no roster", name)
	}
	if err := adequacy.CountProviders(r.Providers).Servable(); err != nil {
		return nil, r.Version, adequacy.NewVersionError(adequacy.VersionNotServable, fmt.Errorf("roster %s from %s: %w", r.Version, name, err))
	}
	n, err := h.Base().NewNetwork(r)
	if err != nil {
		return nil, r.Version, adequacy.NewVersionError(adequacy.VersionInvalidRows, fmt.Errorf("roster %s from %s: %w", r.Version, name, err))
	}
	if ctx.Err() != nil {
		return nil, r.Version, fmt.Errorf("%w: %w", ErrLoadCanceled, ctx.Err())
	}
	src := r.Source
	if src == "" {
		src = name
	}
	loadedAt := r.LoadedAt
	if loadedAt.IsZero() {
		loadedAt = h.now().UTC()
	}
	st := RosterStatus{Loaded: true, Version: r.Version, Source: src, LoadedAt: loadedAt, Stats: n.Stats()}
	return &serving{engine: h.Base().WithNetwork(n), status: st}, r.Version, nil
}
