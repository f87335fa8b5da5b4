// Package memtest measures a process for benchmarks: the live heap after
// collection, the peak while something runs, and the CPU time used.
package memtest

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
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

// RSS reads a field of /proc/self/status ("VmRSS", "VmHWM") in bytes; 0
// where there is none (not Linux).
func RSS(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// ResetPeakRSS resets VmHWM to the current RSS (Linux 4.0+), so the next
// peak read covers only what follows; best effort elsewhere.
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
