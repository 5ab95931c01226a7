//go:build !noasm

#include "textflag.h"

// func epilogueAVX2(rows, cols int, c *float32, ldc int, bias, res *float32, ldr int, mode int)
// epilogue32 in AVX2 for rows of cols floats (cols a positive multiple of
// 8): per 8 columns, C (+ bias) (+ res), then max 0 / min 6, stored back.
TEXT ·epilogueAVX2(SB), NOSPLIT, $0-64
	MOVQ rows+0(FP), CX
	MOVQ cols+8(FP), R10
	SHLQ $2, R10
	MOVQ c+16(FP), DI
	MOVQ ldc+24(FP), R8
	SHLQ $2, R8
	MOVQ bias+32(FP), SI
	MOVQ res+40(FP), DX
	MOVQ ldr+48(FP), R9
	SHLQ $2, R9
	MOVQ mode+56(FP), AX
	TESTQ CX, CX
	JLE epdone
	// Without a bias the loop adds -0, the exact identity (x + -0 == x for
	// every x, -0 and NaN included).
	MOVL $0x80000000, BX
	VMOVD BX, X2
	VBROADCASTSS X2, Y2
	VXORPS Y4, Y4, Y4
	MOVL $0x40c00000, BX // 6.0
	VMOVD BX, X5
	VBROADCASTSS X5, Y5
eprow:
	XORQ R11, R11
epcol:
	VMOVAPS Y2, Y3
	TESTQ $1, AX
	JZ epnobias
	VMOVUPS (SI)(R11*1), Y3
epnobias:
	VADDPS (DI)(R11*1), Y3, Y0
	TESTQ $2, AX
	JZ epnores
	VADDPS (DX)(R11*1), Y0, Y0
epnores:
	TESTQ $4, AX
	JZ epstore
	// max(0, x) / min(6, x) with x the first Go operand: NaN and -0 pass
	// through (see epilogue_amd64.s).
	VMAXPS Y0, Y4, Y0
	TESTQ $8, AX
	JZ epstore
	VMINPS Y0, Y5, Y0
epstore:
	VMOVUPS Y0, (DI)(R11*1)
	ADDQ $32, R11
	CMPQ R11, R10
	JLT epcol
	ADDQ R8, DI
	ADDQ R9, DX
	DECQ CX
	JNZ eprow
epdone:
	VZEROUPPER
	RET
