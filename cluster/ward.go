// Package cluster groups the image embeddings X into K clusters (docs/METHOD.md §5):
// Ward agglomerative clustering, as sklearn's AgglomerativeClustering(
// linkage='ward') computes it through scipy.cluster.hierarchy.ward, and
// k-means with k-means++ seeding and restarts.
//
// X is always (N, D) row-major: N observations (images) of dimension D, given
// as []float32 or []float64. Distances are computed in float64, as scipy does
// after converting its input to double.
package cluster

import (
	"fmt"
	"math"
	"runtime"
	"sort"

	"github.com/anomclust/anomclust/internal/parallel"
)

// Float is the element type of an input matrix X.
type Float interface{ ~float32 | ~float64 }

// Merge is one row of a linkage matrix, in scipy.cluster.hierarchy.linkage's
// convention: clusters A and B (A < B) are merged at Height into a cluster of
// Size points. A cluster id below N is a single point; id N+i is the cluster
// formed by merge i.
type Merge struct {
	A, B   int
	Height float64
	Size   int
}

// Linkage is the full Ward merge tree of N points: N-1 merges sorted by
// height (a stable sort, so merges of equal height keep the order in which
// the nearest-neighbour chain made them), identical to scipy's linkage matrix.
type Linkage struct {
	N      int
	Merges []Merge
}

// Matrix returns the linkage as scipy's (N-1) x 4 float64 matrix
// (a, b, height, size per row, row-major), e.g. for writing to .npy and
// drawing a dendrogram with scipy.cluster.hierarchy.dendrogram.
func (l *Linkage) Matrix() []float64 {
	z := make([]float64, 0, 4*len(l.Merges))
	for _, m := range l.Merges {
		z = append(z, float64(m.A), float64(m.B), m.Height, float64(m.Size))
	}
	return z
}

// Ward clusters the rows of x (n x d, row-major) with Ward's minimum-variance
// linkage on Euclidean distances and returns the full merge tree.
//
// It mirrors scipy.cluster.hierarchy.ward(x) (scipy 1.10) step for step, with
// the same floating-point operations in the same order, so heights and merge
// order agree with scipy bit for bit on the same input, ties included:
//   - pdist: d(i,j) = sqrt(sum_k (x_ik - x_jk)^2), summed in k order in float64;
//   - the nearest-neighbour chain (scipy's nn_chain) starts from the active
//     cluster of lowest index; a cluster's nearest neighbour is the previous
//     chain element if none is strictly closer, else the lowest-index cluster
//     at the strictly smallest distance;
//   - merging x < y keeps the new cluster at index y; distances are updated
//     with the Lance-Williams formula for Ward on unsquared distances:
//     d(i, x∪y) = sqrt(((n_i+n_x) d_ix² + (n_i+n_y) d_iy² - n_i d_xy²) / (n_i+n_x+n_y));
//   - merges are stably sorted by height and relabelled with a union-find.
//
// Memory is the condensed distance matrix: n(n-1)/2 float64 values.
// Time is O(n² d) for the distances (spread over GOMAXPROCS goroutines) and
// O(n²) for the chain.
func Ward[T Float](x []T, n, d int) (*Linkage, error) {
	xf, err := toFloat64(x, n, d)
	if err != nil {
		return nil, fmt.Errorf("ward: %w", err)
	}
	return WardFromDistances(PDist(xf, n, d), n)
}

// WardLabels runs Ward on x and cuts the tree into k clusters with Cut
// (sklearn's AgglomerativeClustering(n_clusters=k, linkage='ward').labels_).
func WardLabels[T Float](x []T, n, d, k int) ([]int, *Linkage, error) {
	if err := checkK(k, n); err != nil {
		return nil, nil, fmt.Errorf("ward: %w", err)
	}
	l, err := Ward(x, n, d)
	if err != nil {
		return nil, nil, err
	}
	labels, err := l.Cut(k)
	if err != nil {
		return nil, nil, err
	}
	return labels, l, nil
}

// PDist returns the condensed Euclidean distance matrix of the rows of x
// (n x d float64), as scipy.spatial.distance.pdist(x): entry
// condensedIndex(n, i, j) for i < j, n(n-1)/2 values.
func PDist(x []float64, n, d int) []float64 {
	out := make([]float64, n*(n-1)/2)
	if n < 2 {
		return out
	}
	workers := runtime.GOMAXPROCS(0)
	if n*n*d < 1<<18 {
		workers = 1
	}
	// Rows are handed out one at a time from a shared counter: row i has
	// n-1-i entries, so static blocks would be unbalanced. The values do not
	// depend on which goroutine computes them.
	parallel.Chunks(n-1, 1, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			start := condensedIndex(n, i, i+1)
			pdistRow(x, n, d, i, out[start:start+n-1-i])
		}
	})
	return out
}

// pdistRow fills out[j-i-1] = ||x_i - x_j|| for j = i+1 .. n-1. Four rows j
// are processed together for instruction-level parallelism, but each sum
// still runs over k in order (as scipy's transform_reduce_2d_ does), and the
// float64(...) conversions forbid fusing into FMA, so results are exactly
// scipy's.
func pdistRow(x []float64, n, d, i int, out []float64) {
	xi := x[i*d : (i+1)*d]
	j := i + 1
	for ; j+4 <= n; j += 4 {
		y0 := x[j*d : (j+1)*d][:len(xi)]
		y1 := x[(j+1)*d : (j+2)*d][:len(xi)]
		y2 := x[(j+2)*d : (j+3)*d][:len(xi)]
		y3 := x[(j+3)*d : (j+4)*d][:len(xi)]
		var s0, s1, s2, s3 float64
		for k, v := range xi {
			t0 := v - y0[k]
			t1 := v - y1[k]
			t2 := v - y2[k]
			t3 := v - y3[k]
			s0 += float64(t0 * t0)
			s1 += float64(t1 * t1)
			s2 += float64(t2 * t2)
			s3 += float64(t3 * t3)
		}
		o := out[j-i-1 : j-i+3]
		o[0] = math.Sqrt(s0)
		o[1] = math.Sqrt(s1)
		o[2] = math.Sqrt(s2)
		o[3] = math.Sqrt(s3)
	}
	for ; j < n; j++ {
		y := x[j*d : (j+1)*d][:len(xi)]
		var s float64
		for k, v := range xi {
			t := v - y[k]
			s += float64(t * t)
		}
		out[j-i-1] = math.Sqrt(s)
	}
}

// condensedIndex is the position of pair (i, j), i < j, in a condensed
// distance matrix of n points (scipy's condensed_index).
func condensedIndex(n, i, j int) int {
	return n*i - i*(i+1)/2 + j - i - 1
}

// WardFromDistances runs the nearest-neighbour-chain Ward algorithm on a
// condensed Euclidean distance matrix of n points (as returned by PDist or
// scipy's pdist) and returns the sorted, relabelled linkage. dist is
// overwritten (it holds the cluster distances while the algorithm runs).
func WardFromDistances(dist []float64, n int) (*Linkage, error) {
	if n < 1 {
		return nil, fmt.Errorf("ward: no observations (N = %d)", n)
	}
	if len(dist) != n*(n-1)/2 {
		return nil, fmt.Errorf("ward: condensed distance matrix has %d values, want n(n-1)/2 = %d for n = %d", len(dist), n*(n-1)/2, n)
	}
	for i, v := range dist {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("ward: distance %d is %v (distances must be finite)", i, v)
		}
	}
	merges := nnChain(dist, n)
	sortAndLabel(merges, n)
	return &Linkage{N: n, Merges: merges}, nil
}

// nnChain is scipy's _hierarchy.nn_chain for the Ward method: the
// unsorted merges, with A, B the indices of the merged clusters' slots.
func nnChain(dist []float64, n int) []Merge {
	merges := make([]Merge, 0, n-1)
	size := make([]int, n)
	for i := range size {
		size[i] = 1
	}
	// rowStart[i] = condensedIndex(n, i, i+1): row i's entries are contiguous
	// from there; column i of row r < i is at rowStart[r] + i - r - 1.
	rowStart := make([]int, n)
	for i := range rowStart {
		rowStart[i] = n*i - i*(i+1)/2
	}
	at := func(a, b int) int {
		if a > b {
			a, b = b, a
		}
		return rowStart[a] + b - a - 1
	}
	// active lists the live cluster slots in increasing order, so the scan
	// visits candidates in the same order as scipy's loop over all slots.
	active := make([]int, n)
	for i := range active {
		active[i] = i
	}
	chain := make([]int, 0, n)

	for k := 0; k < n-1; k++ {
		if len(chain) == 0 {
			chain = append(chain, active[0])
		}
		var x, y int
		var currentMin float64
		for {
			x = chain[len(chain)-1]
			// Prefer the previous chain element on ties, so the chain
			// cannot cycle between equidistant clusters.
			if len(chain) > 1 {
				y = chain[len(chain)-2]
				currentMin = dist[at(x, y)]
			} else {
				currentMin = math.Inf(1)
			}
			for _, i := range active {
				if i == x {
					continue
				}
				if dd := dist[at(x, i)]; dd < currentMin {
					currentMin = dd
					y = i
				}
			}
			if len(chain) > 1 && y == chain[len(chain)-2] {
				break
			}
			chain = append(chain, y)
		}
		chain = chain[:len(chain)-2]
		// fastcluster's convention, kept by scipy: the merged cluster lives
		// in the higher slot.
		if x > y {
			x, y = y, x
		}
		nx, ny := size[x], size[y]
		merges = append(merges, Merge{A: x, B: y, Height: currentMin, Size: nx + ny})
		size[x] = 0
		size[y] = nx + ny
		active = removeSorted(active, x)
		for _, i := range active {
			if i == y {
				continue
			}
			iy := at(i, y)
			dist[iy] = wardUpdate(dist[at(i, x)], dist[iy], currentMin, nx, ny, size[i])
		}
	}
	return merges
}

// wardUpdate is scipy's _ward Lance-Williams update on unsquared distances,
// with its operation order; float64(...) around each product forbids FMA
// fusion so the rounding is the same as scipy's compiled C.
func wardUpdate(dxi, dyi, dxy float64, sx, sy, si int) float64 {
	t := 1.0 / float64(sx+sy+si)
	a := float64(float64(si+sx) * t * dxi * dxi)
	b := float64(float64(si+sy) * t * dyi * dyi)
	c := float64(float64(si) * t * dxy * dxy)
	return math.Sqrt(a + b - c)
}

// removeSorted deletes v from the sorted slice s.
func removeSorted(s []int, v int) []int {
	i := sort.SearchInts(s, v)
	if i < len(s) && s[i] == v {
		return append(s[:i], s[i+1:]...)
	}
	return s
}

// sortAndLabel stably sorts merges by height (numpy's argsort kind='mergesort')
// and rewrites A, B, Size as scipy's label() does: A, B become the ids of the
// clusters current at that merge (points < n, merge i -> n+i), A < B.
func sortAndLabel(merges []Merge, n int) {
	sort.SliceStable(merges, func(a, b int) bool { return merges[a].Height < merges[b].Height })
	parent := make([]int, 2*n-1)
	csize := make([]int, 2*n-1)
	for i := range parent {
		parent[i] = i
		csize[i] = 1
	}
	find := func(x int) int {
		root := x
		for parent[root] != root {
			root = parent[root]
		}
		for parent[x] != root { // path compression
			x, parent[x] = parent[x], root
		}
		return root
	}
	next := n
	for i := range merges {
		ra, rb := find(merges[i].A), find(merges[i].B)
		if ra > rb {
			ra, rb = rb, ra
		}
		parent[ra], parent[rb] = next, next
		csize[next] = csize[ra] + csize[rb]
		merges[i] = Merge{A: ra, B: rb, Height: merges[i].Height, Size: csize[next]}
		next++
	}
}

// Cut cuts the tree into k flat clusters and returns a label in [0, k) per
// point, exactly as sklearn 1.2's AgglomerativeClustering(n_clusters=k,
// linkage='ward') labels them (sklearn.cluster._agglomerative._hc_cut):
// starting from the root, the k-1 most recent merges are undone (the node of
// highest id is split first, so ties in height resolve by merge order), and
// label i goes to the i-th entry of the resulting binary heap of node ids,
// kept in the array order of Python's heapq.
func (l *Linkage) Cut(k int) ([]int, error) {
	n := l.N
	if err := checkK(k, n); err != nil {
		return nil, fmt.Errorf("cut linkage: %w", err)
	}
	labels := make([]int, n)
	if n == 1 {
		return labels, nil
	}
	// A max-heap of node ids, stored as sklearn stores it: a heapq min-heap
	// of negated ids, so heap[0] is the most recent merge.
	root := l.Merges[n-2]
	heap := []int{-(max(root.A, root.B) + 1)}
	for range k - 1 {
		m := l.Merges[-heap[0]-n]
		heap = heapPush(heap, -m.A)
		heapPushPop(heap, -m.B)
	}
	var stack []int
	for lab, node := range heap {
		stack = append(stack[:0], -node)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if v < n {
				labels[v] = lab
				continue
			}
			m := l.Merges[v-n]
			stack = append(stack, m.A, m.B)
		}
	}
	return labels, nil
}

// heapPush is Python's heapq.heappush on a min-heap of ints.
func heapPush(h []int, item int) []int {
	h = append(h, item)
	heapSiftDown(h, 0, len(h)-1)
	return h
}

// heapPushPop is Python's heapq.heappushpop: push item, then pop and return
// the smallest, in one step.
func heapPushPop(h []int, item int) int {
	if len(h) > 0 && h[0] < item {
		item, h[0] = h[0], item
		heapSiftUp(h, 0)
	}
	return item
}

// heapSiftDown is heapq._siftdown: move h[pos] up towards startpos.
func heapSiftDown(h []int, startpos, pos int) {
	newitem := h[pos]
	for pos > startpos {
		parentpos := (pos - 1) >> 1
		parent := h[parentpos]
		if newitem < parent {
			h[pos] = parent
			pos = parentpos
			continue
		}
		break
	}
	h[pos] = newitem
}

// heapSiftUp is heapq._siftup: the bottom-up variant that moves the smaller
// child up to the leaf level, then sifts newitem back down.
func heapSiftUp(h []int, pos int) {
	endpos := len(h)
	startpos := pos
	newitem := h[pos]
	childpos := 2*pos + 1
	for childpos < endpos {
		rightpos := childpos + 1
		if rightpos < endpos && !(h[childpos] < h[rightpos]) {
			childpos = rightpos
		}
		h[pos] = h[childpos]
		pos = childpos
		childpos = 2*pos + 1
	}
	h[pos] = newitem
	heapSiftDown(h, startpos, pos)
}

// checkK validates a number of clusters k for n points.
func checkK(k, n int) error {
	switch {
	case n < 1:
		return fmt.Errorf("no observations (N = %d)", n)
	case k < 1:
		return fmt.Errorf("number of clusters K = %d, must be at least 1", k)
	case k > n:
		return fmt.Errorf("number of clusters K = %d is larger than the number of observations N = %d", k, n)
	}
	return nil
}

// toFloat64 validates x as an n x d matrix of finite values and returns it
// as float64 (a copy, or x itself when it already is []float64).
func toFloat64[T Float](x []T, n, d int) ([]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("no observations (N = %d)", n)
	}
	if d < 1 {
		return nil, fmt.Errorf("dimension D = %d, must be at least 1", d)
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("X has %d values, want N x D = %d x %d = %d", len(x), n, d, n*d)
	}
	var out []float64
	if xf, ok := any(x).([]float64); ok {
		out = xf
	} else {
		out = make([]float64, len(x))
		for i, v := range x {
			out[i] = float64(v)
		}
	}
	for i, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("X[%d, %d] is %v (values must be finite)", i/d, i%d, v)
		}
	}
	return out, nil
}
