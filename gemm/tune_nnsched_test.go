package gemm

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestTuneNNSchedule is a measurement, not a check: the fused
// nearest-neighbour loop (nnRange) on 2 threads with its rows split by
// guided chunks (forRowChunks) and by owned shares with stealing
// (forRowShares), interleaved round robin, on the query x bank shapes of
// the patch scores (784 patches against banks of 1 and 4 images, at D =
// 1024 and at the PCA-64 pre-search). It logs the median rate by process
// CPU time and by wall clock, the workers' idle share (after their last
// chunk) and not-running share (chunk wall time above thread CPU time), as
// TestTuneSchedule does, and the number of chunks (passes over the bank).
//
//	GEMM_TUNE=nnsched go test -run TuneNNSchedule -v ./gemm
func TestTuneNNSchedule(t *testing.T) {
	tuneOnly(t, "nnsched")
	threads := tuneThreads(t, 2)
	rounds := tuneRounds()
	rng := rand.New(rand.NewPCG(5, 5))
	for _, sh := range [][3]int{{784, 784, 1024}, {784, 3136, 1024}, {784, 784, 64}, {784, 3136, 64}} {
		m, n, d := sh[0], sh[1], sh[2]
		a, b := randSlice(rng, m*d), randSlice(rng, n*d)
		flops := 2 * float64(m) * float64(n) * float64(d)
		cfg := config{kern: defaultKernel, threads: threads, serialBelow: minParallelFlops}
		bank := cfg.packBank(n, d, b, d, false)
		kern := bank.b.kern
		tiles, panels := ceilDiv(m, kern.mr), ceilDiv(n, kern.nr)
		if tr, tc := grid(threads, tiles, panels, kern.mr, kern.nr, d); tc != 1 {
			t.Fatalf("%dx%dx%d: grid %dx%d, want rows only", m, n, d, tr, tc)
		}
		maxTiles := max(cfg.nnMaxRows(d)/kern.mr, 1)
		best, bestJ := make([]float32, m), make([]int32, m)
		type sched struct {
			name string
			run  func(t, tiles, maxTiles int, f func(w, t0, t1 int))
		}
		scheds := []sched{{"guided (before)", forRowChunks}, {"own+steal", forRowShares}}
		cells := make([]schedCell, len(scheds))
		for r := 0; r <= rounds; r++ {
			for si, s := range scheds {
				rd := startRound()
				s.run(threads, tiles, maxTiles, func(w, t0, t1 int) {
					rd.chunk(w, func() {
						cfg.nnRange(t0*kern.mr, min(t1*kern.mr, m), 0, panels, a, d, bank, best, bestJ)
					})
				})
				rd.stop()
				if r > 0 {
					rd.add(&cells[si], flops, threads)
				}
			}
		}
		for si, s := range scheds {
			ce := cells[si]
			t.Logf("%-14s t%d %-13s CPU %6.1f  wall %6.1f GFLOP/s  idle %4.1f%%  not running %4.1f%%  chunks %2.0f", fmt.Sprintf("%dx%dx%d", m, n, d), threads, s.name, median(ce.cpu), median(ce.wall), median(ce.idle), median(ce.stolen), median(ce.chunks))
		}
	}
}

// forRowChunks is the row schedule the driver and the fused NN loop used
// before forRowShares, kept as the baseline of the tuning measurements: it
// runs f over the row tiles [0, tiles) on t goroutines, in chunks taken
// from a shared counter (f gets the worker number w < t) (guided scheduling: each chunk is the
// remaining work divided by 2t, at most maxTiles and at least one tile). The
// chunks shrink towards the end, so a worker slowed down by another process
// on its core leaves little for the others to wait for, while the first
// chunks are large enough to amortise the B panels streamed from L3.
func forRowChunks(t, tiles, maxTiles int, f func(w, t0, t1 int)) {
	var next atomic.Int64
	parallel(t, func(w int) {
		for {
			cur := int(next.Load())
			rem := tiles - cur
			if rem <= 0 {
				return
			}
			size := min(max(rem/(2*t), 1), maxTiles)
			if next.CompareAndSwap(int64(cur), int64(cur+size)) {
				f(w, cur, cur+size)
			}
		}
	})
}
