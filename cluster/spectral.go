package cluster

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/anomclust/anomclust/internal/spectral"
)

// SpectralOptions configures Spectral.
type SpectralOptions struct {
	// Seed seeds the k-means of the embedding (KMeansOptions.Seed).
	Seed uint64
	// Workers is the number of goroutines of that k-means; 0 means
	// GOMAXPROCS. The result does not depend on it.
	Workers int
}

// Spectral clusters the rows of x (n x d, row-major) into k clusters by
// normalised spectral clustering (Ng, Jordan and Weiss 2002) on a
// self-tuning kNN affinity (Zelnik-Manor and Perona 2004), the graph
// whose eigengap kselect reads K from (package internal/spectral), built
// here on X's own Euclidean distances:
//
//  1. W_ij = exp(-d_ij^2 / (sigma_i sigma_j)), sigma_i the distance from
//     x_i to its 7th nearest neighbour, on the symmetric graph joining
//     each point to its max(10, round(sqrt n)) nearest neighbours (a
//     pair is joined when either is among the other's);
//  2. the k leading eigenvectors of D^(-1/2) W D^(-1/2), D the degrees
//     (the bottom k of the normalised Laplacian), as the columns of an
//     n x k matrix;
//  3. its rows scaled to unit length; the row of a point of degree 0
//     (all its weights underflow, e.g. next to many exact duplicates)
//     is 0, its exact value, and k-means puts it with the nearest centre;
//  4. KMeans of those n rows into k clusters, seeded with opt.Seed.
//
// A graph of k or more components is split along them: the leading
// eigenspace is then spanned by the components' indicator vectors, and
// the unit rows of two components are orthogonal. Labels are numbered in
// order of first appearance (as KMeans's); k = 1 gives all zeros and
// k = n every point its own cluster, without a decomposition. The result
// depends on x, k and opt.Seed only.
//
// Memory is O(n²) (the dense Laplacian and its tridiagonal reduction,
// about 3n² float64 values) and time O(n³) (every eigenvalue is computed,
// spectral.BottomEigen): a few seconds at n = 1000.
func Spectral[T Float](x []T, n, d, k int, opt SpectralOptions) ([]int, error) {
	cuts, err := SpectralCuts(x, n, d, []int{k}, opt)
	if err != nil {
		return nil, err
	}
	return cuts[0], nil
}

// SpectralCuts returns Spectral's clustering for every k of ks from one
// eigendecomposition: cuts[i] equals Spectral(x, n, d, ks[i], opt) (the
// k leading eigenvectors are the first k of the max(ks) leading ones:
// spectral.BottomEigen computes each from the ones before it alone).
// kselect reads the number of clusters from these cuts when the written
// clustering is spectral.
func SpectralCuts[T Float](x []T, n, d int, ks []int, opt SpectralOptions) ([][]int, error) {
	xf, err := toFloat64(x, n, d)
	if err != nil {
		return nil, fmt.Errorf("spectral: %w", err)
	}
	kv := 0
	for _, k := range ks {
		if err := checkK(k, n); err != nil {
			return nil, fmt.Errorf("spectral: %w", err)
		}
		if k > 1 && k < n {
			kv = max(kv, k)
		}
	}
	var v *mat.Dense
	var deg []float64
	if kv > 0 {
		l, dg := spectral.Laplacian(PDist(xf, n, d), n)
		if _, v, err = spectral.BottomEigen(l, kv); err != nil {
			return nil, fmt.Errorf("spectral: %w", err)
		}
		deg = dg
	}
	cuts := make([][]int, len(ks))
	for i, k := range ks {
		labels := make([]int, n)
		switch k {
		case 1:
		case n:
			for j := range labels {
				labels[j] = j
			}
		default:
			r, err := KMeans(unitRows(v, deg, n, k), n, k, k, KMeansOptions{Seed: opt.Seed, Workers: opt.Workers})
			if err != nil {
				return nil, fmt.Errorf("spectral: %w", err)
			}
			labels = r.Labels
		}
		cuts[i] = labels
	}
	return cuts, nil
}

// spectralEmbedding returns the n x k matrix (row-major) whose rows
// Spectral clusters: the k leading eigenvectors of the normalised
// affinity of the rows of x (n x d), each row scaled to unit length, 0
// for a point of degree 0 (the eigenvectors' entries there are 0 up to
// rounding, whose direction would be noise).
func spectralEmbedding(x []float64, n, d, k int) ([]float64, error) {
	l, deg := spectral.Laplacian(PDist(x, n, d), n)
	_, v, err := spectral.BottomEigen(l, k)
	if err != nil {
		return nil, err
	}
	return unitRows(v, deg, n, k), nil
}

// unitRows is the embedding of spectralEmbedding from the first k columns
// of the leading eigenvectors v (n x >= k) and the degrees deg.
func unitRows(v *mat.Dense, deg []float64, n, k int) []float64 {
	e := make([]float64, n*k)
	for i := 0; i < n; i++ {
		if deg[i] == 0 {
			continue
		}
		row := e[i*k : (i+1)*k]
		var s float64
		for c := range row {
			row[c] = v.At(i, c)
			s += row[c] * row[c]
		}
		if s > 0 {
			inv := 1 / math.Sqrt(s)
			for c := range row {
				row[c] *= inv
			}
		}
	}
	return e
}
