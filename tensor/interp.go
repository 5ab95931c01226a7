package tensor

import (
	"fmt"
	"math"
)

// Interpolation selects the filter of Resize.
type Interpolation int

const (
	// Bilinear is mode="bilinear".
	Bilinear Interpolation = iota
	// Bicubic is mode="bicubic" (Keys cubic convolution, A = -0.75).
	Bicubic
)

// Resize resamples an (H, W, C) or (N, H, W, C) map to oh x ow like
// torch.nn.functional.interpolate(x, size=(oh, ow), mode=..., align_corners=False)
// without antialiasing (PyTorch's default), up or down.
func Resize(x *Tensor, oh, ow int, mode Interpolation) *Tensor {
	return resize(x, oh, ow, 0, 0, mode)
}

// ResizeScale is torch.nn.functional.interpolate(x, scale_factor=(sh, sw),
// mode=..., align_corners=False) with recompute_scale_factor unset: the
// output is floor(H*sh) x floor(W*sw) but source coordinates use 1/sh and
// 1/sw, not H/oh. DINO's interpolate_pos_encoding relies on this (hence its
// +0.1 offset).
func ResizeScale(x *Tensor, sh, sw float64, mode Interpolation) *Tensor {
	_, h, w, _ := mapDims("ResizeScale", x)
	return resize(x, int(math.Floor(float64(h)*sh)), int(math.Floor(float64(w)*sw)), sh, sw, mode)
}

// axisTaps holds, for every output index, the input indices and weights of
// its taps (2 for bilinear, 4 for bicubic) along one axis.
type axisTaps struct {
	n   int // taps per output
	idx []int
	wt  []float32
}

// sourceScale is PyTorch's area_pixel_compute_scale for align_corners=False.
func sourceScale(in, out int, scale float64) float64 {
	if scale > 0 {
		return 1 / scale
	}
	return float64(in) / float64(out)
}

// linearTaps mirrors PyTorch's linear upsampling indices: source
// scale*(dst+0.5)-0.5 clamped at 0, right neighbour clamped at the edge.
func linearTaps(in, out int, scale float64) axisTaps {
	t := axisTaps{n: 2, idx: make([]int, 2*out), wt: make([]float32, 2*out)}
	s := sourceScale(in, out, scale)
	for i := 0; i < out; i++ {
		src := max(s*(float64(i)+0.5)-0.5, 0)
		i0 := int(src)
		l1 := src - float64(i0)
		i1 := i0
		if i0 < in-1 {
			i1++
		}
		t.idx[2*i], t.idx[2*i+1] = i0, i1
		t.wt[2*i], t.wt[2*i+1] = float32(1-l1), float32(l1)
	}
	return t
}

// cubicTaps mirrors PyTorch's upsample_bicubic2d: source
// scale*(dst+0.5)-0.5 (not clamped), taps floor(src)-1 .. floor(src)+2
// clamped to the border, Keys weights with A = -0.75.
func cubicTaps(in, out int, scale float64) axisTaps {
	const a = -0.75
	t := axisTaps{n: 4, idx: make([]int, 4*out), wt: make([]float32, 4*out)}
	s := sourceScale(in, out, scale)
	conv1 := func(x float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }   // |x| <= 1
	conv2 := func(x float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a } // 1 < |x| < 2
	for i := 0; i < out; i++ {
		src := s*(float64(i)+0.5) - 0.5
		f := math.Floor(src)
		x := src - f
		w := [4]float64{conv2(x + 1), conv1(x), conv1(1 - x), conv2(2 - x)}
		for j := 0; j < 4; j++ {
			t.idx[4*i+j] = min(max(int(f)-1+j, 0), in-1)
			t.wt[4*i+j] = float32(w[j])
		}
	}
	return t
}

func resize(x *Tensor, oh, ow int, sh, sw float64, mode Interpolation) *Tensor {
	n, h, w, c := mapDims("Resize", x)
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("tensor.Resize: output size %dx%d", oh, ow))
	}
	var ty, tx axisTaps
	switch mode {
	case Bilinear:
		ty, tx = linearTaps(h, oh, sh), linearTaps(w, ow, sw)
	case Bicubic:
		ty, tx = cubicTaps(h, oh, sh), cubicTaps(w, ow, sw)
	default:
		panic(fmt.Sprintf("tensor.Resize: unknown interpolation %d", mode))
	}
	y := New(mapShape(x, n, oh, ow, c)...)
	rows := n * oh
	workers := numWorkers()
	forBlocks(rows, blockFor(rows, 1, workers), workers, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			img, oy := r/oh, r%oh
			for ox := 0; ox < ow; ox++ {
				acc := y.Data[(r*ow+ox)*c : (r*ow+ox+1)*c]
				for j := 0; j < ty.n; j++ {
					iy, wy := ty.idx[oy*ty.n+j], ty.wt[oy*ty.n+j]
					for i := 0; i < tx.n; i++ {
						ix, wx := tx.idx[ox*tx.n+i], tx.wt[ox*tx.n+i]
						wgt := wy * wx
						in := x.Data[((img*h+iy)*w+ix)*c : ((img*h+iy)*w+ix+1)*c]
						for k, v := range in {
							acc[k] += wgt * v
						}
					}
				}
			}
		}
	})
	return y
}
