//go:build !arm64 || noasm

package gemm

// haveNEONAsm reports whether the NEON kernels (kernel_arm64.s) are compiled in.
const haveNEONAsm = false

// kernel8x12 is the Go twin of the NEON kernel (kernel_arm64.s).
func kernel8x12(kc int, a, b, c *float32, ldc int, accumulate bool) {
	goKernel(8, 12, kc, a, b, c, ldc, accumulate)
}

// rows8x12 has no row-edge variants in pure Go: partial tiles use the full
// kernel into a scratch tile.
var rows8x12 []func(kc int, a, b, c *float32, ldc int, accumulate bool)
