package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// naiveConv is the definition of conv2d on channels-last maps, straight
// from OIHW weights, with explicit leading pads: the reference for shapes
// too large for fixtures (many im2col blocks, several goroutines).
func naiveConv(x *Tensor, w, bias []float32, s ConvSpec, padT, padL, oh, ow int) *Tensor {
	n, h, wd, _ := mapDims("naive", x)
	s.normalise()
	cig, cog := s.InC/s.Groups, s.OutC/s.Groups
	y := New(n, oh, ow, s.OutC)
	for img := 0; img < n; img++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for o := 0; o < s.OutC; o++ {
					g := o / cog
					var acc float64
					if bias != nil {
						acc = float64(bias[o])
					}
					for ci := 0; ci < cig; ci++ {
						for ky := 0; ky < s.KH; ky++ {
							for kx := 0; kx < s.KW; kx++ {
								iy, ix := oy*s.Stride-padT+ky*s.Dilation, ox*s.Stride-padL+kx*s.Dilation
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								xv := x.Data[((img*h+iy)*wd+ix)*s.InC+g*cig+ci]
								acc += float64(xv) * float64(w[((o*cig+ci)*s.KH+ky)*s.KW+kx])
							}
						}
					}
					y.Data[((img*oh+oy)*ow+ox)*s.OutC+o] = float32(acc)
				}
			}
		}
	}
	return y
}

// TestConvLarge runs shapes big enough to split into many im2col blocks
// and goroutines against naiveConv (float64 sums): tolerance tolProduct as
// for the fixtures (K <= 1152 here, typical error ~sqrt(K)*6e-8 = 2e-6).
func TestConvLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		spec    ConvSpec
		n, h, w int
	}{
		{ConvSpec{InC: 128, OutC: 40, KH: 3, KW: 3, Pad: 1}, 2, 23, 19},
		{ConvSpec{InC: 64, OutC: 24, KH: 1, KW: 1}, 3, 31, 17},
		{ConvSpec{InC: 32, OutC: 16, KH: 3, KW: 3, Stride: 2, Pad: 1}, 1, 45, 40},
		{ConvSpec{InC: 48, OutC: 48, KH: 3, KW: 3, Pad: 1, Groups: 48}, 2, 33, 21},
		{ConvSpec{InC: 24, OutC: 24, KH: 5, KW: 5, Stride: 2, Pad: 2, Groups: 24}, 1, 30, 30},
		{ConvSpec{InC: 32, OutC: 32, KH: 3, KW: 3, Stride: 2, Pad: 1, Groups: 32}, 2, 17, 22},
		{ConvSpec{InC: 64, OutC: 64, KH: 3, KW: 3, Stride: 2, SamePad: true, Groups: 64}, 1, 16, 16},
		{ConvSpec{InC: 16, OutC: 16, KH: 5, KW: 3, Pad: 2, Dilation: 2, Groups: 16}, 2, 13, 11},
		{ConvSpec{InC: 16, OutC: 16, KH: 3, KW: 3, Groups: 16}, 1, 3, 9},
		{ConvSpec{InC: 32, OutC: 32, KH: 3, KW: 3, Pad: 2, Dilation: 2, Groups: 4}, 2, 20, 20},
		{ConvSpec{InC: 16, OutC: 8, KH: 3, KW: 3, Stride: 2, SamePad: true}, 2, 28, 27},
	} {
		t.Run(fmt.Sprintf("%+v_%dx%dx%d", tc.spec, tc.n, tc.h, tc.w), func(t *testing.T) {
			s := tc.spec
			s.normalise()
			w := randTensor(rng, s.OutC*s.InC/s.Groups*s.KH*s.KW).Data
			bias := randTensor(rng, s.OutC).Data
			conv, err := NewConv2d(s, w, bias)
			if err != nil {
				t.Fatal(err)
			}
			x := randTensor(rng, tc.n, tc.h, tc.w, s.InC)
			oh, padT := s.pads(tc.h, s.KH)
			ow, padL := s.pads(tc.w, s.KW)
			want := naiveConv(x, w, bias, s, padT, padL, oh, ow)
			compare(t, conv.Forward(x), want, tolProduct)
			// The Go twins of the assembly kernels.
			conv.forceGo = true
			compare(t, conv.Forward(x), want, tolProduct)
			conv.forceGo = false
			// Im2col in several chunks (a 16 MB chunk holds these whole).
			conv.chunkFloats = 37 * s.KH * s.KW * s.InC / s.Groups
			compare(t, conv.Forward(x), want, tolProduct)
			// The fused activations equal conv then ReLU / ReLU6.
			for act, f := range map[Activation]func(*Tensor){ActReLU: ReLU, ActReLU6: ReLU6} {
				conv.Act = act
				w := want.Clone()
				f(w)
				compare(t, conv.Forward(x), w, tolProduct)
			}
			conv.Act = Identity
			// A residual added before the activation, fused (ForwardFused)
			// and in several chunks: relu(conv(x) + r) as in a ResNet block.
			r := randTensor(rng, want.Shape...)
			w2 := want.Clone()
			Add(w2, r)
			ReLU(w2)
			compare(t, conv.ForwardFused(x, ActReLU, r), w2, tolProduct)
			conv.chunkFloats = 0
			compare(t, conv.ForwardFused(x, ActReLU, r), w2, tolProduct)
		})
	}
}

// TestNewConv2dErrors checks that checkpoint mistakes are reported, not
// silently accepted.
func TestNewConv2dErrors(t *testing.T) {
	spec := ConvSpec{InC: 4, OutC: 6, KH: 3, KW: 3}
	if _, err := NewConv2d(spec, make([]float32, 6*4*9-1), nil); err == nil {
		t.Error("short weight accepted")
	}
	if _, err := NewConv2d(spec, make([]float32, 6*4*9), make([]float32, 5)); err == nil {
		t.Error("short bias accepted")
	}
	if _, err := NewConv2d(ConvSpec{InC: 4, OutC: 6, KH: 3, KW: 3, Groups: 4}, make([]float32, 6*9), nil); err == nil {
		t.Error("OutC not divisible by Groups accepted")
	}
	c, err := NewConv2d(spec, make([]float32, 6*4*9), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.FoldBatchNorm(make([]float32, 6), make([]float32, 6), make([]float32, 5), make([]float32, 6), 1e-5); err == nil {
		t.Error("short running_mean accepted")
	}
}

// TestIm2colRange checks that gathering any column range of the patch rows
// (as the GEMM does per k block) equals the same range of the whole rows,
// for strided, padded, dilated and grouped geometries with patches that
// straddle the image border.
func TestIm2colRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, s := range []ConvSpec{
		{InC: 6, OutC: 6, KH: 3, KW: 3, Pad: 1},
		{InC: 4, OutC: 8, KH: 5, KW: 3, Stride: 2, Pad: 2, Dilation: 2},
		{InC: 8, OutC: 4, KH: 3, KW: 3, Pad: 1, Groups: 2},
		{InC: 3, OutC: 4, KH: 7, KW: 7, Stride: 2, Pad: 3},
	} {
		s.normalise()
		c, err := NewConv2d(s, randTensor(rng, s.OutC*s.InC/s.Groups*s.KH*s.KW).Data, nil)
		if err != nil {
			t.Fatal(err)
		}
		const n, h, w = 2, 9, 7
		x := randTensor(rng, n, h, w, s.InC)
		oh, padT := s.pads(h, s.KH)
		ow, padL := s.pads(w, s.KW)
		g := convGeom{n: n, h: h, w: w, oh: oh, ow: ow, padT: padT, padL: padL}
		k := s.KH * s.KW * s.InC / s.Groups
		m := n * oh * ow
		for grp := 0; grp < s.Groups; grp++ {
			c0 := grp * s.InC / s.Groups
			full := make([]float32, m*k)
			c.im2colRange(full, x.Data, g, 0, m, 0, k, c0)
			// The whole rows against the definition, tap by tap.
			for pos := 0; pos < m; pos++ {
				img, oy, ox := pos/(oh*ow), pos%(oh*ow)/ow, pos%ow
				for q := 0; q < k; q++ {
					tap, ci := q/(s.InC/s.Groups), q%(s.InC/s.Groups)
					iy, ix := oy*s.Stride-padT+tap/s.KW*s.Dilation, ox*s.Stride-padL+tap%s.KW*s.Dilation
					var want float32
					if iy >= 0 && iy < h && ix >= 0 && ix < w {
						want = x.Data[((img*h+iy)*w+ix)*s.InC+c0+ci]
					}
					if full[pos*k+q] != want {
						t.Fatalf("%+v group %d: row %d col %d = %g, want %g", s, grp, pos, q, full[pos*k+q], want)
					}
				}
			}
			for trial := 0; trial < 50; trial++ {
				i0, p0 := rng.IntN(m), rng.IntN(k)
				rows, cols := 1+rng.IntN(min(14, m-i0)), 1+rng.IntN(k-p0)
				got := make([]float32, rows*cols)
				c.im2colRange(got, x.Data, g, i0, rows, p0, cols, c0)
				for r := 0; r < rows; r++ {
					for p := 0; p < cols; p++ {
						if got[r*cols+p] != full[(i0+r)*k+p0+p] {
							t.Fatalf("%+v: rows %d+%d cols %d+%d: (%d,%d) differs", s, i0, rows, p0, cols, r, p)
						}
					}
				}
			}
		}
	}
}
