package serving_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
)

func chicago(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestNextDaily: the nightly reload across America/Chicago's 2026
// changes (clocks forward 8 March 02:00 CST → 03:00 CDT, back 1 November
// 02:00 CDT → 01:00 CST).
func TestNextDaily(t *testing.T) {
	loc := chicago(t)
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		at    string
		after string // UTC
		want  string // UTC
	}{
		{"an ordinary night (CST)", "02:00", "2026-03-06T18:00:00Z", "2026-03-07T08:00:00Z"},
		{"just after a run: the next night", "02:00", "2026-03-07T08:00:00Z", "2026-03-08T08:00:00Z"},
		{"02:00 does not exist on 8 March: 03:00 CDT", "02:00", "2026-03-07T18:00:00Z", "2026-03-08T08:00:00Z"},
		{"02:30 does not exist either: 03:00 CDT", "02:30", "2026-03-07T18:00:00Z", "2026-03-08T08:00:00Z"},
		{"01:59 CST still exists", "01:59", "2026-03-07T18:00:00Z", "2026-03-08T07:59:00Z"},
		{"03:00 CDT exists", "03:00", "2026-03-07T18:00:00Z", "2026-03-08T08:00:00Z"},
		{"the night after the change (CDT)", "02:00", "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z"},
		{"an ordinary night (CDT)", "02:00", "2026-07-01T12:00:00Z", "2026-07-02T07:00:00Z"},
		{"02:00 on 1 November is CST: 25 hours later", "02:00", "2026-10-31T07:00:00Z", "2026-11-01T08:00:00Z"},
		{"01:30 occurs twice: the first (CDT)", "01:30", "2026-10-31T17:00:00Z", "2026-11-01T06:30:00Z"},
		{"01:30 runs once: not again at 01:30 CST", "01:30", "2026-11-01T06:30:00Z", "2026-11-02T07:30:00Z"},
		{"between the two 01:30s: tomorrow", "01:30", "2026-11-01T07:00:00Z", "2026-11-02T07:30:00Z"},
		{"midnight", "00:00", "2026-06-15T05:00:00Z", "2026-06-16T05:00:00Z"},
		{"across the year", "23:59", "2026-12-31T23:59:00-06:00", "2027-01-02T05:59:00Z"},
		{"later the same day", "23:00", "2026-06-15T12:00:00Z", "2026-06-16T04:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := serving.ParseClockTime(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			got := serving.NextDaily(utc(tt.after), at, loc)
			if want := utc(tt.want); !got.Equal(want) {
				t.Errorf("NextDaily(%s, %s) = %s (%s), want %s (%s)", tt.after, tt.at, got.UTC().Format(time.RFC3339),
					got.In(loc).Format("2006-01-02 15:04 MST"), want.Format(time.RFC3339), want.In(loc).Format("2006-01-02 15:04 MST"))
			}
		})
	}
}

// TestNextDailyYear: a year of nightly runs in America/Chicago, every
// 23, 24 or 25 hours, each at 02:00 local but the spring-forward night's
// (03:00), and once per local day.
func TestNextDailyYear(t *testing.T) {
	loc := chicago(t)
	at := serving.ClockTime{Hour: 2}
	prev := serving.NextDaily(time.Date(2026, 1, 1, 0, 0, 0, 0, loc), at, loc)
	days := map[string]bool{}
	for range 800 {
		next := serving.NextDaily(prev, at, loc)
		gap := next.Sub(prev)
		if gap != 23*time.Hour && gap != 24*time.Hour && gap != 25*time.Hour {
			t.Fatalf("%s → %s: %v apart", prev, next, gap)
		}
		l := next.In(loc)
		if !(l.Hour() == 2 || l.Hour() == 3 && l.Month() == time.March) || l.Minute() != 0 {
			t.Fatalf("ran at %s", l)
		}
		day := l.Format(time.DateOnly)
		if days[day] {
			t.Fatalf("two runs on %s", day)
		}
		days[day] = true
		prev = next
	}
}

func TestParseClockTime(t *testing.T) {
	for in, want := range map[string]serving.ClockTime{"02:00": {2, 0}, "2:05": {2, 5}, "23:59": {23, 59}, "00:00": {0, 0}} {
		if got, err := serving.ParseClockTime(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2", "24:00", "12:60", "1:2", "ab:cd", "-1:00", "02:00:00"} {
		if _, err := serving.ParseClockTime(in); !errors.Is(err, serving.ErrClockTime) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	b := serving.Backoff{Min: time.Second, Max: 10 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 100: 10 * time.Second} {
		lo, hi := b.Delay(n, func() float64 { return 0 }), b.Delay(n, func() float64 { return 0.999999 })
		if lo != want/2 || hi < want*99/100 || hi >= want {
			t.Errorf("retry %d: delays %v–%v, want [%v, %v)", n, lo, hi, want/2, want)
		}
	}
}

// memSource is an in-memory version store.
type memSource struct {
	mu       sync.Mutex
	versions map[string]*adequacy.Roster
	current  string
	reads    int
}

func (m *memSource) Name() string { return "memory" }

func (m *memSource) setCurrent(v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current = v
}

func (m *memSource) Current(context.Context) (serving.VersionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.current == "" {
		return serving.VersionInfo{}, adequacy.ErrNoCurrentVersion
	}
	return serving.VersionInfo{Label: m.current}, nil
}

func (m *memSource) Lookup(_ context.Context, v string) (serving.VersionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.versions[v]; !ok {
		return serving.VersionInfo{}, adequacy.ErrUnknownVersion
	}
	return serving.VersionInfo{Label: v}, nil
}

func (m *memSource) Read(_ context.Context, v serving.VersionInfo) (*adequacy.Roster, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	r := *m.versions[v.Label]
	r.Version = v.Label
	return &r, nil
}

func (m *memSource) Published(context.Context, int) ([]serving.VersionInfo, error) { return nil, nil }

// TestScheduledReload: the nightly reload fires at 02:00 America/Chicago
// on a fake clock (testing/synctest), reads only when the store's current
// version changed, and schedules the next night.
func TestScheduledReload(t *testing.T) {
	h := serving.NewHolder(baseEngine(t), nil)
	loc := chicago(t)
	synctest.Test(t, func(t *testing.T) {
		src := &memSource{versions: map[string]*adequacy.Roster{"v1": fixture.roster, "v2": fixture.roster}, current: "v1"}
		rl := serving.NewReloader(h, src, serving.ReloadConfig{Daily: &serving.ClockTime{Hour: 2}, Location: loc})
		ctx, cancel := context.WithCancel(context.Background())
		if err := rl.Start(ctx); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { rl.Run(ctx); close(done) }()
		synctest.Wait()
		first := h.Status().NextReload
		if want := serving.NextDaily(time.Now(), serving.ClockTime{Hour: 2}, loc); !first.Equal(want) {
			t.Fatalf("next reload %v, want %v", first, want)
		}
		// The first night: nothing new, nothing read.
		time.Sleep(time.Until(first) + time.Second)
		synctest.Wait()
		if src.reads != 1 {
			t.Fatalf("%d reads after an unchanged night, want 1", src.reads)
		}
		second := h.Status().NextReload
		if second.Sub(first) < 23*time.Hour || second.Sub(first) > 25*time.Hour {
			t.Fatalf("next reload %v after %v", second, first)
		}
		// A new version during the day is picked up the next night.
		src.setCurrent("v2")
		time.Sleep(time.Until(second) - time.Minute)
		synctest.Wait()
		if v := h.Status().Version; v != "v1" {
			t.Fatalf("serving %s before the night", v)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		st := h.Status()
		if st.Version != "v2" || !st.LastReload.Success || !strings.Contains(st.LastReload.Loader, "schedule") || src.reads != 2 {
			t.Fatalf("after the second night: %+v, %d reads", st, src.reads)
		}
		cancel()
		<-done
		if !h.Status().NextReload.IsZero() {
			t.Error("a reload is still announced after Run ended")
		}
	})
}
