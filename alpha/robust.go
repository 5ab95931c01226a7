package alpha

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// PairMinima are the nearest-patch distances of Q query images to their
// reference images: query q's references are Refs[q] (image indexes,
// ascending) and D[q][r*M+m] = min_n ||z_q^m - z_j^n|| for j = Refs[q][r].
// They are what the unsupervised score reduces (Unsupervised takes their
// mean); keeping them lets several reductions (IntervalScores) share one
// pass of the O(N²) work. Only the references are kept, so the memory
// grows with the number of references per image (ScaleOptions.Refs), not
// with the set.
type PairMinima struct {
	Q, M int
	Refs [][]int
	D    [][]float32
}

// PairMinimaFrom collects the nearest-patch distances that
// UnsupervisedFrom averages, for the query images [lo, hi) of src (query
// q is image lo+q), to each of their reference images (every other image,
// or the seeded sample of opt.Refs; see RefDistances, whose pairs, sample
// and two-stage search it uses). Memory: (hi-lo)·R·M float32 for R
// references per image (e.g. 1000 images x 32 x 784: 100 MB).
func PairMinimaFrom(src Source, lo, hi int, opt ScaleOptions) (*PairMinima, error) {
	M, _, err := CheckSource("pair minima", src)
	if err != nil {
		return nil, err
	}
	N := src.Len()
	if lo < 0 || hi > N || lo >= hi {
		return nil, fmt.Errorf("alpha: query slice [%d, %d) of %d images", lo, hi, N)
	}
	Q := hi - lo
	out := &PairMinima{Q: Q, M: M, Refs: make([][]int, Q), D: make([][]float32, Q)}
	mu := make([]sync.Mutex, Q)
	err = RefDistances(src, lo, hi, opt, func(i, j int, d []float32) error {
		q := i - lo
		mu[q].Lock()
		out.Refs[q] = append(out.Refs[q], j)
		out.D[q] = append(out.D[q], d[:M]...)
		mu[q].Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The workers finish the pairs in any order: put each query's
	// references in ascending order.
	for q := range Q {
		refs, rows := out.Refs[q], out.D[q]
		order := make([]int, len(refs))
		for r := range order {
			order[r] = r
		}
		slices.SortFunc(order, func(a, b int) int { return refs[a] - refs[b] })
		sortedRefs := make([]int, len(refs))
		sortedRows := make([]float32, len(rows))
		for r, k := range order {
			sortedRefs[r] = refs[k]
			copy(sortedRows[r*M:(r+1)*M], rows[k*M:(k+1)*M])
		}
		out.Refs[q], out.D[q] = sortedRefs, sortedRows
	}
	return out, nil
}

// IntervalScores reduces pair minima to patch scores by MuSc's interval
// averaging (Li et al., ICLR 2024): s_i^m is the mean of the lowest
// ceil(r·n) of patch m's distances to its n reference images (see
// PairMinimaFrom). r = 1 is the plain mean (Unsupervised); with a small
// r a patch is normal as soon as a few images have a similar one, so the
// score is not raised by the images that are defective where this one is
// normal. With r = 1 the sum is UnsupervisedFrom's fixed-point sum, so the
// scores equal its scores bit for bit on the same pairs.
func IntervalScores(p *PairMinima, r float64) (*Scores, error) {
	if !(r > 0 && r <= 1) {
		return nil, fmt.Errorf("alpha: interval fraction %v not in (0, 1]", r)
	}
	Q, M := p.Q, p.M
	s := &Scores{N: Q, M: M, S: make([]float64, Q*M)}
	var col []float32
	for i := range Q {
		row := p.D[i]
		n := len(p.Refs[i])
		if len(row) != n*M {
			return nil, fmt.Errorf("alpha: query %d has %d distances for %d references of %d patches", i, len(row), n, M)
		}
		col = slices.Grow(col[:0], n)[:n]
		for m := range M {
			for j := range n {
				col[j] = row[j*M+m]
			}
			if n == 0 {
				return nil, fmt.Errorf("alpha: image %d has no other image to compare with", i)
			}
			if r == 1 {
				var acc int64
				for _, v := range col[:n] {
					if !(v <= maxDistance) {
						return nil, fmt.Errorf("alpha: patch distance %v of image %d is not finite or too large", v, i)
					}
					acc += int64(math.Round(float64(v) * fixedScale))
				}
				s.S[i*M+m] = float64(acc) * (1 / (fixedScale * float64(n)))
				continue
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
