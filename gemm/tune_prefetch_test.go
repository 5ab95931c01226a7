package gemm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestTuneAVX2Driver is the measurement behind kernel6x16n and kernel6x16q
// (the next B micro-panel prefetched) and the grouped lazy packing of B,
// not a check: on the bench shapes it runs the AVX2 tile as it is ("avx2"),
// with every tile prefetching the whole next panel ("every-tile", the
// driver before kernel6x16q) and without prefetch or grouped packing
// ("plain", the driver before both), packed and through MatMul, with
// the 6x16 kernel alone in L1 on every thread as the reference of what the
// cores deliver at that moment, all interleaved round robin. It logs the
// median rate by wall clock and by process CPU time / threads (robust to
// other jobs taking turns on the cores).
//
//	GEMM_TUNE=avx2 GEMM_TUNE_THREADS=2 go test -run TuneAVX2Driver -v ./gemm
func TestTuneAVX2Driver(t *testing.T) {
	tuneOnly(t, "avx2")
	if defaultKernel != kernelAVX2 {
		t.Skip("the AVX2 kernel is not this machine's kernel")
	}
	threads := tuneThreads(t, 1)
	const rounds = 15
	plain := &kernel{name: "plain", mr: 6, nr: 16, fn: kernel6x16, rows: rows6x16}
	// The driver before kernel6x16q: every tile prefetches the whole next
	// B panel.
	everyTile := &kernel{name: "every-tile", mr: 6, nr: 16, fn: kernel6x16, rows: rows6x16, next: kernel6x16n, lazyGroup: 4}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sh := range benchShapes {
		m, n, k := sh[0], sh[1], sh[2]
		a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		names := []string{"kernel in L1"}
		ka, kb := randSlice(rng, 256*6), randSlice(rng, 256*16)
		calls := int(flops/(2*256*96)) / threads
		runs := []func(){func() {
			parallel(threads, func(int) {
				var cc [96]float32
				for j := 0; j < calls; j++ {
					kernel6x16(256, &ka[0], &kb[0], &cc[0], 16, true)
				}
			})
		}}
		for _, kern := range []*kernel{plain, everyTile, kernelAVX2} {
			cfg := config{kern: kern, threads: threads, serialBelow: minParallelFlops}
			pb := cfg.packB(k, n, bm, n, false, false)
			names = append(names, kern.name+" packed", kern.name+" MatMul")
			runs = append(runs,
				func() { cfg.matMulPacked(m, a, k, pb, c, n, false) },
				func() { cfg.matMul(m, n, k, a, k, bm, n, false, c, n, false) })
		}
		wall, cpu := make([][]float64, len(runs)), make([][]float64, len(runs))
		for r := 0; r <= rounds; r++ {
			for i, f := range runs {
				c0, w0 := processCPU(), time.Now()
				f()
				if r > 0 { // round 0 warms up
					wall[i] = append(wall[i], flops/time.Since(w0).Seconds()/1e9)
					cpu[i] = append(cpu[i], flops/((processCPU()-c0).Seconds()/float64(threads))/1e9)
				}
			}
		}
		for i, name := range names {
			slices.Sort(wall[i])
			slices.Sort(cpu[i])
			ref := cpu[0][rounds/2]
			t.Logf("%s t%d %-14s wall %6.1f  CPU time %6.1f GFLOP/s (%3.0f%% of the L1 kernel)", fmt.Sprintf("%dx%dx%d", m, n, k), threads, name, wall[i][rounds/2], cpu[i][rounds/2], 100*cpu[i][rounds/2]/ref)
		}
	}
}

// processCPU is the CPU time of the whole process (all threads).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
