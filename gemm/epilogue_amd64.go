//go:build !noasm

package gemm

// epilogue32 applies an epilogue to rows rows of 32 floats of C (row stride
// ldc floats): mode epBias adds bias[0:32], epResidual adds the rows of res
// (stride ldr), then epReLU clamps at 0 and epReLU6 also at 6. Pointers not
// selected by mode may be nil. AVX-512F; Go twin epilogueGo.
//
//go:noescape
func epilogue32(rows int, c *float32, ldc int, bias, res *float32, ldr int, mode int)
