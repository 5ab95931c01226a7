package gemm

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestTuneSchedule is a measurement, not a check: it runs the 2-thread
// product under several ways of splitting C between the workers, all
// interleaved round robin, and logs for each the median rate by process
// CPU time and by wall clock, and the median share of the wall time the
// workers spent after their last chunk waiting for the last one (idle)
// and not running within their chunks (thread CPU time below the chunks'
// wall time: other jobs on the core).
//
//	GEMM_TUNE=sched go test -run TuneSchedule -v ./gemm
func TestTuneSchedule(t *testing.T) {
	tuneOnly(t, "sched")
	threads := tuneThreads(t, 2)
	rounds := tuneRounds()
	rng := rand.New(rand.NewPCG(3, 3))
	shapes := benchShapes
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		cfg := config{kern: defaultKernel, threads: threads, serialBelow: minParallelFlops}
		kern := cfg.kern
		tiles, panels := ceilDiv(m, kern.mr), ceilDiv(n, kern.nr)
		maxTiles := max(cfg.mcMax(balancedBlock(k, cfg.kcMax(), 1))/kern.mr, 1)
		src := aSource{a: a, lda: k}
		ep := (*Epilogue)(nil)
		type sched struct {
			name string
			run  func(pb *PackedB, work func(w int, f func()))
		}
		guided := func(minTiles int) func(pb *PackedB, work func(w int, f func())) {
			return func(pb *PackedB, work func(w int, f func())) {
				var next atomic.Int64
				parallel(threads, func(w int) {
					for {
						cur := int(next.Load())
						rem := tiles - cur
						if rem <= 0 {
							return
						}
						size := min(max(rem/(2*threads), minTiles, 1), maxTiles, rem)
						if next.CompareAndSwap(int64(cur), int64(cur+size)) {
							work(w, func() {
								cfg.gemmRange(cur*kern.mr, min((cur+size)*kern.mr, m), 0, panels, w*panels/threads, src, pb, c, n, false, ep)
							})
						}
					}
				})
			}
		}
		scheds := []sched{
			{"guided (before)", guided(1)},
			{"guided min 4", guided(4)},
			{"guided min 8", guided(8)},
			{"own+steal", func(pb *PackedB, work func(w int, f func())) {
				forRowShares(threads, tiles, maxTiles, func(w, t0, t1 int) {
					work(w, func() {
						cfg.gemmRange(t0*kern.mr, min(t1*kern.mr, m), 0, panels, w*panels/threads, src, pb, c, n, false, ep)
					})
				})
			}},
			{"static rows", func(pb *PackedB, work func(w int, f func())) {
				parallel(threads, func(w int) {
					work(w, func() {
						i0, i1 := w*tiles/threads*kern.mr, min((w+1)*tiles/threads*kern.mr, m)
						cfg.gemmRange(i0, i1, 0, panels, w*panels/threads, src, pb, c, n, false, ep)
					})
				})
			}},
			{"static cols", func(pb *PackedB, work func(w int, f func())) {
				parallel(threads, func(w int) {
					work(w, func() {
						cfg.gemmRange(0, m, w*panels/threads, (w+1)*panels/threads, 0, src, pb, c, n, false, ep)
					})
				})
			}},
			{"col chunks 8", func(pb *PackedB, work func(w int, f func())) {
				var next atomic.Int64
				parallel(threads, func(w int) {
					for {
						cur := int(next.Load())
						rem := panels - cur
						if rem <= 0 {
							return
						}
						size := min(max(rem/(2*threads), 8), rem)
						if next.CompareAndSwap(int64(cur), int64(cur+size)) {
							work(w, func() { cfg.gemmRange(0, m, cur, cur+size, 0, src, pb, c, n, false, ep) })
						}
					}
				})
			}},
		}
		pbFixed := cfg.packB(k, n, bm, n, false, false)
		cells := make([]schedCell, 2*len(scheds))
		for r := 0; r <= rounds; r++ {
			for si, s := range scheds {
				for mode := 0; mode < 2; mode++ {
					pb := pbFixed
					if mode == 1 {
						pb = cfg.lazyB(k, n, bm, n, false)
					}
					rd := startRound()
					s.run(pb, rd.chunk)
					rd.stop()
					if mode == 1 {
						putBuf(pb.buf)
					}
					if r > 0 {
						rd.add(&cells[2*si+mode], flops, threads)
					}
				}
			}
		}
		for si, s := range scheds {
			for mode, mn := range []string{"packed", "MatMul"} {
				ce := cells[2*si+mode]
				t.Logf("%-14s t%d %-13s %-6s CPU %6.1f  wall %6.1f GFLOP/s  idle %4.1f%%  not running %4.1f%%", fmt.Sprintf("%dx%dx%d", m, n, k), threads, s.name, mn, median(ce.cpu), median(ce.wall), median(ce.idle), median(ce.stolen))
			}
		}
	}
}
