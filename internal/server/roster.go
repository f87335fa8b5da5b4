package server

import (
	"context"
	"errors"
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
	Err     string
	Loader  string // the name given to Load
	Version string // the roster version loaded; on failure the one tried, if known
}

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
type Holder struct {
	base *adequacy.Engine // county table, geography and profiles; no network
	now  func() time.Time

	cur  atomic.Pointer[serving]
	last atomic.Pointer[ReloadOutcome]
	next atomic.Int64 // Unix nanoseconds of the next scheduled reload; 0 = none

	// Set by Server.NewReloader: reloads from a version store and their
	// admin RPCs (reload.go, admin.go).
	reloader atomic.Pointer[Reloader]
	pinned   atomic.Bool

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
	return &Holder{base: base, now: now}
}

// Base is the engine without a network: profiles and geography, which
// serve before any roster is loaded.
func (h *Holder) Base() *adequacy.Engine { return h.base }

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

// OnChange registers fn to be called with the status after every load
// attempt, successful or not (health and metrics follow the roster this
// way). fn must not call Load.
func (h *Holder) OnChange(fn func(RosterStatus)) {
	h.obsMu.Lock()
	defer h.obsMu.Unlock()
	h.observers = append(h.observers, fn)
}

// ErrLoadCanceled is returned by Load when its context ends before the
// new roster could be swapped in.
var ErrLoadCanceled = errors.New("roster load canceled")

// Load reads a roster with load, indexes it and swaps it in. On any error
// the serving roster (if any) stays; the outcome is recorded either way.
// name says what was loaded from ("file", "embedded sample", "postgres").
// Loads are serialised.
func (h *Holder) Load(ctx context.Context, name string, load func(context.Context) (*adequacy.Roster, error)) error {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	s, err := h.buildChecked(ctx, name, load)
	out := ReloadOutcome{Time: h.now().UTC(), Loader: name, Success: err == nil}
	if err != nil {
		out.Err = err.Error()
	} else {
		out.Version = s.status.Version
		h.cur.Store(s)
	}
	h.last.Store(&out)
	h.notify()
	return err
}

func (h *Holder) notify() {
	st := h.Status()
	h.obsMu.Lock()
	obs := append([]func(RosterStatus){}, h.observers...)
	h.obsMu.Unlock()
	for _, fn := range obs {
		fn(st)
	}
}
