package server

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
)

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

func watchFor(t *testing.T, policy adequacy.ExpiryPolicy, now func() time.Time, loc *time.Location) (*expiryWatch, *logBuf) {
	t.Helper()
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	eng.Expiry = policy
	buf := &logBuf{}
	cfg := withDefaults(Config{Engine: eng, Location: loc, Now: now, Logger: slog.New(slog.NewTextHandler(buf, nil))})
	return newExpiryWatch(cfg, prometheus.NewRegistry()), buf
}

// The warning threshold: under 45 days left warns, 45 and more does not;
// only profiles in use (the default, and those calls used) warn; expiry
// warns under carry-forward and is an error under fail.
func TestExpiryWarningThreshold(t *testing.T) {
	var now time.Time
	w, logs := watchFor(t, adequacy.CarryForward, func() time.Time { return now }, time.UTC)
	// cms-ma 2026.1's last day ends at 2027-01-01 00:00 UTC.
	now = time.Date(2026, 11, 16, 23, 59, 0, 0, time.UTC) // 45 days and a minute left
	w.check()
	if got := logs.take(); got != "" {
		t.Errorf("45 days left warned:\n%s", got)
	}
	now = time.Date(2026, 11, 17, 0, 1, 0, 0, time.UTC) // a minute under 45 days
	w.check()
	got := logs.take()
	if !strings.Contains(got, "level=WARN") || !strings.Contains(got, "standards profile expires soon") ||
		!strings.Contains(got, "profile=cms-ma") || !strings.Contains(got, "days_left=45") || !strings.Contains(got, "last_day=2026-12-31") {
		t.Errorf("under 45 days:\n%s", got)
	}
	if strings.Contains(got, "qhp-ffe") {
		t.Errorf("a profile no call used warned:\n%s", got)
	}
	w.use([]profileUse{{name: "qhp-ffe"}})
	w.check()
	if got := logs.take(); !strings.Contains(got, "profile=qhp-ffe") {
		t.Errorf("a profile in use did not warn:\n%s", got)
	}
	now = time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)
	w.check()
	if got := logs.take(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "standards profile expired") || !strings.Contains(got, "policy=carry-forward") {
		t.Errorf("expired, carry-forward:\n%s", got)
	}
	fail, logs := watchFor(t, adequacy.FailExpired, func() time.Time { return now }, time.UTC)
	fail.check()
	if got := logs.take(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "requests for today fail") {
		t.Errorf("expired, fail:\n%s", got)
	}
}

// On a fake clock the watch checks at start and then once a day, a minute
// after midnight in its time zone, and stops with its context.
func TestExpiryWatchRunsDaily(t *testing.T) {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts in 2000: move it to 10:00 on 15
		// November 2026 in Chicago, 47 days before the end.
		time.Sleep(time.Until(time.Date(2026, 11, 15, 10, 0, 0, 0, loc)))
		w, logs := watchFor(t, adequacy.CarryForward, time.Now, loc)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.run(ctx); close(done) }()
		synctest.Wait()
		if got := logs.take(); got != "" {
			t.Errorf("start, 46+ days left, warned:\n%s", got)
		}
		warnings := 0
		for day := 16; day <= 30; day++ {
			time.Sleep(time.Until(time.Date(2026, 11, day, 0, 1, 30, 0, loc)))
			synctest.Wait()
			got := logs.take()
			n := strings.Count(got, "standards profile expires soon")
			want := 0
			if day >= 17 { // from 00:01 on 17 November, under 45 days are left
				want = 1
			}
			if n != want {
				t.Errorf("%d November: %d warnings, want %d:\n%s", day, n, want, got)
			}
			warnings += n
		}
		if warnings != 14 {
			t.Errorf("%d daily warnings, want 14", warnings)
		}
		time.Sleep(time.Until(time.Date(2027, 1, 1, 0, 1, 30, 0, loc)))
		synctest.Wait()
		if got := logs.take(); !strings.Contains(got, "standards profile expired") {
			t.Errorf("1 January: %s", got)
		}
		cancel()
		<-done
	})
}
