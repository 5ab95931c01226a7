package bench

import (
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/internal/fmapeak"
	"github.com/anomclust/anomclust/internal/isa"
	"github.com/anomclust/anomclust/internal/openblas"
)

// GEMMConfig is one GEMM measurement.
type GEMMConfig struct {
	Shapes  []string // "MxNxK" products C(MxN) = A(MxK)·B(KxN)
	Threads []string // worker counts (ours: GOMAXPROCS; OpenBLAS: openblas_set_num_threads)
	Reps    int      // timed repetitions per implementation, after one warm-up
	Stat    string   // "median" of the repetitions, or "best" (the fastest)
	Clock   string   // "wall" or "cpu" (process CPU time / threads)
}

// GEMM times our SGEMM forms (MatMul, MatMulT, MatMulPacked) and, when
// OpenBLAS is installed, its sgemm on the same operands, interleaving the
// repetitions so that load from other processes hits all alike, and writes
// a table of GFLOP/s and ours/OpenBLAS ratios to w. Each round also runs
// the FMA loop of internal/fmapeak for the same number of flops, timed the
// same way: its rate is the peak under the conditions of those rounds, and
// a second table gives every product's share of it. Before each timed call
// the process waits until its threads are idle (settle): OpenBLAS's worker
// threads spin for a while after each call. The caller runs it with
// OPENBLAS_CORETYPE unset (OpenBLAS reads it once, when loaded).
func GEMM(w io.Writer, cfg GEMMConfig) error {
	fmt.Fprintf(w, "CPU: %s, %d logical CPUs, %s; GEMM kernel %s; load average %s at start\n",
		cpuName(), runtime.NumCPU(), isa.Describe(), gemm.KernelName(), loadAverage())
	lib, err := openblas.Open()
	if err != nil {
		fmt.Fprintf(w, "OpenBLAS not found (%v): reporting ours only\n", err)
		lib = nil
	} else {
		fmt.Fprintf(w, "OpenBLAS: %s, core %s\n", lib.Path, lib.CoreName())
	}
	fmt.Fprintf(w, "GFLOP/s (%s clock), %s of %d interleaved repetitions. nn = MatMul (B is KxN), nt = MatMulT (B is NxK),\n"+
		"packed = MatMulPacked with B packed once beforehand (constant weights); ratio = ours / OpenBLAS same form;\n"+
		"peak = the %s FMA loop (internal/fmapeak) on the same threads for the same flops, in the same rounds.\n\n",
		cfg.Clock, cfg.Stat, cfg.Reps, fmapeak.Measure(1, time.Millisecond).ISA)
	header := fmt.Sprintf("%-16s %3s  %8s %8s %8s  %8s %8s  %7s %7s %7s  %7s", "MxNxK", "thr", "nn", "nt", "packed", "OB nn", "OB nt", "nn/OB", "nt/OB", "pk/OB", "peak")
	fmt.Fprintln(w, header)
	rng := rand.New(rand.NewPCG(1, 2))
	prevProcs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prevProcs)
	var shares []string // lines of the share-of-peak table
	bestPeak := map[int]float64{}
	for _, s := range cfg.Shapes {
		sh, err := parseShape(s)
		if err != nil {
			return err
		}
		m, n, k := sh[0], sh[1], sh[2]
		a, b, bt, c := randFloats(rng, m*k), randFloats(rng, k*n), randFloats(rng, n*k), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		for _, ts := range cfg.Threads {
			t, err := strconv.Atoi(ts)
			if err != nil || t <= 0 {
				return fmt.Errorf("threads: %q is not a positive integer", ts)
			}
			runtime.GOMAXPROCS(t)
			if lib != nil {
				lib.SetThreads(t)
			}
			pb := gemm.PackBT(k, n, bt, k)
			impls := []func(){
				func() { gemm.MatMul(m, n, k, a, k, b, n, c, n, false) },
				func() { gemm.MatMulT(m, n, k, a, k, bt, k, c, n, false) },
				func() { gemm.MatMulPacked(m, a, k, pb, c, n, false) },
				func() { fmapeak.Run(t, flops) },
			}
			if lib != nil {
				impls = append(impls,
					func() { lib.Sgemm(false, m, n, k, a, k, b, n, c, n, false) },
					func() { lib.Sgemm(true, m, n, k, a, k, bt, k, c, n, false) })
			}
			res := make([][]float64, len(impls))
			// A collection now rather than during the timed rounds (the
			// operands of this shape were just allocated), then one warm-up
			// call each: pools, page faults, threads.
			runtime.GC()
			for _, f := range impls {
				f()
			}
			// Interleaved, so that load from other processes hits all
			// implementations alike.
			for r := 0; r < cfg.Reps; r++ {
				for i, f := range impls {
					settle()
					res[i] = append(res[i], rate(flops, cfg.Clock == "cpu", t, f))
				}
			}
			med := make([]float64, len(res))
			for i := range res {
				if cfg.Stat == "best" {
					med[i] = slices.Max(res[i])
				} else {
					med[i] = median(res[i])
				}
			}
			peak := med[3]
			line := fmt.Sprintf("%-16s %3d  %8.1f %8.1f %8.1f", s, t, med[0], med[1], med[2])
			share := fmt.Sprintf("%-16s %3d  %7.0f%% %7.0f%% %7.0f%%", s, t, 100*med[0]/peak, 100*med[1]/peak, 100*med[2]/peak)
			if lib != nil {
				line += fmt.Sprintf("  %8.1f %8.1f  %7.2f %7.2f %7.2f", med[4], med[5], med[0]/med[4], med[1]/med[5], med[2]/med[5])
				share += fmt.Sprintf("  %7.0f%% %7.0f%%", 100*med[4]/peak, 100*med[5]/peak)
			} else {
				line += fmt.Sprintf("  %8s %8s  %7s %7s %7s", "", "", "", "", "")
			}
			fmt.Fprintf(w, "%s  %7.1f\n", line, peak)
			shares = append(shares, share)
			if p := fmapeak.Measure(t, 100*time.Millisecond).GFLOPS; p > bestPeak[t] {
				bestPeak[t] = p
			}
		}
	}
	fmt.Fprintf(w, "\nShare of the FMA loop's rate in the same rounds (peak column):\n")
	fmt.Fprintf(w, "%-16s %3s  %8s %8s %8s  %8s %8s\n", "MxNxK", "thr", "nn", "nt", "packed", "OB nn", "OB nt")
	for _, l := range shares {
		fmt.Fprintln(w, l)
	}
	var ps []string
	for _, t := range slices.Sorted(maps.Keys(bestPeak)) {
		ps = append(ps, fmt.Sprintf("%d thr %.1f", t, bestPeak[t]))
	}
	fmt.Fprintf(w, "FMA peak, best 0.25 ms window of the loop after each row (the least disturbed): %s GFLOP/s\n", strings.Join(ps, ", "))
	return nil
}

// settle waits, up to half a second, until the process has been idle for
// 5 ms. OpenBLAS's idle worker threads spin (by default for about 2^28
// cycles) before they sleep: on the shared 2-core Zen 3 machine a 2-thread
// sgemm left its worker spinning for 40-60 ms, i.e. through most of the
// next implementation's turn in the interleaved rounds, which then ran on
// one core and a half and, by CPU time, was charged the spinning too.
func settle() { settleWith(cpuSeconds, time.Sleep, time.Now) }

// settleWith is settle with its clocks passed in (tests): cpu is the
// process's CPU time in seconds.
func settleWith(cpu func() float64, sleep func(time.Duration), now func() time.Time) {
	const window, idle, limit = 5 * time.Millisecond, 0.5e-3, 500 * time.Millisecond
	deadline := now().Add(limit)
	for now().Before(deadline) {
		c0 := cpu()
		sleep(window)
		if cpu()-c0 < idle {
			return
		}
	}
}

// NNConfig is one nearest-neighbour measurement.
type NNConfig struct {
	M, N, D int    // query rows, memory bank rows, dimension
	Reps    int    // timed repetitions after one warm-up; the median is reported
	Clock   string // "wall" or "cpu" (process CPU time / GOMAXPROCS)
}

// NN times the fused nearest-neighbour kernel (packed bank and plain) and
// the packed GEMM of the same shape, interleaved, and writes their rates
// and the fused/GEMM ratio to w.
func NN(w io.Writer, cfg NNConfig) error {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randFloats(rng, cfg.M*cfg.D), randFloats(rng, cfg.N*cfg.D)
	c := make([]float32, cfg.M*cfg.N)
	dist, idx := make([]float32, cfg.M), make([]int32, cfg.M)
	bank := gemm.PackBank(cfg.N, cfg.D, b, cfg.D)
	pb := gemm.PackBT(cfg.D, cfg.N, b, cfg.D)
	flops := 2 * float64(cfg.M) * float64(cfg.N) * float64(cfg.D)
	impls := []func(){
		func() { gemm.NearestDistancesPacked(cfg.M, a, cfg.D, bank, dist, idx) },
		func() { gemm.MatMulPacked(cfg.M, a, cfg.D, pb, c, cfg.N, false) },
		func() { gemm.NearestDistances(cfg.M, cfg.N, cfg.D, a, b, dist, idx) },
	}
	res := make([][]float64, len(impls))
	for _, f := range impls {
		f()
	}
	for r := 0; r < cfg.Reps; r++ {
		for i, f := range impls {
			res[i] = append(res[i], rate(flops, cfg.Clock == "cpu", runtime.GOMAXPROCS(0), f))
		}
	}
	nnPacked, gemmPacked, nnPlain := median(res[0]), median(res[1]), median(res[2])
	fmt.Fprintf(w, "m=%d n=%d d=%d, GOMAXPROCS=%d, %s clock, median of %d interleaved repetitions (equivalent GEMM GFLOP/s = 2mnd/time)\n", cfg.M, cfg.N, cfg.D, runtime.GOMAXPROCS(0), cfg.Clock, cfg.Reps)
	fmt.Fprintf(w, "  NearestDistancesPacked (fused)      %8.1f GFLOP/s\n", nnPacked)
	fmt.Fprintf(w, "  NearestDistances (packs the bank)   %8.1f GFLOP/s\n", nnPlain)
	fmt.Fprintf(w, "  MatMulPacked A·Bᵀ (same shape)      %8.1f GFLOP/s\n", gemmPacked)
	fmt.Fprintf(w, "  ratio fused/GEMM                    %8.2f (target >= 0.8)\n", nnPacked/gemmPacked)
	return nil
}

// parseShape reads "MxNxK".
func parseShape(s string) ([3]int, error) {
	var sh [3]int
	parts := strings.Split(s, "x")
	if len(parts) != 3 {
		return sh, fmt.Errorf("shape %q: want MxNxK", s)
	}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 {
			return sh, fmt.Errorf("shape %q: %q is not a positive integer", s, p)
		}
		sh[i] = v
	}
	return sh, nil
}

// rate runs f once and returns flops/s in GFLOP/s. With cpuClock the time is
// the process's CPU time divided by threads instead of the wall clock: on a
// machine shared with other jobs it counts only the time we were scheduled
// (but it also counts any busy-waiting of idle worker threads).
func rate(flops float64, cpuClock bool, threads int, f func()) float64 {
	if cpuClock {
		c0 := cpuSeconds()
		f()
		return flops / ((cpuSeconds() - c0) / float64(threads)) / 1e9
	}
	t0 := time.Now()
	f()
	return flops / time.Since(t0).Seconds() / 1e9
}

func randFloats(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}
