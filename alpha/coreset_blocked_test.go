package alpha

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// clustered draws n rows of dimension k around a few random centres with
// random per-row scales, centred near 0 so that the rounding of the GEMM
// distances (relative to the squared norms) stays far below the gaps
// between the distances the greedy search compares.
func clustered(n, k int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*k)
	for i := range n {
		c := float64(r.IntN(7))
		for j := range k {
			x[i*k+j] = float32(c*float64(j%3-1) + r.NormFloat64()*(1+r.Float64()))
		}
	}
	return x
}

// TestCoresetBlockedSame: the blocked search selects exactly the rows of
// the plain greedy search (greedyCoreset), in the same order, with blocks
// of a few candidates (many blocks) up to all rows (one block).
func TestCoresetBlockedSame(t *testing.T) {
	for _, tc := range []struct{ n, k, num, c int }{
		{200, 16, 40, 4}, {200, 16, 40, 16}, {500, 128, 100, 32}, {500, 128, 100, 1024}, {300, 7, 150, 8},
	} {
		p := clustered(tc.n, tc.k, uint64(tc.n+tc.c))
		r := rand.New(rand.NewPCG(9, uint64(tc.c)))
		starts := r.Perm(tc.n)[:CoresetStarts]
		want := greedyCoreset(p, tc.n, tc.k, starts, tc.num, 2)
		for _, w := range []int{1, 2} {
			got := greedyCoresetBlocked(p, tc.n, tc.k, starts, tc.num, w, tc.c)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d k=%d num=%d c=%d workers=%d: blocked %v\nwant %v", tc.n, tc.k, tc.num, tc.c, w, got, want)
			}
		}
	}
}

// TestCoresetBlockedTies: duplicate rows (exact ties) still give the plain
// search's selection: ties go to the smaller index in both.
func TestCoresetBlockedTies(t *testing.T) {
	const n, k = 120, 8
	base := clustered(n/4, k, 3)
	p := make([]float32, 0, n*k)
	for range 4 {
		p = append(p, base...)
	}
	starts := []int{0, 5, 77}
	want := greedyCoreset(p, n, k, starts, 25, 1)
	for _, c := range []int{3, 10, 200} {
		if got := greedyCoresetBlocked(p, n, k, starts, 25, 2, c); !slices.Equal(got, want) {
			t.Fatalf("c=%d: %v\nwant %v", c, got, want)
		}
	}
}

// coverRadius is max over rows of the distance to the nearest selected row.
func coverRadius(p []float32, n, k int, sel []int) float64 {
	var rad float64
	for i := range n {
		best := math.Inf(1)
		for _, s := range sel {
			best = min(best, float64(sqDist(p[i*k:(i+1)*k], p[s*k:(s+1)*k])))
		}
		rad = max(rad, best)
	}
	return math.Sqrt(rad)
}

// TestCoresetBlockedRadius: on unstructured Gaussian rows of the real
// projection size (many near-ties, where GEMM rounding may change the
// selection), the public CoresetBlocked keeps the size and distinct rows
// of Coreset and covers the rows as well: radius within 1% of Coreset's.
func TestCoresetBlockedRadius(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n, d = 3000, 200
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	exact, err := Coreset(x, n, d, 0.1, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := CoresetBlocked(x, n, d, 0.1, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(fast) != len(exact) {
		t.Fatalf("%d rows, want %d", len(fast), len(exact))
	}
	seen := map[int]bool{}
	for _, i := range fast {
		if seen[i] || i < 0 || i >= n {
			t.Fatalf("bad or repeated index %d", i)
		}
		seen[i] = true
	}
	proj, k, _, _, _ := coresetInput(x, n, d, 0.1, 4)
	re, rf := coverRadius(proj, n, k, exact), coverRadius(proj, n, k, fast)
	t.Logf("cover radius: exact %.5f, blocked %.5f; same selection: %v", re, rf, slices.Equal(exact, fast))
	if !(rf <= 1.01*re) {
		t.Fatalf("blocked cover radius %v > 1.01 x exact %v", rf, re)
	}
	if _, err := CoresetBlocked(x, n, d, 0, 4, 2); err == nil {
		t.Error("fraction 0 accepted")
	}
}
