//go:build !unix

package bench

import "math"

// cpuSeconds is not measured on this platform: bench alpha then prints NaN
// for the CPU times and their ratio.
func cpuSeconds() float64 { return math.NaN() }
