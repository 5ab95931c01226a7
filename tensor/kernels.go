package tensor

import "math"

// Element-wise kernels with AVX-512 and AVX2+FMA paths (kernels_amd64.s,
// kernels_avx2_amd64.s; the two give the same bits) and a Go twin computing
// the same formula; kernels_test.go checks each against float64.

// kernel is the vector kernel set one call runs.
type kernel int

const (
	kernGo kernel = iota
	kernAVX2
	kernAVX512
)

// rowKernel picks the kernels by the active instruction-set level, read on
// every call (isa.SetForTest switches it in tests).
func rowKernel() kernel {
	switch {
	case useAVX512():
		return kernAVX512
	case useAVX2():
		return kernAVX2
	}
	return kernGo
}

// softmaxRow replaces v by softmax(v*scale), scale > 0, subtracting the
// maximum first (torch.softmax on (q·kᵀ)*scale rows). As in torch, a row
// holding a NaN or a +Inf, or only -Inf, comes out all NaN, and a -Inf among
// finite logits gives exactly +0. maxAVX512 may drop a NaN from the maximum;
// the exponentials still carry it into the sum.
func softmaxRow(v []float32, scale float32) {
	scaleRow(v, 1/softmaxExpRow(v, scale))
}

// softmaxExpRow is softmaxRow without the final division: it replaces v by
// exp((v - max v)*scale) and returns the sum, so that a caller can divide
// something smaller instead (attention divides the rows of P·V, T/hd times
// fewer values than P).
func softmaxExpRow(v []float32, scale float32) float32 {
	k := rowKernel()
	n := 0
	if k != kernGo {
		n = len(v) &^ 15
	}
	m := float32(math.Inf(-1))
	var lanes [16]float32
	if n > 0 {
		if k == kernAVX512 {
			maxAVX512(v[:n], &lanes)
		} else {
			maxAVX2(v[:n], &lanes)
		}
		for _, a := range lanes {
			m = max(m, a)
		}
	}
	for _, a := range v[n:] {
		m = max(m, a)
	}
	var s float32
	if n > 0 {
		if k == kernAVX512 {
			expShiftAVX512(v[:n], m, scale, &lanes)
		} else {
			expShiftAVX2(v[:n], m, scale, &lanes)
		}
		for _, a := range lanes {
			s += a
		}
	}
	return s + expShiftGo(v[n:], m, scale)
}

// scaleRow sets v[i] *= f.
func scaleRow(v []float32, f float32) {
	k := rowKernel()
	n := 0
	if k != kernGo {
		n = len(v) &^ 15
	}
	if n > 0 {
		if k == kernAVX512 {
			scaleAVX512(v[:n], f)
		} else {
			scaleAVX2(v[:n], f)
		}
	}
	for i := n; i < len(v); i++ {
		v[i] *= f
	}
}

// softmaxRowGo is the all-Go softmaxRow, for tests and benchmarks.
func softmaxRowGo(v []float32, scale float32) {
	m := float32(math.Inf(-1))
	for _, a := range v {
		m = max(m, a)
	}
	s := expShiftGo(v, m, scale)
	inv := 1 / s
	for i := range v {
		v[i] *= inv
	}
}

// expShiftGo sets v[i] = exp((v[i]-m)*scale) and returns their sum.
func expShiftGo(v []float32, m, scale float32) float32 {
	var s float32
	for i, a := range v {
		e := exp32((a - m) * scale)
		v[i] = e
		s += e
	}
	return s
}

// geluSlice applies the exact GELU to v in place.
func geluSlice(v []float32) {
	geluBlock(v, len(v), 1, len(v))
}

// geluBlock applies GELU to rows rows of cols floats with row stride ldc
// (a block of a GEMM's output, see gemm.Epilogue.Post). The assembly takes
// the 16-wide part of each row; the AVX2 kernel could take 8-wide parts,
// but the same split on both levels keeps their results bit-identical.
func geluBlock(c []float32, ldc, rows, cols int) {
	k := rowKernel()
	n := 0
	if k != kernGo {
		n = cols &^ 15
	}
	if n > 0 && rows > 0 {
		_ = c[(rows-1)*ldc+cols-1]
		if k == kernAVX512 {
			geluRowsAVX512(&c[0], ldc, rows, n)
		} else {
			geluRowsAVX2(&c[0], ldc, rows, n)
		}
	}
	if n < cols {
		for r := 0; r < rows; r++ {
			geluGo(c[r*ldc+n : r*ldc+cols])
		}
	}
}

// geluGo is the Go twin of geluRowsAVX512 and geluRowsAVX2: h + h·erf with h = x/2, the
// assembly's FMA order, which also gives torch.nn.functional.gelu's signs at
// the edges (PyTorch 1.13 CPU): GELU(-0) = +0, GELU(x) = +0 where erf rounds
// to -1, GELU(-Inf) = -Inf + Inf = NaN, GELU(NaN) = NaN (min/max keep NaN).
func geluGo(v []float32) {
	for i, a := range v {
		h := 0.5 * a
		v[i] = h*erf32(a*math.Sqrt2/2) + h
	}
}

// erf32 is erf for float32 arguments, as a rational approximation on
// [-4, 4] (beyond which erf is ±1 in float32): x·P(x²)/Q(x²) with the
// coefficients of Eigen's generic_fast_erf_float, evaluated in float64
// (same cost in scalar Go; float32 Horner steps cost 3 more ulp): within
// 2 ulp (TestErf32).
// It is ~10x cheaper than float64 math.Erf, which matters: ViT-B/8 takes 29M
// GELUs per image.
func erf32(x float32) float32 {
	xd := float64(min(max(x, -4), 4))
	x2 := xd * xd
	p := x2*-2.72614225801306e-10 + 2.77068142495902e-08
	p = p*x2 + -2.10102402082508e-06
	p = p*x2 + -5.69250639462346e-05
	p = p*x2 + -7.34990630326855e-04
	p = p*x2 + -2.95459980854025e-03
	p = p*x2 + -1.60960333262415e-02
	q := x2*-1.45660718464996e-05 + -2.13374055278905e-04
	q = q*x2 + -1.68282697438203e-03
	q = q*x2 + -7.37332916720468e-03
	q = q*x2 + -1.42647390514189e-02
	return float32(xd * p / q)
}

// exp32 is e^x in float32 to ~1 ulp: Cody-Waite reduction x = n·ln2 + r,
// |r| <= ln2/2, a degree-7 Taylor polynomial for e^r (truncation error
// < 1e-8 relative) and 2^n from the exponent bits (Cephes expf's scheme).
// Softmax in ViT-B/8 attention takes ~90M exponentials per image, where
// float64 math.Exp would cost more than the matrix products.
func exp32(x float32) float32 {
	if x < -87.33 {
		return 0 // below the normal range; invisible against a row sum >= 1
	}
	if x > 88 {
		return float32(math.Exp(float64(x)))
	}
	const log2e = 1.44269504088896341
	t := x * log2e
	var n int32
	if t < 0 {
		n = int32(t - 0.5)
	} else {
		n = int32(t + 0.5)
	}
	fn := float32(n)
	r := x - fn*0.693359375 - fn*-2.12194440e-4
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(n+127)<<23)
}

// layerNormRow sets dst = (src - mean)/sqrt(var + eps)*w + b for one row,
// with the biased variance computed in two passes (torch layer_norm).
// asm selects the AVX-512 or AVX2 kernels (by the active level) for the
// 16-wide part of the row.
func layerNormRow(dst, src, w, b []float32, eps float64, asm bool) {
	k := kernGo
	if asm {
		k = rowKernel()
	}
	n := 0
	if k != kernGo {
		n = len(src) &^ 15
	}
	var lanes [16]float32
	var s float64
	if n > 0 {
		if k == kernAVX512 {
			sumAVX512(src[:n], &lanes)
		} else {
			sumAVX2(src[:n], &lanes)
		}
		for _, a := range lanes {
			s += float64(a)
		}
	}
	for _, a := range src[n:] {
		s += float64(a)
	}
	mean := float32(s / float64(len(src)))
	var ss float64
	if n > 0 {
		if k == kernAVX512 {
			sqDevAVX512(src[:n], mean, &lanes)
		} else {
			sqDevAVX2(src[:n], mean, &lanes)
		}
		for _, a := range lanes {
			ss += float64(a)
		}
	}
	for _, a := range src[n:] {
		t := float64(a - mean)
		ss += t * t
	}
	inv := float32(1 / math.Sqrt(ss/float64(len(src))+eps))
	if n > 0 {
		if k == kernAVX512 {
			normAffineAVX512(dst[:n], src, w, b, mean, inv)
		} else {
			normAffineAVX2(dst[:n], src, w, b, mean, inv)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] = (src[i]-mean)*inv*w[i] + b[i]
	}
}
