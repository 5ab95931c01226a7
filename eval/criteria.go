package eval

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/cluster"
)

// Label-free evidence recorded with every row, for choosing between
// options without labels (docs/QUALITY.md): the silhouette of the row's
// clusters in its X, and the peak of the score maps it was weighted with.

// silhouette is the mean silhouette (Euclidean) of the n x d rows x under
// the labels c (cluster.Silhouette; the criterion of the --sil-choice
// rows).
func silhouette(x []float32, n, d int, c []int) float64 {
	return cluster.Silhouette(x, n, d, c)
}

// peak is the mean over images of the mean standardised score of each
// image's top 1% of patches ((s - mean_i) / sd_i): high when the scores
// single out a few patches, low when the anomalous region is spread over
// the image (or absent).
func peak(s *alpha.Scores) float64 {
	top := max(1, int(math.Ceil(0.01*float64(s.M))))
	var sum float64
	row := make([]float64, s.M)
	for i := 0; i < s.N; i++ {
		copy(row, s.Row(i))
		var mu, sq float64
		for _, v := range row {
			mu += v
		}
		mu /= float64(s.M)
		for _, v := range row {
			sq += (v - mu) * (v - mu)
		}
		sd := math.Sqrt(sq / float64(s.M))
		if !(sd > 0) {
			continue
		}
		slices.Sort(row)
		var t float64
		for _, v := range row[s.M-top:] {
			t += (v - mu) / sd
		}
		sum += t / float64(top)
	}
	return sum / float64(s.N)
}

// pcaWhiten returns the n x d rows x centred, projected on the principal
// components that hold 90% of the variance (at least 2), each divided by
// its standard deviation: every retained direction weighs the same in
// Ward's distances.
func pcaWhiten(x []float32, n, d int) ([]float32, int, error) {
	a := mat.NewDense(n, d, nil)
	for j := 0; j < d; j++ {
		var mu float64
		for i := 0; i < n; i++ {
			mu += float64(x[i*d+j])
		}
		mu /= float64(n)
		for i := 0; i < n; i++ {
			a.Set(i, j, float64(x[i*d+j])-mu)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThinU) {
		return nil, 0, fmt.Errorf("eval: PCA whitening: SVD of %d x %d did not converge", n, d)
	}
	sv := svd.Values(nil)
	var tot float64
	for _, v := range sv {
		tot += v * v
	}
	p, acc := 0, 0.0
	for p < len(sv) && (p < 2 || acc < 0.9*tot) {
		acc += sv[p] * sv[p]
		p++
	}
	var u mat.Dense
	svd.UTo(&u)
	out := make([]float32, n*p)
	for i := 0; i < n; i++ {
		for c := 0; c < p; c++ {
			// Whitened coordinate: U[i,c]·σ_c / σ_c, scaled by sqrt(n).
			out[i*p+c] = float32(u.At(i, c) * math.Sqrt(float64(n)))
		}
	}
	return out, p, nil
}
