package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/internal/openblas"
	"github.com/anomclust/anomclust/pipeline"
)

func init() {
	registerBench(benchTarget{name: "gemm", summary: "SGEMM GFLOP/s: ours vs OpenBLAS (if installed), interleaved", run: runBenchGemm})
	registerBench(benchTarget{name: "nn", summary: "fused nearest-neighbour rate vs the GEMM rate at the same shape", run: runBenchNN})
}

// coreTypeWasEnv carries OPENBLAS_CORETYPE's original value across the
// re-exec that removes it (OpenBLAS reads it once, when it is loaded).
const coreTypeWasEnv = "ANOMCLUST_BENCH_OPENBLAS_CORETYPE_WAS"

// unsetCoreType re-executes the process without OPENBLAS_CORETYPE if it is
// set, so that OpenBLAS picks its kernels for this CPU; it returns the
// original value ("" when unset).
func unsetCoreType() (string, error) {
	if was, ok := os.LookupEnv(coreTypeWasEnv); ok {
		return was, nil
	}
	v, ok := os.LookupEnv("OPENBLAS_CORETYPE")
	if !ok {
		return "", nil
	}
	exe, err := os.Executable()
	if err != nil {
		return v, fmt.Errorf("re-exec without OPENBLAS_CORETYPE: %w", err)
	}
	env := []string{coreTypeWasEnv + "=" + v}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") {
			env = append(env, e)
		}
	}
	return v, fmt.Errorf("re-exec %s without OPENBLAS_CORETYPE: %w", exe, syscall.Exec(exe, os.Args, env))
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

// median of the rates; rates is sorted in place.
func median(rates []float64) float64 {
	slices.Sort(rates)
	n := len(rates)
	if n%2 == 1 {
		return rates[n/2]
	}
	return (rates[n/2-1] + rates[n/2]) / 2
}

// rate runs f once and returns flops/s in GFLOP/s. With cpuClock the time is
// the process's CPU time divided by threads instead of the wall clock: on a
// machine shared with other jobs it counts only the time we were scheduled
// (but it also counts any busy-waiting of idle worker threads).
func rate(flops float64, cpuClock bool, threads int, f func()) float64 {
	if cpuClock {
		c0 := processCPU()
		f()
		return flops / ((processCPU() - c0).Seconds() / float64(threads)) / 1e9
	}
	t0 := time.Now()
	f()
	return flops / time.Since(t0).Seconds() / 1e9
}

// processCPU is the user+system CPU time of all threads of the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func randFloats(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

func runBenchGemm(args []string) error {
	fs := newFlags("bench gemm", "[flags]")
	shapes := fs.String("shapes", "1024x1024x1024,785x2304x768,785x3072x768,785x768x3072", "comma-separated MxNxK products C(MxN) = A(MxK)·B(KxN)")
	threads := fs.String("threads", "1,"+strconv.Itoa(runtime.NumCPU()), "comma-separated worker counts (ours: GOMAXPROCS; OpenBLAS: openblas_set_num_threads)")
	reps := fs.Int("reps", 7, "timed repetitions per implementation (after one warm-up); the median is reported")
	stat := fs.String("stat", "median", "median: median rate of the repetitions; best: the fastest one (least disturbed by other jobs)")
	clock := fs.String("clock", "wall", "wall: elapsed time; cpu: process CPU time / threads (robust to other jobs on the machine, but counts OpenBLAS's spinning threads)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stat != "median" && *stat != "best" {
		return fmt.Errorf("-stat %q: want median or best", *stat)
	}
	if *clock != "wall" && *clock != "cpu" {
		return fmt.Errorf("-clock %q: want wall or cpu", *clock)
	}
	cpuClock := *clock == "cpu"
	was, err := unsetCoreType()
	if err != nil {
		return err
	}
	if was == "" {
		was = "unset"
	}
	fmt.Printf("OPENBLAS_CORETYPE: %s (OpenBLAS is run with it unset)\n", was)
	lib, err := openblas.Open()
	if err != nil {
		fmt.Printf("OpenBLAS not found (%v): reporting ours only\n", err)
		lib = nil
	} else {
		fmt.Printf("OpenBLAS: %s, core %s\n", lib.Path, lib.CoreName())
	}
	fmt.Printf("GFLOP/s (%s clock), %s of %d interleaved repetitions. nn = MatMul (B is KxN), nt = MatMulT (B is NxK),\npacked = MatMulPacked with B packed once beforehand (constant weights); ratio = ours / OpenBLAS same form.\n\n", *clock, *stat, *reps)
	fmt.Printf("%-16s %3s  %8s %8s %8s  %8s %8s  %7s %7s %7s\n", "MxNxK", "thr", "nn", "nt", "packed", "OB nn", "OB nt", "nn/OB", "nt/OB", "pk/OB")
	rng := rand.New(rand.NewPCG(1, 2))
	prevProcs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prevProcs)
	for _, s := range splitList(*shapes) {
		sh, err := parseShape(s)
		if err != nil {
			return err
		}
		m, n, k := sh[0], sh[1], sh[2]
		a, b, bt, c := randFloats(rng, m*k), randFloats(rng, k*n), randFloats(rng, n*k), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		for _, ts := range splitList(*threads) {
			t, err := strconv.Atoi(ts)
			if err != nil || t <= 0 {
				return fmt.Errorf("-threads: %q is not a positive integer", ts)
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
			}
			if lib != nil {
				impls = append(impls,
					func() { lib.Sgemm(false, m, n, k, a, k, b, n, c, n, false) },
					func() { lib.Sgemm(true, m, n, k, a, k, bt, k, c, n, false) })
			}
			res := make([][]float64, len(impls))
			for _, f := range impls {
				f() // warm-up: pools, page faults, OpenBLAS threads
			}
			// Interleaved, so that load from other processes hits all
			// implementations alike.
			for r := 0; r < *reps; r++ {
				for i, f := range impls {
					res[i] = append(res[i], rate(flops, cpuClock, t, f))
				}
			}
			med := make([]float64, len(res))
			for i := range res {
				if *stat == "best" {
					med[i] = slices.Max(res[i])
				} else {
					med[i] = median(res[i])
				}
			}
			line := fmt.Sprintf("%-16s %3d  %8.1f %8.1f %8.1f", s, t, med[0], med[1], med[2])
			if lib != nil {
				line += fmt.Sprintf("  %8.1f %8.1f  %7.2f %7.2f %7.2f", med[3], med[4], med[0]/med[3], med[1]/med[4], med[2]/med[4])
			}
			fmt.Println(line)
		}
	}
	return nil
}

func runBenchNN(args []string) error {
	fs := newFlags("bench nn", "[flags]")
	m := fs.Int("m", 3136, "query rows (e.g. 784 patches x 4 images)")
	n := fs.Int("n", 3136, "memory bank rows")
	d := fs.Int("d", 1024, "dimension")
	reps := fs.Int("reps", 5, "timed repetitions (after one warm-up); the median is reported")
	clock := fs.String("clock", "wall", "wall: elapsed time; cpu: process CPU time / GOMAXPROCS (robust to other jobs on the machine)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *clock != "wall" && *clock != "cpu" {
		return fmt.Errorf("-clock %q: want wall or cpu", *clock)
	}
	if err := checkBounds(bound{"-m", *m, 1, 1 << 20}, bound{"-n", *n, 1, 1 << 20}, bound{"-d", *d, 1, pipeline.MaxDim}, bound{"-reps", *reps, 1, 1000}); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randFloats(rng, *m**d), randFloats(rng, *n**d)
	c := make([]float32, *m**n)
	dist, idx := make([]float32, *m), make([]int32, *m)
	bank := gemm.PackBank(*n, *d, b, *d)
	pb := gemm.PackBT(*d, *n, b, *d)
	flops := 2 * float64(*m) * float64(*n) * float64(*d)
	impls := []func(){
		func() { gemm.NearestDistancesPacked(*m, a, *d, bank, dist, idx) },
		func() { gemm.MatMulPacked(*m, a, *d, pb, c, *n, false) },
		func() { gemm.NearestDistances(*m, *n, *d, a, b, dist, idx) },
	}
	res := make([][]float64, len(impls))
	for _, f := range impls {
		f()
	}
	for r := 0; r < *reps; r++ {
		for i, f := range impls {
			res[i] = append(res[i], rate(flops, *clock == "cpu", runtime.GOMAXPROCS(0), f))
		}
	}
	nnPacked, gemmPacked, nnPlain := median(res[0]), median(res[1]), median(res[2])
	fmt.Printf("m=%d n=%d d=%d, GOMAXPROCS=%d, %s clock, median of %d interleaved repetitions (equivalent GEMM GFLOP/s = 2mnd/time)\n", *m, *n, *d, runtime.GOMAXPROCS(0), *clock, *reps)
	fmt.Printf("  NearestDistancesPacked (fused)      %8.1f GFLOP/s\n", nnPacked)
	fmt.Printf("  NearestDistances (packs the bank)   %8.1f GFLOP/s\n", nnPlain)
	fmt.Printf("  MatMulPacked A·Bᵀ (same shape)      %8.1f GFLOP/s\n", gemmPacked)
	fmt.Printf("  ratio fused/GEMM                    %8.2f (target >= 0.8)\n", nnPacked/gemmPacked)
	return nil
}
