package alpha

import (
	"sync"

	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/tensor"
)

// queryPairs lists the unordered pairs (i, j), i < j, that touch one of the
// first Q of N images (i < Q), ordered by j then i (see pairAt), and their
// number. With Q = N every pair counts and the list is nil: pair k is
// pairAt(k).
func queryPairs(N, Q int) (pairs []int, nPairs int) {
	if Q < N {
		for p := range N * (N - 1) / 2 {
			if i, _ := pairAt(p); i < Q {
				pairs = append(pairs, p)
			}
		}
	}
	nPairs = N * (N - 1) / 2
	if pairs != nil {
		nPairs = len(pairs)
	}
	return pairs, nPairs
}

// symmetricSums is Unsupervised's Symmetric strategy: each of workers
// goroutines takes a static, contiguous share of the nPairs pairs (i, j),
// i < j, computes one M x M distance product per pair and adds the minima
// both ways, row minima to image i and column minima to image j. It returns
// one N·M accumulator per worker (sums over the other images, not yet
// divided); it stops early when opt.Done closes.
func symmetricSums(z []*tensor.Tensor, M, D int, pairs []int, nPairs, workers int, opt Options) [][]float64 {
	N := len(z)
	acc := make([][]float64, workers)
	norms := make([][]float32, N)
	for i := range z {
		norms[i] = rowNorms(z[i].Data, M, D)
	}
	var wg sync.WaitGroup
	// Pairs (i, j), i < j, ordered by j then i: a worker packs Z_j once
	// for the run of pairs sharing it.
	for w := 0; w < workers; w++ {
		lo, hi := w*nPairs/workers, (w+1)*nPairs/workers
		acc[w] = make([]float64, N*M)
		wg.Add(1)
		go func(a []float64) {
			defer wg.Done()
			dot := make([]float32, M*M)
			rowMin := make([]float32, M)
			colMin := make([]float32, M)
			var packed *gemm.PackedB
			packedJ := -1
			for k := lo; k < hi; k++ {
				if stopped(opt.Done) {
					return
				}
				p := k
				if pairs != nil {
					p = pairs[k]
				}
				i, j := pairAt(p)
				if j != packedJ {
					packed, packedJ = gemm.PackBT(D, M, z[j].Data, D), j
				}
				gemm.MatMulPacked(M, z[i].Data, D, packed, dot, M, false)
				pairMinima(dot, M, norms[i], norms[j], rowMin, colMin)
				ai, aj := a[i*M:(i+1)*M], a[j*M:(j+1)*M]
				for m := range M {
					ai[m] += float64(rowMin[m])
					aj[m] += float64(colMin[m])
				}
				opt.tick(1, nPairs)
			}
		}(acc[w])
	}
	wg.Wait()
	return acc
}

// fusedSums is Unsupervised's Fused strategy: worker w takes the reference
// images j ≡ w (mod workers), packs each once as a bank and queries each of
// the first Q images (other than j) against it with the fused
// nearest-neighbour kernel. It returns one N·M accumulator per worker, as
// symmetricSums does.
func fusedSums(z []*tensor.Tensor, M, D, Q, workers int, opt Options) [][]float64 {
	N := len(z)
	acc := make([][]float64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		acc[w] = make([]float64, N*M)
		wg.Add(1)
		go func(w int, a []float64) {
			defer wg.Done()
			minDist := make([]float32, M)
			for j := w; j < N; j += workers {
				bank := gemm.PackBank(M, D, z[j].Data, D)
				for i := 0; i < Q; i++ {
					if i == j {
						continue
					}
					if stopped(opt.Done) {
						return
					}
					gemm.NearestDistancesPacked(M, z[i].Data, D, bank, minDist, nil)
					ai := a[i*M : (i+1)*M]
					for m, v := range minDist {
						ai[m] += float64(v)
					}
					opt.tick(1, Q*(N-1))
				}
			}
		}(w, acc[w])
	}
	wg.Wait()
	return acc
}

// meanOverOthers adds the workers' accumulators in worker order (so the
// result does not depend on scheduling) and divides by the N-1 other
// images: the Q x M scores of the first Q images.
func meanOverOthers(acc [][]float64, N, Q, M int) *Scores {
	s := &Scores{N: Q, M: M, S: make([]float64, Q*M)}
	for _, a := range acc {
		for k, v := range a[:Q*M] {
			s.S[k] += v
		}
	}
	inv := 1 / float64(N-1)
	for k := range s.S {
		s.S[k] *= inv
	}
	return s
}
