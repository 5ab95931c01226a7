package cluster

import (
	"math"
	"slices"
)

// SilhouetteMaxPoints caps the points whose silhouette Silhouette
// averages: above it, an evenly spaced subset of this many rows (each
// still compared with every row) keeps the cost O(SilhouetteMaxPoints·n·d).
const SilhouetteMaxPoints = 2000

// Silhouette is the mean silhouette (Euclidean) of the n x d rows of x
// under the labels c (each in [0, k)): for each point, (b - a) / max(a, b)
// with a its mean distance to the rest of its cluster and b the smallest
// mean distance to another cluster. A point alone in its cluster scores 0,
// as in sklearn's silhouette_score; with one cluster it is 0. It needs no
// labels of the data: it rates how separated the clusters are in x.
func Silhouette(x []float32, n, d int, c []int) float64 {
	if n < 2 || len(c) < n || len(x) < n*d {
		return 0
	}
	k := slices.Max(c[:n]) + 1
	size := make([]int, k)
	for _, l := range c[:n] {
		size[l]++
	}
	step := 1
	if n > SilhouetteMaxPoints {
		step = (n + SilhouetteMaxPoints - 1) / SilhouetteMaxPoints
	}
	var total float64
	var count int
	sum := make([]float64, k)
	for i := 0; i < n; i += step {
		count++
		clear(sum)
		a := x[i*d : (i+1)*d]
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			b := x[j*d : (j+1)*d]
			var s float64
			for t := range a {
				v := float64(a[t] - b[t])
				s += v * v
			}
			sum[c[j]] += math.Sqrt(s)
		}
		if size[c[i]] < 2 {
			continue
		}
		in := sum[c[i]] / float64(size[c[i]]-1)
		out := math.Inf(1)
		for l := range k {
			if l != c[i] && size[l] > 0 {
				out = min(out, sum[l]/float64(size[l]))
			}
		}
		if math.IsInf(out, 1) {
			continue
		}
		if m := max(in, out); m > 0 {
			total += (out - in) / m
		}
	}
	return total / float64(count)
}
