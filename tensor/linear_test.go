package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLinearFused checks the fused entry points of Linear against a float64
// reference of x·Wᵀ + b followed by the separate steps: ForwardGELU =
// GELU(Forward) and AddForward = dst + Forward. Shapes span several GEMM
// row tiles, a partial column panel (Out = 70) and two k blocks (In =
// 1100 > kc = 1024). Tolerance tolProduct as for the conv tests (K = 1100:
// typical error ~sqrt(K)*6e-8 = 2e-6); GELU is 1.13-Lipschitz and adds
// 2 ulp.
func TestLinearFused(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, sh := range [][3]int{{37, 70, 50}, {300, 64, 1100}} {
		rows, out, in := sh[0], sh[1], sh[2]
		w, b := randTensor(rng, out*in).Data, randTensor(rng, out).Data
		l, err := NewLinear(out, in, w, b)
		if err != nil {
			t.Fatal(err)
		}
		x := randTensor(rng, rows, in)
		// Scale so that the outputs are O(1), where GELU is not linear.
		for i := range x.Data {
			x.Data[i] /= float32(math.Sqrt(float64(in)))
		}
		want := New(rows, out)
		for r := 0; r < rows; r++ {
			for o := 0; o < out; o++ {
				s := float64(b[o])
				for i := 0; i < in; i++ {
					s += float64(x.Data[r*in+i]) * float64(w[o*in+i])
				}
				want.Data[r*out+o] = float32(s)
			}
		}
		compare(t, l.Forward(x), want, tolProduct)
		g := want.Clone()
		GELU(g)
		compare(t, l.ForwardGELU(x), g, tolProduct)
		dst := randTensor(rng, rows, out)
		sum := dst.Clone()
		Add(sum, want)
		l.AddForward(dst, x)
		compare(t, dst, sum, tolProduct)
		// The Into variants overwrite every value of a dirty buffer.
		into := New(rows, out)
		for i := range into.Data {
			into.Data[i] = float32(math.NaN())
		}
		l.ForwardInto(into, x)
		compare(t, into, want, tolProduct)
		l.ForwardGELUInto(into, x)
		compare(t, into, g, tolProduct)
	}
}

// TestIntoVariants checks LayerNorm.ForwardInto (also in place) and
// AttentionInto against the allocating forms: same code, so bit-identical.
func TestIntoVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	x := randTensor(rng, 2, 50, 48)
	w, b := randTensor(rng, 48).Data, randTensor(rng, 48).Data
	ln, err := NewLayerNorm(w, b, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	want := ln.Forward(x)
	got := New(x.Shape...)
	ln.ForwardInto(got, x)
	inPlace := x.Clone()
	ln.ForwardInto(inPlace, inPlace)
	for i := range want.Data {
		if got.Data[i] != want.Data[i] || inPlace.Data[i] != want.Data[i] {
			t.Fatalf("LayerNorm.ForwardInto [%d]: %g, in place %g, want %g", i, got.Data[i], inPlace.Data[i], want.Data[i])
		}
	}
	qkv := randTensor(rng, 2, 50, 3*48)
	wantA := Attention(qkv, 4)
	gotA := New(2, 50, 48)
	for i := range gotA.Data {
		gotA.Data[i] = float32(math.NaN())
	}
	AttentionInto(gotA, qkv, 4)
	for i := range wantA.Data {
		if gotA.Data[i] != wantA.Data[i] {
			t.Fatalf("AttentionInto [%d] = %g, want %g", i, gotA.Data[i], wantA.Data[i])
		}
	}
}

// TestConvForwardFusedInto checks that ForwardFusedInto overwrites every
// value of a NaN-filled buffer with what ForwardFused computes (the same
// code, so bit-identical) on each conv path: 1x1 GEMM, implicit im2col
// with stride and padding, grouped, depthwise (with a residual) and SAME
// padding; and that a buffer of the wrong size is refused.
func TestConvForwardFusedInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, s := range []ConvSpec{
		{InC: 8, OutC: 16, KH: 1, KW: 1},
		{InC: 8, OutC: 16, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{InC: 8, OutC: 12, KH: 3, KW: 3, Pad: 1, Groups: 4},
		{InC: 16, OutC: 16, KH: 3, KW: 3, Pad: 1, Groups: 16},
		{InC: 8, OutC: 8, KH: 3, KW: 3, Stride: 2, SamePad: true},
	} {
		c, err := NewConv2d(s, randTensor(rng, s.OutC*s.InC/max(s.Groups, 1)*s.KH*s.KW).Data, randTensor(rng, s.OutC).Data)
		if err != nil {
			t.Fatal(err)
		}
		x := randTensor(rng, 2, 11, 13, s.InC)
		shape := c.OutShape(x)
		res := randTensor(rng, shape...)
		for _, r := range []*Tensor{nil, res} {
			want := c.ForwardFused(x, ActReLU, r)
			got := New(shape...)
			for i := range got.Data {
				got.Data[i] = float32(math.NaN())
			}
			c.ForwardFusedInto(got, x, ActReLU, r)
			for i := range want.Data {
				if got.Data[i] != want.Data[i] {
					t.Fatalf("%+v residual %v: [%d] = %g, want %g", s, r != nil, i, got.Data[i], want.Data[i])
				}
			}
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: a short out was accepted", s)
				}
			}()
			c.ForwardFusedInto(New(1, 2, 2, s.OutC), x, Identity, nil)
		}()
		// An out sharing memory with x or the residual is refused.
		for name, f := range map[string]func(){
			"x": func() {
				// x and out in one buffer, sharing x's last element.
				buf := make([]float32, len(x.Data)+Numel(shape))
				xs := From(buf[:len(x.Data)], x.Shape...)
				c.ForwardFusedInto(From(buf[len(x.Data)-1:len(x.Data)-1+Numel(shape)], shape...), xs, Identity, nil)
			},
			"residual": func() { c.ForwardFusedInto(res, x, Identity, res) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%+v: out overlapping %s was accepted", s, name)
					}
				}()
				f()
			}()
		}
	}
}
