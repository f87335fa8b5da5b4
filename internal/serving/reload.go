package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geoaccess/geoaccess/adequacy"
)

// VersionSource is a store of published roster versions that a server
// reloads from: PostgreSQL (package pgsource) in geoaccessd, anything in
// tests.
// Versions are immutable: a label always reads the same roster.
type VersionSource interface {
	// Name is the loader name that statuses and logs show ("postgres").
	Name() string
	// Current is the version the store says should serve now. It is
	// cheap (no providers are read): every trigger calls it first.
	// adequacy.ErrNoCurrentVersion when none is published.
	Current(ctx context.Context) (VersionInfo, error)
	// Lookup resolves a caller's version string ("42", "pg:42") to a
	// servable version, or an *adequacy.VersionError (VersionBad,
	// VersionUnknown, VersionNotServable) saying why it cannot.
	Lookup(ctx context.Context, version string) (VersionInfo, error)
	// Read reads a version's roster.
	Read(ctx context.Context, v VersionInfo) (*adequacy.Roster, error)
	// Published lists up to limit servable versions, newest first: the
	// candidates a starting server falls back to when the current one
	// cannot be served.
	Published(ctx context.Context, limit int) ([]VersionInfo, error)
}

// Watcher is a VersionSource that hears of publishes (PostgreSQL
// LISTEN/NOTIFY). Watch calls notify for every publish, and after every
// (re)connection since publishes may have been missed, until ctx ends;
// state reports the connection going up (err nil) or down.
type Watcher interface {
	Watch(ctx context.Context, notify func(), state func(up bool, err error)) error
}

// VersionInfo is a version as a source describes it.
type VersionInfo struct {
	Label string // as decisions cite it: "pg:42"
	// Forced: the version was published past the loader's shrink guard on
	// purpose (roster load --force), so the server's guard lets it pass
	// too; an operator has already accepted the shrink.
	Forced bool
}

// Trigger is what started a reload.
type Trigger string

// Triggers. Automatic ones (all but admin and start) are coalesced,
// skip a pinned server and a version already refused, and are retried
// with backoff when they fail for a reason that may pass.
const (
	TriggerStart    Trigger = "start"
	TriggerSchedule Trigger = "schedule"
	TriggerNotify   Trigger = "notify"
	TriggerRetry    Trigger = "retry"
	TriggerAdmin    Trigger = "admin"
	// TriggerListener: the store's notification connection was lost. The
	// store may be unreachable; the check finds out, so the status says
	// so at once (and retries follow) rather than at the next publish.
	TriggerListener Trigger = "listener"
)

// Backoff spaces the retries of failed automatic reloads: the n-th retry
// waits a random time in [d/2, d) with d = Min·2ⁿ⁻¹ capped at Max
// ("equal jitter": replicas that failed together do not retry together,
// and no retry comes sooner than half the nominal delay). Any successful
// reload resets it.
type Backoff struct {
	Min, Max time.Duration // defaults 2s and 5m
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 2 * time.Second
	}
	if b.Max < b.Min {
		b.Max = max(5*time.Minute, b.Min)
	}
	return b
}

// Delay is the wait before retry number n (1, 2, …); rnd returns a number
// in [0, 1).
func (b Backoff) Delay(n int, rnd func() float64) time.Duration {
	b = b.withDefaults()
	d := b.Max
	if n < 1 {
		n = 1
	}
	if n-1 < 32 {
		if s := b.Min << (n - 1); s > 0 && s < b.Max {
			d = s
		}
	}
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// ReloadConfig configures a Reloader; zero values take the defaults.
type ReloadConfig struct {
	// Logger receives the reload logs; nil = none.
	Logger *slog.Logger
	// MaxShrink is the shrink guard: how far any discipline's
	// participating providers may fall in one reload. The zero value is
	// adequacy.DefaultMaxShrink (20%); adequacy.MaxShrink(0) allows no
	// fall, adequacy.NoShrinkLimit any.
	MaxShrink adequacy.ShrinkLimit
	// MoveMiles is the diff's move threshold (adequacy.DiffRosters);
	// nil = DefaultMoveMiles, a pointer to 0 makes every shift a move.
	MoveMiles *float64
	// Daily, when set, reloads every day at this wall-clock time in
	// Location (see NextDaily).
	Daily    *ClockTime
	Location *time.Location // nil = UTC
	// Backoff spaces retries of failed automatic reloads.
	Backoff Backoff
	// Timeout bounds one reload attempt (the database may hang rather
	// than fail); 0 = 5 minutes.
	Timeout time.Duration
	// FallbackVersions: at start, when the current version cannot be
	// served, how many other published versions to try, newest first;
	// 0 = 3, negative = none.
	FallbackVersions int
}

// DefaultMoveMiles is the diff's default move threshold: 0.1 statute
// mile (about 160 m), as in "geoaccess roster diff". Re-geocoding moves a
// site a few metres; a tenth of a mile is far below any time-distance
// standard (the smallest is 5 miles), so a move counted here is a real
// change of address, and server and CLI diffs of the same versions agree.
const DefaultMoveMiles = 0.1

// MaxDiffRows is how many rows of each kind (added, removed, moved,
// changed) the server keeps from the last diff; the counts are always
// complete. "geoaccess roster diff V1 V2 --json" lists every row.
const MaxDiffRows = 1000

func (c ReloadConfig) withDefaults() ReloadConfig {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MoveMiles == nil {
		c.MoveMiles = new(DefaultMoveMiles)
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	c.Backoff = c.Backoff.withDefaults()
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.FallbackVersions == 0 {
		c.FallbackVersions = 3
	}
	return c
}

// Reloader keeps a server's roster in step with a version store. Every
// trigger — start, the nightly schedule, a notification, the admin RPC, a
// retry — asks the store for its current version (cheap) and reads the
// roster only when that differs from the serving one. The new network is
// built beside the serving one, checked by the shrink guard, and swapped
// in atomically (Holder); on any failure the serving roster stays and
// health is unchanged. The errors that refuse a version are adequacy's
// (*adequacy.VersionError, adequacy.ErrShrink): they are final for that
// version (adequacy.VersionFinal), so automatic triggers do not read it
// again until the store names another; other errors are retried with
// backoff. Reloads run one at a time; automatic triggers that
// arrive during one are coalesced into a single check after it.
type Reloader struct {
	h   *Holder
	src VersionSource
	cfg ReloadConfig
	log *slog.Logger
	m   *reloadMetrics

	sem  chan struct{} // one reload at a time
	kick chan Trigger  // a pending automatic trigger (coalesced)

	// Guarded by sem.
	rejected string // the last version refused for good: automatic triggers skip it
	failures int    // consecutive failures of automatic reloads: the backoff exponent
	rnd      *rand.Rand

	diffMu sync.Mutex
	diff   *RosterDiff
}

// RosterDiff is the diff of the last reload that swapped rosters: full
// counts, and at most MaxDiffRows rows of each kind.
type RosterDiff struct {
	adequacy.RosterDiff
	Time time.Time // when the new roster was swapped in
}

// ReloadResult is what a reload did.
type ReloadResult struct {
	Loaded bool         // a new roster was swapped in (false: it already served)
	Status RosterStatus // after the attempt
	Diff   *RosterDiff  // when Loaded and a roster served before
}

// NewReloader returns a reloader that keeps h in step with src. Hand it
// to the gRPC server (server.SetReloader: the admin RPCs and the reload
// metrics), then call Start, then Run.
func NewReloader(h *Holder, src VersionSource, cfg ReloadConfig) *Reloader {
	cfg = cfg.withDefaults()
	return &Reloader{h: h, src: src, cfg: cfg, log: cfg.Logger, m: newReloadMetrics(h),
		sem: make(chan struct{}, 1), kick: make(chan Trigger, 1),
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15))}
}

// Holder is the holder the reloader keeps in step.
func (r *Reloader) Holder() *Holder { return r.h }

// Collector is the reloader's Prometheus metrics, for the server's
// registry.
func (r *Reloader) Collector() prometheus.Collector { return r.m }

// Notify asks for a reload check, as a notification from the store does.
// It never blocks: a check already pending absorbs it.
func (r *Reloader) Notify() { r.trigger(TriggerNotify) }

func (r *Reloader) trigger(t Trigger) {
	select {
	case r.kick <- t:
	default: // a check is pending: it will see whatever this one would
	}
}

// LastDiff is the diff of the last reload that swapped rosters, or nil.
func (r *Reloader) LastDiff() *RosterDiff {
	r.diffMu.Lock()
	defer r.diffMu.Unlock()
	return r.diff
}

// Start loads the store's current version. If it cannot be served (its
// rows are invalid, it was retired), the newest other published version
// that can is served instead, and the status keeps the current one's
// failure. With nothing published yet it returns nil and the server waits
// (health NOT_SERVING) for the first publish. Other errors (the database
// unreachable) are returned: the caller decides whether to start.
func (r *Reloader) Start(ctx context.Context) error {
	_, err := r.reload(ctx, reloadRequest{trigger: TriggerStart})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, adequacy.ErrNoCurrentVersion):
		r.log.Warn("no roster version is published yet: not serving until one is", slog.String("loader", r.src.Name()))
		return nil
	case !adequacy.VersionFinal(err) || r.cfg.FallbackVersions < 0:
		return err
	}
	failed := r.h.Status().LastReload
	vs, lerr := r.src.Published(ctx, r.cfg.FallbackVersions+1)
	if lerr != nil {
		return errors.Join(err, fmt.Errorf("list fallback versions: %w", lerr))
	}
	tried := 0
	for _, v := range vs {
		if v.Label == failed.Version || tried == r.cfg.FallbackVersions {
			continue
		}
		tried++
		if _, ferr := r.reload(ctx, reloadRequest{trigger: TriggerStart, version: v.Label, fallback: true}); ferr != nil {
			continue
		}
		// Serve the fallback, but report the current version's failure:
		// that is what needs an operator. (Its refusal is remembered, so
		// triggers do not read it again until another is published.)
		r.h.Record(failed)
		r.log.Error("current roster version cannot be served: serving an earlier one", slog.String("version_tried", failed.Version),
			slog.String("roster_version", v.Label), slog.String("error", logSafe(err)))
		return nil
	}
	return err
}

// Run reloads on the schedule, on notifications from the store (when it
// is a Watcher) and on retries, until ctx ends.
func (r *Reloader) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	if w, ok := r.src.(Watcher); ok {
		wg.Go(func() {
			wasUp := false
			w.Watch(ctx, r.Notify, func(up bool, err error) { //nolint:errcheck // returns ctx's error when ctx ends
				r.m.listenerUp(up)
				if err != nil && ctx.Err() == nil {
					r.log.Warn("roster notifications: connection lost; reconnecting", slog.String("error", err.Error()))
				}
				if wasUp && !up && ctx.Err() == nil {
					r.trigger(TriggerListener) // once per loss; retries take it from there
				}
				wasUp = up
			})
		})
	}
	var sched, retry *time.Timer
	var schedC, retryC <-chan time.Time
	stop := func(t *time.Timer) {
		if t != nil {
			t.Stop()
		}
	}
	defer func() { stop(sched); stop(retry) }()
	var due time.Time
	arm := func(after time.Time) {
		if r.cfg.Daily == nil {
			return
		}
		due = NextDaily(after, *r.cfg.Daily, r.cfg.Location)
		r.h.SetNextReload(due)
		stop(sched)
		sched = time.NewTimer(time.Until(due))
		schedC = sched.C
	}
	arm(time.Now())
	defer r.h.SetNextReload(time.Time{})
	for {
		var t Trigger
		select {
		case <-ctx.Done():
			return
		case t = <-r.kick:
		case <-schedC:
			t = TriggerSchedule
			// From the due time, not now: a timer is never early by the
			// monotonic clock, but the wall clock may lag it.
			arm(later(time.Now(), due))
		case <-retryC:
			t, retryC = TriggerRetry, nil
		}
		again, wait := r.auto(ctx, t)
		switch {
		case again:
			stop(retry)
			retry = time.NewTimer(wait)
			retryC = retry.C
		case retryC != nil && t != TriggerRetry:
			// A check succeeded (or failed for good) while a retry was
			// pending: the retry has nothing left to do.
			stop(retry)
			retryC = nil
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// auto runs an automatic reload and says whether and when to retry it.
func (r *Reloader) auto(ctx context.Context, t Trigger) (retry bool, wait time.Duration) {
	_, err := r.reload(ctx, reloadRequest{trigger: t})
	if err == nil || adequacy.VersionFinal(err) || ctx.Err() != nil {
		return false, 0
	}
	r.sem <- struct{}{}
	r.failures++
	n := r.failures
	wait = r.cfg.Backoff.Delay(n, r.rnd.Float64)
	<-r.sem
	r.m.failures.Set(float64(n))
	r.log.Warn("roster reload will be retried", slog.Int("attempt", n), slog.Duration("in", wait.Round(time.Millisecond)))
	return true, wait
}

// Reload is the admin reload: version "" or "current" is the store's
// current version and unpins the server; a named version is served and
// pins the server to it (automatic triggers leave it alone until a reload
// of current). force bypasses the shrink guard and, with a named version,
// reads it even if it is already serving. It waits for a reload in
// progress (or for ctx).
func (r *Reloader) Reload(ctx context.Context, version string, force bool) (ReloadResult, error) {
	v := strings.TrimSpace(version)
	if strings.EqualFold(v, "current") {
		v = ""
	}
	return r.reload(ctx, reloadRequest{trigger: TriggerAdmin, version: v, force: force})
}

type reloadRequest struct {
	trigger  Trigger
	version  string // "" = the store's current version
	force    bool
	fallback bool // a start-up fallback: serve version without pinning
}

func (r *Reloader) reload(ctx context.Context, req reloadRequest) (res ReloadResult, err error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return res, fmt.Errorf("wait for the reload in progress: %w", ctx.Err())
	}
	defer func() { <-r.sem }()
	// Observers (health, the load metrics and log, tests) hear of an
	// attempt once it is complete: diff kept, metrics counted.
	notify := false
	defer func() {
		if notify {
			r.h.Notify()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	start := time.Now()
	automatic := req.trigger != TriggerAdmin && req.trigger != TriggerStart
	named := req.version != ""
	loader := r.src.Name() + " (" + string(req.trigger) + ")"
	serving := r.h.Status().Version
	if automatic && r.h.Status().Pinned {
		r.m.reload(req.trigger, "skipped", 0)
		r.log.Debug("roster reload skipped: pinned by an admin reload", slog.String("trigger", string(req.trigger)), slog.String("roster_version", serving))
		return ReloadResult{Status: r.h.Status()}, nil
	}

	var v VersionInfo
	if named {
		v, err = r.src.Lookup(ctx, req.version)
	} else {
		v, err = r.src.Current(ctx)
	}
	if err != nil {
		if errors.Is(err, adequacy.ErrNoCurrentVersion) && automatic {
			r.m.reload(req.trigger, "unchanged", 0)
			return ReloadResult{Status: r.h.Status()}, nil // nothing to serve yet, nothing wrong
		}
		r.h.Record(ReloadOutcome{Time: time.Now().UTC(), Loader: loader, Version: v.Label}.Failed(err))
		notify = true
		r.failed(req, v.Label, serving, err, start)
		return ReloadResult{Status: r.h.Status()}, err
	}

	pin := named && !req.fallback
	if v.Label == serving && !(named && req.force) {
		// Nothing to read. The check itself succeeded: a past failure is
		// over, and an admin reload still (un)pins.
		r.h.SetPinned(pin)
		r.m.pinned(pin)
		r.failures = 0
		r.m.failures.Set(0)
		// Not a load: observers are not told.
		r.h.Record(ReloadOutcome{Time: time.Now().UTC(), Success: true, Loader: loader, Version: v.Label})
		r.m.reload(req.trigger, "unchanged", 0)
		r.m.success(time.Now())
		r.log.Debug("roster reload: already serving", slog.String("trigger", string(req.trigger)), slog.String("roster_version", v.Label))
		return ReloadResult{Status: r.h.Status()}, nil
	}
	if automatic && v.Label == r.rejected {
		r.m.reload(req.trigger, "skipped", 0)
		r.log.Debug("roster reload skipped: version already refused", slog.String("trigger", string(req.trigger)), slog.String("version", v.Label))
		return ReloadResult{Status: r.h.Status()}, nil
	}

	guard := r.cfg.MaxShrink
	if req.force || v.Forced {
		guard = adequacy.NoShrinkLimit
	}
	notify = true
	prev, next, err := r.h.Swap(ctx, loader, v.Label, func(ctx context.Context) (*adequacy.Roster, error) { return r.src.Read(ctx, v) },
		func(old, new *adequacy.Network) error {
			if old == nil || guard.Off() {
				return nil
			}
			return guard.Check(old.Stats(), new.Stats())
		})
	if err != nil {
		if adequacy.VersionFinal(err) {
			r.rejected = v.Label
		}
		r.failed(req, v.Label, serving, err, start)
		return ReloadResult{Status: r.h.Status()}, err
	}
	took := time.Since(start)
	if r.rejected == v.Label { // forced past its refusal
		r.rejected = ""
	}
	r.failures = 0
	r.m.failures.Set(0)
	r.h.SetPinned(pin)
	r.m.pinned(pin)
	r.m.reload(req.trigger, "loaded", took)
	r.m.success(time.Now())
	res = ReloadResult{Loaded: true}
	attrs := []any{slog.String("trigger", string(req.trigger)), slog.String("roster_version", next.Version()),
		slog.String("previous_version", serving), slog.Int("providers", next.Stats().Total),
		slog.Float64("reload_ms", float64(took.Microseconds())/1000), slog.Bool("forced", guard.Off() && prev != nil),
		slog.Bool("pinned", pin)}
	if prev != nil {
		res.Diff = r.keepDiff(prev.Roster, next.Roster)
		attrs = append(attrs, diffAttrs(&res.Diff.RosterDiff)...)
	}
	// The old network is collectable once calls in flight finish: the
	// holder, this function and the kept diff (copies of at most
	// MaxDiffRows rows) no longer reference it.
	prev = nil
	r.log.Info("roster reloaded", attrs...)
	res.Status = r.h.Status()
	return res, nil
}

// failed reports a failed reload in metrics and logs.
func (r *Reloader) failed(req reloadRequest, tried, serving string, err error, start time.Time) {
	outcome := "failed"
	if adequacy.VersionFinal(err) {
		outcome = "refused"
	}
	r.m.reload(req.trigger, outcome, time.Since(start))
	r.log.Error("roster reload failed: the serving roster stays", slog.String("trigger", string(req.trigger)),
		slog.String("version_tried", tried), slog.String("roster_version", serving), slog.String("outcome", outcome),
		slog.String("error", logSafe(err)))
}

// logSafe is an error's message for the log. Messages about invalid rows
// quote the provider's NPI and coordinates; the log says only that, and
// GetRosterStatus (and the admin RPC's error) carry the detail.
func logSafe(err error) string {
	if errors.Is(err, adequacy.ErrInvalidRoster) {
		return adequacy.ErrInvalidRoster.Error() + " (details in GetRosterStatus)"
	}
	return err.Error()
}

// keepDiff diffs the rosters and keeps the counts and the first
// MaxDiffRows rows of each kind, copied so that neither the full diff's
// slices nor anything of the old roster stays reachable: the rows are
// detached from the rosters' blocks of text.
func (r *Reloader) keepDiff(old, new *adequacy.Roster) *RosterDiff {
	d := adequacy.DiffRosters(old, new, *r.cfg.MoveMiles)
	kept := &RosterDiff{RosterDiff: d, Time: time.Now().UTC()}
	kept.Added = clip(d.Added)
	kept.Removed = clip(d.Removed)
	kept.Moved = clip(d.Moved)
	kept.Changed = clip(d.Changed)
	for _, ps := range [][]adequacy.Provider{kept.Added, kept.Removed} {
		for i := range ps {
			ps[i] = ps[i].Detached()
		}
	}
	for _, cs := range [][]adequacy.ProviderChange{kept.Moved, kept.Changed} {
		for i := range cs {
			cs[i].Old, cs[i].New = cs[i].Old.Detached(), cs[i].New.Detached()
		}
	}
	r.diffMu.Lock()
	r.diff = kept
	r.diffMu.Unlock()
	return kept
}

func clip[T any](s []T) []T {
	return append([]T(nil), s[:min(len(s), MaxDiffRows)]...)
}

// diffAttrs are the diff's counts for the log: totals and by discipline.
func diffAttrs(d *adequacy.RosterDiff) []any {
	var b strings.Builder
	for _, disc := range adequacy.Disciplines {
		c := d.Counts[disc]
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:+%d/-%d/moved %d/changed %d", disc, c.Added, c.Removed, c.Moved, c.Changed)
	}
	return []any{slog.Int("added", d.Total.Added), slog.Int("removed", d.Total.Removed), slog.Int("moved", d.Total.Moved),
		slog.Int("changed", d.Total.Changed), slog.Int("unchanged", d.Total.Unchanged), slog.String("by_discipline", b.String())}
}
