package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestNearestWorkers checks that the fused nearest-neighbour results are
// bit-identical whatever the number of workers and the A block size (so
// whatever row chunks the schedule hands out), on random points where the
// rounding of ||a||² + ||b||² - 2a·b would show any change of summation
// order: each row's result must not depend on which worker computed it or
// on the rows next to it.
func TestNearestWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, sh := range [][3]int{{301, 200, 40}, {250, 130, 300}, {64, 500, 64}} {
		m, n, d := sh[0], sh[1], sh[2]
		a, b := randSlice(rng, m*d), randSlice(rng, n*d)
		for _, k := range testKernels() {
			base := config{kern: k, threads: 1}
			bank := base.packBank(n, d, b, d, false)
			wantD, wantJ := make([]float32, m), make([]int32, m)
			base.nearestPacked(m, a, d, bank, wantD, wantJ)
			for _, cfg := range []config{
				{kern: k, threads: 2}, {kern: k, threads: 3}, {kern: k, threads: 4},
				{kern: k, threads: 2, mc: k.mr}, {kern: k, threads: 3, mc: 2 * k.mr},
				{kern: k, threads: 1, mc: 3 * k.mr},
			} {
				name := fmt.Sprintf("%dx%dx%d/%s/t%d/mc%d", m, n, d, k.name, cfg.threads, cfg.mc)
				gotD, gotJ := make([]float32, m), make([]int32, m)
				cfg.nearestPacked(m, a, d, bank, gotD, gotJ)
				for i := range m {
					if gotD[i] != wantD[i] || gotJ[i] != wantJ[i] {
						t.Fatalf("%s: row %d: (%g, %d), one worker gives (%g, %d)", name, i, gotD[i], gotJ[i], wantD[i], wantJ[i])
					}
				}
			}
		}
	}
}
