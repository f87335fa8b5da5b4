// Package memtest measures a process's heap for memory benchmarks: the
// live heap after collection, and the peak while something runs.
package memtest

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Settle collects garbage twice and returns freed memory to the system,
// so a following measurement sees only what is live.
func Settle() {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
}

// HeapLive is the heap in use (call it right after Settle).
func HeapLive() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// SampleHeap samples the heap's object bytes (live and not yet collected)
// every millisecond until the returned function is called, which returns
// the peak.
func SampleHeap() func() uint64 {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var top uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			top = max(top, s[0].Value.Uint64())
			select {
			case <-done:
				peak <- top
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}
