package alpha

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// golden is testdata/golden.json, written by testdata/gen_alpha.py.
type golden struct {
	Z          [][][]float64 `json:"z"`
	Bank       [][][]float64 `json:"bank"`
	SUnsup     [][]float64   `json:"s_unsup"`
	SSemi      [][]float64   `json:"s_semi"`
	STies      [][]float64   `json:"s_ties"`
	Taus       []float64     `json:"taus"`
	AlphaUnsup [][][]float64 `json:"alpha_unsup"`
	AlphaSemi  [][][]float64 `json:"alpha_semi"`
	AlphaTies  [][][]float64 `json:"alpha_ties"`
	XUnsup     [][][]float64 `json:"x_unsup"`
	XSemi      [][][]float64 `json:"x_semi"`
	CoresetX   [][]float64   `json:"coreset_x"`
	Starts     []int         `json:"coreset_starts"`
	Num        int           `json:"coreset_num"`
	CoresetIdx []int         `json:"coreset_idx"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// toZ converts (N, M, D) numbers to per-image (M, D) tensors; the fixture's
// values are float32 values, so the conversion is exact.
func toZ(v [][][]float64) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(v))
	for i, img := range v {
		t := tensor.New(len(img), len(img[0]))
		for m, row := range img {
			for d, x := range row {
				t.Data[m*len(row)+d] = float32(x)
			}
		}
		out[i] = t
	}
	return out
}

func toScores(v [][]float64) *Scores {
	s := &Scores{N: len(v), M: len(v[0])}
	for _, row := range v {
		s.S = append(s.S, row...)
	}
	return s
}

// distanceTolerance bounds the error of our nearest-neighbour distances
// (GEMM form ||a||² + ||b||² - 2a·b in float32) on the images z against
// exact ones. Each float32 dot product or squared norm of length D carries at
// most D·u·||a||·||b|| of rounding error (u = 2^-24), and forming the sum
// adds two more roundings of at most the operands' size, so
// |Δd²| <= (D+2)·u·(||a||² + ||b||² + 2||a||·||b||) <= 4(D+2)·u·R², R the
// largest row norm. Since |√x - √y| <= |x - y|/√y, the distance error is at
// most that over the smallest true distance δ between any two patches that
// are compared, plus one float32 rounding of the result. Minima and means of
// values each within the bound stay within it.
func distanceTolerance(t *testing.T, sets ...[]*tensor.Tensor) float64 {
	t.Helper()
	const u = 1.0 / (1 << 24)
	var all [][]float32
	D := 0
	for _, set := range sets {
		for _, z := range set {
			D = z.Shape[1]
			for m := 0; m < z.Shape[0]; m++ {
				all = append(all, z.Data[m*D:(m+1)*D])
			}
		}
	}
	R2, delta, dmax := 0.0, math.Inf(1), 0.0
	for a, ra := range all {
		R2 = max(R2, exactSq(ra, make([]float32, D)))
		for _, rb := range all[a+1:] {
			d := math.Sqrt(exactSq(ra, rb))
			delta, dmax = min(delta, d), max(dmax, d)
		}
	}
	if delta == 0 {
		t.Fatal("fixture has duplicate patches: the bound needs distinct ones")
	}
	return 4*float64(D+2)*u*R2/delta + u*dmax
}

func exactSq(a, b []float32) float64 {
	var s float64
	for k := range a {
		d := float64(a[k]) - float64(b[k])
		s += d * d
	}
	return s
}

func TestScoresGolden(t *testing.T) {
	g := loadGolden(t)
	z, bank := toZ(g.Z), toZ(g.Bank)
	tol := distanceTolerance(t, z, bank)
	t.Logf("distance tolerance %.3g", tol)
	check := func(name string, got *Scores, want [][]float64) {
		t.Helper()
		if got.N != len(want) || got.M != len(want[0]) {
			t.Fatalf("%s: scores %dx%d, want %dx%d", name, got.N, got.M, len(want), len(want[0]))
		}
		worst := 0.0
		for i, row := range want {
			for m, w := range row {
				d := math.Abs(got.Row(i)[m] - w)
				worst = max(worst, d)
				if !(d <= tol) { // a NaN fails too
					t.Fatalf("%s: s[%d,%d] = %v, want %v (tolerance %.3g)", name, i, m, got.Row(i)[m], w, tol)
				}
			}
		}
		t.Logf("%s: max error %.3g", name, worst)
	}
	for _, st := range []struct {
		name string
		s    Strategy
	}{{"symmetric", Symmetric}, {"fused", Fused}} {
		for _, w := range []int{1, 3} {
			s, err := Unsupervised(z, Options{Strategy: st.s, Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			check(st.name, s, g.SUnsup)
		}
	}
	for _, w := range []int{1, 2} {
		s, err := SemiSupervised(z, bank, Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		check("semi", s, g.SSemi)
	}
}

// TestScoresRandom checks both strategies against float64 brute force on
// shapes that are not multiples of any GEMM tile (M = 50, D = 70), with
// more workers than pairs for N = 2.
func TestScoresRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const M, D = 50, 70
	for _, N := range []int{2, 4, 5} {
		z := make([]*tensor.Tensor, N)
		for i := range z {
			z[i] = tensor.New(M, D)
			for k := range z[i].Data {
				z[i].Data[k] = float32(r.NormFloat64()) + 0.3*float32(i)
			}
		}
		want := make([]float64, N*M)
		for i := range N {
			for m := range M {
				for j := range N {
					if j == i {
						continue
					}
					best := math.Inf(1)
					for n := range M {
						best = min(best, exactSq(z[i].Data[m*D:(m+1)*D], z[j].Data[n*D:(n+1)*D]))
					}
					want[i*M+m] += math.Sqrt(best) / float64(N-1)
				}
			}
		}
		tol := distanceTolerance(t, z)
		for _, st := range []Strategy{Symmetric, Fused} {
			s, err := Unsupervised(z, Options{Strategy: st, Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			for k, w := range want {
				if d := math.Abs(s.S[k] - w); !(d <= tol) {
					t.Fatalf("N %d strategy %d: s[%d] = %v, want %v (tolerance %.3g)", N, st, k, s.S[k], w, tol)
				}
			}
			// Queries: only the first q images' rows, still means over
			// all N-1 others (the later images are references only).
			for q := 1; q < N; q++ {
				s, err := Unsupervised(z, Options{Strategy: st, Workers: 3, Queries: q})
				if err != nil {
					t.Fatal(err)
				}
				if s.N != q || len(s.S) != q*M {
					t.Fatalf("N %d queries %d: got %d rows (%d values)", N, q, s.N, len(s.S))
				}
				for k, w := range want[:q*M] {
					if d := math.Abs(s.S[k] - w); !(d <= tol) {
						t.Fatalf("N %d strategy %d queries %d: s[%d] = %v, want %v (tolerance %.3g)", N, st, q, k, s.S[k], w, tol)
					}
				}
			}
		}
	}
	two := []*tensor.Tensor{tensor.New(M, D), tensor.New(M, D)}
	for _, q := range []int{-1, 3} {
		if _, err := Unsupervised(two, Options{Queries: q}); err == nil {
			t.Errorf("Queries %d of 2 images accepted", q)
		}
	}
}

// TestScoresDeterministic: the same inputs and Workers give bit-identical
// scores (the per-worker accumulators are reduced in a fixed order), which
// keeps exact ties for tau = 0 reproducible.
func TestScoresDeterministic(t *testing.T) {
	g := loadGolden(t)
	z := toZ(g.Z)
	a, _ := Unsupervised(z, Options{Workers: 2})
	b, _ := Unsupervised(z, Options{Workers: 2})
	if !slices.Equal(a.S, b.S) {
		t.Fatal("two runs differ")
	}
}

// TestAlphaGolden feeds the fixture's float64 scores to Alpha. Both sides
// evaluate exp((s - max)/tau) in float64 and normalise: at most a few ulps
// apart, so 1e-12 relative. tau = 0 must be exact (0 or 1/count).
func TestAlphaGolden(t *testing.T) {
	g := loadGolden(t)
	for _, c := range []struct {
		name string
		s    [][]float64
		want [][][]float64
	}{{"unsup", g.SUnsup, g.AlphaUnsup}, {"semi", g.SSemi, g.AlphaSemi}, {"ties", g.STies, g.AlphaTies}} {
		sweep, err := AlphaSweep(toScores(c.s), g.Taus)
		if err != nil {
			t.Fatal(err)
		}
		for k, tau := range g.Taus {
			M := len(c.s[0])
			for i, row := range c.want[k] {
				var sum float64
				for m, w := range row {
					got := sweep[k][i*M+m]
					sum += got
					if tau == 0 && got != w || !(math.Abs(got-w) <= 1e-12*w) {
						t.Fatalf("%s tau %v: alpha[%d,%d] = %v, want %v", c.name, tau, i, m, got, w)
					}
				}
				if !(math.Abs(sum-1) <= 1e-12) {
					t.Fatalf("%s tau %v: row %d sums to %v", c.name, tau, i, sum)
				}
			}
		}
	}
}

// TestEmbeddingsGolden: X from the fixture's alpha. We accumulate in float64
// as NumPy does and round once to float32: error <= 2^-24·|x| plus float64
// noise, so 1e-6·(1+|x|).
func TestEmbeddingsGolden(t *testing.T) {
	g := loadGolden(t)
	z := toZ(g.Z)
	for k, tau := range g.Taus {
		for _, c := range []struct {
			name  string
			alpha [][][]float64
			x     [][][]float64
		}{{"unsup", g.AlphaUnsup, g.XUnsup}, {"semi", g.AlphaSemi, g.XSemi}} {
			var a []float64
			for _, row := range c.alpha[k] {
				a = append(a, row...)
			}
			x, err := ImageEmbeddings(z, a)
			if err != nil {
				t.Fatal(err)
			}
			compareX(t, c.name, tau, x, c.x[k], 1e-6)
		}
	}
}

func compareX(t *testing.T, name string, tau float64, x *tensor.Tensor, want [][]float64, tol float64) {
	t.Helper()
	D := x.Shape[1]
	if x.Shape[0] != len(want) || D != len(want[0]) {
		t.Fatalf("%s tau %v: X shape %v", name, tau, x.Shape)
	}
	for i, row := range want {
		for d, w := range row {
			if got := float64(x.Data[i*D+d]); !(math.Abs(got-w) <= tol*(1+math.Abs(w))) {
				t.Fatalf("%s tau %v: X[%d,%d] = %v, want %v (tolerance %.3g)", name, tau, i, d, got, w, tol)
			}
		}
	}
}

// TestEndToEnd: Go scores -> Alpha -> X against the fixture's X. A score
// error Δs changes each softmax weight by a factor within exp(±2Δs/tau), so
// X moves by at most (2Δs/tau)·max|z| (first order); for tau = 0 the
// fixture's top-2 gap (> 1e-3, asserted by the generator) exceeds Δs, so
// the arg-max set is the same and X must match like TestEmbeddingsGolden.
func TestEndToEnd(t *testing.T) {
	g := loadGolden(t)
	z, bank := toZ(g.Z), toZ(g.Bank)
	tol := distanceTolerance(t, z, bank)
	if tol >= 1e-3 {
		t.Fatalf("distance tolerance %v too loose for the tau = 0 check", tol)
	}
	zmax := 0.0
	for _, zi := range z {
		for _, v := range zi.Data {
			zmax = max(zmax, math.Abs(float64(v)))
		}
	}
	us, err := Unsupervised(z, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := SemiSupervised(z, bank, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k, tau := range g.Taus {
		xtol := 1e-6
		if tau > 0 {
			xtol += 2.5 * tol / tau * zmax
		}
		for _, c := range []struct {
			name string
			s    *Scores
			x    [][]float64
		}{{"unsup", us, g.XUnsup[k]}, {"semi", ss, g.XSemi[k]}} {
			a, err := Alpha(c.s, tau)
			if err != nil {
				t.Fatal(err)
			}
			x, err := ImageEmbeddings(z, a)
			if err != nil {
				t.Fatal(err)
			}
			compareX(t, c.name, tau, x, c.x, xtol)
		}
	}
}

func TestAverageIsUniform(t *testing.T) {
	s := Average(3, 4)
	for _, tau := range []float64{0, 1} {
		a, err := Alpha(s, tau)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range a {
			if v != 0.25 {
				t.Fatalf("tau %v: weight %v, want 0.25", tau, v)
			}
		}
	}
}

// TestAlphaStable: scores far outside exp's range must not overflow.
func TestAlphaStable(t *testing.T) {
	a, err := Alpha(&Scores{N: 1, M: 3, S: []float64{1e4, 1e4 - 1, -1e4}}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	e := math.Exp(-2)
	want := []float64{1 / (1 + e), e / (1 + e), 0}
	for m := range want {
		if !(math.Abs(a[m]-want[m]) <= 1e-15) {
			t.Fatalf("alpha = %v, want %v", a, want)
		}
	}
	if _, err := Alpha(&Scores{N: 1, M: 1, S: []float64{0}}, -1); err == nil {
		t.Error("negative tau accepted")
	}
}

// TestCoresetGolden runs the greedy search on the fixture's rows with its
// starting points: the selection must equal PatchCore's
// _compute_greedy_coreset_indices exactly (the generator checked that it
// does not depend on rounding).
func TestCoresetGolden(t *testing.T) {
	g := loadGolden(t)
	n, k := len(g.CoresetX), len(g.CoresetX[0])
	x := make([]float32, 0, n*k)
	for _, row := range g.CoresetX {
		for _, v := range row {
			x = append(x, float32(v))
		}
	}
	for _, w := range []int{1, 3} {
		got := greedyCoreset(x, n, k, g.Starts, g.Num, w)
		if !slices.Equal(got, g.CoresetIdx) {
			t.Fatalf("workers %d: coreset %v, want %v", w, got, g.CoresetIdx)
		}
	}
}

func TestCoreset(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, d = 300, 20
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	a, err := Coreset(x, n, d, 0.1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Coreset(x, n, d, 0.1, 5, 1)
	if len(a) != 30 || !slices.Equal(a, b) {
		t.Fatalf("coreset %v and %v: want the same 30 indices for one seed", a, b)
	}
	seen := map[int]bool{}
	for _, i := range a {
		if seen[i] || i < 0 || i >= n {
			t.Fatalf("bad or repeated index %d in %v", i, a)
		}
		seen[i] = true
	}
	if _, err := Coreset(x, n, d, 1, 0, 1); err == nil {
		t.Error("fraction 1 accepted")
	}
	// A coreset bank changes semi-supervised scores only upwards (fewer
	// candidates), and keeps every score finite.
	z := []*tensor.Tensor{tensor.From(x[:10*d], 10, d)}
	bank := []*tensor.Tensor{tensor.From(x[100*d:200*d], 100, d), tensor.From(x[200*d:], 100, d)}
	full, _ := SemiSupervised(z, bank, Options{})
	sub, err := SemiSupervised(z, bank, Options{Coreset: 0.25, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for k := range full.S {
		if !(sub.S[k] >= full.S[k]-1e-6) || math.IsInf(sub.S[k], 0) {
			t.Fatalf("coreset score %v below full-bank score %v", sub.S[k], full.S[k])
		}
	}
	if slices.Equal(full.S, sub.S) {
		t.Error("coreset changed nothing")
	}
}

func TestSampleNormals(t *testing.T) {
	idx, capped, err := SampleNormals(50, 30, 0.5, 9)
	if err != nil || capped || len(idx) != 15 || !slices.IsSorted(idx) {
		t.Fatalf("got %v capped=%v err=%v, want 15 sorted indices", idx, capped, err)
	}
	again, _, _ := SampleNormals(50, 30, 0.5, 9)
	other, _, _ := SampleNormals(50, 30, 0.5, 10)
	if !slices.Equal(idx, again) || slices.Equal(idx, other) {
		t.Fatal("pick must depend on the seed only")
	}
	if len(slices.Compact(slices.Clone(idx))) != 15 {
		t.Fatal("repeated index")
	}
	// int(0.7 * 10) is 7 in Python (0.7*10 = 7.000000000000001).
	if idx, _, _ := SampleNormals(100, 10, 0.7, 0); len(idx) != 7 {
		t.Fatalf("0.7 x 10 -> %d images, want 7", len(idx))
	}
	if idx, capped, _ := SampleNormals(4, 10, 1, 0); !capped || len(idx) != 4 {
		t.Fatalf("cap: %v %v", idx, capped)
	}
	if _, _, err := SampleNormals(4, 10, 0.05, 0); err == nil {
		t.Error("int(0.05 x 10) = 0 images accepted")
	}
}

func TestErrors(t *testing.T) {
	one := []*tensor.Tensor{tensor.New(4, 3)}
	if _, err := Unsupervised(one, Options{}); err == nil {
		t.Error("one image accepted")
	}
	if _, err := Unsupervised([]*tensor.Tensor{tensor.New(4, 3), tensor.New(5, 3)}, Options{}); err == nil {
		t.Error("mismatched shapes accepted")
	}
	if _, err := SemiSupervised(one, nil, Options{}); err == nil {
		t.Error("empty bank accepted")
	}
	if _, err := SemiSupervised(one, []*tensor.Tensor{tensor.New(4, 2)}, Options{}); err == nil {
		t.Error("bank of another dimension accepted")
	}
	if _, err := ImageEmbeddings(one, []float64{1}); err == nil {
		t.Error("wrong alpha length accepted")
	}
}

func TestPairAt(t *testing.T) {
	p := 0
	for j := 1; j < 60; j++ {
		for i := 0; i < j; i++ {
			if gi, gj := pairAt(p); gi != i || gj != j {
				t.Fatalf("pairAt(%d) = (%d, %d), want (%d, %d)", p, gi, gj, i, j)
			}
			p++
		}
	}
}

// BenchmarkUnsupervised: the benchmark's shape (M = 784, D = 1024) on N = 6
// images, per strategy and number of pair workers:
// go test -run X -bench Unsupervised ./alpha
func BenchmarkUnsupervised(b *testing.B) {
	const N, M, D = 6, 784, 1024
	r := rand.New(rand.NewPCG(1, 1))
	z := make([]*tensor.Tensor, N)
	for i := range z {
		z[i] = tensor.New(M, D)
		for k := range z[i].Data {
			z[i].Data[k] = float32(r.NormFloat64())
		}
	}
	for _, st := range []struct {
		name string
		s    Strategy
	}{{"symmetric", Symmetric}, {"fused", Fused}} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", st.name, w), func(b *testing.B) {
				for b.Loop() {
					if _, err := Unsupervised(z, Options{Strategy: st.s, Workers: w}); err != nil {
						b.Fatal(err)
					}
				}
				// Useful flops: every ordered pair's distance GEMM.
				b.ReportMetric(2*M*M*D*float64(N*(N-1))*float64(b.N)/b.Elapsed().Seconds()/1e9, "eff-GFLOP/s")
			})
		}
	}
}

// BenchmarkPairMinima: the Go pass over one pair's M x M dot products that
// the Symmetric strategy adds to each GEMM (compare with BenchmarkUnsupervised
// per pair): go test -run X -bench PairMinima ./alpha
func BenchmarkPairMinima(b *testing.B) {
	const M = 784
	dot := make([]float32, M*M)
	for k := range dot {
		dot[k] = float32(k%977) * 0.01
	}
	na, nb := make([]float32, M), make([]float32, M)
	rowMin, colMin := make([]float32, M), make([]float32, M)
	for b.Loop() {
		pairMinima(dot, M, na, nb, rowMin, colMin)
	}
}
