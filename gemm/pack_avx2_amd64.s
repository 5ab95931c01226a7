//go:build !noasm

#include "textflag.h"

// AVX2 packing routines for the 6x16 AVX2 kernel (twins in pack_avx2.go).

// func packA6AVX2(cols int, src *float32, ld int, dst *float32)
// dst[p*6+i] = src[i*ld+p] for i < 6, p < cols (cols a positive multiple
// of 8). Per 8 columns: the 6 rows are transposed as an 8x8 block (rows 6
// and 7 are don't-cares), and column p's 8 floats are stored at dst+24p
// in increasing p, each store's last 2 floats overwritten by the next; the
// eighth is stored as 4 + 2 floats so that nothing past the 48 floats of
// the group is written.
TEXT ·packA6AVX2(SB), NOSPLIT, $0-32
	MOVQ cols+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	MOVQ dst+24(FP), DI
	LEAQ (DX)(DX*2), R8
	LEAQ (SI)(R8*1), R9 // row 3
a6loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (R9)(DX*1), Y4
	VMOVUPS (R9)(DX*2), Y5
	VUNPCKLPS Y1, Y0, Y6  // r0 r1 interleaved, columns 0,1 | 4,5
	VUNPCKHPS Y1, Y0, Y7  // columns 2,3 | 6,7
	VUNPCKLPS Y3, Y2, Y8
	VUNPCKHPS Y3, Y2, Y9
	VUNPCKLPS Y5, Y4, Y10
	VUNPCKHPS Y5, Y4, Y11
	VSHUFPS $0x44, Y8, Y6, Y0 // rows 0-3 of column 0 | 4
	VSHUFPS $0xee, Y8, Y6, Y1 // column 1 | 5
	VSHUFPS $0x44, Y9, Y7, Y2 // column 2 | 6
	VSHUFPS $0xee, Y9, Y7, Y3 // column 3 | 7
	VSHUFPS $0x44, Y10, Y10, Y4 // rows 4-5 (twice) of column 0 | 4
	VSHUFPS $0xee, Y10, Y10, Y5
	VSHUFPS $0x44, Y11, Y11, Y6
	VSHUFPS $0xee, Y11, Y11, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 24(DI)
	VMOVUPS Y10, 48(DI)
	VMOVUPS Y11, 72(DI)
	VMOVUPS Y12, 96(DI)
	VMOVUPS Y13, 120(DI)
	VMOVUPS Y14, 144(DI)
	VMOVUPS X15, 168(DI)
	VEXTRACTF128 $1, Y15, X15
	VMOVQ X15, 184(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $192, DI
	SUBQ $8, CX
	JGT a6loop
	VZEROUPPER
	RET

// func transpose8x8AVX2(src *float32, ld int, dst *float32, ldd int)
// dst[p*ldd+i] = src[i*ld+p] for i, p < 8.
TEXT ·transpose8x8AVX2(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ ld+8(FP), DX
	SHLQ $2, DX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	SHLQ $2, BX
	LEAQ (DX)(DX*2), R8
	LEAQ (SI)(DX*4), R9 // row 4
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (SI)(R8*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(DX*1), Y5
	VMOVUPS (R9)(DX*2), Y6
	VMOVUPS (R9)(R8*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0 // rows 0-3 of column 0 | 4
	VSHUFPS $0xee, Y10, Y8, Y1 // column 1 | 5
	VSHUFPS $0x44, Y11, Y9, Y2 // column 2 | 6
	VSHUFPS $0xee, Y11, Y9, Y3 // column 3 | 7
	VSHUFPS $0x44, Y14, Y12, Y4 // rows 4-7 of column 0 | 4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	LEAQ (BX)(BX*2), R8
	LEAQ (DI)(BX*4), R9
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(BX*1)
	VMOVUPS Y10, (DI)(BX*2)
	VMOVUPS Y11, (DI)(R8*1)
	VMOVUPS Y12, (R9)
	VMOVUPS Y13, (R9)(BX*1)
	VMOVUPS Y14, (R9)(BX*2)
	VMOVUPS Y15, (R9)(R8*1)
	VZEROUPPER
	RET

// func copy16AVX2(rows int, src *float32, ld int, dst *float32)
// dst[p*16+j] = src[p*ld+j] for p < rows (positive), j < 16.
TEXT ·copy16AVX2(SB), NOSPLIT, $0-32
	MOVQ rows+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	MOVQ dst+24(FP), DI
c16loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ DX, SI
	ADDQ $64, DI
	DECQ CX
	JNZ c16loop
	VZEROUPPER
	RET

// func copy16GroupAVX2(rows, groups int, src *float32, ld int, dst *float32, dstride int)
// dst[q*dstride+p*16+j] = src[p*ld+q*16+j] for p < rows, q < groups (both
// positive), j < 16 (strides in floats): adjacent 16-column B panels of
// C = A·B packed in one pass, each row of B read as groups*64 contiguous
// bytes.
TEXT ·copy16GroupAVX2(SB), NOSPLIT, $0-48
	MOVQ rows+0(FP), CX
	MOVQ groups+8(FP), BX
	MOVQ src+16(FP), SI
	MOVQ ld+24(FP), DX
	SHLQ $2, DX
	MOVQ dst+32(FP), DI
	MOVQ dstride+40(FP), R8
	SHLQ $2, R8
c16grows:
	MOVQ SI, R9
	MOVQ DI, R10
	MOVQ BX, R11
c16gcols:
	VMOVUPS (R9), Y0
	VMOVUPS 32(R9), Y1
	VMOVUPS Y0, (R10)
	VMOVUPS Y1, 32(R10)
	ADDQ $64, R9
	ADDQ R8, R10
	DECQ R11
	JNZ c16gcols
	ADDQ DX, SI
	ADDQ $64, DI
	DECQ CX
	JNZ c16grows
	VZEROUPPER
	RET
