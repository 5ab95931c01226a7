package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/internal/isa"
)

// TestKernels checks every kernel this machine can run against goKernel at
// the same tile size, for depths that exercise the empty loop, one step and
// more than a k block, with and without accumulation, into a C with a row
// stride wider than the tile.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kern := range testKernels() {
		for _, kc := range []int{0, 1, 7, 300} {
			for _, acc := range []bool{false, true} {
				mr, nr, ldc := kern.mr, kern.nr, kern.nr+3
				a := randSlice(rng, max(kc*mr, 1))
				b := randSlice(rng, max(kc*nr, 1))
				c0 := randSlice(rng, mr*ldc)
				got := append([]float32(nil), c0...)
				want := append([]float32(nil), c0...)
				kern.fn(kc, &a[0], &b[0], &got[0], ldc, acc)
				goKernel(mr, nr, kc, &a[0], &b[0], &want[0], ldc, acc)
				for i := 0; i < mr; i++ {
					for j := 0; j < ldc; j++ {
						g, w := got[i*ldc+j], want[i*ldc+j]
						if j >= nr {
							// Outside the tile: must be untouched.
							if g != c0[i*ldc+j] {
								t.Fatalf("%s kc=%d: wrote outside the tile at (%d,%d)", kern.name, kc, i, j)
							}
							continue
						}
						// Same products, possibly in another FMA rounding:
						// bound γ_{kc+1}·(Σ|a||b| + |c0|) ≤ (kc+1)·eps·(kc+|c0|)
						// for |a|,|b| ≤ 1, doubled for the two sides.
						tol := 2 * float64(kc+1) * eps32 * (float64(kc) + 1)
						if d := float64(g - w); !(d <= tol && d >= -tol) { // a NaN fails too
							t.Fatalf("%s kc=%d acc=%v: C[%d][%d] = %g, want %g (tol %g)", kern.name, kc, acc, i, j, g, w, tol)
						}
					}
				}
			}
		}
	}
}

// eps32 is the unit roundoff of float32, 2⁻²⁴.
const eps32 = 1.0 / (1 << 24)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// TestRowKernels checks the row-edge variants: rows[r] must produce the
// first r rows of the full kernel's tile exactly (same FMA sequence per
// element) and leave the other rows of C untouched.
func TestRowKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, kern := range testKernels() {
		if kern.rows == nil {
			continue
		}
		mr, nr, ldc := kern.mr, kern.nr, kern.nr+1
		for _, kc := range []int{1, 33} {
			for _, acc := range []bool{false, true} {
				a, b := randSlice(rng, kc*mr), randSlice(rng, kc*nr)
				c0 := randSlice(rng, mr*ldc)
				full := append([]float32(nil), c0...)
				kern.fn(kc, &a[0], &b[0], &full[0], ldc, acc)
				for r := 1; r < mr; r++ {
					got := append([]float32(nil), c0...)
					kern.rows[r](kc, &a[0], &b[0], &got[0], ldc, acc)
					for i := 0; i < mr; i++ {
						for j := 0; j < ldc; j++ {
							want := c0[i*ldc+j]
							if i < r && j < nr {
								want = full[i*ldc+j]
							}
							if got[i*ldc+j] != want {
								t.Fatalf("%s rows[%d] kc=%d acc=%v: C[%d][%d] = %g, want %g", kern.name, r, kc, acc, i, j, got[i*ldc+j], want)
							}
						}
					}
				}
			}
		}
	}
}

// TestNextKernels checks the prefetching variants: next must write exactly
// the bits of fn (the same FMAs in the same order; the prefetch of bnext is
// only a hint), for depths around the 4-step unroll, into a strided C, and
// leave the rest of C untouched.
func TestNextKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tested := 0
	for _, kern := range testKernels() {
		if kern.next == nil {
			continue
		}
		tested++
		mr, nr, ldc := kern.mr, kern.nr, kern.nr+5
		for _, kc := range []int{0, 1, 3, 4, 5, 8, 13, 300} {
			for _, acc := range []bool{false, true} {
				a, b := randSlice(rng, max(kc*mr, 1)), randSlice(rng, max(kc*nr, 1))
				bnext := randSlice(rng, max(kc*nr, 1))
				c0 := randSlice(rng, mr*ldc)
				want := append([]float32(nil), c0...)
				got := append([]float32(nil), c0...)
				kern.fn(kc, &a[0], &b[0], &want[0], ldc, acc)
				kern.next(kc, &a[0], &b[0], &got[0], ldc, acc, &bnext[0])
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s next kc=%d acc=%v: C[%d][%d] = %g, fn gives %g", kern.name, kc, acc, i/ldc, i%ldc, got[i], want[i])
					}
				}
				if kern.nextQuarter == nil {
					continue
				}
				got = append(got[:0], c0...)
				kern.nextQuarter(kc, &a[0], &b[0], &got[0], ldc, acc, &bnext[0])
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s nextQuarter kc=%d acc=%v: C[%d][%d] = %g, fn gives %g", kern.name, kc, acc, i/ldc, i%ldc, got[i], want[i])
					}
				}
			}
		}
	}
	if haveAsm && isa.Has(isa.AVX2) && tested == 0 {
		t.Fatal("the AVX2 kernel has no prefetching variant")
	}
}
