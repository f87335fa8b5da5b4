package server

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geoaccess/geoaccess/adequacy"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// DefaultExpiryWarning is how long before a profile in use stops being
// covered by a loaded version the server starts warning.
const DefaultExpiryWarning = 45 * 24 * time.Hour

// expiryWatch follows the standards profiles' effective periods: a gauge
// of the time each has left, a counter of decisions made with a profile
// carried past its end, and warnings in the log at start and daily once a
// profile in use has less than the warning period left. A profile is in
// use when it is the default or a call has used it since the start.
type expiryWatch struct {
	profiles *adequacy.Profiles
	def      string
	policy   adequacy.ExpiryPolicy
	loc      *time.Location
	now      func() time.Time
	log      *slog.Logger
	warn     time.Duration

	carried *prometheus.CounterVec // profile

	mu   sync.Mutex
	used map[string]bool
}

func newExpiryWatch(cfg Config, reg *prometheus.Registry) *expiryWatch {
	base := cfg.Engine
	w := &expiryWatch{profiles: base.Profiles, def: base.DefaultProfile, policy: base.Expiry, loc: cfg.Location, now: cfg.Now,
		log: cfg.Logger, warn: cfg.ExpiryWarning, used: map[string]bool{base.DefaultProfile: true},
		carried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoaccess_profile_carried_forward_total",
			Help: "Decisions made with a standards profile carried past its end (no loaded version in effect on the day), by profile."},
			[]string{"profile"}),
	}
	reg.MustRegister(w.carried)
	for _, name := range w.profiles.Names() {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "geoaccess_profile_expiry_seconds",
			Help: "Seconds until no loaded version of the standards profile is in effect (the end of its last day in the server's time zone); " +
				"negative once past, +Inf when open-ended, NaN before its first version starts.",
			ConstLabels: prometheus.Labels{"profile": name}}, func() float64 { return w.secondsLeft(name) }))
	}
	return w
}

// today is the server's calendar date now.
func (w *expiryWatch) today() adequacy.Date { return today(w.now(), w.loc) }

// endOf is the instant a date ends in the server's time zone: the next
// midnight.
func (w *expiryWatch) endOf(d adequacy.Date) time.Time {
	t := d.Time()
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, w.loc)
}

func (w *expiryWatch) secondsLeft(name string) float64 {
	st, err := w.profiles.StandingOn(name, w.today())
	switch {
	case err != nil || st.InUse == nil:
		return math.NaN()
	case st.LastDay.IsZero():
		return math.Inf(1)
	}
	return w.endOf(st.LastDay).Sub(w.now()).Seconds()
}

// use records the profiles a call's decisions used, and how many of its
// decisions carried one forward.
func (w *expiryWatch) use(uses []profileUse) {
	if len(uses) == 0 {
		return
	}
	w.mu.Lock()
	for _, u := range uses {
		w.used[u.name] = true
	}
	w.mu.Unlock()
	for _, u := range uses {
		if u.carried > 0 {
			w.carried.WithLabelValues(u.name).Add(float64(u.carried))
		}
	}
}

// check logs a warning for each profile in use that has less than the
// warning period left or has expired.
func (w *expiryWatch) check() {
	w.mu.Lock()
	var names []string
	for _, n := range w.profiles.Names() {
		if w.used[n] {
			names = append(names, n)
		}
	}
	w.mu.Unlock()
	day := w.today()
	for _, n := range names {
		st, err := w.profiles.StandingOn(n, day)
		if err != nil || st.InUse == nil || st.LastDay.IsZero() {
			continue
		}
		left := w.endOf(st.LastDay).Sub(w.now())
		attrs := []slog.Attr{slog.String("profile", n), slog.String("version", st.InUse.Version),
			slog.String("last_day", st.LastDay.String()), slog.Int("days_left", st.DaysLeft(day)),
			slog.String("policy", w.policy.String())}
		switch {
		case st.Expired && w.policy == adequacy.FailExpired:
			w.log.LogAttrs(context.Background(), slog.LevelError,
				"standards profile expired: requests for today fail until a version in effect is loaded (--profile-file)", attrs...)
		case st.Expired:
			w.log.LogAttrs(context.Background(), slog.LevelWarn,
				"standards profile expired: requests for today are decided with it and flagged profile_expired; load the next version (--profile-file)", attrs...)
		case left < w.warn:
			w.log.LogAttrs(context.Background(), slog.LevelWarn,
				"standards profile expires soon: load the next version (--profile-file) before its last day", attrs...)
		}
	}
}

// run checks now and then daily, a minute after midnight in the server's
// time zone, until ctx ends.
func (w *expiryWatch) run(ctx context.Context) {
	for {
		w.check()
		now := w.now().In(w.loc)
		next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 1, 0, 0, w.loc)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// standing is where a profile stands today, for GetRosterStatus.
func (w *expiryWatch) standings() []*pb.ProfileStanding {
	day := w.today()
	var out []*pb.ProfileStanding
	for _, n := range w.profiles.Names() {
		st, err := w.profiles.StandingOn(n, day)
		if err != nil {
			continue
		}
		ps := &pb.ProfileStanding{Profile: n, Expired: st.Expired, LastDay: st.LastDay.String()}
		if st.InUse != nil {
			ps.VersionInUse = st.InUse.Version
			if !st.LastDay.IsZero() {
				left := int32(st.DaysLeft(day))
				ps.DaysLeft = &left
			}
		}
		out = append(out, ps)
	}
	return out
}

// versionState is where one version stands today.
func (w *expiryWatch) versionState(p *adequacy.Profile) (pb.ProfileState, *int32) {
	day := w.today()
	var left *int32
	if !p.Effective.To.IsZero() {
		n := int32(p.Effective.To.Sub(day) + 1)
		left = &n
	}
	st, _ := w.profiles.StandingOn(p.Name, day)
	switch {
	case st.InUse == p && st.Expired:
		return pb.ProfileState_PROFILE_STATE_EXPIRED_IN_USE, left
	case st.InUse == p:
		return pb.ProfileState_PROFILE_STATE_IN_EFFECT, left
	case day.Before(p.Effective.From):
		return pb.ProfileState_PROFILE_STATE_UPCOMING, left
	}
	return pb.ProfileState_PROFILE_STATE_ENDED, left
}

func expiryPolicyProto(p adequacy.ExpiryPolicy) pb.ExpiryPolicy {
	if p == adequacy.FailExpired {
		return pb.ExpiryPolicy_EXPIRY_POLICY_FAIL
	}
	return pb.ExpiryPolicy_EXPIRY_POLICY_CARRY_FORWARD
}

// profileUse is one profile a call used and how many decisions carried it
// past its end.
type profileUse struct {
	name    string
	carried int
}
