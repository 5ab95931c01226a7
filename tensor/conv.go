package tensor

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/anomclust/anomclust/gemm"
)

// ConvSpec is the geometry of a 2-D convolution, as the arguments of
// torch.nn.Conv2d. Zero Stride, Groups and Dilation mean 1.
type ConvSpec struct {
	InC, OutC int // input and output channels
	KH, KW    int // kernel height and width
	Stride    int
	Pad       int // zero padding on every side (PyTorch padding=)
	// SamePad selects TensorFlow/TFLite "SAME" padding instead of Pad:
	// output ceil(in/stride), the total padding split with the odd pixel
	// at the bottom/right.
	SamePad  bool
	Groups   int
	Dilation int
}

func (s *ConvSpec) normalise() {
	s.Stride = max(s.Stride, 1)
	s.Groups = max(s.Groups, 1)
	s.Dilation = max(s.Dilation, 1)
}

// pads returns the output size and the leading (top or left) padding along
// one axis of length in, for kernel size k.
func (s *ConvSpec) pads(in, k int) (out, lead int) {
	span := s.Dilation*(k-1) + 1
	if s.SamePad {
		out = (in + s.Stride - 1) / s.Stride
		total := max((out-1)*s.Stride+span-in, 0)
		return out, total / 2
	}
	// torch.nn.Conv2d: floor((in + 2p - d(k-1) - 1)/s) + 1.
	return (in+2*s.Pad-span)/s.Stride + 1, s.Pad
}

// Conv2d is a 2-D convolution (torch.nn.functional.conv2d) on channels-last
// maps, with its weights packed for the GEMM at construction.
//
// Three paths: a 1x1 stride-1 unpadded ungrouped conv is one GEMM of the map
// itself, (N*H*W, Cin)·(Cin, Cout); a depthwise conv (Groups == InC == OutC)
// is a direct loop over contiguous channels (AVX-512 in the interior);
// anything else is a GEMM per group whose A operand, the im2col patch
// matrix, is gathered tile by tile inside the GEMM (gemm.MatMulPackedGather)
// rather than stored. Forward is safe for concurrent use; FoldBatchNorm is
// not.
type Conv2d struct {
	ConvSpec
	// Bias has OutC values (zero if the checkpoint had none).
	Bias []float32
	// Act is applied to the output inside Forward by the GEMM's epilogue,
	// tile by tile while it is in cache (conv -> bn -> relu in one pass);
	// default Identity.
	Act Activation
	// weight is laid out per group as (KH*KW*InC/Groups, OutC/Groups),
	// row index (ky*KW + kx)*InC/Groups + ci, so an im2col row of
	// the HWC input multiplies it directly. Depthwise: (KH*KW, C).
	weight    []float32
	depthwise bool
	// packed is weight packed once for the GEMM micro-kernel, one per
	// group (nil for depthwise); rebuilt by FoldBatchNorm.
	packed []*gemm.PackedB
	// forceGo disables the assembly kernels (tests compare both paths).
	forceGo bool
	// chunkFloats, when positive, splits Forward into products of about
	// this many patch floats (tests use it to exercise row offsets); 0
	// means one product.
	chunkFloats int
}

// NewConv2d builds a convolution from PyTorch weights in OIHW order,
// (OutC, InC/Groups, KH, KW), and an optional bias (nil or OutC values).
func NewConv2d(spec ConvSpec, weightOIHW, bias []float32) (*Conv2d, error) {
	spec.normalise()
	g := spec.Groups
	if spec.InC <= 0 || spec.OutC <= 0 || spec.KH <= 0 || spec.KW <= 0 || spec.InC%g != 0 || spec.OutC%g != 0 {
		return nil, fmt.Errorf("conv2d: invalid geometry %+v", spec)
	}
	cig, cog := spec.InC/g, spec.OutC/g
	taps := spec.KH * spec.KW
	if want := spec.OutC * cig * taps; len(weightOIHW) != want {
		return nil, fmt.Errorf("conv2d %+v: weight has %d values, want %d (OutC x InC/Groups x KH x KW)", spec, len(weightOIHW), want)
	}
	if bias != nil && len(bias) != spec.OutC {
		return nil, fmt.Errorf("conv2d %+v: bias has %d values, want %d", spec, len(bias), spec.OutC)
	}
	c := &Conv2d{ConvSpec: spec, Bias: make([]float32, spec.OutC)}
	copy(c.Bias, bias)
	c.depthwise = cig == 1 && cog == 1
	c.weight = make([]float32, len(weightOIHW))
	if c.depthwise {
		for o := 0; o < spec.OutC; o++ {
			for t := 0; t < taps; t++ {
				c.weight[t*spec.OutC+o] = weightOIHW[o*taps+t]
			}
		}
		return c, nil
	}
	k := taps * cig
	for o := 0; o < spec.OutC; o++ {
		grp, oo := o/cog, o%cog
		dst := c.weight[grp*k*cog:]
		for ci := 0; ci < cig; ci++ {
			for t := 0; t < taps; t++ {
				dst[(t*cig+ci)*cog+oo] = weightOIHW[(o*cig+ci)*taps+t]
			}
		}
	}
	c.pack()
	return c, nil
}

// pack packs each group's weight for gemm.MatMulPacked.
func (c *Conv2d) pack() {
	k, cog := c.KH*c.KW*c.InC/c.Groups, c.OutC/c.Groups
	c.packed = make([]*gemm.PackedB, c.Groups)
	for grp := range c.packed {
		c.packed[grp] = gemm.PackB(k, cog, c.weight[grp*k*cog:(grp+1)*k*cog], cog)
	}
}

// FoldBatchNorm folds an eval-mode BatchNorm2d that follows the conv into its
// weights and bias: y = gamma*(conv(x) - mean)/sqrt(var + eps) + beta
// (torch.nn.functional.batch_norm with training=False). Call it once at load.
func (c *Conv2d) FoldBatchNorm(gamma, beta, mean, variance []float32, eps float64) error {
	for i, v := range [][]float32{gamma, beta, mean, variance} {
		if len(v) != c.OutC {
			name := [...]string{"weight", "bias", "running_mean", "running_var"}[i]
			return fmt.Errorf("conv2d: batch norm %s has %d values, want %d", name, len(v), c.OutC)
		}
	}
	scale := make([]float32, c.OutC)
	for o := range scale {
		s := float64(gamma[o]) / math.Sqrt(float64(variance[o])+eps)
		scale[o] = float32(s)
		c.Bias[o] = float32((float64(c.Bias[o])-float64(mean[o]))*s + float64(beta[o]))
	}
	cog := c.OutC / c.Groups
	if c.depthwise {
		cog = c.OutC
	}
	// In both packings the output channel is the fastest index within a
	// group's row, so column j of row r belongs to channel (group)*cog + j.
	rowsPerGroup := len(c.weight) / c.OutC
	for i := range c.weight {
		row, j := i/cog, i%cog
		grp := row / rowsPerGroup
		if c.depthwise {
			grp = 0
		}
		c.weight[i] *= scale[grp*cog+j]
	}
	if !c.depthwise {
		c.pack()
	}
	return nil
}

// OutputSize is the (height, width) of the output for an h x w input.
func (c *Conv2d) OutputSize(h, w int) (oh, ow int) {
	oh, _ = c.pads(h, c.KH)
	ow, _ = c.pads(w, c.KW)
	return oh, ow
}

// Forward applies the convolution to an (H, W, InC) or (N, H, W, InC) map
// and returns a new (OH, OW, OutC) or (N, OH, OW, OutC) map.
func (c *Conv2d) Forward(x *Tensor) *Tensor { return c.ForwardFused(x, c.Act, nil) }

// ForwardFused returns act(conv(x) + bias + residual): Forward with the
// activation given here (c.Act is ignored) and, when residual is not nil,
// a residual connection of the output's shape added before it, as in a
// ResNet block's relu(bn3(conv3(y)) + identity). On the GEMM paths the
// bias, residual and activation are applied by the GEMM's epilogue to each
// tile of the output while it is in cache, so they cost no pass over
// memory.
func (c *Conv2d) ForwardFused(x *Tensor, act Activation, residual *Tensor) *Tensor {
	out := New(c.OutShape(x)...)
	c.ForwardFusedInto(out, x, act, residual)
	return out
}

// OutShape is the shape of Forward(x): x's batch dimension (if any), the
// output height and width, OutC.
func (c *Conv2d) OutShape(x *Tensor) []int {
	n, h, w, ch := mapDims("Conv2d.Forward", x)
	if ch != c.InC {
		panic(fmt.Sprintf("tensor.Conv2d.Forward: input has %d channels, conv wants %d", ch, c.InC))
	}
	oh, _ := c.pads(h, c.KH)
	ow, _ := c.pads(w, c.KW)
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("tensor.Conv2d.Forward: input %dx%d too small for %+v", h, w, c.ConvSpec))
	}
	return mapShape(x, n, oh, ow, c.OutC)
}

// ForwardFusedInto is ForwardFused writing into out (OutShape(x), not
// overlapping x or residual; its contents are overwritten) instead of a new
// tensor, for callers that recycle activation buffers.
func (c *Conv2d) ForwardFusedInto(out, x *Tensor, act Activation, residual *Tensor) {
	want := c.OutShape(x)
	if n := Numel(want); len(out.Data) != n {
		panic(fmt.Sprintf("tensor.Conv2d.ForwardFusedInto: out %v for an output %v", out.Shape, want))
	}
	if sharesMemory(out.Data, x.Data) || residual != nil && sharesMemory(out.Data, residual.Data) {
		panic("tensor.Conv2d.ForwardFusedInto: out overlaps the input or the residual")
	}
	n, h, w, _ := mapDims("Conv2d.Forward", x)
	oh, padT := c.pads(h, c.KH)
	ow, padL := c.pads(w, c.KW)
	var res []float32
	if residual != nil {
		if len(residual.Data) != len(out.Data) {
			panic(fmt.Sprintf("tensor.Conv2d.ForwardFused: residual %v for an output %v", residual.Shape, out.Shape))
		}
		res = residual.Data
	}
	g := convGeom{n: n, h: h, w: w, oh: oh, ow: ow, padT: padT, padL: padL}
	switch {
	case c.depthwise:
		if res == nil {
			c.forwardDepthwise(x.Data, out.Data, g, act)
			break
		}
		c.forwardDepthwise(x.Data, out.Data, g, Identity)
		Add(out, residual)
		if act != Identity {
			apply(out.Data, act.apply)
		}
	default:
		c.forwardGEMM(x.Data, out.Data, res, g, act)
	}
}

// convGeom is the geometry of one Forward call.
type convGeom struct {
	n, h, w, oh, ow, padT, padL int
}

// forwardGEMM runs the GEMM paths: out = act(conv(x) + bias + res) (res
// may be nil). A 1x1 conv is one product on the map itself; any other conv
// is an implicit im2col: the GEMM gathers the input patches of each
// micro-tile of output positions into a small buffer in cache
// (im2colRange) and packs them from there, so the patch matrix (K = 9*Cin
// floats per position) never goes through memory. Bias, residual and
// activation are the GEMM's epilogue. The GEMM parallelises internally.
func (c *Conv2d) forwardGEMM(x, out, res []float32, g convGeom, act Activation) {
	cig, cog := c.InC/c.Groups, c.OutC/c.Groups
	k := c.KH * c.KW * cig
	m := g.n * g.oh * g.ow
	// A 1x1 conv is (N*H*W, Cin)·(Cin, Cout) on the map itself.
	direct := c.KH == 1 && c.KW == 1 && c.Stride == 1 && g.padT == 0 && g.padL == 0 && c.Groups == 1
	rows := m
	if c.chunkFloats > 0 {
		rows = max(c.chunkFloats/k, 1)
	}
	for lo := 0; lo < m; lo += rows {
		hi := min(lo+rows, m)
		dst := out[lo*c.OutC : hi*c.OutC]
		for grp := 0; grp < c.Groups; grp++ {
			ep := gemm.Epilogue{Bias: c.Bias[grp*cog : (grp+1)*cog], Act: act.gemm()}
			if act != Identity && !useAVX512() && useAVX2() {
				// The GEMM's epilogue has assembly for AVX-512 only; the
				// AVX2 activation kernels run on each finished block instead
				// of its Go loop (same results; ReLU6 of -0 is +0 here).
				ep.Act, ep.Post = gemm.ActNone, act.block
			}
			if res != nil {
				ep.Residual, ep.LdResidual = res[lo*c.OutC+grp*cog:], c.OutC
			}
			if direct {
				gemm.MatMulPackedEpilogue(hi-lo, x[lo*c.InC:], c.InC, c.packed[0], dst, c.OutC, ep)
				continue
			}
			gather := func(dst []float32, i0, rows, p0, cols int) {
				c.im2colRange(dst, x, g, lo+i0, rows, p0, cols, grp*cig)
			}
			gemm.MatMulPackedGather(hi-lo, gather, c.packed[grp], dst[grp*cog:], c.OutC, ep)
		}
	}
}

// im2colRange writes columns [p0, p0+cols) of the im2col rows of output
// positions i0 .. i0+rows-1 (flattened over n, oy, ox) into dst, row r at
// dst[r*cols:]: the input patch of channels c0 .. c0+InC/Groups-1 in the
// packed weight's row order (ky, kx, ci), zero for out-of-image taps.
func (c *Conv2d) im2colRange(dst, x []float32, g convGeom, i0, rows, p0, cols, c0 int) {
	cig := c.InC / c.Groups
	s, d := c.Stride, c.Dilation
	// With one group and no dilation a whole kernel row of taps is one
	// contiguous run of KW*C input values.
	runs := c.Groups == 1 && d == 1
	seg := c.KW * cig // row-segment length of one ky
	p1 := p0 + cols
	for r := 0; r < rows; r++ {
		pos := i0 + r
		img, rem := pos/(g.oh*g.ow), pos%(g.oh*g.ow)
		oy, ox := rem/g.ow, rem%g.ow
		out := dst[r*cols : (r+1)*cols]
		base := img * g.h * g.w * c.InC
		iy0, ix0 := oy*s-g.padT, ox*s-g.padL
		for ky := p0 / seg; ky < c.KH && ky*seg < p1; ky++ {
			lo, hi := max(p0, ky*seg), min(p1, (ky+1)*seg)
			o := out[lo-p0 : hi-p0]
			iy := iy0 + ky*d
			if iy < 0 || iy >= g.h {
				clear(o)
				continue
			}
			rowBase := base + iy*g.w*c.InC
			if runs && ix0 >= 0 && ix0+c.KW <= g.w {
				copy(o, x[rowBase+ix0*c.InC+lo-ky*seg:])
				continue
			}
			for kx := (lo - ky*seg) / cig; kx < c.KW && ky*seg+kx*cig < hi; kx++ {
				tlo, thi := max(lo, ky*seg+kx*cig), min(hi, ky*seg+(kx+1)*cig)
				tap := out[tlo-p0 : thi-p0]
				ix := ix0 + kx*d
				if ix < 0 || ix >= g.w {
					clear(tap)
					continue
				}
				copy(tap, x[rowBase+ix*c.InC+c0+tlo-ky*seg-kx*cig:])
			}
		}
	}
}

// forwardDepthwise computes out[oy, ox, c] = bias[c] + sum over taps of
// x[iy, ix, c]*w[tap, c]; the inner loop runs over contiguous channels. The
// interior of each row (every tap inside the image) goes to the AVX-512
// kernel when C is a multiple of 16, else to the AVX2 kernel when C is a
// multiple of 8 (the two give the same bits); borders take the Go loop.
func (c *Conv2d) forwardDepthwise(x, out []float32, g convGeom, act Activation) {
	C := c.OutC
	s, d := c.Stride, c.Dilation
	avx512 := useAVX512() && C%16 == 0 && !c.forceGo
	avx2 := !avx512 && useAVX2() && C%8 == 0 && !c.forceGo
	asm := avx512 || avx2
	// Interior output columns [ox0, ox1): ox*s - padL >= 0 and
	// ox*s - padL + (KW-1)*d <= W-1.
	ox0 := (g.padL + s - 1) / s
	ox1 := max((g.w-1+g.padL-(c.KW-1)*d)/s+1, ox0)
	if g.w-1+g.padL-(c.KW-1)*d < 0 {
		ox1 = ox0
	}
	ox1 = min(ox1, g.ow)
	ox0 = min(ox0, ox1)
	var offs []int // tap offsets in bytes from the window's top-left input
	if asm {
		for ky := 0; ky < c.KH; ky++ {
			for kx := 0; kx < c.KW; kx++ {
				offs = append(offs, 4*((ky*d*g.w+kx*d)*C))
			}
		}
	}
	rows := g.n * g.oh
	forBlocks(rows, blockFor(rows, 1, numWorkers()), numWorkers(), func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			img, oy := r/g.oh, r%g.oh
			iy0 := oy*s - g.padT
			interior := asm && iy0 >= 0 && iy0+(c.KH-1)*d < g.h && ox1 > ox0
			if interior {
				c.depthwisePixels(x, out, g, img, oy, 0, ox0)
				in := x[((img*g.h+iy0)*g.w+ox0*s-g.padL)*C:]
				if avx512 {
					depthwiseAVX512(&out[(r*g.ow+ox0)*C], &in[0], &c.weight[0], &c.Bias[0], C, ox1-ox0, s*C, offs)
				} else {
					depthwiseAVX2(&out[(r*g.ow+ox0)*C], &in[0], &c.weight[0], &c.Bias[0], C, ox1-ox0, s*C, offs)
				}
				c.depthwisePixels(x, out, g, img, oy, ox1, g.ow)
			} else {
				c.depthwisePixels(x, out, g, img, oy, 0, g.ow)
			}
			act.apply(out[r*g.ow*C : (r+1)*g.ow*C])
		}
	})
}

// depthwisePixels is the Go loop of forwardDepthwise for output pixels
// ox0..ox1-1 of row oy of image img.
func (c *Conv2d) depthwisePixels(x, out []float32, g convGeom, img, oy, ox0, ox1 int) {
	C := c.OutC
	s, d := c.Stride, c.Dilation
	base := img * g.h * g.w * C
	r := img*g.oh + oy
	for ox := ox0; ox < ox1; ox++ {
		acc := out[((r*g.ow)+ox)*C : ((r*g.ow)+ox+1)*C]
		copy(acc, c.Bias)
		for ky := 0; ky < c.KH; ky++ {
			iy := oy*s - g.padT + ky*d
			if iy < 0 || iy >= g.h {
				continue
			}
			for kx := 0; kx < c.KW; kx++ {
				ix := ox*s - g.padL + kx*d
				if ix < 0 || ix >= g.w {
					continue
				}
				in := x[base+(iy*g.w+ix)*C : base+(iy*g.w+ix+1)*C]
				wt := c.weight[(ky*c.KW+kx)*C : (ky*c.KW+kx+1)*C]
				for ci := range acc {
					acc[ci] += in[ci] * wt[ci]
				}
			}
		}
	}
}

// sharesMemory reports whether a and b have an element in common.
func sharesMemory(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	const f = unsafe.Sizeof(float32(0))
	pa, pb := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return pa < pb+uintptr(len(b))*f && pb < pa+uintptr(len(a))*f
}
