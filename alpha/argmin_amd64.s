//go:build amd64 && !noasm && !purego

#include "textflag.h"

// argIota8 is the int32 lane numbers 0..7.
DATA argIota8<>+0(SB)/8, $0x0000000100000000
DATA argIota8<>+8(SB)/8, $0x0000000300000002
DATA argIota8<>+16(SB)/8, $0x0000000500000004
DATA argIota8<>+24(SB)/8, $0x0000000700000006
GLOBL argIota8<>(SB), RODATA|NOPTR, $32

// func argMinRowAVX2(n int, row, nb *float32, nai float32, i int32, colV *float32, colArg *int32) (v float32, j int)
// Two sets of 8 lanes (columns 16s+l and 16s+8+l) keep their own running
// row minimum and the index where it was first reached (strict comparison;
// a NaN never compares below), and each column's running minimum is updated
// in memory with the same strict comparison. The lanes are then reduced to
// the minimum and, among the lanes holding it, the smallest index.
// t2 = t+t then nb-t2 and nai-t2 (no FMA), so values match the Go twin bit
// for bit.
TEXT ·argMinRowAVX2(SB), NOSPLIT, $0-64
	MOVQ n+0(FP), CX
	MOVQ row+8(FP), SI
	MOVQ nb+16(FP), DI
	VBROADCASTSS nai+24(FP), Y15
	MOVL i+28(FP), AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	MOVQ colV+32(FP), R8
	MOVQ colArg+40(FP), R9
	MOVL $0x7f800000, AX // +Inf
	VMOVD AX, X0
	VBROADCASTSS X0, Y0 // running row minima, columns 16s+l
	VMOVAPS Y0, Y1      // columns 16s+8+l
	VPXOR Y2, Y2, Y2    // their indices
	VPXOR Y3, Y3, Y3
	VMOVDQU argIota8<>(SB), Y4 // indices of the current columns 16s+l
	MOVL $8, AX
	VMOVD AX, X5
	VPBROADCASTD X5, Y5
	VPADDD Y5, Y4, Y6 // 16s+8+l
	VPADDD Y5, Y5, Y13 // 16

	CMPQ CX, $16
	JLT tail

loop16:
	VMOVUPS (SI), Y7
	VMOVUPS 32(SI), Y8
	VADDPS Y7, Y7, Y7 // t2
	VADDPS Y8, Y8, Y8
	VMOVUPS (DI), Y9
	VMOVUPS 32(DI), Y10
	VSUBPS Y7, Y9, Y9 // nb - t2
	VSUBPS Y8, Y10, Y10
	VCMPPS $1, Y0, Y9, Y11 // Y9 < Y0 (strict: ties keep the earlier j)
	VCMPPS $1, Y1, Y10, Y12
	VBLENDVPS Y11, Y9, Y0, Y0
	VBLENDVPS Y12, Y10, Y1, Y1
	VBLENDVPS Y11, Y4, Y2, Y2
	VBLENDVPS Y12, Y6, Y3, Y3

	VSUBPS Y7, Y15, Y7 // nai - t2
	VSUBPS Y8, Y15, Y8
	VMOVUPS (R8), Y9
	VMOVUPS 32(R8), Y10
	VCMPPS $1, Y9, Y7, Y11 // Y7 < colV
	VCMPPS $1, Y10, Y8, Y12
	VBLENDVPS Y11, Y7, Y9, Y9
	VBLENDVPS Y12, Y8, Y10, Y10
	VMOVUPS Y9, (R8)
	VMOVUPS Y10, 32(R8)
	VMOVUPS (R9), Y9
	VMOVUPS 32(R9), Y10
	VBLENDVPS Y11, Y14, Y9, Y9
	VBLENDVPS Y12, Y14, Y10, Y10
	VMOVUPS Y9, (R9)
	VMOVUPS Y10, 32(R9)

	VPADDD Y13, Y4, Y4
	VPADDD Y13, Y6, Y6
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	CMPQ CX, $16
	JGE loop16

tail:
	// At most one block of 8 columns left (n is a multiple of 8); its
	// indices are Y4, and it joins the lane set Y0/Y2.
	CMPQ CX, $8
	JLT reduce
	VMOVUPS (SI), Y7
	VADDPS Y7, Y7, Y7
	VMOVUPS (DI), Y9
	VSUBPS Y7, Y9, Y9
	VCMPPS $1, Y0, Y9, Y11
	VBLENDVPS Y11, Y9, Y0, Y0
	VBLENDVPS Y11, Y4, Y2, Y2
	VSUBPS Y7, Y15, Y7
	VMOVUPS (R8), Y9
	VCMPPS $1, Y9, Y7, Y11
	VBLENDVPS Y11, Y7, Y9, Y9
	VMOVUPS Y9, (R8)
	VMOVUPS (R9), Y9
	VBLENDVPS Y11, Y14, Y9, Y9
	VMOVUPS Y9, (R9)

reduce:
	// Horizontal minimum of Y0 and Y1 (neither holds a NaN), broadcast to
	// all lanes of Y9.
	VMINPS Y1, Y0, Y7
	VEXTRACTF128 $1, Y7, X8
	VMINPS X8, X7, X8
	VSHUFPS $0x4e, X8, X8, X9
	VMINPS X9, X8, X8
	VSHUFPS $0xb1, X8, X8, X9
	VMINPS X9, X8, X8
	VBROADCASTSS X8, Y9

	// Smallest index among the lanes holding the minimum (equal compare, so
	// -0 and +0 are the same minimum, as in Go).
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
	MOVSS X8, v+48(FP)
	MOVQ AX, j+56(FP)
	VZEROUPPER
	RET
