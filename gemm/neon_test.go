package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/internal/isa"
)

// requireNEON skips unless the NEON assembly is compiled in and may run.
func requireNEON(t *testing.T) {
	t.Helper()
	if !haveNEONAsm {
		t.Skip("no NEON assembly in this build (GOARCH != arm64 or -tags noasm); the Go twins are tested elsewhere")
	}
	if !isa.Has(isa.NEON) {
		t.Skipf("NEON not active (%s)", isa.Describe())
	}
}

// TestNEONKernel checks the NEON 8x12 kernel and its row-edge variants
// against goKernel, exactly: both compute each element as a chain of fused
// multiply-adds over p from 0 and then add C (the Go compiler fuses
// ti[j] += av*bv into FMADDS on arm64), so the bits must agree. Depths cover
// the empty loop, one step and a long k; C has a row stride wider than the
// tile, whose padding must stay untouched, and NaN-free random values.
func TestNEONKernel(t *testing.T) {
	requireNEON(t)
	if defaultKernel != kernelNEON {
		t.Fatalf("default kernel is %s, want %s on a NEON CPU", defaultKernel.name, kernelNEON.name)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	const mr, nr = 8, 12
	for _, kc := range []int{0, 1, 2, 5, 64, 301} {
		for _, acc := range []bool{false, true} {
			for _, ldc := range []int{nr, nr + 5} {
				a := randSlice(rng, max(kc*mr, 1))
				b := randSlice(rng, max(kc*nr, 1))
				c0 := randSlice(rng, mr*ldc)
				want := append([]float32(nil), c0...)
				goKernel(mr, nr, kc, &a[0], &b[0], &want[0], ldc, acc)
				for r := 1; r <= mr; r++ {
					fn := kernel8x12
					if r < mr {
						fn = rows8x12[r]
					}
					got := append([]float32(nil), c0...)
					fn(kc, &a[0], &b[0], &got[0], ldc, acc)
					for i := 0; i < mr; i++ {
						for j := 0; j < ldc; j++ {
							w := c0[i*ldc+j]
							if i < r && j < nr {
								w = want[i*ldc+j]
							}
							if g := got[i*ldc+j]; math.Float32bits(g) != math.Float32bits(w) {
								t.Fatalf("rows=%d kc=%d acc=%v ldc=%d: C[%d][%d] = %g, want %g", r, kc, acc, ldc, i, j, g, w)
							}
						}
					}
				}
			}
		}
	}
}

// TestNEONGEMM runs whole products through the NEON kernel at shapes that
// leave partial row and column tiles, against the float64 reference.
func TestNEONGEMM(t *testing.T) {
	requireNEON(t)
	rng := rand.New(rand.NewPCG(23, 24))
	for _, s := range [][3]int{{8, 12, 1}, {9, 13, 7}, {31, 50, 300}, {100, 37, 64}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(rng, m*k), randSlice(rng, k*n)
		c := make([]float32, m*n)
		cfg := defaultConfig()
		if cfg.kern != kernelNEON {
			t.Fatalf("config kernel %s, want %s", cfg.kern.name, kernelNEON.name)
		}
		MatMul(m, n, k, a, k, b, n, c, n, false)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var want, mag float64
				for p := 0; p < k; p++ {
					x := float64(a[i*k+p]) * float64(b[p*n+j])
					want += x
					mag += math.Abs(x)
				}
				tol := 2 * float64(k+1) * eps32 * mag
				if d := float64(c[i*n+j]) - want; !(math.Abs(d) <= tol) {
					t.Fatalf("%dx%dx%d: C[%d][%d] = %g, want %g (tol %g)", m, n, k, i, j, c[i*n+j], want, tol)
				}
			}
		}
	}
}

// TestRowMinNEON checks the NEON row minimum against its Go twin with
// planted NaN, ±Inf and ties across lanes and 16-column steps: the index
// must be equal and the value equal (±0 compare equal).
func TestRowMinNEON(t *testing.T) {
	requireNEON(t)
	if !haveRowMinAsm {
		t.Fatal("haveRowMinAsm is false on a NEON CPU")
	}
	rng := rand.New(rand.NewPCG(25, 26))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{nan, inf, -inf, 0, float32(math.Copysign(0, -1))}
	for _, n := range []int{16, 32, 64, 400} {
		for trial := 0; trial < 200; trial++ {
			c, norms := make([]float32, n), make([]float32, n)
			for j := range c {
				c[j], norms[j] = float32(rng.IntN(3)), float32(rng.IntN(3))
				if rng.IntN(8) == 0 {
					c[j] = special[rng.IntN(len(special))]
				}
				if rng.IntN(8) == 0 {
					norms[j] = special[rng.IntN(len(special))]
				}
			}
			if trial%50 == 0 { // all NaN: no column qualifies
				for j := range c {
					c[j] = nan
				}
			}
			v, j := rowMin(n, &c[0], &norms[0]) // rowMinNEON: haveRowMinAsm
			wv, wj := rowMinGo(n, &c[0], &norms[0])
			if v != wv || j != wj {
				t.Fatalf("n=%d trial %d: rowMin = (%g, %d), want (%g, %d)", n, trial, v, j, wv, wj)
			}
		}
	}
}
