package gemm

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
	buf  *buffer // the pooled storage behind data, for internal temporaries
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
			j := q * nr
			nw := min(nr, n-j)
			dst := pb.data[q*k*nr : (q+1)*k*nr]
			if trans {
				// Transposing in chunks of 256 columns of B keeps the
				// destination (256 x nr floats) in L1/L2 while nr source rows
				// are read sequentially.
				for p := 0; p < k; p += 256 {
					kb := min(256, k-p)
					packT(nw, kb, b[j*ldb+p:], ldb, dst[p*nr:], nr)
				}
			} else {
				packN(k, nw, b[j:], ldb, dst, nr)
			}
		}
	})
	return pb
}
