// Package bench measures anomclust's speed against reference
// implementations and reports ratios measured inside one run: the
// unsupervised patch scores against a PyTorch torch.cdist loop (Alpha), a
// backbone's feature extraction against the same architecture in PyTorch
// (Backbone), SGEMM against OpenBLAS (GEMM), the fused nearest-neighbour
// kernel against the GEMM of its shape (NN), and a whole run's time and
// memory against the number of images (Scale). The Python references are
// embedded files (py/*.py) run with the interpreter the caller names; an
// empty interpreter skips them.
//
// The machine these figures come from is usually shared, so the
// measurements print CPU time, interleave or alternate their repetitions
// where wall time alone would mislead. cmd/anomclust's `bench` targets only
// parse flags and call this package.
package bench

import (
	_ "embed"
	"slices"
)

// DefaultPython is the interpreter the PyTorch references run with unless
// the caller names another.
const DefaultPython = "/usr/bin/python3"

// alphaPy is the PyTorch reference of Alpha; see its header comment.
//
//go:embed py/bench_alpha.py
var alphaPy []byte

// backbonePy is the PyTorch reference of Backbone; see its header comment.
//
//go:embed py/bench_backbone.py
var backbonePy string

// median is the median of xs (xs not empty).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
