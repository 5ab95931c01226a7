// Package alpha computes the patch weights alpha and the image embeddings X
// of Anomaly Clustering (Sohn et al., WACV 2023; docs/METHOD.md §4)
// from PatchCore patch embeddings Z.
//
// A patch score s_i^m says how unusual patch m of image i is; the weights
// are a softmax of s/tau over each image's patches and X_i is the weighted
// mean of the image's patch embeddings. Scores are computed once per set of
// images; every tau only re-weights.
package alpha

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/tensor"
)

// Scores are patch scores s, (N images x M patches), row-major float64.
type Scores struct {
	N, M int
	S    []float64
}

// Row returns the M scores of image i.
func (s *Scores) Row(i int) []float64 { return s.S[i*s.M : (i+1)*s.M] }

// Strategy chooses how the unsupervised score computes its pairwise
// nearest-neighbour distances.
type Strategy int

const (
	// Symmetric computes each unordered image pair's M x M dot products once
	// (gemm.MatMulPacked, Z_j packed once per run of pairs sharing it) and
	// takes both the row minima (for image i) and the column minima (for
	// image j) of the distances: half the flops of Fused, plus one Go pass
	// over an M x M per-worker buffer (~5% of the GEMM's time at M = 784,
	// D = 1024). Measured ~1.9x faster than Fused in CPU time.
	Symmetric Strategy = iota
	// Fused calls the fused nearest-neighbour kernel
	// (gemm.NearestDistancesPacked, each Z_j packed once as a bank) per
	// ordered pair (i, j): the row minimum is taken inside the GEMM and
	// nothing M x M is stored, but every pair's products are computed twice.
	Fused
)

// Options tune the score computations; the zero value is the default.
type Options struct {
	// Workers is the number of goroutines working on whole image pairs
	// (or bank blocks); 0 means GOMAXPROCS. Package gemm also splits each
	// product over GOMAXPROCS goroutines, so up to Workers x GOMAXPROCS
	// goroutines share GOMAXPROCS threads: Go multiplexes them without OS
	// oversubscription, and the outer split keeps the Go-side reductions
	// (Symmetric's minima pass) parallel too. On 2 cores Workers = 1 and 2
	// measured the same CPU time (BenchmarkUnsupervised).
	Workers int
	// Strategy of the unsupervised score (default Symmetric).
	Strategy Strategy
	// Coreset, in (0, 1), subsamples the semi-supervised memory bank to
	// that fraction of its patches with PatchCore's approximate greedy
	// coreset (see Coreset). 0 (the default) or 1 keeps every patch.
	Coreset float64
	// CoresetExact selects the coreset with the plain sequential greedy
	// search (Coreset) instead of the blocked one (CoresetBlocked, the
	// default: the same selection up to float32 rounding, much faster).
	CoresetExact bool
	// CoresetPicked, when not nil, is told the bank rows the coreset kept
	// (indices into the images' patch rows, concatenated in bank order),
	// so that a caller that needs the same coreset need not select it again.
	CoresetPicked func(idx []int)
	// Seed seeds the coreset's random projection and starting points.
	Seed uint64
	// Progress, when not nil, is told after each unit of work that n more
	// of total units are done (units: image pairs for Unsupervised, test
	// image x bank block queries for SemiSupervised), for a progress bar.
	// It is called from several goroutines at once.
	Progress func(n, total int)
	// Done, when not nil, stops the computation early once closed (pass
	// ctx.Done()): the function then returns an error wrapping ErrStopped.
	Done <-chan struct{}
	// Queries, when in (0, N), limits Unsupervised to the scores of the
	// first Queries images; the images after them only serve as "other
	// images" (e.g. MVTec's combined images). Pairs of two such reference
	// images are skipped. 0 means every image.
	Queries int
}

// ErrStopped is wrapped by the score functions when Options.Done was
// closed before they finished.
var ErrStopped = errors.New("alpha: stopped before the scores were complete")

// stopped reports whether done is closed (never, for a nil channel).
func stopped(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// tick reports n units done to the Progress hook, if any.
func (o Options) tick(n, total int) {
	if o.Progress != nil {
		o.Progress(n, total)
	}
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// checkZ verifies that every Z is an (M, D) matrix of the same shape and
// returns M and D.
func checkZ(what string, z []*tensor.Tensor) (m, d int, err error) {
	for i, t := range z {
		if t == nil || len(t.Shape) != 2 || len(t.Data) != tensor.Numel(t.Shape) {
			var shape []int
			if t != nil {
				shape = t.Shape
			}
			return 0, 0, fmt.Errorf("alpha: %s image %d: want an (M, D) matrix, got shape %v", what, i, shape)
		}
		if i == 0 {
			m, d = t.Shape[0], t.Shape[1]
		} else if t.Shape[0] != m || t.Shape[1] != d {
			return 0, 0, fmt.Errorf("alpha: %s image %d has shape %v, image 0 has (%d, %d)", what, i, t.Shape, m, d)
		}
	}
	if m == 0 || d == 0 {
		return 0, 0, fmt.Errorf("alpha: %s: empty patch embeddings (M=%d, D=%d)", what, m, d)
	}
	return m, d, nil
}

// Unsupervised returns s_i^m = mean over every other image j of
// min_n ||z_i^m - z_j^n|| (Euclidean), docs/METHOD.md §4. z holds one (M, D) matrix
// per image, all of the same shape; N >= 2.
//
// It streams over image pairs: memory is O(N·M) for the scores (one float64
// accumulator per worker) plus per worker one packed image and, for
// Symmetric, an M x M float32 buffer; never an N·M x N·M matrix. Distances use the GEMM form
// ||a||² + ||b||² - 2a·b in float32 (clamped at 0); the minima are summed in
// float64. The result is deterministic for a given Workers and Strategy.
// With opt.Queries = Q in (0, N) it returns the Q x M scores of the first Q
// images only (still means over all N-1 others).
func Unsupervised(z []*tensor.Tensor, opt Options) (*Scores, error) {
	if len(z) < 2 {
		return nil, fmt.Errorf("alpha: unsupervised scores need at least 2 images, got %d", len(z))
	}
	M, D, err := checkZ("unsupervised", z)
	if err != nil {
		return nil, err
	}
	N := len(z)
	Q := N
	if opt.Queries < 0 || opt.Queries > N {
		return nil, fmt.Errorf("alpha: %d query images of %d", opt.Queries, N)
	} else if opt.Queries > 0 {
		Q = opt.Queries
	}
	pairs, nPairs := queryPairs(N, Q)
	workers := max(1, min(opt.workers(), nPairs))
	// One float64 accumulator per worker; pairs are split statically so
	// the summation order (and so the result) does not depend on scheduling.
	// Every pair costs the same, so static splitting balances well.
	var acc [][]float64
	switch opt.Strategy {
	case Symmetric:
		acc = symmetricSums(z, M, D, pairs, nPairs, workers, opt)
	case Fused:
		acc = fusedSums(z, M, D, Q, workers, opt)
	default:
		return nil, fmt.Errorf("alpha: unknown strategy %d", opt.Strategy)
	}
	if stopped(opt.Done) {
		return nil, fmt.Errorf("unsupervised scores of %d images: %w", N, ErrStopped)
	}
	return meanOverOthers(acc, N, Q, M), nil
}

// pairAt returns the p-th unordered pair (i, j), i < j, in the order
// (0,1), (0,2), (1,2), (0,3), (1,3), (2,3), ...: pairs with j come after
// the j(j-1)/2 pairs with a smaller j.
func pairAt(p int) (i, j int) {
	j = int((1 + math.Sqrt(1+8*float64(p))) / 2)
	for j*(j-1)/2 > p { // guard the float estimate both ways
		j--
	}
	for (j+1)*j/2 <= p {
		j++
	}
	return p - j*(j-1)/2, j
}

// rowNorms returns ||row||² of each of the m rows of the (m x d) matrix a,
// accumulated in float64 and rounded to float32 once.
func rowNorms(a []float32, m, d int) []float32 { return rowNormsInto(nil, a, m, d) }

// pairMinima turns the (m x m) dot products dot[i*m+j] = a_i·b_j into the
// nearest-neighbour distances both ways:
// rowMin[i] = min_j ||a_i - b_j|| and colMin[j] = min_i ||a_i - b_j||,
// with ||a - b||² = ||a||² + ||b||² - 2a·b clamped at 0 (as torch.cdist's
// matrix-multiplication path does). na and nb are the squared row norms.
// The norm of the fixed side is added after the minimum, which does not
// change the arg-min and saves one addition per element.
func pairMinima(dot []float32, m int, na, nb, rowMin, colMin []float32) {
	inf := float32(math.Inf(1))
	for j := range colMin[:m] {
		colMin[j] = inf
	}
	for i := 0; i < m; i++ {
		row := dot[i*m : (i+1)*m]
		nai := na[i]
		rmin := inf
		cm := colMin[:len(row)]
		nbs := nb[:len(row)]
		for j, t := range row {
			t2 := t + t
			if v := nbs[j] - t2; v < rmin {
				rmin = v
			}
			if v := nai - t2; v < cm[j] {
				cm[j] = v
			}
		}
		rowMin[i] = sqrtClamp(rmin + nai)
	}
	for j := range colMin[:m] {
		colMin[j] = sqrtClamp(colMin[j] + nb[j])
	}
}

func sqrtClamp(v float32) float32 {
	if v <= 0 {
		return 0
	}
	return float32(math.Sqrt(float64(v)))
}

// SemiSupervised returns s_i^m = min over the patches z of the memory bank
// of ||z_i^m - z|| (PatchCore's nearest-neighbour patch score), docs/METHOD.md §4.
// test and bank hold (M, D) matrices of one shape (see SampleNormals for
// picking the bank's images). With opt.Coreset in (0, 1) the bank's patches
// are first subsampled with Coreset.
func SemiSupervised(test, bank []*tensor.Tensor, opt Options) (*Scores, error) {
	if len(test) == 0 {
		return nil, fmt.Errorf("alpha: semi-supervised scores: no test images")
	}
	if len(bank) == 0 {
		return nil, fmt.Errorf("alpha: semi-supervised scores: empty memory bank (no normal images)")
	}
	M, D, err := checkZ("semi-supervised test", test)
	if err != nil {
		return nil, err
	}
	bm, bd, err := checkZ("semi-supervised bank", bank)
	if err != nil {
		return nil, err
	}
	if bd != D {
		return nil, fmt.Errorf("alpha: bank dimension %d differs from test dimension %d", bd, D)
	}
	// The bank as blocks of rows: each image's Z as is (no copy), or the
	// coreset's rows (a copy; the projection needs the bank contiguous,
	// another copy while it runs) cut into blocks of an image's size.
	type block struct {
		rows int
		data []float32
	}
	var blocks []block
	switch {
	case opt.Coreset == 0 || opt.Coreset == 1:
		for _, b := range bank {
			blocks = append(blocks, block{bm, b.Data})
		}
	case opt.Coreset > 0 && opt.Coreset < 1:
		all := make([]float32, 0, len(bank)*bm*D)
		for _, b := range bank {
			all = append(all, b.Data...)
		}
		idx, err := opt.coreset(all, len(bank)*bm, D)
		if err != nil {
			return nil, err
		}
		sub := make([]float32, len(idx)*D)
		for k, r := range idx {
			copy(sub[k*D:(k+1)*D], all[r*D:(r+1)*D])
		}
		// Blocks of one image's size, so that workers share the work as
		// for the full bank.
		for r := 0; r < len(idx); r += bm {
			rows := min(bm, len(idx)-r)
			blocks = append(blocks, block{rows, sub[r*D : (r+rows)*D]})
		}
	default:
		return nil, fmt.Errorf("alpha: coreset fraction %v not in [0, 1]", opt.Coreset)
	}
	// Worker w takes the blocks k ≡ w (mod workers), packs each once and
	// queries every test image against it, keeping its own running minima;
	// the minima are merged at the end (a minimum does not depend on the
	// order, so the result is deterministic).
	N := len(test)
	workers := min(opt.workers(), len(blocks))
	best := make([][]float32, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		best[w] = make([]float32, N*M)
		wg.Add(1)
		go func(w int, bw []float32) {
			defer wg.Done()
			for k := range bw {
				bw[k] = float32(math.Inf(1))
			}
			minDist := make([]float32, M)
			for k := w; k < len(blocks); k += workers {
				bank := gemm.PackBank(blocks[k].rows, D, blocks[k].data, D)
				for i := 0; i < N; i++ {
					if stopped(opt.Done) {
						return
					}
					gemm.NearestDistancesPacked(M, test[i].Data, D, bank, minDist, nil)
					row := bw[i*M : (i+1)*M]
					for m, v := range minDist {
						row[m] = min(row[m], v)
					}
					opt.tick(1, N*len(blocks))
				}
			}
		}(w, best[w])
	}
	wg.Wait()
	if stopped(opt.Done) {
		return nil, fmt.Errorf("semi-supervised scores of %d images: %w", N, ErrStopped)
	}
	s := &Scores{N: N, M: M, S: make([]float64, N*M)}
	for k := range s.S {
		v := best[0][k]
		for _, bw := range best[1:] {
			v = min(v, bw[k])
		}
		s.S[k] = float64(v)
	}
	return s, nil
}

// Average returns all-zero scores for n images of m patches: every tau then
// gives uniform weights and X is the plain mean of the patch embeddings.
func Average(n, m int) *Scores {
	return &Scores{N: n, M: m, S: make([]float64, n*m)}
}
