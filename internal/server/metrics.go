package server

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// metrics are the service's Prometheus metrics, on a registry of their own
// so that several servers (tests) never collide.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec   // method, code
	latency    *prometheus.HistogramVec // method
	batchItems *prometheus.CounterVec   // outcome
	decisions  *prometheus.CounterVec   // discipline
	providers  *prometheus.GaugeVec     // discipline, kind
	info       *prometheus.GaugeVec     // version, source
	loadedAt   prometheus.Gauge
	reloads    *prometheus.CounterVec // outcome
	// Streams: CheckAccessBatch and GapReport.
	streams       prometheus.Gauge       // served now
	refused       *prometheus.CounterVec // method: refused for --max-streams
	batchBuffered prometheus.Gauge       // bytes every batch stream holds together

	mu       sync.Mutex
	loadedTS time.Time // for the age gauge
	now      func() time.Time
}

// latencyBuckets span a 50 µs cache-hot call to a minute-long batch.
var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

func newMetrics(reg *prometheus.Registry, now func() time.Time) *metrics {
	m := &metrics{reg: reg, now: now,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_grpc_requests_total",
			Help: "gRPC calls handled, by full method and status code."}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "geoaccess_grpc_request_duration_seconds",
			Help: "gRPC call latency, by full method (a stream: its whole life).", Buckets: latencyBuckets}, []string{"method"}),
		batchItems: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_batch_items_total",
			Help: "CheckAccessBatch items answered, by outcome (ok or error)."}, []string{"outcome"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_decisions_total",
			Help: "Geo-access decisions made, by discipline."}, []string{"discipline"}),
		providers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "geoaccess_roster_providers",
			Help: "Serving roster rows by discipline and kind (participating, non_participating, telehealth_only)."}, []string{"discipline", "kind"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "geoaccess_roster_info",
			Help: "The serving roster: always 1, labelled with its version and source."}, []string{"version", "source"}),
		loadedAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "geoaccess_roster_loaded_timestamp_seconds",
			Help: "When the serving roster was read, Unix seconds; 0 until one is loaded."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_roster_loads_total",
			Help: "Roster load and reload attempts, by outcome (success or failure)."}, []string{"outcome"}),
	}
	m.streams = prometheus.NewGauge(prometheus.GaugeOpts{Name: "geoaccess_streams_in_flight",
		Help: "CheckAccessBatch and GapReport streams being served (at most --max-streams)."})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_streams_refused_total",
		Help: "CheckAccessBatch and GapReport streams refused with RESOURCE_EXHAUSTED because --max-streams (or --max-gap-reports) were being served, by method."}, []string{"method"})
	m.batchBuffered = prometheus.NewGauge(prometheus.GaugeOpts{Name: "geoaccess_batch_buffered_bytes",
		Help: "Encoded bytes of CheckAccessBatch items and answers held by every stream together (each at most --batch-buffer-bytes)."})
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "geoaccess_roster_age_seconds",
		Help: "Seconds since the serving roster was read; NaN until one is loaded."}, m.rosterAge)
	reg.MustRegister(m.requests, m.latency, m.batchItems, m.decisions, m.providers, m.info, m.loadedAt, m.reloads, age,
		m.streams, m.refused, m.batchBuffered,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) observeCall(method string, code codes.Code, d time.Duration) {
	m.requests.WithLabelValues(method, code.String()).Inc()
	m.latency.WithLabelValues(method).Observe(d.Seconds())
}

// observeDecisions counts decisions by discipline.
func (m *metrics) observeDecisions(counts *[4]int) {
	for d, n := range counts {
		if n > 0 {
			m.decisions.WithLabelValues(adequacy.Discipline(d).String()).Add(float64(n))
		}
	}
}

func (m *metrics) rosterAge() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadedTS.IsZero() {
		return math.NaN()
	}
	return m.now().Sub(m.loadedTS).Seconds()
}

// rosterChanged follows the holder (see Holder.OnChange).
func (m *metrics) rosterChanged(st serving.RosterStatus) {
	outcome := "success"
	if !st.LastReload.Success {
		outcome = "failure"
	}
	m.reloads.WithLabelValues(outcome).Inc()
	if !st.Loaded {
		return
	}
	m.mu.Lock()
	m.loadedTS = st.LoadedAt
	m.mu.Unlock()
	m.loadedAt.Set(float64(st.LoadedAt.UnixNano()) / 1e9)
	m.info.Reset()
	m.info.WithLabelValues(st.Version, st.Source).Set(1)
	for _, d := range adequacy.Disciplines {
		ds := d.String()
		m.providers.WithLabelValues(ds, "participating").Set(float64(st.Stats.Participating[d]))
		m.providers.WithLabelValues(ds, "non_participating").Set(float64(st.Stats.NonParticipating[d]))
		m.providers.WithLabelValues(ds, "telehealth_only").Set(float64(st.Stats.TelehealthOnly[d]))
	}
}
