package alpha

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/anomclust/anomclust/gemm"
)

// SemiFrom returns the semi-supervised scores of the test images [lo, hi)
// of test: s_i^m = min over the memory bank's patches z of ||z_i^m - z||
// (SemiSupervised), (hi-lo) x M. The bank (every image of bank, or its
// coreset with opt.Coreset) is held in memory; the test images are read
// one per worker at a time.
//
// With opt.Proj > 0 the search has two stages: each bank block (one image's
// worth of patches) gives the nearest patch in the projection (the fused
// GEMM kernel at Proj dimensions), and the opt.Candidates best of those are
// re-ranked in full dimension. The result is never below the exact
// minimum.
func SemiFrom(test Source, lo, hi int, bank Source, opt ScaleOptions) (*Scores, error) {
	M, D, err := CheckSource("semi-supervised test", test)
	if err != nil {
		return nil, err
	}
	if lo < 0 || hi > test.Len() || lo >= hi {
		return nil, fmt.Errorf("alpha: semi-supervised scores: test slice [%d, %d) of %d images", lo, hi, test.Len())
	}
	if bank.Len() == 0 {
		return nil, fmt.Errorf("alpha: semi-supervised scores: empty memory bank (no normal images)")
	}
	bm, bd, err := CheckSource("semi-supervised bank", bank)
	if err != nil {
		return nil, err
	}
	if bd != D {
		return nil, fmt.Errorf("alpha: bank dimension %d differs from test dimension %d", bd, D)
	}
	rows := make([]float32, 0, bank.Len()*bm*D)
	buf := make([]float32, bm*D)
	for j := range bank.Len() {
		z, err := bank.Z(j, buf)
		if err != nil {
			return nil, fmt.Errorf("alpha: Z of bank image %d: %w", j, err)
		}
		rows = append(rows, z...)
	}
	nb := bank.Len() * bm
	switch {
	case opt.Coreset == 0 || opt.Coreset == 1:
	case opt.Coreset > 0 && opt.Coreset < 1:
		idx, err := opt.coreset(rows, nb, D)
		if err != nil {
			return nil, err
		}
		sub := make([]float32, len(idx)*D)
		for k, r := range idx {
			copy(sub[k*D:(k+1)*D], rows[r*D:(r+1)*D])
		}
		rows, nb = sub, len(idx)
	default:
		return nil, fmt.Errorf("alpha: coreset fraction %v not in [0, 1]", opt.Coreset)
	}
	// Blocks of one image's size.
	var proj *Projection
	P := D
	if opt.Proj > 0 && opt.Proj < D {
		if proj, err = PCARows(rows, nb, D, opt.Proj, opt.Seed); err != nil {
			return nil, err
		}
		P = opt.Proj
	}
	type block struct {
		first int // first bank row
		pb    *gemm.PackedBank
	}
	var blocks []block
	var prows []float32
	if proj != nil {
		prows = make([]float32, nb*P)
		proj.Apply(rows, nb, prows)
	}
	for r := 0; r < nb; r += bm {
		n := min(bm, nb-r)
		if proj != nil {
			blocks = append(blocks, block{r, gemm.PackBank(n, P, prows[r*P:(r+n)*P], P)})
		} else {
			blocks = append(blocks, block{r, gemm.PackBank(n, D, rows[r*D:(r+n)*D], D)})
		}
	}
	cand := opt.Candidates
	if cand <= 0 {
		cand = 4
	}
	cand = min(cand, len(blocks))
	N := hi - lo
	s := &Scores{N: N, M: M, S: make([]float64, N*M)}
	workers := max(1, min(opt.workers(), N))
	var next atomic.Int64
	var failed atomic.Bool
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			zbuf := make([]float32, M*D)
			pz := make([]float32, M*P)
			md := make([]float32, len(blocks)*M)
			arg := make([]int32, len(blocks)*M)
			best := make([]float32, M)
			order := make([]int, len(blocks))
			for {
				t := int(next.Add(1) - 1)
				if t >= N || failed.Load() {
					return
				}
				if stopped(opt.Done) {
					fail(fmt.Errorf("semi-supervised scores of %d images: %w", N, ErrStopped))
					return
				}
				i := lo + t
				z, err := test.Z(i, zbuf)
				if err == nil && len(z) != M*D {
					err = fmt.Errorf("%d values, want %d x %d", len(z), M, D)
				}
				if err != nil {
					fail(fmt.Errorf("alpha: Z of test image %d: %w", i, err))
					return
				}
				q := z
				if proj != nil {
					proj.Apply(z, M, pz)
					q = pz
				}
				for k, b := range blocks {
					gemm.NearestDistancesPacked(M, q, P, b.pb, md[k*M:(k+1)*M], arg[k*M:(k+1)*M])
				}
				for m := range M {
					best[m] = float32(math.Inf(1))
				}
				if proj == nil {
					for k := range blocks {
						for m, v := range md[k*M : (k+1)*M] {
							best[m] = min(best[m], v)
						}
					}
				} else {
					for m := range M {
						for k := range order {
							order[k] = k
						}
						// The cand blocks with the smallest projected
						// distances (partial selection; ties by block).
						for c := 0; c < cand; c++ {
							bi := c
							for k := c + 1; k < len(order); k++ {
								if md[order[k]*M+m] < md[order[bi]*M+m] {
									bi = k
								}
							}
							order[c], order[bi] = order[bi], order[c]
							k := order[c]
							r := blocks[k].first + int(arg[k*M+m])
							d := float32(math.Sqrt(float64(sqDist(z[m*D:(m+1)*D], rows[r*D:(r+1)*D]))))
							best[m] = min(best[m], d)
						}
					}
				}
				row := s.S[t*M : (t+1)*M]
				for m, v := range best {
					row[m] = float64(v)
				}
				opt.tick(1, N)
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		return nil, firstErr
	}
	return s, nil
}
