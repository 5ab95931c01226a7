package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// trueD2 is ||a-b||² in float64 from the direct differences.
func trueD2(a, b []float32) float64 {
	var s float64
	for p := range a {
		t := float64(a[p]) - float64(b[p])
		s += t * t
	}
	return s
}

// nnTol bounds the error of the squared distance computed as
// ||a||² + ||b||² - 2a·b in float32: each of the three sums of d products
// is within γ_d of its magnitude (γ_d·||a||², γ_d·||b||², 2γ_d·Σ|a||b| ≤
// γ_d(||a||²+||b||²)), plus three roundings of the final additions, all
// relative to ||a||² + ||b||². Cancellation means this bound, not the
// distance itself, sets the scale: for a ≈ b the relative error is large.
func nnTol(d int, na, nb float64) float64 {
	g := float64(d) * eps32 / (1 - float64(d)*eps32)
	return (2*g+4*eps32)*(na+nb) + 1e-30
}

// TestNearestRandom compares every kernel and worker count with the direct
// float64 reference on random points, with duplicates in the bank and
// queries that are bank points (distance 0, full cancellation).
func TestNearestRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][3]int{ // m, n, d
		{1, 1, 1}, {17, 33, 5}, {200, 300, 70}, {5, 1000, 16}, {100, 50, 300}, {31, 257, 600},
	} {
		m, n, d := sh[0], sh[1], sh[2]
		a, b := randSlice(rng, m*d), randSlice(rng, n*d)
		// Duplicates: later bank rows copy earlier ones; some queries are
		// bank points.
		for j := n / 2; j < n; j += 3 {
			copy(b[j*d:j*d+d], b[(j/3)*d:(j/3)*d+d])
		}
		for i := 0; i < m; i += 4 {
			j := (i * 7) % n
			copy(a[i*d:i*d+d], b[j*d:j*d+d])
		}
		wantD, wantJ := make([]float32, m), make([]int32, m)
		refNearestDistances(m, n, d, a, b, wantD, wantJ)
		for _, cfg := range testConfigs() {
			name := fmt.Sprintf("%dx%dx%d/%s/t%d", m, n, d, cfg.kern.name, cfg.threads)
			gotD, gotJ := make([]float32, m), make([]int32, m)
			bank := cfg.packBank(n, d, b, d, false)
			cfg.nearestPacked(m, a, d, bank, gotD, gotJ)
			for i := 0; i < m; i++ {
				ai := a[i*d : i*d+d]
				j := int(gotJ[i])
				if j < 0 || j >= n {
					t.Fatalf("%s: row %d: argMin %d out of range", name, i, j)
				}
				bj := b[j*d : j*d+d]
				na, nb := trueD2(ai, make([]float32, d)), trueD2(bj, make([]float32, d))
				tol := nnTol(d, na, nb)
				// The distance reported is that of the index reported ...
				got2 := float64(gotD[i]) * float64(gotD[i])
				if dd := math.Abs(got2 - trueD2(ai, bj)); !(dd <= tol) { // a NaN fails too
					t.Fatalf("%s: row %d: dist² %g but ||a-b_%d||² = %g (tol %g)", name, i, got2, j, trueD2(ai, bj), tol)
				}
				// ... and that index is nearest up to the rounding of both
				// candidates.
				bw := b[int(wantJ[i])*d : int(wantJ[i])*d+d]
				tolW := nnTol(d, na, trueD2(bw, make([]float32, d)))
				if trueD2(ai, bj) > trueD2(ai, bw)+tol+tolW {
					t.Fatalf("%s: row %d: argMin %d at %g, but %d is at %g", name, i, j, trueD2(ai, bj), wantJ[i], trueD2(ai, bw))
				}
				// An exact duplicate of b_j earlier in the bank ties
				// exactly, so it must have been chosen instead.
				for e := 0; e < j; e++ {
					if equalRows(b[e*d:e*d+d], bj) {
						t.Fatalf("%s: row %d: argMin %d but row %d is identical", name, i, j, e)
					}
				}
			}
		}
	}
}

func equalRows(x, y []float32) bool {
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// TestNearestExact uses small integer coordinates, for which every product
// and sum is exact in float32: the fused form must then give exactly the
// reference distances and indices, ties (many equal distances) resolved to
// the smallest index.
func TestNearestExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range [][3]int{{1, 1, 1}, {40, 70, 3}, {9, 600, 8}, {33, 45, 64}} {
		m, n, d := sh[0], sh[1], sh[2]
		a, b := make([]float32, m*d), make([]float32, n*d)
		for i := range a {
			a[i] = float32(rng.IntN(5) - 2)
		}
		for i := range b {
			b[i] = float32(rng.IntN(5) - 2)
		}
		wantD, wantJ := make([]float32, m), make([]int32, m)
		refNearestDistances(m, n, d, a, b, wantD, wantJ)
		for _, cfg := range testConfigs() {
			gotD, gotJ := make([]float32, m), make([]int32, m)
			bank := cfg.packBank(n, d, b, d, false)
			cfg.nearestPacked(m, a, d, bank, gotD, gotJ)
			for i := 0; i < m; i++ {
				if gotD[i] != wantD[i] || gotJ[i] != wantJ[i] {
					t.Fatalf("%dx%dx%d %s t%d: row %d: (%g, %d), want (%g, %d)", m, n, d, cfg.kern.name, cfg.threads, i, gotD[i], gotJ[i], wantD[i], wantJ[i])
				}
			}
		}
	}
}

// TestNearestExported covers the exported entry points, nil argMin and the
// degenerate shapes.
func TestNearestExported(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	m, n, d := 50, 80, 20
	a, b := randSlice(rng, m*d), randSlice(rng, n*d)
	wantD, wantJ := make([]float32, m), make([]int32, m)
	refNearestDistances(m, n, d, a, b, wantD, wantJ)
	gotD, gotJ := make([]float32, m), make([]int32, m)
	NearestDistances(m, n, d, a, b, gotD, gotJ)
	gotD2 := make([]float32, m)
	NearestDistancesPacked(m, a, d, PackBank(n, d, b, d), gotD2, nil)
	for i := 0; i < m; i++ {
		// Random points in [-1,1]^20 are far apart relative to nnTol, so the
		// index is the reference's and the distance within the bound.
		tol := nnTol(d, 2*float64(d), 0)
		if gotJ[i] != wantJ[i] || math.Abs(float64(gotD[i]*gotD[i]-wantD[i]*wantD[i])) > tol || gotD2[i] != gotD[i] {
			t.Fatalf("row %d: got (%g, %d) and packed %g, want (%g, %d)", i, gotD[i], gotJ[i], gotD2[i], wantD[i], wantJ[i])
		}
	}
	// No points: +Inf, -1. Zero dimension: distance 0 to point 0.
	dist, idx := []float32{0}, []int32{7}
	NearestDistances(1, 0, 3, []float32{1, 2, 3}, nil, dist, idx)
	if !math.IsInf(float64(dist[0]), 1) || idx[0] != -1 {
		t.Fatalf("empty bank: got (%g, %d), want (+Inf, -1)", dist[0], idx[0])
	}
	NearestDistances(1, 4, 0, nil, nil, dist, idx)
	if dist[0] != 0 || idx[0] != 0 {
		t.Fatalf("d = 0: got (%g, %d), want (0, 0)", dist[0], idx[0])
	}
}

// TestRowMin checks the epilogue (assembly when available) against its Go
// twin, with many exactly equal values so that the tie rule (smallest j)
// is exercised across lanes and across 16-column steps.
func TestRowMin(t *testing.T) {
	testRowMin(t, "best", rowMin)
	for _, l := range rowMinLevels() {
		t.Run(l.name, func(t *testing.T) { testRowMin(t, l.name, l.fn) })
	}
}

func testRowMin(t *testing.T, name string, rowMin func(n int, c, norms *float32) (float32, int)) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{16, 32, 48, 256} {
		for trial := 0; trial < 50; trial++ {
			c, norms := make([]float32, n), make([]float32, n)
			for j := range c {
				c[j] = float32(rng.IntN(4))
				norms[j] = float32(rng.IntN(4))
			}
			v, j := rowMin(n, &c[0], &norms[0])
			wv, wj := rowMinGo(n, &c[0], &norms[0])
			if v != wv || j != wj {
				t.Fatalf("n=%d: rowMin (%s) = (%g, %d), want (%g, %d)", n, name, v, j, wv, wj)
			}
			// The Go twin against the definition.
			for k := 0; k < n; k++ {
				if s := norms[k] - 2*c[k]; s < wv || s == wv && k < wj {
					t.Fatalf("n=%d: rowMinGo = (%g, %d) but column %d gives %g", n, wv, wj, k, s)
				}
			}
		}
	}
}
