package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/alpha"
)

// TestSilhouette: two tight, far-apart pairs score near 1 under their own
// labels and below 0 under swapped ones.
func TestSilhouette(t *testing.T) {
	x := []float32{0, 0, 0.1, 0, 10, 0, 10.1, 0}
	if s := silhouette(x, 4, 2, []int{0, 0, 1, 1}); !(s > 0.98) {
		t.Errorf("good labels: silhouette %v", s)
	}
	if s := silhouette(x, 4, 2, []int{0, 1, 0, 1}); !(s < 0) {
		t.Errorf("bad labels: silhouette %v", s)
	}
}

// TestPeak: a map with one hot patch peaks far above a flat-noise map.
func TestPeak(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	flat := &alpha.Scores{N: 2, M: 400, S: make([]float64, 800)}
	for k := range flat.S {
		flat.S[k] = r.NormFloat64()
	}
	hot := &alpha.Scores{N: 2, M: 400, S: append([]float64(nil), flat.S...)}
	for i := 0; i < 2; i++ {
		for m := 0; m < 4; m++ {
			hot.S[i*400+m] = 50
		}
	}
	if pf, ph := peak(flat), peak(hot); !(pf < 3.5 && ph > 5) {
		t.Errorf("peak flat %v, hot %v", pf, ph)
	}
}

// TestPCAWhiten: the whitened coordinates are centred with unit variance
// and uncorrelated, and keep 90% of the variance's directions.
func TestPCAWhiten(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, d = 50, 6
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		a, b := r.NormFloat64()*10, r.NormFloat64()*3
		for j := 0; j < d; j++ {
			x[i*d+j] = float32(a*float64(j%2) + b*float64(j/3) + 0.01*r.NormFloat64() + 5)
		}
	}
	w, p, err := pcaWhiten(x, n, d)
	if err != nil {
		t.Fatal(err)
	}
	if p != 2 {
		t.Fatalf("%d components, want 2 (two latent factors)", p)
	}
	for c1 := 0; c1 < p; c1++ {
		for c2 := 0; c2 < p; c2++ {
			var s, m1 float64
			for i := 0; i < n; i++ {
				s += float64(w[i*p+c1]) * float64(w[i*p+c2])
				m1 += float64(w[i*p+c1])
			}
			want := 0.0
			if c1 == c2 {
				want = 1
			}
			if e := math.Abs(s/n - want); !(e <= 1e-4) || !(math.Abs(m1/n) <= 1e-4) {
				t.Errorf("cov(%d,%d) = %v mean %v", c1, c2, s/n, m1/n)
			}
		}
	}
}
