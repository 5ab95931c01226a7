package kselect

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/cluster"
)

// blobs returns n points per blob of k isotropic Gaussian blobs in d
// dimensions, centres on a scaled random simplex-like layout, and the
// true labels.
func blobs(k, per, d int, sep float64, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = r.NormFloat64() * sep
	}
	x := make([]float32, 0, k*per*d)
	var y []int
	for c := 0; c < k; c++ {
		for range per {
			for j := 0; j < d; j++ {
				x = append(x, float32(centres[c*d+j]+r.NormFloat64()))
			}
			y = append(y, c)
		}
	}
	return x, y
}

// TestBlobs: on well separated Gaussian blobs of known K the decision
// criterion finds K exactly, for several K, dimensions and seeds.
func TestBlobs(t *testing.T) {
	for _, tc := range []struct{ k, per, d int }{{2, 30, 8}, {3, 25, 16}, {4, 20, 32}, {6, 20, 64}, {7, 15, 32}, {10, 12, 64}} {
		for seed := uint64(0); seed < 3; seed++ {
			x, _ := blobs(tc.k, tc.per, tc.d, 3, seed)
			n := tc.k * tc.per
			r, err := Estimate(x, n, tc.d, nil, Options{Seed: seed, Resamples: 5})
			if err != nil {
				t.Fatal(err)
			}
			if r.K != tc.k {
				t.Errorf("K=%d d=%d seed %d: estimate %d (runner-up %d), %s %v", tc.k, tc.d, seed, r.K, r.RunnerUp, r.Criterion, r.Values)
			}
			if r.RunnerUp == r.K || r.RunnerUp == 0 {
				t.Errorf("runner-up %d for K %d", r.RunnerUp, r.K)
			}
			if len(r.Values) != len(r.Ks) || r.Ks[0] != 2 || r.Ks[len(r.Ks)-1] != 15 {
				t.Errorf("candidates %v", r.Ks)
			}
		}
	}
}

// TestCriteriaOnBlobs: every criterion of the evidence peaks at the true K
// of well separated blobs (each one is computed right, not only the one
// that decides).
func TestCriteriaOnBlobs(t *testing.T) {
	x, _ := blobs(5, 25, 16, 4, 7)
	spectralCuts := func(ks []int) ([][]int, error) {
		return cluster.SpectralCuts(x, 125, 16, ks, cluster.SpectralOptions{Seed: 1})
	}
	r, err := Estimate(x, 125, 16, nil, Options{Seed: 1, Resamples: 10, SpectralCuts: spectralCuts})
	if err != nil {
		t.Fatal(err)
	}
	if r.Criterion != SpectralEigengap {
		t.Errorf("spectral cuts given: decided by %s", r.Criterion)
	}
	if w, err := Estimate(x, 125, 16, nil, Options{Seed: 1, Resamples: -1}); err != nil || w.Criterion != WardEigengap || w.Scores[SpectralEigengap] != nil {
		t.Errorf("no spectral cuts: decided by %s, eigengap_spectral %v (%v)", w.Criterion, w.Scores[SpectralEigengap], err)
	}
	for _, c := range Criteria() {
		v := r.Scores[c]
		k, _ := best2(r.Ks, v)
		if c == Stability {
			// Stability is also ~1 below K (merging two true blobs is
			// stable too); it must be ~1 at K and low above it.
			if !(v[5-2] > 0.95) || !(v[8-2] < v[5-2]) {
				t.Errorf("stability %v", v)
			}
			continue
		}
		if k != 5 {
			t.Errorf("%s peaks at %d: %v", c, k, v)
		}
	}
}

// TestSilhouetteValues checks the silhouette against a hand computation on
// four points on a line.
func TestSilhouetteValues(t *testing.T) {
	x := []float64{0, 1, 10, 12}
	dist := cluster.PDist(x, 4, 1)
	c := []int{0, 0, 1, 1}
	// a(0)=1, b(0)=11; a(1)=1, b(1)=10; a(2)=2, b(2)=9.5; a(3)=2, b(3)=11.5
	want := ((1 - 1.0/11) + (1 - 1.0/10) + (1 - 2/9.5) + (1 - 2/11.5)) / 4
	if got := silhouette(dist, 4, c, 2); !(math.Abs(got-want) < 1e-12) {
		t.Errorf("silhouette %v, want %v", got, want)
	}
	// CH: centres 0.5 and 11, mean 5.75; B = 2*5.25^2*2 = 110.25; W = 0.5+2 = 2.5
	want = (110.25 / 1) / (2.5 / 2)
	if got := calinskiHarabasz(x, 4, 1, c, 2); !(math.Abs(got-want) < 1e-9) {
		t.Errorf("CH %v, want %v", got, want)
	}
}

func TestRangeErrors(t *testing.T) {
	x, _ := blobs(2, 3, 2, 3, 0)
	if _, err := Estimate(x, 6, 2, nil, Options{KMin: 1}); err == nil {
		t.Error("k min 1 accepted")
	}
	if _, err := Estimate(x, 6, 2, nil, Options{KMin: 5, KMax: 3}); err == nil {
		t.Error("min > max accepted")
	}
	r, err := Estimate(x, 6, 2, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ks[len(r.Ks)-1] != 5 {
		t.Errorf("K capped at N-1: %v", r.Ks)
	}
	if _, err := Estimate(x[:4], 2, 2, nil, Options{KMin: 2}); err == nil {
		t.Error("2 images accepted for K >= 2")
	}
}

// TestSpectralEigengap: with spectral cuts, eigengap_spectral is the
// eigengap of the kNN graph of X as given (spectral clustering's own, not
// the standardised one) realised by those cuts; on X whose dimensions
// have unequal scales the two graphs' values differ, so the test tells
// them apart.
func TestSpectralEigengap(t *testing.T) {
	x, _ := blobs(4, 20, 6, 3, 11)
	n, d := 80, 6
	for i := 0; i < n; i++ {
		x[i*d] *= 8
		x[i*d+1] *= 0.2
	}
	var got [][]int
	cuts := func(ks []int) ([][]int, error) {
		c, err := cluster.SpectralCuts(x, n, d, ks, cluster.SpectralOptions{Seed: 3})
		got = c
		return c, err
	}
	r, err := Estimate(x, n, d, nil, Options{Resamples: -1, SpectralCuts: cuts})
	if err != nil {
		t.Fatal(err)
	}
	xf := make([]float64, len(x))
	for i, v := range x {
		xf[i] = float64(v)
	}
	raw, err := laplacianSpectrum(cluster.PDist(xf, n, d), n, 15)
	if err != nil {
		t.Fatal(err)
	}
	std, err := laplacianSpectrum(cluster.PDist(standardise(xf, n, d), n, d), n, 15)
	if err != nil {
		t.Fatal(err)
	}
	want, other := raw.wardEigengaps(r.Ks, got), std.wardEigengaps(r.Ks, got)
	if !slices.Equal(r.Scores[SpectralEigengap], want) || slices.Equal(want, other) {
		t.Errorf("eigengap_spectral %v, want %v (standardised graph's %v)", r.Scores[SpectralEigengap], want, other)
	}
	if k, _ := best2(r.Ks, want); r.K != k || r.Criterion != SpectralEigengap {
		t.Errorf("K %d by %s, want %d by eigengap_spectral", r.K, r.Criterion, k)
	}
}
