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

// TestIntervalMeanIsUnsupervised: with r = 1 the interval average is the
// plain mean over all other images, i.e. Unsupervised, also with queries.
func TestIntervalMeanIsUnsupervised(t *testing.T) {
	z := randomZ(rand.New(rand.NewPCG(7, 8)), 7, 12, 16)
	for _, q := range []int{0, 3} {
		want, err := Unsupervised(z, Options{Queries: q})
		if err != nil {
			t.Fatal(err)
		}
		pm, err := AllPairMinima(z, Options{Queries: q, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		got, err := IntervalScores(pm, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != want.N || got.M != want.M {
			t.Fatalf("queries %d: shape %dx%d, want %dx%d", q, got.N, got.M, want.N, want.M)
		}
		for k := range want.S {
			if e := math.Abs(got.S[k] - want.S[k]); !(e <= 1e-5*math.Max(1, want.S[k])) {
				t.Fatalf("queries %d: score %d = %v, Unsupervised %v", q, k, got.S[k], want.S[k])
			}
		}
	}
}

// TestIntervalScores checks the interval average against a direct
// computation: per patch, the nearest distance to each other image, sorted,
// the lowest ceil(r (N-1)) averaged.
func TestIntervalScores(t *testing.T) {
	z := randomZ(rand.New(rand.NewPCG(9, 10)), 6, 5, 4)
	pm, err := AllPairMinima(z, Options{})
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
	pm, err := AllPairMinima(z, Options{})
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
	pm, _ = AllPairMinima(z, Options{})
	robust, _ = IntervalScores(pm, 0.3)
	if !(robust.S[0] > 5*robust.S[1]) {
		t.Errorf("defect shared by 2 others: interval score %v, normal patch %v", robust.S[0], robust.S[1])
	}
}

// TestRefPairMinima: the minima against a reference subset are the
// matching columns of AllPairMinima (self +Inf), and their interval
// average counts only the finite ones.
func TestRefPairMinima(t *testing.T) {
	z := randomZ(rand.New(rand.NewPCG(13, 14)), 8, 10, 12)
	all, err := AllPairMinima(z, Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := []int{1, 4, 6}
	sub, err := RefPairMinima(z, 5, refs, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		for k, j := range refs {
			for m := 0; m < 10; m++ {
				got, want := sub.D[(i*3+k)*10+m], all.D[(i*8+j)*10+m]
				if !(math.Abs(float64(got-want)) <= 1e-4) && !(math.IsInf(float64(got), 1) && math.IsInf(float64(want), 1)) {
					t.Fatalf("query %d ref %d patch %d: %v, want %v", i, j, m, got, want)
				}
			}
		}
	}
	s, err := IntervalScores(sub, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Image 1 is a reference: its mean is over refs 4 and 6 only.
	want := (float64(all.D[(1*8+4)*10]) + float64(all.D[(1*8+6)*10])) / 2
	if !(math.Abs(s.S[10]-want) <= 1e-4) {
		t.Errorf("image 1 patch 0: %v, want %v", s.S[10], want)
	}
	if got := SampleRefs(8, 3, 1); len(got) != 3 || !slices.IsSorted(got) {
		t.Errorf("SampleRefs(8, 3) = %v", got)
	}
	if got := SampleRefs(4, 0, 1); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("SampleRefs(4, 0) = %v", got)
	}
}

// TestProject: a 1024 -> 256 random projection keeps pairwise distances
// within 20% (JL: relative error ~ sqrt(2/256) ≈ 9% one sigma).
func TestProject(t *testing.T) {
	z := randomZ(rand.New(rand.NewPCG(15, 16)), 2, 20, 1024)
	p, err := Project(z, 256, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p[0].Shape[1] != 256 {
		t.Fatalf("shape %v", p[0].Shape)
	}
	dist := func(a, b []float32) float64 {
		var s float64
		for k := range a {
			d := float64(a[k] - b[k])
			s += d * d
		}
		return math.Sqrt(s)
	}
	for m := 0; m < 20; m++ {
		d0 := dist(z[0].Data[m*1024:(m+1)*1024], z[1].Data[m*1024:(m+1)*1024])
		d1 := dist(p[0].Data[m*256:(m+1)*256], p[1].Data[m*256:(m+1)*256])
		if !(math.Abs(d1/d0-1) <= 0.2) {
			t.Errorf("patch %d: distance %v projected to %v", m, d0, d1)
		}
	}
	same, _ := Project(z, 1024, 3)
	if &same[0].Data[0] != &z[0].Data[0] {
		t.Error("dim >= D should return z unchanged")
	}
}
