package par

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// Every index is handed out exactly once, to at most min(workers, n)
// goroutines whose calls never overlap.
func TestFor(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{
		{0, 0}, {1, 0}, {2, 0}, {1000, 0}, {1000, 1}, {1000, 3}, {5, 100}, {10_000, 8},
	} {
		calls := make([]atomic.Int32, tc.n)
		want := min(Workers(tc.workers), tc.n)
		busy := make([]atomic.Bool, max(want, 1))
		var mu sync.Mutex
		ws := map[int]bool{}
		For(tc.n, tc.workers, func(w, i int) {
			if w < 0 || w >= want {
				t.Errorf("n=%d workers=%d: worker %d out of [0, %d)", tc.n, tc.workers, w, want)
				return
			}
			if busy[w].Swap(true) {
				t.Errorf("n=%d workers=%d: two calls at once on worker %d", tc.n, tc.workers, w)
			}
			calls[i].Add(1)
			mu.Lock()
			ws[w] = true
			mu.Unlock()
			busy[w].Store(false)
		})
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d workers=%d: index %d called %d times", tc.n, tc.workers, i, c)
			}
		}
		if len(ws) > want {
			t.Errorf("n=%d workers=%d: %d workers used, at most %d", tc.n, tc.workers, len(ws), want)
		}
	}
}

// One worker runs every call on the caller's goroutine, in order: no
// locking needed around what the calls share.
func TestForOneWorkerInOrder(t *testing.T) {
	var got []int
	For(100, 1, func(w, i int) { got = append(got, i) })
	if !slices.Equal(got, seq(100)) {
		t.Errorf("one worker: %v", got)
	}
}

// Once ctx is done no index is handed out and ForContext says why; work
// already handed out finishes.
func TestForContext(t *testing.T) {
	for _, workers := range []int{1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := atomic.Int32{}
		if err := ForContext(ctx, 100, workers, func(int, int) { called.Add(1) }); !errors.Is(err, context.Canceled) || called.Load() != 0 {
			t.Errorf("workers=%d, cancelled before: err %v, %d calls", workers, err, called.Load())
		}

		ctx, cancel = context.WithCancel(context.Background())
		called.Store(0)
		err := ForContext(ctx, 10_000, workers, func(_, i int) {
			if called.Add(1) == 50 {
				cancel()
			}
		})
		if n := called.Load(); !errors.Is(err, context.Canceled) || n < 50 || n >= 10_000 {
			t.Errorf("workers=%d, cancelled midway: err %v after %d calls", workers, err, n)
		}

		// Done after the last index was handed out: nothing was skipped.
		ctx, cancel = context.WithCancel(context.Background())
		err = ForContext(ctx, 10, workers, func(_, i int) {
			if i == 9 {
				cancel()
			}
		})
		if workers == 1 && err != nil {
			t.Errorf("workers=%d, cancelled on the last call: %v", workers, err)
		}
		cancel()
	}
}

// Chunks covers [0, n) with runs of the size, the last shorter.
func TestChunks(t *testing.T) {
	for _, tc := range []struct{ n, size, runs int }{
		{0, 10, 0}, {1, 10, 1}, {10, 10, 1}, {11, 10, 2}, {4096*3 + 1, 4096, 4}, {5, 0, 5},
	} {
		seen := make([]atomic.Int32, tc.n)
		var runs atomic.Int32
		Chunks(tc.n, tc.size, 0, func(_, lo, hi int) {
			runs.Add(1)
			if hi <= lo || hi-lo > max(tc.size, 1) {
				t.Errorf("n=%d size=%d: run [%d, %d)", tc.n, tc.size, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
		})
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d size=%d: index %d seen %d times", tc.n, tc.size, i, seen[i].Load())
			}
		}
		if int(runs.Load()) != tc.runs {
			t.Errorf("n=%d size=%d: %d runs, want %d", tc.n, tc.size, runs.Load(), tc.runs)
		}
	}
}

func TestWorkers(t *testing.T) {
	if Workers(3) != 3 || Workers(0) != runtime.GOMAXPROCS(0) || Workers(-1) != runtime.GOMAXPROCS(0) {
		t.Errorf("Workers: 3→%d, 0→%d, -1→%d", Workers(3), Workers(0), Workers(-1))
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// All runs every step, even after one fails, and returns an error that
// one of them gave.
func TestAll(t *testing.T) {
	if err := All(); err != nil {
		t.Errorf("no steps: %v", err)
	}
	var ran atomic.Int32
	boom := errors.New("boom")
	err := All(
		func() error { ran.Add(1); return nil },
		func() error { ran.Add(1); return boom },
		func() error { ran.Add(1); return nil },
	)
	if !errors.Is(err, boom) || ran.Load() != 3 {
		t.Errorf("err %v after %d steps, want boom after 3", err, ran.Load())
	}
	if err := All(func() error { ran.Add(1); return nil }); err != nil {
		t.Errorf("one good step: %v", err)
	}
}
