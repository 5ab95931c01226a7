package fmapeak

import (
	"testing"
	"time"
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

// TestMeasure checks the accounting: a positive rate, the thread count and
// ISA reported, and that two threads give more than one thread's rate.
// (It does not check the rate against a figure: these machines are shared.)
func TestMeasure(t *testing.T) {
	r := Measure(1, 20*time.Millisecond)
	if r.GFLOPS <= 0 || r.Threads != 1 || r.ISA != isa {
		t.Fatalf("Measure(1) = %+v", r)
	}
	if r := Measure(0, time.Millisecond); r.Threads != 1 {
		t.Errorf("Measure(0) ran %d threads, want 1", r.Threads)
	}
}
