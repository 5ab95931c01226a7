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
// (a[p*6+i], b[p*16+j]); accumulators Y0-Y11.
//
//go:noescape
func kernel6x16(kc int, a, b, c *float32, ldc int, accumulate bool)
