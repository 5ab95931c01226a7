//go:build !amd64 || noasm

package gemm

import "unsafe"

// haveTranspose reports whether transpose16x16 is an assembly version.
const haveTranspose = false

// transpose16x16 is the Go twin of the assembly 16x16 block transpose:
// dst[p*ldd+i] = src[i*ld+p] for i, p < 16.
func transpose16x16(src *float32, ld int, dst *float32, ldd int) {
	s := unsafe.Slice(src, 15*ld+16)
	d := unsafe.Slice(dst, 15*ldd+16)
	for i := 0; i < 16; i++ {
		for p := 0; p < 16; p++ {
			d[p*ldd+i] = s[i*ld+p]
		}
	}
}
