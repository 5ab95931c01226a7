package gemm

import (
	"runtime"
	"sync/atomic"

	par "github.com/anomclust/anomclust/internal/parallel"
)

// Cache blocking (see the package comment for the reasoning).
const (
	// kcBlock is the largest depth of a k block. On a Zen 4 class CPU
	// (AVX-512) the L2 feeds the kernel fast enough that B micro-panels
	// larger than L1 (kc*nr*4 = 128 KiB) cost nothing, while every extra k
	// block costs a pass of loads and stores over C: kc from 256 to 1024
	// took the packed 785x2304x768 product from ~98 to ~106 GFLOP/s on one
	// core. On the AVX2-only Zen 3 a sweep of kc 256-1024 x mc 48-768 found
	// these constants best or tied (docs/PERF.md).
	kcBlock = 1024
	// mcBytes bounds a packed A block (mc x kc floats), which is reused
	// against every B micro-panel and should stay in the 1 MiB L2.
	mcBytes = 640 << 10
	// mcBlockMax caps mc when k is small.
	mcBlockMax = 448
	// minParallelFlops is the work below which a product runs on the calling
	// goroutine alone. Waking a worker costs a few microseconds on an idle
	// core and far more on a busy one, and each worker packs its own A
	// block: on the Zen 3 machine (AVX2, shared) 128³ (4.2 MFLOP) ran at
	// 35-51 GFLOP/s on two threads against 51 on one, so the line is at
	// 16.8 MFLOP (about 200 µs on one core).
	minParallelFlops = 1 << 24
)

// config selects the kernel and the number of workers. The exported
// functions use defaultConfig; tests and benchmarks set both explicitly.
type config struct {
	kern    *kernel
	threads int
	// serialBelow is the work (flops) under which one goroutine is used.
	serialBelow float64
	// kc, mc override kcBlock and the mc from mcBytes when positive (tests use small
	// blocks to exercise the block edges with small matrices).
	kc, mc int
}

func (cfg config) kcMax() int {
	if cfg.kc > 0 {
		return cfg.kc
	}
	return kcBlock
}

// mcMax is the largest number of rows of a packed A block of depth kc.
func (cfg config) mcMax(kc int) int {
	if cfg.mc > 0 {
		return cfg.mc
	}
	return min(mcBlockMax, mcBytes/4/max(kc, 1))
}

func defaultConfig() config {
	return config{kern: defaultKernel, threads: runtime.GOMAXPROCS(0), serialBelow: minParallelFlops}
}

// workers is the number of goroutines worth using for flops of work.
func (cfg config) workers(flops float64) int {
	t := max(cfg.threads, 1)
	if flops < cfg.serialBelow {
		t = 1
	}
	return t
}

// parallel runs f(0..t-1) on t goroutines (one of them the caller's) and
// waits for all of them (internal/parallel.Do).
func parallel(t int, f func(w int)) { par.Do(t, f) }

// forRowShares runs f over the row tiles [0, tiles) on t goroutines (f
// gets the worker number w < t). Each worker owns an equal contiguous
// share and works through it from the front in balanced chunks of at most
// maxTiles (one A block each); a worker whose share is done takes the back
// half of the largest unclaimed rest of another share, and works through
// that the same way. On an even machine each worker takes its share in
// ceil(share/maxTiles) chunks, each of which streams all of B once, where
// guided chunks ending in single tiles streamed B about 17 times for 131
// tiles (docs/PERF.md); on an uneven one the fast worker takes over half
// of what the slow one has not started.
func forRowShares(t, tiles, maxTiles int, f func(w, t0, t1 int)) {
	maxTiles = max(maxTiles, 1)
	// shares[w] holds worker w's unclaimed tiles [lo, hi) as lo<<32 | hi.
	shares := make([]atomic.Uint64, t)
	for w := range shares {
		shares[w].Store(uint64(w*tiles/t)<<32 | uint64((w+1)*tiles/t))
	}
	span := func(v uint64) (lo, hi int) { return int(v >> 32), int(uint32(v)) }
	parallel(t, func(w int) {
		own := &shares[w]
		for {
			v := own.Load()
			if lo, hi := span(v); lo < hi {
				rem := hi - lo
				size := ceilDiv(rem, ceilDiv(rem, maxTiles))
				if own.CompareAndSwap(v, uint64(lo+size)<<32|uint64(hi)) {
					f(w, lo, lo+size)
				}
				continue
			}
			// Own share done: take the back half of the largest rest.
			victim, vv, most := -1, uint64(0), 0
			for u := range shares {
				v := shares[u].Load()
				if lo, hi := span(v); hi-lo > most {
					victim, vv, most = u, v, hi-lo
				}
			}
			if victim < 0 {
				return
			}
			lo, hi := span(vv)
			mid := hi - (hi-lo+1)/2
			if shares[victim].CompareAndSwap(vv, uint64(lo)<<32|uint64(mid)) {
				// Only this worker claims from the front of its own
				// share, and a thief's CAS on it fails against any store.
				own.Store(uint64(mid)<<32 | uint64(hi))
			}
		}
	})
}

// grid splits t workers into tr row groups x tc column groups over a C of
// tiles x panels micro-tiles, minimising the largest share. Splitting columns
// makes every column group pack the same A rows again, which is charged as
// packCost flops per packed element (about one cycle each).
func grid(t, tiles, panels, mr, nr, k int) (tr, tc int) {
	const packCost = 64
	best := -1.0
	for r := 1; r <= t; r++ {
		if t%r != 0 || r > tiles {
			continue
		}
		c := t / r
		if c > panels {
			continue
		}
		rows := float64(ceilDiv(tiles, r) * mr)
		cols := float64(ceilDiv(panels, c) * nr)
		cost := 2*rows*cols*float64(k) + rows*float64(k)*packCost
		if best < 0 || cost < best || cost == best && r > tr {
			best, tr, tc = cost, r, c
		}
	}
	if best < 0 {
		return 1, 1
	}
	return tr, tc
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// balancedBlock splits n into ceil(n/max) blocks of nearly equal size and
// returns that size rounded up to a multiple of unit: k = 700 gives three
// blocks of 234 rather than 256+256+188.
func balancedBlock(n, maxBlock, unit int) int {
	if n <= 0 {
		return unit
	}
	nb := ceilDiv(n, maxBlock)
	return ceilDiv(ceilDiv(n, nb), unit) * unit
}

// matMul is MatMul (trans false) or MatMulT (trans true) under cfg: B is
// wrapped in a pooled PackedB whose panels the workers pack on first use
// (see PackedB.ready), and the product done by matMulPacked.
func (cfg config) matMul(m, n, k int, a []float32, lda int, b []float32, ldb int, trans bool, c []float32, ldc int, accumulate bool) {
	checkDims("A", a, m, k, lda)
	if trans {
		checkDims("B", b, n, k, ldb)
	} else {
		checkDims("B", b, k, n, ldb)
	}
	checkDims("C", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	pb := cfg.lazyB(k, n, b, ldb, trans)
	cfg.matMulPacked(m, a, lda, pb, c, ldc, accumulate)
	putBuf(pb.buf)
}

// matMulPacked computes C (+)= A·B with B packed. A is m x pb.k, C m x pb.n.
func (cfg config) matMulPacked(m int, a []float32, lda int, pb *PackedB, c []float32, ldc int, accumulate bool) {
	cfg.matMulPackedEp(m, a, lda, pb, c, ldc, &Epilogue{Accumulate: accumulate})
}

// matMulPackedEp computes C = A·B (+ C if ep.Accumulate) with B packed,
// then the rest of the epilogue ep on each finished tile.
func (cfg config) matMulPackedEp(m int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	checkDims("A", a, m, pb.k, lda)
	cfg.matMulSrc(m, aSource{a: a, lda: lda}, pb, c, ldc, ep)
}

// aSource is the A operand of a product: a row-major matrix (a, lda), or,
// when gather is set, rows produced on demand.
type aSource struct {
	a      []float32
	lda    int
	gather RowGather
}

// matMulSrc is matMulPackedEp for any A source.
func (cfg config) matMulSrc(m int, src aSource, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	k, n := pb.k, pb.n
	accumulate := ep.Accumulate
	if ep.empty() {
		ep = nil
	}
	checkDims("C", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		if ep != nil {
			for i := 0; i < m; i++ {
				for j := 0; j < n; j += pb.kern.nr {
					ep.apply(c, ldc, i, j, 1, min(pb.kern.nr, n-j), false)
				}
			}
		}
		return
	}
	kern := pb.kern
	tiles, panels := ceilDiv(m, kern.mr), ceilDiv(n, kern.nr)
	t := cfg.workers(2 * float64(m) * float64(n) * float64(k))
	if t == 1 {
		// One goroutine: no chunking, no closures.
		cfg.gemmRange(0, m, 0, panels, 0, src, pb, c, ldc, accumulate, ep)
		return
	}
	tr, tc := grid(t, tiles, panels, kern.mr, kern.nr, k)
	if tc == 1 {
		// Rows only: a share per worker, taken one A block at a time,
		// and the rest of a slow worker's share taken over.
		forRowShares(t, tiles, max(cfg.mcMax(balancedBlock(k, cfg.kcMax(), 1))/kern.mr, 1), func(w, t0, t1 int) {
			cfg.gemmRange(t0*kern.mr, min(t1*kern.mr, m), 0, panels, w*panels/t, src, pb, c, ldc, accumulate, ep)
		})
		return
	}
	parallel(tr*tc, func(w int) {
		ri, ci := w/tc, w%tc
		i0, i1 := ri*tiles/tr*kern.mr, min((ri+1)*tiles/tr*kern.mr, m)
		q0, q1 := ci*panels/tc, (ci+1)*panels/tc
		cfg.gemmRange(i0, i1, q0, q1, ri*(q1-q0)/tr, src, pb, c, ldc, accumulate, ep)
	})
}

// gemmRange computes rows [i0, i1) and column panels [q0, q1) of C: the
// BLIS loops around the micro-kernel for one worker. The panels are visited
// starting at q0+rot and wrapping around, so that workers sharing the same
// columns start on different panels (and pack different ones, when B is
// packed lazily); the order does not change any result. A non-nil ep is
// applied to each column panel of an mc block right after its last k
// block, while it is in cache (L1/L2).
func (cfg config) gemmRange(i0, i1, q0, q1, rot int, src aSource, pb *PackedB, c []float32, ldc int, accumulate bool, ep *Epilogue) {
	kern, k, n := pb.kern, pb.k, pb.n
	mr, nr := kern.mr, kern.nr
	kc := balancedBlock(k, cfg.kcMax(), 1)
	mc := balancedBlock(i1-i0, max(mr, cfg.mcMax(kc)/mr*mr), mr)
	// The packed A block, then one mr x nr scratch tile for the partial
	// tiles at the edges (a local array would escape to the heap: the
	// kernel is called through a func value).
	abuf := getBuf(mc*kc + 16*64)
	defer putBuf(abuf)
	ap, tile := abuf.view[:mc*kc], abuf.view[mc*kc:]
	a, lda := src.a, src.lda
	var stage []float32 // gathered rows of one micro-panel, in L1/L2
	if src.gather != nil {
		sbuf := getBuf(mr * kc)
		defer putBuf(sbuf)
		stage = sbuf.view
	}
	for ic := i0; ic < i1; ic += mc {
		mcb := min(mc, i1-ic)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			for ir := 0; ir < mcb; ir += mr {
				mh := min(mr, mcb-ir)
				if stage != nil {
					src.gather(stage[:mh*kcb], ic+ir, mh, pc, kcb)
					packT(mh, kcb, stage, kcb, ap[ir*kcb:], mr)
					continue
				}
				packT(mh, kcb, a[(ic+ir)*lda+pc:], lda, ap[ir*kcb:], mr)
			}
			acc := accumulate || pc > 0
			last := ep != nil && pc+kcb == k
			for qi := 0; qi < q1-q0; qi++ {
				q := q0 + (qi+rot)%(q1-q0)
				pb.ready(q, pc, pc+kcb)
				bp := &pb.data[(q*k+pc)*nr]
				j := q * nr
				nw := min(nr, n-j)
				var bnext []float32 // the B micro-panel used after this one
				if kern.next != nil {
					nq, npc := q0+(qi+1+rot)%(q1-q0), pc
					if qi+1 == q1-q0 {
						npc = pc + kc
						if npc >= k {
							npc = 0
						}
					}
					bnext = pb.data[(nq*k+npc)*nr : (nq*k+npc+min(kc, k-npc))*nr]
				}
				// With four full row tiles or more and a quarter kernel,
				// the last four fetch a quarter of the next panel each
				// (quarter tiles [q4, q4+4)) and the others prefetch
				// nothing; otherwise every full tile prefetches all of it.
				q4 := -1
				if full := mcb / mr; kern.nextQuarter != nil && full >= 4 {
					q4 = full - 4
				}
				for ir := 0; ir < mcb; ir += mr {
					mh := min(mr, mcb-ir)
					if mh == mr && nw == nr && bnext != nil {
						switch ti := ir / mr; {
						case q4 < 0:
							kern.next(kcb, &ap[ir*kcb], bp, &c[(ic+ir)*ldc+j], ldc, acc, &bnext[0])
						case ti >= q4:
							kern.nextQuarter(kcb, &ap[ir*kcb], bp, &c[(ic+ir)*ldc+j], ldc, acc, &bnext[(ti-q4)*len(bnext)/4])
						default:
							kern.fn(kcb, &ap[ir*kcb], bp, &c[(ic+ir)*ldc+j], ldc, acc)
						}
						continue
					}
					fn, rowsOK := kern.fn, mh == mr
					if mh < mr && kern.rows != nil {
						fn, rowsOK = kern.rows[mh], true // writes only the mh valid rows
					}
					if rowsOK && nw == nr {
						fn(kcb, &ap[ir*kcb], bp, &c[(ic+ir)*ldc+j], ldc, acc)
						continue
					}
					fn(kcb, &ap[ir*kcb], bp, &tile[0], nr, false)
					for i := 0; i < mh; i++ {
						ci := c[(ic+ir+i)*ldc+j : (ic+ir+i)*ldc+j+nw]
						ti := tile[i*nr : i*nr+nw]
						if acc {
							for jj, v := range ti {
								ci[jj] += v
							}
						} else {
							copy(ci, ti)
						}
					}
				}
				if last {
					// The mcb x nw block of C just finished is in L1/L2.
					ep.apply(c, ldc, ic, j, mcb, nw, true)
				}
			}
		}
	}
}
