package alpha

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

func randomZ(r *rand.Rand, n, m, d int) []*tensor.Tensor {
	z := make([]*tensor.Tensor, n)
	for i := range z {
		z[i] = tensor.New(m, d)
		for k := range z[i].Data {
			z[i].Data[k] = float32(r.NormFloat64())
		}
	}
	return z
}

// TestIntervalMeanIsUnsupervised: with r = 1 the interval average of
// PairMinimaFrom is UnsupervisedFrom bit for bit, with every reference, a
// sample of them, the two-stage search, and a query slice.
func TestIntervalMeanIsUnsupervised(t *testing.T) {
	z := Tensors(randomZ(rand.New(rand.NewPCG(7, 8)), 9, 12, 16))
	for _, zi := range z { // distances below 1: not whole multiples of 2⁻²⁴
		for k := range zi.Data {
			zi.Data[k] *= 0.05
		}
	}
	for _, c := range []struct {
		lo, hi int
		opt    ScaleOptions
	}{
		{0, 9, ScaleOptions{}},
		{2, 6, ScaleOptions{Options: Options{Workers: 3}}},
		{0, 9, ScaleOptions{Refs: 4, Options: Options{Seed: 5, Workers: 2}, ChunkImages: 3}},
		{1, 7, ScaleOptions{Refs: 4, Proj: 6, Options: Options{Seed: 5}}},
	} {
		want, err := UnsupervisedFrom(z, c.lo, c.hi, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		pm, err := PairMinimaFrom(z, c.lo, c.hi, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := IntervalScores(pm, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != want.N || got.M != want.M {
			t.Fatalf("%+v: shape %dx%d, want %dx%d", c, got.N, got.M, want.N, want.M)
		}
		for k := range want.S {
			if got.S[k] != want.S[k] {
				t.Fatalf("%+v: score %d = %v, UnsupervisedFrom %v", c, k, got.S[k], want.S[k])
			}
		}
		// Only the references are kept, in ascending order, never the
		// query itself: 4 with a sample of 4, else every other image.
		nRef := 8
		if c.opt.Refs > 0 {
			nRef = 4
		}
		for q := 0; q < pm.Q; q++ {
			refs := pm.Refs[q]
			if len(refs) != nRef || len(pm.D[q]) != nRef*pm.M || !slices.IsSorted(refs) || slices.Contains(refs, c.lo+q) {
				t.Fatalf("%+v: query %d: references %v with %d distances, want %d ascending without the query", c, q, refs, len(pm.D[q]), nRef)
			}
		}
	}
}

// TestIntervalScores checks the interval average against a direct
// computation: per patch, the nearest distance to each other image, sorted,
// the lowest ceil(r (N-1)) averaged.
func TestIntervalScores(t *testing.T) {
	z := randomZ(rand.New(rand.NewPCG(9, 10)), 6, 5, 4)
	pm, err := PairMinimaFrom(Tensors(z), 0, len(z), ScaleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []float64{0.1, 0.3, 0.5} {
		s, err := IntervalScores(pm, r)
		if err != nil {
			t.Fatal(err)
		}
		k := int(math.Ceil(r * 5))
		for i := range z {
			for m := 0; m < 5; m++ {
				var d []float64
				for j := range z {
					if j == i {
						continue
					}
					best := math.Inf(1)
					for n := 0; n < 5; n++ {
						var sq float64
						for c := 0; c < 4; c++ {
							v := float64(z[i].Data[m*4+c] - z[j].Data[n*4+c])
							sq += v * v
						}
						best = math.Min(best, math.Sqrt(sq))
					}
					d = append(d, best)
				}
				slices.Sort(d)
				var want float64
				for _, v := range d[:k] {
					want += v / float64(k)
				}
				if got := s.S[i*5+m]; !(math.Abs(got-want) <= 1e-4) {
					t.Fatalf("r %g image %d patch %d: %v, want %v", r, i, m, got, want)
				}
			}
		}
	}
	if _, err := IntervalScores(pm, 0); err == nil {
		t.Error("r = 0 accepted")
	}
	if _, err := IntervalScores(pm, math.NaN()); err == nil {
		t.Error("r = NaN accepted")
	}
}

// TestIntervalKeepsSharedDefect: the interval average of a patch is small
// only when at least ceil(r (N-1)) other images have a similar patch. A
// defect shared by 6 of 19 others (r = 0.3: 6 distances) counts as normal;
// shared by 2 others, it still scores far above the normal patches.
func TestIntervalKeepsSharedDefect(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n, m, d = 20, 4, 8
	z := make([]*tensor.Tensor, n)
	defect := make([]float32, d)
	for c := range defect {
		defect[c] = 10
	}
	for i := range z {
		z[i] = tensor.New(m, d)
		for k := range z[i].Data {
			z[i].Data[k] = float32(r.NormFloat64() * 0.1)
		}
		if i < 7 { // a defect repeated in 7 of 20 images, at patch 0
			copy(z[i].Data[:d], defect)
		}
	}
	pm, err := PairMinimaFrom(Tensors(z), 0, len(z), ScaleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mean, _ := IntervalScores(pm, 1)
	robust, _ := IntervalScores(pm, 0.3)
	if !(robust.S[0] < mean.S[0]) {
		t.Errorf("interval score %v not below the mean %v for a defect 6 others share", robust.S[0], mean.S[0])
	}
	// With the defect in only 2 other images, r = 0.3 averages 6 distances:
	// 2 near 0 and 4 far, so the patch still scores far above normal ones.
	for i := 3; i < 7; i++ {
		clear(z[i].Data[:d])
	}
	pm, _ = PairMinimaFrom(Tensors(z), 0, len(z), ScaleOptions{})
	robust, _ = IntervalScores(pm, 0.3)
	if !(robust.S[0] > 5*robust.S[1]) {
		t.Errorf("defect shared by 2 others: interval score %v, normal patch %v", robust.S[0], robust.S[1])
	}
}
