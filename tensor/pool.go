package tensor

import (
	"fmt"
	"math"
)

// poolOut is the pooled length of an axis of length in (ceil_mode=False).
func poolOut(op string, in, k, stride, pad int) int {
	if k <= 0 || stride <= 0 || pad < 0 || 2*pad > k {
		panic(fmt.Sprintf("tensor.%s: invalid kernel %d stride %d padding %d (PyTorch requires padding <= kernel/2)", op, k, stride, pad))
	}
	out := (in+2*pad-k)/stride + 1
	if out <= 0 {
		panic(fmt.Sprintf("tensor.%s: input length %d too small for kernel %d", op, in, k))
	}
	return out
}

// MaxPool2d is torch.nn.functional.max_pool2d with a square kernel k,
// stride and zero-width padding treated as -inf (ceil_mode=False,
// dilation 1), on an (H, W, C) or (N, H, W, C) map.
func MaxPool2d(x *Tensor, k, stride, pad int) *Tensor {
	return pool2d("MaxPool2d", x, k, stride, pad, true)
}

// AvgPool2d is torch.nn.functional.avg_pool2d with a square kernel k,
// stride and zero padding, with PyTorch's defaults count_include_pad=True
// and ceil_mode=False (so every window divides by k*k).
func AvgPool2d(x *Tensor, k, stride, pad int) *Tensor {
	return pool2d("AvgPool2d", x, k, stride, pad, false)
}

func pool2d(op string, x *Tensor, k, stride, pad int, isMax bool) *Tensor {
	n, h, w, c := mapDims(op, x)
	oh, ow := poolOut(op, h, k, stride, pad), poolOut(op, w, k, stride, pad)
	y := New(mapShape(x, n, oh, ow, c)...)
	// With ceil_mode=False every window lies inside the padded input, so
	// count_include_pad=True divides by the full window.
	inv := 1 / float32(k*k)
	rows := n * oh
	workers := numWorkers()
	forBlocks(rows, blockFor(rows, 1, workers), workers, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			img, oy := r/oh, r%oh
			for ox := 0; ox < ow; ox++ {
				acc := y.Data[(r*ow+ox)*c : (r*ow+ox+1)*c]
				if isMax {
					for i := range acc {
						acc[i] = float32(math.Inf(-1))
					}
				}
				for iy := max(oy*stride-pad, 0); iy < min(oy*stride-pad+k, h); iy++ {
					for ix := max(ox*stride-pad, 0); ix < min(ox*stride-pad+k, w); ix++ {
						in := x.Data[((img*h+iy)*w+ix)*c : ((img*h+iy)*w+ix+1)*c]
						if isMax {
							for i, v := range in {
								acc[i] = max(acc[i], v)
							}
						} else {
							for i, v := range in {
								acc[i] += v
							}
						}
					}
				}
				if !isMax {
					for i := range acc {
						acc[i] *= inv
					}
				}
			}
		}
	})
	return y
}

// adaptiveBin is PyTorch's adaptive pooling window for output j of m over n
// inputs: floor(j*n/m) .. ceil((j+1)*n/m)-1 inclusive, returned as [lo, hi).
func adaptiveBin(j, n, m int) (lo, hi int) {
	return j * n / m, ((j+1)*n + m - 1) / m
}

// AdaptiveAvgPool2d is torch.nn.functional.adaptive_avg_pool2d to an
// oh x ow grid, on an (H, W, C) or (N, H, W, C) map.
func AdaptiveAvgPool2d(x *Tensor, oh, ow int) *Tensor {
	n, h, w, c := mapDims("AdaptiveAvgPool2d", x)
	y := New(mapShape(x, n, oh, ow, c)...)
	for img := 0; img < n; img++ {
		for oy := 0; oy < oh; oy++ {
			y0, y1 := adaptiveBin(oy, h, oh)
			for ox := 0; ox < ow; ox++ {
				x0, x1 := adaptiveBin(ox, w, ow)
				acc := y.Data[((img*oh+oy)*ow+ox)*c : ((img*oh+oy)*ow+ox+1)*c]
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						in := x.Data[((img*h+iy)*w+ix)*c : ((img*h+iy)*w+ix+1)*c]
						for i, v := range in {
							acc[i] += v
						}
					}
				}
				inv := 1 / float32((y1-y0)*(x1-x0))
				for i := range acc {
					acc[i] *= inv
				}
			}
		}
	}
	return y
}

// AdaptiveAvgPool1d is torch.nn.functional.adaptive_avg_pool1d applied to
// each row of x (shape (..., n)), giving (..., m): output j averages inputs
// floor(j*n/m) .. ceil((j+1)*n/m)-1. PatchCore uses it to project patch
// vectors to a fixed dimension (docs/METHOD.md §3).
func AdaptiveAvgPool1d(x *Tensor, m int) *Tensor {
	rows, n := lastDim("AdaptiveAvgPool1d", x)
	shape := append(append([]int(nil), x.Shape[:len(x.Shape)-1]...), m)
	y := New(shape...)
	lo, hi := make([]int, m), make([]int, m)
	for j := range m {
		lo[j], hi[j] = adaptiveBin(j, n, m)
	}
	workers := numWorkers()
	forBlocks(rows, blockFor(rows, 16, workers), workers, func(_, r0, r1 int) {
		for r := r0; r < r1; r++ {
			in, out := x.Data[r*n:(r+1)*n], y.Data[r*m:(r+1)*m]
			for j := range out {
				var s float32
				for _, v := range in[lo[j]:hi[j]] {
					s += v
				}
				out[j] = s / float32(hi[j]-lo[j])
			}
		}
	})
	return y
}

// GlobalAvgPool averages an (H, W, C) map to (C), or an (N, H, W, C) batch
// to (N, C) (adaptive_avg_pool2d to 1x1, then flatten).
func GlobalAvgPool(x *Tensor) *Tensor {
	n, h, w, c := mapDims("GlobalAvgPool", x)
	y := New(n, c)
	if len(x.Shape) == 3 {
		y = New(c)
	}
	for img := 0; img < n; img++ {
		acc := make([]float64, c)
		for p := 0; p < h*w; p++ {
			for i, v := range x.Data[(img*h*w+p)*c : (img*h*w+p+1)*c] {
				acc[i] += float64(v)
			}
		}
		for i, s := range acc {
			y.Data[img*c+i] = float32(s / float64(h*w))
		}
	}
	return y
}
