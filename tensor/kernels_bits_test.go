package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/internal/isa"
)

// The tests below call each assembly kernel directly, at every level the
// CPU has, and compare it bit for bit with a Go model of what the kernel
// computes: the same operations in the same order, each fused multiply-add
// rounded once (fma32). The AVX-512 and AVX2 kernels must both equal the
// model, hence each other; the production Go twins (expShiftGo, geluGo, ...)
// use unfused float32 or float64 arithmetic and are held to error bounds in
// kernels_test.go instead. NaN payloads are not compared, only NaN-ness.

// fma32 is a*b + c rounded once to float32, as VFMADD*PS computes it.
// The product of two float32 is exact in float64; the float64 sum's
// rounding error is recovered (TwoSum) and breaks the tie when that sum
// lies exactly half way between two float32 (double rounding).
func fma32(a, b, c float32) float32 {
	p, q := float64(a)*float64(b), float64(c)
	s := p + q
	r := float32(s)
	if math.IsInf(s, 0) || math.IsNaN(s) || float64(r) == s {
		return r
	}
	bb := s - p
	e := (p - (s - bb)) + (q - bb) // exact: p + q = s + e
	lo, hi := r, r
	if float64(r) < s {
		hi = math.Nextafter32(r, float32(math.Inf(1)))
	} else {
		lo = math.Nextafter32(r, float32(math.Inf(-1)))
	}
	if mid := (float64(lo) + float64(hi)) / 2; mid == s && e != 0 {
		if e > 0 {
			return hi
		}
		return lo
	}
	return r
}

// asmKernels are one level's kernels.
type asmKernels struct {
	expShift   func(v []float32, m, scale float32, sums *[16]float32)
	max        func(v []float32, out *[16]float32)
	scale      func(v []float32, s float32)
	geluRows   func(c *float32, ldc, rows, cols int)
	depthwise  func(out, in, w, bias *float32, c, n, step int, offs []int)
	sum        func(v []float32, out *[16]float32)
	sqDev      func(v []float32, m float32, out *[16]float32)
	normAffine func(dst, src, w, b []float32, m, inv float32)
	width      int // the multiple of cols (GELU), c (depthwise) and len(dst) (normAffine)
}

var levelKernels = map[isa.Level]asmKernels{
	isa.AVX512: {expShiftAVX512, maxAVX512, scaleAVX512, geluRowsAVX512, depthwiseAVX512, sumAVX512, sqDevAVX512, normAffineAVX512, 16},
	isa.AVX2:   {expShiftAVX2, maxAVX2, scaleAVX2, geluRowsAVX2, depthwiseAVX2, sumAVX2, sqDevAVX2, normAffineAVX2, 8},
}

// forEachAsmLevel runs f for every assembly level of this architecture,
// skipping those the CPU or build lacks with the reason.
func forEachAsmLevel(t *testing.T, f func(t *testing.T, k asmKernels)) {
	t.Helper()
	for _, l := range asmLevels() {
		t.Run(l.String(), func(t *testing.T) {
			if !supported(l) {
				t.Skipf("this CPU or build cannot run %s (%s)", l, isa.Describe())
			}
			f(t, levelKernels[l])
		})
	}
}

// sameBits reports whether a and b are the same float32, any NaN equal to
// any NaN.
func sameBits(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// expModel is one lane of expShiftAVX512/expShiftAVX2.
func expModel(a, m, scale float32) float32 {
	x := float32(float32(a-m) * scale)
	if x < -104 { // VMAXPS keeps a NaN x
		x = -104
	}
	if x > 104 { // VMINPS too; +Inf gives +Inf, not NaN
		x = 104
	}
	n := float32(math.RoundToEven(float64(float32(x * math.Float32frombits(0x3fb8aa3b)))))
	r := fma32(-n, math.Float32frombits(0x3f318000), x)
	r = fma32(-n, math.Float32frombits(0xb95e8083), r)
	p := math.Float32frombits(0x39500d01)
	for _, c := range []uint32{0x3ab60b61, 0x3c088889, 0x3d2aaaab, 0x3e2aaaab, 0x3f000000, 0x3f800000, 0x3f800000} {
		p = fma32(p, r, math.Float32frombits(c))
	}
	if n != n {
		return p // NaN
	}
	// p·2^n (VSCALEFPS): exact in float64, then one rounding; any n above
	// 300 overflows as n itself does.
	return float32(math.Ldexp(float64(p), int(min(n, 300))))
}

// geluModel is one lane of geluRowsAVX512/geluRowsAVX2.
func geluModel(x float32) float32 {
	z := float32(x * math.Float32frombits(0x3f3504f3))
	if !(z != z) {
		z = max(min(z, 4), -4)
	}
	z2 := float32(z * z)
	p := math.Float32frombits(0xaf95df0b)
	for _, c := range []uint32{0x32edffee, 0xb60cff51, 0xb86ec2d2, 0xba40ac63, 0xbb41a1f6, 0xbc83dbd4} {
		p = fma32(p, z2, math.Float32frombits(c))
	}
	q := math.Float32frombits(0xb77460cd)
	for _, c := range []uint32{0xb95fbd29, 0xbadc924e, 0xbbf19bf8, 0xbc69b6a7} {
		q = fma32(q, z2, math.Float32frombits(c))
	}
	e := float32(float32(p*z) / q)
	h := float32(x * 0.5)
	return fma32(h, e, h)
}

// specialsRow is a row of n values (a multiple of 16) of spread scale with
// NaN, ±Inf, ±0 and huge values planted in both 8-lane halves.
func specialsRow(rng *rand.Rand, n int, spread float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * spread)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for k, s := range []float32{nan, inf, -inf, float32(math.Copysign(0, -1)), 0, 1e30, -1e30, 3e38, -3e38} {
		if p := 3 + 11*k; p < n {
			v[p] = s
		}
	}
	return v
}

// TestExpShiftBits checks expShift over rows spanning the whole range the
// softmax feeds it (x = (v-m)*scale from 0 down past the clamp at -104,
// through the float32 subnormals below e^-87.3), and with NaN and ±Inf
// among the inputs, lane sums included.
func TestExpShiftBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	forEachAsmLevel(t, func(t *testing.T, k asmKernels) {
		for _, n := range []int{16, 32, 48, 784} {
			for _, special := range []bool{false, true} {
				v := make([]float32, n)
				for i := range v {
					v[i] = -110 * float32(rng.Float64())
				}
				if special {
					v = specialsRow(rng, n, 40)
					// Edges of the range, outside the softmax's x <= 0
					// too: overflow to +Inf (2^n beyond 2^254 included),
					// subnormal results, the clamp.
					copy(v[16:], []float32{88, 88.7, 89, 176, 177, 200, 1e30, -87.5, -103.9, -104, -104.5, -200, 0.5, -0.5, 1.5, -1.5})
					// Large finite x, where without the top clamp at +104
					// the polynomial of a huge r is -Inf and so was the
					// AVX-512 result (VSCALEFPS(-Inf, n)), not +Inf.
					copy(v[min(32, n):], []float32{103.9, 104, 104.5, 1e3, 1e5, 1e7, 1e8, 3e8, 7.205694e+08, 1e9, 1.5e9, 2e9, 4e9, 1e12, 1e20, 1e36})
				}
				m, scale := float32(0.25), float32(1.0)
				want := make([]float32, n)
				var lanes [16]float32
				for i, a := range v {
					want[i] = expModel(a, m, scale)
					lanes[i%16] += want[i]
				}
				var sums [16]float32
				k.expShift(v, m, scale, &sums)
				for i := range v {
					if !sameBits(v[i], want[i]) {
						t.Fatalf("n=%d: exp lane %d = %g (%#x), model %g (%#x)", n, i, v[i], math.Float32bits(v[i]), want[i], math.Float32bits(want[i]))
					}
				}
				for i := range lanes {
					if !sameBits(sums[i], lanes[i]) {
						t.Fatalf("n=%d: sum lane %d = %g, model %g", n, i, sums[i], lanes[i])
					}
				}
			}
		}
	})
}

// TestGELURowsBits checks geluRows on blocks with a row stride wider than
// the block (values between the rows untouched), over [-10, 10] with the
// specials planted.
func TestGELURowsBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	forEachAsmLevel(t, func(t *testing.T, k asmKernels) {
		for _, sh := range [][3]int{{1, 16, 16}, {3, 48, 53}, {2, 32, 32}, {5, 8, 9}, {4, 24, 30}} {
			rows, cols, ldc := sh[0], sh[1], sh[2]
			if cols%k.width != 0 {
				continue
			}
			c := specialsRow(rng, rows*ldc+16, 3)[:rows*ldc]
			want := append([]float32(nil), c...)
			for r := 0; r < rows; r++ {
				for i := r * ldc; i < r*ldc+cols; i++ {
					want[i] = geluModel(c[i])
				}
			}
			k.geluRows(&c[0], ldc, rows, cols)
			for i := range c {
				if !sameBits(c[i], want[i]) {
					t.Fatalf("%v: [%d] = %g (%#x), model %g (%#x)", sh, i, c[i], math.Float32bits(c[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
		// A sweep of [-10, 10] in one row.
		x := make([]float32, 1<<14)
		for i := range x {
			x[i] = -10 + 20*float32(i)/float32(len(x))
		}
		k.geluRows(&x[0], len(x), 1, len(x))
		for i := range x {
			a := -10 + 20*float32(i)/float32(len(x))
			if w := geluModel(a); !sameBits(x[i], w) {
				t.Fatalf("GELU(%g) = %g, model %g", a, x[i], w)
			}
		}
	})
}

// TestReductionKernelsBits checks max, sum, sqDev, scale and normAffine.
func TestReductionKernelsBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	forEachAsmLevel(t, func(t *testing.T, k asmKernels) {
		for _, n := range []int{16, 32, 48, 64, 80, 768} {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(20 + 3*rng.NormFloat64())
			}
			var got, lanes [16]float32
			// max
			for i := range lanes {
				lanes[i] = float32(math.Inf(-1))
			}
			for i, a := range v {
				lanes[i%16] = max(lanes[i%16], a)
			}
			k.max(v, &got)
			if got != lanes {
				t.Fatalf("n=%d: max %v, model %v", n, got, lanes)
			}
			// sum: even and odd 16-blocks apart, then added (the last
			// block of an odd count goes to the even sums).
			var even, odd [16]float32
			for i, a := range v {
				if (i/16)%2 == 0 {
					even[i%16] += a
				} else {
					odd[i%16] += a
				}
			}
			for i := range lanes {
				lanes[i] = even[i] + odd[i]
			}
			k.sum(v, &got)
			if got != lanes {
				t.Fatalf("n=%d: sum %v, model %v", n, got, lanes)
			}
			// sqDev
			m := float32(20.125)
			lanes = [16]float32{}
			for i, a := range v {
				d := float32(a - m)
				lanes[i%16] = fma32(d, d, lanes[i%16])
			}
			k.sqDev(v, m, &got)
			if got != lanes {
				t.Fatalf("n=%d: sqDev %v, model %v", n, got, lanes)
			}
			// normAffine, over a length that is a multiple of the width
			w, b := make([]float32, n), make([]float32, n)
			for i := range w {
				w[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			inv := float32(0.37)
			for _, nd := range []int{n, n - k.width} {
				if nd == 0 {
					continue
				}
				dst := make([]float32, n)
				k.normAffine(dst[:nd], v, w, b, m, inv)
				for i := range dst {
					want := float32(0)
					if i < nd {
						want = fma32(float32(float32(v[i]-m)*inv), w[i], b[i])
					}
					if !sameBits(dst[i], want) {
						t.Fatalf("n=%d nd=%d: normAffine [%d] = %g, model %g", n, nd, i, dst[i], want)
					}
				}
			}
			// scale
			s := append([]float32(nil), v...)
			k.scale(s, 1/float32(3))
			for i := range s {
				if want := float32(v[i] * (1 / float32(3))); s[i] != want {
					t.Fatalf("n=%d: scale [%d] = %g, want %g", n, i, s[i], want)
				}
			}
		}
		// NaN: scale and sum carry it; max keeps a NaN met first in a lane
		// (the kernels' VMAXPS returns its memory operand when either is
		// NaN, so a later number replaces it: softmaxRow relies on the
		// exponentials, not the maximum, to carry the NaN).
		v := make([]float32, 32)
		v[5] = float32(math.NaN())
		var got [16]float32
		k.sum(v, &got)
		if !math.IsNaN(float64(got[5])) {
			t.Errorf("sum lane 5 = %g, want NaN", got[5])
		}
		k.scale(v, 2)
		if !math.IsNaN(float64(v[5])) {
			t.Errorf("scale of NaN = %g", v[5])
		}
		v[5+16] = float32(math.NaN())
		k.max(v, &got)
		if !math.IsNaN(float64(got[5])) {
			t.Errorf("max lane 5 = %g with NaN last, want NaN", got[5])
		}
	})
}

// TestDepthwiseBits checks the depthwise kernel on groups of pixels that
// are not a multiple of 4 (the 4-pixel and 1-pixel loops), strides 1 and
// 2, 3x3 and 5x5 taps and channel counts of one and several widths.
func TestDepthwiseBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	forEachAsmLevel(t, func(t *testing.T, k asmKernels) {
		for _, tc := range []struct{ c, n, step, kh, kw, w int }{
			{8, 7, 1, 3, 3, 12}, {16, 9, 2, 3, 3, 24}, {24, 4, 1, 5, 5, 9}, {32, 13, 1, 3, 3, 16}, {48, 1, 2, 3, 3, 8},
		} {
			if tc.c%k.width != 0 {
				continue
			}
			name := fmt.Sprintf("c%d_n%d_s%d_%dx%d", tc.c, tc.n, tc.step, tc.kh, tc.kw)
			// Input map of tc.kh rows of width tc.w pixels.
			in := randTensor(rng, tc.kh*tc.w*tc.c).Data
			wt := randTensor(rng, tc.kh*tc.kw*tc.c).Data
			bias := randTensor(rng, tc.c).Data
			var offs []int
			for ky := 0; ky < tc.kh; ky++ {
				for kx := 0; kx < tc.kw; kx++ {
					offs = append(offs, 4*(ky*tc.w+kx)*tc.c)
				}
			}
			if (tc.n-1)*tc.step+tc.kw > tc.w {
				t.Fatalf("%s: bad case", name)
			}
			out := make([]float32, (tc.n+1)*tc.c)
			k.depthwise(&out[0], &in[0], &wt[0], &bias[0], tc.c, tc.n, tc.step*tc.c, offs)
			for p := 0; p <= tc.n; p++ {
				for ch := 0; ch < tc.c; ch++ {
					want := float32(0) // the pixel after the last is untouched
					if p < tc.n {
						want = bias[ch]
						for tp, o := range offs {
							want = fma32(in[p*tc.step*tc.c+o/4+ch], wt[tp*tc.c+ch], want)
						}
					}
					if got := out[p*tc.c+ch]; got != want {
						t.Fatalf("%s: pixel %d channel %d = %g, model %g", name, p, ch, got, want)
					}
				}
			}
		}
	})
}

// TestReLUKernelsBits checks reluSlice and relu6Slice at every level
// against their Go twins bit for bit, specials (NaN, ±Inf, ±0, 6 and just
// around it) in the 8-wide blocks and in the tail.
func TestReLUKernelsBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 50))
	forEachLevel(t, func(t *testing.T, l isa.Level) {
		for _, n := range []int{5, 8, 16, 23, 40, 203} {
			x := specialsRow(rng, n+16, 4)[:n]
			for k, s := range []float32{6, math.Nextafter32(6, 7), math.Nextafter32(6, 5), float32(math.Copysign(0, -1)), -1e-40, 1e-40} {
				if p := (5 + 7*k) % n; p < n {
					x[p] = s
				}
			}
			x[n-1] = float32(math.Copysign(0, -1))
			x[11%n] = float32(math.NaN()) // a NaN in the second 8 of a 16
			for _, f := range []struct {
				name        string
				slice, twin func([]float32)
			}{{"relu", reluSlice, reluGo}, {"relu6", relu6Slice, relu6Go}} {
				got, want := append([]float32(nil), x...), append([]float32(nil), x...)
				f.slice(got)
				f.twin(want)
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("%s n=%d: %s(%g) = %g (%#x), Go twin %g (%#x)", l, n, f.name, x[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	})
}

// TestReLUBlocksBits checks reluBlock and relu6Block (the convolution's
// GEMM epilogue on AVX2) on blocks with a row stride wider than the block:
// each row as the Go twin gives it, the values between rows untouched.
func TestReLUBlocksBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	forEachLevel(t, func(t *testing.T, l isa.Level) {
		for _, sh := range [][3]int{{1, 16, 16}, {3, 16, 21}, {4, 24, 24}, {2, 13, 20}, {5, 40, 41}} {
			rows, cols, ldc := sh[0], sh[1], sh[2]
			c := specialsRow(rng, rows*ldc+16, 5)[:rows*ldc]
			c[len(c)-1] = float32(math.NaN())
			for _, f := range []struct {
				name  string
				block func(c []float32, ldc, rows, cols int)
				twin  func([]float32)
			}{{"relu", reluBlock, reluGo}, {"relu6", relu6Block, relu6Go}} {
				got, want := append([]float32(nil), c...), append([]float32(nil), c...)
				f.block(got, ldc, rows, cols)
				for r := 0; r < rows; r++ {
					f.twin(want[r*ldc : r*ldc+cols])
				}
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("%s %v: %s [%d] of %g = %g, want %g", l, sh, f.name, i, c[i], got[i], want[i])
					}
				}
			}
		}
	})
}
