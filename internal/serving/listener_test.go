package serving_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// watchedSource is an in-memory store with a notification connection
// the test can cut, after which the store is unreachable.
type watchedSource struct {
	memSource
	mu   sync.Mutex
	down bool
	cut  chan struct{}
}

var errUnreachable = errors.New(`failed to connect to "user=geo database=roster": 10.1.2.3:5432: dial error: connection refused`)

func (w *watchedSource) Current(ctx context.Context) (serving.VersionInfo, error) {
	w.mu.Lock()
	down := w.down
	w.mu.Unlock()
	if down {
		return serving.VersionInfo{}, errUnreachable
	}
	return w.memSource.Current(ctx)
}

func (w *watchedSource) Watch(ctx context.Context, notify func(), state func(bool, error)) error {
	state(true, nil)
	notify()
	select {
	case <-w.cut:
		w.mu.Lock()
		w.down = true
		w.mu.Unlock()
		state(false, errUnreachable)
	case <-ctx.Done():
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestListenerLossChecksTheStore: when the notification connection is
// lost, the reloader checks the store at once, so the status says the
// store cannot be reached while the roster keeps serving; what readers
// may see of the error names no host, port or user.
func TestListenerLossChecksTheStore(t *testing.T) {
	h := serving.NewHolder(baseEngine(t), nil)
	src := &watchedSource{memSource: memSource{versions: map[string]*adequacy.Roster{"v1": fixture.roster}, current: "v1"}, cut: make(chan struct{})}
	rl := serving.NewReloader(h, src, serving.ReloadConfig{Backoff: serving.Backoff{Min: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := rl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { rl.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	close(src.cut)
	deadline := time.Now().Add(10 * time.Second)
	for {
		lr := h.Status().LastReload
		if !lr.Success && strings.Contains(lr.Loader, string(serving.TriggerListener)) {
			if lr.Err != errUnreachable.Error() {
				t.Errorf("error %q", lr.Err)
			}
			for _, s := range []string{"10.1.2.3", "5432", "user=", "geo"} {
				if strings.Contains(lr.PublicErr, s) {
					t.Errorf("the public error %q names %q", lr.PublicErr, s)
				}
			}
			if lr.PublicErr == "" {
				t.Error("no public error")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lost connection was not checked: %+v", lr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := h.Status(); !st.Loaded || st.Version != "v1" {
		t.Fatalf("serving %+v", st)
	}
}

// TestPublicError: refusals of a version keep their words; invalid rows
// and every other failure lose their details.
func TestPublicError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{adequacy.NewVersionError(adequacy.VersionNotServable, errors.New("roster version pg:3 is retired")), "roster version pg:3 is retired"},
		{adequacy.NewVersionError(adequacy.VersionInvalidRows, errors.New("provider 1234567893 at 95,-73: latitude")), "roster has invalid rows (details for admins and in the server log)"},
		{serving.ErrLoadCanceled, "roster load canceled"},
		{errUnreachable, "the roster could not be read: its store is unreachable or failed (details for admins and in the server log)"},
	}
	for _, tc := range tests {
		if got := serving.PublicError(tc.err); got != tc.want {
			t.Errorf("PublicError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
