// Package fmapeak measures this CPU's single-precision FMA throughput: the
// ceiling that any float32 convolution or matrix product can approach but
// not pass, whatever its implementation. The benchmarks divide their
// achieved GFLOP/s by it, so that a speed ratio against another library can
// be read together with how close each side is to the machine's limit.
//
// The measurement is a loop of independent fused multiply-adds on the widest
// vectors the CPU has (AVX-512, else AVX2+FMA, else plain Go), run on
// several OS threads at once. Twelve accumulator chains cover the FMA
// latency times the number of FMA pipes of current x86 cores (4 cycles x 2
// pipes), so the loop is bound by throughput, not latency.
package fmapeak

import (
	"math"
	"runtime"
	"sync"
	"time"
)

// Result is one measurement.
type Result struct {
	// GFLOPS is the float32 throughput of all threads together, counting an
	// FMA as two floating-point operations.
	GFLOPS float64
	// Threads is the number of OS threads that ran the loop at once.
	Threads int
	// ISA names the instructions used: "AVX-512", "AVX2+FMA" or "Go".
	ISA string
}

// chains is the number of independent accumulators in every loop variant.
const chains = 12

// Measure runs the FMA loop on threads OS threads for about d and returns
// their combined throughput. Each thread repeats batches of iterations until
// d has passed and its rate is its best batch (the machine is shared: the
// best batch is the one least disturbed). d of 100-300 ms is enough.
func Measure(threads int, d time.Duration) Result {
	threads = max(threads, 1)
	rates := make([]float64, threads)
	onThreads(threads, func(t int) { rates[t] = bestRate(d) })
	sum := 0.0
	for _, r := range rates {
		sum += r
	}
	return Result{GFLOPS: sum, Threads: threads, ISA: isa}
}

// bestRate runs batches of the loop for about d and returns the best batch's
// GFLOP/s.
func bestRate(d time.Duration) float64 {
	const iters = 1 << 17
	flopsPerIter := float64(2 * chains * lanes)
	var ab [2 * 16]float32
	for i := range ab {
		ab[i] = 1
	}
	var out [16]float32
	best := 0.0
	deadline := time.Now().Add(d)
	for {
		t0 := time.Now()
		fmaLoop(iters, &ab, &out)
		el := time.Since(t0).Seconds()
		if el > 0 {
			best = max(best, flopsPerIter*iters/el/1e9)
		}
		if time.Now().After(deadline) {
			return best
		}
	}
}

// Run executes the FMA loop for about flops floating-point operations in
// total, split evenly over threads OS threads, and returns when all are
// done. Timing it with the clock a benchmark uses for the products it
// measures, interleaved with them, gives the peak under the same
// conditions (clock speed, other jobs on the machine) as those products.
func Run(threads int, flops float64) {
	threads = max(threads, 1)
	iters := runIters(threads, flops)
	onThreads(threads, func(int) {
		var ab [2 * 16]float32
		for i := range ab {
			ab[i] = 1
		}
		var out [16]float32
		fmaLoop(iters, &ab, &out)
	})
}

// onThreads runs fn(t) for t < threads, each on its own locked OS thread,
// all started together, and returns when every one is done.
func onThreads(threads int, fn func(t int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			<-start
			fn(t)
		}()
	}
	close(start)
	wg.Wait()
}

// runIters is the loop count of each of Run's threads (at least one).
func runIters(threads int, flops float64) int {
	return max(int(math.Round(flops/float64(threads)/float64(2*chains*lanes))), 1)
}
