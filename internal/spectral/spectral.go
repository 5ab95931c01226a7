// Package spectral builds the affinity graph of a point set and the
// leading eigenvectors of its normalised affinity: what spectral
// clustering (cluster's "spectral" method) and the eigengap estimate of
// K (package kselect) share.
//
// The graph is Zelnik-Manor and Perona's self-tuning affinity (2004) on
// a symmetric k-nearest-neighbour graph: sigma_i is the distance from
// point i to its SelfTuningNeighbour-th nearest neighbour, and
//
//	W_ij = exp(-d_ij^2 / (sigma_i sigma_j))
//
// when j is among the Neighbours(n) nearest of i or i among those of j
// (0 otherwise, and on the diagonal). Laplacian returns the symmetric
// normalised Laplacian L = I - D^(-1/2) W D^(-1/2), D the degrees; the
// bottom eigenvectors of L (BottomEigen) are the leading ones of the
// normalised affinity D^(-1/2) W D^(-1/2), eigenvalue mu = 1 - lambda.
package spectral

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// SelfTuningNeighbour is the neighbour whose distance scales a point's
// affinity (Zelnik-Manor and Perona use the 7th).
const SelfTuningNeighbour = 7

// minSigma floors sigma_i: a point with SelfTuningNeighbour or more
// exact duplicates has distance 0 to that neighbour, and 0/0 would make
// its weights NaN. With the floor a duplicate pair weighs exp(0) = 1 and
// a pair much further apart than the floor about 0.
const minSigma = 1e-12

// Neighbours is the number of nearest neighbours each of n points is
// joined to: max(10, round(sqrt(n))), capped at n-1. It grows faster
// than the order log n von Luxburg (2007, §8.1) names as needed for a
// connected kNN graph, and it is the graph kselect's eigengap was
// measured on (docs/QUALITY.md, "Choosing K").
func Neighbours(n int) int {
	return min(max(10, int(math.Round(math.Sqrt(float64(n))))), n-1)
}

// Laplacian returns the symmetric normalised Laplacian of the
// self-tuning kNN affinity of n points given by their condensed
// Euclidean distances dist (scipy's pdist layout: n(n-1)/2 values, pair
// i < j at n*i - i*(i+1)/2 + j - i - 1), and the affinity's degrees. A
// point of degree 0 (all its weights underflow) has L_ii = 1 and no
// other entry. Ties between equally distant neighbours go to the lower
// index. n must be at least 2.
func Laplacian(dist []float64, n int) (*mat.SymDense, []float64) {
	knn := Neighbours(n)
	sn := min(SelfTuningNeighbour, n-1)
	nbr := make([][]int, n)
	sigma := make([]float64, n)
	row := make([]int, n-1)
	for i := 0; i < n; i++ {
		row = row[:0]
		for j := 0; j < n; j++ {
			if j != i {
				row = append(row, j)
			}
		}
		slices.SortFunc(row, func(a, b int) int {
			da, db := dist[condensed(n, i, a)], dist[condensed(n, i, b)]
			switch {
			case da < db:
				return -1
			case da > db:
				return 1
			}
			return a - b
		})
		nbr[i] = slices.Clone(row[:knn])
		sigma[i] = max(dist[condensed(n, i, row[sn-1])], minSigma)
	}
	w := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for _, j := range nbr[i] {
			dd := dist[condensed(n, i, j)]
			w.SetSym(i, j, math.Exp(-dd*dd/(sigma[i]*sigma[j])))
		}
	}
	deg := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			deg[i] += w.At(i, j)
		}
	}
	l := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := 0.0
			if deg[i] > 0 && deg[j] > 0 {
				v = -w.At(i, j) / math.Sqrt(deg[i]*deg[j])
			}
			if i == j {
				v++
			}
			l.SetSym(i, j, v)
		}
	}
	return l, deg
}

// condensed returns the index of (i, j), i != j, in a condensed matrix.
func condensed(n, i, j int) int {
	if i > j {
		i, j = j, i
	}
	return n*i - i*(i+1)/2 + j - i - 1
}
