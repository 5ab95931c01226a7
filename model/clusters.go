// Package model is what a finished run keeps so that new images can be
// placed in its clusters (`anomclust assign`): the clusters' centres and
// spreads in X space, and the reference patches the patch scores of new
// images are computed against. It also defines the per-image distance and
// confidence written to assignments.csv.
package model

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// OpenSetQuantile is the quantile of a cluster's own members' distances to
// its centre beyond which a new image is called new (open set).
const OpenSetQuantile = 0.95

// Clusters are the K clusters of a result in X space.
type Clusters struct {
	K, D int
	// Centre is K x D: the mean X of each cluster's members.
	Centre []float64
	// Size is the number of members of each cluster.
	Size []int
	// Spread is the root mean square of the members' Euclidean distances
	// to their centre (0 for a one-member cluster).
	Spread []float64
	// Radius is the OpenSetQuantile quantile of the members' distances to
	// their centre (linear interpolation, numpy's default): a new image
	// farther than its nearest cluster's Radius is "new".
	Radius []float64
	// Weight is D per-feature weights of Place's cost: the inverse of each
	// feature's pooled within-cluster variance (the members' mean squared
	// deviation from their centre), plus 1e-6 of the mean variance so that
	// a constant feature has a finite weight; all 1 when every member sits
	// on its centre.
	Weight []float64
	// Rule is Place's rule: RuleWardStd ("" too), RuleWard or
	// RuleMembers.
	Rule string
	// x (n x D) and pred are the members Fit was given, for RuleMembers
	// (kept, not copied).
	x    []float32
	pred []int
}

// Place's rules (run.json categories[].placement).
const (
	// RuleWardStd: Ward's merge cost with every feature standardised by
	// its pooled within-cluster SD (Weight); the default.
	RuleWardStd = "ward-std"
	// RuleWard: Ward's merge cost in X's own Euclidean metric, the one
	// the clustering itself used.
	RuleWard = "ward"
	// RuleMembers: the cluster most of the MembersK nearest members
	// (Euclidean, in X) belong to, a tie going to the cluster of the
	// nearest tied member; for clusters that are not the cells of their
	// means (spectral clustering's).
	RuleMembers = "members"
)

// MembersK is the number of nearest members RuleMembers reads.
const MembersK = 5

// CheckRule returns an error unless rule is "" or one of Place's rules.
func CheckRule(rule string) error {
	switch rule {
	case "", RuleWardStd, RuleWard, RuleMembers:
		return nil
	}
	return fmt.Errorf("model: placement rule %q: want %s, %s or %s", rule, RuleWardStd, RuleWard, RuleMembers)
}

// Fit computes the clusters of the rows of x (n x d) labelled by pred in
// [0, k). Every cluster must have a member.
func Fit(x []float32, n, d int, pred []int, k int) (*Clusters, error) {
	if len(x) != n*d || len(pred) != n {
		return nil, fmt.Errorf("model: X has %d values and %d labels, want %d x %d and %d", len(x), len(pred), n, d, n)
	}
	c := &Clusters{K: k, D: d, Centre: make([]float64, k*d), Size: make([]int, k), Spread: make([]float64, k), Radius: make([]float64, k), x: x, pred: pred}
	for i, l := range pred {
		if l < 0 || l >= k {
			return nil, fmt.Errorf("model: label %d of image %d not in [0, %d)", l, i, k)
		}
		c.Size[l]++
		for j := 0; j < d; j++ {
			c.Centre[l*d+j] += float64(x[i*d+j])
		}
	}
	for l := 0; l < k; l++ {
		if c.Size[l] == 0 {
			return nil, fmt.Errorf("model: cluster %d has no member", l)
		}
		for j := 0; j < d; j++ {
			c.Centre[l*d+j] /= float64(c.Size[l])
		}
	}
	dists := make([][]float64, k)
	for i, l := range pred {
		dd := c.dist(x[i*d:(i+1)*d], l)
		dists[l] = append(dists[l], dd)
		c.Spread[l] += dd * dd
	}
	for l := 0; l < k; l++ {
		c.Spread[l] = math.Sqrt(c.Spread[l] / float64(c.Size[l]))
		c.Radius[l] = quantile(dists[l], OpenSetQuantile)
	}
	c.Weight = withinWeights(x, n, d, pred, c.Centre)
	return c, nil
}

// withinWeights is Clusters.Weight: 1 / (v_j + 1e-6 mean(v)), v_j the
// pooled within-cluster variance of feature j.
func withinWeights(x []float32, n, d int, pred []int, centre []float64) []float64 {
	v := make([]float64, d)
	for i, l := range pred {
		ctr := centre[l*d : (l+1)*d]
		for j, xv := range x[i*d : (i+1)*d] {
			t := float64(xv) - ctr[j]
			v[j] += t * t
		}
	}
	var mean float64
	for j := range v {
		v[j] /= float64(n)
		mean += v[j] / float64(d)
	}
	w := make([]float64, d)
	for j := range w {
		w[j] = 1
		if mean > 0 {
			w[j] = 1 / (v[j] + 1e-6*mean)
		}
	}
	return w
}

// quantile is numpy.quantile(v, q) with linear interpolation.
func quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
}

// dist is the Euclidean distance of x to centre l.
func (c *Clusters) dist(x []float32, l int) float64 {
	var s float64
	ctr := c.Centre[l*c.D : (l+1)*c.D]
	for j, v := range x {
		t := float64(v) - ctr[j]
		s += t * t
	}
	return math.Sqrt(s)
}

// Placement is where one image falls among the clusters.
type Placement struct {
	Cluster int
	// Distance is the Euclidean distance of X to the cluster's centre.
	Distance float64
	// Relative is Distance / Spread of the cluster (NaN for a spread of 0).
	Relative float64
	// Confidence is d2 / (Distance + d2), d2 the distance to the nearest
	// other centre: 1 at the centre, 0.5 on the boundary (1 when K = 1).
	Confidence float64
	// New: Distance exceeds the cluster's Radius (an open-set outlier).
	New bool
}

// Describe places x (length D) in cluster l (its own cluster, as the
// clustering decided).
func (c *Clusters) Describe(x []float32, l int) Placement {
	d1 := c.dist(x, l)
	d2 := math.Inf(1)
	for o := 0; o < c.K; o++ {
		if o != l {
			d2 = min(d2, c.dist(x, o))
		}
	}
	p := Placement{Cluster: l, Distance: d1, Relative: math.NaN(), Confidence: 1, New: d1 > c.Radius[l]}
	if c.Spread[l] > 0 {
		p.Relative = d1 / c.Spread[l]
	}
	if !math.IsInf(d2, 1) && d1+d2 > 0 {
		p.Confidence = d2 / (d1 + d2)
	}
	return p
}

// Nearest places x in the cluster of the nearest centre.
func (c *Clusters) Nearest(x []float32) Placement {
	best, bd := 0, math.Inf(1)
	for l := 0; l < c.K; l++ {
		if dd := c.dist(x, l); dd < bd {
			best, bd = l, dd
		}
	}
	return c.Describe(x, best)
}

// wardCost is the growth of Ward's objective (the within-cluster sum of
// squares) when x joins cluster l, with every feature standardised by its
// pooled within-cluster standard deviation: Size/(Size+1) sum_j
// Weight_j (x_j - centre_j)^2; with RuleWard, Weight_j = 1.
func (c *Clusters) wardCost(x []float32, l int) float64 {
	var s float64
	ctr := c.Centre[l*c.D : (l+1)*c.D]
	w := c.Weight
	if c.Rule == RuleWard {
		w = nil
	}
	for j, v := range x {
		t := float64(v) - ctr[j]
		if w != nil {
			s += w[j] * t * t
		} else {
			s += t * t
		}
	}
	return float64(c.Size[l]) / float64(c.Size[l]+1) * s
}

// Place puts a new image x in the cluster whose Ward objective grows least
// by taking it in (the merge cost Ward's clustering itself minimises, so a
// small cluster weighs a little less than its centre distance says), with
// the features standardised by their pooled within-cluster standard
// deviations (Weight: the shared diagonal covariance of the clusters, as
// in a diagonal linear discriminant), so that a feature that varies much
// inside every cluster does not outvote one that separates them; with
// Rule RuleWard in X's own metric instead.
// Distance, Relative and New are as Describe's for that cluster
// (Euclidean); Confidence is w2 / (w1 + w2) with w the square roots of the
// merge costs of that cluster and of the next cheapest (0.5 on the
// boundary, 1 when K = 1).
func (c *Clusters) Place(x []float32) Placement {
	if c.Rule == RuleMembers {
		return c.placeMembers(x)
	}
	best, bc, next := 0, math.Inf(1), math.Inf(1)
	for l := 0; l < c.K; l++ {
		cost := c.wardCost(x, l)
		switch {
		case cost < bc:
			best, bc, next = l, cost, bc
		case cost < next:
			next = cost
		}
	}
	p := c.Describe(x, best)
	p.Confidence = sideConfidence(bc, next)
	return p
}

// placeMembers is Place with RuleMembers. Confidence is d2 / (d1 + d2),
// d1 the distance to the chosen cluster's nearest member and d2 to the
// nearest member of any other cluster (below 0.5 when the vote overrules
// the single nearest member; 1 when K = 1). Clusters not made by Fit have
// no members and place by RuleWard.
func (c *Clusters) placeMembers(x []float32) Placement {
	n := len(c.pred)
	if n == 0 { // not made by Fit: no members to read
		w := *c
		w.Rule = RuleWard
		return w.Place(x)
	}
	type member struct {
		d float64
		l int
	}
	ms := make([]member, n)
	for i, l := range c.pred {
		var s float64
		for j, v := range c.x[i*c.D : (i+1)*c.D] {
			t := float64(x[j]) - float64(v)
			s += t * t
		}
		ms[i] = member{s, l}
	}
	slices.SortStableFunc(ms, func(a, b member) int { return cmp.Compare(a.d, b.d) })
	votes := make([]int, c.K)
	top := 0
	for _, m := range ms[:min(MembersK, n)] {
		votes[m.l]++
		top = max(top, votes[m.l])
	}
	best := -1
	nearest := make([]float64, c.K) // each cluster's nearest member's squared distance
	for i := range nearest {
		nearest[i] = math.Inf(1)
	}
	for _, m := range ms {
		if best < 0 && votes[m.l] == top {
			best = m.l
		}
		nearest[m.l] = min(nearest[m.l], m.d)
	}
	p := c.Describe(x, best)
	d2 := math.Inf(1)
	for l, d := range nearest {
		if l != best {
			d2 = min(d2, d)
		}
	}
	p.Confidence = sideConfidence(nearest[best], d2)
	return p
}

// sideConfidence is w2 / (w1 + w2) with w the square roots of the chosen
// cluster's cost c1 and the runner-up's c2 (0.5 on the boundary); 1
// without a runner-up (c2 infinite) or when both are 0.
func sideConfidence(c1, c2 float64) float64 {
	w1, w2 := math.Sqrt(c1), math.Sqrt(c2)
	if math.IsInf(w2, 1) || !(w1+w2 > 0) {
		return 1
	}
	return w2 / (w1 + w2)
}
