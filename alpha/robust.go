package alpha

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/tensor"
)

// PairMinima are the nearest-patch distances of every query image to every
// image of a set: D[(i*N+j)*M+m] = min_n ||z_i^m - z_j^n|| for query i < Q
// and image j < N, +Inf for j = i. They are what the unsupervised score
// reduces (Unsupervised takes their mean over j); keeping them lets
// several reductions (IntervalScores) share one pass of the O(N²) work.
type PairMinima struct {
	Q, N, M int
	D       []float32
}

// Row returns the N x M distances of query i, row-major by image.
func (p *PairMinima) Row(i int) []float32 { return p.D[i*p.N*p.M : (i+1)*p.N*p.M] }

// AllPairMinima computes PairMinima for the first Q images of z against all
// of them (Q from opt.Queries as for Unsupervised; pairs of two images
// beyond Q are skipped). Memory: Q·N·M float32 (e.g. 300 x 300 x 784: 282
// MB). The distances are those of Unsupervised's Symmetric strategy.
func AllPairMinima(z []*tensor.Tensor, opt Options) (*PairMinima, error) {
	if len(z) < 2 {
		return nil, fmt.Errorf("alpha: pair minima need at least 2 images, got %d", len(z))
	}
	M, D, err := checkZ("pair minima", z)
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
	var pairs []int
	for p := range N * (N - 1) / 2 {
		if i, _ := pairAt(p); i < Q {
			pairs = append(pairs, p)
		}
	}
	out := &PairMinima{Q: Q, N: N, M: M, D: make([]float32, Q*N*M)}
	inf := float32(math.Inf(1))
	for i := range Q {
		for m := range M {
			out.D[(i*N+i)*M+m] = inf
		}
	}
	norms := make([][]float32, N)
	for i := range z {
		norms[i] = rowNorms(z[i].Data, M, D)
	}
	workers := max(1, min(opt.workers(), len(pairs)))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*len(pairs)/workers, (w+1)*len(pairs)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			dot := make([]float32, M*M)
			rowMin := make([]float32, M)
			colMin := make([]float32, M)
			var packed *gemm.PackedB
			packedJ := -1
			for _, p := range pairs[lo:hi] {
				if stopped(opt.Done) {
					return
				}
				i, j := pairAt(p)
				if j != packedJ {
					packed, packedJ = gemm.PackBT(D, M, z[j].Data, D), j
				}
				gemm.MatMulPacked(M, z[i].Data, D, packed, dot, M, false)
				pairMinima(dot, M, norms[i], norms[j], rowMin, colMin)
				copy(out.D[(i*N+j)*M:(i*N+j+1)*M], rowMin)
				if j < Q {
					copy(out.D[(j*N+i)*M:(j*N+i+1)*M], colMin)
				}
				opt.tick(1, len(pairs))
			}
		}()
	}
	wg.Wait()
	if stopped(opt.Done) {
		return nil, fmt.Errorf("pair minima of %d images: %w", N, ErrStopped)
	}
	return out, nil
}

// IntervalScores reduces pair minima to patch scores by MuSc's interval
// averaging (Li et al., ICLR 2024): s_i^m is the mean of the lowest
// ceil(r·(N-1)) of patch m's distances to the N-1 other images. r = 1 is
// the plain mean (Unsupervised); a small r keeps a defect that a few other
// images share scoring high, since those images' small distances are
// outvoted by the normal ones'.
func IntervalScores(p *PairMinima, r float64) (*Scores, error) {
	if !(r > 0 && r <= 1) {
		return nil, fmt.Errorf("alpha: interval fraction %v not in (0, 1]", r)
	}
	Q, N, M := p.Q, p.N, p.M
	k := max(1, int(math.Ceil(r*float64(N-1))))
	s := &Scores{N: Q, M: M, S: make([]float64, Q*M)}
	col := make([]float32, N)
	for i := range Q {
		row := p.Row(i)
		for m := range M {
			for j := range N {
				col[j] = row[j*M+m]
			}
			slices.Sort(col) // +Inf (j = i) sorts last
			var sum float64
			for _, v := range col[:k] {
				sum += float64(v)
			}
			s.S[i*M+m] = sum / float64(k)
		}
	}
	return s, nil
}
