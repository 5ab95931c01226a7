package alpha

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/internal/parallel"
)

// SampleNormals picks the normal (train/good) images whose patches form the
// semi-supervised memory bank: int(trainRatio * nTest) of the nTrain
// available, as the seed does, but drawn with a seeded RNG (the seed's pick
// is unseeded). The indices come back sorted. capped reports that fewer
// were available than asked for (all nTrain are then used); asking for none
// is an error.
func SampleNormals(nTrain, nTest int, trainRatio float64, seed uint64) (idx []int, capped bool, err error) {
	if trainRatio < 0 || math.IsNaN(trainRatio) {
		return nil, false, fmt.Errorf("alpha: train ratio %v must be >= 0", trainRatio)
	}
	want := int(trainRatio * float64(nTest)) // Python's int(): truncation
	if want > nTrain {
		want, capped = nTrain, true
	}
	if want <= 0 {
		return nil, false, fmt.Errorf("alpha: train ratio %v x %d test images with %d normal images available selects no normal image", trainRatio, nTest, nTrain)
	}
	r := rand.New(rand.NewPCG(seed, 0x616c706861)) // second word: "alpha"
	idx = r.Perm(nTrain)[:want]
	slices.Sort(idx)
	return idx, capped, nil
}

// CoresetDim is the dimension PatchCore projects patches to before the
// greedy coreset search (dimension_to_project_features_to).
const CoresetDim = 128

// CoresetStarts is the number of random starting points of PatchCore's
// approximate greedy coreset (number_of_starting_points).
const CoresetStarts = 10

// Coreset returns the rows of the (n x d) matrix x that PatchCore's
// ApproximateGreedyCoresetSampler keeps for the given fraction in (0, 1):
// int(n*fraction) rows chosen by greedy k-center on a random projection to
// CoresetDim dimensions (none when d == CoresetDim, as in PatchCore).
//
// As patchcore-inspection does it: the projection is a bias-free
// torch.nn.Linear with its default initialisation, uniform in
// ±1/sqrt(d); each row's initial distance is its mean distance to
// CoresetStarts distinct random rows (which are not selected by that); then
// repeatedly the row farthest from everything selected so far is selected
// (the first on ties, as torch.argmax). Seeded by seed; indices come back in
// selection order.
func Coreset(x []float32, n, d int, fraction float64, seed uint64, workers int) ([]int, error) {
	proj, k, starts, num, err := coresetInput(x, n, d, fraction, seed)
	if err != nil {
		return nil, err
	}
	return greedyCoreset(proj, n, k, starts, num, max(workers, 1)), nil
}

// coresetInput checks Coreset's arguments and returns what both greedy
// searches start from: the projected rows (n x k), the starting rows and
// the number of rows to select.
func coresetInput(x []float32, n, d int, fraction float64, seed uint64) (proj []float32, k int, starts []int, num int, err error) {
	if !(fraction > 0 && fraction < 1) {
		return nil, 0, nil, 0, fmt.Errorf("alpha: coreset fraction %v not in (0, 1)", fraction)
	}
	if len(x) != n*d {
		return nil, 0, nil, 0, fmt.Errorf("alpha: coreset input has %d values, want %d x %d", len(x), n, d)
	}
	num = int(float64(n) * fraction)
	if num == 0 {
		return nil, 0, nil, 0, fmt.Errorf("alpha: coreset fraction %v of %d patches keeps none", fraction, n)
	}
	r := rand.New(rand.NewPCG(seed, 0x636f72657365)) // "corese"
	proj, k = x, d
	if d != CoresetDim {
		k = CoresetDim
		w := make([]float32, k*d)
		bound := 1 / math.Sqrt(float64(d))
		for i := range w {
			w[i] = float32((2*r.Float64() - 1) * bound)
		}
		proj = make([]float32, n*k)
		gemm.MatMulT(n, k, d, x, d, w, d, proj, k, false)
	}
	starts = r.Perm(n)[:min(CoresetStarts, n)]
	return proj, k, starts, num, nil
}

// greedyCoreset is ApproximateGreedyCoresetSampler._compute_greedy_coreset_indices
// on the already projected (n x k) rows with the given starting rows. It
// keeps squared distances (the arg-max is the same) except for the initial
// mean, which PatchCore takes over distances.
func greedyCoreset(p []float32, n, k int, starts []int, num, workers int) []int {
	far := initialFar(p, n, k, starts, workers) // squared distance to the nearest selected row
	type best struct {
		v   float32
		idx int
	}
	chunks := min(workers, n)
	bests := make([]best, chunks)
	argmax := func() int {
		b := best{-1, -1}
		for _, c := range bests {
			if c.v > b.v { // chunks are in index order: strict > keeps the first
				b = c
			}
		}
		return b.idx
	}
	// Initial arg-max, then each iteration updates the distances to the new
	// row and finds the next arg-max in one pass.
	findMax := func(update int) {
		var wg sync.WaitGroup
		for c := 0; c < chunks; c++ {
			lo, hi := c*n/chunks, (c+1)*n/chunks
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := best{-1, -1}
				var q []float32
				if update >= 0 {
					q = p[update*k : (update+1)*k]
				}
				for r := lo; r < hi; r++ {
					if q != nil {
						if d := sqDist(p[r*k:(r+1)*k], q); d < far[r] {
							far[r] = d
						}
					}
					if far[r] > b.v {
						b = best{far[r], r}
					}
				}
				bests[c] = b
			}()
		}
		wg.Wait()
	}
	out := make([]int, 0, num)
	findMax(-1)
	for len(out) < num {
		sel := argmax()
		out = append(out, sel)
		if len(out) < num {
			findMax(sel)
		}
	}
	return out
}

// initialFar is the greedy search's starting value of every row: the
// square of its mean distance to the starting rows.
func initialFar(p []float32, n, k int, starts []int, workers int) []float32 {
	far := make([]float32, n)
	parallel.Range(n, workers, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var s float64
			for _, st := range starts {
				s += math.Sqrt(float64(sqDist(p[r*k:(r+1)*k], p[st*k:(st+1)*k])))
			}
			m := float32(s / float64(len(starts)))
			far[r] = m * m
		}
	})
	return far
}

// sqDist is ||a - b||² in float32 with four partial sums.
func sqDist(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}
