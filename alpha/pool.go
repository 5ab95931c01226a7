package alpha

import (
	"fmt"
	"math"
	"slices"
)

// TopK returns patch weights that need no temperature: each image's
// ceil(frac·M) highest-scoring patches get equal weight (UniFormaly's
// top-k pooling), ties at the threshold included. Rows sum to 1.
func TopK(s *Scores, frac float64) ([]float64, error) {
	if !(frac > 0 && frac <= 1) {
		return nil, fmt.Errorf("alpha: top-k fraction %v not in (0, 1]", frac)
	}
	if s == nil || len(s.S) != s.N*s.M || s.M == 0 {
		return nil, fmt.Errorf("alpha: malformed scores")
	}
	k := max(1, int(math.Ceil(frac*float64(s.M))))
	a := make([]float64, len(s.S))
	sorted := make([]float64, s.M)
	for i := 0; i < s.N; i++ {
		row := s.Row(i)
		copy(sorted, row)
		slices.Sort(sorted)
		if math.IsNaN(sorted[0]) || math.IsNaN(sorted[s.M-1]) {
			return nil, fmt.Errorf("alpha: score of image %d is NaN", i)
		}
		th := sorted[s.M-k]
		out := a[i*s.M : (i+1)*s.M]
		n := 0
		for m, v := range row {
			if v >= th {
				out[m] = 1
				n++
			}
		}
		for m := range out {
			out[m] /= float64(n)
		}
	}
	return a, nil
}

// EffectiveTemperature returns softmax weights with a temperature set per
// image so that the weights' effective number of patches, exp(entropy),
// is frac·M (clamped to [1, M]): no temperature to tune per data set, and
// an image whose scores are spread out gets a wider temperature than one
// with a sharp peak. The temperature is found by bisection on log tau.
func EffectiveTemperature(s *Scores, frac float64) ([]float64, error) {
	if !(frac > 0 && frac <= 1) {
		return nil, fmt.Errorf("alpha: effective fraction %v not in (0, 1]", frac)
	}
	if s == nil || len(s.S) != s.N*s.M || s.M == 0 {
		return nil, fmt.Errorf("alpha: malformed scores")
	}
	target := math.Log(max(1, frac*float64(s.M)))
	a := make([]float64, len(s.S))
	for i := 0; i < s.N; i++ {
		row := s.Row(i)
		mx, mn := math.Inf(-1), math.Inf(1)
		for _, v := range row {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("alpha: score of image %d is NaN", i)
			}
			mx, mn = max(mx, v), min(mn, v)
		}
		out := a[i*s.M : (i+1)*s.M]
		if mx-mn <= 0 {
			for m := range out {
				out[m] = 1 / float64(s.M)
			}
			continue
		}
		// entropy(tau) grows from log(#max) at tau -> 0 to log M.
		lo, hi := math.Log((mx-mn)*1e-6), math.Log((mx-mn)*1e3)
		for range 60 {
			mid := (lo + hi) / 2
			if softmaxEntropy(row, mx, math.Exp(mid), out) < target {
				lo = mid
			} else {
				hi = mid
			}
		}
		softmaxEntropy(row, mx, math.Exp((lo+hi)/2), out)
	}
	return a, nil
}

// softmaxEntropy writes softmax(row/tau) into out and returns its entropy.
func softmaxEntropy(row []float64, mx, tau float64, out []float64) float64 {
	var sum float64
	for m, v := range row {
		e := math.Exp((v - mx) / tau)
		out[m] = e
		sum += e
	}
	var h float64
	for m := range out {
		out[m] /= sum
		if p := out[m]; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return h
}

// Standardize returns the scores as z-scores against a reference
// distribution: (s - mean) / std of ref's scores (all patches of all
// reference images), so that a fixed temperature means the same in every
// data set. A constant reference leaves the scores shifted only.
func Standardize(s, ref *Scores) *Scores {
	mean, std := MeanStd(ref)
	return StandardizeWith(s, mean, std)
}

// MeanStd is the mean and (population) standard deviation of all of s's
// scores, the statistics Standardize uses; std is 1 when the scores are
// constant (or empty).
func MeanStd(s *Scores) (mean, std float64) {
	var sum, sq float64
	for _, v := range s.S {
		sum += v
	}
	mean = sum / float64(len(s.S))
	for _, v := range s.S {
		sq += (v - mean) * (v - mean)
	}
	std = math.Sqrt(sq / float64(len(s.S)))
	if !(std > 0) {
		std = 1
	}
	if len(s.S) == 0 {
		mean = 0
	}
	return mean, std
}

// StandardizeWith returns (s - mean) / std, e.g. new images' scores
// standardised with the statistics (MeanStd) of the set they are placed in.
func StandardizeWith(s *Scores, mean, std float64) *Scores {
	if !(std > 0) {
		std = 1
	}
	out := &Scores{N: s.N, M: s.M, S: make([]float64, len(s.S))}
	for k, v := range s.S {
		out.S[k] = (v - mean) / std
	}
	return out
}

// StandardizeRows returns each image's scores as z-scores over its own
// patches, (s - mean_i) / std_i: a temperature then counts in standard
// deviations of the image's score spread, whatever the set's distance scale.
func StandardizeRows(s *Scores) *Scores {
	out := &Scores{N: s.N, M: s.M, S: make([]float64, len(s.S))}
	for i := 0; i < s.N; i++ {
		row := s.Row(i)
		var sum, sq float64
		for _, v := range row {
			sum += v
		}
		mean := sum / float64(s.M)
		for _, v := range row {
			sq += (v - mean) * (v - mean)
		}
		std := math.Sqrt(sq / float64(s.M))
		if !(std > 0) {
			std = 1
		}
		o := out.Row(i)
		for m, v := range row {
			o[m] = (v - mean) / std
		}
	}
	return out
}
