//go:build amd64 && !noasm && !purego

package tensor

// The kernels of kernels_amd64.s run when useAVX512 says so
// (kernels_avx2_amd64.go).

// The kernels below take len(v) a positive multiple of 16.

// expShiftAVX512 sets v[i] = exp((v[i]-m)*scale) and stores 16 lane-wise
// partial sums of the results in sums.
//
//go:noescape
func expShiftAVX512(v []float32, m, scale float32, sums *[16]float32)

// maxAVX512 stores 16 lane-wise maxima of v in out.
//
//go:noescape
func maxAVX512(v []float32, out *[16]float32)

// scaleAVX512 sets v[i] *= s.
//
//go:noescape
func scaleAVX512(v []float32, s float32)

// geluRowsAVX512 applies GELU (erf form, float32 arithmetic) in place to
// rows rows of cols floats (a positive multiple of 16) with row stride ldc,
// from c: a block of a GEMM's output with the constants loaded once rather
// than per row.
//
//go:noescape
func geluRowsAVX512(c *float32, ldc, rows, cols int)

// depthwiseAVX512 computes n output pixels of a depthwise conv whose taps
// all lie inside the input: out[p*c+ch] = bias[ch] +
// sum_t in[p*step + offs[t]/4 + ch] * w[t*c+ch], c a multiple of 16, step in
// floats, offs (one per tap, len(offs) >= 1) in bytes.
//
//go:noescape
func depthwiseAVX512(out, in, w, bias *float32, c, n, step int, offs []int)

// sumAVX512 stores 16 lane-wise partial sums of v in out.
//
//go:noescape
func sumAVX512(v []float32, out *[16]float32)

// sqDevAVX512 stores 16 lane-wise partial sums of (v[i]-m)² in out.
//
//go:noescape
func sqDevAVX512(v []float32, m float32, out *[16]float32)

// normAffineAVX512 sets dst[i] = (src[i]-m)*inv*w[i] + b[i] for the
// len(dst) values; src, w and b are at least as long.
//
//go:noescape
func normAffineAVX512(dst, src, w, b []float32, m, inv float32)
