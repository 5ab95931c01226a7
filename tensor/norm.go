package tensor

import (
	"fmt"
	"math"
)

// LayerNorm is torch.nn.LayerNorm over the last dimension with an affine
// weight and bias: y = (x - mean)/sqrt(var + eps)*weight + bias, with the
// biased variance. ViT uses eps 1e-6.
type LayerNorm struct {
	Weight, Bias []float32
	Eps          float64
}

// NewLayerNorm checks that weight and bias have the same length (the
// normalised dimension) and returns the layer.
func NewLayerNorm(weight, bias []float32, eps float64) (*LayerNorm, error) {
	if len(weight) == 0 || len(weight) != len(bias) {
		return nil, fmt.Errorf("layernorm: weight has %d values, bias %d", len(weight), len(bias))
	}
	return &LayerNorm{Weight: weight, Bias: bias, Eps: eps}, nil
}

// Forward normalises each row of x (shape (..., D)) and returns a new tensor.
func (ln *LayerNorm) Forward(x *Tensor) *Tensor {
	rows, d := lastDim("LayerNorm.Forward", x)
	if d != len(ln.Weight) {
		panic(fmt.Sprintf("tensor.LayerNorm.Forward: last dim %d, layer has %d", d, len(ln.Weight)))
	}
	y := New(x.Shape...)
	ln.rows(y, x, rows, d)
	return y
}

// ForwardInto is Forward writing into dst (x's size) instead of a new
// tensor; dst may be x itself.
func (ln *LayerNorm) ForwardInto(dst, x *Tensor) {
	rows, d := lastDim("LayerNorm.ForwardInto", x)
	if d != len(ln.Weight) || len(dst.Data) != len(x.Data) {
		panic(fmt.Sprintf("tensor.LayerNorm.ForwardInto: x %v, dst %v, layer has %d", x.Shape, dst.Shape, len(ln.Weight)))
	}
	ln.rows(dst, x, rows, d)
}

func (ln *LayerNorm) rows(y, x *Tensor, rows, d int) {
	workers := numWorkers()
	forBlocks(rows, blockFor(rows, 16, workers), workers, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			layerNormRow(y.Data[r*d:(r+1)*d], x.Data[r*d:(r+1)*d], ln.Weight, ln.Bias, ln.Eps, true)
		}
	})
}

// meanInvStd returns the mean of v and 1/sqrt(var + eps) (biased variance),
// accumulated in float64 in two passes so long rows lose no precision.
func meanInvStd(v []float32, eps float64) (mean, invStd float32) {
	var s float64
	for _, a := range v {
		s += float64(a)
	}
	m := s / float64(len(v))
	var ss float64
	for _, a := range v {
		t := float64(a) - m
		ss += t * t
	}
	return float32(m), float32(1 / math.Sqrt(ss/float64(len(v))+eps))
}

// LayerNormAll normalises, in place, each image of an (H, W, C) or
// (N, H, W, C) map with one mean and one variance over the whole image and
// no affine parameters: the seed's LayerNorm([C, H, W]) applied to each
// layer's feature map (docs/METHOD.md §2; eps 1e-5 there).
func LayerNormAll(x *Tensor, eps float64) {
	n, h, w, c := mapDims("LayerNormAll", x)
	size := h * w * c
	for i := 0; i < n; i++ {
		img := x.Data[i*size : (i+1)*size]
		mean, inv := meanInvStd(img, eps)
		apply(img, func(v []float32) {
			for j, a := range v {
				v[j] = (a - mean) * inv
			}
		})
	}
}

// Softmax replaces each row of x (over the last dimension) by its softmax,
// in place, subtracting the row maximum first for stability
// (torch.softmax(x, dim=-1)).
func Softmax(x *Tensor) {
	rows, d := lastDim("Softmax", x)
	workers := numWorkers()
	forBlocks(rows, blockFor(rows, 16, workers), workers, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			softmaxRow(x.Data[r*d:(r+1)*d], 1)
		}
	})
}
