package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/internal/isa"
)

// geluExact is GELU in float64.
func geluExact(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

// kernelPaths runs f for the Go twin (asm false) and for each assembly
// level the CPU has (asm true, the level active; see forEachLevel), so all
// are held to the same bounds.
func kernelPaths(t *testing.T, f func(t *testing.T, asm bool)) {
	forEachLevel(t, func(t *testing.T, l isa.Level) { f(t, l != isa.Go) })
}

// TestGELUKernels sweeps [-8, 8] in a length that is not a multiple of 16.
// Bound: |err| <= 3e-7 * max(1, |x|), i.e. ~2.5 ulp of the output where it is
// of order x, and absolute 2e-7 near zero and in the negative tail where
// float32 1 + erf cancels (PyTorch's vectorised erf has the same limit).
func TestGELUKernels(t *testing.T) {
	const n = 160003
	x := make([]float32, n)
	for i := range x {
		x[i] = -8 + 16*float32(i)/n
	}
	kernelPaths(t, func(t *testing.T, asm bool) {
		v := append([]float32(nil), x...)
		if asm {
			geluSlice(v)
		} else {
			geluGo(v)
		}
		worst, at := 0.0, 0
		for i, a := range x {
			err := math.Abs(float64(v[i])-geluExact(float64(a))) / max(1, math.Abs(float64(a)))
			if err > worst || math.IsNaN(err) {
				worst, at = err, i
			}
		}
		t.Logf("worst scaled error %.3g at x=%g", worst, x[at])
		if !(worst <= 3e-7) { // a NaN fails too
			t.Errorf("GELU error %.3g at x=%g, want <= 3e-7", worst, x[at])
		}
	})
}

// TestSoftmaxKernels checks rows of many lengths (tails of 0..15 after the
// 16-wide blocks) and large logits against a float64 softmax: the bound
// 1e-6 absolute is ~16 float32 roundings of a probability <= 1.
func TestSoftmaxKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 5, 16, 17, 31, 64, 100, 785} {
		for _, spread := range []float64{1, 30} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * spread)
			}
			const scale = 0.125
			want := make([]float64, n)
			m := math.Inf(-1)
			for _, a := range x {
				m = max(m, float64(a)*scale)
			}
			var s float64
			for i, a := range x {
				want[i] = math.Exp(float64(a)*scale - m)
				s += want[i]
			}
			t.Run(fmt.Sprintf("n%d_spread%g", n, spread), func(t *testing.T) {
				kernelPaths(t, func(t *testing.T, asm bool) {
					v := append([]float32(nil), x...)
					if asm {
						softmaxRow(v, scale)
					} else {
						softmaxRowGo(v, scale)
					}
					for i := range v {
						if d := math.Abs(float64(v[i]) - want[i]/s); !(d <= 1e-6) {
							t.Fatalf("p[%d] = %g, want %g", i, v[i], want[i]/s)
						}
					}
				})
			})
		}
	}
}

// TestSoftmaxKernelsNonFinite plants NaN and ±Inf in rows whose specials
// fall both in the 16-wide assembly blocks and in the Go tail. The expected
// results are torch.softmax's (checked with PyTorch 1.13 on CPU): a row with a
// NaN or a +Inf is all NaN (+Inf-(+Inf) is NaN), a row of only -Inf is all
// NaN (-Inf-(-Inf)), and a -Inf among finite logits gives exactly +0 while
// the others stay the finite softmax (bound 1e-6 as in TestSoftmaxKernels).
// The assembly and the Go twin must agree exactly on which entries are NaN
// and on the +0 bits.
func TestSoftmaxKernelsNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	type plant struct {
		name   string
		at     []int // positions (mod n) of the special value
		val    float32
		allNaN bool
	}
	plants := []plant{
		{"nan_first", []int{0}, nan, true},
		{"nan_last", []int{-1}, nan, true},
		{"nan_mid", []int{5}, nan, true},
		{"posinf", []int{3}, inf, true},
		{"posinf_last", []int{-1}, inf, true},
		{"neginf", []int{2, -1}, -inf, false},
		{"neginf_first", []int{0}, -inf, false},
	}
	for _, n := range []int{7, 16, 17, 40} {
		for _, p := range plants {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i%5) - 2
			}
			for _, i := range p.at {
				x[(i+n)%n] = p.val
			}
			// Reference over the finite entries (only used when !allNaN).
			const scale = 0.125
			want := make([]float64, n)
			var s float64
			for i, a := range x {
				if !math.IsInf(float64(a), -1) {
					want[i] = math.Exp(float64(a) * scale)
					s += want[i]
				}
			}
			t.Run(fmt.Sprintf("n%d_%s", n, p.name), func(t *testing.T) {
				var goRow []float32 // the Go twin's, which runs first
				kernelPaths(t, func(t *testing.T, asm bool) {
					v := append([]float32(nil), x...)
					if asm {
						softmaxRow(v, scale)
					} else {
						softmaxRowGo(v, scale)
						goRow = v
					}
					for i, a := range v {
						switch {
						case p.allNaN:
							if !math.IsNaN(float64(a)) {
								t.Fatalf("p[%d] = %g, want NaN (torch: the row has %g)", i, a, p.val)
							}
						case math.IsInf(float64(x[i]), -1):
							if math.Float32bits(a) != 0 {
								t.Fatalf("p[%d] = %g (bits %#x), want +0 for a -Inf logit", i, a, math.Float32bits(a))
							}
						default:
							if d := math.Abs(float64(a) - want[i]/s); !(d <= 1e-6) {
								t.Fatalf("p[%d] = %g, want %g", i, a, want[i]/s)
							}
						}
					}
					if !asm {
						return
					}
					for i := range x {
						g, a := goRow[i], v[i]
						if math.IsNaN(float64(g)) != math.IsNaN(float64(a)) ||
							(math.IsInf(float64(x[i]), 0) && !math.IsNaN(float64(g)) && math.Float32bits(g) != math.Float32bits(a)) {
							t.Fatalf("p[%d]: Go %g, assembly %g", i, g, a)
						}
					}
				})
			})
		}
	}
	// A row of only -Inf: NaN everywhere, as torch.softmax gives.
	for _, n := range []int{3, 16, 21} {
		t.Run(fmt.Sprintf("n%d_all_neginf", n), func(t *testing.T) {
			kernelPaths(t, func(t *testing.T, asm bool) {
				v := make([]float32, n)
				for i := range v {
					v[i] = -inf
				}
				if asm {
					softmaxRow(v, 1)
				} else {
					softmaxRowGo(v, 1)
				}
				for i, a := range v {
					if !math.IsNaN(float64(a)) {
						t.Fatalf("p[%d] = %g, want NaN", i, a)
					}
				}
			})
		})
	}
}

// TestGELUKernelsNonFinite checks special inputs in the 16-wide assembly
// block and in the Go tail against torch.nn.functional.gelu (exact form,
// PyTorch 1.13 CPU, compared bit for bit): GELU(NaN) = NaN, GELU(+Inf) = +Inf,
// GELU(-Inf) = NaN (-Inf·0), GELU(-0) = +0 and GELU(x) = +0 for x <= -8 or
// so (erf rounds to -1, and h + h·erf = h - h is +0), GELU(1e30) = 1e30.
// The assembly and the Go twin must give the same bits (NaN payloads aside).
func TestGELUKernelsNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	specials := []struct{ x, want float32 }{
		{nan, nan}, {inf, inf}, {-inf, nan}, {float32(math.Copysign(0, -1)), 0},
		{-10, 0}, {-1e30, 0}, {1e30, 1e30},
	}
	x := make([]float32, 16+len(specials)) // specials at 0.. and in the tail
	for i := range x {
		x[i] = 0.25 * float32(i)
	}
	for k, s := range specials {
		x[k], x[16+k] = s.x, s.x
	}
	var goRow []float32 // the Go twin's, which runs first
	kernelPaths(t, func(t *testing.T, asm bool) {
		v := append([]float32(nil), x...)
		if asm {
			geluSlice(v)
		} else {
			geluGo(v)
			goRow = v
		}
		for k, s := range specials {
			for _, i := range []int{k, 16 + k} {
				a := v[i]
				ok := math.Float32bits(a) == math.Float32bits(s.want)
				if math.IsNaN(float64(s.want)) {
					ok = math.IsNaN(float64(a))
				}
				if !ok {
					t.Errorf("GELU(%g) at %d = %g (bits %#x), want %g (bits %#x)",
						s.x, i, a, math.Float32bits(a), s.want, math.Float32bits(s.want))
				}
			}
		}
		if !asm {
			return
		}
		for k := range specials {
			g, a := goRow[k], v[k]
			if math.IsNaN(float64(g)) != math.IsNaN(float64(a)) ||
				(!math.IsNaN(float64(g)) && math.Float32bits(g) != math.Float32bits(a)) {
				t.Errorf("GELU(%g): Go %g, assembly %g", x[k], g, a)
			}
		}
	})
}

// TestLayerNormKernels checks ViT-width rows with a large common offset
// (DINO's residual stream has outlier dimensions) against a float64 layer
// norm. Bound 2e-6 relative to max(1, |y|): the float32 lane sums lose
// ~48 roundings of the row's magnitude, well under it.
func TestLayerNormKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, d := range []int{7, 16, 33, 384, 768} {
		src := make([]float32, d)
		w, b := make([]float32, d), make([]float32, d)
		for i := range src {
			src[i] = float32(20 + 3*rng.NormFloat64())
			w[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		var s, ss float64
		for _, a := range src {
			s += float64(a)
		}
		m := s / float64(d)
		for _, a := range src {
			ss += (float64(a) - m) * (float64(a) - m)
		}
		inv := 1 / math.Sqrt(ss/float64(d)+1e-6)
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			kernelPaths(t, func(t *testing.T, asm bool) {
				dst := make([]float32, d)
				layerNormRow(dst, src, w, b, 1e-6, asm)
				for i := range dst {
					want := (float64(src[i])-m)*inv*float64(w[i]) + float64(b[i])
					if e := math.Abs(float64(dst[i])-want) / max(1, math.Abs(want)); !(e <= 2e-6) {
						t.Fatalf("y[%d] = %g, want %g", i, dst[i], want)
					}
				}
			})
		})
	}
}

// naiveAttention is timm's attention in float64 from the definition.
func naiveAttention(qkv []float32, t, c, heads int) []float32 {
	hd := c / heads
	y := make([]float32, t*c)
	p := make([]float64, t)
	for h := 0; h < heads; h++ {
		for i := 0; i < t; i++ {
			m := math.Inf(-1)
			for j := 0; j < t; j++ {
				var s float64
				for d := 0; d < hd; d++ {
					s += float64(qkv[i*3*c+h*hd+d]) * float64(qkv[j*3*c+c+h*hd+d])
				}
				p[j] = s / math.Sqrt(float64(hd))
				m = max(m, p[j])
			}
			var z float64
			for j := range p {
				p[j] = math.Exp(p[j] - m)
				z += p[j]
			}
			for d := 0; d < hd; d++ {
				var s float64
				for j := range p {
					s += p[j] * float64(qkv[j*3*c+2*c+h*hd+d])
				}
				y[i*c+h*hd+d] = float32(s / z)
			}
		}
	}
	return y
}

// TestAttentionLarge runs a ViT-S/16-like sequence (197 tokens: softmax
// rows of 12 blocks of 16 plus a tail of 5, several goroutines) against
// naiveAttention; tolProduct as for the fixtures (products of length 64
// and 197).
func TestAttentionLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const tokens, c, heads = 197, 96, 3
	qkv := randTensor(rng, tokens, 3*c)
	want := From(naiveAttention(qkv.Data, tokens, c, heads), tokens, c)
	compare(t, Attention(qkv, heads), want, tolProduct)
	// The batched form gives the same per image.
	two := New(2, tokens, 3*c)
	copy(two.Data, qkv.Data)
	copy(two.Data[tokens*3*c:], qkv.Data)
	y := Attention(two, heads)
	compare(t, From(y.Data[tokens*c:], tokens, c), want, tolProduct)
}

// TestGELUBlock checks geluBlock (the GEMM epilogue's GELU) on blocks with
// a row stride wider than the block, widths with and without a Go tail:
// every value of the block equals geluSlice of it (the same kernels), and
// the values between the rows are untouched.
func TestGELUBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, sh := range [][3]int{{1, 16, 16}, {7, 32, 40}, {5, 20, 21}, {3, 7, 9}, {4, 48, 48}} {
		rows, cols, ldc := sh[0], sh[1], sh[2]
		c := make([]float32, rows*ldc)
		for i := range c {
			c[i] = float32(rng.NormFloat64() * 3)
		}
		forEachLevel(t, func(t *testing.T, _ isa.Level) {
			got := append([]float32(nil), c...)
			want := append([]float32(nil), c...)
			for r := 0; r < rows; r++ {
				geluSlice(want[r*ldc : r*ldc+cols])
			}
			geluBlock(got, ldc, rows, cols)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%v: [%d] = %g, want %g", sh, i, got[i], want[i])
				}
			}
		})
	}
}
