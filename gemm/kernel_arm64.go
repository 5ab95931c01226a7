//go:build !noasm

package gemm

// haveNEONAsm reports whether the NEON kernels (kernel_arm64.s) are compiled in.
const haveNEONAsm = true

// kernel8x12 computes an 8x12 tile of C (row stride ldc floats) from kc
// steps of packed A (a[p*8+i]) and packed B (b[p*12+j]): C = A·B, or
// C += A·B when accumulate is set. It needs arm64 Advanced SIMD (ASIMD,
// "NEON"), which every ARMv8-A core has. The tile lives in V0-V23 (8 rows x
// 3 vectors of 4 floats) for the whole k loop; each step loads the 8 A
// values (V24-V25) and the 12 B values (V26-V28) and does 24 FMLA by
// element (a B vector times one A lane), each 4 fused multiply-adds. The
// accumulate adds C after the loop (FADD), so every element is the Go
// twin's sequence: fma over p from 0, then + C.
//
// Expected rate (not measured: no arm64 machine here): the loop is 24 FMLA
// against 2 loads (5 vectors), so it runs at the core's FMLA throughput.
// With 4 lanes x 2 flops per FMLA that is 8 flops per FMLA per cycle:
// Neoverse N1 / Graviton2 (2 x 128-bit FMA pipes) 16 flop/cycle, 40
// GFLOP/s per core at 2.5 GHz; Neoverse V1 / Graviton3 and Apple M1-M3
// performance cores (4 x 128-bit pipes) 32 flop/cycle, about 83 GFLOP/s at
// 2.6 GHz and 102 GFLOP/s at 3.2 GHz. The FMLA latency (4 cycles on these
// cores) x 4 pipes needs 16 independent accumulators; 24 cover it.
//
//go:noescape
func kernel8x12(kc int, a, b, c *float32, ldc int, accumulate bool)

// The row-edge variants of kernel8x12: kernel8x12r<r> computes only the
// first r rows of the tile (A still packed 8 wide, a[p*8+i]) and writes
// only those rows of C.

//go:noescape
func kernel8x12r1(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x12r2(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x12r3(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x12r4(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x12r5(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x12r6(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x12r7(kc int, a, b, c *float32, ldc int, accumulate bool)

// rows8x12 are the row-edge variants, indexed by the number of rows.
var rows8x12 = []func(kc int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel8x12r1, kernel8x12r2, kernel8x12r3, kernel8x12r4, kernel8x12r5, kernel8x12r6, kernel8x12r7,
}
