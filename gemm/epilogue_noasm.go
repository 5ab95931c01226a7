//go:build !amd64 || noasm

package gemm

import "unsafe"

// epilogue32 is the Go twin of the AVX-512 epilogue (epilogue_amd64.s) for
// rows of 32 floats.
func epilogue32(rows int, c *float32, ldc int, bias, res *float32, ldr int, mode int) {
	cs := unsafe.Slice(c, (rows-1)*ldc+32)
	var bs, rs []float32
	if mode&epBias != 0 {
		bs = unsafe.Slice(bias, 32)
	}
	if mode&epResidual != 0 {
		rs = unsafe.Slice(res, (rows-1)*ldr+32)
	}
	act := ActNone
	if mode&epReLU6 != 0 {
		act = ActReLU6
	} else if mode&epReLU != 0 {
		act = ActReLU
	}
	epilogueGo(rows, 32, cs, ldc, bs, rs, ldr, act)
}
