package alpha

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/anomclust/anomclust/gemm"
)

// Projection maps D-dimensional patch embeddings to their first P principal
// components (no centring: distances do not depend on it).
type Projection struct {
	P, D int
	W    []float32 // P x D, row-major: the principal directions
}

// Apply projects the m rows of z (m x D) into out (m x P).
func (p *Projection) Apply(z []float32, m int, out []float32) {
	gemm.MatMulT(m, p.P, p.D, z, p.D, p.W, p.D, out, p.P, false)
}

// pcaSampleImages and pcaSamplePatches bound the patches the principal
// components are estimated from (at most 16,384 of them).
const (
	pcaSampleImages  = 32
	pcaSamplePatches = 512
)

// pcaMaxRows bounds the rows PCA is estimated from when given more (a
// seeded sample of them).
const pcaMaxRows = pcaSampleImages * pcaSamplePatches

// PCARows is PCA on at most pcaMaxRows of the n x d rows x (a seeded
// sample when there are more).
func PCARows(x []float32, n, d, p int, seed uint64) (*Projection, error) {
	if n <= pcaMaxRows {
		return PCA(x, n, d, p, seed)
	}
	r := rand.New(rand.NewPCG(seed, 0x7063615f72)) // "pca_r"
	idx := r.Perm(n)[:pcaMaxRows]
	slices.Sort(idx)
	sub := make([]float32, 0, len(idx)*d)
	for _, i := range idx {
		sub = append(sub, x[i*d:(i+1)*d]...)
	}
	return PCA(sub, len(idx), d, p, seed)
}

// PCAFromSource estimates the first p principal components of the patch
// embeddings of src from a seeded sample of patches (up to 512 from each of
// up to 32 images).
func PCAFromSource(src Source, p int, seed uint64) (*Projection, error) {
	M, D, err := CheckSource("projection", src)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x70636121)) // "pca!"
	imgs := r.Perm(src.Len())[:min(pcaSampleImages, src.Len())]
	slices.Sort(imgs)
	per := min(pcaSamplePatches, M)
	x := make([]float32, 0, len(imgs)*per*D)
	buf := make([]float32, M*D)
	for _, i := range imgs {
		z, err := src.Z(i, buf)
		if err != nil {
			return nil, fmt.Errorf("alpha: Z of image %d: %w", i, err)
		}
		for _, m := range r.Perm(M)[:per] {
			x = append(x, z[m*D:(m+1)*D]...)
		}
	}
	return PCA(x, len(x)/D, D, p, seed)
}

// PCA returns the first p principal components of the n x d rows x,
// computed by randomized subspace iteration (Halko et al. 2011: a block of
// p+8 seeded Gaussian vectors, 3 power iterations with re-orthonormalisation,
// then the exact eigenvectors of the small projected covariance), which
// costs O(n·d·p) instead of the O(d³) of a full eigendecomposition.
func PCA(x []float32, n, d, p int, seed uint64) (*Projection, error) {
	if p <= 0 || p > d {
		return nil, fmt.Errorf("alpha: %d principal components of %d dimensions", p, d)
	}
	if n < 2 || len(x) != n*d {
		return nil, fmt.Errorf("alpha: PCA of %d values as %d x %d rows", len(x), n, d)
	}
	// Centre (a copy) and its transpose.
	mean := make([]float64, d)
	for r := range n {
		for j, v := range x[r*d : (r+1)*d] {
			mean[j] += float64(v)
		}
	}
	xc := make([]float32, n*d)
	xt := make([]float32, n*d) // d x n
	for r := range n {
		for j, v := range x[r*d : (r+1)*d] {
			c := float32(float64(v) - mean[j]/float64(n))
			xc[r*d+j] = c
			xt[j*n+r] = c
		}
	}
	k := min(p+8, d)
	rg := rand.New(rand.NewPCG(seed, 0x7063615f67)) // "pca_g"
	q := make([]float32, d*k)
	for i := range q {
		q[i] = float32(rg.NormFloat64())
	}
	y := make([]float32, n*k)
	for it := 0; it < 3; it++ {
		orthonormalize(q, d, k)
		gemm.MatMul(n, k, d, xc, d, q, k, y, k, false) // y = Xc·Q
		gemm.MatMul(d, k, n, xt, n, y, k, q, k, false) // q = Xcᵀ·y
	}
	orthonormalize(q, d, k)
	gemm.MatMul(n, k, d, xc, d, q, k, y, k, false)
	// Small covariance B = yᵀy (k x k) in float64, its eigenvectors V;
	// the components are Q·V for the largest eigenvalues.
	yt := make([]float32, k*n)
	for r := range n {
		for i := range k {
			yt[i*n+r] = y[r*k+i]
		}
	}
	bf := make([]float32, k*k)
	gemm.MatMulT(k, k, n, yt, n, yt, n, bf, k, false) // yᵀy
	b := mat.NewSymDense(k, nil)
	for i := range k {
		for j := i; j < k; j++ {
			b.SetSym(i, j, float64(bf[i*k+j]+bf[j*k+i])/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(b, true) {
		return nil, fmt.Errorf("alpha: PCA: eigendecomposition did not converge")
	}
	var v mat.Dense
	eig.VectorsTo(&v) // columns, eigenvalues ascending
	w := make([]float32, p*d)
	for c := range p {
		col := k - 1 - c
		for j := range d {
			var s float64
			for t := range k {
				s += float64(q[j*k+t]) * v.At(t, col)
			}
			w[c*d+j] = float32(s)
		}
	}
	return &Projection{P: p, D: d, W: w}, nil
}

// orthonormalize makes the k columns of the d x k matrix q orthonormal
// (modified Gram-Schmidt in float64, twice for stability). A column that
// vanishes is replaced by a unit vector.
func orthonormalize(q []float32, d, k int) {
	cols := make([][]float64, k)
	for c := range k {
		cols[c] = make([]float64, d)
		for j := range d {
			cols[c][j] = float64(q[j*k+c])
		}
	}
	for pass := 0; pass < 2; pass++ {
		for c := range k {
			v := cols[c]
			for _, u := range cols[:c] {
				var dot float64
				for j := range v {
					dot += v[j] * u[j]
				}
				for j := range v {
					v[j] -= dot * u[j]
				}
			}
			var nrm float64
			for _, x := range v {
				nrm += x * x
			}
			nrm = math.Sqrt(nrm)
			if nrm < 1e-30 {
				clear(v)
				v[c%d] = 1
				continue
			}
			for j := range v {
				v[j] /= nrm
			}
		}
	}
	for c := range k {
		for j := range d {
			q[j*k+c] = float32(cols[c][j])
		}
	}
}
