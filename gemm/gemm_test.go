package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// shapes covers tiny products, primes, sizes just past a tile or a k block,
// m or n smaller than any tile, single rows/columns, empty products and one
// large-ish product that exercises several mc and kc blocks.
var shapes = [][3]int{ // m, n, k
	{1, 1, 1}, {17, 33, 5}, {13, 31, 7}, {14, 32, 256}, {15, 33, 257},
	{3, 5, 600}, {29, 97, 513}, {1, 100, 300}, {100, 1, 300}, {2, 300, 50},
	{45, 70, 30}, {0, 5, 5}, {5, 0, 5}, {5, 5, 0}, {300, 200, 700},
}

// testConfigs are all kernels, each on 1 worker, on 3 (more workers than
// cores, and 3 forces uneven row and column splits) and on 1 and 2 with tiny
// cache blocks (kc = 24, mc = 2 tiles) so that small matrices cross many k
// and m block edges (on 1 worker, inside the single serial gemmRange call);
// serialBelow 0 so that even the small shapes are split.
func testConfigs() []config {
	var cs []config
	for _, k := range testKernels() {
		cs = append(cs, config{kern: k, threads: 1}, config{kern: k, threads: 3},
			config{kern: k, threads: 1, kc: 24, mc: 2 * k.mr},
			config{kern: k, threads: 2, kc: 24, mc: 2 * k.mr},
			// Five row tiles per block: the last four take the quarter
			// prefetch kernel (nextQuarter), also with several k blocks.
			config{kern: k, threads: 1, kc: 24, mc: 5 * k.mr})
	}
	return cs
}

// testKernels are the kernels the machine runs plus, in a noasm build,
// the Go twins of the assembly kernels (same tile sizes, pure Go).
func testKernels() []*kernel {
	ks := availableKernels()
	if !haveAsm {
		ks = append(ks, kernelAVX512, kernelAVX2)
	}
	return ks
}

// padded returns a rows x cols matrix with leading dimension ld whose padding
// holds pad (NaN for inputs: a kernel that reads it poisons C).
func padded(rng *rand.Rand, rows, cols, ld int, pad float32) []float32 {
	s := make([]float32, max(rows*ld, 1))
	for i := range s {
		if i%ld < cols {
			s[i] = rng.Float32()*2 - 1
		} else {
			s[i] = pad
		}
	}
	return s
}

// gemmTol is the allowed |got - want| for one element: both results are sums
// of the same k products plus c0, each within γ_{k+1}·(Σ_p|a_ip||b_pj| +
// |c0|) of the exact value (Higham, Accuracy and Stability, §3.1), whatever
// the summation order, so they differ by at most twice that.
func gemmTol(k int, absSum, c0 float64) float64 {
	g := float64(k+1) * eps32 / (1 - float64(k+1)*eps32)
	return 2*g*(absSum+math.Abs(c0)) + 1e-30
}

func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, trans := range []bool{false, true} {
			for _, acc := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/trans=%v/acc=%v", m, n, k, trans, acc)
				lda, ldc := k+3, n+7
				a := padded(rng, m, k, lda, float32(math.NaN()))
				var b []float32
				var ldb int
				if trans {
					ldb = k + 5
					b = padded(rng, n, k, ldb, float32(math.NaN()))
				} else {
					ldb = n + 5
					b = padded(rng, k, n, ldb, float32(math.NaN()))
				}
				const sentinel = 12345
				c0 := padded(rng, m, n, ldc, sentinel)
				want := append([]float32(nil), c0...)
				absSum := make([]float64, m*n)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						for p := 0; p < k; p++ {
							var bv float32
							if trans {
								bv = b[j*ldb+p]
							} else {
								bv = b[p*ldb+j]
							}
							absSum[i*n+j] += math.Abs(float64(a[i*lda+p]) * float64(bv))
						}
					}
				}
				if trans {
					refMatMulT(m, n, k, a, lda, b, ldb, want, ldc, acc)
				} else {
					refMatMul(m, n, k, a, lda, b, ldb, want, ldc, acc)
				}
				check := func(cfgName string, got []float32) {
					t.Helper()
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							g := got[i*ldc+j]
							if j >= n {
								if g != sentinel {
									t.Fatalf("%s %s: wrote C padding at (%d,%d): %g", name, cfgName, i, j, g)
								}
								continue
							}
							cv := 0.0
							if acc {
								cv = float64(c0[i*ldc+j])
							}
							tol := gemmTol(k, absSum[i*n+j], cv)
							if d := math.Abs(float64(g) - float64(want[i*ldc+j])); !(d <= tol) {
								t.Fatalf("%s %s: C[%d][%d] = %g, want %g (tol %g)", name, cfgName, i, j, g, want[i*ldc+j], tol)
							}
						}
					}
				}
				for _, cfg := range testConfigs() {
					cfgName := fmt.Sprintf("%s/t%d/kc%d/mc%d", cfg.kern.name, cfg.threads, cfg.kc, cfg.mc)
					got := append([]float32(nil), c0...)
					cfg.matMul(m, n, k, a, lda, b, ldb, trans, got, ldc, acc)
					check(cfgName, got)
					// The same product through a B packed once (unpooled).
					got = append([]float32(nil), c0...)
					pb := cfg.packB(k, n, b, ldb, trans, false)
					cfg.matMulPacked(m, a, lda, pb, got, ldc, acc)
					check(cfgName+"/packed", got)
				}
			}
		}
	}
}

// TestExported checks that the exported entry points use a working kernel.
func TestExported(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m, n, k := 37, 45, 70
	a, b, bt := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, n*k)
	for p := 0; p < k; p++ {
		for j := 0; j < n; j++ {
			bt[j*k+p] = b[p*n+j]
		}
	}
	want := make([]float32, m*n)
	refMatMul(m, n, k, a, k, b, n, want, n, false)
	tol := gemmTol(k, float64(k), 0) // |a|,|b| <= 1
	for name, f := range map[string]func(c []float32){
		"MatMul":  func(c []float32) { MatMul(m, n, k, a, k, b, n, c, n, false) },
		"MatMulT": func(c []float32) { MatMulT(m, n, k, a, k, bt, k, c, n, false) },
		"PackB":   func(c []float32) { MatMulPacked(m, a, k, PackB(k, n, b, n), c, n, false) },
		"PackBT":  func(c []float32) { MatMulPacked(m, a, k, PackBT(k, n, bt, k), c, n, false) },
		"Serial":  func(c []float32) { MatMulPackedSerial(m, a, k, PackB(k, n, b, n), c, n, false) },
		// The pooled variants, each on a pool buffer dirtied with NaN first:
		// a value of B the packing failed to write would show as NaN in C.
		"PackBTemp": func(c []float32) {
			dirtyPool(ceilDiv(n, defaultConfig().kern.nr) * defaultConfig().kern.nr * k)
			pb := PackBTemp(k, n, b, n)
			MatMulPacked(m, a, k, pb, c, n, false)
			pb.Release()
		},
		"PackBTTemp": func(c []float32) {
			dirtyPool(ceilDiv(n, defaultConfig().kern.nr) * defaultConfig().kern.nr * k)
			pb := PackBTTemp(k, n, bt, k)
			MatMulPackedSerial(m, a, k, pb, c, n, false)
			pb.Release()
			if pb.buf != nil || pb.data != nil {
				t.Error("PackBTTemp: Release kept the buffer (a second Release would pool it twice)")
			}
			pb.Release() // a no-op now
		},
		"PackBT-accum2x": func(c []float32) {
			pb := PackBT(k, n, bt, k)
			MatMulPacked(m, a, k, pb, c, n, false)
			MatMulPacked(m, a, k, pb, c, n, true)
			scale(c, 0.5)
		},
	} {
		c := make([]float32, m*n)
		f(c)
		for i := range c {
			if d := math.Abs(float64(c[i] - want[i])); !(d <= 2*tol) {
				t.Fatalf("%s: C[%d] = %g, want %g", name, i, c[i], want[i])
			}
		}
	}
}

// dirtyPool fills a pooled buffer of n floats with NaN and gives it back,
// so that the next getBuf of that size class likely returns it.
func dirtyPool(n int) {
	b := getBuf(n)
	for i := range b.raw {
		b.raw[i] = float32(math.NaN())
	}
	putBuf(b)
}

func scale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// TestShortSlicePanics checks that a C too short for its shape is refused
// before the assembly could write past it.
func TestShortSlicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short C")
		}
	}()
	MatMul(4, 4, 4, make([]float32, 16), 4, make([]float32, 16), 4, make([]float32, 15), 4, false)
}
