package gemm

import "sync"

// packT packs a w-wide stripe of rows for a kernel that wants them as
// columns: dst[p*w+i] = src[i*ld+p] for i < rows, p < cols, and zero for
// rows <= i < w (the padding of a partial tile). It packs A micro-panels
// (w = mr) and, for C = A·Bᵀ, B micro-panels (w = nr).
func packT(rows, cols int, src []float32, ld int, dst []float32, w int) {
	dst = dst[:cols*w]
	for i := 0; i < rows; i++ {
		row := src[i*ld : i*ld+cols]
		d := dst[i:]
		// Row by row keeps the reads sequential; the writes (stride w) stay
		// within the kc*w panel, which fits in L1.
		for p, v := range row {
			d[p*w] = v
		}
	}
	for i := rows; i < w; i++ {
		for p := 0; p < cols; p++ {
			dst[p*w+i] = 0
		}
	}
}

// packN packs a w-wide stripe of columns: dst[p*w+j] = src[p*ld+j] for
// j < cols, p < rows, zero for cols <= j < w. It packs the B micro-panels of
// C = A·B (B row-major k x n).
func packN(rows, cols int, src []float32, ld int, dst []float32, w int) {
	dst = dst[:rows*w]
	for p := 0; p < rows; p++ {
		d := dst[p*w : p*w+w]
		copy(d, src[p*ld:p*ld+cols])
		clear(d[cols:])
	}
}

// bufPool recycles the packing buffers (packed A blocks, packed B for the
// unpacked entry points, NN tile buffers) so that repeated calls of the same
// shape allocate nothing and reuse memory that is already mapped and cached.
var bufPool sync.Pool

// buffer is a pooled allocation; view is its 64-byte aligned part in use.
type buffer struct {
	raw  []float32
	view []float32
}

// getBuf returns a buffer whose view holds n floats (contents undefined),
// starting on a 64-byte boundary (one zmm load, one cache line).
func getBuf(n int) *buffer {
	b, _ := bufPool.Get().(*buffer)
	if b == nil || len(b.raw) < n+16 {
		// Too small buffers are dropped: the pool then converges on the
		// sizes in use.
		b = &buffer{raw: make([]float32, n+16)}
	}
	b.view = alignedSlice(b.raw, n)
	return b
}

// putBuf gives a buffer back to the pool.
func putBuf(b *buffer) { bufPool.Put(b) }
