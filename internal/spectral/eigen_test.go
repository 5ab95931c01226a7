package spectral

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestTridiagSolve checks the pivoted tridiagonal solve against a dense
// LU solve, on systems that need row interchanges (small diagonal) and
// on ones that do not.
func TestTridiagSolve(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	for _, n := range []int{1, 2, 3, 7, 40} {
		for _, diag := range []float64{0.01, 5} {
			d, e := make([]float64, n), make([]float64, max(n-1, 0))
			for i := range d {
				d[i] = diag * r.NormFloat64()
			}
			for i := range e {
				e[i] = r.NormFloat64()
			}
			const sigma = 0.3
			a := mat.NewDense(n, n, nil)
			for i := 0; i < n; i++ {
				a.Set(i, i, d[i]-sigma)
				if i < n-1 {
					a.Set(i, i+1, e[i])
					a.Set(i+1, i, e[i])
				}
			}
			b := make([]float64, n)
			for i := range b {
				b[i] = r.NormFloat64()
			}
			var want mat.VecDense
			if err := want.SolveVec(a, mat.NewVecDense(n, slices.Clone(b))); err != nil {
				t.Fatal(err)
			}
			tridiagSolve(d, e, sigma, 1e-300, b)
			for i := range b {
				if !(math.Abs(b[i]-want.AtVec(i)) < 1e-8*(1+math.Abs(want.AtVec(i)))) {
					t.Errorf("n %d diag %v: x[%d] = %v, dense LU %v", n, diag, i, b[i], want.AtVec(i))
					break
				}
			}
		}
	}
}

// jacobi is the reference decomposition of the tests: the cyclic Jacobi
// eigenvalue algorithm in plain Go (Golub and Van Loan §8.5), sweeping
// until the off-diagonal mass is below 1e-28 of the total. It returns the
// eigenvalues ascending and the eigenvectors as the columns of an n x n
// row-major matrix, in the same order.
func jacobi(t *testing.T, l *mat.SymDense) ([]float64, []float64) {
	t.Helper()
	n := l.SymmetricDim()
	a := make([]float64, n*n)
	v := make([]float64, n*n)
	var total float64
	for i := 0; i < n; i++ {
		v[i*n+i] = 1
		for j := 0; j < n; j++ {
			a[i*n+j] = l.At(i, j)
			total += a[i*n+j] * a[i*n+j]
		}
	}
	converged := false
	for sweep := 0; sweep < 100 && !converged; sweep++ {
		var off float64
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if i != j {
					off += a[i*n+j] * a[i*n+j]
				}
			}
		}
		if off <= 1e-28*total {
			converged = true
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if a[p*n+q] == 0 {
					continue
				}
				// The rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s)
				// with (J' A J)_pq = 0: t = s/c solves t^2 + 2 theta t - 1 = 0.
				theta := (a[q*n+q] - a[p*n+p]) / (2 * a[p*n+q])
				tt := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					tt = -tt
				}
				c := 1 / math.Sqrt(tt*tt+1)
				s := tt * c
				for k := 0; k < n; k++ { // A J
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p], a[k*n+q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := 0; k < n; k++ { // J' (A J)
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k], a[q*n+k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := 0; k < n; k++ { // V J
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p], v[k*n+q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	if !converged {
		t.Fatal("reference Jacobi decomposition did not converge")
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		switch {
		case a[x*n+x] < a[y*n+y]:
			return -1
		case a[x*n+x] > a[y*n+y]:
			return 1
		}
		return 0
	})
	val := make([]float64, n)
	vec := make([]float64, n*n)
	for c, i := range idx {
		val[c] = a[i*n+i]
		for k := 0; k < n; k++ {
			vec[k*n+c] = v[k*n+i]
		}
	}
	return val, vec
}

// TestBottomEigenBruteForce checks BottomEigen against the plain-Go
// Jacobi reference on small matrices: a random symmetric one, the
// Laplacian of three overlapping groups of points (connected) and of
// three far-apart ones (three components: eigenvalue 0 three times). Per
// case: every eigenvalue within 1e-12 (both are backward stable, the
// eigenvalues are O(1) and the matrices small); each returned vector's
// residual ||L v - lambda v|| below 1e-10; the vectors orthonormal to
// 1e-12; and the space they span that of the reference's bottom kv
// eigenvectors, the projectors V V' and U U' within 1e-8 entrywise (kv
// ends at a gap of at least 0.01 in every case, so the space is well
// determined: Davis-Kahan bounds the angle by residual / gap).
func TestBottomEigenBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	random := mat.NewSymDense(12, nil)
	for i := 0; i < 12; i++ {
		for j := i; j < 12; j++ {
			random.SetSym(i, j, r.NormFloat64())
		}
	}
	groups := func(sep float64) *mat.SymDense {
		const per, d = 9, 3
		n := 3 * per
		x := make([]float64, n*d)
		for i := range n {
			for j := range d {
				x[i*d+j] = r.NormFloat64()
				if j == i/per {
					x[i*d+j] += sep
				}
			}
		}
		l, _ := Laplacian(pdist(x, n, d), n)
		return l
	}
	for _, tc := range []struct {
		name string
		l    *mat.SymDense
		kv   int
	}{
		{"random", random, 4},
		{"random all", random, 12},
		{"groups", groups(4), 3},
		{"components", groups(100), 3},
		{"components+2", groups(100), 5},
	} {
		n := tc.l.SymmetricDim()
		want, u := jacobi(t, tc.l)
		if tc.kv < n && !(want[tc.kv]-want[tc.kv-1] > 0.01) {
			t.Fatalf("%s: no gap after eigenvalue %d (%v): pick another kv", tc.name, tc.kv, want)
		}
		val, v, err := BottomEigen(tc.l, tc.kv)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(val) != n || v.RawMatrix().Rows != n || v.RawMatrix().Cols != tc.kv {
			t.Fatalf("%s: %d eigenvalues, vectors %d x %d; want %d and %d x %d", tc.name, len(val), v.RawMatrix().Rows, v.RawMatrix().Cols, n, n, tc.kv)
		}
		for i := range want {
			if !(math.Abs(val[i]-want[i]) < 1e-12) {
				t.Errorf("%s: eigenvalue %d = %v, Jacobi %v", tc.name, i, val[i], want[i])
			}
		}
		for c := 0; c < tc.kv; c++ {
			var res float64
			for i := 0; i < n; i++ {
				s := -val[c] * v.At(i, c)
				for j := 0; j < n; j++ {
					s += tc.l.At(i, j) * v.At(j, c)
				}
				res += s * s
			}
			if !(math.Sqrt(res) < 1e-10) {
				t.Errorf("%s: vector %d residual ||L v - lambda v|| = %v", tc.name, c, math.Sqrt(res))
			}
			for c2 := 0; c2 <= c; c2++ {
				var dot float64
				for i := 0; i < n; i++ {
					dot += v.At(i, c) * v.At(i, c2)
				}
				want := 0.0
				if c == c2 {
					want = 1
				}
				if !(math.Abs(dot-want) < 1e-12) {
					t.Errorf("%s: vectors %d and %d have inner product %v", tc.name, c, c2, dot)
				}
			}
		}
		worst := 0.0
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var p, q float64
				for c := 0; c < tc.kv; c++ {
					p += v.At(i, c) * v.At(j, c)
					q += u[i*n+c] * u[j*n+c]
				}
				worst = max(worst, math.Abs(p-q))
			}
		}
		if !(worst < 1e-8) {
			t.Errorf("%s: projectors on the bottom %d eigenvectors differ by %v", tc.name, tc.kv, worst)
		}
	}
}

// pdist is the condensed Euclidean distance matrix of the rows of x (n x
// d), scipy's pdist.
func pdist(x []float64, n, d int) []float64 {
	out := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var s float64
			for k := 0; k < d; k++ {
				t := x[i*d+k] - x[j*d+k]
				s += t * t
			}
			out = append(out, math.Sqrt(s))
		}
	}
	return out
}
