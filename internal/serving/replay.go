package serving

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geoaccess/geoaccess/adequacy"
)

// VersionReader reads published roster versions on demand, current or
// not: what a replay of a past decision needs. Every VersionSource is
// one; package pgsource is the PostgreSQL one.
type VersionReader interface {
	// Name says where versions come from ("postgres").
	Name() string
	// Lookup resolves a caller's version string ("42", "pg:42") to a
	// servable version, or an *adequacy.VersionError (VersionBad,
	// VersionUnknown, VersionNotServable) naming it.
	Lookup(ctx context.Context, version string) (VersionInfo, error)
	// Read reads a version's roster.
	Read(ctx context.Context, v VersionInfo) (*adequacy.Roster, error)
}

// PlansReader reads published versions of the plan registry, for
// replays of decisions made for a plan. A VersionReader may be one too.
type PlansReader interface {
	// ReadPlans reads plans version ("7", "pg:7") validated against
	// profiles, or an *adequacy.VersionError naming it.
	ReadPlans(ctx context.Context, version string, profiles *adequacy.Profiles) (*adequacy.Plans, error)
}

// ReplayConfig configures Replays; zero values take the defaults.
type ReplayConfig struct {
	// Versions bounds the past roster versions kept indexed in memory
	// (least recently used evicted first); 0 = DefaultReplayVersions,
	// negative = none kept (every replay reads its version). The serving
	// version is never among them: replays of it use the serving network.
	Versions int
	// Recheck: a cached version is looked up in the store again (is it
	// still published?) when it was last checked longer ago than this;
	// 0 = DefaultReplayRecheck. A version retired since is then refused
	// and evicted.
	Recheck time.Duration
	// Logger receives replay logs (versions read, evicted, refused);
	// nil = none.
	Logger *slog.Logger
	// Now is the clock; nil = time.Now.
	Now func() time.Time
}

// Replay defaults (docs/operations.md sizes the cache).
const (
	DefaultReplayVersions = 2
	DefaultReplayRecheck  = time.Minute
	// maxPlansVersions bounds the past plan registries kept: a registry
	// is small (a plan is a few hundred bytes).
	maxPlansVersions = 16
)

// ErrNoVersionStore: a replay named a roster or plans version other than
// the serving one, and the server has no store to read it from.
var ErrNoVersionStore = errors.New("this server keeps no version store: it can replay only the versions it serves (start geoaccessd with --db)")

// ReplayError is why a replay could not get the version it named: What
// is "roster" or "plans", Version the version as the caller named it, Err
// the cause (an *adequacy.VersionError when the store refused the
// version, ErrNoVersionStore, or the store's failure).
type ReplayError struct {
	What    string
	Version string
	Err     error
}

func (e *ReplayError) Error() string {
	return fmt.Sprintf("replay %s version %s: %v", e.What, adequacy.ExcerptN(e.Version, 32), e.Err)
}

func (e *ReplayError) Unwrap() error { return e.Err }

// Replays gives engines that decide against past versions: a roster
// version read from the store on demand and indexed, kept in a small LRU
// so later replays of it run at live speed, and past plan registries.
// Reads run one at a time (a national roster holds hundreds of MB while
// it is indexed), so memory is bounded by the cached versions, the
// serving one and one being built; replays waiting for the same version
// share its read. Versions are immutable, so a cached one answers as a
// fresh read would; it is looked up again now and then (Recheck), so one
// retired since is refused.
type Replays struct {
	h     *Holder
	src   VersionReader // nil: no store
	cfg   ReplayConfig
	log   *slog.Logger
	m     *replayMetrics
	build chan struct{} // one read at a time

	mu      sync.Mutex
	lru     *list.List // of *replayEntry, most recently used first
	byLabel map[string]*list.Element
	plans   *list.List // of *plansEntry
}

type replayEntry struct {
	label   string
	network *adequacy.Network // the version's, indexed under the base engine's vocabulary
	checked time.Time
}

type plansEntry struct {
	version string
	plans   *adequacy.Plans
}

// NewReplays returns replays over the holder's base engine, reading from
// src (nil: only the serving versions can be replayed). Hand it to the
// gRPC server (server.SetReplays).
func NewReplays(h *Holder, src VersionReader, cfg ReplayConfig) *Replays {
	if cfg.Versions == 0 {
		cfg.Versions = DefaultReplayVersions
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = DefaultReplayRecheck
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Replays{h: h, src: src, cfg: cfg, log: cfg.Logger, build: make(chan struct{}, 1),
		lru: list.New(), byLabel: map[string]*list.Element{}, plans: list.New()}
	r.m = newReplayMetrics(r)
	return r
}

// Holder is the holder whose base engine and serving roster replays use.
func (r *Replays) Holder() *Holder { return r.h }

// Collector is the replay metrics, for the server's registry.
func (r *Replays) Collector() prometheus.Collector { return r.m }

// Engine returns an engine deciding against roster version roster and
// plans version plans; "" is the serving one. Errors are *ReplayError, or
// adequacy.ErrNoRoster when nothing serves yet and the serving roster is
// asked for.
func (r *Replays) Engine(ctx context.Context, roster, plans string) (*adequacy.Engine, error) {
	roster, plans = strings.TrimSpace(roster), strings.TrimSpace(plans)
	eng, err := r.rosterEngine(ctx, roster)
	if err != nil {
		return nil, err
	}
	if plans == "" || (eng.Plans != nil && plans == eng.Plans.Version) {
		return eng, nil
	}
	ps, err := r.plansVersion(ctx, plans)
	if err != nil {
		return nil, &ReplayError{What: "plans", Version: plans, Err: err}
	}
	return eng.WithPlans(ps), nil
}

func (r *Replays) rosterEngine(ctx context.Context, version string) (*adequacy.Engine, error) {
	live := r.h.Engine()
	if version == "" || (live != nil && version == live.Network.Version()) {
		if live == nil {
			return nil, adequacy.ErrNoRoster
		}
		r.m.lookup("serving")
		return live, nil
	}
	if n := r.cached(ctx, version); n != nil {
		r.m.lookup("cached")
		return r.h.Base().WithNetwork(n), nil
	}
	if r.src == nil {
		r.m.lookup("refused")
		return nil, &ReplayError{What: "roster", Version: version, Err: ErrNoVersionStore}
	}
	v, err := r.src.Lookup(ctx, version)
	if err != nil {
		r.m.failed(err)
		return nil, &ReplayError{What: "roster", Version: version, Err: err}
	}
	if live != nil && v.Label == live.Network.Version() {
		r.m.lookup("serving")
		return live, nil
	}
	if n := r.cached(ctx, v.Label); n != nil { // named as "42", cached as "pg:42"
		r.m.lookup("cached")
		return r.h.Base().WithNetwork(n), nil
	}
	n, err := r.read(ctx, version, v)
	if err != nil {
		return nil, err
	}
	// The base engine of now: its profiles and the plans it serves (which
	// a plans publish replaces) with the past network.
	return r.h.Base().WithNetwork(n), nil
}

// cached returns the cached network of label, moved to the front, after
// looking the version up again if its last check is older than Recheck.
func (r *Replays) cached(ctx context.Context, label string) *adequacy.Network {
	r.mu.Lock()
	el, ok := r.byLabel[label]
	if !ok {
		r.mu.Unlock()
		return nil
	}
	r.lru.MoveToFront(el)
	ent := el.Value.(*replayEntry)
	stale := r.src != nil && r.cfg.Now().Sub(ent.checked) > r.cfg.Recheck
	r.mu.Unlock()
	if !stale {
		return ent.network
	}
	_, err := r.src.Lookup(ctx, label)
	switch {
	case err == nil:
		r.mu.Lock()
		ent.checked = r.cfg.Now()
		r.mu.Unlock()
	case adequacy.VersionFinal(err):
		r.evict(label, "no longer servable")
		r.log.Warn("replay: cached roster version refused by its store: evicted", slog.String("roster_version", label), slog.String("error", err.Error()))
		return nil // the caller looks it up, and is refused with the store's words
	default:
		// The store is unreachable: the version's contents cannot have
		// changed, and it was servable Recheck ago.
		r.log.Warn("replay: could not recheck a cached roster version; serving it from memory", slog.String("roster_version", label), slog.String("error", err.Error()))
	}
	return ent.network
}

// read reads and indexes version v, one read at a time; a replay that
// waited for another read of the same version takes its result.
func (r *Replays) read(ctx context.Context, named string, v VersionInfo) (*adequacy.Network, error) {
	select {
	case r.build <- struct{}{}:
	case <-ctx.Done():
		return nil, &ReplayError{What: "roster", Version: named, Err: ctx.Err()}
	}
	defer func() { <-r.build }()
	if n := r.cached(ctx, v.Label); n != nil {
		r.m.lookup("cached")
		return n, nil
	}
	start := time.Now()
	ros, err := r.src.Read(ctx, v)
	if err == nil && ros == nil {
		err = errors.New("the store returned no roster")
	}
	var n *adequacy.Network
	if err == nil {
		if n, err = r.h.Base().NewNetwork(ros); err != nil {
			err = adequacy.NewVersionError(adequacy.VersionInvalidRows, fmt.Errorf("roster %s: %w", v.Label, err))
		}
	}
	if err != nil {
		r.m.failed(err)
		return nil, &ReplayError{What: "roster", Version: named, Err: err}
	}
	took := time.Since(start)
	r.m.lookup("read")
	r.m.readSeconds.Observe(took.Seconds())
	r.log.Info("replay: roster version read", slog.String("roster_version", v.Label), slog.Int("providers", len(ros.Providers)),
		slog.Duration("took", took.Round(time.Millisecond)))
	if r.cfg.Versions > 0 {
		r.insert(&replayEntry{label: v.Label, network: n, checked: r.cfg.Now()})
	}
	return n, nil
}

func (r *Replays) insert(ent *replayEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.byLabel[ent.label]; ok {
		r.lru.Remove(el)
	}
	r.byLabel[ent.label] = r.lru.PushFront(ent)
	for r.lru.Len() > r.cfg.Versions {
		old := r.lru.Remove(r.lru.Back()).(*replayEntry)
		delete(r.byLabel, old.label)
		r.log.Info("replay: roster version evicted", slog.String("roster_version", old.label), slog.String("why", "least recently used"))
	}
}

func (r *Replays) evict(label, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.byLabel[label]; ok {
		r.lru.Remove(el)
		delete(r.byLabel, label)
		r.log.Info("replay: roster version evicted", slog.String("roster_version", label), slog.String("why", why))
	}
}

// Cached lists the cached roster versions, most recently used first.
func (r *Replays) Cached() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, r.lru.Len())
	for el := r.lru.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*replayEntry).label)
	}
	return out
}

// cachedProviders sums the providers of the cached versions (a metric).
func (r *Replays) cachedProviders() (versions, providers int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for el := r.lru.Front(); el != nil; el = el.Next() {
		providers += el.Value.(*replayEntry).network.Stats().Total
	}
	return r.lru.Len(), providers
}

// plansVersion returns a past plan registry, from the cache or the store.
func (r *Replays) plansVersion(ctx context.Context, version string) (*adequacy.Plans, error) {
	r.mu.Lock()
	for el := r.plans.Front(); el != nil; el = el.Next() {
		if ent := el.Value.(*plansEntry); ent.version == version || ent.plans.Version == version {
			r.plans.MoveToFront(el)
			r.mu.Unlock()
			return ent.plans, nil
		}
	}
	r.mu.Unlock()
	pr, ok := r.src.(PlansReader)
	if !ok || r.src == nil {
		return nil, ErrNoVersionStore
	}
	ps, err := pr.ReadPlans(ctx, version, r.h.Base().Profiles)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plans.PushFront(&plansEntry{version: version, plans: ps})
	for r.plans.Len() > maxPlansVersions {
		r.plans.Remove(r.plans.Back())
	}
	return ps, nil
}

// replayMetrics are the replay cache's metrics.
type replayMetrics struct {
	lookups     *prometheus.CounterVec
	readSeconds prometheus.Histogram
	versions    prometheus.GaugeFunc
	providers   prometheus.GaugeFunc
}

func newReplayMetrics(r *Replays) *replayMetrics {
	return &replayMetrics{
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_replay_lookups_total",
			Help: "Roster versions replays asked for, by result: serving (the serving roster), cached (from memory), read (from the store), refused (retired, unknown, no store), failed (the store failed)."},
			[]string{"result"}),
		readSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "geoaccess_replay_read_duration_seconds",
			Help: "Time to read a past roster version from the store and index it.", Buckets: reloadBuckets}),
		versions: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "geoaccess_replay_cached_versions",
			Help: "Past roster versions kept indexed in memory for replays."}, func() float64 { v, _ := r.cachedProviders(); return float64(v) }),
		providers: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "geoaccess_replay_cached_providers",
			Help: "Providers in the past roster versions kept in memory (docs/operations.md: memory per 100,000)."}, func() float64 { _, p := r.cachedProviders(); return float64(p) }),
	}
}

func (m *replayMetrics) lookup(result string) { m.lookups.WithLabelValues(result).Inc() }

func (m *replayMetrics) failed(err error) {
	if adequacy.VersionFinal(err) || errors.Is(err, ErrNoVersionStore) {
		m.lookup("refused")
		return
	}
	m.lookup("failed")
}

// Describe implements prometheus.Collector.
func (m *replayMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range []prometheus.Collector{m.lookups, m.readSeconds, m.versions, m.providers} {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *replayMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range []prometheus.Collector{m.lookups, m.readSeconds, m.versions, m.providers} {
		c.Collect(ch)
	}
}
