package alpha

import (
	"fmt"
	"math"
	"math/rand/v2"
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
// ceil(r·n) of patch m's n finite distances to the other images (n = N-1
// for AllPairMinima). r = 1 is the plain mean (Unsupervised); with a small
// r a patch is normal as soon as a few images have a similar one, so the
// score is not raised by the images that are defective where this one is
// normal.
func IntervalScores(p *PairMinima, r float64) (*Scores, error) {
	if !(r > 0 && r <= 1) {
		return nil, fmt.Errorf("alpha: interval fraction %v not in (0, 1]", r)
	}
	Q, N, M := p.Q, p.N, p.M
	s := &Scores{N: Q, M: M, S: make([]float64, Q*M)}
	col := make([]float32, N)
	for i := range Q {
		row := p.Row(i)
		for m := range M {
			n := 0
			for j := range N {
				if v := row[j*M+m]; !math.IsInf(float64(v), 1) {
					col[n] = v
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("alpha: image %d has no other image to compare with", i)
			}
			k := max(1, int(math.Ceil(r*float64(n))))
			slices.Sort(col[:n])
			var sum float64
			for _, v := range col[:k] {
				sum += float64(v)
			}
			s.S[i*M+m] = sum / float64(k)
		}
	}
	return s, nil
}

// RefPairMinima computes the pair minima of the first q images of z against
// the reference images refs (indices into z) only: D[(i*len(refs)+k)*M+m]
// is the distance of patch m of image i to image refs[k], +Inf when
// refs[k] = i. It costs q·len(refs) image products instead of ~N²/2: a
// bounded reference set for large sets (MuSc scores within subsets too).
func RefPairMinima(z []*tensor.Tensor, q int, refs []int, opt Options) (*PairMinima, error) {
	M, D, err := checkZ("pair minima", z)
	if err != nil {
		return nil, err
	}
	if q < 1 || q > len(z) {
		return nil, fmt.Errorf("alpha: %d query images of %d", q, len(z))
	}
	for _, r := range refs {
		if r < 0 || r >= len(z) {
			return nil, fmt.Errorf("alpha: reference image %d of %d", r, len(z))
		}
	}
	R := len(refs)
	out := &PairMinima{Q: q, N: R, M: M, D: make([]float32, q*R*M)}
	workers := max(1, min(opt.workers(), R))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			minDist := make([]float32, M)
			for k := w; k < R; k += workers {
				j := refs[k]
				bank := gemm.PackBank(M, D, z[j].Data, D)
				for i := 0; i < q; i++ {
					if stopped(opt.Done) {
						return
					}
					dst := out.D[(i*R+k)*M : (i*R+k+1)*M]
					if i == j {
						for m := range dst {
							dst[m] = float32(math.Inf(1))
						}
						continue
					}
					gemm.NearestDistancesPacked(M, z[i].Data, D, bank, minDist, nil)
					copy(dst, minDist)
					opt.tick(1, q*R)
				}
			}
		}()
	}
	wg.Wait()
	if stopped(opt.Done) {
		return nil, fmt.Errorf("pair minima of %d images: %w", q, ErrStopped)
	}
	return out, nil
}

// SampleRefs picks min(r, n) of n images as the reference set, seeded;
// r <= 0 or r >= n gives all n in order.
func SampleRefs(n, r int, seed uint64) []int {
	if r <= 0 || r >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	idx := rng.Perm(n)[:r]
	slices.Sort(idx)
	return idx
}

// Project returns the patch embeddings multiplied by a seeded Gaussian
// random matrix (D x dim, entries N(0, 1/dim)): distances are preserved up
// to a few percent (Johnson-Lindenstrauss) at dim/D of the cost of the
// nearest-neighbour search. dim >= D returns z unchanged.
func Project(z []*tensor.Tensor, dim int, seed uint64) ([]*tensor.Tensor, error) {
	if len(z) == 0 {
		return z, nil
	}
	M, D, err := checkZ("projection", z)
	if err != nil {
		return nil, err
	}
	if dim <= 0 || dim >= D {
		return z, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e37))
	p := make([]float32, D*dim)
	sd := 1 / math.Sqrt(float64(dim))
	for k := range p {
		p[k] = float32(rng.NormFloat64() * sd)
	}
	packed := gemm.PackB(D, dim, p, dim)
	out := make([]*tensor.Tensor, len(z))
	for i, zi := range z {
		out[i] = tensor.New(M, dim)
		gemm.MatMulPacked(M, zi.Data, D, packed, out[i].Data, dim, false)
	}
	return out, nil
}
