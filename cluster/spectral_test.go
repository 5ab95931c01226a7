package cluster

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/metrics"
)

// rings returns two concentric noisy circles in the plane, radius 1
// (inner points) and 3 (outer), Gaussian noise of SD noise on each
// coordinate, and the ring of each point: non-convex clusters whose
// means coincide.
func rings(inner, outer int, noise float64, seed uint64) ([]float64, []int) {
	r := rand.New(rand.NewPCG(seed, 0x72696e67))
	var x []float64
	var y []int
	for c, m := range []int{inner, outer} {
		radius := []float64{1, 3}[c]
		for range m {
			t := 2 * math.Pi * r.Float64()
			x = append(x, radius*math.Cos(t)+noise*r.NormFloat64(), radius*math.Sin(t)+noise*r.NormFloat64())
			y = append(y, c)
		}
	}
	return x, y
}

// moons returns scikit-learn's two interleaving half circles
// (make_moons): (cos t, sin t) and (1 - cos t, 1/2 - sin t), t uniform
// in [0, pi], Gaussian noise of SD noise, and the moon of each point.
func moons(per int, noise float64, seed uint64) ([]float64, []int) {
	r := rand.New(rand.NewPCG(seed, 0x6d6f6f6e))
	var x []float64
	var y []int
	for c := range 2 {
		for range per {
			t := math.Pi * r.Float64()
			px, py := math.Cos(t), math.Sin(t)
			if c == 1 {
				px, py = 1-px, 0.5-py
			}
			x = append(x, px+noise*r.NormFloat64(), py+noise*r.NormFloat64())
			y = append(y, c)
		}
	}
	return x, y
}

func ari(t *testing.T, truth, pred []int) float64 {
	t.Helper()
	a, err := metrics.ARI(truth, pred)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSpectralNonConvex: two concentric rings and two moons, at three
// data seeds each, are split exactly (the partition of the truth, up to
// label names), while Ward and k-means, whose clusters are convex, fail
// on both (ARI below 0.7; on the rings below 0.5: they cut the plane in
// halves). The noise (SD 0.1 on rings 2 apart, 0.05 on the moons, as
// scikit-learn's demo) leaves a gap of several neighbour distances.
func TestSpectralNonConvex(t *testing.T) {
	for seed := uint64(0); seed < 3; seed++ {
		for _, tc := range []struct {
			name    string
			data    func() ([]float64, []int)
			maxConv float64 // the largest ARI Ward or k-means may reach
		}{
			{"rings", func() ([]float64, []int) { return rings(100, 200, 0.1, seed) }, 0.5},
			{"moons", func() ([]float64, []int) { return moons(150, 0.05, seed) }, 0.7},
		} {
			x, y := tc.data()
			n := len(y)
			got, err := Spectral(x, n, 2, 2, SpectralOptions{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if !samePartition(got, y) {
				t.Errorf("%s seed %d: spectral ARI %.3f, want the two %s exactly", tc.name, seed, ari(t, y, got), tc.name)
			}
			ward, _, err := WardLabels(x, n, 2, 2)
			if err != nil {
				t.Fatal(err)
			}
			km, err := KMeans(x, n, 2, 2, KMeansOptions{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if a := ari(t, y, ward); !(a < tc.maxConv) {
				t.Errorf("%s seed %d: Ward ARI %.3f, want < %v (the data must be non-convex)", tc.name, seed, a, tc.maxConv)
			}
			if a := ari(t, y, km.Labels); !(a < tc.maxConv) {
				t.Errorf("%s seed %d: k-means ARI %.3f, want < %v", tc.name, seed, a, tc.maxConv)
			}
		}
	}
}

// TestSpectralBlobs: three well separated Gaussian blobs of unequal
// sizes are recovered exactly, labels numbered by first appearance.
func TestSpectralBlobs(t *testing.T) {
	for seed := uint64(0); seed < 3; seed++ {
		x, y := blobData(rand.New(rand.NewPCG(seed, 3)), []int{40, 25, 60}, 3, 5, 1)
		got, err := Spectral(x, len(y), 3, 3, SpectralOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if !samePartition(got, y) {
			t.Errorf("seed %d: ARI %.3f, want the blobs exactly", seed, ari(t, y, got))
		}
		seen := -1
		for _, l := range got {
			if l > seen+1 {
				t.Fatalf("labels not numbered by first appearance: %v", got)
			}
			seen = max(seen, l)
		}
	}
}

// TestSpectralComponents: four blobs far apart make a graph of four
// components (eigenvalue 0 four times). k = 4 splits along them; k = 2
// and 3 keep every blob whole (any basis of the 4-dimensional null space
// gives one unit row per blob).
func TestSpectralComponents(t *testing.T) {
	x, y := blobData(rand.New(rand.NewPCG(5, 5)), []int{20, 30, 25, 15}, 4, 100, 0.5)
	n := len(y)
	for k := 2; k <= 4; k++ {
		got, err := Spectral(x, n, 4, k, SpectralOptions{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if distinct(got) != k {
			t.Errorf("k=%d: %d clusters", k, distinct(got))
		}
		blob := map[int]int{} // blob -> its cluster
		for i, b := range y {
			if c, ok := blob[b]; ok && c != got[i] {
				t.Errorf("k=%d: blob %d split", k, b)
				break
			}
			blob[b] = got[i]
		}
		if k == 4 && !samePartition(got, y) {
			t.Errorf("k=4: ARI %.3f, want the components exactly", ari(t, y, got))
		}
	}
}

// TestSpectralDeterministic: same seed, same labels; Workers 1 and 4 the
// same (n k k = 66000 puts the k-means assignment over the workers);
// through the registered method too.
func TestSpectralDeterministic(t *testing.T) {
	x, y := blobData(rand.New(rand.NewPCG(8, 9)), []int{200, 160, 120, 100, 80}, 8, 1.5, 1)
	n, k := len(y), 10
	var first []int
	for _, w := range []int{1, 4, 1, 4} {
		got, err := Spectral(x, n, 8, k, SpectralOptions{Seed: 4, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("Workers %d: labels differ from the first run's", w)
		}
	}
	m, err := LookupMethod(MethodSpectral)
	if err != nil {
		t.Fatal(err)
	}
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	a, _, err := m.Cluster(x32, n, 8, k, MethodOptions{Seed: 4, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := m.Cluster(x32, n, 8, k, MethodOptions{Seed: 4, Workers: 4})
	if err != nil || !slices.Equal(a, b) {
		t.Fatalf("method: Workers 1 and 4 differ (err %v)", err)
	}
	// The method passes its seed on: on these overlapping blobs another
	// seed gives other clusters, and the method's match Spectral's.
	want6, err := Spectral(x32, n, 8, k, SpectralOptions{Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(want6, a) {
		t.Fatal("seeds 4 and 6 give the same clusters: the data cannot show the seed is used")
	}
	if got, _, err := m.Cluster(x32, n, 8, k, MethodOptions{Seed: 6}); err != nil || !slices.Equal(got, want6) {
		t.Errorf("method with seed 6 differs from Spectral's (err %v)", err)
	}
}

// TestSpectralEmbedding checks the rows k-means clusters (Ng, Jordan and
// Weiss's Y): unit length; on a graph of k components, one row per
// component, the rows of different components orthogonal (their
// proposition 1); a point of degree 0 the zero row.
func TestSpectralEmbedding(t *testing.T) {
	x, y := blobData(rand.New(rand.NewPCG(5, 5)), []int{20, 30, 25, 15}, 4, 100, 0.5)
	n, k := len(y), 4
	e, err := spectralEmbedding(x, n, 4, k)
	if err != nil {
		t.Fatal(err)
	}
	row := func(i int) []float64 { return e[i*k : (i+1)*k] }
	dot := func(a, b []float64) float64 {
		var s float64
		for c := range a {
			s += a[c] * b[c]
		}
		return s
	}
	for i := 0; i < n; i++ {
		if nrm := dot(row(i), row(i)); !(math.Abs(nrm-1) < 1e-12) {
			t.Fatalf("row %d has squared length %v", i, nrm)
		}
		for j := 0; j < i; j++ {
			want := 0.0
			if y[i] == y[j] {
				want = 1
			}
			if got := dot(row(i), row(j)); !(math.Abs(got-want) < 1e-9) {
				t.Fatalf("rows %d and %d (blobs %d, %d): inner product %v, want %v", i, j, y[i], y[j], got, want)
			}
		}
	}

	// A point of degree 0 (loneData).
	lone := loneData()
	e, err = spectralEmbedding(lone, 36, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 36; i++ {
		r := e[i*3 : (i+1)*3]
		want := 1.0
		if i == 15 {
			want = 0
		}
		if nrm := dot(r, r); !(math.Abs(nrm-want) < 1e-12) || (i == 15 && nrm != 0) {
			t.Errorf("row %d has squared length %v, want %v", i, nrm, want)
		}
	}
}

// TestSpectralEdgeCases: k = 1 and k = n need no graph; duplicates (more
// than SelfTuningNeighbour copies: sigma 0) and a point whose every
// neighbour is such a copy (all its weights underflow: a zero row of the
// embedding) give valid labels, no NaN; bad k and bad X are errors.
func TestSpectralEdgeCases(t *testing.T) {
	x := []float64{0, 0, 1, 0, 0, 1, 5, 5, 5, 6}
	if got, err := Spectral(x, 5, 2, 1, SpectralOptions{}); err != nil || !slices.Equal(got, []int{0, 0, 0, 0, 0}) {
		t.Errorf("k=1: %v, %v", got, err)
	}
	if got, err := Spectral(x, 5, 2, 5, SpectralOptions{}); err != nil || !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("k=n: %v, %v", got, err)
	}
	if got, err := Spectral([]float64{7, 7, 7}, 3, 1, 3, SpectralOptions{}); err != nil || !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("k=n, duplicates: %v, %v", got, err)
	}
	for _, tc := range []struct {
		x    []float64
		n, k int
		want string
	}{
		{x, 5, 0, "at least 1"},
		{x, 5, -1, "at least 1"},
		{x, 5, 6, "larger than the number of observations"},
		{x[:9], 5, 2, "X has 9 values"},
		{[]float64{0, math.NaN(), 1, 1}, 2, 1, "X[0, 1] is NaN"},
	} {
		if _, err := Spectral(tc.x, tc.n, 2, tc.k, SpectralOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("n=%d k=%d: err = %v, want %q", tc.n, tc.k, err, tc.want)
		}
	}

	// Three groups of 15 copies: three components, each of weights 1.
	var dup []float64
	var truth []int
	for g, p := range [][2]float64{{0, 0}, {1, 0}, {0, 1}} {
		for range 15 {
			dup = append(dup, p[0], p[1])
			truth = append(truth, g)
		}
	}
	got, err := Spectral(dup, 45, 2, 3, SpectralOptions{Seed: 2})
	if err != nil || !samePartition(got, truth) {
		t.Errorf("copies: %v, %v; want the three groups", got, err)
	}

	lone := loneData()
	for k := 2; k <= 4; k++ {
		got, err := Spectral(lone, 36, 2, k, SpectralOptions{Seed: 3})
		if err != nil {
			t.Fatalf("k=%d: %v", k, err)
		}
		for i, l := range got {
			if l < 0 || l >= k || (i < 15 && l != got[0]) {
				t.Fatalf("k=%d: labels %v: want each in [0, k) and the copies together", k, got)
			}
		}
		if got[0] == got[20] {
			t.Errorf("k=%d: the copies and the far blob share a cluster: %v", k, got)
		}
	}
}

// loneData is 36 points in 2-d: 15 copies of the origin, one point at
// (1, 0) whose 10 nearest are all copies (weights exp(-1/(1e-12 sigma))
// = 0: degree 0), and a blob of 20 points around (50, 50).
func loneData() []float64 {
	r := rand.New(rand.NewPCG(6, 6))
	lone := make([]float64, 0, 36*2)
	for range 15 {
		lone = append(lone, 0, 0)
	}
	lone = append(lone, 1, 0)
	for range 20 {
		lone = append(lone, 50+r.NormFloat64(), 50+r.NormFloat64())
	}
	return lone
}

// TestSpectralCuts: the cuts from one decomposition (the max(ks) leading
// eigenvectors) equal, for every k, k-means of the embedding decomposed
// for that k alone, and k = 1 and k = n are the trivial partitions.
func TestSpectralCuts(t *testing.T) {
	x, y := blobData(rand.New(rand.NewPCG(4, 5)), []int{30, 20, 25, 15}, 3, 2, 1)
	n := len(y)
	ks := []int{7, 2, 5, 3, 1, n, 4}
	cuts, err := SpectralCuts(x, n, 3, ks, SpectralOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range ks {
		switch k {
		case 1:
			if slices.Max(cuts[i]) != 0 {
				t.Errorf("k = 1: %v", cuts[i])
			}
			continue
		case n:
			for j, l := range cuts[i] {
				if l != j {
					t.Fatalf("k = n: label %d at %d", l, j)
				}
			}
			continue
		}
		e, err := spectralEmbedding(x, n, 3, k)
		if err != nil {
			t.Fatal(err)
		}
		want, err := KMeans(e, n, k, k, KMeansOptions{Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cuts[i], want.Labels) {
			t.Errorf("k = %d: the shared decomposition's cut differs from k's own", k)
		}
	}
	if _, err := SpectralCuts(x, n, 3, []int{3, n + 1}, SpectralOptions{}); err == nil {
		t.Error("k > n accepted")
	}
}
