package model

import (
	"cmp"
	"math"
	"slices"
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

// TestPlaceStandardised: Place weighs each feature by the inverse of its
// pooled within-cluster variance. Two clusters of 4, centres (0, 0) and
// (4, 20), members +-1 along feature 0 and +-10 along feature 1 (pooled
// variances 0.5 and 50). The point (1, 18) is nearer cluster 1 in plain
// distance (9+4 = 13 against 1+324 = 325) but 1.4 within-SDs from
// cluster 0 along feature 0 against 4.2 from cluster 1, and only 2.5
// along the noisy feature: standardised it joins cluster 0 (2*1 +
// 0.02*324 = 8.5 against 2*9 + 0.02*4 = 18.1, times 4/5).
func TestPlaceStandardised(t *testing.T) {
	var x []float32
	var pred []int
	for l, ctr := range [][2]float32{{0, 0}, {4, 20}} {
		for _, p := range [][2]float32{{-1, 0}, {1, 0}, {0, -10}, {0, 10}} {
			x = append(x, ctr[0]+p[0], ctr[1]+p[1])
			pred = append(pred, l)
		}
	}
	c, err := Fit(x, 8, 2, pred, 2)
	if err != nil {
		t.Fatal(err)
	}
	eps := 1e-6 * (0.5 + 50) / 2
	if !(math.Abs(c.Weight[0]-1/(0.5+eps)) < 1e-12) || !(math.Abs(c.Weight[1]-1/(50+eps)) < 1e-12) {
		t.Fatalf("weights %v, want %v %v", c.Weight, 1/(0.5+eps), 1/(50+eps))
	}
	if p := c.Nearest([]float32{1, 18}); p.Cluster != 1 {
		t.Fatalf("nearest centre of (1, 18): %+v, want 1 (else this test checks nothing)", p)
	}
	p := c.Place([]float32{1, 18})
	w0 := math.Sqrt(0.8 * (c.Weight[0]*1 + c.Weight[1]*324))
	w1 := math.Sqrt(0.8 * (c.Weight[0]*9 + c.Weight[1]*4))
	if p.Cluster != 0 || !(math.Abs(p.Distance-math.Sqrt(325)) < 1e-9) || !(math.Abs(p.Confidence-w1/(w0+w1)) < 1e-12) {
		t.Errorf("Place(1, 18) = %+v, want cluster 0, Euclidean distance %v, confidence %v", p, math.Sqrt(325), w1/(w0+w1))
	}
	// Along the clean feature the standardised cost agrees: (3, 10) is
	// 1 from cluster 1 along feature 0.
	if p := c.Place([]float32{3, 10}); p.Cluster != 1 {
		t.Errorf("Place(3, 10) = %+v, want 1", p)
	}
	// RuleWard: the same merge cost in X's own metric, so (1, 18) goes to
	// its nearest centre, cluster 1; "" is the standardised rule.
	c.Rule = RuleWard
	e0, e1 := math.Sqrt(0.8*(1+324)), math.Sqrt(0.8*(9+4))
	if p := c.Place([]float32{1, 18}); p.Cluster != 1 || !(math.Abs(p.Confidence-e0/(e0+e1)) < 1e-12) || !(math.Abs(p.Distance-math.Sqrt(13)) < 1e-9) {
		t.Errorf("RuleWard: Place(1, 18) = %+v, want cluster 1, distance %v, confidence %v", p, math.Sqrt(13), e0/(e0+e1))
	}
	c.Rule = ""
	if p := c.Place([]float32{1, 18}); p.Cluster != 0 {
		t.Errorf("rule \"\": Place(1, 18) = %+v, want 0 (ward-std)", p)
	}
	for _, r := range []string{"", RuleWard, RuleWardStd} {
		if err := CheckRule(r); err != nil {
			t.Errorf("CheckRule(%q): %v", r, err)
		}
	}
	if err := CheckRule("nearest"); err == nil {
		t.Error("CheckRule(nearest): no error")
	}
	// Every member on its centre: no variance to standardise by, weights 1.
	c1, err := Fit([]float32{0, 0, 5, 5}, 2, 2, []int{0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c1.Weight[0] != 1 || c1.Weight[1] != 1 {
		t.Errorf("weights of one-member clusters %v, want 1", c1.Weight)
	}
}

// TestPlaceMembers: two concentric rings (the same mean, so any rule by
// the centres fails) are placed by RuleMembers into the ring of the
// majority of the 5 nearest members; cluster and confidence equal a
// brute-force count over every member, and the ward rule gets the outer
// ring wrong somewhere.
func TestPlaceMembers(t *testing.T) {
	var x []float32
	var pred []int
	for l, r := range []float64{1, 3} {
		for i := 0; i < 40; i++ {
			a := 2 * math.Pi * float64(i) / 40
			x = append(x, float32(r*math.Cos(a)), float32(r*math.Sin(a)))
			pred = append(pred, l)
		}
	}
	c, err := Fit(x, 80, 2, pred, 2)
	if err != nil {
		t.Fatal(err)
	}
	c.Rule = RuleMembers
	wardWrong := false
	for i := 0; i < 24; i++ {
		a := 2*math.Pi*float64(i)/24 + 0.05
		for _, r := range []float64{0.7, 1.2, 2.6, 3.4} {
			p := []float32{float32(r * math.Cos(a)), float32(r * math.Sin(a))}
			// Brute force: the squared distance to every member.
			ds := make([]float64, 80)
			for m := range ds {
				dx, dy := float64(p[0])-float64(x[2*m]), float64(p[1])-float64(x[2*m+1])
				ds[m] = dx*dx + dy*dy
			}
			order := make([]int, 80)
			for m := range order {
				order[m] = m
			}
			slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ds[a], ds[b]) })
			votes := [2]int{}
			for _, m := range order[:5] {
				votes[pred[m]]++
			}
			want := 0
			if votes[1] > votes[0] {
				want = 1
			}
			near := [2]float64{math.Inf(1), math.Inf(1)}
			for m, d := range ds {
				near[pred[m]] = min(near[pred[m]], d)
			}
			conf := math.Sqrt(near[1-want]) / (math.Sqrt(near[want]) + math.Sqrt(near[1-want]))
			got := c.Place(p)
			if got.Cluster != want || math.Abs(got.Confidence-conf) > 1e-12 {
				t.Fatalf("point at radius %g, angle %.2f: cluster %d, confidence %v; want %d, %v", r, a, got.Cluster, got.Confidence, want, conf)
			}
			if wantRing := map[bool]int{true: 0, false: 1}[r < 2]; want != wantRing {
				t.Fatalf("point at radius %g: the brute force says ring %d", r, want)
			}
			w := *c
			w.Rule = RuleWard
			wardWrong = wardWrong || w.Place(p).Cluster != want
		}
	}
	if !wardWrong {
		t.Error("the ward rule placed every ring point right: the data does not tell the rules apart")
	}
	if err := CheckRule(RuleMembers); err != nil {
		t.Error(err)
	}
	// Without members (not made by Fit) it places as RuleWard.
	bare := *c
	bare.x, bare.pred = nil, nil
	w := *c
	w.Rule = RuleWard
	if p := []float32{2.9, 0.3}; bare.Place(p) != w.Place(p) {
		t.Error("Clusters without members do not place by the ward rule")
	}
}

// TestPlaceMembersVote: the vote of the 5 nearest members overrules the
// single nearest one (confidence below 0.5), and a tie goes to the
// cluster of the nearest tied member.
func TestPlaceMembersVote(t *testing.T) {
	// Cluster 0: one member at distance 1 from the origin; cluster 1: four
	// at 1.1-1.4; cluster 2: two far away.
	x := []float32{1, 0, 0, 1.1, -1.2, 0, 0, -1.3, 1.4, 0.1, 9, 9, 9.5, 9}
	pred := []int{0, 1, 1, 1, 1, 2, 2}
	c, err := Fit(x, 7, 2, pred, 3)
	if err != nil {
		t.Fatal(err)
	}
	c.Rule = RuleMembers
	p := c.Place([]float32{0, 0})
	if p.Cluster != 1 || !(p.Confidence < 0.5) || math.Abs(p.Confidence-1/(1+1.1)) > 1e-6 {
		t.Errorf("origin: cluster %d, confidence %v; want 1 (4 of 5 votes), 1/(1+1.1)", p.Cluster, p.Confidence)
	}
	// Ties: 2 votes for cluster 0 (at 1 and 1.5), 2 for cluster 1 (at
	// 1.2, 1.3), 1 for cluster 2 (at 2): cluster 0 has the nearest.
	x = []float32{1, 0, -1.5, 0, 0, 1.2, 0, -1.3, 2, 0, 9, 9}
	pred = []int{0, 0, 1, 1, 2, 2}
	if c, err = Fit(x, 6, 2, pred, 3); err != nil {
		t.Fatal(err)
	}
	c.Rule = RuleMembers
	if p := c.Place([]float32{0, 0}); p.Cluster != 0 {
		t.Errorf("tie: cluster %d, want 0 (its member is the nearest of the tied)", p.Cluster)
	}
}
