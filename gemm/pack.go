package gemm

import (
	"math/bits"
	"sync"
)

// packT packs a w-wide stripe of rows for a kernel that wants them as
// columns: dst[p*w+i] = src[i*ld+p] for i < rows, p < cols, and zero for
// rows <= i < w (the padding of a partial tile). It packs A micro-panels
// (w = mr) and, for C = A·Bᵀ, B micro-panels (w = nr).
func packT(rows, cols int, src []float32, ld int, dst []float32, w int) {
	if rows == 14 && w == 14 {
		packT14(cols, src, ld, dst)
		return
	}
	if rows == 6 && w == 6 {
		packA6(cols, src, ld, dst)
		return
	}
	dst = dst[:cols*w]
	i := 0
	if haveTranspose {
		// Blocks of 16 rows x 16 columns through the AVX-512 transpose,
		// then the leftover columns of those rows one by one.
		for ; i+16 <= rows; i += 16 {
			p := 0
			for ; p+16 <= cols; p += 16 {
				transpose16x16(&src[i*ld+p], ld, &dst[p*w+i], w)
			}
			for ; p < cols; p++ {
				for r := i; r < i+16; r++ {
					dst[p*w+r] = src[r*ld+p]
				}
			}
		}
	}
	if haveAVX2 && !haveTranspose {
		// Blocks of 8 rows x 8 columns through the AVX2 transpose (the B
		// panels of C = A·Bᵀ for the 16-wide AVX2 kernel); the leftover
		// columns go through the loop below.
		c8 := cols &^ 7
		if c8 > 0 {
			for ; i+8 <= rows; i += 8 {
				for p := 0; p < c8; p += 8 {
					transpose8x8(src[i*ld+p:], ld, dst[p*w+i:], w)
				}
				for p := c8; p < cols; p++ {
					for r := i; r < i+8; r++ {
						dst[p*w+r] = src[r*ld+p]
					}
				}
			}
		}
	}
	// Eight rows at a time: each step writes 32 contiguous bytes.
	for ; i+8 <= rows; i += 8 {
		r0, r1, r2, r3 := src[i*ld:][:cols], src[(i+1)*ld:][:cols], src[(i+2)*ld:][:cols], src[(i+3)*ld:][:cols]
		r4, r5, r6, r7 := src[(i+4)*ld:][:cols], src[(i+5)*ld:][:cols], src[(i+6)*ld:][:cols], src[(i+7)*ld:][:cols]
		for p := 0; p < cols; p++ {
			d := dst[p*w+i : p*w+i+8 : p*w+i+8]
			d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p], r7[p]
		}
	}
	for ; i < rows; i++ {
		row := src[i*ld : i*ld+cols]
		d := dst[i:]
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

// packT14 is packT for a full 14-row micro-panel of the AVX-512 kernel:
// column by column, so each step reads 14 sequential streams and writes 56
// contiguous bytes.
func packT14(cols int, src []float32, ld int, dst []float32) {
	// Re-slicing to [:cols] gives every row the same known length, so the
	// loop below runs without bounds checks on the rows.
	r0, r1, r2, r3 := src[:cols], src[ld:][:cols], src[2*ld:][:cols], src[3*ld:][:cols]
	r4, r5, r6, r7 := src[4*ld:][:cols], src[5*ld:][:cols], src[6*ld:][:cols], src[7*ld:][:cols]
	r8, r9, r10, r11 := src[8*ld:][:cols], src[9*ld:][:cols], src[10*ld:][:cols], src[11*ld:][:cols]
	r12, r13 := src[12*ld:][:cols], src[13*ld:][:cols]
	dst = dst[:cols*14]
	p := 0
	if haveTranspose {
		for ; p+16 <= cols; p += 16 {
			transpose16x14(&r0[p], ld, &dst[p*14], 14)
		}
	}
	for ; p < cols; p++ {
		d := dst[p*14 : p*14+14 : p*14+14]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p]
		d[7], d[8], d[9], d[10], d[11], d[12], d[13] = r7[p], r8[p], r9[p], r10[p], r11[p], r12[p], r13[p]
	}
}

// packN packs a w-wide stripe of columns: dst[p*w+j] = src[p*ld+j] for
// j < cols, p < rows, zero for cols <= j < w. It packs the B micro-panels of
// C = A·B (B row-major k x n).
func packN(rows, cols int, src []float32, ld int, dst []float32, w int) {
	dst = dst[:rows*w]
	if haveTranspose && w == 32 && cols == 32 && rows > 0 {
		_ = src[(rows-1)*ld+31] // copy32 reads this far
		copy32(rows, &src[0], ld, &dst[0])
		return
	}
	if w == 16 && cols == 16 {
		copy16(rows, src, ld, dst)
		return
	}
	for p := 0; p < rows; p++ {
		d := dst[p*w : p*w+w]
		copy(d, src[p*ld:p*ld+cols])
		clear(d[cols:])
	}
}

// bufPools recycle the packing buffers (packed A blocks, packed B for the
// unpacked entry points, NN tile buffers) so that repeated calls of the same
// shape allocate nothing and reuse memory that is already mapped and cached.
// Pool c holds buffers of 2^c floats (plus alignment slack): one pool per
// size class, so that a request for a large packed B never receives a small
// A buffer (and drops it) or the reverse.
var bufPools [48]sync.Pool

// buffer is a pooled allocation; view is its 64-byte aligned part in use.
type buffer struct {
	class int
	raw   []float32
	view  []float32
}

// getBuf returns a buffer whose view holds n floats (contents undefined),
// starting on a 64-byte boundary (one zmm load, one cache line).
func getBuf(n int) *buffer {
	class := bits.Len(uint(max(n, 1) - 1))
	b, _ := bufPools[class].Get().(*buffer)
	if b == nil {
		b = &buffer{class: class, raw: make([]float32, 1<<class+16)}
	}
	b.view = alignedSlice(b.raw, n)
	return b
}

// putBuf gives a buffer back to its pool.
func putBuf(b *buffer) { bufPools[b.class].Put(b) }
