// Package patchfeat turns a backbone's feature maps into PatchCore patch
// embeddings: one D-dimensional vector per position of the first layer's
// grid (docs/METHOD.md §3; Roth et al., CVPR 2022, and
// patchcore-inspection's PatchCore._embed).
//
// For every layer: (optionally) the seed's per-image LayerNorm, a p x p
// neighbourhood unfold (PatchMaker.patchify), a bilinear resize of the
// unfolded patches to the first layer's grid, and an adaptive average pool of
// each patch vector to the pretrain dimension (common.MeanMapper). The layers'
// pooled vectors are then concatenated and pooled again to the target
// dimension (common.Aggregator).
//
// Every step after the LayerNorm is linear, and the resize acts on each
// (channel, window offset) plane alike, so it commutes with the per-layer
// pooling: this package pools each later layer at its own resolution and
// then resizes the pooled vectors. That is the same result as PatchCore's
// order (up to float32 rounding) at a fraction of the memory: PatchCore
// materialises C*p*p planes of the first layer's grid.
//
// A later layer finer than the first (e.g. taps stride8, stride16, stride4:
// the grid stays the stride-8 one) whose sides are whole multiples of the
// grid's is averaged over each block of its positions that falls on one
// grid cell, instead of resized bilinearly: PatchCore never orders its
// layers so, and a bilinear downsample by f reads only 2 x 2 of every f x f
// block (aliasing), where the block mean keeps all of the finer layer.
package patchfeat

import (
	"fmt"
	"math"
	"runtime"

	"github.com/anomclust/anomclust/internal/parallel"
	"github.com/anomclust/anomclust/tensor"
)

// Options are the aggregation settings; every one changes Z.
type Options struct {
	// PatchSize is the side of the unfold neighbourhood (PatchCore's
	// patchsize, stride 1, zero padding (PatchSize-1)/2). 0 means 3.
	PatchSize int
	// PretrainDim is the length each layer's C*p*p patch vector is pooled to
	// (PatchCore's pretrain_embed_dimension).
	PretrainDim int
	// TargetDim is D, the length the concatenated L*PretrainDim vector is
	// pooled to (PatchCore's target_embed_dimension).
	TargetDim int
	// LayerNorm applies the seed's quirk: LayerNorm([C, H, W]) without
	// affine parameters, eps 1e-5, to each layer's whole map before
	// patchifying (one mean and variance per map). Off in PatchCore.
	LayerNorm bool
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
}

// LayerNormEps is the epsilon of the seed's LayerNorm (torch's default).
const LayerNormEps = 1e-5

// PatchEmbeddings computes Z for one image from its layer maps, each
// channels-last (H_l, W_l, C_l). The first layer fixes the grid: Z has shape
// (M, TargetDim) with M = H'*W' the number of p x p windows of the first
// map (H' = H_1 + 2*pad - p + 1; so M = H_1*W_1 for odd p), row-major over
// (y, x). The maps are not modified.
func PatchEmbeddings(maps []*tensor.Tensor, opt Options) (*tensor.Tensor, error) {
	p := opt.PatchSize
	if p == 0 {
		p = 3
	}
	if p < 0 {
		return nil, fmt.Errorf("patchfeat: patch size %d", p)
	}
	if opt.PretrainDim <= 0 || opt.TargetDim <= 0 {
		return nil, fmt.Errorf("patchfeat: pretrain dim %d and target dim %d must be positive", opt.PretrainDim, opt.TargetDim)
	}
	if len(maps) == 0 {
		return nil, fmt.Errorf("patchfeat: no feature maps")
	}
	pad := (p - 1) / 2
	for l, m := range maps {
		if m == nil || len(m.Shape) != 3 || len(m.Data) != tensor.Numel(m.Shape) {
			return nil, fmt.Errorf("patchfeat: layer %d: want a (H, W, C) map, got shape %v", l, shapeOf(m))
		}
		if gh, gw := GridSize(m.Shape[0], m.Shape[1], p); gh <= 0 || gw <= 0 {
			return nil, fmt.Errorf("patchfeat: layer %d: map %v too small for patch size %d", l, m.Shape, p)
		}
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	gh, gw := GridSize(maps[0].Shape[0], maps[0].Shape[1], p)
	M := gh * gw
	L := len(maps)
	pre := opt.PretrainDim
	// stacked is Preprocessing's output, (M, L, pretrain) flattened per row.
	stacked := make([]float32, M*L*pre)
	for l, m := range maps {
		x := m
		if opt.LayerNorm {
			x = layerNormAll(m, LayerNormEps)
		}
		h, w := GridSize(x.Shape[0], x.Shape[1], p)
		if l == 0 {
			pooledPatches(x, p, pad, pre, stacked, L*pre, 0, workers)
			continue
		}
		src := make([]float32, h*w*pre)
		pooledPatches(x, p, pad, pre, src, pre, 0, workers)
		if h%gh == 0 && w%gw == 0 && h*w > gh*gw {
			// A finer later layer: the mean of each block (see the
			// package comment).
			areaPool(src, h, w, pre, stacked, gh, gw, L*pre, l*pre)
			continue
		}
		resizeBilinear(src, h, w, pre, stacked, gh, gw, L*pre, l*pre, workers)
	}
	D := opt.TargetDim
	if D == L*pre {
		// adaptive_avg_pool1d to the same length is the identity.
		return tensor.From(stacked, M, D), nil
	}
	z := make([]float32, M*D)
	bins := adaptiveBins(L*pre, D)
	parallel.Range(M, workers, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			poolRow(stacked[r*L*pre:(r+1)*L*pre], bins, z[r*D:(r+1)*D])
		}
	})
	return tensor.From(z, M, D), nil
}

// GridSize is the number of p x p windows (stride 1, zero padding
// (p-1)/2) along each side of an h x w map: the grid of Z's rows when the
// map is the first layer's. Odd p keeps the map's size.
func GridSize(h, w, patchSize int) (gh, gw int) {
	pad := (patchSize - 1) / 2
	return h + 2*pad - patchSize + 1, w + 2*pad - patchSize + 1
}

func shapeOf(t *tensor.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}

// bin is one output of adaptive_avg_pool1d: the mean of in[start:end].
type bin struct{ start, end int }

// adaptiveBins returns the input ranges of adaptive_avg_pool1d(n -> m), as
// PyTorch's start_index/end_index compute them: output j averages
// floor(j*n/m) .. ceil((j+1)*n/m)-1.
func adaptiveBins(n, m int) []bin {
	bins := make([]bin, m)
	for j := range bins {
		bins[j] = bin{start: j * n / m, end: ((j+1)*n + m - 1) / m}
	}
	return bins
}

// poolRow applies adaptive_avg_pool1d with precomputed bins: out[j] is the
// float32 sum of its bin divided by the bin length, as PyTorch's CPU kernel
// does (sum / kw).
func poolRow(in []float32, bins []bin, out []float32) {
	for j, b := range bins {
		var s float32
		for _, v := range in[b.start:b.end] {
			s += v
		}
		out[j] = s / float32(b.end-b.start)
	}
}

// pooledPatches unfolds the (H, W, C) map x into p x p windows (stride 1,
// zero padding pad) and writes, for window position r (row-major over the
// H' x W' grid), the pooled vector adaptive_avg_pool1d(unfold, pre) to
// out[r*stride+off : r*stride+off+pre]. The unfold vector is ordered as
// torch.nn.Unfold's: index c*p*p + dy*p + dx.
func pooledPatches(x *tensor.Tensor, p, pad, pre int, out []float32, stride, off, workers int) {
	H, W, C := x.Shape[0], x.Shape[1], x.Shape[2]
	gh, gw := H+2*pad-p+1, W+2*pad-p+1
	pp := p * p
	n := C * pp
	bins := adaptiveBins(n, pre)
	parallel.Range(gh, workers, func(lo, hi int) {
		v := make([]float32, n)
		for y := lo; y < hi; y++ {
			for xx := 0; xx < gw; xx++ {
				for dy := 0; dy < p; dy++ {
					sy := y + dy - pad
					for dx := 0; dx < p; dx++ {
						sx := xx + dx - pad
						k := dy*p + dx
						if sy < 0 || sy >= H || sx < 0 || sx >= W {
							for c := 0; c < C; c++ {
								v[c*pp+k] = 0
							}
							continue
						}
						src := x.Data[(sy*W+sx)*C : (sy*W+sx+1)*C]
						for c, val := range src {
							v[c*pp+k] = val
						}
					}
				}
				r := y*gw + xx
				poolRow(v, bins, out[r*stride+off:r*stride+off+pre])
			}
		}
	})
}

// linearTaps returns, for each of the out positions of a 1-D linear resize
// from in samples, the two source indices and their weights, as PyTorch's
// upsample_bilinear2d computes them with align_corners=False in float32:
// src = (in/out)*(dst+0.5) - 0.5 clamped at 0, i0 = floor(src),
// i1 = min(i0+1, in-1), weights 1-λ and λ with λ = src - i0.
func linearTaps(in, out int) (i0, i1 []int, w0, w1 []float32) {
	i0, i1 = make([]int, out), make([]int, out)
	w0, w1 = make([]float32, out), make([]float32, out)
	scale := float32(in) / float32(out)
	for d := 0; d < out; d++ {
		src := scale*(float32(d)+0.5) - 0.5
		if src < 0 {
			src = 0
		}
		a := int(src)
		lam := src - float32(a)
		lam = float32(math.Min(math.Max(float64(lam), 0), 1))
		b := a
		if a < in-1 {
			b = a + 1
		}
		i0[d], i1[d], w0[d], w1[d] = a, b, 1-lam, lam
	}
	return i0, i1, w0, w1
}

// resizeBilinear resizes the (h, w, ch) grid of vectors src to (oh, ow) with
// F.interpolate(mode="bilinear", align_corners=False), each vector component
// being one plane, and writes output position r's vector to
// dst[r*stride+off : r*stride+off+ch].
func resizeBilinear(src []float32, h, w, ch int, dst []float32, oh, ow, stride, off, workers int) {
	y0, y1, hy0, hy1 := linearTaps(h, oh)
	x0, x1, wx0, wx1 := linearTaps(w, ow)
	parallel.Range(oh, workers, func(lo, hi int) {
		for oy := lo; oy < hi; oy++ {
			r0 := src[y0[oy]*w*ch : (y0[oy]+1)*w*ch]
			r1 := src[y1[oy]*w*ch : (y1[oy]+1)*w*ch]
			a0, a1 := hy0[oy], hy1[oy]
			for ox := 0; ox < ow; ox++ {
				c0, c1 := x0[ox]*ch, x1[ox]*ch
				b0, b1 := wx0[ox], wx1[ox]
				o := dst[(oy*ow+ox)*stride+off : (oy*ow+ox)*stride+off+ch]
				p00, p01 := r0[c0:c0+ch], r0[c1:c1+ch]
				p10, p11 := r1[c0:c0+ch], r1[c1:c1+ch]
				for c := range o {
					o[c] = a0*(b0*p00[c]+b1*p01[c]) + a1*(b0*p10[c]+b1*p11[c])
				}
			}
		}
	})
}

// layerNormAll returns a normalised copy of the map: torch's
// F.layer_norm(x, x.shape) without affine parameters, one mean and one
// biased variance over all of it (tensor.LayerNormAll, which works in place).
func layerNormAll(x *tensor.Tensor, eps float64) *tensor.Tensor {
	y := tensor.From(append([]float32(nil), x.Data...), x.Shape...)
	tensor.LayerNormAll(y, eps)
	return y
}

// areaPool writes the mean of each (h/oh) x (w/ow) block of src (h, w, ch
// channels-last) to dst's row of that block's grid cell (oh x ow cells,
// rows of the given stride, values from offset off).
func areaPool(src []float32, h, w, ch int, dst []float32, oh, ow, stride, off int) {
	fy, fx := h/oh, w/ow
	inv := 1 / float32(fy*fx)
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			d := dst[(y*ow+x)*stride+off : (y*ow+x)*stride+off+ch]
			for i := range d {
				d[i] = 0
			}
			for dy := 0; dy < fy; dy++ {
				for dx := 0; dx < fx; dx++ {
					s := src[((y*fy+dy)*w+x*fx+dx)*ch:][:ch]
					for i, v := range s {
						d[i] += v
					}
				}
			}
			for i := range d {
				d[i] *= inv
			}
		}
	}
}
