#!/usr/bin/env python3
"""Generates kernel_amd64.s, the AVX-512 and AVX2 SGEMM micro-kernels.

Run from this directory: python3 kernel_amd64_gen.py
The kernels are fully unrolled over the tile (mr broadcasts x nr/16 FMAs per
k step), which is tedious to write by hand but trivial to generate.
Contract: see kernel.go (type kernel) and kernel_amd64.go.
"""

def gen_kernel(w, name, mr, nr, vec, nacc_per_row, breg, bcast_regs, label, astride=None, unroll=1, bnext=False, bnext_lines=None):
    """mr rows are computed; A is packed with astride (>= mr) floats per k step.

    With bnext the function takes a seventh argument, an address to prefetch
    from, and prefetches bnext_lines (default: unroll) consecutive 64-byte
    lines from it per iteration of the unrolled loop. With one line per k
    step (the default) and nr*4 = 64 bytes of B per step, the whole next
    micro-panel is requested while this one is computed; with one line per
    iteration, a quarter of it.
    """
    astride = astride or mr
    width = 64 if vec == 'Z' else 32      # bytes per vector
    if bnext:
        assert 4 * nr == 64
        w(f'// func {name}(kc int, a, b, c *float32, ldc int, accumulate bool, bnext *float32)')
        w(f'TEXT ·{name}(SB), NOSPLIT, $0-56')
    else:
        w(f'// func {name}(kc int, a, b, c *float32, ldc int, accumulate bool)')
        w(f'TEXT ·{name}(SB), NOSPLIT, $0-41')
    w('\tMOVQ kc+0(FP), CX\n\tMOVQ a+8(FP), SI\n\tMOVQ b+16(FP), DI\n\tMOVQ c+24(FP), DX\n\tMOVQ ldc+32(FP), R8\n\tSHLQ $2, R8')
    if bnext:
        w('\tMOVQ bnext+48(FP), R12')
    nacc = mr * nacc_per_row
    for r in range(nacc):
        w(f'\tVPXORD {vec}{r}, {vec}{r}, {vec}{r}' if vec == 'Z' else f'\tVXORPS {vec}{r}, {vec}{r}, {vec}{r}')
    # Prefetch the tile of C now, so that the loads (accumulate) or the
    # read-for-ownership of the stores at the end do not wait on memory:
    # the C tile was last touched long ago (or never). Measured +2.5% images/s
    # on wide_resnet50_2 and ~+1% on ViT-B/8 (alternating runs).
    w('\tMOVQ DX, R9')
    for i in range(mr):
        for line in range(0, nr * 4, 64):
            w(f'\tPREFETCHT0 {line}(R9)' if line else '\tPREFETCHT0 (R9)')
        if i < mr - 1:
            w('\tADDQ R8, R9')
    def step(u):
        """One k step at offset u steps from SI/DI."""
        for v in range(nacc_per_row):
            w(f'\tVMOVUPS {u*4*nr+v*width}(DI), {vec}{breg+v}')
        for i in range(mr):
            bz = bcast_regs[i % len(bcast_regs)]
            w(f'\tVBROADCASTSS {u*4*astride+4*i}(SI), {vec}{bz}')
            for v in range(nacc_per_row):
                w(f'\tVFMADD231PS {vec}{breg+v}, {vec}{bz}, {vec}{nacc_per_row*i+v}')
    if unroll > 1:
        # unroll k steps per iteration (less loop overhead and fewer
        # pointer updates between FMAs), then the kc % unroll remaining steps.
        w(f'\tMOVQ CX, BX\n\tSHRQ ${unroll.bit_length()-1}, BX\n\tANDQ ${unroll-1}, CX')
        w(f'\tTESTQ BX, BX\n\tJLE tail{label}')
        w(f'unrolled{label}:')
        lines = bnext_lines or unroll
        for u in range(unroll):
            if bnext and u < lines:
                w(f'\tPREFETCHT0 {u*64}(R12)' if u else '\tPREFETCHT0 (R12)')
            step(u)
        w(f'\tADDQ ${4*astride*unroll}, SI\n\tADDQ ${4*nr*unroll}, DI')
        if bnext:
            w(f'\tADDQ ${64*lines}, R12')
        w(f'\tDECQ BX\n\tJNZ unrolled{label}')
        w(f'tail{label}:')
    w(f'\tTESTQ CX, CX\n\tJLE store{label}')
    w(f'loop{label}:')
    step(0)
    w(f'\tADDQ ${4*astride}, SI\n\tADDQ ${4*nr}, DI\n\tDECQ CX\n\tJNZ loop{label}')
    w(f'store{label}:')
    w(f'\tMOVBQZX accumulate+40(FP), AX\n\tTESTQ AX, AX\n\tJNZ accum{label}')
    for i in range(mr):
        for v in range(nacc_per_row):
            w(f'\tVMOVUPS {vec}{nacc_per_row*i+v}, {v*width}(DX)')
        if i < mr - 1:
            w('\tADDQ R8, DX')
    w('\tVZEROUPPER\n\tRET')
    w(f'accum{label}:')
    for i in range(mr):
        for v in range(nacc_per_row):
            r = nacc_per_row * i + v
            w(f'\tVADDPS {v*width}(DX), {vec}{r}, {vec}{r}')
            w(f'\tVMOVUPS {vec}{r}, {v*width}(DX)')
        if i < mr - 1:
            w('\tADDQ R8, DX')
    w('\tVZEROUPPER\n\tRET\n')


def gen_transpose(w, rows=16):
    """transpose16x<rows>(src, ld, dst, ldd): dst[p*ldd+i] = src[i*ld+p], i < rows, p < 16.

    With rows < 16 the missing rows are zero and the stores are masked to
    rows lanes, so nothing past dst[p*ldd+rows-1] is written.

    Classic AVX-512 16x16 transpose: unpack pairs of rows, SHUFPS quads, then
    a 4x4 transpose of 128-bit lanes with two rounds of VSHUFF32X4.
    Go operand order is reversed from Intel's: OP src2, src1, dst.
    """
    name = f'transpose16x{rows}'
    w(f'// func {name}(src *float32, ld int, dst *float32, ldd int)')
    w(f'TEXT ·{name}(SB), NOSPLIT, $0-32')
    w('\tMOVQ src+0(FP), SI\n\tMOVQ ld+8(FP), AX\n\tSHLQ $2, AX\n\tMOVQ dst+16(FP), DI\n\tMOVQ ldd+24(FP), BX\n\tSHLQ $2, BX')
    if rows < 16:
        w(f'\tMOVQ ${(1 << rows) - 1}, DX\n\tKMOVW DX, K1')
    for i in range(16):
        if i >= rows:
            w(f'\tVPXORD Z{i}, Z{i}, Z{i}')
            continue
        w(f'\tVMOVUPS (SI), Z{i}')
        if i < rows - 1:
            w('\tADDQ AX, SI')
    # Stage 1: t[2i] = unpacklo(r[2i], r[2i+1]), t[2i+1] = unpackhi(...), t in Z16-Z31.
    for i in range(8):
        w(f'\tVUNPCKLPS Z{2*i+1}, Z{2*i}, Z{16+2*i}')
        w(f'\tVUNPCKHPS Z{2*i+1}, Z{2*i}, Z{16+2*i+1}')
    # Stage 2: u[4g+e] into Z0-Z15.
    for g in range(4):
        t0, t1, t2, t3 = (16 + 4*g + x for x in range(4))
        w(f'\tVSHUFPS $0x44, Z{t2}, Z{t0}, Z{4*g+0}')
        w(f'\tVSHUFPS $0xee, Z{t2}, Z{t0}, Z{4*g+1}')
        w(f'\tVSHUFPS $0x44, Z{t3}, Z{t1}, Z{4*g+2}')
        w(f'\tVSHUFPS $0xee, Z{t3}, Z{t1}, Z{4*g+3}')
    # Stage 3/4: for each e, 4x4 transpose of lanes of u[e], u[4+e], u[8+e], u[12+e];
    # output row 4L+e.
    for e in range(4):
        ue, u4, u8, u12 = e, 4 + e, 8 + e, 12 + e
        w(f'\tVSHUFF32X4 $0x44, Z{u4}, Z{ue}, Z16')
        w(f'\tVSHUFF32X4 $0xee, Z{u4}, Z{ue}, Z17')
        w(f'\tVSHUFF32X4 $0x44, Z{u12}, Z{u8}, Z18')
        w(f'\tVSHUFF32X4 $0xee, Z{u12}, Z{u8}, Z19')
        w('\tVSHUFF32X4 $0x88, Z18, Z16, Z20')  # row e
        w('\tVSHUFF32X4 $0xdd, Z18, Z16, Z21')  # row 4+e
        w('\tVSHUFF32X4 $0x88, Z19, Z17, Z22')  # row 8+e
        w('\tVSHUFF32X4 $0xdd, Z19, Z17, Z23')  # row 12+e
        for L, z in enumerate((20, 21, 22, 23)):
            row = 4*L + e
            # address dst + row*ldd*4
            store = f'VMOVUPS Z{z}, K1, (DI)(CX*1)' if rows < 16 else f'VMOVUPS Z{z}, (DI)(CX*1)'
            w(f'\tMOVQ BX, CX\n\tIMULQ ${row}, CX\n\t{store}')
    w('\tVZEROUPPER\n\tRET\n')


def gen_copy32(w):
    """copy32(rows, src, ld, dst): dst[p*32+j] = src[p*ld+j], j < 32: the
    packing of a full B panel of C = A·B (two zmm per row, no call per row)."""
    w('// func copy32(rows int, src *float32, ld int, dst *float32)')
    w('TEXT ·copy32(SB), NOSPLIT, $0-32')
    w('\tMOVQ rows+0(FP), CX\n\tMOVQ src+8(FP), SI\n\tMOVQ ld+16(FP), AX\n\tSHLQ $2, AX\n\tMOVQ dst+24(FP), DI')
    w('\tTESTQ CX, CX\n\tJLE copydone')
    w('copyloop:')
    w('\tVMOVUPS (SI), Z0\n\tVMOVUPS 64(SI), Z1\n\tVMOVUPS Z0, (DI)\n\tVMOVUPS Z1, 64(DI)')
    w('\tADDQ AX, SI\n\tADDQ $128, DI\n\tDECQ CX\n\tJNZ copyloop')
    w('copydone:')
    w('\tVZEROUPPER\n\tRET\n')


KC_UNROLL_AVX2 = 4


def main():
    out = []
    w = out.append
    w('// Code generated by kernel_amd64_gen.py; DO NOT EDIT.\n')
    w('//go:build !noasm\n\n#include "textflag.h"\n')
    # AVX-512: 14 rows x 2 zmm = 28 accumulators Z0-Z27, B row in Z28-Z29,
    # A broadcasts alternate Z30/Z31.
    gen_kernel(w, 'kernel14x32', 14, 32, 'Z', 2, 28, [30, 31], '512')
    # Row-edge variants: the first r rows of a 14x32 tile (A still packed 14
    # wide), so that a partial row tile costs r/14 of a full one.
    for r in range(1, 14):
        gen_kernel(w, f'kernel14x32r{r}', r, 32, 'Z', 2, 28, [30, 31], f'r{r}', astride=14)
    # AVX2: 6 rows x 2 ymm = 12 accumulators Y0-Y11, B in Y12-Y13, A in Y14.
    # The k loop is unrolled 4 times (KC_UNROLL_AVX2).
    gen_kernel(w, 'kernel6x16', 6, 16, 'Y', 2, 12, [14], '256', unroll=KC_UNROLL_AVX2)
    # The same kernel prefetching the next B micro-panel (the driver's full
    # tiles): B streamed from L3 or memory for the first tile of each panel
    # is otherwise the kernel's largest stall (see kernel_amd64.go).
    gen_kernel(w, 'kernel6x16n', 6, 16, 'Y', 2, 12, [14], 'n256', unroll=KC_UNROLL_AVX2, bnext=True)
    # The same kernel prefetching one line per 4 k steps: kc*16 bytes, a
    # quarter of a kc x 16 B micro-panel, so that four tiles together fetch
    # the next panel while the others prefetch nothing (kernel_amd64.go).
    gen_kernel(w, 'kernel6x16q', 6, 16, 'Y', 2, 12, [14], 'q256', unroll=KC_UNROLL_AVX2, bnext=True, bnext_lines=1)
    # Row-edge variants of the 6x16 tile (A still packed 6 wide).
    for r in range(1, 6):
        gen_kernel(w, f'kernel6x16r{r}', r, 16, 'Y', 2, 12, [14], f'a{r}', astride=6, unroll=KC_UNROLL_AVX2)
    gen_transpose(w)
    gen_transpose(w, 14)
    gen_copy32(w)
    open('kernel_amd64.s', 'w').write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
