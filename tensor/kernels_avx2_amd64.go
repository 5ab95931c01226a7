//go:build amd64 && !noasm && !purego

package tensor

import (
	"math"

	"github.com/anomclust/anomclust/internal/isa"
)

// useAVX512 and useAVX2 say whether the kernels of kernels_amd64.s and
// kernels_avx2_amd64.s may run. They read isa.Has on every call (a compare
// of one global) so that tests can switch levels with isa.SetForTest;
// isa.Has(isa.AVX2) is also true on AVX-512 CPUs.
func useAVX512() bool { return isa.Has(isa.AVX512) }
func useAVX2() bool   { return isa.Has(isa.AVX2) }

// The AVX2+FMA kernels below compute what their AVX-512 counterparts in
// kernels_amd64.go compute, with the same bits (see kernels_avx2_amd64.s).

// expShiftAVX2 is expShiftAVX512 (len(v) a positive multiple of 16).
//
//go:noescape
func expShiftAVX2(v []float32, m, scale float32, sums *[16]float32)

// maxAVX2 is maxAVX512 (len(v) a positive multiple of 16).
//
//go:noescape
func maxAVX2(v []float32, out *[16]float32)

// scaleAVX2 is scaleAVX512 (len(v) a positive multiple of 16).
//
//go:noescape
func scaleAVX2(v []float32, s float32)

// geluRowsAVX2 is geluRowsAVX512 for cols a positive multiple of 8.
//
//go:noescape
func geluRowsAVX2(c *float32, ldc, rows, cols int)

// depthwiseAVX2 is depthwiseAVX512 for c a multiple of 8.
//
//go:noescape
func depthwiseAVX2(out, in, w, bias *float32, c, n, step int, offs []int)

// sumAVX2 is sumAVX512 (len(v) a positive multiple of 16).
//
//go:noescape
func sumAVX2(v []float32, out *[16]float32)

// sqDevAVX2 is sqDevAVX512 (len(v) a positive multiple of 16).
//
//go:noescape
func sqDevAVX2(v []float32, m float32, out *[16]float32)

// normAffineAVX2 is normAffineAVX512 for len(dst) a positive multiple of 8.
//
//go:noescape
func normAffineAVX2(dst, src, w, b []float32, m, inv float32)

// clampRowsAVX2 sets v = min(max(v, 0), hi) + z on rows rows (>= 1) of
// cols floats (a positive multiple of 8) with row stride ldc, NaN and -0
// passing the min and max (see kernels_avx2_amd64.s).
//
//go:noescape
func clampRowsAVX2(c *float32, ldc, rows, cols int, hi, z float32)

// reluRowsAVX2 is reluSlice on rows rows (>= 1) of cols floats (a positive
// multiple of 8) with row stride ldc, with the same bits (NaN and -0 kept).
func reluRowsAVX2(c *float32, ldc, rows, cols int) {
	clampRowsAVX2(c, ldc, rows, cols, float32(math.Inf(1)), float32(math.Copysign(0, -1)))
}

// relu6RowsAVX2 is relu6Slice on rows rows (>= 1) of cols floats (a
// positive multiple of 8) with row stride ldc, with the same bits (NaN
// kept, -0 to +0).
func relu6RowsAVX2(c *float32, ldc, rows, cols int) { clampRowsAVX2(c, ldc, rows, cols, 6, 0) }
