package resnet

import (
	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/tensor"
)

// winograd4 is a 3x3, stride-1, padding-1 convolution computed with
// Winograd's F(4x4, 3x3) (Lavin & Gray, CVPR 2016, the 6x6 transforms
// with interpolation points 0, ±1, ±2, ∞): every 4x4 block of outputs is
// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the 6x6 input tile d, so the channel sums
// become 36 GEMMs of (tiles x Cin)·(Cin x Cout): 36 products per 16
// outputs instead of F(2x2, 3x3)'s 16 per 4, i.e. 4x fewer multiplications
// than the direct convolution (2.25x for F(2x2)).
//
// The price is accuracy: the transforms multiply by up to 8 and G has
// entries 1/6 and 1/24, so rounding errors grow by about an order of
// magnitude over F(2x2): TestWinogradMatchesDirect/F4x4 measures up to
// ~1.2e-5 relative on random data (vs ~2e-7 for F(2x2)), and a single
// 512-channel conv up to ~1.8e-5, still inside the 1e-4 fixture tolerance.
type winograd4 struct {
	inC, outC int
	u         [36]*gemm.PackedB // G g Gᵀ at tile position k = 6i + j, (Cin, Cout)
	bias      []float32
	noAsm     bool // use the Go transforms even where AVX-512 is available (tests)
	// blockTiles, if positive, replaces the tiles per block derived from
	// winograd4BlockBytes, so that tests can make small maps span several
	// blocks; zero in production.
	blockTiles int
}

// newWinograd4 transforms folded OIHW 3x3 weights (OutC, InC, 3, 3), in
// float64, with
// G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
func newWinograd4(w []float32, bias []float32, inC, outC int) *winograd4 {
	wc := &winograd4{inC: inC, outC: outC, bias: bias}
	G := [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	var u [36][]float32
	for k := range u {
		u[k] = make([]float32, inC*outC)
	}
	// ci outer, o inner: the 36 outputs are written sequentially (the other
	// order strided them by outC); input channels in parallel, as this is
	// over a second of CPU for wide_resnet50_2.
	parallelFor(inC, func(lo, hi int) {
		wino4Weights(w, &u, &G, inC, outC, lo, hi)
	})
	for k := range u {
		wc.u[k] = gemm.PackB(inC, outC, u[k], outC)
	}
	return wc
}

// wino4Weights writes U = G g Gᵀ for input channels [lo, hi) (see
// newWinograd4).
func wino4Weights(w []float32, u *[36][]float32, G *[6][3]float64, inC, outC, lo, hi int) {
	for ci := lo; ci < hi; ci++ {
		for o := 0; o < outC; o++ {
			g := w[(o*inC+ci)*9 : (o*inC+ci)*9+9]
			var gg [6][3]float64 // G g
			for i := 0; i < 6; i++ {
				for x := 0; x < 3; x++ {
					gg[i][x] = G[i][0]*float64(g[x]) + G[i][1]*float64(g[3+x]) + G[i][2]*float64(g[6+x])
				}
			}
			for i := 0; i < 6; i++ {
				for j := 0; j < 6; j++ {
					v := gg[i][0]*G[j][0] + gg[i][1]*G[j][1] + gg[i][2]*G[j][2]
					u[6*i+j][ci*outC+o] = float32(v)
				}
			}
		}
	}
}

// winograd4BlockBytes bounds the transformed-input and product buffers of
// one block of tiles (36 x tiles x channels floats each), so that a
// block's working set stays in cache between the transforms and the GEMMs;
// at least 128 tiles (GEMM rows) per block. Measured on wide_resnet50_2:
// 6 MB gave ~5% more images/s than 16 MB and the same as 3 MB.
const winograd4BlockBytes = 6 << 20

func (wc *winograd4) forward(a *arena, x *tensor.Tensor, relu bool) *tensor.Tensor {
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	th, tw := (h+3)/4, (w+3)/4
	tiles := n * th * tw
	out := a.tensor(n, h, w, wc.outC)
	block := max(winograd4BlockBytes/(36*4*max(wc.inC, wc.outC)), 128)
	if wc.blockTiles > 0 {
		block = wc.blockTiles
	}
	block = min(block, tiles)
	v := a.floats(36 * block * wc.inC)
	m := a.floats(36 * block * wc.outC)
	defer a.release(v)
	defer a.release(m)
	zero := make([]float32, c)
	asm, asmOut := winoFor(c, wc.outC, wc.noAsm)
	for t0 := 0; t0 < tiles; t0 += block {
		nb := min(block, tiles-t0)
		parallelFor(nb, func(lo, hi int) {
			var d [36][]float32
			var p [36]*float32
			var scratch [36 * 16]float32
			for t := lo; t < hi; t++ {
				tile := t0 + t
				img, rem := tile/(th*tw), tile%(th*tw)
				tilePixels(d[:], x, img, 4*(rem/tw)-1, 4*(rem%tw)-1, 6, zero)
				if asm != nil {
					for k := range p {
						p[k] = &d[k][0]
					}
					asm.input4(&p, &v[t*c], block*c, c, &scratch)
				} else {
					input4Transform(&d, v[t*c:], block*c, c)
				}
			}
		})
		// The 36 products are independent: each goes to one core whole
		// (taken dynamically, one at a time), rather than every product
		// being split over the cores with a synchronisation per product.
		eachOnce(36, func(k int) {
			gemm.MatMulPackedSerial(nb, v[k*block*wc.inC:], wc.inC, wc.u[k], m[k*block*wc.outC:], wc.outC, false)
		})
		parallelFor(nb, func(lo, hi int) {
			oc := wc.outC
			var dst [16][]float32
			var p [16]*float32
			var scratch4 [36 * 16]float32
			scratch := make([]float32, oc)
			for t := lo; t < hi; t++ {
				tile := t0 + t
				img, rem := tile/(th*tw), tile%(th*tw)
				tilePixels(dst[:], out, img, 4*(rem/tw), 4*(rem%tw), 4, nil)
				if asmOut != nil {
					for k, r := range dst {
						if r == nil {
							r = scratch
						}
						p[k] = &r[0]
					}
					asmOut.output4(&m[t*oc], block*oc, &p, &wc.bias[0], oc, relu, &scratch4)
				} else {
					output4Transform(m[t*oc:], block*oc, &dst, wc.bias, relu)
				}
			}
		})
	}
	return out
}

func (wc *winograd4) forwardAddReLU(a *arena, x, residual *tensor.Tensor) *tensor.Tensor {
	y := wc.forward(a, x, false)
	tensor.Add(y, residual)
	tensor.ReLU(y)
	return y
}

// bt6 is the 1-D input transform t = Bᵀ d with
// Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
// with shared subexpressions; gen_winograd_amd64.py emits the same
// operations in the same order.
func bt6(d0, d1, d2, d3, d4, d5 float32) (t0, t1, t2, t3, t4, t5 float32) {
	a := d4 - 4*d2
	m4d1 := 4 * d1
	b := d3 - m4d1
	t1, t2 = a+b, a-b
	c := d4 - d2
	e := d3 - d1
	e += e
	t3, t4 = c+e, c-e
	t0 = (4*d0 - 5*d2) + d4
	t5 = (m4d1 - 5*d3) + d5
	return
}

// at6 is the 1-D output transform o = Aᵀ m with
// Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]; the
// multiplications by 2, 4 and 8 are exact (the assembly doubles instead).
func at6(m0, m1, m2, m3, m4, m5 float32) (o0, o1, o2, o3 float32) {
	p, q := m1+m2, m1-m2
	r, s := m3+m4, m3-m4
	o0 = (m0 + p) + r
	o1 = q + 2*s
	o3 = (q + 8*s) + m5
	o2 = p + 4*r
	return
}

// input4Transform writes Bᵀ d B of one 6x6 tile, channel by channel, to
// v[k*stride + ch] for the 36 positions k = 6i + j: the columns first,
// then the rows, as the assembly twin wino4InputAVX512.
func input4Transform(d *[36][]float32, v []float32, stride, c int) {
	for ch := 0; ch < c; ch++ {
		var t [36]float32
		for j := 0; j < 6; j++ {
			t[j], t[6+j], t[12+j], t[18+j], t[24+j], t[30+j] = bt6(d[j][ch], d[6+j][ch], d[12+j][ch], d[18+j][ch], d[24+j][ch], d[30+j][ch])
		}
		for i := 0; i < 6; i++ {
			r := t[6*i : 6*i+6]
			v0, v1, v2, v3, v4, v5 := bt6(r[0], r[1], r[2], r[3], r[4], r[5])
			v[(6*i)*stride+ch] = v0
			v[(6*i+1)*stride+ch] = v1
			v[(6*i+2)*stride+ch] = v2
			v[(6*i+3)*stride+ch] = v3
			v[(6*i+4)*stride+ch] = v4
			v[(6*i+5)*stride+ch] = v5
		}
	}
}

// output4Transform computes Aᵀ m A + bias for one tile, reading
// m[k*stride + ch] (k = 6i + j), and writes the 4x4 outputs to dst (nil
// entries are outside the map), then ReLU if asked.
func output4Transform(m []float32, stride int, dst *[16][]float32, bias []float32, relu bool) {
	for ch, b := range bias {
		var s [24]float32 // Aᵀ m: 4 rows x 6 columns
		for j := 0; j < 6; j++ {
			s[j], s[6+j], s[12+j], s[18+j] = at6(m[j*stride+ch], m[(6+j)*stride+ch], m[(12+j)*stride+ch],
				m[(18+j)*stride+ch], m[(24+j)*stride+ch], m[(30+j)*stride+ch])
		}
		for i := 0; i < 4; i++ {
			var y [4]float32
			y[0], y[1], y[2], y[3] = at6(s[6*i], s[6*i+1], s[6*i+2], s[6*i+3], s[6*i+4], s[6*i+5])
			for j, v := range y {
				v += b
				if relu {
					v = relu0(v)
				}
				if r := dst[4*i+j]; r != nil {
					r[ch] = v
				}
			}
		}
	}
}
