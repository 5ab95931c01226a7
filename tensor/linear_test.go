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
