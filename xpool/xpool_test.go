package xpool

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/tensor"
)

// data returns n random images of m x d patches (values in [-1, 2)) and
// random positive weights (not normalised).
func data(n, m, d int, seed uint64) ([]*tensor.Tensor, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	z := make([]*tensor.Tensor, n)
	for i := range z {
		z[i] = tensor.New(m, d)
		for k := range z[i].Data {
			z[i].Data[k] = float32(3*rng.Float64() - 1)
		}
	}
	a := make([]float64, n*m)
	for k := range a {
		a[k] = rng.Float64() * 3
	}
	return z, a
}

// reference computes one image's descriptor the plain way: normalised
// weights, two-pass mean and variance, each part divided by its norm.
func reference(kind Kind, z []float32, a []float64, d int) []float64 {
	m := len(a)
	var tot float64
	for _, w := range a {
		tot += w
	}
	w := make([]float64, m)
	u := make([]float64, m)
	for i := range a {
		w[i], u[i] = a[i]/tot, 1/float64(m)
	}
	moments := func(wt []float64) (mu, sd []float64) {
		mu, sd = make([]float64, d), make([]float64, d)
		for j := 0; j < d; j++ {
			for i := 0; i < m; i++ {
				mu[j] += wt[i] * float64(z[i*d+j])
			}
		}
		for j := 0; j < d; j++ {
			for i := 0; i < m; i++ {
				v := float64(z[i*d+j]) - mu[j]
				sd[j] += wt[i] * v * v
			}
			sd[j] = math.Sqrt(sd[j])
		}
		return mu, sd
	}
	unit := func(v []float64) []float64 {
		var s float64
		for _, f := range v {
			s += f * f
		}
		out := make([]float64, len(v))
		for i, f := range v {
			out[i] = f / math.Sqrt(s)
		}
		return out
	}
	wm, ws := moments(w)
	um, us := moments(u)
	switch kind {
	case Mean:
		return wm
	case MeanStd:
		return append(unit(wm), unit(ws)...)
	case MeanStdU:
		return append(unit(wm), unit(us)...)
	case UMeanStd:
		return append(unit(um), unit(ws)...)
	case GeM:
		out := make([]float64, d)
		for j := 0; j < d; j++ {
			var s float64
			for i := 0; i < m; i++ {
				if v := float64(z[i*d+j]); v > 0 {
					s += w[i] * math.Pow(v, 3)
				}
			}
			out[j] = math.Pow(s, 1.0/3)
		}
		return out
	}
	panic("unknown kind")
}

func TestEmbedMatchesReference(t *testing.T) {
	const n, m, d = 7, 13, 5
	z, a := data(n, m, d, 1)
	norm := make([]float64, len(a)) // Mean needs weights that sum to 1 per image
	for i := 0; i < n; i++ {
		var s float64
		for _, w := range a[i*m : (i+1)*m] {
			s += w
		}
		for k := i * m; k < (i+1)*m; k++ {
			norm[k] = a[k] / s
		}
	}
	for _, kind := range Kinds() {
		for _, workers := range []int{1, 3} {
			xs, err := Embed(alpha.Tensors(z), [][]float64{a, norm}, kind, alpha.Options{Workers: workers})
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			for k, x := range xs {
				if kind == Mean && k == 0 {
					continue // Mean does not normalise the weights
				}
				if x.Shape[0] != n || x.Shape[1] != kind.Dim(d) {
					t.Fatalf("%s: X shape %v, want [%d %d]", kind, x.Shape, n, kind.Dim(d))
				}
				for i := 0; i < n; i++ {
					want := reference(kind, z[i].Data, a[i*m:(i+1)*m], d)
					got := x.Data[i*kind.Dim(d) : (i+1)*kind.Dim(d)]
					for j := range want {
						if err := math.Abs(float64(got[j]) - want[j]); !(err <= 1e-5) {
							t.Fatalf("%s workers %d weights %d image %d value %d: %v, want %v", kind, workers, k, i, j, got[j], want[j])
						}
					}
				}
			}
		}
	}
}

// A std weight scales the std part of the unweighted kind and nothing else.
func TestStdWeight(t *testing.T) {
	const n, m, d = 3, 8, 4
	z, a := data(n, m, d, 5)
	for _, base := range []Kind{MeanStd, MeanStdU, UMeanStd} {
		k, err := Parse(string(base) + ":0.25")
		if err != nil {
			t.Fatal(err)
		}
		xs, err := Embed(alpha.Tensors(z), [][]float64{a}, k, alpha.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			want := reference(base, z[i].Data, a[i*m:(i+1)*m], d)
			for j := range want {
				if j >= d {
					want[j] *= 0.25
				}
				if got := xs[0].Data[i*2*d+j]; !(math.Abs(float64(got)-want[j]) <= 1e-5) {
					t.Fatalf("%s image %d value %d: %v, want %v", k, i, j, got, want[j])
				}
			}
		}
	}
}

func TestMeanIsImageEmbeddings(t *testing.T) {
	z, a := data(4, 9, 6, 2)
	want, err := alpha.ImageEmbeddings(z, a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Embed(alpha.Tensors(z), [][]float64{a}, Mean, alpha.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range want.Data {
		if got[0].Data[k] != want.Data[k] {
			t.Fatalf("value %d: %v, want %v (bit-identical)", k, got[0].Data[k], want.Data[k])
		}
	}
}

// A one-hot weight picks one patch: the weighted std is 0 (the std part
// is then all zero) and GeM is the patch clamped at 0.
func TestOneHot(t *testing.T) {
	const m, d = 6, 4
	z, _ := data(1, m, d, 3)
	a := make([]float64, m)
	a[2] = 1
	xs, err := Embed(alpha.Tensors(z), [][]float64{a}, MeanStd, alpha.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range xs[0].Data[d:] {
		if v != 0 {
			t.Fatalf("std %d = %v with one patch weighted", j, v)
		}
	}
	xs, err = Embed(alpha.Tensors(z), [][]float64{a}, GeM, alpha.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range xs[0].Data {
		want := max(z[0].Data[2*d+j], 0)
		if !(math.Abs(float64(v-want)) <= 1e-6) {
			t.Fatalf("GeM %d = %v, want %v", j, v, want)
		}
	}
}

func TestEmbedErrors(t *testing.T) {
	z, a := data(2, 3, 2, 4)
	if _, err := Embed(alpha.Tensors(z), [][]float64{a[:5]}, MeanStd, alpha.Options{}); err == nil {
		t.Error("short weights accepted")
	}
	bad := append([]float64(nil), a...)
	bad[1] = -1
	if _, err := Embed(alpha.Tensors(z), [][]float64{bad}, MeanStd, alpha.Options{}); err == nil {
		t.Error("negative weight accepted")
	}
	zero := make([]float64, len(a))
	if _, err := Embed(alpha.Tensors(z), [][]float64{zero}, GeM, alpha.Options{}); err == nil {
		t.Error("all-zero weights accepted")
	}
	if _, err := Embed(alpha.Tensors(z), [][]float64{a}, Kind("max"), alpha.Options{}); err == nil {
		t.Error("unknown kind accepted")
	}
	done := make(chan struct{})
	close(done)
	if _, err := Embed(alpha.Tensors(z), [][]float64{a}, MeanStd, alpha.Options{Done: done}); !errors.Is(err, alpha.ErrStopped) {
		t.Errorf("stopped: %v, want ErrStopped", err)
	}
}

func TestParse(t *testing.T) {
	for _, k := range Kinds() {
		if got, err := Parse(string(k)); err != nil || got != k {
			t.Errorf("Parse(%q) = %q, %v", k, got, err)
		}
	}
	for _, bad := range []string{"mean+std", "mean:0.5", "gem:2", "meanstd:0", "meanstd:-1", "meanstd:x", "meanstd:NaN"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse accepted %q", bad)
		}
	}
	if k, err := Parse("meanstd-u:0.5"); err != nil || k.Dim(3) != 6 || k.stdWeight() != 0.5 {
		t.Errorf("Parse(meanstd-u:0.5) = %q (dim %d, weight %v), %v", k, k.Dim(3), k.stdWeight(), err)
	}
}

// An average part appends the uniform mean, L2-normalised and scaled by
// its weight, to the kind's part (L2-normalised for Mean and GeM); the
// kind's part is otherwise as without it, std weight included.
func TestAvgPart(t *testing.T) {
	const n, m, d = 4, 9, 5
	z, a := data(n, m, d, 6)
	unit := func(v []float64) []float64 {
		var s float64
		for _, f := range v {
			s += f * f
		}
		for i := range v {
			v[i] /= math.Sqrt(s)
		}
		return v
	}
	for _, tc := range []struct {
		kind, base Kind
		stdW       float64
	}{{"meanstd+avg:0.5", MeanStd, 1}, {"meanstd:0.25+avg:2", MeanStd, 0.25}, {"meanstd-u+avg:1", MeanStdU, 1}, {"mean+avg:0.3", Mean, 1}, {"gem+avg:1", GeM, 1}} {
		k, err := Parse(string(tc.kind))
		if err != nil {
			t.Fatal(err)
		}
		if k.Dim(d) != Kind(tc.base).Dim(d)+d {
			t.Fatalf("%s: dim %d, want %d", k, k.Dim(d), Kind(tc.base).Dim(d)+d)
		}
		for _, workers := range []int{1, 2} {
			xs, err := Embed(alpha.Tensors(z), [][]float64{a}, k, alpha.Options{Workers: workers})
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			for i := 0; i < n; i++ {
				zi := z[i].Data
				want := reference(tc.base, zi, a[i*m:(i+1)*m], d)
				if tc.base == Mean || tc.base == GeM {
					want = unit(want)
				}
				for j := d; j < len(want); j++ {
					want[j] *= tc.stdW
				}
				avg := make([]float64, d)
				for p := 0; p < m; p++ {
					for j := 0; j < d; j++ {
						avg[j] += float64(zi[p*d+j]) / m
					}
				}
				for _, v := range unit(avg) {
					want = append(want, v*k.avgWeight())
				}
				got := xs[0].Data[i*k.Dim(d) : (i+1)*k.Dim(d)]
				for j := range want {
					if !(math.Abs(float64(got[j])-want[j]) <= 1e-5) {
						t.Fatalf("%s workers %d image %d value %d: %v, want %v", k, workers, i, j, got[j], want[j])
					}
				}
			}
		}
	}
	for _, bad := range []string{"meanstd+avg:0", "meanstd+avg:x", "meanstd+avg:", "mean:0.5+avg:1", "max+avg:1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse accepted %q", bad)
		}
	}
}
