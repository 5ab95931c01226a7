package alpha

import (
	"fmt"
	"math/rand/v2"
)

// RefAll asks for every other image as a reference (the exact score).
const RefAll = 0

// refPlan lists the image pairs the unsupervised score computes, in chunks
// that share their images, so that only the images of one chunk (and of
// the next ones that reuse them) need to be in memory.
//
// With R references per image (0 < R < N-1; R rounded up to even, 2h) the
// images are put in a seeded random order π (a circle) and each image is
// paired with the h images after it and the h before it: every image gets
// exactly R distinct references, and since π is uniformly random, each
// image's references are a uniformly random R-subset of the others, so the
// mean over them is an unbiased estimate of the mean over all N-1. Every
// unordered pair is computed once and serves both images. A chunk is c
// consecutive circle positions; it needs those c + h images.
//
// With every reference (R = 0 or R >= N-1) the pairs are all i < j, in
// blocks of B images: chunk (I, J) holds the pairs between blocks I <= J.
//
// A pair (a, b) always has the same orientation for given (N, R, seed),
// whatever query slice is asked for, so a slice's scores are bit-identical
// to the same rows of a run over all queries.
type refPlan struct {
	n, lo, hi int
	all       bool
	h         int
	perm      []int // circle position -> image (sample mode)
	chunk     int   // positions per chunk (sample) or block size (all)
}

// chunkT is one chunk: the images it needs and its pairs.
type chunkT struct {
	need  []int
	pairs [][2]int
}

func newRefPlan(n, lo, hi, refs int, seed uint64, chunk int) (*refPlan, error) {
	if n < 2 {
		return nil, fmt.Errorf("alpha: unsupervised scores need at least 2 images, got %d", n)
	}
	if lo < 0 || hi > n || lo >= hi {
		return nil, fmt.Errorf("alpha: query slice [%d, %d) of %d images", lo, hi, n)
	}
	if refs < 0 {
		return nil, fmt.Errorf("alpha: %d reference images: want >= 0 (0 = all)", refs)
	}
	p := &refPlan{n: n, lo: lo, hi: hi, chunk: max(chunk, 1)}
	if refs == RefAll || refs >= n-1 {
		p.all = true
		return p, nil
	}
	p.h = (refs + 1) / 2
	if 2*p.h >= n-1 { // rounding up reached every image
		p.all = true
		return p, nil
	}
	r := rand.New(rand.NewPCG(seed, 0x7265667321)) // "refs!"
	p.perm = r.Perm(n)
	return p, nil
}

// refsPerImage is the number of references of every image.
func (p *refPlan) refsPerImage() int {
	if p.all {
		return p.n - 1
	}
	return 2 * p.h
}

func (p *refPlan) isQuery(i int) bool { return i >= p.lo && i < p.hi }

// chunks returns the plan's chunks in order. A pair with no query image is
// left out; a chunk with no pair is dropped.
func (p *refPlan) chunks() []chunkT {
	var out []chunkT
	add := func(c chunkT) {
		if len(c.pairs) == 0 {
			return
		}
		seen := map[int]bool{}
		for _, pr := range c.pairs {
			for _, i := range pr {
				if !seen[i] {
					seen[i] = true
					c.need = append(c.need, i)
				}
			}
		}
		out = append(out, c)
	}
	if p.all {
		B := p.chunk
		for i0 := 0; i0 < p.n; i0 += B {
			for j0 := i0; j0 < p.n; j0 += B {
				var c chunkT
				for j := j0; j < min(j0+B, p.n); j++ {
					for i := i0; i < min(i0+B, p.n, j); i++ {
						if p.isQuery(i) || p.isQuery(j) {
							c.pairs = append(c.pairs, [2]int{i, j})
						}
					}
				}
				add(c)
			}
		}
		return out
	}
	for p0 := 0; p0 < p.n; p0 += p.chunk {
		var c chunkT
		for pos := p0; pos < min(p0+p.chunk, p.n); pos++ {
			a := p.perm[pos]
			for k := 1; k <= p.h; k++ {
				b := p.perm[(pos+k)%p.n]
				if p.isQuery(a) || p.isQuery(b) {
					c.pairs = append(c.pairs, [2]int{a, b})
				}
			}
		}
		add(c)
	}
	return out
}
