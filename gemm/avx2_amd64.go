//go:build !noasm

package gemm

import "github.com/anomclust/anomclust/internal/isa"

// haveAVX2 reports whether the AVX2 (+FMA) routines of this file may run:
// the CPU has them and ANOMCLUST_ISA does not lower the level below avx2.
// The AVX2 micro-kernel's tile is 6x16 (kernelAVX2); these routines pack
// its operands and finish its tiles. The AVX-512 paths (kernel14x32,
// transpose16x16, copy32, epilogue32, rowMinAVX512) take precedence where
// they apply.
var haveAVX2 = isa.Has(isa.AVX2)

// packA6AVX2 is packA6Go in AVX2 (pack_avx2_amd64.s), cols a positive
// multiple of 8.
//
//go:noescape
func packA6AVX2(cols int, src *float32, ld int, dst *float32)

// transpose8x8AVX2 is transpose8x8Go in AVX2.
//
//go:noescape
func transpose8x8AVX2(src *float32, ld int, dst *float32, ldd int)

// copy16AVX2 is copy16Go in AVX2, rows positive.
//
//go:noescape
func copy16AVX2(rows int, src *float32, ld int, dst *float32)

// copy16GroupAVX2 is copy16GroupGo in AVX2, rows and groups positive.
//
//go:noescape
func copy16GroupAVX2(rows, groups int, src *float32, ld int, dst *float32, dstride int)

// rowMinAVX2 is rowMin in AVX2+FMA (nn_avx2_amd64.s).
//
//go:noescape
func rowMinAVX2(n int, c, norms *float32) (v float32, j int)

// epilogueAVX2 is epilogue32 in AVX2 for rows of cols floats, cols a
// positive multiple of 8 (epilogue_avx2_amd64.s).
//
//go:noescape
func epilogueAVX2(rows, cols int, c *float32, ldc int, bias, res *float32, ldr int, mode int)

// packA6 packs a full 6-row A micro-panel of the AVX2 kernel:
// dst[p*6+i] = src[i*ld+p] for i < 6, p < cols.
func packA6(cols int, src []float32, ld int, dst []float32) {
	if haveAVX2 && cols >= 8 {
		c8 := cols &^ 7
		_ = src[5*ld+c8-1] // packA6AVX2 reads this far
		_ = dst[6*c8-1]    // and writes this far
		packA6AVX2(c8, &src[0], ld, &dst[0])
		packA6Go(cols-c8, src[c8:], ld, dst[6*c8:])
		return
	}
	packA6Go(cols, src, ld, dst)
}

// transpose8x8 transposes one 8x8 block: dst[p*ldd+i] = src[i*ld+p].
func transpose8x8(src []float32, ld int, dst []float32, ldd int) {
	if haveAVX2 {
		_ = src[7*ld+7]
		_ = dst[7*ldd+7]
		transpose8x8AVX2(&src[0], ld, &dst[0], ldd)
		return
	}
	transpose8x8Go(src, ld, dst, ldd)
}

// copy16 copies rows rows of 16 floats: dst[p*16+j] = src[p*ld+j].
func copy16(rows int, src []float32, ld int, dst []float32) {
	if haveAVX2 && rows > 0 {
		_ = src[(rows-1)*ld+15]
		_ = dst[rows*16-1]
		copy16AVX2(rows, &src[0], ld, &dst[0])
		return
	}
	copy16Go(rows, src, ld, dst)
}

// copy16Group packs groups adjacent 16-column panels in one pass:
// dst[q*dstride+p*16+j] = src[p*ld+q*16+j] for p < rows, q < groups, j < 16.
func copy16Group(rows, groups int, src []float32, ld int, dst []float32, dstride int) {
	if haveAVX2 && rows > 0 && groups > 0 {
		_ = src[(rows-1)*ld+16*groups-1] // copy16GroupAVX2 reads this far
		_ = dst[(groups-1)*dstride+rows*16-1]
		copy16GroupAVX2(rows, groups, &src[0], ld, &dst[0], dstride)
		return
	}
	copy16GroupGo(rows, groups, src, ld, dst, dstride)
}
