package model

import (
	"math"
	"testing"
)

// TestFitDescribe checks centres, spreads, radii, distances, confidence
// and the open-set flag on points on a line.
func TestFitDescribe(t *testing.T) {
	// cluster 0: 0, 2 (centre 1, distances 1, 1); cluster 1: 10, 12, 14
	// (centre 12, distances 2, 0, 2).
	x := []float32{0, 2, 10, 12, 14}
	c, err := Fit(x, 5, 1, []int{0, 0, 1, 1, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Centre[0] != 1 || c.Centre[1] != 12 || c.Spread[0] != 1 || !(math.Abs(c.Spread[1]-math.Sqrt(8.0/3)) < 1e-12) {
		t.Errorf("centres %v spreads %v", c.Centre, c.Spread)
	}
	// numpy.quantile([0, 2, 2], 0.95) = 2; ([1, 1], 0.95) = 1.
	if c.Radius[0] != 1 || c.Radius[1] != 2 {
		t.Errorf("radii %v", c.Radius)
	}
	p := c.Nearest([]float32{4})
	// d1 = 3 (to 1), d2 = 8 (to 12): confidence 8/11, beyond radius 1.
	if p.Cluster != 0 || p.Distance != 3 || p.Relative != 3 || !(math.Abs(p.Confidence-8.0/11) < 1e-12) || !p.New {
		t.Errorf("placement %+v", p)
	}
	if p := c.Nearest([]float32{11}); p.Cluster != 1 || p.New {
		t.Errorf("placement of 11: %+v", p)
	}
	if _, err := Fit(x, 5, 1, []int{0, 0, 0, 0, 0}, 2); err == nil {
		t.Error("empty cluster accepted")
	}
}

// TestPlaceWard checks that Place picks the least growth of Ward's
// objective, not the nearest centre, and its confidence.
func TestPlaceWard(t *testing.T) {
	// cluster 0: 0, 2 (centre 1, size 2); cluster 1: 10, 12, 14 (centre
	// 12, size 3). At 6.6 the nearer centre is 12 (5.4 vs 5.6), but
	// joining cluster 0 costs 2/3*5.6^2 = 20.91 < 3/4*5.4^2 = 21.87.
	x := []float32{0, 2, 10, 12, 14}
	c, err := Fit(x, 5, 1, []int{0, 0, 1, 1, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	v := float64(float32(6.6))
	if p := c.Nearest([]float32{6.6}); p.Cluster != 1 {
		t.Fatalf("nearest centre of 6.6: %+v", p)
	}
	p := c.Place([]float32{6.6})
	w0, w1 := math.Sqrt(2.0/3*(v-1)*(v-1)), math.Sqrt(3.0/4*(12-v)*(12-v))
	if p.Cluster != 0 || !(math.Abs(p.Distance-(v-1)) < 1e-12) || !(math.Abs(p.Confidence-w1/(w0+w1)) < 1e-12) || !p.New {
		t.Errorf("Ward placement of 6.6: %+v (want cluster 0, distance %v, confidence %v, new)", p, v-1, w1/(w0+w1))
	}
	if p := c.Place([]float32{12.5}); p.Cluster != 1 || p.New || !(p.Confidence > 0.5) {
		t.Errorf("Ward placement of 12.5: %+v", p)
	}
	one, err := Fit([]float32{3}, 1, 1, []int{0}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := one.Place([]float32{5}); p.Cluster != 0 || p.Confidence != 1 {
		t.Errorf("K = 1: %+v", p)
	}
}
