package serving

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// reloadMetrics are a Reloader's metrics: a prometheus.Collector that
// the server registers with its own (Reloader.Collector).
type reloadMetrics struct {
	reloads     *prometheus.CounterVec // trigger, outcome
	duration    prometheus.Histogram
	lastSuccess prometheus.Gauge
	failures    prometheus.Gauge
	pinnedG     prometheus.Gauge
	listener    prometheus.Gauge
	next        prometheus.GaugeFunc
}

// reloadBuckets span a small roster's milliseconds to a national
// roster's read on a busy database.
var reloadBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

func newReloadMetrics(h *Holder) *reloadMetrics {
	m := &reloadMetrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_roster_reloads_total",
			Help: "Roster reload checks by trigger (start, schedule, notify, retry, admin) and outcome (loaded, unchanged, refused, failed, skipped)."},
			[]string{"trigger", "outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "geoaccess_roster_reload_duration_seconds",
			Help: "Time of reloads that read a roster (loaded, refused or failed), from the version check to the swap.", Buckets: reloadBuckets}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "geoaccess_roster_last_reload_success_timestamp_seconds",
			Help: "When a reload check last succeeded (loaded, or found the serving version current), Unix seconds; 0 before any."}),
		failures: prometheus.NewGauge(prometheus.GaugeOpts{Name: "geoaccess_roster_reload_consecutive_failures",
			Help: "Automatic reloads failed in a row, being retried with backoff; 0 after any success."}),
		pinnedG: prometheus.NewGauge(prometheus.GaugeOpts{Name: "geoaccess_roster_pinned",
			Help: "1 while an admin ReloadRoster of a named version pins the serving roster."}),
		listener: prometheus.NewGauge(prometheus.GaugeOpts{Name: "geoaccess_roster_listener_up",
			Help: "1 while the LISTEN connection for roster publishes is up."}),
	}
	m.next = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "geoaccess_roster_next_reload_timestamp_seconds",
		Help: "When the next scheduled roster reload is due, Unix seconds; 0 when none is scheduled."}, func() float64 {
		if t := h.Status().NextReload; !t.IsZero() {
			return float64(t.UnixNano()) / 1e9
		}
		return 0
	})
	return m
}

func (m *reloadMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.reloads, m.duration, m.lastSuccess, m.failures, m.pinnedG, m.listener, m.next}
}

// Describe implements prometheus.Collector.
func (m *reloadMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *reloadMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// reload counts one reload check; took is zero for checks that read
// nothing.
func (m *reloadMetrics) reload(t Trigger, outcome string, took time.Duration) {
	m.reloads.WithLabelValues(string(t), outcome).Inc()
	if took > 0 {
		m.duration.Observe(took.Seconds())
	}
}

func (m *reloadMetrics) success(at time.Time) { m.lastSuccess.Set(float64(at.UnixNano()) / 1e9) }

func (m *reloadMetrics) pinned(p bool) { m.pinnedG.Set(b2f(p)) }

func (m *reloadMetrics) listenerUp(up bool) { m.listener.Set(b2f(up)) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
