package cluster

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestKMeansGoldenInertia: on the blob fixtures our best-of-10 inertia must
// not be worse than sklearn's KMeans(n_init=10, random_state=0) by more than
// 1e-9 relative (summation-order noise); the seeds differ, so a lower
// inertia is allowed, but on separated blobs both find the optimum.
// The wide case (512-d blobs whose centres are closer than the noise) has
// many local optima; there sklearn's own best-of-10 spans 59555..59950 over
// random_state 0..7 and ours 59750..59916 over Seed 0..7, so only "within
// 1%" is a fair requirement.
func TestKMeansGoldenInertia(t *testing.T) {
	relTol := map[string]float64{"wide_float32_120x512": 0.01}
	checked := 0
	for _, c := range loadGolden(t) {
		if c.KMeans == nil {
			continue
		}
		checked++
		res, err := KMeans(c.X, c.N, c.D, c.KMeans.K, KMeansOptions{Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		tol, ok := relTol[c.Name]
		if !ok {
			tol = 1e-9
		}
		if res.Inertia > c.KMeans.Inertia*(1+tol) {
			t.Errorf("%s: inertia %.12g, sklearn %.12g", c.Name, res.Inertia, c.KMeans.Inertia)
		}
		if got := inertiaOf(c.X, c.D, res.Labels); !closeRel(res.Inertia, got, 1e-12) {
			t.Errorf("%s: reported inertia %.17g, recomputed %.17g", c.Name, res.Inertia, got)
		}
		if n := distinct(res.Labels); n != c.KMeans.K {
			t.Errorf("%s: %d non-empty clusters, want %d", c.Name, n, c.KMeans.K)
		}
	}
	if checked < 3 {
		t.Fatalf("only %d k-means fixtures", checked)
	}
}

// TestKMeansBruteForce: on tiny sets the result must be a Lloyd fixed point
// (every point at a nearest cluster mean) and never below the global optimum
// found by enumerating every labelling into k non-empty clusters. Lloyd is a
// local method, so reaching the optimum is not guaranteed even with 10
// restarts (e.g. 7 points, k = 4 can trap every k-means++ start); we require
// it in at least 80% of the trials.
func TestKMeansBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const trials = 40
	optimal := 0
	defer func() {
		if optimal < trials*8/10 {
			t.Errorf("optimum reached in %d of %d trials", optimal, trials)
		}
		t.Logf("optimum reached in %d of %d trials", optimal, trials)
	}()
	for trial := 0; trial < trials; trial++ {
		n, d, k := 7, 2, 2+trial%3
		x := make([]float64, n*d)
		for i := range x {
			x[i] = float64(rng.IntN(10))
		}
		res, err := KMeans(x, n, d, k, KMeansOptions{Seed: uint64(trial)})
		if err != nil {
			t.Fatal(err)
		}
		best := math.Inf(1)
		labels := make([]int, n)
		var rec func(i int)
		rec = func(i int) {
			if i == n {
				if distinct(labels) == k {
					best = min(best, inertiaOf(x, d, labels))
				}
				return
			}
			for c := 0; c < k; c++ {
				labels[i] = c
				rec(i + 1)
			}
		}
		rec(0)
		if !(res.Inertia >= best-1e-9) { // a NaN fails too
			t.Fatalf("trial %d: inertia %v below the optimum %v", trial, res.Inertia, best)
		}
		if res.Inertia <= best+1e-9 {
			optimal++
		}
		for i := range n {
			own := sqDist(x[i*d:(i+1)*d], res.Centers[res.Labels[i]*d:(res.Labels[i]+1)*d])
			for c := range k {
				if other := sqDist(x[i*d:(i+1)*d], res.Centers[c*d:(c+1)*d]); !(other >= own-1e-12) {
					t.Fatalf("trial %d: point %d is %v from its centre but %v from centre %d", trial, i, own, other, c)
				}
			}
		}
	}
}

// TestKMeansRecoversBlobs: tight, far-apart blobs of unequal sizes must be
// recovered exactly (any restart finds them), with first-appearance labels.
func TestKMeansRecoversBlobs(t *testing.T) {
	x, truth := blobData(rand.New(rand.NewPCG(7, 7)), []int{50, 20, 7, 3}, 6, 100, 0.5)
	res, err := KMeans(x, len(truth), 6, 4, KMeansOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !samePartition(res.Labels, truth) {
		t.Fatalf("labels %v\ntruth  %v", res.Labels, truth)
	}
	seen := -1
	for _, l := range res.Labels {
		if l > seen+1 {
			t.Fatalf("labels not numbered by first appearance: %v", res.Labels)
		}
		seen = max(seen, l)
	}
}

// TestKMeansDeterministic: same seed, same result, whatever the number of
// workers (the parallel assignment writes disjoint rows); another seed is
// allowed to differ but must still be a valid clustering.
func TestKMeansDeterministic(t *testing.T) {
	x, truth := blobData(rand.New(rand.NewPCG(1, 2)), []int{400, 300, 200, 100}, 40, 2, 1)
	n := len(truth)
	a, err := KMeans(x, n, 40, 6, KMeansOptions{Seed: 9, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := KMeans(x, n, 40, 6, KMeansOptions{Seed: 9, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if a.Inertia != b.Inertia || !slices.Equal(a.Labels, b.Labels) || a.Run != b.Run {
		t.Fatalf("Workers=1 inertia %v run %d, Workers=4 inertia %v run %d", a.Inertia, a.Run, b.Inertia, b.Run)
	}
}

// TestKMeansEmptyClusterReseed: with k = n and duplicated points, k-means++
// must pick duplicate centres and Lloyd produces empty clusters; relocation
// must still return k non-empty clusters (every point alone) and inertia 0.
func TestKMeansEmptyClusterReseed(t *testing.T) {
	x := []float32{0, 0, 0, 0, 1, 1, 1, 1, 5, 5}
	res, err := KMeans(x, 5, 2, 5, KMeansOptions{Seed: 0, NInit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if distinct(res.Labels) != 5 || res.Inertia != 0 {
		t.Fatalf("labels %v inertia %v, want 5 singleton clusters and inertia 0", res.Labels, res.Inertia)
	}
	// k = 1: one cluster, inertia = total sum of squares about the mean.
	res, err = KMeans(x, 5, 2, 1, KMeansOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := inertiaOf(f64(x), 2, make([]int, 5)); !closeRel(res.Inertia, want, 1e-12) {
		t.Fatalf("k=1 inertia %v, want %v", res.Inertia, want)
	}
}

func TestKMeansErrors(t *testing.T) {
	x := []float64{0, 1, 2, 3}
	for _, tc := range []struct {
		x    []float64
		n, k int
		want string
	}{
		{x, 2, 0, "at least 1"},
		{x, 2, 3, "larger than the number of observations"},
		{nil, 0, 1, "no observations"},
		{[]float64{0, math.NaN(), 1, 1}, 2, 1, "X[0, 1] is NaN"},
	} {
		if _, err := KMeans(tc.x, tc.n, 2, tc.k, KMeansOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("n=%d k=%d: err = %v, want %q", tc.n, tc.k, err, tc.want)
		}
	}
}

// blobData draws Gaussian blobs of the given sizes (centres N(0, spread²),
// points N(centre, scale²)), interleaved in random order.
func blobData(rng *rand.Rand, sizes []int, d int, spread, scale float64) ([]float64, []int) {
	var x []float64
	var truth []int
	for c, s := range sizes {
		centre := make([]float64, d)
		for j := range centre {
			centre[j] = rng.NormFloat64() * spread
		}
		for range s {
			for j := range d {
				x = append(x, centre[j]+rng.NormFloat64()*scale)
			}
			truth = append(truth, c)
		}
	}
	perm := rng.Perm(len(truth))
	px := make([]float64, len(x))
	pt := make([]int, len(truth))
	for to, from := range perm {
		copy(px[to*d:(to+1)*d], x[from*d:(from+1)*d])
		pt[to] = truth[from]
	}
	return px, pt
}

// inertiaOf is the k-means objective of a labelling, computed directly.
func inertiaOf(x []float64, d int, labels []int) float64 {
	sums := map[int][]float64{}
	counts := map[int]int{}
	for i, l := range labels {
		if sums[l] == nil {
			sums[l] = make([]float64, d)
		}
		for j := range d {
			sums[l][j] += x[i*d+j]
		}
		counts[l]++
	}
	var s float64
	for i, l := range labels {
		for j := range d {
			t := x[i*d+j] - sums[l][j]/float64(counts[l])
			s += t * t
		}
	}
	return s
}

func distinct(labels []int) int {
	m := map[int]bool{}
	for _, l := range labels {
		m[l] = true
	}
	return len(m)
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
