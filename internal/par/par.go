// Package par owns running a loop on every processor: one small worker
// pool for the batch, gap-report, member-file and report code, so that
// none of them hand-rolls goroutines, counters and wait groups.
//
// It imports nothing of geoaccess's, so any package may use it.
package par

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers is n when positive, else GOMAXPROCS: what a "0 = every
// processor" setting means.
func Workers(n int) int {
	if n > 0 {
		return n
	}
	return max(1, runtime.GOMAXPROCS(0))
}

// For calls fn(w, i) once for every i in [0, n) on up to workers
// goroutines (Workers(workers), and never more than n), handing the
// indices out in increasing order, and returns when every call has
// returned. w, in [0, workers), names the goroutine making the call: calls
// with the same w never overlap, so fn may keep per-goroutine scratch in a
// slice indexed by w. With one worker every call is made on the caller's
// goroutine, in order.
func For(n, workers int, fn func(w, i int)) {
	ForContext(context.Background(), n, workers, fn)
}

// ForContext is For that stops handing out indices once ctx is done: it
// then returns ctx.Err() when the calls under way have returned. It
// returns nil when every index was handed out.
func ForContext(ctx context.Context, n, workers int, fn func(w, i int)) error {
	workers = min(Workers(workers), n)
	if workers <= 1 {
		for i := range n {
			if err := ctx.Err(); err != nil {
				return err
			}
			fn(0, i)
		}
		return nil
	}
	var next atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if ctx.Err() != nil {
					stopped.Store(true)
					return
				}
				fn(w, i)
			}
		})
	}
	wg.Wait()
	if stopped.Load() {
		return ctx.Err()
	}
	return nil
}

// Chunks is For over [0, n) cut into runs of size (the last shorter):
// fn(w, lo, hi) for each run, in increasing order of lo. For loops whose
// items are too small to hand out one by one.
func Chunks(n, size, workers int, fn func(w, lo, hi int)) {
	size = max(size, 1)
	For((n+size-1)/size, workers, func(w, c int) {
		lo := c * size
		fn(w, lo, min(lo+size, n))
	})
}

// All runs the steps at once, each on its own goroutine (they are few
// and unlike: a report's files, say), waits for every one, and returns
// the first error in the order the steps failed.
func All(steps ...func() error) error {
	errs := make(chan error, len(steps))
	for _, s := range steps {
		go func() { errs <- s() }()
	}
	var first error
	for range steps {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
