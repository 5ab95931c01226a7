//go:build !noasm

#include "textflag.h"

// iota16 is the int32 lane numbers 0..15.
DATA iota16<>+0(SB)/8, $0x0000000100000000
DATA iota16<>+8(SB)/8, $0x0000000300000002
DATA iota16<>+16(SB)/8, $0x0000000500000004
DATA iota16<>+24(SB)/8, $0x0000000700000006
DATA iota16<>+32(SB)/8, $0x0000000900000008
DATA iota16<>+40(SB)/8, $0x0000000b0000000a
DATA iota16<>+48(SB)/8, $0x0000000d0000000c
DATA iota16<>+56(SB)/8, $0x0000000f0000000e
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// func rowMinAVX512(n int, c, norms *float32) (v float32, j int)
TEXT ·rowMinAVX512(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ c+8(FP), SI
	MOVQ norms+16(FP), DI
	MOVL $0xc0000000, AX // -2.0
	VPBROADCASTD AX, Z31
	MOVL $0x7f800000, AX // +Inf
	VPBROADCASTD AX, Z0  // running minima
	VPXORD Z1, Z1, Z1    // their indices
	VMOVDQU32 iota16<>(SB), Z2 // indices of the current 16 columns
	MOVL $16, AX
	VPBROADCASTD AX, Z3

loop:
	VMOVUPS (DI), Z4
	VFMADD231PS (SI), Z31, Z4 // Z4 = norms - 2c
	VCMPPS $1, Z0, Z4, K1     // K1 = Z4 < Z0 (strict: ties keep the earlier j)
	VMOVAPS Z4, K1, Z0
	VMOVDQA32 Z2, K1, Z1
	VPADDD Z3, Z2, Z2
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JGT loop

	// Horizontal minimum of Z0, broadcast to all lanes of Z9.
	VEXTRACTF32X8 $1, Z0, Y7
	VMINPS Y7, Y0, Y7
	VEXTRACTF128 $1, Y7, X8
	VMINPS X8, X7, X8
	VSHUFPS $0x4e, X8, X8, X9
	VMINPS X9, X8, X8
	VSHUFPS $0xb1, X8, X8, X9
	VMINPS X9, X8, X8
	VBROADCASTSS X8, Z9

	// Smallest index among the lanes holding the minimum.
	VCMPPS $0, Z9, Z0, K2
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z10
	VMOVDQA32 Z1, K2, Z10
	VEXTRACTI32X8 $1, Z10, Y11
	VPMINSD Y11, Y10, Y11
	VEXTRACTI128 $1, Y11, X12
	VPMINSD X12, X11, X12
	VPSHUFD $0x4e, X12, X13
	VPMINSD X13, X12, X12
	VPSHUFD $0xb1, X12, X13
	VPMINSD X13, X12, X12
	VMOVD X12, AX
	MOVSS X8, v+24(FP)
	MOVQ AX, j+32(FP)
	VZEROUPPER
	RET
