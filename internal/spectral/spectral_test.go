package spectral

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNeighbours(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{2, 1}, {8, 7}, {11, 10}, {100, 10}, {132, 11}, {400, 20}, {1000, 32}} {
		if got := Neighbours(tc.n); got != tc.want {
			t.Errorf("Neighbours(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// TestLaplacianHand checks the Laplacian of three points on a line, 0, 1
// and 3, against a hand computation: every point is every other's
// neighbour and sigma_i is the distance to the farthest (3, 2, 3).
func TestLaplacianHand(t *testing.T) {
	l, deg := Laplacian([]float64{1, 3, 2}, 3) // d01, d02, d12
	w01, w02, w12 := math.Exp(-1.0/6), math.Exp(-9.0/9), math.Exp(-4.0/6)
	wantDeg := []float64{w01 + w02, w01 + w12, w02 + w12}
	for i := range 3 {
		if !(math.Abs(deg[i]-wantDeg[i]) < 1e-15) {
			t.Errorf("degree %d = %v, want %v", i, deg[i], wantDeg[i])
		}
	}
	want := [3][3]float64{
		{1, -w01 / math.Sqrt(wantDeg[0]*wantDeg[1]), -w02 / math.Sqrt(wantDeg[0]*wantDeg[2])},
		{0, 1, -w12 / math.Sqrt(wantDeg[1]*wantDeg[2])},
		{0, 0, 1},
	}
	for i := range 3 {
		for j := i; j < 3; j++ {
			if !(math.Abs(l.At(i, j)-want[i][j]) < 1e-15) {
				t.Errorf("L[%d,%d] = %v, want %v", i, j, l.At(i, j), want[i][j])
			}
		}
	}
}

// TestLaplacianGraph checks the graph of 60 random points against a brute
// force: the weights read back from L (W_ij = -L_ij sqrt(d_i d_j)) are
// exp(-d_ij^2 / (sigma_i sigma_j)), sigma from the 7th neighbour, exactly
// on the pairs where one is among the other's Neighbours(60) = 10 nearest
// (the symmetric kNN graph), and 0 elsewhere; the degrees are the row
// sums; and D^(1/2) 1 is in L's null space (the graph is connected).
func TestLaplacianGraph(t *testing.T) {
	const n, d = 60, 4
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, n*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	dist := pdist(x, n, d)
	l, deg := Laplacian(dist, n)
	at := func(i, j int) float64 { return dist[condensed(n, i, j)] }
	nearest := make([][]int, n)
	sigma := make([]float64, n)
	for i := 0; i < n; i++ {
		var others []int
		for j := 0; j < n; j++ {
			if j != i {
				others = append(others, j)
			}
		}
		slices.SortFunc(others, func(a, b int) int { return cmp.Compare(at(i, a), at(i, b)) })
		nearest[i] = others[:10]
		sigma[i] = at(i, others[6])
	}
	edges := 0
	for i := 0; i < n; i++ {
		if !(math.Abs(l.At(i, i)-1) < 1e-15) {
			t.Errorf("L[%d,%d] = %v, want 1", i, i, l.At(i, i))
		}
		var rowSum, null float64
		for j := 0; j < n; j++ {
			null += l.At(i, j) * math.Sqrt(deg[j])
			if j == i {
				continue
			}
			w := -l.At(i, j) * math.Sqrt(deg[i]*deg[j])
			rowSum += w
			want := 0.0
			if slices.Contains(nearest[i], j) || slices.Contains(nearest[j], i) {
				want = math.Exp(-at(i, j) * at(i, j) / (sigma[i] * sigma[j]))
				edges++
			}
			if !(math.Abs(w-want) < 1e-14) {
				t.Errorf("W[%d,%d] = %v, want %v", i, j, w, want)
			}
		}
		if !(math.Abs(rowSum-deg[i]) < 1e-13) {
			t.Errorf("degree %d = %v, row sum %v", i, deg[i], rowSum)
		}
		if !(math.Abs(null) < 1e-13) {
			t.Errorf("(L D^(1/2) 1)[%d] = %v, want 0", i, null)
		}
	}
	if edges < n*10 || edges == n*(n-1) {
		t.Errorf("%d directed edges: want at least %d and not a complete graph", edges, n*10)
	}
}

// TestLaplacianDuplicates: points with more duplicates than the
// SelfTuningNeighbour (distance 0 to it) give a finite Laplacian, each
// duplicate pair of weight 1, and the eigendecomposition works on it.
func TestLaplacianDuplicates(t *testing.T) {
	const n, d = 30, 2
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float64, n*d)
	for i := range x {
		if i/d >= 12 { // rows 0-11 are the point (0, 0)
			x[i] = r.NormFloat64()
		}
	}
	l, deg := Laplacian(pdist(x, n, d), n)
	for i := 0; i < n; i++ {
		if math.IsNaN(deg[i]) || math.IsInf(deg[i], 0) {
			t.Fatalf("degree %d = %v", i, deg[i])
		}
		for j := 0; j < n; j++ {
			if v := l.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("L[%d,%d] = %v", i, j, v)
			}
		}
	}
	if w := -l.At(0, 1) * math.Sqrt(deg[0]*deg[1]); !(math.Abs(w-1) < 1e-15) {
		t.Errorf("duplicates' weight %v, want 1", w)
	}
	val, v, err := BottomEigen(l, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range append(val, v.RawMatrix().Data...) {
		if math.IsNaN(e) || math.IsInf(e, 0) {
			t.Fatalf("eigendecomposition of the duplicates' Laplacian has %v", e)
		}
	}
}
