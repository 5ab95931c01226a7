package alpha

import (
	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/internal/parallel"
)

// CoresetBlocked returns the same rows as Coreset (PatchCore's approximate
// greedy coreset on the same seeded projection and starting rows), found in
// blocks so that most of the work runs in the GEMM kernel.
//
// The greedy search is sequential: each step selects the row farthest from
// the rows selected so far. CoresetBlocked runs it on a block of candidate
// rows, the ones with the largest distances, for as long as the best
// candidate provably beats every other row (distances only shrink, so no
// row outside the block can exceed its own distance at the block's start);
// then it updates the distances of all n rows to the block's selected rows
// at once with the fused nearest-distance GEMM kernel
// (gemm.NearestDistancesPacked), and picks the next block.
//
// In exact arithmetic the selection is Coreset's. The candidates' distances
// are computed as Coreset computes them; the other rows' come from
// ||a||² + ||b||² - 2a·b, whose rounding can swap two rows whose distances
// to the selected rows differ by less than about 2·128·2⁻²⁴·(||a||²+||b||²)
// (relative 1.5e-5 of the squared norms): then the selections may differ
// from that step on, with the same covering quality.
func CoresetBlocked(x []float32, n, d int, fraction float64, seed uint64, workers int) ([]int, error) {
	proj, k, starts, num, err := coresetInput(x, n, d, fraction, seed)
	if err != nil {
		return nil, err
	}
	return greedyCoresetBlocked(proj, n, k, starts, num, max(workers, 1), blockCandidates), nil
}

// blockCandidates is the first number of candidate rows per block of
// CoresetBlocked; it grows when blocks end early.
const blockCandidates = 1024

// blockCandidatesMax caps the growth: a selection costs c distances of k
// dimensions in Go code.
const blockCandidatesMax = 8192

// greedyCoresetBlocked is greedyCoreset computed in blocks (see
// CoresetBlocked), starting with c candidates per block.
func greedyCoresetBlocked(p []float32, n, k int, starts []int, num, workers, c int) []int {
	far := initialFar(p, n, k, starts, workers)
	out := make([]int, 0, num)
	minD := make([]float32, n)
	var (
		cand  []int
		alive []int
		cv    []float32
		picks []int
		rows  []float32
	)
	for len(out) < num {
		c = min(c, n)
		var tv float32
		var ti int
		cand, tv, ti = topRows(far, c, cand)
		outside := ti >= 0 // some row is not a candidate
		// beats: candidate j's current value beats every row outside.
		beats := func(j int) bool {
			return !outside || cv[j] > tv || cv[j] == tv && cand[j] < ti
		}
		cv = cv[:0]
		alive = alive[:0]
		b := -1
		for j, r := range cand {
			cv = append(cv, far[r])
			if beats(j) {
				alive = append(alive, j)
				if b < 0 || better(cv, cand, j, b) {
					b = j
				}
			}
		}
		picks = picks[:0]
		// Only the alive candidates (those still beating every row outside)
		// can be selected in this block: only theirs are updated.
		for b >= 0 && len(out) < num {
			s := cand[b]
			out = append(out, s)
			picks = append(picks, s)
			q := p[s*k : (s+1)*k]
			keep := alive[:0]
			b = -1
			for _, j := range alive {
				r := cand[j]
				if dd := sqDist(p[r*k:(r+1)*k], q); dd < cv[j] {
					cv[j] = dd
				}
				if beats(j) {
					keep = append(keep, j)
					if b < 0 || better(cv, cand, j, b) {
						b = j
					}
				}
			}
			alive = keep
		}
		if len(out) == num {
			break
		}
		// Every row against the block's selections, then the candidates'
		// distances as computed above.
		rows = rows[:0]
		for _, s := range picks {
			rows = append(rows, p[s*k:(s+1)*k]...)
		}
		bank := gemm.PackBank(len(picks), k, rows, k)
		gemm.NearestDistancesPacked(n, p, k, bank, minD, nil)
		parallel.Range(n, workers, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				if dd := minD[r] * minD[r]; dd < far[r] {
					far[r] = dd
				}
			}
		})
		for j, r := range cand {
			far[r] = min(far[r], cv[j]) // dead candidates missed later picks
		}
		for _, j := range alive {
			far[cand[j]] = cv[j] // updated against every pick
		}
		if len(picks)*8 < len(cand) && c < blockCandidatesMax {
			c *= 2
		}
	}
	return out
}

// better reports that candidate j's value beats candidate b's (ties: the
// smaller row).
func better(cv []float32, cand []int, j, b int) bool {
	return cv[j] > cv[b] || cv[j] == cv[b] && cand[j] < cand[b]
}

// topRows returns the c rows with the largest far values (ties: the smaller
// index first counts as larger), in no particular order, reusing buf, and the value
// and index of the best row left out (index -1 when c >= len(far)).
func topRows(far []float32, c int, buf []int) (rows []int, tv float32, ti int) {
	n := len(far)
	if c >= n {
		buf = buf[:0]
		for r := range n {
			buf = append(buf, r)
		}
		return buf, 0, -1
	}
	// A min-heap of c+1 rows under "better": its root is the worst kept.
	less := func(a, b int) bool { // a worse than b
		return far[a] < far[b] || far[a] == far[b] && a > b
	}
	h := buf[:0]
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				m = r
			}
			if !less(h[m], h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for r := 0; r < n; r++ {
		if len(h) < c+1 {
			h = append(h, r)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !less(h[i], h[p]) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if less(h[0], r) {
			h[0] = r
			down(0)
		}
	}
	// The root is the (c+1)-th best: the best row left out.
	ti = h[0]
	tv = far[ti]
	h[0] = h[len(h)-1]
	h = h[:len(h)-1]
	return h, tv, ti
}

// coreset is the coreset of the (n x d) rows x that opt asks for; it
// tells opt.CoresetPicked.
func (opt Options) coreset(x []float32, n, d int) ([]int, error) {
	pick := CoresetBlocked
	if opt.CoresetExact {
		pick = Coreset
	}
	idx, err := pick(x, n, d, opt.Coreset, opt.Seed, opt.workers())
	if err == nil && opt.CoresetPicked != nil {
		opt.CoresetPicked(idx)
	}
	return idx, err
}
