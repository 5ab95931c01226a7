package fmapeak

import (
	"math"
	"testing"
	"time"

	"github.com/anomclust/anomclust/gemm"
)

// TestLoops checks what every loop variant computes: with a = 1 and b = 2 in
// every lane, each of the 12 chains holds 2n after n iterations and their
// sum is 24n, exact in float32 below 2^24. A loop that dropped a chain, used
// the wrong register or ran the wrong count would give another sum, so the
// FMAs being timed are the ones counted.
func TestLoops(t *testing.T) {
	loops := map[string]struct {
		f     func(int, *[32]float32, *[16]float32)
		lanes int
	}{"go": {fmaLoopGo, 4}, "selected " + isa: {fmaLoop, lanes}}
	addAsmLoops(loops)
	for name, l := range loops {
		for _, n := range []int{1, 3, 1000, 1 << 17} {
			var ab [32]float32
			for i := 0; i < 16; i++ {
				ab[i], ab[16+i] = 1, 2
			}
			var out [16]float32
			for i := range out {
				out[i] = -7 // lanes the loop writes must be overwritten
			}
			l.f(n, &ab, &out)
			for i := 0; i < l.lanes; i++ {
				if want := float32(24 * n); out[i] != want {
					t.Errorf("%s n=%d: lane %d = %g, want %g", name, n, i, out[i], want)
				}
			}
		}
	}
}

// TestMeasure checks the accounting (a positive rate, the thread count and
// ISA reported) and that the loop is throughput-bound: its rate must be at
// least 70% of what the GEMM micro-kernel reaches on one core in the same
// run (a product small enough for L2, best of several runs each; the kernel
// reaches 90-98% of the FMA peak). A loop whose FMAs formed one dependent
// chain would run at 1/8 of the peak or less and fail; the sums checked by
// TestLoops would not show that.
func TestMeasure(t *testing.T) {
	r := Measure(1, 20*time.Millisecond)
	if !(r.GFLOPS > 0) || r.Threads != 1 || r.ISA != isa {
		t.Fatalf("Measure(1) = %+v", r)
	}
	if r := Measure(0, time.Millisecond); r.Threads != 1 {
		t.Errorf("Measure(0) ran %d threads, want 1", r.Threads)
	}
	if isa == "Go" {
		t.Skip("no assembly loop on this CPU/build: its rate is not compared with the GEMM's")
	}
	const m, n, k = 112, 128, 256
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) / 7
	}
	for i := range b {
		b[i] = float32(i%5) / 5
	}
	pb := gemm.PackB(k, n, b, n)
	gemmRate := 0.0
	for try := 0; try < 5; try++ {
		t0 := time.Now()
		const reps = 50
		for i := 0; i < reps; i++ {
			gemm.MatMulPackedSerial(m, a, k, pb, c, n, false)
		}
		gemmRate = max(gemmRate, 2*m*n*k*reps/time.Since(t0).Seconds()/1e9)
	}
	peak := Measure(1, 50*time.Millisecond).GFLOPS
	if !(peak >= 0.7*gemmRate) { // a NaN rate fails too
		t.Errorf("FMA loop %.1f GFLOP/s, below 70%% of the GEMM's %.1f: the loop is not throughput-bound", peak, gemmRate)
	}
	t.Logf("FMA loop %.1f GFLOP/s, GEMM %.1f GFLOP/s (1 thread)", peak, gemmRate)
}

// TestRun checks that Run does the work it is asked for: its threads'
// iterations add up to the flops asked (to one iteration each), and, as a
// gross check of the threads doing them, it does not finish in a quarter
// of the time that work takes at the best rate Measure finds. (Only a
// quarter: on a shared machine Measure may have seen no undisturbed
// window while Run then runs alone.)
func TestRun(t *testing.T) {
	for _, c := range []struct {
		threads int
		flops   float64
	}{{1, 1e9}, {2, 1e9}, {3, 5e8}, {2, 1}} {
		per := float64(2 * chains * lanes)
		got := float64(runIters(c.threads, c.flops)*c.threads) * per
		if !(math.Abs(got-c.flops) <= float64(c.threads)*per) {
			t.Errorf("Run(%d, %g) does %g flops", c.threads, c.flops, got)
		}
	}
	for _, threads := range []int{1, 2} {
		peak := Measure(threads, 50*time.Millisecond).GFLOPS
		if !(peak >= 1) {
			// Under an emulator (qemu-user for the arm64 tests) the first
			// batches include translating the code: the rates mean nothing.
			t.Logf("FMA loop at %.3f GFLOP/s: emulated or very slow, Run's timing not checked", peak)
			continue
		}
		flops := peak * 1e9 * 0.04 // 40 ms at the best rate
		t0 := time.Now()
		Run(threads, flops)
		el := time.Since(t0)
		if !(el >= 10*time.Millisecond) {
			t.Errorf("Run(%d, %.3g flops) took %v; at the measured peak %.1f GFLOP/s it needs 40 ms", threads, flops, el, peak)
		}
	}
	Run(0, 1) // no threads asked: one, and no hang
}
