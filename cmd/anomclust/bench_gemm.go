package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/anomclust/anomclust/bench"
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
	was, err := unsetCoreType()
	if err != nil {
		return err
	}
	if was == "" {
		was = "unset"
	}
	fmt.Printf("OPENBLAS_CORETYPE: %s (OpenBLAS is run with it unset)\n", was)
	return bench.GEMM(os.Stdout, bench.GEMMConfig{Shapes: splitList(*shapes), Threads: splitList(*threads), Reps: *reps, Stat: *stat, Clock: *clock})
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
	return bench.NN(os.Stdout, bench.NNConfig{M: *m, N: *n, D: *d, Reps: *reps, Clock: *clock})
}
