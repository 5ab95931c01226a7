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
