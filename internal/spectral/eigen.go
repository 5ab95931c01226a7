package spectral

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// BottomEigen returns every eigenvalue of the symmetric matrix l,
// ascending, and orthonormal eigenvectors (n x kv, column i for
// eigenvalue i) of the bottom kv (kv is capped at n). The result depends
// on l alone (inverse iteration starts from a fixed seed). The
// eigenvalues are those of the tridiagonal T = Q' L Q (Householder reduction, as a decomposition
// without vectors does); the vectors are Q y, y from inverse iteration on
// T at each eigenvalue, re-orthogonalised against the ones before (so
// repeated eigenvalues, e.g. a graph of several components, get an
// orthonormal basis of their space). A full decomposition with vectors
// costs about five times the eigenvalues alone (27 s against 5.7 s at
// n = 1000, AMD EPYC Zen 3 shared); this about 1.3 times (4.9 s against
// 3.8 s).
func BottomEigen(l *mat.SymDense, kv int) ([]float64, *mat.Dense, error) {
	n := l.SymmetricDim()
	kv = min(kv, n)
	impl := gonum.Implementation{}
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a[i*n+j] = l.At(i, j)
		}
	}
	if n == 1 {
		return []float64{a[0]}, mat.NewDense(1, 1, []float64{1}), nil
	}
	d, e, tau := make([]float64, n), make([]float64, n-1), make([]float64, n-1)
	work := make([]float64, 1)
	impl.Dsytrd(blas.Upper, n, a, n, d, e, tau, work, -1)
	work = make([]float64, max(int(work[0]), n))
	impl.Dsytrd(blas.Upper, n, a, n, d, e, tau, work, len(work))
	val, ev := slices.Clone(d), slices.Clone(e)
	if !impl.Dsterf(n, val, ev) {
		return nil, nil, errors.New("spectral: eigenvalues did not converge")
	}
	impl.Dorgtr(blas.Upper, n, a, n, tau, work, -1)
	if w := int(work[0]); w > len(work) {
		work = make([]float64, w)
	}
	impl.Dorgtr(blas.Upper, n, a, n, tau, work, len(work))
	q := mat.NewDense(n, n, a)

	scale := 0.0
	for i := 0; i < n; i++ {
		scale = max(scale, math.Abs(d[i]))
		if i < n-1 {
			scale = max(scale, math.Abs(e[i]))
		}
	}
	eps := 1e-14 * max(scale, 1e-300)
	rng := rand.New(rand.NewPCG(1, 2))
	y := mat.NewDense(n, kv, nil)
	z := make([]float64, n)
	for k := 0; k < kv; k++ {
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		for range 4 {
			tridiagSolve(d, e, val[k], eps, z)
			for j := 0; j < k; j++ { // re-orthogonalise
				var dot float64
				for i := range z {
					dot += z[i] * y.At(i, j)
				}
				for i := range z {
					z[i] -= dot * y.At(i, j)
				}
			}
			var nrm float64
			for _, v := range z {
				nrm += v * v
			}
			nrm = math.Sqrt(nrm)
			if !(nrm > 0) || math.IsInf(nrm, 0) {
				return nil, nil, errors.New("spectral: inverse iteration for the eigenvectors failed")
			}
			for i := range z {
				z[i] /= nrm
			}
		}
		y.SetCol(k, z)
	}
	var v mat.Dense
	v.Mul(q, y)
	return val, &v, nil
}

// tridiagSolve overwrites b with the solution of (T - sigma I) x = b, T
// the symmetric tridiagonal matrix of diagonal d and off-diagonal e, by
// Gaussian elimination with partial pivoting (LAPACK dgtsv); a zero pivot
// becomes eps (inverse iteration at an eigenvalue wants the large
// solution a near-singular system gives).
func tridiagSolve(d, e []float64, sigma, eps float64, b []float64) {
	n := len(d)
	dd := make([]float64, n)
	for i := range dd {
		dd[i] = d[i] - sigma
	}
	dl := slices.Clone(e) // sub-diagonal, then the second super-diagonal
	du := slices.Clone(e)
	for i := 0; i < n-1; i++ {
		if math.Abs(dd[i]) >= math.Abs(dl[i]) {
			if dd[i] == 0 {
				dd[i] = eps
			}
			f := dl[i] / dd[i]
			dd[i+1] -= f * du[i]
			b[i+1] -= f * b[i]
			dl[i] = 0
		} else {
			f := dd[i] / dl[i]
			dd[i] = dl[i]
			t := dd[i+1]
			dd[i+1] = du[i] - f*t
			if i < n-2 {
				dl[i] = du[i+1]
				du[i+1] = -f * dl[i]
			} else {
				dl[i] = 0
			}
			du[i] = t
			b[i], b[i+1] = b[i+1], b[i]-f*b[i+1]
		}
	}
	if dd[n-1] == 0 {
		dd[n-1] = eps
	}
	b[n-1] /= dd[n-1]
	if n > 1 {
		b[n-2] = (b[n-2] - du[n-2]*b[n-1]) / dd[n-2]
	}
	for i := n - 3; i >= 0; i-- {
		b[i] = (b[i] - du[i]*b[i+1] - dl[i]*b[i+2]) / dd[i]
	}
}
