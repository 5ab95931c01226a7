//go:build unix

package bench

import (
	"math"
	"syscall"
	"time"
)

// cpuSeconds is the CPU time (user + system) this process has used so far,
// for bench alpha's contention-robust ratio.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
