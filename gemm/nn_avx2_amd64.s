//go:build !noasm

#include "textflag.h"

// iota8 is the int32 lane numbers 0..7.
DATA iota8<>+0(SB)/8, $0x0000000100000000
DATA iota8<>+8(SB)/8, $0x0000000300000002
DATA iota8<>+16(SB)/8, $0x0000000500000004
DATA iota8<>+24(SB)/8, $0x0000000700000006
GLOBL iota8<>(SB), RODATA|NOPTR, $32

// func rowMinAVX2(n int, c, norms *float32) (v float32, j int)
// Two sets of 8 lanes (columns 16s+l and 16s+8+l), each keeping its own
// running minimum and the index where it was first reached (strict
// comparison), then reduced as in rowMinAVX512: the minimum over all 16
// lanes, and the smallest index among the lanes holding it.
TEXT ·rowMinAVX2(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ c+8(FP), SI
	MOVQ norms+16(FP), DI
	MOVL $0xc0000000, AX // -2.0
	VMOVD AX, X15
	VBROADCASTSS X15, Y15
	MOVL $0x7f800000, AX // +Inf
	VMOVD AX, X0
	VBROADCASTSS X0, Y0 // running minima, columns 16s+l
	VMOVAPS Y0, Y1      // columns 16s+8+l
	VPXOR Y2, Y2, Y2    // their indices
	VPXOR Y3, Y3, Y3
	VMOVDQU iota8<>(SB), Y4 // indices of the current columns 16s+l
	MOVL $8, AX
	VMOVD AX, X5
	VPBROADCASTD X5, Y5
	VPADDD Y5, Y4, Y6 // 16s+8+l
	VPADDD Y5, Y5, Y5 // 16

loop:
	VMOVUPS (DI), Y7
	VMOVUPS 32(DI), Y8
	VFMADD231PS (SI), Y15, Y7 // norms - 2c
	VFMADD231PS 32(SI), Y15, Y8
	VCMPPS $1, Y0, Y7, Y9     // Y7 < Y0 (strict: ties keep the earlier j)
	VCMPPS $1, Y1, Y8, Y10
	VBLENDVPS Y9, Y7, Y0, Y0
	VBLENDVPS Y10, Y8, Y1, Y1
	VBLENDVPS Y9, Y4, Y2, Y2
	VBLENDVPS Y10, Y6, Y3, Y3
	VPADDD Y5, Y4, Y4
	VPADDD Y5, Y6, Y6
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JGT loop

	// Horizontal minimum of Y0 and Y1, broadcast to all lanes of Y9.
	VMINPS Y1, Y0, Y7
	VEXTRACTF128 $1, Y7, X8
	VMINPS X8, X7, X8
	VSHUFPS $0x4e, X8, X8, X9
	VMINPS X9, X8, X8
	VSHUFPS $0xb1, X8, X8, X9
	VMINPS X9, X8, X8
	VBROADCASTSS X8, Y9

	// Smallest index among the lanes holding the minimum.
	MOVL $0x7fffffff, AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10
	VCMPPS $0, Y9, Y0, Y11
	VCMPPS $0, Y9, Y1, Y12
	VBLENDVPS Y11, Y2, Y10, Y13
	VBLENDVPS Y12, Y3, Y10, Y14
	VPMINSD Y14, Y13, Y13
	VEXTRACTI128 $1, Y13, X14
	VPMINSD X14, X13, X13
	VPSHUFD $0x4e, X13, X14
	VPMINSD X14, X13, X13
	VPSHUFD $0xb1, X13, X14
	VPMINSD X14, X13, X13
	VMOVD X13, AX
	MOVSS X8, v+24(FP)
	MOVQ AX, j+32(FP)
	VZEROUPPER
	RET
