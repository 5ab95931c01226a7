//go:build amd64 && !noasm && !purego

#include "textflag.h"

// AVX2+FMA versions of the AVX-512 kernels in kernels_amd64.s, for CPUs
// without AVX-512 (Zen 3 and older, most laptops and desktops). Each one
// computes what its AVX-512 counterpart computes, in the same order and with
// the same fused operations, so the two give the same bits: the 16 lane-wise
// partial results of the reductions are kept as two 8-lane halves (lanes
// 0-7 and 8-15 of each 16-value block), exp's 2^n (VSCALEFPS there) is
// applied as two exact power-of-two factors, and the NaN-keeping operand
// order of VMINPS/VMAXPS is the same. AVX2 has 16 vector registers, not 32:
// the polynomial coefficients are read from the 8-wide tables below as
// memory operands.

// Exponential constants, each repeated in 8 lanes (entries 32 bytes apart).
DATA expc8<>+0(SB)/4, $0x39500d01  // 0: 1/7!
DATA expc8<>+4(SB)/4, $0x39500d01
DATA expc8<>+8(SB)/4, $0x39500d01
DATA expc8<>+12(SB)/4, $0x39500d01
DATA expc8<>+16(SB)/4, $0x39500d01
DATA expc8<>+20(SB)/4, $0x39500d01
DATA expc8<>+24(SB)/4, $0x39500d01
DATA expc8<>+28(SB)/4, $0x39500d01
DATA expc8<>+32(SB)/4, $0x3ab60b61  // 32: 1/6!
DATA expc8<>+36(SB)/4, $0x3ab60b61
DATA expc8<>+40(SB)/4, $0x3ab60b61
DATA expc8<>+44(SB)/4, $0x3ab60b61
DATA expc8<>+48(SB)/4, $0x3ab60b61
DATA expc8<>+52(SB)/4, $0x3ab60b61
DATA expc8<>+56(SB)/4, $0x3ab60b61
DATA expc8<>+60(SB)/4, $0x3ab60b61
DATA expc8<>+64(SB)/4, $0x3c088889  // 64: 1/5!
DATA expc8<>+68(SB)/4, $0x3c088889
DATA expc8<>+72(SB)/4, $0x3c088889
DATA expc8<>+76(SB)/4, $0x3c088889
DATA expc8<>+80(SB)/4, $0x3c088889
DATA expc8<>+84(SB)/4, $0x3c088889
DATA expc8<>+88(SB)/4, $0x3c088889
DATA expc8<>+92(SB)/4, $0x3c088889
DATA expc8<>+96(SB)/4, $0x3d2aaaab  // 96: 1/4!
DATA expc8<>+100(SB)/4, $0x3d2aaaab
DATA expc8<>+104(SB)/4, $0x3d2aaaab
DATA expc8<>+108(SB)/4, $0x3d2aaaab
DATA expc8<>+112(SB)/4, $0x3d2aaaab
DATA expc8<>+116(SB)/4, $0x3d2aaaab
DATA expc8<>+120(SB)/4, $0x3d2aaaab
DATA expc8<>+124(SB)/4, $0x3d2aaaab
DATA expc8<>+128(SB)/4, $0x3e2aaaab  // 128: 1/3!
DATA expc8<>+132(SB)/4, $0x3e2aaaab
DATA expc8<>+136(SB)/4, $0x3e2aaaab
DATA expc8<>+140(SB)/4, $0x3e2aaaab
DATA expc8<>+144(SB)/4, $0x3e2aaaab
DATA expc8<>+148(SB)/4, $0x3e2aaaab
DATA expc8<>+152(SB)/4, $0x3e2aaaab
DATA expc8<>+156(SB)/4, $0x3e2aaaab
DATA expc8<>+160(SB)/4, $0x3f000000  // 160: 1/2!
DATA expc8<>+164(SB)/4, $0x3f000000
DATA expc8<>+168(SB)/4, $0x3f000000
DATA expc8<>+172(SB)/4, $0x3f000000
DATA expc8<>+176(SB)/4, $0x3f000000
DATA expc8<>+180(SB)/4, $0x3f000000
DATA expc8<>+184(SB)/4, $0x3f000000
DATA expc8<>+188(SB)/4, $0x3f000000
DATA expc8<>+192(SB)/4, $0x3f800000  // 192: 1
DATA expc8<>+196(SB)/4, $0x3f800000
DATA expc8<>+200(SB)/4, $0x3f800000
DATA expc8<>+204(SB)/4, $0x3f800000
DATA expc8<>+208(SB)/4, $0x3f800000
DATA expc8<>+212(SB)/4, $0x3f800000
DATA expc8<>+216(SB)/4, $0x3f800000
DATA expc8<>+220(SB)/4, $0x3f800000
DATA expc8<>+224(SB)/4, $0x3f318000  // 224: ln2 high part 0.693359375
DATA expc8<>+228(SB)/4, $0x3f318000
DATA expc8<>+232(SB)/4, $0x3f318000
DATA expc8<>+236(SB)/4, $0x3f318000
DATA expc8<>+240(SB)/4, $0x3f318000
DATA expc8<>+244(SB)/4, $0x3f318000
DATA expc8<>+248(SB)/4, $0x3f318000
DATA expc8<>+252(SB)/4, $0x3f318000
DATA expc8<>+256(SB)/4, $0xb95e8083  // 256: ln2 low part -2.12194440e-4
DATA expc8<>+260(SB)/4, $0xb95e8083
DATA expc8<>+264(SB)/4, $0xb95e8083
DATA expc8<>+268(SB)/4, $0xb95e8083
DATA expc8<>+272(SB)/4, $0xb95e8083
DATA expc8<>+276(SB)/4, $0xb95e8083
DATA expc8<>+280(SB)/4, $0xb95e8083
DATA expc8<>+284(SB)/4, $0xb95e8083
DATA expc8<>+288(SB)/4, $0x3fb8aa3b  // 288: log2(e)
DATA expc8<>+292(SB)/4, $0x3fb8aa3b
DATA expc8<>+296(SB)/4, $0x3fb8aa3b
DATA expc8<>+300(SB)/4, $0x3fb8aa3b
DATA expc8<>+304(SB)/4, $0x3fb8aa3b
DATA expc8<>+308(SB)/4, $0x3fb8aa3b
DATA expc8<>+312(SB)/4, $0x3fb8aa3b
DATA expc8<>+316(SB)/4, $0x3fb8aa3b
DATA expc8<>+320(SB)/4, $0xc2d00000  // 320: -104, the clamp (e^-104 < 2^-150)
DATA expc8<>+324(SB)/4, $0xc2d00000
DATA expc8<>+328(SB)/4, $0xc2d00000
DATA expc8<>+332(SB)/4, $0xc2d00000
DATA expc8<>+336(SB)/4, $0xc2d00000
DATA expc8<>+340(SB)/4, $0xc2d00000
DATA expc8<>+344(SB)/4, $0xc2d00000
DATA expc8<>+348(SB)/4, $0xc2d00000
DATA expc8<>+352(SB)/4, $0x0000007f  // 352: 127, the exponent bias (int32)
DATA expc8<>+356(SB)/4, $0x0000007f
DATA expc8<>+360(SB)/4, $0x0000007f
DATA expc8<>+364(SB)/4, $0x0000007f
DATA expc8<>+368(SB)/4, $0x0000007f
DATA expc8<>+372(SB)/4, $0x0000007f
DATA expc8<>+376(SB)/4, $0x0000007f
DATA expc8<>+380(SB)/4, $0x0000007f
DATA expc8<>+384(SB)/4, $0x437e0000  // 384: 254, the largest n scaled (2^127 · 2^127)
DATA expc8<>+388(SB)/4, $0x437e0000
DATA expc8<>+392(SB)/4, $0x437e0000
DATA expc8<>+396(SB)/4, $0x437e0000
DATA expc8<>+400(SB)/4, $0x437e0000
DATA expc8<>+404(SB)/4, $0x437e0000
DATA expc8<>+408(SB)/4, $0x437e0000
DATA expc8<>+412(SB)/4, $0x437e0000
DATA expc8<>+416(SB)/4, $0x42d00000  // 416: +104: clamp so every x above, +inf included, gives +Inf
DATA expc8<>+420(SB)/4, $0x42d00000
DATA expc8<>+424(SB)/4, $0x42d00000
DATA expc8<>+428(SB)/4, $0x42d00000
DATA expc8<>+432(SB)/4, $0x42d00000
DATA expc8<>+436(SB)/4, $0x42d00000
DATA expc8<>+440(SB)/4, $0x42d00000
DATA expc8<>+444(SB)/4, $0x42d00000
GLOBL expc8<>(SB), RODATA|NOPTR, $448

// GELU constants (see geluRowsAVX512), each repeated in 8 lanes.
DATA geluc8<>+0(SB)/4, $0xaf95df0b  // 0: alpha13
DATA geluc8<>+4(SB)/4, $0xaf95df0b
DATA geluc8<>+8(SB)/4, $0xaf95df0b
DATA geluc8<>+12(SB)/4, $0xaf95df0b
DATA geluc8<>+16(SB)/4, $0xaf95df0b
DATA geluc8<>+20(SB)/4, $0xaf95df0b
DATA geluc8<>+24(SB)/4, $0xaf95df0b
DATA geluc8<>+28(SB)/4, $0xaf95df0b
DATA geluc8<>+32(SB)/4, $0x32edffee  // 32: alpha11
DATA geluc8<>+36(SB)/4, $0x32edffee
DATA geluc8<>+40(SB)/4, $0x32edffee
DATA geluc8<>+44(SB)/4, $0x32edffee
DATA geluc8<>+48(SB)/4, $0x32edffee
DATA geluc8<>+52(SB)/4, $0x32edffee
DATA geluc8<>+56(SB)/4, $0x32edffee
DATA geluc8<>+60(SB)/4, $0x32edffee
DATA geluc8<>+64(SB)/4, $0xb60cff51  // 64: alpha9
DATA geluc8<>+68(SB)/4, $0xb60cff51
DATA geluc8<>+72(SB)/4, $0xb60cff51
DATA geluc8<>+76(SB)/4, $0xb60cff51
DATA geluc8<>+80(SB)/4, $0xb60cff51
DATA geluc8<>+84(SB)/4, $0xb60cff51
DATA geluc8<>+88(SB)/4, $0xb60cff51
DATA geluc8<>+92(SB)/4, $0xb60cff51
DATA geluc8<>+96(SB)/4, $0xb86ec2d2  // 96: alpha7
DATA geluc8<>+100(SB)/4, $0xb86ec2d2
DATA geluc8<>+104(SB)/4, $0xb86ec2d2
DATA geluc8<>+108(SB)/4, $0xb86ec2d2
DATA geluc8<>+112(SB)/4, $0xb86ec2d2
DATA geluc8<>+116(SB)/4, $0xb86ec2d2
DATA geluc8<>+120(SB)/4, $0xb86ec2d2
DATA geluc8<>+124(SB)/4, $0xb86ec2d2
DATA geluc8<>+128(SB)/4, $0xba40ac63  // 128: alpha5
DATA geluc8<>+132(SB)/4, $0xba40ac63
DATA geluc8<>+136(SB)/4, $0xba40ac63
DATA geluc8<>+140(SB)/4, $0xba40ac63
DATA geluc8<>+144(SB)/4, $0xba40ac63
DATA geluc8<>+148(SB)/4, $0xba40ac63
DATA geluc8<>+152(SB)/4, $0xba40ac63
DATA geluc8<>+156(SB)/4, $0xba40ac63
DATA geluc8<>+160(SB)/4, $0xbb41a1f6  // 160: alpha3
DATA geluc8<>+164(SB)/4, $0xbb41a1f6
DATA geluc8<>+168(SB)/4, $0xbb41a1f6
DATA geluc8<>+172(SB)/4, $0xbb41a1f6
DATA geluc8<>+176(SB)/4, $0xbb41a1f6
DATA geluc8<>+180(SB)/4, $0xbb41a1f6
DATA geluc8<>+184(SB)/4, $0xbb41a1f6
DATA geluc8<>+188(SB)/4, $0xbb41a1f6
DATA geluc8<>+192(SB)/4, $0xbc83dbd4  // 192: alpha1
DATA geluc8<>+196(SB)/4, $0xbc83dbd4
DATA geluc8<>+200(SB)/4, $0xbc83dbd4
DATA geluc8<>+204(SB)/4, $0xbc83dbd4
DATA geluc8<>+208(SB)/4, $0xbc83dbd4
DATA geluc8<>+212(SB)/4, $0xbc83dbd4
DATA geluc8<>+216(SB)/4, $0xbc83dbd4
DATA geluc8<>+220(SB)/4, $0xbc83dbd4
DATA geluc8<>+224(SB)/4, $0xb77460cd  // 224: beta8
DATA geluc8<>+228(SB)/4, $0xb77460cd
DATA geluc8<>+232(SB)/4, $0xb77460cd
DATA geluc8<>+236(SB)/4, $0xb77460cd
DATA geluc8<>+240(SB)/4, $0xb77460cd
DATA geluc8<>+244(SB)/4, $0xb77460cd
DATA geluc8<>+248(SB)/4, $0xb77460cd
DATA geluc8<>+252(SB)/4, $0xb77460cd
DATA geluc8<>+256(SB)/4, $0xb95fbd29  // 256: beta6
DATA geluc8<>+260(SB)/4, $0xb95fbd29
DATA geluc8<>+264(SB)/4, $0xb95fbd29
DATA geluc8<>+268(SB)/4, $0xb95fbd29
DATA geluc8<>+272(SB)/4, $0xb95fbd29
DATA geluc8<>+276(SB)/4, $0xb95fbd29
DATA geluc8<>+280(SB)/4, $0xb95fbd29
DATA geluc8<>+284(SB)/4, $0xb95fbd29
DATA geluc8<>+288(SB)/4, $0xbadc924e  // 288: beta4
DATA geluc8<>+292(SB)/4, $0xbadc924e
DATA geluc8<>+296(SB)/4, $0xbadc924e
DATA geluc8<>+300(SB)/4, $0xbadc924e
DATA geluc8<>+304(SB)/4, $0xbadc924e
DATA geluc8<>+308(SB)/4, $0xbadc924e
DATA geluc8<>+312(SB)/4, $0xbadc924e
DATA geluc8<>+316(SB)/4, $0xbadc924e
DATA geluc8<>+320(SB)/4, $0xbbf19bf8  // 320: beta2
DATA geluc8<>+324(SB)/4, $0xbbf19bf8
DATA geluc8<>+328(SB)/4, $0xbbf19bf8
DATA geluc8<>+332(SB)/4, $0xbbf19bf8
DATA geluc8<>+336(SB)/4, $0xbbf19bf8
DATA geluc8<>+340(SB)/4, $0xbbf19bf8
DATA geluc8<>+344(SB)/4, $0xbbf19bf8
DATA geluc8<>+348(SB)/4, $0xbbf19bf8
DATA geluc8<>+352(SB)/4, $0xbc69b6a7  // 352: beta0
DATA geluc8<>+356(SB)/4, $0xbc69b6a7
DATA geluc8<>+360(SB)/4, $0xbc69b6a7
DATA geluc8<>+364(SB)/4, $0xbc69b6a7
DATA geluc8<>+368(SB)/4, $0xbc69b6a7
DATA geluc8<>+372(SB)/4, $0xbc69b6a7
DATA geluc8<>+376(SB)/4, $0xbc69b6a7
DATA geluc8<>+380(SB)/4, $0xbc69b6a7
DATA geluc8<>+384(SB)/4, $0x3f3504f3  // 384: 1/√2
DATA geluc8<>+388(SB)/4, $0x3f3504f3
DATA geluc8<>+392(SB)/4, $0x3f3504f3
DATA geluc8<>+396(SB)/4, $0x3f3504f3
DATA geluc8<>+400(SB)/4, $0x3f3504f3
DATA geluc8<>+404(SB)/4, $0x3f3504f3
DATA geluc8<>+408(SB)/4, $0x3f3504f3
DATA geluc8<>+412(SB)/4, $0x3f3504f3
DATA geluc8<>+416(SB)/4, $0x40800000  // 416: 4
DATA geluc8<>+420(SB)/4, $0x40800000
DATA geluc8<>+424(SB)/4, $0x40800000
DATA geluc8<>+428(SB)/4, $0x40800000
DATA geluc8<>+432(SB)/4, $0x40800000
DATA geluc8<>+436(SB)/4, $0x40800000
DATA geluc8<>+440(SB)/4, $0x40800000
DATA geluc8<>+444(SB)/4, $0x40800000
DATA geluc8<>+448(SB)/4, $0xc0800000  // 448: -4
DATA geluc8<>+452(SB)/4, $0xc0800000
DATA geluc8<>+456(SB)/4, $0xc0800000
DATA geluc8<>+460(SB)/4, $0xc0800000
DATA geluc8<>+464(SB)/4, $0xc0800000
DATA geluc8<>+468(SB)/4, $0xc0800000
DATA geluc8<>+472(SB)/4, $0xc0800000
DATA geluc8<>+476(SB)/4, $0xc0800000
DATA geluc8<>+480(SB)/4, $0x3f000000  // 480: 0.5
DATA geluc8<>+484(SB)/4, $0x3f000000
DATA geluc8<>+488(SB)/4, $0x3f000000
DATA geluc8<>+492(SB)/4, $0x3f000000
DATA geluc8<>+496(SB)/4, $0x3f000000
DATA geluc8<>+500(SB)/4, $0x3f000000
DATA geluc8<>+504(SB)/4, $0x3f000000
DATA geluc8<>+508(SB)/4, $0x3f000000
GLOBL geluc8<>(SB), RODATA|NOPTR, $512

// func expShiftAVX2(v []float32, m, scale float32, sums *[16]float32)
// v[i] = exp((v[i]-m)*scale) for len(v) a positive multiple of 16; sums
// gets the 16 lane-wise partial sums of the results (as expShiftAVX512).
// 2^n is applied as 2^(n>>1) · 2^(n-(n>>1)): the first product is exact and
// the second rounds once, so results that fall below the normal range
// (down to the clamp at -104) round as VSCALEFPS rounds them; n is capped at
// 254, where both give ±Inf. (The softmax only has x <= 0 or NaN.)
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-40
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	MOVQ sums+32(FP), DX
	LEAQ expc8<>(SB), AX
	VBROADCASTSS m+24(FP), Y15
	VBROADCASTSS scale+28(FP), Y14
	VMOVUPS 320(AX), Y13       // -104: clamp so -inf gives exactly +0
	VMOVUPS 288(AX), Y12       // log2(e)
	VMOVUPS 224(AX), Y11       // ln2 high
	VMOVUPS 256(AX), Y10       // ln2 low
	VMOVUPS 352(AX), Y9        // exponent bias
	VXORPS Y8, Y8, Y8          // sums, lanes 0-7
	VXORPS Y7, Y7, Y7          // sums, lanes 8-15

exp2loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y3
	VSUBPS Y15, Y0, Y0
	VSUBPS Y15, Y3, Y3
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y3, Y3
	VMAXPS Y0, Y13, Y0         // data second: NaN kept (see expShiftAVX512)
	VMAXPS Y3, Y13, Y3
	VMOVUPS 416(AX), Y6        // +104 (Y6 is free until the scaling below)
	VMINPS Y0, Y6, Y0          // data second again: NaN kept
	VMINPS Y3, Y6, Y3
	VMULPS Y12, Y0, Y1
	VMULPS Y12, Y3, Y4
	VROUNDPS $0, Y1, Y1        // n = round(x*log2e), ties to even
	VROUNDPS $0, Y4, Y4
	VFNMADD231PS Y11, Y1, Y0   // r = x - n*ln2hi
	VFNMADD231PS Y11, Y4, Y3
	VFNMADD231PS Y10, Y1, Y0   // r -= n*ln2lo
	VFNMADD231PS Y10, Y4, Y3
	VMOVUPS (AX), Y2           // p = 1/7!
	VMOVUPS (AX), Y5
	VFMADD213PS 32(AX), Y0, Y2 // p = p*r + c
	VFMADD213PS 32(AX), Y3, Y5
	VFMADD213PS 64(AX), Y0, Y2
	VFMADD213PS 64(AX), Y3, Y5
	VFMADD213PS 96(AX), Y0, Y2
	VFMADD213PS 96(AX), Y3, Y5
	VFMADD213PS 128(AX), Y0, Y2
	VFMADD213PS 128(AX), Y3, Y5
	VFMADD213PS 160(AX), Y0, Y2
	VFMADD213PS 160(AX), Y3, Y5
	VFMADD213PS 192(AX), Y0, Y2
	VFMADD213PS 192(AX), Y3, Y5
	VFMADD213PS 192(AX), Y0, Y2
	VFMADD213PS 192(AX), Y3, Y5
	VMINPS 384(AX), Y1, Y1     // n <= 254: beyond, p·2^n is ±Inf as from VSCALEFPS
	VMINPS 384(AX), Y4, Y4     // (a NaN n becomes 254; p is NaN then)
	VCVTPS2DQ Y1, Y1           // n as int32 (exact: n is integral)
	VCVTPS2DQ Y4, Y4
	VPSRAD $1, Y1, Y6          // n1 = n>>1, n2 = n - n1
	VPSUBD Y6, Y1, Y1
	VPADDD Y9, Y6, Y6
	VPSLLD $23, Y6, Y6         // 2^n1
	VMULPS Y6, Y2, Y2
	VPADDD Y9, Y1, Y1
	VPSLLD $23, Y1, Y1         // 2^n2
	VMULPS Y1, Y2, Y2
	VPSRAD $1, Y4, Y6
	VPSUBD Y6, Y4, Y4
	VPADDD Y9, Y6, Y6
	VPSLLD $23, Y6, Y6
	VMULPS Y6, Y5, Y5
	VPADDD Y9, Y4, Y4
	VPSLLD $23, Y4, Y4
	VMULPS Y4, Y5, Y5
	VADDPS Y2, Y8, Y8
	VADDPS Y5, Y7, Y7
	VMOVUPS Y2, (SI)
	VMOVUPS Y5, 32(SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ exp2loop
	VMOVUPS Y8, (DX)
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// func maxAVX2(v []float32, out *[16]float32)
// out gets 16 lane-wise maxima of v (len(v) a positive multiple of 16).
TEXT ·maxAVX2(SB), NOSPLIT, $0-32
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	MOVQ out+24(FP), DX
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	ADDQ $64, SI
	SUBQ $16, CX
	JZ max2done

max2loop:
	VMAXPS (SI), Y0, Y0
	VMAXPS 32(SI), Y1, Y1
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ max2loop

max2done:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func scaleAVX2(v []float32, s float32)
// v[i] *= s (len(v) a positive multiple of 16).
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	VBROADCASTSS s+24(FP), Y2

scale2loop:
	VMULPS (SI), Y2, Y0
	VMULPS 32(SI), Y2, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ scale2loop
	VZEROUPPER
	RET

// GELU of the 8 values in X into P, as geluRowsAVX512 computes it; X, Z,
// Z2 and Q are scratch. Y15 = 1/√2, Y14 = 4, Y13 = -4, Y12 = 0.5, AX the
// geluc8 table.
#define GELU8(X, Z, Z2, P, Q) \
	VMULPS Y15, X, Z; \
	VMINPS Z, Y14, Z; \
	VMAXPS Z, Y13, Z; \
	VMULPS Z, Z, Z2; \
	VMOVUPS (AX), P; \
	VFMADD213PS 32(AX), Z2, P; \
	VFMADD213PS 64(AX), Z2, P; \
	VFMADD213PS 96(AX), Z2, P; \
	VFMADD213PS 128(AX), Z2, P; \
	VFMADD213PS 160(AX), Z2, P; \
	VFMADD213PS 192(AX), Z2, P; \
	VMOVUPS 224(AX), Q; \
	VFMADD213PS 256(AX), Z2, Q; \
	VFMADD213PS 288(AX), Z2, Q; \
	VFMADD213PS 320(AX), Z2, Q; \
	VFMADD213PS 352(AX), Z2, Q; \
	VMULPS Z, P, P; \
	VDIVPS Q, P, P; \
	VMULPS Y12, X, X; \
	VFMADD213PS X, X, P

// func geluRowsAVX2(c *float32, ldc, rows, cols int)
// GELU in place on rows rows (>= 1) of cols floats (a positive multiple of
// 8) with row stride ldc floats, 16 values per step while 16 remain.
TEXT ·geluRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R8
	SHLQ $2, R8
	MOVQ rows+16(FP), DX
	MOVQ cols+24(FP), R9
	LEAQ geluc8<>(SB), AX
	VMOVUPS 384(AX), Y15       // 1/√2
	VMOVUPS 416(AX), Y14       // 4
	VMOVUPS 448(AX), Y13       // -4
	VMOVUPS 480(AX), Y12       // 0.5

gelu2row:
	MOVQ DI, SI
	MOVQ R9, CX

gelu2two:
	CMPQ CX, $16
	JLT gelu2one
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y5
	GELU8(Y0, Y1, Y2, Y3, Y4)
	GELU8(Y5, Y6, Y7, Y8, Y9)
	VMOVUPS Y3, (SI)
	VMOVUPS Y8, 32(SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JMP gelu2two

gelu2one:
	CMPQ CX, $0
	JEQ gelu2next
	VMOVUPS (SI), Y0
	GELU8(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y3, (SI)

gelu2next:
	ADDQ R8, DI
	DECQ DX
	JNZ gelu2row
	VZEROUPPER
	RET

// func depthwiseAVX2(out, in, w, bias *float32, c, n, step int, offs []int)
// depthwiseAVX512 for c a multiple of 8, in blocks of 8 channels: for n
// output pixels p (all taps inside the input)
//   out[p*c + ch] = bias[ch] + sum_t in[p*step + offs[t]/4 + ch] * w[t*c + ch]
// step in floats, offs in bytes; the taps are fused in the same order.
TEXT ·depthwiseAVX2(SB), NOSPLIT, $0-80
	MOVQ out+0(FP), R8
	MOVQ in+8(FP), R9
	MOVQ w+16(FP), R10
	MOVQ bias+24(FP), R11
	MOVQ c+32(FP), R12
	SHLQ $2, R12               // channel row in bytes
	MOVQ n+40(FP), R13
	MOVQ step+48(FP), R14
	SHLQ $2, R14               // pixel step in bytes
	MOVQ offs_base+56(FP), R15
	MOVQ offs_len+64(FP), BX
	LEAQ (R14)(R14*2), CX      // 3 steps

dw2quad:
	CMPQ R13, $4
	JLT dw2single
	XORQ DX, DX

dw2quadch:
	VMOVUPS (R11)(DX*1), Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
	LEAQ (R10)(DX*1), DI
	XORQ AX, AX

dw2quadtap:
	MOVQ (R15)(AX*8), SI
	ADDQ R9, SI
	ADDQ DX, SI
	VMOVUPS (DI), Y4
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS (SI)(R14*1), Y4, Y1
	VFMADD231PS (SI)(R14*2), Y4, Y2
	VFMADD231PS (SI)(CX*1), Y4, Y3
	ADDQ R12, DI
	INCQ AX
	CMPQ AX, BX
	JLT dw2quadtap

	LEAQ (R8)(DX*1), SI
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, (SI)(R12*1)
	LEAQ (SI)(R12*2), SI
	VMOVUPS Y2, (SI)
	VMOVUPS Y3, (SI)(R12*1)
	ADDQ $32, DX
	CMPQ DX, R12
	JLT dw2quadch

	LEAQ (R9)(R14*4), R9
	LEAQ (R8)(R12*4), R8
	SUBQ $4, R13
	JMP dw2quad

dw2single:
	CMPQ R13, $0
	JEQ dw2done
	XORQ DX, DX

dw2singlech:
	VMOVUPS (R11)(DX*1), Y0
	LEAQ (R10)(DX*1), DI
	XORQ AX, AX

dw2singletap:
	MOVQ (R15)(AX*8), SI
	ADDQ R9, SI
	VMOVUPS (DI), Y4
	VFMADD231PS (SI)(DX*1), Y4, Y0
	ADDQ R12, DI
	INCQ AX
	CMPQ AX, BX
	JLT dw2singletap
	VMOVUPS Y0, (R8)(DX*1)
	ADDQ $32, DX
	CMPQ DX, R12
	JLT dw2singlech

	ADDQ R14, R9
	ADDQ R12, R8
	DECQ R13
	JMP dw2single

dw2done:
	VZEROUPPER
	RET

// func sumAVX2(v []float32, out *[16]float32)
// out gets 16 lane-wise partial sums of v (len(v) a positive multiple of
// 16), accumulated as sumAVX512 does: even and odd 16-blocks apart, then
// added.
TEXT ·sumAVX2(SB), NOSPLIT, $0-32
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	MOVQ out+24(FP), DX
	VXORPS Y0, Y0, Y0          // even blocks, lanes 0-7
	VXORPS Y1, Y1, Y1          // even blocks, lanes 8-15
	VXORPS Y2, Y2, Y2          // odd blocks, lanes 0-7
	VXORPS Y3, Y3, Y3          // odd blocks, lanes 8-15
	CMPQ CX, $32
	JLT sum2one

sum2two:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE sum2two

sum2one:
	CMPQ CX, $0
	JEQ sum2done
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1

sum2done:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func sqDevAVX2(v []float32, m float32, out *[16]float32)
// out gets 16 lane-wise partial sums of (v[i]-m)² (len(v) a positive
// multiple of 16).
TEXT ·sqDevAVX2(SB), NOSPLIT, $0-40
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	VBROADCASTSS m+24(FP), Y4
	MOVQ out+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

sq2loop:
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VSUBPS Y4, Y2, Y2
	VSUBPS Y4, Y3, Y3
	VFMADD231PS Y2, Y2, Y0
	VFMADD231PS Y3, Y3, Y1
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sq2loop
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func normAffineAVX2(dst, src, w, b []float32, m, inv float32)
// dst[i] = (src[i]-m)*inv*w[i] + b[i] over len(dst) values (a positive
// multiple of 8).
TEXT ·normAffineAVX2(SB), NOSPLIT, $0-104
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	MOVQ w_base+48(FP), R8
	MOVQ b_base+72(FP), R9
	VBROADCASTSS m+96(FP), Y2
	VBROADCASTSS inv+100(FP), Y3

norm2loop:
	VMOVUPS (SI), Y0
	VSUBPS Y2, Y0, Y0
	VMULPS Y3, Y0, Y0
	VMOVUPS (R9), Y1
	VFMADD231PS (R8), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $8, CX
	JNZ norm2loop
	VZEROUPPER
	RET

// func clampRowsAVX2(c *float32, ldc, rows, cols int, hi, z float32)
// v = min(max(v, 0), hi) + z on rows (>= 1) rows of cols floats (a positive
// multiple of 8) with row stride ldc floats. The data is Intel's second
// source of VMAXPS and VMINPS, returned when either is NaN and when both are
// zeros, so NaN and -0 pass both; z = +0 then turns -0 into +0 (Go's
// max(-0, 0), relu6Slice) and z = -0 keeps it (reluSlice), changing nothing
// else. ReLU is hi = +Inf, z = -0; ReLU6 hi = 6, z = +0.
TEXT ·clampRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R8
	SHLQ $2, R8
	MOVQ rows+16(FP), DX
	MOVQ cols+24(FP), R9
	VXORPS Y2, Y2, Y2
	VBROADCASTSS hi+32(FP), Y3
	VBROADCASTSS z+36(FP), Y4

clamprow:
	MOVQ DI, SI
	MOVQ R9, CX
	CMPQ CX, $16
	JLT clampone

clamptwo:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMAXPS Y0, Y2, Y0
	VMAXPS Y1, Y2, Y1
	VMINPS Y0, Y3, Y0
	VMINPS Y1, Y3, Y1
	VADDPS Y4, Y0, Y0
	VADDPS Y4, Y1, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	ADDQ $64, SI
	SUBQ $16, CX
	CMPQ CX, $16
	JGE clamptwo

clampone:
	CMPQ CX, $0
	JEQ clampnext
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y2, Y0
	VMINPS Y0, Y3, Y0
	VADDPS Y4, Y0, Y0
	VMOVUPS Y0, (SI)

clampnext:
	ADDQ R8, DI
	DECQ DX
	JNZ clamprow
	VZEROUPPER
	RET
