package gemm

import (
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/anomclust/anomclust/internal/fmapeak"
)

// TestTuneKernel logs each micro-kernel's rate alone, operands in L1/L2
// (kc = 256), in GFLOP/s of thread CPU time, the kernels interleaved round
// robin: GEMM_TUNE=1 go test -run TuneKernel -v ./gemm. Not a check.
func TestTuneKernel(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("tuning measurement: set GEMM_TUNE=1 to run it")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(3, 3))
	ks := availableKernels()
	const kc, reps, rounds = 256, 400, 100
	total := make([]time.Duration, len(ks))
	best := make([]float64, len(ks))
	for r := 0; r < rounds; r++ {
		for i, kern := range ks {
			a, bm := randSlice(rng, kc*kern.mr), randSlice(rng, kc*kern.nr)
			c := make([]float32, kern.mr*kern.nr)
			c0, w0 := threadCPU(), time.Now()
			for j := 0; j < reps; j++ {
				kern.fn(kc, &a[0], &bm[0], &c[0], kern.nr, true)
			}
			total[i] += threadCPU() - c0
			best[i] = max(best[i], 2*float64(kc*kern.mr*kern.nr)*reps/time.Since(w0).Seconds()/1e9)
		}
	}
	peak := fmapeak.Measure(1, time.Second)
	t.Logf("FMA peak, 1 thread (best window): %.1f GFLOP/s (%s)", peak.GFLOPS, peak.ISA)
	for i, kern := range ks {
		flops := 2 * float64(kc*kern.mr*kern.nr) * reps * rounds
		t.Logf("%-14s %6.1f GFLOP/s thread CPU time, best window %6.1f = %3.0f%% of peak", kern.name, flops/total[i].Seconds()/1e9, best[i], 100*best[i]/peak.GFLOPS)
	}
}
