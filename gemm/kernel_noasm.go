//go:build !amd64 || noasm

package gemm

// haveAsm reports whether the assembly kernels are compiled in.
const haveAsm = false

// kernel14x32 is the Go twin of the AVX-512 kernel (kernel_amd64.s).
func kernel14x32(kc int, a, b, c *float32, ldc int, accumulate bool) {
	goKernel(14, 32, kc, a, b, c, ldc, accumulate)
}

// kernel6x16 is the Go twin of the AVX2+FMA kernel (kernel_amd64.s).
func kernel6x16(kc int, a, b, c *float32, ldc int, accumulate bool) {
	goKernel(6, 16, kc, a, b, c, ldc, accumulate)
}

// kernel6x16n is the Go twin of kernel6x16n: kernel6x16 (the prefetch of
// bnext is only a hint).
func kernel6x16n(kc int, a, b, c *float32, ldc int, accumulate bool, bnext *float32) {
	goKernel(6, 16, kc, a, b, c, ldc, accumulate)
}

// kernel6x16q is the Go twin of kernel6x16q: kernel6x16 (the prefetch of
// bnext is only a hint).
func kernel6x16q(kc int, a, b, c *float32, ldc int, accumulate bool, bnext *float32) {
	goKernel(6, 16, kc, a, b, c, ldc, accumulate)
}

// rows14x32 has no row-edge variants in pure Go: partial tiles use the full
// kernel into a scratch tile.
var rows14x32 []func(kc int, a, b, c *float32, ldc int, accumulate bool)

// rows6x16 likewise: no row-edge variants in pure Go.
var rows6x16 []func(kc int, a, b, c *float32, ldc int, accumulate bool)
