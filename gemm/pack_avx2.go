package gemm

// Go twins of the AVX2 packing routines (pack_avx2_amd64.s), used on every
// CPU without them and as their test reference.

// packA6Go is the Go twin of packA6AVX2: dst[p*6+i] = src[i*ld+p] for
// i < 6, p < cols, column by column (six sequential streams, 24
// contiguous bytes written per step).
func packA6Go(cols int, src []float32, ld int, dst []float32) {
	if cols <= 0 {
		return
	}
	r0, r1, r2 := src[:cols], src[ld:][:cols], src[2*ld:][:cols]
	r3, r4, r5 := src[3*ld:][:cols], src[4*ld:][:cols], src[5*ld:][:cols]
	dst = dst[:cols*6]
	for p := range r0 {
		d := dst[p*6 : p*6+6 : p*6+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// transpose8x8Go is the Go twin of transpose8x8AVX2:
// dst[p*ldd+i] = src[i*ld+p] for i, p < 8.
func transpose8x8Go(src []float32, ld int, dst []float32, ldd int) {
	for i := 0; i < 8; i++ {
		row := src[i*ld : i*ld+8]
		for p, v := range row {
			dst[p*ldd+i] = v
		}
	}
}

// copy16Go is the Go twin of copy16AVX2: dst[p*16+j] = src[p*ld+j] for
// p < rows, j < 16.
func copy16Go(rows int, src []float32, ld int, dst []float32) {
	for p := 0; p < rows; p++ {
		copy(dst[p*16:p*16+16], src[p*ld:p*ld+16])
	}
}

// copy16GroupGo is the Go twin of copy16GroupAVX2: groups adjacent
// 16-column panels packed in one pass, dst[q*dstride+p*16+j] =
// src[p*ld+q*16+j] for p < rows, q < groups, j < 16.
func copy16GroupGo(rows, groups int, src []float32, ld int, dst []float32, dstride int) {
	for p := 0; p < rows; p++ {
		row := src[p*ld : p*ld+16*groups]
		for q := 0; q < groups; q++ {
			copy(dst[q*dstride+p*16:q*dstride+p*16+16], row[q*16:q*16+16])
		}
	}
}
