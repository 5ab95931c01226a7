package bench

import (
	"math"

	"github.com/anomclust/anomclust/internal/cputime"
)

// cpuSeconds is the CPU time (user + system) this process has used so far,
// for bench alpha's contention-robust ratio; NaN where the system does not
// say (bench alpha then prints NaN for the CPU times and their ratio).
func cpuSeconds() float64 {
	d, ok := cputime.Process()
	if !ok {
		return math.NaN()
	}
	return d.Seconds()
}
