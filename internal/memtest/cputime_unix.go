//go:build unix

package memtest

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user and system) the process has used so far;
// 0 where the system does not say. On a shared machine it varies far less
// than wall time: benchmarks report it beside ns/op.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
