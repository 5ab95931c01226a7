package alpha

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/internal/isa"
)

// argMinCase builds (dot, na, nb) for pairArgMinima of size m: few distinct
// values so ties are common, plus +Inf, -Inf, NaN and ±0 when special.
func argMinCase(r *rand.Rand, m int, special bool) (dot, na, nb []float32) {
	pick := func() float32 {
		if special {
			switch r.IntN(20) {
			case 0:
				return float32(math.NaN())
			case 1:
				return float32(math.Inf(1))
			case 2:
				return float32(math.Inf(-1))
			case 3:
				return float32(math.Copysign(0, -1))
			case 4:
				return 0
			}
		}
		if r.IntN(2) == 0 {
			return float32(r.IntN(4)) // repeated values: ties
		}
		return r.Float32()*4 - 2
	}
	dot = make([]float32, m*m)
	for k := range dot {
		dot[k] = pick()
	}
	na = make([]float32, m)
	nb = make([]float32, m)
	for k := range na {
		na[k], nb[k] = pick(), pick()
	}
	return dot, na, nb
}

// TestPairArgMinimaTwin checks pairArgMinima against pairArgMinimaGo,
// index for index, at every isa level this CPU and build can run, on
// random inputs with ties, ±Inf, NaN and ±0, for sizes around the kernel's
// blocks of 8 and 16.
func TestPairArgMinimaTwin(t *testing.T) {
	sizes := []int{1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 31, 33, 40, 64, 100}
	for _, l := range isa.Supported() {
		t.Run(l.String(), func(t *testing.T) {
			defer isa.SetForTest(l)()
			if l != isa.Go && !argMinAsm() {
				t.Logf("no pairArgMinima assembly at %s in this build: checking the Go path", l)
			}
			r := rand.New(rand.NewPCG(7, uint64(l)))
			for _, m := range sizes {
				for trial := range 6 {
					special := trial%2 == 1
					dot, na, nb := argMinCase(r, m, special)
					wr, wc := make([]int32, m), make([]int32, m)
					pairArgMinimaGo(dot, m, na, nb, wr, wc)
					gr, gc := make([]int32, m), make([]int32, m)
					for k := range gr { // stale values must be overwritten
						gr[k], gc[k] = -5, -5
					}
					pairArgMinima(dot, m, na, nb, gr, gc)
					if !slices.Equal(gr, wr) || !slices.Equal(gc, wc) {
						t.Fatalf("m=%d trial %d (special %v): rows %v want %v; cols %v want %v",
							m, trial, special, gr, wr, gc, wc)
					}
				}
			}
		})
	}
}

// TestPairArgMinimaRules checks the tie, NaN and +Inf rules on hand-made
// rows: the first index among equal minima (also -0 against +0 in another
// lane), NaN never chosen, and index 0 when nothing is below +Inf.
func TestPairArgMinimaRules(t *testing.T) {
	for _, l := range isa.Supported() {
		t.Run(l.String(), func(t *testing.T) {
			defer isa.SetForTest(l)()
			const m = 37
			nan, inf := float32(math.NaN()), float32(math.Inf(1))
			dot := make([]float32, m*m)
			na := make([]float32, m)
			nb := make([]float32, m)
			for k := range nb {
				nb[k] = 10
			}
			// Row 0: minimum 1 at j = 5, 21 and 36 (different lanes and the
			// Go tail): 5 wins.
			for _, j := range []int{5, 21, 36} {
				nb[j] = 1
			}
			nb[12] = float32(math.Copysign(0, -1))
			dot[12] = -100 // row 0 at j = 12: -0 + 200
			// Row 1: all NaN but j = 30 (value nb-0 = 10 vs others NaN).
			for j := range m {
				dot[m+j] = nan
			}
			dot[m+30] = 0
			// Row 2: every value +Inf: index 0.
			for j := range m {
				dot[2*m+j] = float32(math.Inf(-1))
			}
			// Row 3: -0 at j = 12 (lane 4 of the first block), +0 at j = 3:
			// equal minima, 3 wins.
			for j := range m {
				dot[3*m+j] = -100
			}
			dot[3*m+12], dot[3*m+3] = 0, 5 // -0 - 0 = -0, 10 - 10 = +0
			for k := range m {
				if k > 3 {
					na[k] = inf
				}
			}
			rows, cols := make([]int32, m), make([]int32, m)
			pairArgMinima(dot, m, na, nb, rows, cols)
			want := map[int]int32{0: 5, 1: 30, 2: 0, 3: 3}
			for i, w := range want {
				if rows[i] != w {
					t.Errorf("row %d: arg %d, want %d", i, rows[i], w)
				}
			}
			wr, wc := make([]int32, m), make([]int32, m)
			pairArgMinimaGo(dot, m, na, nb, wr, wc)
			if !slices.Equal(rows, wr) || !slices.Equal(cols, wc) {
				t.Errorf("rows %v cols %v, Go twin rows %v cols %v", rows, cols, wr, wc)
			}
		})
	}
}

// BenchmarkPairArgMinima compares the Go twin and the dispatched version
// (AVX2 where the CPU and build allow) at m = 784 patches.
func BenchmarkPairArgMinima(b *testing.B) {
	const m = 784
	r := rand.New(rand.NewPCG(1, 2))
	dot, na, nb := argMinCase(r, m, false)
	rows, cols := make([]int32, m), make([]int32, m)
	for _, c := range []struct {
		name string
		fn   func(dot []float32, m int, na, nb []float32, rowArg, colArg []int32)
	}{{"go", pairArgMinimaGo}, {fmt.Sprintf("dispatch-%s", isa.Active()), pairArgMinima}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(4 * m * m))
			for b.Loop() {
				c.fn(dot, m, na, nb, rows, cols)
			}
		})
	}
}
