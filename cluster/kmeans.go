package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/anomclust/anomclust/internal/parallel"
)

// KMeansOptions configures KMeans. Zero values select the defaults shown,
// which are sklearn 1.2's KMeans defaults where sklearn has one.
type KMeansOptions struct {
	// NInit is the number of restarts (different k-means++ seeds); the run
	// with the lowest inertia wins. Default 10.
	NInit int
	// MaxIter bounds the Lloyd iterations of one run. Default 300.
	MaxIter int
	// Tol stops a run when the summed squared shift of the centres falls to
	// Tol times the mean per-feature variance of X (sklearn's relative tol).
	// Default 1e-4. A run also stops when no label changes.
	Tol float64
	// Seed makes the result reproducible: restart r draws from a PCG
	// generator seeded with (Seed, r).
	Seed uint64
	// Workers is the number of goroutines for the assignment step;
	// 0 means GOMAXPROCS. The result does not depend on it.
	Workers int
}

// KMeansResult is the best of the restarts.
type KMeansResult struct {
	// Labels is the cluster of each point, in [0, K). Clusters are numbered
	// in order of first appearance in X, so equal partitions get equal labels.
	Labels []int
	// Centers is (K, D) row-major: the mean of each cluster's points.
	Centers []float64
	// Inertia is the sum over points of the squared Euclidean distance to
	// their cluster's mean.
	Inertia float64
	// NIter is the number of Lloyd iterations of the winning run; Run is its
	// restart index.
	NIter, Run int
}

// KMeans clusters the rows of x (n x d, row-major) into k clusters by
// minimising the within-cluster sum of squared Euclidean distances.
//
// Each restart seeds with greedy k-means++ (as sklearn's _kmeans_plusplus:
// 2+floor(ln k) candidates per centre drawn proportionally to D², keeping the
// one that lowers the potential most), then runs Lloyd iterations. An empty
// cluster is re-seeded with the point farthest from its own centre (among
// clusters with more than one point), so every cluster of the result is
// non-empty. Ties in assignment go to the lowest cluster index; ties in
// inertia between restarts to the earliest restart.
func KMeans[T Float](x []T, n, d, k int, opt KMeansOptions) (*KMeansResult, error) {
	xf, err := toFloat64(x, n, d)
	if err != nil {
		return nil, fmt.Errorf("kmeans: %w", err)
	}
	if err := checkK(k, n); err != nil {
		return nil, fmt.Errorf("kmeans: %w", err)
	}
	if opt.NInit == 0 {
		opt.NInit = 10
	}
	if opt.MaxIter == 0 {
		opt.MaxIter = 300
	}
	if opt.Tol == 0 {
		opt.Tol = 1e-4
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.NInit < 0 || opt.MaxIter < 0 || opt.Tol < 0 {
		return nil, fmt.Errorf("kmeans: NInit %d, MaxIter %d and Tol %g must not be negative", opt.NInit, opt.MaxIter, opt.Tol)
	}
	km := &kmeans{x: xf, n: n, d: d, k: k, workers: opt.Workers}
	km.tolAbs = opt.Tol * meanVariance(xf, n, d)

	var best *KMeansResult
	for r := 0; r < opt.NInit; r++ {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(r)))
		res := km.run(rng, opt.MaxIter)
		res.Run = r
		if best == nil || res.Inertia < best.Inertia {
			best = res
		}
	}
	best.canonicalise(d, k)
	return best, nil
}

// kmeans holds the data of one KMeans call shared by its restarts.
type kmeans struct {
	x       []float64
	n, d, k int
	workers int
	tolAbs  float64
}

// run is one restart: k-means++ seeding, then Lloyd iterations.
func (km *kmeans) run(rng *rand.Rand, maxIter int) *KMeansResult {
	n, d, k := km.n, km.d, km.k
	centers := km.plusPlus(rng)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	newLabels := make([]int, n)
	dists := make([]float64, n)
	counts := make([]int, k)
	sums := make([]float64, k*d)
	iter := 0
	for iter < maxIter {
		iter++
		km.assign(centers, newLabels, dists)
		km.relocateEmpty(newLabels, dists, counts)
		changed := false
		for i, l := range newLabels {
			if l != labels[i] {
				changed = true
			}
		}
		labels, newLabels = newLabels, labels
		// M-step: centres are the means of their points.
		clear(sums)
		for i, l := range labels {
			s := sums[l*d : (l+1)*d]
			for j, v := range km.x[i*d : (i+1)*d] {
				s[j] += v
			}
		}
		var shift float64
		for c := 0; c < k; c++ {
			inv := 1 / float64(counts[c])
			cc := centers[c*d : (c+1)*d]
			for j, s := range sums[c*d : (c+1)*d] {
				m := s * inv
				t := m - cc[j]
				shift += t * t
				cc[j] = m
			}
		}
		if !changed || shift <= km.tolAbs {
			break
		}
	}
	// The centres moved after the last assignment: assign once more so the
	// labels are the nearest-centre partition (sklearn's final E-step), then
	// score the partition against its own means.
	km.assign(centers, newLabels, dists)
	km.relocateEmpty(newLabels, dists, counts)
	labels = newLabels
	clear(sums)
	for i, l := range labels {
		s := sums[l*d : (l+1)*d]
		for j, v := range km.x[i*d : (i+1)*d] {
			s[j] += v
		}
	}
	for c := 0; c < k; c++ {
		inv := 1 / float64(counts[c])
		for j := range d {
			centers[c*d+j] = sums[c*d+j] * inv
		}
	}
	var inertia float64
	for i, l := range labels {
		inertia += sqDist(km.x[i*d:(i+1)*d], centers[l*d:(l+1)*d])
	}
	return &KMeansResult{Labels: labels, Centers: centers, Inertia: inertia, NIter: iter}
}

// plusPlus is greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with
// sklearn's local trials): returns k centres (k x d) chosen among the points.
func (km *kmeans) plusPlus(rng *rand.Rand) []float64 {
	n, d, k := km.n, km.d, km.k
	centers := make([]float64, k*d)
	nTrials := 2 + int(math.Log(float64(k)))
	first := rng.IntN(n)
	copy(centers[:d], km.x[first*d:(first+1)*d])
	closest := make([]float64, n)
	km.parallelRows(func(lo, hi int) {
		for i := lo; i < hi; i++ {
			closest[i] = sqDist(km.x[i*d:(i+1)*d], centers[:d])
		}
	})
	pot := sum(closest)
	cand := make([]float64, n)
	bestCand := make([]float64, n)
	for c := 1; c < k; c++ {
		bestPot, bestIdx := math.Inf(1), -1
		for range nTrials {
			idx := sampleProportional(rng, closest, pot)
			ci := km.x[idx*d : (idx+1)*d]
			km.parallelRows(func(lo, hi int) {
				for i := lo; i < hi; i++ {
					cand[i] = min(closest[i], sqDist(km.x[i*d:(i+1)*d], ci))
				}
			})
			if p := sum(cand); p < bestPot {
				bestPot, bestIdx = p, idx
				copy(bestCand, cand)
			}
		}
		copy(centers[c*d:(c+1)*d], km.x[bestIdx*d:(bestIdx+1)*d])
		copy(closest, bestCand)
		pot = bestPot
	}
	return centers
}

// sampleProportional draws an index with probability w[i]/total; when all
// weights are zero (every point coincides with a centre) it draws uniformly.
func sampleProportional(rng *rand.Rand, w []float64, total float64) int {
	if !(total > 0) {
		return rng.IntN(len(w))
	}
	r := rng.Float64() * total
	var acc float64
	last := 0
	for i, v := range w {
		if v <= 0 {
			continue
		}
		acc += v
		last = i
		if r < acc {
			return i
		}
	}
	return last // rounding left r >= the accumulated total
}

// assign sets labels[i] to the nearest centre of point i (lowest index on
// ties) and dists[i] to the squared distance, over km.workers goroutines.
func (km *kmeans) assign(centers []float64, labels []int, dists []float64) {
	d, k := km.d, km.k
	km.parallelRows(func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := km.x[i*d : (i+1)*d]
			best, bestD := 0, math.Inf(1)
			for c := 0; c < k; c++ {
				if dd := sqDist(xi, centers[c*d:(c+1)*d]); dd < bestD {
					best, bestD = c, dd
				}
			}
			labels[i], dists[i] = best, bestD
		}
	})
}

// relocateEmpty counts cluster sizes into counts and gives every empty
// cluster the point farthest from its centre, taken from a cluster that keeps
// at least one point (sklearn's _relocate_empty_clusters). Far points are
// taken in decreasing distance, lowest index first on ties.
func (km *kmeans) relocateEmpty(labels []int, dists []float64, counts []int) {
	clear(counts)
	for _, l := range labels {
		counts[l]++
	}
	for c := range counts {
		if counts[c] > 0 {
			continue
		}
		far, farD := -1, -1.0
		for i, l := range labels {
			if counts[l] > 1 && dists[i] > farD {
				far, farD = i, dists[i]
			}
		}
		// far exists: k <= n and cluster c is empty, so some cluster has two points.
		counts[labels[far]]--
		labels[far] = c
		dists[far] = 0
		counts[c] = 1
	}
}

// parallelRows calls f on consecutive row ranges covering [0, n), spread over
// km.workers goroutines when the work is large enough to pay for them.
func (km *kmeans) parallelRows(f func(lo, hi int)) {
	workers := km.workers
	if km.n*km.k*km.d < 1<<16 {
		workers = 1
	}
	parallel.Chunks(km.n, 64, workers, f)
}

// canonicalise renumbers clusters in order of first appearance.
func (r *KMeansResult) canonicalise(d, k int) {
	perm := make([]int, k)
	for i := range perm {
		perm[i] = -1
	}
	next := 0
	for _, l := range r.Labels {
		if perm[l] < 0 {
			perm[l] = next
			next++
		}
	}
	centers := make([]float64, len(r.Centers))
	for old, nw := range perm {
		copy(centers[nw*d:(nw+1)*d], r.Centers[old*d:(old+1)*d])
	}
	for i, l := range r.Labels {
		r.Labels[i] = perm[l]
	}
	r.Centers = centers
}

// meanVariance is the mean over features of the per-feature variance of x,
// the scale sklearn's _tolerance multiplies tol by.
func meanVariance(x []float64, n, d int) float64 {
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	var s float64
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			t := v - mean[j]
			s += t * t
		}
	}
	return s / float64(n*d)
}

// sqDist is the squared Euclidean distance of two equal-length vectors.
func sqDist(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1 float64
	i := 0
	for ; i+2 <= len(a); i += 2 {
		t0 := a[i] - b[i]
		t1 := a[i+1] - b[i+1]
		s0 += t0 * t0
		s1 += t1 * t1
	}
	for ; i < len(a); i++ {
		t := a[i] - b[i]
		s0 += t * t
	}
	return s0 + s1
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}
