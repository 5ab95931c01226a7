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

// transpose16x14 is the Go twin of the assembly transpose of 14 rows:
// dst[p*ldd+i] = src[i*ld+p] for i < 14, p < 16.
func transpose16x14(src *float32, ld int, dst *float32, ldd int) {
	s := unsafe.Slice(src, 13*ld+16)
	d := unsafe.Slice(dst, 15*ldd+14)
	for i := 0; i < 14; i++ {
		for p := 0; p < 16; p++ {
			d[p*ldd+i] = s[i*ld+p]
		}
	}
}

// copy32 is the Go twin of the assembly panel copy:
// dst[p*32+j] = src[p*ld+j] for p < rows, j < 32.
func copy32(rows int, src *float32, ld int, dst *float32) {
	if rows <= 0 {
		return
	}
	s := unsafe.Slice(src, (rows-1)*ld+32)
	d := unsafe.Slice(dst, rows*32)
	for p := 0; p < rows; p++ {
		copy(d[p*32:p*32+32], s[p*ld:p*ld+32])
	}
}
