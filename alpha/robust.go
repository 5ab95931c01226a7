package alpha

import (
	"fmt"
	"math"
	"slices"
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

// PairMinimaFrom collects the nearest-patch distances that
// UnsupervisedFrom averages, for the query images [lo, hi) of src:
// D[((i-lo)*N+j)*M+m] = min_n ||z_i^m - z_j^n|| for each reference image j
// of query i (every other image, or the seeded sample of opt.Refs; see
// RefDistances, whose pairs, sample and two-stage search it uses), +Inf
// for the images that are not i's references (and j = i). Memory:
// (hi-lo)·N·M float32 (e.g. 300 x 300 x 784: 282 MB).
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
	out := &PairMinima{Q: Q, N: N, M: M, D: make([]float32, Q*N*M)}
	inf := float32(math.Inf(1))
	for k := range out.D {
		out.D[k] = inf
	}
	err = RefDistances(src, lo, hi, opt, func(i, j int, d []float32) error {
		copy(out.D[((i-lo)*N+j)*M:((i-lo)*N+j+1)*M], d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IntervalScores reduces pair minima to patch scores by MuSc's interval
// averaging (Li et al., ICLR 2024): s_i^m is the mean of the lowest
// ceil(r·n) of patch m's n finite distances to its reference images (see
// PairMinimaFrom). r = 1 is the plain mean (Unsupervised); with a small
// r a patch is normal as soon as a few images have a similar one, so the
// score is not raised by the images that are defective where this one is
// normal. With r = 1 the sum is UnsupervisedFrom's fixed-point sum, so the
// scores equal its scores bit for bit on the same pairs.
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
