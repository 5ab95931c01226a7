package gemm

import (
	"fmt"
	"math"
	"unsafe"
)

// nnPanels is the number of bank panels (nr points each) per block of the
// fused nearest-neighbour loop: the tile buffer is then mc x 256 floats.
const nnPanels = 8

// nnABytes bounds the packed A rows of one NN block (all of d): they are
// reused against every block of the bank, so they should stay in L2.
const nnABytes = 512 << 10

// nnRowsMax caps the rows of an NN block so that the tile buffer (nnRowsMax
// x 256 floats = 128 KiB) also stays in L2 next to A when d is small.
const nnRowsMax = 128

// NearestDistances computes, for every row a_i of A (m x d), the Euclidean
// distance to its nearest row of B (n x d) and that row's index:
// minDist[i] = min_j ||a_i - b_j||, argMin[i] = the smallest such j.
// A and B are dense (leading dimension d). argMin may be nil.
//
// The distances come from ||a||² + ||b||² - 2a·b with the GEMM kernel
// (clamped at 0 before the square root); see NearestDistancesPacked for the
// accuracy this gives. Ties are decided on the computed values: exact
// duplicates of a point tie exactly and give the smallest index, while two
// points whose true distances differ by less than the rounding bound may
// come out in either order. When n == 0, minDist is +Inf and argMin -1.
func NearestDistances(m, n, d int, a, b []float32, minDist []float32, argMin []int32) {
	cfg := defaultConfig()
	checkDims("B", b, n, d, d)
	bank := cfg.packBank(n, d, b, d, true)
	cfg.nearestPacked(m, a, d, bank, minDist, argMin)
	putBuf(bank.b.buf)
}

// PackedBank is a memory bank B (n points of dimension d) packed once for
// NearestDistancesPacked, with its squared norms. Read-only after packing.
type PackedBank struct {
	b     *PackedB  // Bᵀ packed for A·Bᵀ: k = d, n = points
	norms []float32 // ||b_j||², one per point
}

// Len is the number of points in the bank.
func (pb *PackedBank) Len() int { return pb.b.n }

// Dim is the dimension of the points.
func (pb *PackedBank) Dim() int { return pb.b.k }

// PackBank packs the n x d row-major points B (leading dimension ldb) as a
// memory bank for repeated nearest-neighbour queries.
func PackBank(n, d int, b []float32, ldb int) *PackedBank {
	checkDims("B", b, n, d, ldb)
	return defaultConfig().packBank(n, d, b, ldb, false)
}

// NearestDistancesPacked is NearestDistances against a packed bank: for each
// row a_i of A (m x bank.Dim(), leading dimension lda), minDist[i] =
// min_j ||a_i - b_j|| and argMin[i] the smallest such j (argMin may be nil).
//
// Accuracy: the squared distance is ||a||² + ||b||² - 2a·b in float32, whose
// error is bounded by about 2·d·eps·(||a||² + ||b||²) (eps = 2⁻²⁴): for
// nearly equal points the cancellation makes the relative error of a small
// distance large, as with torch.cdist's matmul path. Exact duplicates of a
// point tie exactly and give the smallest index.
func NearestDistancesPacked(m int, a []float32, lda int, bank *PackedBank, minDist []float32, argMin []int32) {
	defaultConfig().nearestPacked(m, a, lda, bank, minDist, argMin)
}

func (cfg config) packBank(n, d int, b []float32, ldb int, pooled bool) *PackedBank {
	bank := &PackedBank{b: cfg.packB(d, n, b, ldb, true, pooled), norms: make([]float32, n)}
	for j := range bank.norms {
		bank.norms[j] = sqNorm(b[j*ldb : j*ldb+d])
	}
	return bank
}

// sqNorm is Σ x².
func sqNorm(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v * v
	}
	return s
}

// nearestPacked splits the rows (and, for few rows, the bank) over workers;
// each column group keeps its own running minima, merged in column order so
// that ties still go to the smallest index.
func (cfg config) nearestPacked(m int, a []float32, lda int, bank *PackedBank, minDist []float32, argMin []int32) {
	pb := bank.b
	d, n := pb.k, pb.n
	checkDims("A", a, m, d, lda)
	if len(minDist) < m || argMin != nil && len(argMin) < m {
		panic(fmt.Sprintf("gemm: NearestDistances: %d rows but minDist has %d, argMin %d", m, len(minDist), len(argMin)))
	}
	if m == 0 {
		return
	}
	if n == 0 || d == 0 {
		// No points: +Inf and -1. Zero-dimensional points: all at distance 0.
		dist, j := float32(math.Inf(1)), int32(-1)
		if n > 0 {
			dist, j = 0, 0
		}
		for i := 0; i < m; i++ {
			minDist[i] = dist
			if argMin != nil {
				argMin[i] = j
			}
		}
		return
	}
	kern := pb.kern
	tiles, panels := ceilDiv(m, kern.mr), ceilDiv(n, kern.nr)
	t := cfg.workers(2 * float64(m) * float64(n) * float64(d))
	tr, tc := grid(t, tiles, panels, kern.mr, kern.nr, d)
	// best[g*m+i], bestJ[g*m+i]: running minimum of ||b_j||² - 2a_i·b_j over
	// column group g, and its index.
	best := make([]float32, tc*m)
	bestJ := make([]int32, tc*m)
	if tc == 1 {
		// As in matMulSrc: a share of the rows per worker, one A block
		// (one pass over the bank) at a time, the rest of a slow worker's
		// share taken over (docs/PERF.md: 1-9% by CPU time at d = 1024).
		forRowShares(t, tiles, max(cfg.nnMaxRows(d)/kern.mr, 1), func(_, t0, t1 int) {
			cfg.nnRange(t0*kern.mr, min(t1*kern.mr, m), 0, panels, a, lda, bank, best, bestJ)
		})
	} else {
		parallel(tr*tc, func(w int) {
			ri, ci := w/tc, w%tc
			i0, i1 := ri*tiles/tr*kern.mr, min((ri+1)*tiles/tr*kern.mr, m)
			q0, q1 := ci*panels/tc, (ci+1)*panels/tc
			cfg.nnRange(i0, i1, q0, q1, a, lda, bank, best[ci*m:ci*m+m], bestJ[ci*m:ci*m+m])
		})
	}
	for i := 0; i < m; i++ {
		bv, bj := best[i], bestJ[i]
		for g := 1; g < tc; g++ {
			if v := best[g*m+i]; v < bv {
				bv, bj = v, bestJ[g*m+i]
			}
		}
		d2 := sqNorm(a[i*lda:i*lda+d]) + bv
		minDist[i] = float32(math.Sqrt(float64(max(d2, 0))))
		if argMin != nil {
			argMin[i] = bj
		}
	}
}

// nnMaxRows is the number of rows of A packed at once (all d columns) by
// the fused NN kernel: nnABytes of them, unless cfg.mc overrides it.
func (cfg config) nnMaxRows(d int) int {
	if cfg.mc > 0 {
		return cfg.mc
	}
	return min(nnRowsMax, nnABytes/4/d)
}

// nnRange is one worker of the fused kernel: rows [i0, i1) of A against
// panels [q0, q1) of the bank. For each block of mc rows it packs A once
// (all of d), then for each block of nnPanels panels runs the GEMM loops into
// a tile buffer and immediately folds the buffer into best/bestJ.
func (cfg config) nnRange(i0, i1, q0, q1 int, a []float32, lda int, bank *PackedBank, best []float32, bestJ []int32) {
	pb := bank.b
	kern, d, n := pb.kern, pb.k, pb.n
	mr, nr := kern.mr, kern.nr
	kc := balancedBlock(d, cfg.kcMax(), 1)
	mc := balancedBlock(i1-i0, max(mr, cfg.nnMaxRows(d)/mr*mr), mr)
	nb := nnPanels * nr
	abuf, cbuf := getBuf(mc*d), getBuf(mc*nb)
	defer putBuf(abuf)
	defer putBuf(cbuf)
	ap, cp := abuf.view, cbuf.view
	for ic := i0; ic < i1; ic += mc {
		mcb := min(mc, i1-ic)
		mcPad := ceilDiv(mcb, mr) * mr
		// Packed A: for each k block pc, the mcPad x kcb block at pc*mcPad,
		// micro-panels of mr rows inside (zero rows pad the last one).
		for pc := 0; pc < d; pc += kc {
			kcb := min(kc, d-pc)
			for ir := 0; ir < mcb; ir += mr {
				packT(min(mr, mcb-ir), kcb, a[(ic+ir)*lda+pc:], lda, ap[pc*mcPad+ir*kcb:], mr)
			}
		}
		for i := ic; i < ic+mcb; i++ {
			best[i], bestJ[i] = float32(math.Inf(1)), -1
		}
		for qb := q0; qb < q1; qb += nnPanels {
			qe := min(qb+nnPanels, q1)
			for pc := 0; pc < d; pc += kc {
				kcb := min(kc, d-pc)
				for q := qb; q < qe; q++ {
					bp := &pb.data[(q*d+pc)*nr]
					if kern.next != nil {
						// Prefetch the B micro-panel used next (same
						// bits as kern.fn).
						nq, npc := q+1, pc
						if nq == qe {
							nq, npc = qb, pc+kc
							if npc >= d {
								nq, npc = min(qe, q1-1), 0
							}
						}
						bnext := pb.data[(nq*d+npc)*nr : (nq*d+npc+min(kc, d-npc))*nr]
						// As in gemmRange: with four tiles or more, the
						// last four fetch a quarter of the next panel each.
						q4 := -1
						if tiles := mcPad / mr; kern.nextQuarter != nil && tiles >= 4 {
							q4 = tiles - 4
						}
						for ir := 0; ir < mcb; ir += mr {
							switch ti := ir / mr; {
							case q4 < 0:
								kern.next(kcb, &ap[pc*mcPad+ir*kcb], bp, &cp[ir*nb+(q-qb)*nr], nb, pc > 0, &bnext[0])
							case ti >= q4:
								kern.nextQuarter(kcb, &ap[pc*mcPad+ir*kcb], bp, &cp[ir*nb+(q-qb)*nr], nb, pc > 0, &bnext[(ti-q4)*len(bnext)/4])
							default:
								kern.fn(kcb, &ap[pc*mcPad+ir*kcb], bp, &cp[ir*nb+(q-qb)*nr], nb, pc > 0)
							}
						}
						continue
					}
					for ir := 0; ir < mcb; ir += mr {
						kern.fn(kcb, &ap[pc*mcPad+ir*kcb], bp, &cp[ir*nb+(q-qb)*nr], nb, pc > 0)
					}
				}
			}
			// Epilogue: the block's columns, in increasing j with a strict
			// comparison, so the first (smallest) index wins a tie.
			j0 := qb * nr
			cols := min(qe*nr, n) - j0
			norms := bank.norms[j0 : j0+cols]
			vec := cols &^ 15
			for i := 0; i < mcb; i++ {
				row := cp[i*nb : i*nb+cols]
				bv, bj := best[ic+i], bestJ[ic+i]
				if vec > 0 {
					if v, j := rowMin(vec, &row[0], &norms[0]); v < bv {
						bv, bj = v, int32(j0+j)
					}
				}
				for j := vec; j < cols; j++ {
					if s := norms[j] - 2*row[j]; s < bv {
						bv, bj = s, int32(j0+j)
					}
				}
				best[ic+i], bestJ[ic+i] = bv, bj
			}
		}
	}
}

// rowMinGo is the pure-Go rowMin: the minimum over j < n of
// norms[j] - 2·c[j] and the smallest j attaining it.
func rowMinGo(n int, c, norms *float32) (v float32, j int) {
	cs, ns := unsafe.Slice(c, n), unsafe.Slice(norms, n)
	v, j = float32(math.Inf(1)), 0
	for k, x := range cs {
		if s := ns[k] - 2*x; s < v {
			v, j = s, k
		}
	}
	return v, j
}

// refNearestDistances is the plain reference for NearestDistances: direct
// differences accumulated in float64, no cancellation.
func refNearestDistances(m, n, d int, a, b []float32, minDist []float32, argMin []int32) {
	for i := 0; i < m; i++ {
		ai := a[i*d : i*d+d]
		best := math.Inf(1)
		bestJ := int32(-1)
		for j := 0; j < n; j++ {
			bj := b[j*d : j*d+d]
			var s float64
			for p := range ai {
				t := float64(ai[p] - bj[p])
				s += t * t
			}
			if s < best {
				best, bestJ = s, int32(j)
			}
		}
		minDist[i] = float32(math.Sqrt(best))
		if argMin != nil {
			argMin[i] = bestJ
		}
	}
}
