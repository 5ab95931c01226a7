package gemm

import "unsafe"

// alignedSlice returns s[off:off+n] where off < 16 makes the start 64-byte
// aligned; s must have n+16 elements.
func alignedSlice(s []float32, n int) []float32 {
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(s))) & 63; r != 0 {
		off = int(64-r) / 4
	}
	return s[off : off+n : off+n]
}
