package gemm

import (
	"os"
	"runtime"
	"strconv"
	"testing"
)

// tuneOnly skips t unless GEMM_TUNE is name: the tuning measurements are
// not checks, and run only when asked for.
func tuneOnly(t *testing.T, name string) {
	t.Helper()
	if os.Getenv("GEMM_TUNE") != name {
		t.Skipf("tuning measurement: set GEMM_TUNE=%s (GEMM_TUNE_THREADS, GEMM_TUNE_ROUNDS) to run it", name)
	}
}

// tuneThreads is GEMM_TUNE_THREADS, at least least; GOMAXPROCS is set to
// it until t ends.
func tuneThreads(t *testing.T, least int) int {
	threads, _ := strconv.Atoi(os.Getenv("GEMM_TUNE_THREADS"))
	threads = max(threads, least)
	prev := runtime.GOMAXPROCS(threads)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	return threads
}

// tuneRounds is GEMM_TUNE_ROUNDS, at least 9.
func tuneRounds() int {
	rounds, _ := strconv.Atoi(os.Getenv("GEMM_TUNE_ROUNDS"))
	return max(rounds, 9)
}
