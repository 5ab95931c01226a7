//go:build !noasm

package gemm

// haveAsm reports whether the assembly kernels are compiled in.
const haveAsm = true

// kernel14x32 computes a 14x32 tile of C (row stride ldc floats) from kc
// steps of packed A (a[p*14+i]) and packed B (b[p*32+j]): C = A·B, or
// C += A·B when accumulate is set. It needs AVX-512F. The tile lives in
// Z0-Z27 for the whole k loop; each step loads one 32-float B row (Z28, Z29)
// and broadcasts the 14 A values one at a time (Z30, Z31) with VBROADCASTSS.
//
//go:noescape
func kernel14x32(kc int, a, b, c *float32, ldc int, accumulate bool)

// kernel6x16 is the AVX2+FMA kernel with the same contract for a 6x16 tile
// (a[p*6+i], b[p*16+j]); accumulators Y0-Y11, the k loop unrolled 4 times.
//
//go:noescape
func kernel6x16(kc int, a, b, c *float32, ldc int, accumulate bool)

// kernel6x16n is kernel6x16 (the same FMAs in the same order, so the same
// bits) that also prefetches, one 64-byte line per k step, the kc*16 floats
// at bnext: the B micro-panel the driver computes with next. The first tile
// of each B panel otherwise waits on B coming from L3 or memory. The driver
// uses it when a panel has fewer than four full row tiles; with four or
// more, kernel6x16q on the last four is faster (every tile prefetching the
// whole panel made all tiles ~5% slower, TestTuneTileTimes). Prefetches
// never fault, so bnext may point anywhere.
//
//go:noescape
func kernel6x16n(kc int, a, b, c *float32, ldc int, accumulate bool, bnext *float32)

// kernel6x16q is kernel6x16 (same FMAs, same bits) that also prefetches
// one 64-byte line per 4 k steps from bnext on: kc*16 bytes, a quarter of
// a kc x 16 B micro-panel. The driver has four tiles of each B panel (the
// last four) fetch the next panel this way and the other tiles prefetch
// nothing (see config.gemmRange).
//
//go:noescape
func kernel6x16q(kc int, a, b, c *float32, ldc int, accumulate bool, bnext *float32)

// The row-edge variants of kernel6x16: kernel6x16r<r> computes only the
// first r rows of the tile (A still packed 6 wide, a[p*6+i]) and writes
// only those rows of C.

//go:noescape
func kernel6x16r1(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel6x16r2(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel6x16r3(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel6x16r4(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel6x16r5(kc int, a, b, c *float32, ldc int, accumulate bool)

// rows6x16 are the row-edge variants of kernel6x16, indexed by the number
// of rows.
var rows6x16 = []func(kc int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel6x16r1, kernel6x16r2, kernel6x16r3, kernel6x16r4, kernel6x16r5,
}

// The row-edge variants of kernel14x32: kernel14x32r<r> computes only the
// first r rows of the tile (A still packed 14 wide, a[p*14+i]) and writes
// only those rows of C.

//go:noescape
func kernel14x32r1(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r2(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r3(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r4(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r5(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r6(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r7(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r8(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r9(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r10(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r11(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r12(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel14x32r13(kc int, a, b, c *float32, ldc int, accumulate bool)

// rows14x32 are the row-edge variants, indexed by the number of rows.
var rows14x32 = []func(kc int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel14x32r1, kernel14x32r2, kernel14x32r3, kernel14x32r4, kernel14x32r5, kernel14x32r6,
	kernel14x32r7, kernel14x32r8, kernel14x32r9, kernel14x32r10, kernel14x32r11, kernel14x32r12, kernel14x32r13,
}
