package gemm

import (
	"runtime"
	"sync/atomic"
)

// PackedB is the B operand of C = A·B packed once for the micro-kernel, for
// a B that is used many times: the weights of a linear or convolution layer,
// a memory bank. It is read-only after packing, so one PackedB can serve
// concurrent MatMulPacked calls. It is tied to the kernel chosen at start-up.
type PackedB struct {
	k, n int
	kern *kernel
	// data holds ceil(n/nr) panels of nr columns; panel q, row p starts at
	// (q*k+p)*nr. Columns past n are zero.
	data []float32
	buf  *buffer  // the pooled storage behind data, for internal temporaries
	lazy *lazySrc // non-nil when panels are packed on first use
}

// lazySrc is the unpacked B behind a PackedB made by MatMul / MatMulT: the
// first worker that needs a unit of it packs it (others needing it meanwhile
// wait), so packing is spread over the workers without a separate phase
// and a unit is still in cache when the kernel first reads it. A unit is
// group adjacent panels by kc rows of B (kernel.lazyGroup; kc = k, whole
// panels, for the kernels without it).
type lazySrc struct {
	b         []float32
	ldb       int
	trans     bool
	group, kc int             // panels and rows of B per unit
	kblocks   int             // ceil(k / kc)
	state     []atomic.Uint32 // per unit: 0 not packed, 1 being packed, 2 packed
}

// ready makes sure rows [p0, p1) of panel q are packed. The atomic state
// gives the reader a happens-before edge from the packing worker's writes.
func (pb *PackedB) ready(q, p0, p1 int) {
	l := pb.lazy
	if l == nil {
		return
	}
	for kb := p0 / l.kc; kb*l.kc < p1; kb++ {
		g := q / l.group
		st := &l.state[g*l.kblocks+kb]
		if st.Load() == 2 {
			continue
		}
		if st.CompareAndSwap(0, 1) {
			pb.packUnit(g*l.group, min(g*l.group+l.group, ceilDiv(pb.n, pb.kern.nr)), kb*l.kc, min(kb*l.kc+l.kc, pb.k))
			st.Store(2)
			continue
		}
		for st.Load() != 2 {
			runtime.Gosched()
		}
	}
}

// packUnit packs rows [p0, p1) of panels [q0, q1) of the lazy B: the full
// 16-wide panels of B (not transposed) in one pass over its rows
// (copy16Group), any other panel alone.
func (pb *PackedB) packUnit(q0, q1, p0, p1 int) {
	l := pb.lazy
	k, n, nr := pb.k, pb.n, pb.kern.nr
	full := q0 // panels [q0, full) go through copy16Group
	if !l.trans && nr == 16 && q1-q0 > 1 {
		full = min(q1, n/nr)
	}
	if full > q0 {
		copy16Group(p1-p0, full-q0, l.b[p0*l.ldb+q0*nr:], l.ldb, pb.data[(q0*k+p0)*nr:], k*nr)
	}
	for q := full; q < q1; q++ {
		pb.packPanelRows(q, p0, p1, l.b, l.ldb, l.trans)
	}
}

// K is the depth (rows of B, columns of A).
func (pb *PackedB) K() int { return pb.k }

// N is the number of columns of B (and of C).
func (pb *PackedB) N() int { return pb.n }

// PackB packs B, k x n row-major with leading dimension ldb, for
// MatMulPacked(…) = A·B.
func PackB(k, n int, b []float32, ldb int) *PackedB {
	checkDims("B", b, k, n, ldb)
	return defaultConfig().packB(k, n, b, ldb, false, false)
}

// PackBT packs Bᵀ where B is n x k row-major (ldb), for MatMulPacked(…) =
// A·Bᵀ: the layout of a PyTorch nn.Linear weight [out, in].
func PackBT(k, n int, b []float32, ldb int) *PackedB {
	checkDims("B", b, n, k, ldb)
	return defaultConfig().packB(k, n, b, ldb, true, false)
}

// PackBTemp is PackB with its storage taken from the package's buffer pool,
// for an operand that serves a few products only (the values of one
// attention head): call Release when done, so the next one reuses the
// memory instead of allocating and zeroing a new one.
func PackBTemp(k, n int, b []float32, ldb int) *PackedB {
	checkDims("B", b, k, n, ldb)
	return defaultConfig().packB(k, n, b, ldb, false, true)
}

// PackBTTemp is PackBT with pooled storage, as PackBTemp (the keys of one
// attention head).
func PackBTTemp(k, n int, b []float32, ldb int) *PackedB {
	checkDims("B", b, n, k, ldb)
	return defaultConfig().packB(k, n, b, ldb, true, true)
}

// Release gives the storage of a PackBTemp or PackBTTemp result back to the
// pool; pb must not be used afterwards. It does nothing for PackB and
// PackBT results, whose storage the garbage collector owns.
func (pb *PackedB) Release() {
	if pb.buf != nil && pb.lazy == nil {
		putBuf(pb.buf)
		pb.buf, pb.data = nil, nil
	}
}

// MatMulPacked computes C = A·B, or C += A·B when accumulate is true, with B
// packed by PackB or PackBT. A is m x pb.K() (lda), C is m x pb.N() (ldc).
func MatMulPacked(m int, a []float32, lda int, pb *PackedB, c []float32, ldc int, accumulate bool) {
	defaultConfig().matMulPacked(m, a, lda, pb, c, ldc, accumulate)
}

// packB packs B (k x n, or n x k when trans) for cfg.kern, in parallel over
// panels. pooled takes the storage from the buffer pool (the caller must
// putBuf(pb.buf)); otherwise it is a fresh allocation owned by the result.
func (cfg config) packB(k, n int, b []float32, ldb int, trans, pooled bool) *PackedB {
	kern := cfg.kern
	nr := kern.nr
	panels := ceilDiv(n, nr)
	pb := &PackedB{k: k, n: n, kern: kern}
	size := panels * k * nr
	if pooled {
		pb.buf = getBuf(size)
		pb.data = pb.buf.view
	} else {
		pb.data = alignedSlice(make([]float32, size+16), size)
	}
	if size == 0 {
		pb.data = make([]float32, 1) // kernels take &data[0]
		return pb
	}
	// Packing is memory-bound: 2 workers help only for large operands.
	t := min(cfg.workers(64*float64(size)), panels)
	parallel(t, func(w int) {
		for q := w * panels / t; q < (w+1)*panels/t; q++ {
			pb.packPanel(q, b, ldb, trans)
		}
	})
	return pb
}

// lazyB wraps B (k x n, or n x k when trans) in a PackedB with pooled
// storage whose panels are packed on first use, in units of kc rows (the
// driver's k block) when the kernel groups panels; the caller must
// putBuf(pb.buf) when done.
func (cfg config) lazyB(k, n int, b []float32, ldb int, trans bool) *PackedB {
	nr := cfg.kern.nr
	panels := ceilDiv(n, nr)
	pb := &PackedB{k: k, n: n, kern: cfg.kern, buf: getBuf(max(panels*k*nr, 1))}
	pb.data = pb.buf.view
	group, kc := 1, max(k, 1)
	if cfg.kern.lazyGroup > 1 {
		group, kc = cfg.kern.lazyGroup, balancedBlock(k, cfg.kcMax(), 1)
	}
	kblocks := ceilDiv(max(k, 1), kc)
	pb.lazy = &lazySrc{b: b, ldb: ldb, trans: trans, group: group, kc: kc, kblocks: kblocks,
		state: make([]atomic.Uint32, ceilDiv(panels, group)*kblocks)}
	return pb
}

// packPanel packs panel q (columns q*nr ... q*nr+nr-1 of B, all k rows).
func (pb *PackedB) packPanel(q int, b []float32, ldb int, trans bool) {
	pb.packPanelRows(q, 0, pb.k, b, ldb, trans)
}

// packPanelRows packs rows [p0, p1) of panel q.
func (pb *PackedB) packPanelRows(q, p0, p1 int, b []float32, ldb int, trans bool) {
	k, n, nr := pb.k, pb.n, pb.kern.nr
	j := q * nr
	nw := min(nr, n-j)
	dst := pb.data[q*k*nr : (q+1)*k*nr]
	if trans {
		// Transposing in chunks of 256 columns of B keeps the destination
		// (256 x nr floats) in L1/L2 while nr source rows are read
		// sequentially.
		for p := p0; p < p1; p += 256 {
			kb := min(256, p1-p)
			packT(nw, kb, b[j*ldb+p:], ldb, dst[p*nr:], nr)
		}
	} else {
		packN(p1-p0, nw, b[p0*ldb+j:], ldb, dst[p0*nr:], nr)
	}
}

// MatMulPackedSerial is MatMulPacked on the calling goroutine alone, for
// callers that already keep every core busy with independent products
// (attention heads), where splitting each small product again would only
// add synchronisation.
func MatMulPackedSerial(m int, a []float32, lda int, pb *PackedB, c []float32, ldc int, accumulate bool) {
	cfg := defaultConfig()
	cfg.threads = 1
	cfg.matMulPacked(m, a, lda, pb, c, ldc, accumulate)
}
