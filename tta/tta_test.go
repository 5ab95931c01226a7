package tta

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// grid returns an n x n x 1 tensor with distinct random values.
func grid(rng *rand.Rand, n int) *tensor.Tensor {
	t := tensor.New(n, n, 1)
	for i := range t.Data {
		t.Data[i] = rng.Float32()
	}
	return t
}

func TestApplyByHand(t *testing.T) {
	// 0 1
	// 2 3
	in := tensor.From([]float32{0, 1, 2, 3}, 2, 2, 1)
	want := map[Op][]float32{
		Identity:     {0, 1, 2, 3},
		Rot90:        {1, 3, 0, 2}, // counter-clockwise: the right column becomes the top row
		Rot180:       {3, 2, 1, 0},
		Rot270:       {2, 0, 3, 1},
		Mirror:       {1, 0, 3, 2},
		MirrorRot90:  {3, 1, 2, 0},
		MirrorRot180: {2, 3, 0, 1},
		MirrorRot270: {0, 2, 1, 3},
	}
	for op, w := range want {
		got, err := Apply(op, in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if got.Data[i] != w[i] {
				t.Errorf("op %d: got %v, want %v", op, got.Data, w)
				break
			}
		}
	}
	if _, err := Apply(Rot90, tensor.New(2, 3, 1)); err == nil {
		t.Error("a 2 x 3 tensor: no error")
	}
}

func TestGroupLaws(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := grid(rng, 5)
	apply := func(op Op, x *tensor.Tensor) *tensor.Tensor {
		y, err := Apply(op, x)
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	same := func(a, b *tensor.Tensor) bool {
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				return false
			}
		}
		return true
	}
	// Four quarter turns are the identity, two mirrors too; the eight
	// elements give eight different grids; MirrorRotK = Mirror after RotK.
	r := in
	for k := 0; k < 4; k++ {
		r = apply(Rot90, r)
	}
	if !same(r, in) {
		t.Error("Rot90^4 is not the identity")
	}
	if !same(apply(Mirror, apply(Mirror, in)), in) {
		t.Error("Mirror^2 is not the identity")
	}
	if !same(apply(Rot180, in), apply(Rot90, apply(Rot90, in))) || !same(apply(Rot270, in), apply(Rot90, apply(Rot180, in))) {
		t.Error("Rot180 / Rot270 are not powers of Rot90")
	}
	for k := Op(0); k < 4; k++ {
		if !same(apply(Mirror+k, in), apply(Mirror, apply(k, in))) {
			t.Errorf("op %d is not Mirror after op %d", Mirror+k, k)
		}
	}
	for a := Op(0); a < 8; a++ {
		for b := a + 1; b < 8; b++ {
			if same(apply(a, in), apply(b, in)) {
				t.Errorf("ops %d and %d give the same grid", a, b)
			}
		}
	}
}

// pointwise is a toy rotation-equivariant extractor: each cell's row is
// a function of that cell alone.
func pointwise(img *tensor.Tensor) *tensor.Tensor {
	n := img.Shape[0]
	z := tensor.New(n*n, 3)
	for i, v := range img.Data {
		z.Data[i*3], z.Data[i*3+1], z.Data[i*3+2] = v, v*v, float32(math.Sin(float64(v)))
	}
	return z
}

// directional is a toy extractor that is neither rotation- nor
// mirror-equivariant: it sees the right and lower neighbours and the row.
func directional(img *tensor.Tensor) *tensor.Tensor {
	n := img.Shape[0]
	at := func(y, x int) float32 {
		if y >= n || x >= n {
			return 0
		}
		return img.Data[y*n+x]
	}
	z := tensor.New(n*n, 4)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			r := z.Data[(y*n+x)*4 : (y*n+x+1)*4]
			// r[2] weighs an L of three cells unequally: a pattern with a
			// handedness, which a mirror changes and a turn does not.
			c := at(y+1, x+1)
			r[0], r[1], r[2], r[3] = at(y, x), 2*at(y, x+1)-at(y+1, x), at(y, x)*at(y, x+1)*at(y, x+1)*c*c*c, float32(y)/float32(n)
		}
	}
	return z
}

// tta runs extractor f on the copies of img that v combines.
func tta(t *testing.T, v Variant, f func(*tensor.Tensor) *tensor.Tensor, img *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	ops := v.Ops()
	zs := make([]*tensor.Tensor, len(ops))
	for k, op := range ops {
		c, err := Apply(op, img)
		if err != nil {
			t.Fatal(err)
		}
		zs[k] = f(c)
	}
	z, err := Combine(v, ops, zs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// The inverse mapping: an equivariant extractor's copies, mapped back,
// are the original's rows, so every variant gives the plain Z.
func TestCombineEquivariantIsPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	img := grid(rng, 6)
	plain := pointwise(img)
	for _, name := range Names() {
		v, err := Parse(name)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(tta(t, v, pointwise, img).Data, plain.Data); d > 1e-6 {
			t.Errorf("%s: differs from the plain Z by %g", v, d)
		}
	}
}

// colMean is the mean row of z: a pooled image descriptor.
func colMean(z *tensor.Tensor) []float32 {
	m, d := z.Shape[0], z.Shape[1]
	out := make([]float32, d)
	for i := 0; i < m; i++ {
		for j := 0; j < d; j++ {
			out[j] += z.Data[i*d+j] / float32(m)
		}
	}
	return out
}

// Averaged over a group, any extractor's Z of a transformed input is the
// transformed Z (the patches permuted), so the pooled descriptor does not
// change; without the augmentation it does.
func TestCombineInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 7
	img := grid(rng, n)
	for _, tc := range []struct {
		v         Variant
		invariant []Op // the group's own elements
		not       []Op // elements outside it
	}{
		{None, nil, []Op{Rot90, Mirror}},
		{Flip, []Op{Mirror}, []Op{Rot90, Rot180, MirrorRot90}},
		{Rot4, []Op{Rot90, Rot180, Rot270}, []Op{Mirror, MirrorRot90}},
		{D4, []Op{Rot90, Rot180, Rot270, Mirror, MirrorRot90, MirrorRot180, MirrorRot270}, nil},
		{"d4-max", []Op{Rot90, Mirror, MirrorRot270}, nil},
	} {
		z := tta(t, tc.v, directional, img)
		x := colMean(z)
		for _, h := range tc.invariant {
			turned, _ := Apply(h, img)
			zh := tta(t, tc.v, directional, turned)
			// Z(h·I) = h·Z(I): compare as grids.
			want, err := Apply(h, tensor.From(z.Data, n, n, z.Shape[1]))
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(zh.Data, want.Data); d > 1e-6 {
				t.Errorf("%s, input turned by op %d: Z is not the turned Z (max diff %g)", tc.v, h, d)
			}
			if d := maxDiff(colMean(zh), x); d > 1e-6 {
				t.Errorf("%s, input turned by op %d: pooled X changes by %g", tc.v, h, d)
			}
		}
		for _, h := range tc.not {
			turned, _ := Apply(h, img)
			if d := maxDiff(colMean(tta(t, tc.v, directional, turned)), x); d < 1e-5 { // float32 noise is ~1e-7
				t.Errorf("%s, input turned by op %d: X unchanged (diff %g): the toy extractor should see it", tc.v, h, d)
			}
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"", "none", "flip", "rot4", "d4", "d4-max", "flip-max"} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	for _, s := range []string{"rot2", "none-max", "D4", "d4-mean"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q): no error", s)
		}
	}
	if v, _ := Parse(""); !v.IsNone() || len(v.Ops()) != 1 {
		t.Error(`"" is not none`)
	}
	if v, _ := Parse("d4-max"); !v.Max() || len(v.Ops()) != 8 {
		t.Error("d4-max: not max over 8 copies")
	}
}

func TestCombineErrors(t *testing.T) {
	if _, err := Combine(Flip, []Op{Identity, Mirror}, []*tensor.Tensor{tensor.New(4, 2)}); err == nil {
		t.Error("1 copy for 2 ops: no error")
	}
	if _, err := Combine(Flip, []Op{Identity, Mirror}, []*tensor.Tensor{tensor.New(4, 2), tensor.New(4, 3)}); err == nil {
		t.Error("copies of different shapes: no error")
	}
	if _, err := Combine(None, []Op{Identity}, []*tensor.Tensor{tensor.New(5, 2)}); err == nil {
		t.Error("5 patches: no error")
	}
}
