// Package xpool turns the weighted patch embeddings of an image into its
// image embedding X. METHOD §5's X is the alpha-weighted mean of the
// patches (Mean); the other kinds add second-order statistics or a
// generalised mean, computed from the same patches and weights, label-free.
package xpool

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/tensor"
)

// Kind names an image descriptor. The three mean+std kinds take an
// optional weight of the std part after a colon ("meanstd-u:0.5": the
// L2-normalised std part scaled by 0.5; default 1). Any kind takes an
// average part after "+avg:" ("meanstd+avg:0.5"): the uniform mean of the
// image's patches (the average mode's X, the whole part's appearance),
// L2-normalised and scaled by the given weight, appended to X (D more
// values); with it a Mean or GeM part is L2-normalised too, so every part has
// the length its weight says.
type Kind string

// avgTag separates a kind from the weight of its average part.
const avgTag = "+avg:"

const (
	// Mean is Σ_m a_m z_m: METHOD §5's X (alpha.ImageEmbeddingsFrom).
	Mean Kind = "mean"
	// MeanStd is [mean / |mean|, std / |std|]: the weighted mean and the
	// weighted standard deviation per channel (around the weighted mean),
	// each part L2-normalised, 2D values.
	MeanStd Kind = "meanstd"
	// MeanStdU is MeanStd with the standard deviation taken with uniform
	// weights (around the uniform mean): the weighted part says what the
	// anomalous patches are, the uniform part the image's texture.
	MeanStdU Kind = "meanstd-u"
	// UMeanStd is MeanStd with a uniform mean and the weighted standard
	// deviation (around the weighted mean).
	UMeanStd Kind = "umean-std"
	// GeM is the weighted generalised mean with p = 3 of the patches
	// clamped at 0: (Σ_m a_m max(z_m, 0)^3)^(1/3) per channel, D values.
	GeM Kind = "gem"
)

// GeMP is the exponent of GeM.
const GeMP = 3

// Kinds lists every kind, Mean first.
func Kinds() []Kind { return []Kind{Mean, MeanStd, MeanStdU, UMeanStd, GeM} }

// Parse returns the kind named s (with its std weight and average part,
// if any).
func Parse(s string) (Kind, error) {
	main, avg, hasAvg := strings.Cut(s, avgTag)
	if hasAvg {
		v, err := strconv.ParseFloat(avg, 64)
		if err != nil || !(v > 0 && v <= 100) {
			return "", fmt.Errorf("x-pool %q: average part's weight %q, want a number in (0, 100]", s, avg)
		}
	}
	base, w, hasW := strings.Cut(main, ":")
	for _, k := range Kinds() {
		if string(k) != base {
			continue
		}
		if hasW {
			if k.Dim(1) != 2 {
				return "", fmt.Errorf("x-pool %q: only the mean+std kinds take a std weight", s)
			}
			v, err := strconv.ParseFloat(w, 64)
			if err != nil || !(v > 0 && v <= 100) {
				return "", fmt.Errorf("x-pool %q: std weight %q, want a number in (0, 100]", s, w)
			}
		}
		return Kind(s), nil
	}
	names := make([]string, 0, len(Kinds()))
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return "", fmt.Errorf("x-pool %q: want one of %s", s, strings.Join(names, ", "))
}

// base is the kind without its std weight and average part.
func (k Kind) base() Kind {
	main, _, _ := strings.Cut(string(k), avgTag)
	b, _, _ := strings.Cut(main, ":")
	return Kind(b)
}

// stdWeight is the weight of the std part (1 unless given).
func (k Kind) stdWeight() float64 {
	main, _, _ := strings.Cut(string(k), avgTag)
	_, w, ok := strings.Cut(main, ":")
	if !ok {
		return 1
	}
	v, _ := strconv.ParseFloat(w, 64) // checked by Parse
	return v
}

// avgWeight is the weight of the average part (0: none).
func (k Kind) avgWeight() float64 {
	_, w, ok := strings.Cut(string(k), avgTag)
	if !ok {
		return 0
	}
	v, _ := strconv.ParseFloat(w, 64) // checked by Parse
	return v
}

// Dim is the length of X for patches of dimension d.
func (k Kind) Dim(d int) int {
	n := d
	switch k.base() {
	case MeanStd, MeanStdU, UMeanStd:
		n = 2 * d
	}
	if k.avgWeight() > 0 {
		n += d
	}
	return n
}

// Embed returns X (N x k.Dim(D)) for every weighting in alphas (each N x M
// row-major, non-negative, summing to a positive value per image; the
// weights are divided by their image's sum), reading each image's patches
// from src once. Mean is alpha.ImageEmbeddingsFrom itself.
func Embed(src alpha.Source, alphas [][]float64, kind Kind, opt alpha.Options) ([]*tensor.Tensor, error) {
	if _, err := Parse(string(kind)); err != nil {
		return nil, err
	}
	if kind == Mean {
		return alpha.ImageEmbeddingsFrom(src, alphas, opt)
	}
	base, stdW, avgW := kind.base(), kind.stdWeight(), kind.avgWeight()
	N := src.Len()
	if N == 0 {
		return nil, fmt.Errorf("xpool: no images")
	}
	M, D, err := alpha.CheckSource("x-pool", src)
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(alphas))
	dim := kind.Dim(D)
	for k, a := range alphas {
		if len(a) != N*M {
			return nil, fmt.Errorf("xpool: %d weights for %d images of %d patches", len(a), N, M)
		}
		out[k] = tensor.New(N, dim)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, N)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]float32, M*D)
			acc := newAccum(D)
			for i := w; i < N; i += workers {
				if opt.Done != nil {
					select {
					case <-opt.Done:
						errs[w] = fmt.Errorf("xpool: %w", alpha.ErrStopped)
						return
					default:
					}
				}
				zi, err := src.Z(i, buf)
				if err != nil {
					errs[w] = fmt.Errorf("xpool: Z of image %d: %w", i, err)
					return
				}
				for k, a := range alphas {
					if err := acc.image(base, stdW, avgW, zi, a[i*M:(i+1)*M], out[k].Data[i*dim:(i+1)*dim]); err != nil {
						errs[w] = fmt.Errorf("xpool: image %d: %w", i, err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// accum holds one worker's per-channel sums.
type accum struct {
	s1, s2, u1, u2 []float64
}

func newAccum(d int) *accum {
	return &accum{make([]float64, d), make([]float64, d), make([]float64, d), make([]float64, d)}
}

// image writes the descriptor of one image (z: M x D, a: M weights) to x:
// the kind's part, then the average part when avgW > 0.
func (ac *accum) image(kind Kind, stdW, avgW float64, z []float32, a []float64, x []float32) error {
	if err := ac.part(kind, stdW, avgW > 0, z, a, x); err != nil {
		return err
	}
	if avgW <= 0 {
		return nil
	}
	D := len(ac.u1)
	clear(ac.u1)
	for m := range len(a) {
		for d, v := range z[m*D : (m+1)*D] {
			ac.u1[d] += float64(v)
		}
	}
	avg := x[len(x)-D:]
	for d, s := range ac.u1 {
		avg[d] = float32(s / float64(len(a)))
	}
	l2(avg)
	for d, v := range avg {
		avg[d] = float32(float64(v) * avgW)
	}
	return nil
}

// part writes the kind's own part of one image's descriptor to the start
// of x; unit: a Mean part is L2-normalised (it has company).
func (ac *accum) part(kind Kind, stdW float64, unit bool, z []float32, a []float64, x []float32) error {
	D := len(ac.s1)
	M := len(a)
	var total float64
	for _, w := range a {
		if !(w >= 0) {
			return fmt.Errorf("weight %v is negative or NaN", w)
		}
		total += w
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return fmt.Errorf("weights sum to %v", total)
	}
	clear(ac.s1)
	clear(ac.s2)
	clear(ac.u1)
	clear(ac.u2)
	if kind == GeM {
		for m, w := range a {
			if w == 0 {
				continue
			}
			w /= total
			for d, v := range z[m*D : (m+1)*D] {
				if v > 0 {
					f := float64(v)
					ac.s1[d] += w * f * f * f
				}
			}
		}
		for d, s := range ac.s1 {
			x[d] = float32(math.Cbrt(s))
		}
		if unit {
			l2(x[:D])
		}
		return nil
	}
	if kind == Mean { // with an average part (Embed gives Mean alone to alpha)
		for m, w := range a {
			w /= total
			for d, v := range z[m*D : (m+1)*D] {
				ac.s1[d] += w * float64(v)
			}
		}
		for d, s := range ac.s1 {
			x[d] = float32(s)
		}
		l2(x[:D])
		return nil
	}
	// Sums of z and z² with the weights and uniformly (float64; the
	// variance E[z²]-E[z]² is clamped at 0 against rounding).
	for m, w := range a {
		w /= total
		for d, v := range z[m*D : (m+1)*D] {
			f := float64(v)
			ac.s1[d] += w * f
			ac.s2[d] += w * f * f
			ac.u1[d] += f
			ac.u2[d] += f * f
		}
	}
	inv := 1 / float64(M)
	mean, std := x[:D], x[D:2*D]
	for d := range D {
		wm, um := ac.s1[d], ac.u1[d]*inv
		wv := max(ac.s2[d]-wm*wm, 0)
		uv := max(ac.u2[d]*inv-um*um, 0)
		switch kind {
		case MeanStd:
			mean[d], std[d] = float32(wm), float32(math.Sqrt(wv))
		case MeanStdU:
			mean[d], std[d] = float32(wm), float32(math.Sqrt(uv))
		case UMeanStd:
			mean[d], std[d] = float32(um), float32(math.Sqrt(wv))
		}
	}
	l2(mean)
	l2(std)
	if stdW != 1 {
		for d, v := range std {
			std[d] = float32(float64(v) * stdW)
		}
	}
	return nil
}

// l2 scales v to unit length (left as is when it is all zero).
func l2(v []float32) {
	var s float64
	for _, f := range v {
		s += float64(f) * float64(f)
	}
	if !(s > 0) {
		return
	}
	inv := 1 / math.Sqrt(s)
	for i, f := range v {
		v[i] = float32(float64(f) * inv)
	}
}
