//go:build !noasm

#include "textflag.h"

// func epilogue32(rows int, c *float32, ldc int, bias, res *float32, ldr int, mode int)
// Per row: Z0:Z1 = C row (+ bias) (+ res row), then max 0 / min 6, stored back.
// The mode tests are on a register and predict perfectly within a call.
TEXT ·epilogue32(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), CX
	MOVQ c+8(FP), DI
	MOVQ ldc+16(FP), R8
	SHLQ $2, R8
	MOVQ bias+24(FP), SI
	MOVQ res+32(FP), DX
	MOVQ ldr+40(FP), R9
	SHLQ $2, R9
	MOVQ mode+48(FP), AX
	TESTQ CX, CX
	JLE epdone
	// Without a bias the loop adds -0, the exact identity (x + -0 == x for
	// every x, -0 and NaN included; +0 would turn -0 into +0).
	MOVL $0x80000000, BX
	VPBROADCASTD BX, Z2
	VMOVAPS Z2, Z3
	TESTQ $1, AX
	JZ epnobias
	VMOVUPS (SI), Z2
	VMOVUPS 64(SI), Z3
epnobias:
	VPXORD Z4, Z4, Z4
	MOVL $0x40c00000, BX // 6.0
	VPBROADCASTD BX, Z5
eploop:
	VADDPS (DI), Z2, Z0
	VADDPS 64(DI), Z3, Z1
	TESTQ $2, AX
	JZ epnores
	VADDPS (DX), Z0, Z0
	VADDPS 64(DX), Z1, Z1
	ADDQ R9, DX
epnores:
	TESTQ $4, AX
	JZ epstore
	// The data is the first Go operand (Intel's second source), which
	// MAXPS/MINPS return when the compare is false: NaN and -0 pass through,
	// as in torch's clamp (_mm512_max_ps(min, x)) and the Go twin.
	VMAXPS Z0, Z4, Z0
	VMAXPS Z1, Z4, Z1
	TESTQ $8, AX
	JZ epstore
	VMINPS Z0, Z5, Z0
	VMINPS Z1, Z5, Z1
epstore:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ R8, DI
	DECQ CX
	JNZ eploop
epdone:
	VZEROUPPER
	RET
