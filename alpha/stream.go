package alpha

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/anomclust/anomclust/gemm"
)

// ScaleOptions tune the streaming, sub-quadratic score functions
// (RefDistances, UnsupervisedFrom, SemiFrom). The zero value computes the
// exact scores.
type ScaleOptions struct {
	// Options gives Workers, Seed (of the reference sample and the
	// projection), Progress, Done and, for SemiFrom, Coreset. Strategy and
	// Queries are not used (the query slice is an argument).
	Options
	// Refs is the number of reference images per query of the unsupervised
	// score, a seeded sample of the other images (see refPlan); RefAll (0)
	// or >= N-1 means every other image (exact).
	Refs int
	// Proj > 0 turns on the two-stage nearest-neighbour search: the
	// candidates come from the patches projected on their first Proj
	// principal components (PCA of a seeded sample of patches), and only
	// the candidates' distances are computed in full dimension. 0 (or >=
	// D) computes every distance in full dimension.
	Proj int
	// Candidates is the number of candidates per patch that SemiFrom's
	// two-stage search re-ranks exactly (the best of each bank block's
	// nearest projected patch); 0 means 4.
	Candidates int
	// ChunkImages is the number of images per chunk of the unsupervised
	// pair plan (consecutive sample positions, or the block size of the
	// exact plan); 0 means 16. Memory holds about 2 chunks of images.
	ChunkImages int
}

func (o ScaleOptions) chunk() int {
	if o.ChunkImages > 0 {
		return o.ChunkImages
	}
	return 16
}

// fixedScale is the fixed-point scale of the score sums: distances are
// summed as int64 multiples of 2⁻²⁴, so that the sum does not depend on the
// order of the additions (workers, shards) and is exactly reproducible.
const fixedScale = 1 << 24

// maxDistance bounds a distance for the fixed-point sums (2⁶³ / 2²⁴ / 1e9
// leaves room for 500 references at the bound; real distances are far
// smaller).
const maxDistance = 1e9

// RefDistances computes, for every query image i in [lo, hi) of src and
// each of its reference images j (see ScaleOptions.Refs), the M
// nearest-neighbour distances d[m] = min_n ||z_i^m - z_j^n||, and hands
// them to fn(i, j, d). This per-reference distance matrix is what the
// unsupervised scores reduce (UnsupervisedFrom takes the mean; robust
// variants may reduce it otherwise).
//
// fn is called from several goroutines at once, never twice for the same
// (i, j); d is only valid during the call. An error from fn stops the work
// and is returned. Every unordered pair's M x M products are computed once
// and serve both images (see Symmetric). Memory: about two chunks of
// images (ScaleOptions.ChunkImages), never all N.
func RefDistances(src Source, lo, hi int, opt ScaleOptions, fn func(i, j int, d []float32) error) error {
	M, D, err := CheckSource("unsupervised", src)
	if err != nil {
		return err
	}
	plan, err := newRefPlan(src.Len(), lo, hi, opt.Refs, opt.Seed, opt.chunk())
	if err != nil {
		return err
	}
	var proj *Projection
	if opt.Proj > 0 && opt.Proj < D {
		if proj, err = PCAFromSource(src, opt.Proj, opt.Seed); err != nil {
			return err
		}
	}
	chunks := plan.chunks()
	total := 0
	for _, c := range chunks {
		total += len(c.pairs)
	}
	workers := max(1, opt.workers())
	l := &loader{src: src, m: M, d: D, proj: proj, have: map[int]*loaded{}}
	ws := make([]*pairWork, workers)
	for w := range ws {
		ws[w] = newPairWork(M)
	}
	var firstErr error
	var failed atomic.Bool
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	for ci, c := range chunks {
		var next []int
		if ci+1 < len(chunks) {
			next = chunks[ci+1].need
		}
		if err := l.load(c.need, workers, opt.Done); err != nil {
			return err
		}
		var k atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(pw *pairWork) {
				defer wg.Done()
				for {
					t := int(k.Add(1) - 1)
					if t >= len(c.pairs) || failed.Load() {
						return
					}
					if stopped(opt.Done) {
						fail(fmt.Errorf("unsupervised scores of %d images: %w", src.Len(), ErrStopped))
						return
					}
					a, b := c.pairs[t][0], c.pairs[t][1]
					la, lb := l.have[a], l.have[b]
					if proj != nil {
						pw.twoStage(la, lb, M, D, proj.P, workers > 1)
					} else {
						pw.exact(la, lb, M, D, workers > 1)
					}
					if plan.isQuery(a) {
						if err := fn(a, b, pw.rowMin); err != nil {
							fail(err)
							return
						}
					}
					if plan.isQuery(b) {
						if err := fn(b, a, pw.colMin); err != nil {
							fail(err)
							return
						}
					}
					opt.tick(1, total)
				}
			}(ws[w])
		}
		wg.Wait()
		if failed.Load() {
			l.keepOnly(nil)
			return firstErr
		}
		l.keepOnly(next)
	}
	l.keepOnly(nil)
	return nil
}

// UnsupervisedFrom returns the unsupervised scores of the query images
// [lo, hi) of src: s_i^m = mean over i's reference images j of
// min_n ||z_i^m - z_j^n|| (every other image, or a seeded sample of
// opt.Refs of them; see RefDistances), (hi-lo) x M. The sums are exact in
// fixed point (2⁻²⁴ units), so the result does not depend on Workers and a
// slice's rows equal the same rows of the whole set's scores bit for bit.
func UnsupervisedFrom(src Source, lo, hi int, opt ScaleOptions) (*Scores, error) {
	M, _, err := CheckSource("unsupervised", src)
	if err != nil {
		return nil, err
	}
	plan, err := newRefPlan(src.Len(), lo, hi, opt.Refs, opt.Seed, opt.chunk())
	if err != nil {
		return nil, err
	}
	acc := make([]int64, (hi-lo)*M)
	err = RefDistances(src, lo, hi, opt, func(i, _ int, d []float32) error {
		row := acc[(i-lo)*M : (i-lo+1)*M]
		for m, v := range d {
			if !(v <= maxDistance) {
				return fmt.Errorf("alpha: patch distance %v of image %d is not finite or too large", v, i)
			}
			atomic.AddInt64(&row[m], int64(math.Round(float64(v)*fixedScale)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s := &Scores{N: hi - lo, M: M, S: make([]float64, len(acc))}
	inv := 1 / (fixedScale * float64(plan.refsPerImage()))
	for k, v := range acc {
		s.S[k] = float64(v) * inv
	}
	return s, nil
}

// loaded is one image ready for pair products.
type loaded struct {
	z      []float32     // M x D
	buf    []float32     // storage of z when the Source copies
	norms  []float32     // ||z_m||² (exact search)
	proj   []float32     // M x P (two-stage search)
	pnorms []float32     // ||proj_m||²
	packed *gemm.PackedB // Bᵀ of z (exact) or proj (two-stage)
}

// loader keeps the images of the current chunk.
type loader struct {
	src  Source
	m, d int
	proj *Projection
	have map[int]*loaded
	free []*loaded
}

// load makes every image of need available, loading the missing ones with
// up to workers goroutines.
func (l *loader) load(need []int, workers int, done <-chan struct{}) error {
	var todo []int
	for _, i := range need {
		if l.have[i] == nil {
			todo = append(todo, i)
		}
	}
	got := make([]*loaded, len(todo))
	for k := range got {
		if n := len(l.free); n > 0 {
			got[k], l.free = l.free[n-1], l.free[:n-1]
		} else {
			got[k] = &loaded{}
		}
	}
	errs := make([]error, len(todo))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					return
				}
				if stopped(done) {
					errs[k] = fmt.Errorf("alpha: loading images: %w", ErrStopped)
					return
				}
				errs[k] = l.fill(got[k], todo[k])
			}
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			return err
		}
		l.have[todo[k]] = got[k]
	}
	return nil
}

func (l *loader) fill(g *loaded, i int) error {
	M, D := l.m, l.d
	if len(g.buf) != M*D {
		g.buf = make([]float32, M*D)
	}
	z, err := l.src.Z(i, g.buf)
	if err != nil {
		return fmt.Errorf("alpha: Z of image %d: %w", i, err)
	}
	if len(z) != M*D {
		return fmt.Errorf("alpha: Z of image %d has %d values, want %d x %d", i, len(z), M, D)
	}
	g.z = z
	if l.proj == nil {
		g.norms = rowNormsInto(g.norms, z, M, D)
		g.packed = gemm.PackBTTemp(D, M, z, D)
		return nil
	}
	P := l.proj.P
	if len(g.proj) != M*P {
		g.proj = make([]float32, M*P)
	}
	l.proj.Apply(z, M, g.proj)
	g.pnorms = rowNormsInto(g.pnorms, g.proj, M, P)
	g.packed = gemm.PackBTTemp(P, M, g.proj, P)
	return nil
}

// keepOnly drops every loaded image not in keep (their buffers are reused).
func (l *loader) keepOnly(keep []int) {
	k := map[int]bool{}
	for _, i := range keep {
		k[i] = true
	}
	for i, g := range l.have {
		if !k[i] {
			g.packed.Release()
			g.packed, g.z = nil, nil
			l.free = append(l.free, g)
			delete(l.have, i)
		}
	}
}

// rowNormsInto is rowNorms reusing out when it has the right length.
func rowNormsInto(out, a []float32, m, d int) []float32 {
	if len(out) != m {
		out = make([]float32, m)
	}
	for r := range out {
		var s float64
		for _, v := range a[r*d : (r+1)*d] {
			s += float64(v) * float64(v)
		}
		out[r] = float32(s)
	}
	return out
}

// pairWork is one worker's buffers for pair products.
type pairWork struct {
	dot            []float32
	rowMin, colMin []float32
	rowArg, colArg []int32
}

func newPairWork(m int) *pairWork {
	return &pairWork{dot: make([]float32, m*m), rowMin: make([]float32, m), colMin: make([]float32, m),
		rowArg: make([]int32, m), colArg: make([]int32, m)}
}

// exact sets rowMin and colMin of the pair (a, b) in full dimension, as
// Unsupervised's Symmetric strategy does.
func (pw *pairWork) exact(a, b *loaded, M, D int, serial bool) {
	if serial {
		gemm.MatMulPackedSerial(M, a.z, D, b.packed, pw.dot, M, false)
	} else {
		gemm.MatMulPacked(M, a.z, D, b.packed, pw.dot, M, false)
	}
	pairMinima(pw.dot, M, a.norms, b.norms, pw.rowMin, pw.colMin)
}

// twoStage sets rowMin and colMin of the pair (a, b) with the two-stage
// search: each patch's nearest patch of the other image in the projection,
// then that candidate's distance in full dimension (so the result is never
// below the exact minimum).
func (pw *pairWork) twoStage(a, b *loaded, M, D, P int, serial bool) {
	if serial {
		gemm.MatMulPackedSerial(M, a.proj, P, b.packed, pw.dot, M, false)
	} else {
		gemm.MatMulPacked(M, a.proj, P, b.packed, pw.dot, M, false)
	}
	pairArgMinima(pw.dot, M, a.pnorms, b.pnorms, pw.rowArg, pw.colArg)
	for m := range M {
		n := int(pw.rowArg[m])
		pw.rowMin[m] = float32(math.Sqrt(float64(sqDist(a.z[m*D:(m+1)*D], b.z[n*D:(n+1)*D]))))
		n = int(pw.colArg[m])
		pw.colMin[m] = float32(math.Sqrt(float64(sqDist(b.z[m*D:(m+1)*D], a.z[n*D:(n+1)*D]))))
	}
}
