package resnet

import (
	"runtime"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/internal/parallel"
	"github.com/anomclust/anomclust/tensor"
)

// convOp is a convolution with its BatchNorm folded in, optionally followed
// by a ReLU.
// The output and scratch buffers come from an arena (nil: fresh ones).
type convOp interface {
	forward(a *arena, x *tensor.Tensor, relu bool) *tensor.Tensor
	// forwardAddReLU is relu(conv(x) + residual), the end of a residual
	// block (residual has the output's shape).
	forwardAddReLU(a *arena, x, residual *tensor.Tensor) *tensor.Tensor
	// cost is the arithmetic of the conv on one h x w input (see
	// Model.Cost) and its output size.
	cost(h, w int) (c backbone.Cost, oh, ow int)
}

// direct is a convolution computed by package tensor (im2col + GEMM, or a
// plain GEMM for 1x1).
type direct struct{ c *tensor.Conv2d }

func (d direct) forward(a *arena, x *tensor.Tensor, relu bool) *tensor.Tensor {
	act := tensor.Identity
	if relu {
		act = tensor.ActReLU
	}
	return d.run(a, x, act, nil)
}

func (d direct) forwardAddReLU(a *arena, x, residual *tensor.Tensor) *tensor.Tensor {
	return d.run(a, x, tensor.ActReLU, residual)
}

// run is act(conv(x) + residual) into a map from the arena.
func (d direct) run(a *arena, x *tensor.Tensor, act tensor.Activation, residual *tensor.Tensor) *tensor.Tensor {
	y := a.tensor(d.c.OutShape(x)...)
	d.c.ForwardFusedInto(y, x, act, residual)
	return y
}

// winograd is a 3x3, stride-1, padding-1 convolution computed with
// Winograd's minimal filtering algorithm F(2x2, 3x3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", CVPR 2016): every 2x2 block
// of outputs is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the 4x4 input tile d, so the
// channel sums become 16 GEMMs of (tiles x Cin)·(Cin x Cout) with 2.25x
// fewer multiplications than the direct 3x3 convolution. These convs are
// over half the FLOPs of a ResNet-50 up to layer3.
//
// The transforms only add, subtract and halve, so the result differs from
// the direct convolution by a few float32 rounding errors (the fixture tests
// hold both paths to the same tolerance against PyTorch).
type winograd struct {
	inC, outC int
	u         [16]*gemm.PackedB // G g Gᵀ at tile position k = 4i + j, (Cin, Cout)
	bias      []float32
	noAsm     bool // use the Go transforms even where AVX-512 is available (tests)
	// blockTiles, if positive, replaces the tiles per block derived from
	// winogradBlockBytes, so that tests can make small maps span several
	// blocks; zero in production.
	blockTiles int
}

// newWinograd transforms folded OIHW 3x3 weights (OutC, InC, 3, 3).
func newWinograd(w []float32, bias []float32, inC, outC int) *winograd {
	wc := &winograd{inC: inC, outC: outC, bias: bias}
	var u [16][]float32
	for k := range u {
		u[k] = make([]float32, inC*outC)
	}
	for o := 0; o < outC; o++ {
		for ci := 0; ci < inC; ci++ {
			g := w[(o*inC+ci)*9 : (o*inC+ci)*9+9]
			// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], in float64.
			var gg [4][3]float64 // G g
			for x := 0; x < 3; x++ {
				g0, g1, g2 := float64(g[x]), float64(g[3+x]), float64(g[6+x])
				gg[0][x], gg[1][x], gg[2][x], gg[3][x] = g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2
			}
			for i := 0; i < 4; i++ {
				r0, r1, r2 := gg[i][0], gg[i][1], gg[i][2]
				vals := [4]float64{r0, (r0 + r1 + r2) / 2, (r0 - r1 + r2) / 2, r2}
				for j := 0; j < 4; j++ {
					u[4*i+j][ci*outC+o] = float32(vals[j])
				}
			}
		}
	}
	for k := range u {
		wc.u[k] = gemm.PackB(inC, outC, u[k], outC)
	}
	return wc
}

func (wc *winograd) forwardAddReLU(a *arena, x, residual *tensor.Tensor) *tensor.Tensor {
	y := wc.forward(a, x, false)
	tensor.Add(y, residual)
	tensor.ReLU(y)
	return y
}

// winogradBlockBytes bounds the transformed-input and product buffers of
// one block of tiles (16 x tiles x channels floats each), so a block's
// working set stays in the shared L3 between the transforms and the GEMMs.
const winogradBlockBytes = 8 << 20

func (wc *winograd) forward(a *arena, x *tensor.Tensor, relu bool) *tensor.Tensor {
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	th, tw := (h+1)/2, (w+1)/2
	tiles := n * th * tw
	out := a.tensor(n, h, w, wc.outC)
	block := max(winogradBlockBytes/(16*4*max(wc.inC, wc.outC)), 128)
	if wc.blockTiles > 0 {
		block = wc.blockTiles
	}
	block = min(block, tiles)
	v := a.floats(16 * block * wc.inC)
	m := a.floats(16 * block * wc.outC)
	defer a.release(v)
	defer a.release(m)
	zero := make([]float32, c)
	asm, asmOut := winoFor(c, wc.outC, wc.noAsm)
	for t0 := 0; t0 < tiles; t0 += block {
		nb := min(block, tiles-t0)
		parallelFor(nb, func(lo, hi int) {
			var d [16][]float32
			for t := lo; t < hi; t++ {
				tile := t0 + t
				img, rem := tile/(th*tw), tile%(th*tw)
				tilePixels(d[:], x, img, 2*(rem/tw)-1, 2*(rem%tw)-1, 4, zero)
				if asm != nil {
					var p [16]*float32
					for k := range p {
						p[k] = &d[k][0]
					}
					asm.input(&p, &v[t*c], block*c, c)
				} else {
					inputTransform(&d, v[t*c:], block*c, c)
				}
			}
		})
		for k := 0; k < 16; k++ {
			gemm.MatMulPacked(nb, v[k*block*wc.inC:], wc.inC, wc.u[k], m[k*block*wc.outC:], wc.outC, false)
		}
		parallelFor(nb, func(lo, hi int) {
			oc := wc.outC
			var dst [4][]float32
			scratch := make([]float32, oc)
			for t := lo; t < hi; t++ {
				tile := t0 + t
				img, rem := tile/(th*tw), tile%(th*tw)
				tilePixels(dst[:], out, img, 2*(rem/tw), 2*(rem%tw), 2, nil)
				if asmOut != nil {
					var p [4]*float32
					for k, r := range dst {
						if r == nil {
							r = scratch
						}
						p[k] = &r[0]
					}
					asmOut.output(&m[t*oc], block*oc, &p, &wc.bias[0], oc, relu)
				} else {
					outputTransform(m[t*oc:], block*oc, &dst, wc.bias, relu)
				}
			}
		})
	}
	return out
}

// tilePixels points d[size*i + j] at the channel vector of pixel
// (y0 + i, x0 + j) of image img in the NHWC map m, for the size x size
// pixels of one Winograd tile, and at outside where that pixel is off the
// map: the zero padding for input tiles, nil (not written) for output
// tiles. The vectors alias m.Data.
func tilePixels(d [][]float32, m *tensor.Tensor, img, y0, x0, size int, outside []float32) {
	h, w, c := m.Shape[1], m.Shape[2], m.Shape[3]
	for i := 0; i < size; i++ {
		for j := 0; j < size; j++ {
			y, x := y0+i, x0+j
			if y < 0 || y >= h || x < 0 || x >= w {
				d[size*i+j] = outside
			} else {
				off := ((img*h+y)*w + x) * c
				d[size*i+j] = m.Data[off : off+c]
			}
		}
	}
}

// inputTransform writes Bᵀ d B of one tile, channel by channel, to
// v[k*stride + ch] for the 16 positions k, with
// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
func inputTransform(d *[16][]float32, v []float32, stride, c int) {
	for ch := 0; ch < c; ch++ {
		var t [16]float32
		for j := 0; j < 4; j++ {
			d0, d1, d2, d3 := d[j][ch], d[4+j][ch], d[8+j][ch], d[12+j][ch]
			t[j], t[4+j], t[8+j], t[12+j] = d0-d2, d1+d2, d2-d1, d1-d3
		}
		for i := 0; i < 4; i++ {
			t0, t1, t2, t3 := t[4*i], t[4*i+1], t[4*i+2], t[4*i+3]
			v[(4*i)*stride+ch] = t0 - t2
			v[(4*i+1)*stride+ch] = t1 + t2
			v[(4*i+2)*stride+ch] = t2 - t1
			v[(4*i+3)*stride+ch] = t1 - t3
		}
	}
}

// outputTransform computes Aᵀ m A + bias for one tile, with
// Aᵀ = [1 1 1 0; 0 1 -1 -1], reading m[k*stride + ch] and writing the 2x2
// outputs to dst (nil entries are outside the map), then ReLU if asked.
func outputTransform(m []float32, stride int, dst *[4][]float32, bias []float32, relu bool) {
	for ch, b := range bias {
		var s [8]float32 // Aᵀ m: 2 rows x 4 columns
		for j := 0; j < 4; j++ {
			m0, m1, m2, m3 := m[j*stride+ch], m[(4+j)*stride+ch], m[(8+j)*stride+ch], m[(12+j)*stride+ch]
			s[j], s[4+j] = m0+m1+m2, m1-m2-m3
		}
		for a := 0; a < 2; a++ {
			s0, s1, s2, s3 := s[4*a], s[4*a+1], s[4*a+2], s[4*a+3]
			y0, y1 := s0+s1+s2+b, s1-s2-s3+b
			if relu {
				y0, y1 = relu0(y0), relu0(y1)
			}
			if r := dst[2*a]; r != nil {
				r[ch] = y0
			}
			if r := dst[2*a+1]; r != nil {
				r[ch] = y1
			}
		}
	}
}

// relu0 is ReLU as torch.clamp_min(x, 0) computes it: only values below
// zero become 0, so NaN and -0 pass through unchanged (Go's max(x, 0)
// would turn -0 into +0). The assembly's VMAXPS returns its data operand
// in exactly these cases, so the twins agree bit for bit.
func relu0(x float32) float32 {
	if x < 0 {
		return 0
	}
	return x
}

// parallelFor calls f on chunks of [0, n) from GOMAXPROCS goroutines,
// about four chunks per worker handed out from a shared counter (the
// machine is shared).
func parallelFor(n int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	chunk := max((n+4*workers-1)/(4*workers), 1)
	if n <= chunk {
		workers = 1 // one chunk: run it on the caller's goroutine
	}
	parallel.Chunks(n, chunk, workers, f)
}

// eachOnce calls f(i) for every i in [0, n) from GOMAXPROCS goroutines,
// each taking the next i from a shared counter.
func eachOnce(n int, f func(i int)) {
	parallel.Chunks(n, 1, min(runtime.GOMAXPROCS(0), n), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f(i)
		}
	})
}
