package cluster

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSilhouette: two tight, far-apart pairs score near 1 under their own
// labels and below 0 under swapped ones; a hand-computed case matches
// the definition ((b - a) / max(a, b), singletons 0); above
// SilhouetteMaxPoints the subset's mean stays near the full one.
func TestSilhouette(t *testing.T) {
	x := []float32{0, 0, 0.1, 0, 10, 0, 10.1, 0}
	if s := Silhouette(x, 4, 2, []int{0, 0, 1, 1}); !(s > 0.98) {
		t.Errorf("good labels: silhouette %v", s)
	}
	if s := Silhouette(x, 4, 2, []int{0, 1, 0, 1}); !(s < 0) {
		t.Errorf("bad labels: silhouette %v", s)
	}
	// 1-D points 0, 1, 4 with clusters {0, 1}, {4}: point 0: a = 1, b = 4
	// -> 0.75; point 1: a = 1, b = 3 -> 2/3; point 4 alone -> 0.
	y := []float32{0, 1, 4}
	want := (0.75 + 2.0/3) / 3
	if s := Silhouette(y, 3, 1, []int{0, 0, 1}); !(math.Abs(s-want) <= 1e-12) {
		t.Errorf("silhouette %v, want %v", s, want)
	}
	if s := Silhouette(y, 3, 1, []int{0, 0, 0}); s != 0 {
		t.Errorf("one cluster: silhouette %v, want 0", s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	n, d := 2*SilhouetteMaxPoints+1, 3
	z := make([]float32, n*d)
	c := make([]int, n)
	for i := range n {
		c[i] = i % 3
		for j := range d {
			z[i*d+j] = float32(r.NormFloat64() + 3*float64(c[i]*(j%2)))
		}
	}
	sub := Silhouette(z, n, d, c)
	// The full mean, computed without the cap.
	full := Silhouette(z[:SilhouetteMaxPoints*d], SilhouetteMaxPoints, d, c[:SilhouetteMaxPoints])
	if !(sub > 0.2) || !(math.Abs(sub-full) <= 0.05) {
		t.Errorf("capped silhouette %v, uncapped on a prefix %v", sub, full)
	}
}
