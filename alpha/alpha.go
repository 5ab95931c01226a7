package alpha

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/anomclust/anomclust/tensor"
)

// Alpha returns the patch weights for temperature tau, (N x M) row-major:
// alpha_i^m = exp(s_i^m/tau) / sum_m' exp(s_i^m'/tau), computed in float64
// with the row maximum subtracted first (torch.softmax's stabilisation).
// tau = 0 is the hard arg-max: weight 1 on every patch whose score equals
// the row maximum exactly, then normalised. Each row sums to 1.
func Alpha(s *Scores, tau float64) ([]float64, error) {
	if tau < 0 || math.IsNaN(tau) || math.IsInf(tau, 0) {
		return nil, fmt.Errorf("alpha: temperature tau = %v must be finite and >= 0", tau)
	}
	if s == nil || len(s.S) != s.N*s.M || s.M == 0 {
		return nil, fmt.Errorf("alpha: malformed scores")
	}
	a := make([]float64, len(s.S))
	for i := 0; i < s.N; i++ {
		row, out := s.Row(i), a[i*s.M:(i+1)*s.M]
		mx := math.Inf(-1)
		for _, v := range row {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("alpha: score of image %d is NaN", i)
			}
			mx = max(mx, v)
		}
		var sum float64
		for m, v := range row {
			var e float64
			if tau == 0 {
				if v == mx {
					e = 1
				}
			} else {
				e = math.Exp((v - mx) / tau)
			}
			out[m] = e
			sum += e
		}
		for m := range out {
			out[m] /= sum
		}
	}
	return a, nil
}

// AlphaSweep returns Alpha(s, tau) for every tau (the scores, the expensive
// part, are shared).
func AlphaSweep(s *Scores, taus []float64) ([][]float64, error) {
	out := make([][]float64, len(taus))
	for k, tau := range taus {
		a, err := Alpha(s, tau)
		if err != nil {
			return nil, err
		}
		out[k] = a
	}
	return out, nil
}

// ImageEmbeddings returns X, (N x D) float32: X_i = sum_m alpha_i^m z_i^m,
// the alpha-weighted sum of image i's patch embeddings (docs/METHOD.md §4),
// accumulated in float64. z holds N (M, D) matrices; alpha is (N x M)
// row-major as Alpha returns it.
func ImageEmbeddings(z []*tensor.Tensor, alpha []float64) (*tensor.Tensor, error) {
	if len(z) == 0 {
		return nil, fmt.Errorf("alpha: no images")
	}
	M, D, err := checkZ("embeddings", z)
	if err != nil {
		return nil, err
	}
	N := len(z)
	if len(alpha) != N*M {
		return nil, fmt.Errorf("alpha: %d weights for %d images of %d patches", len(alpha), N, M)
	}
	x := tensor.New(N, D)
	workers := min(runtime.GOMAXPROCS(0), N)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			acc := make([]float64, D)
			for i := w; i < N; i += workers {
				clear(acc)
				zi := z[i].Data
				for m, a := range alpha[i*M : (i+1)*M] {
					if a == 0 { // tau = 0 leaves most weights at exactly 0
						continue
					}
					for d, v := range zi[m*D : (m+1)*D] {
						acc[d] += a * float64(v)
					}
				}
				xi := x.Data[i*D : (i+1)*D]
				for d, v := range acc {
					xi[d] = float32(v)
				}
			}
		}(w)
	}
	wg.Wait()
	return x, nil
}
