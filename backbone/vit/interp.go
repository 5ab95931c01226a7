package vit

import (
	"math"

	"github.com/anomclust/anomclust/tensor"
)

// resizeBicubicAA resamples an (H, W, C) map to oh x ow like
// torch.nn.functional.interpolate(x, size=(oh, ow), mode="bicubic",
// antialias=True, align_corners=False), which the DINOv2 register models use
// for their position embeddings. sh, sw > 0 stand for scale_factor= (the
// source scale is then 1/sh, as in torch); zero means size=.
//
// PyTorch's antialiased path (aten/src/ATen/native/cpu/UpSampleKernel.cpp,
// _compute_weights_aa) is Pillow's separable resampling: for output i the
// centre is scale*(i+0.5), the filter support 2*max(scale, 1) input pixels
// either side, taps xmin = max(int(centre-support+0.5), 0) up to
// min(int(centre+support+0.5), in), weights Keys' cubic with a = -0.5
// (not the -0.75 of the plain bicubic) evaluated at
// (j+xmin-centre+0.5)/max(scale, 1), normalised to sum 1. Width is
// resampled first, then height, each only when its size changes.
func resizeBicubicAA(x *tensor.Tensor, oh, ow int, sh, sw float64) *tensor.Tensor {
	h, w, c := x.Shape[0], x.Shape[1], x.Shape[2]
	y := x
	if ow != w {
		taps := aaTaps(w, ow, sw)
		t := tensor.New(h, ow, c)
		for r := 0; r < h; r++ {
			for o := 0; o < ow; o++ {
				dst := t.Data[(r*ow+o)*c : (r*ow+o+1)*c]
				for k, j := range taps.idx[o] {
					wt := taps.wt[o][k]
					src := y.Data[(r*w+j)*c : (r*w+j+1)*c]
					for ch, v := range src {
						dst[ch] += wt * v
					}
				}
			}
		}
		y = t
	}
	if oh != h {
		taps := aaTaps(h, oh, sh)
		t := tensor.New(oh, ow, c)
		for o := 0; o < oh; o++ {
			dst := t.Data[o*ow*c : (o+1)*ow*c]
			for k, j := range taps.idx[o] {
				wt := taps.wt[o][k]
				src := y.Data[j*ow*c : (j+1)*ow*c]
				for i, v := range src {
					dst[i] += wt * v
				}
			}
		}
		y = t
	}
	if y == x {
		y = x.Clone()
	}
	return y
}

// aaTaps are, for each output index, the input indices and normalised
// weights of the antialiased bicubic filter along one axis.
type aaTapList struct {
	idx [][]int
	wt  [][]float32
}

func aaTaps(in, out int, scaleFactor float64) aaTapList {
	scale := float64(in) / float64(out)
	if scaleFactor > 0 {
		scale = 1 / scaleFactor
	}
	support, invscale := 2.0, 1.0
	if scale >= 1 {
		support, invscale = 2*scale, 1/scale
	}
	var t aaTapList
	for i := 0; i < out; i++ {
		center := scale * (float64(i) + 0.5)
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), in)
		var idx []int
		var wt []float64
		var total float64
		for j := xmin; j < xmax; j++ {
			v := cubicAA((float64(j) - center + 0.5) * invscale)
			idx, wt = append(idx, j), append(wt, v)
			total += v
		}
		w32 := make([]float32, len(wt))
		for k, v := range wt {
			if total != 0 {
				v /= total
			}
			w32[k] = float32(v)
		}
		t.idx, t.wt = append(t.idx, idx), append(t.wt, w32)
	}
	return t
}

// cubicAA is Keys' cubic convolution kernel with a = -0.5 (PyTorch's
// aa_filter for bicubic, as Pillow's).
func cubicAA(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}
