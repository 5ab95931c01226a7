//go:build amd64 && !noasm && !purego

#include "textflag.h"

// AVX-512 kernels for the transcendental element-wise steps (softmax's
// exponential, GELU's erf). Each processes len(v) values, a positive multiple
// of 16; the Go callers in kernels.go do the tail with the Go twins, which use
// the same formulas (see exp32 and erf32).

// exp: Cody-Waite reduction with 2^n applied by VSCALEFPS.
DATA expc<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expc<>+4(SB)/4, $0x3f318000  // ln2 high part 0.693359375
DATA expc<>+8(SB)/4, $0xb95e8083  // ln2 low part -2.12194440e-4
DATA expc<>+12(SB)/4, $0xc2d00000 // -104: clamp so -inf gives exactly +0 (e^-104 < 2^-150)
DATA expc<>+16(SB)/4, $0x39500d01 // 1/7!
DATA expc<>+20(SB)/4, $0x3ab60b61 // 1/6!
DATA expc<>+24(SB)/4, $0x3c088889 // 1/5!
DATA expc<>+28(SB)/4, $0x3d2aaaab // 1/4!
DATA expc<>+32(SB)/4, $0x3e2aaaab // 1/3!
DATA expc<>+36(SB)/4, $0x3f000000 // 1/2!
DATA expc<>+40(SB)/4, $0x3f800000 // 1
DATA expc<>+44(SB)/4, $0x42d00000 // +104: clamp so every x above overflows to +Inf
GLOBL expc<>(SB), RODATA|NOPTR, $48

// func expShiftAVX512(v []float32, m, scale float32, sums *[16]float32)
// v[i] = exp((v[i]-m)*scale); sums gets 16 lane-wise partial sums of the results.
TEXT ·expShiftAVX512(SB), NOSPLIT, $0-40
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	MOVQ sums+32(FP), DX
	VBROADCASTSS m+24(FP), Z20
	VBROADCASTSS scale+28(FP), Z21
	VBROADCASTSS expc<>+0(SB), Z22
	VBROADCASTSS expc<>+4(SB), Z23
	VBROADCASTSS expc<>+8(SB), Z24
	VBROADCASTSS expc<>+12(SB), Z25
	VBROADCASTSS expc<>+16(SB), Z26
	VBROADCASTSS expc<>+20(SB), Z27
	VBROADCASTSS expc<>+24(SB), Z28
	VBROADCASTSS expc<>+28(SB), Z29
	VBROADCASTSS expc<>+32(SB), Z30
	VBROADCASTSS expc<>+36(SB), Z31
	VBROADCASTSS expc<>+40(SB), Z19
	VBROADCASTSS expc<>+44(SB), Z17
	VXORPS Z18, Z18, Z18

exploop:
	VMOVUPS (SI), Z0
	VSUBPS Z20, Z0, Z0
	VMULPS Z21, Z0, Z0
	// Clamp with the data as Intel's second source, which VMAXPS returns
	// when either is NaN: a NaN logit stays NaN and makes the row sum, so
	// the whole row, NaN as in torch.softmax (also for +Inf, whose x is
	// Inf-Inf). The clamp itself keeps -Inf (a masked logit) from turning
	// into Inf-Inf = NaN in the reduction below.
	VMAXPS Z0, Z25, Z0
	// The top clamp (e^104 overflows float32 anyway): without it the
	// kernels disagreed beyond the softmax's x <= 0: x = +Inf gave p = NaN,
	// which VSCALEFPS scaled by n = +Inf to +Inf on Zen 5 while the AVX2
	// kernel's p·2^n is NaN, and large finite x (e.g. 7.2e8, whose r is
	// no longer small) gave -Inf here.
	VMINPS Z0, Z17, Z0
	VMULPS Z22, Z0, Z1
	VRNDSCALEPS $0, Z1, Z1     // n = round(x*log2e)
	VFNMADD231PS Z23, Z1, Z0   // r = x - n*ln2hi
	VFNMADD231PS Z24, Z1, Z0   // r -= n*ln2lo
	VMOVAPS Z26, Z2
	VFMADD213PS Z27, Z0, Z2    // p = p*r + c
	VFMADD213PS Z28, Z0, Z2
	VFMADD213PS Z29, Z0, Z2
	VFMADD213PS Z30, Z0, Z2
	VFMADD213PS Z31, Z0, Z2
	VFMADD213PS Z19, Z0, Z2
	VFMADD213PS Z19, Z0, Z2
	VSCALEFPS Z1, Z2, Z2       // p * 2^n
	VADDPS Z2, Z18, Z18
	VMOVUPS Z2, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ exploop
	VMOVUPS Z18, (DX)
	VZEROUPPER
	RET

// func maxAVX512(v []float32, out *[16]float32)
// out gets 16 lane-wise maxima of v.
TEXT ·maxAVX512(SB), NOSPLIT, $0-32
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	MOVQ out+24(FP), DX
	VMOVUPS (SI), Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JZ maxdone

maxloop:
	VMAXPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ maxloop

maxdone:
	VMOVUPS Z0, (DX)
	VZEROUPPER
	RET

// func scaleAVX512(v []float32, s float32)
// v[i] *= s.
TEXT ·scaleAVX512(SB), NOSPLIT, $0-28
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	VBROADCASTSS s+24(FP), Z1

scaleloop:
	VMULPS (SI), Z1, Z0
	VMOVUPS Z0, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ scaleloop
	VZEROUPPER
	RET

// GELU: x/2 * (1 + erf(x/√2)), erf as x·P(x²)/Q(x²) on [-4, 4] (Eigen's
// generic_fast_erf_float coefficients).
DATA geluc<>+0(SB)/4, $0x3f3504f3  // 1/√2
DATA geluc<>+4(SB)/4, $0x40800000  // 4
DATA geluc<>+8(SB)/4, $0xc0800000  // -4
DATA geluc<>+12(SB)/4, $0x3f000000 // 0.5
DATA geluc<>+16(SB)/4, $0xaf95df0b // alpha13
DATA geluc<>+20(SB)/4, $0x32edffee // alpha11
DATA geluc<>+24(SB)/4, $0xb60cff51 // alpha9
DATA geluc<>+28(SB)/4, $0xb86ec2d2 // alpha7
DATA geluc<>+32(SB)/4, $0xba40ac63 // alpha5
DATA geluc<>+36(SB)/4, $0xbb41a1f6 // alpha3
DATA geluc<>+40(SB)/4, $0xbc83dbd4 // alpha1
DATA geluc<>+44(SB)/4, $0xb77460cd // beta8
DATA geluc<>+48(SB)/4, $0xb95fbd29 // beta6
DATA geluc<>+52(SB)/4, $0xbadc924e // beta4
DATA geluc<>+56(SB)/4, $0xbbf19bf8 // beta2
DATA geluc<>+60(SB)/4, $0xbc69b6a7 // beta0
GLOBL geluc<>(SB), RODATA|NOPTR, $64

// func geluRowsAVX512(c *float32, ldc, rows, cols int)
// GELU in place on rows rows of cols floats (cols a positive multiple of
// 16, rows >= 1) with row stride ldc floats: the 16 constants are
// broadcast once for the whole block.
TEXT ·geluRowsAVX512(SB), NOSPLIT, $0-32
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R8
	SHLQ $2, R8
	MOVQ rows+16(FP), DX
	MOVQ cols+24(FP), R9
	VBROADCASTSS geluc<>+0(SB), Z16
	VBROADCASTSS geluc<>+4(SB), Z17
	VBROADCASTSS geluc<>+8(SB), Z18
	VBROADCASTSS geluc<>+12(SB), Z19
	VBROADCASTSS geluc<>+16(SB), Z20
	VBROADCASTSS geluc<>+20(SB), Z21
	VBROADCASTSS geluc<>+24(SB), Z22
	VBROADCASTSS geluc<>+28(SB), Z23
	VBROADCASTSS geluc<>+32(SB), Z24
	VBROADCASTSS geluc<>+36(SB), Z25
	VBROADCASTSS geluc<>+40(SB), Z26
	VBROADCASTSS geluc<>+44(SB), Z27
	VBROADCASTSS geluc<>+48(SB), Z28
	VBROADCASTSS geluc<>+52(SB), Z29
	VBROADCASTSS geluc<>+56(SB), Z30
	VBROADCASTSS geluc<>+60(SB), Z31

gelurow:
	MOVQ DI, SI
	MOVQ R9, CX
geluloop:
	VMOVUPS (SI), Z0
	VMULPS Z16, Z0, Z1         // z = x/√2
	VMINPS Z1, Z17, Z1         // clamp to [-4, 4], NaN kept (data is Intel's
	VMAXPS Z1, Z18, Z1         // second source, returned for unordered)
	VMULPS Z1, Z1, Z2          // z²
	VMOVAPS Z20, Z3            // P
	VFMADD213PS Z21, Z2, Z3
	VFMADD213PS Z22, Z2, Z3
	VFMADD213PS Z23, Z2, Z3
	VFMADD213PS Z24, Z2, Z3
	VFMADD213PS Z25, Z2, Z3
	VFMADD213PS Z26, Z2, Z3
	VMOVAPS Z27, Z4            // Q
	VFMADD213PS Z28, Z2, Z4
	VFMADD213PS Z29, Z2, Z4
	VFMADD213PS Z30, Z2, Z4
	VFMADD213PS Z31, Z2, Z4
	VMULPS Z1, Z3, Z3
	VDIVPS Z4, Z3, Z3          // erf = z·P/Q
	VMULPS Z19, Z0, Z0         // h = x/2
	VFMADD213PS Z0, Z0, Z3     // h*erf + h
	VMOVUPS Z3, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ geluloop
	ADDQ R8, DI
	DECQ DX
	JNZ gelurow
	VZEROUPPER
	RET

// func depthwiseAVX512(out, in, w, bias *float32, c, n, step int, offs []int)
// For n output pixels p (all taps inside the input) and each block of 16 of
// the c channels (c a multiple of 16):
//   out[p*c + ch] = bias[ch] + sum_t in[p*step + offs[t]/4 + ch] * w[t*c + ch]
// step is in floats, offs in bytes. Four pixels share each weight load and
// give four independent FMA chains.
TEXT ·depthwiseAVX512(SB), NOSPLIT, $0-80
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

quad:
	CMPQ R13, $4
	JLT single
	XORQ DX, DX

quadch:
	VMOVUPS (R11)(DX*1), Z0
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	LEAQ (R10)(DX*1), DI
	XORQ AX, AX

quadtap:
	MOVQ (R15)(AX*8), SI
	ADDQ R9, SI
	ADDQ DX, SI
	VMOVUPS (DI), Z4
	VFMADD231PS (SI), Z4, Z0
	VFMADD231PS (SI)(R14*1), Z4, Z1
	VFMADD231PS (SI)(R14*2), Z4, Z2
	VFMADD231PS (SI)(CX*1), Z4, Z3
	ADDQ R12, DI
	INCQ AX
	CMPQ AX, BX
	JLT quadtap

	LEAQ (R8)(DX*1), SI
	VMOVUPS Z0, (SI)
	VMOVUPS Z1, (SI)(R12*1)
	LEAQ (SI)(R12*2), SI
	VMOVUPS Z2, (SI)
	VMOVUPS Z3, (SI)(R12*1)
	ADDQ $64, DX
	CMPQ DX, R12
	JLT quadch

	LEAQ (R9)(R14*4), R9
	LEAQ (R8)(R12*4), R8
	SUBQ $4, R13
	JMP quad

single:
	CMPQ R13, $0
	JEQ done
	XORQ DX, DX

singlech:
	VMOVUPS (R11)(DX*1), Z0
	LEAQ (R10)(DX*1), DI
	XORQ AX, AX

singletap:
	MOVQ (R15)(AX*8), SI
	ADDQ R9, SI
	VMOVUPS (DI), Z4
	VFMADD231PS (SI)(DX*1), Z4, Z0
	ADDQ R12, DI
	INCQ AX
	CMPQ AX, BX
	JLT singletap
	VMOVUPS Z0, (R8)(DX*1)
	ADDQ $64, DX
	CMPQ DX, R12
	JLT singlech

	ADDQ R14, R9
	ADDQ R12, R8
	DECQ R13
	JMP single

done:
	VZEROUPPER
	RET

// func sumAVX512(v []float32, out *[16]float32)
// out gets 16 lane-wise partial sums of v.
TEXT ·sumAVX512(SB), NOSPLIT, $0-32
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	MOVQ out+24(FP), DX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	CMPQ CX, $32
	JLT sumone

sumtwo:
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	ADDQ $128, SI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE sumtwo

sumone:
	CMPQ CX, $0
	JEQ sumdone
	VADDPS (SI), Z0, Z0

sumdone:
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, (DX)
	VZEROUPPER
	RET

// func sqDevAVX512(v []float32, m float32, out *[16]float32)
// out gets 16 lane-wise partial sums of (v[i]-m)².
TEXT ·sqDevAVX512(SB), NOSPLIT, $0-40
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	VBROADCASTSS m+24(FP), Z2
	MOVQ out+32(FP), DX
	VXORPS Z0, Z0, Z0

sqloop:
	VMOVUPS (SI), Z1
	VSUBPS Z2, Z1, Z1
	VFMADD231PS Z1, Z1, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sqloop
	VMOVUPS Z0, (DX)
	VZEROUPPER
	RET

// func normAffineAVX512(dst, src, w, b []float32, m, inv float32)
// dst[i] = (src[i]-m)*inv*w[i] + b[i] over len(dst) values.
TEXT ·normAffineAVX512(SB), NOSPLIT, $0-104
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	MOVQ w_base+48(FP), R8
	MOVQ b_base+72(FP), R9
	VBROADCASTSS m+96(FP), Z2
	VBROADCASTSS inv+100(FP), Z3

normloop:
	VMOVUPS (SI), Z0
	VSUBPS Z2, Z0, Z0
	VMULPS Z3, Z0, Z0
	VMOVUPS (R9), Z1
	VFMADD231PS (R8), Z0, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JNZ normloop
	VZEROUPPER
	RET
