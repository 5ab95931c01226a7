package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/backbone/internal/backbonetest"
	"github.com/anomclust/anomclust/internal/isa"
	"github.com/anomclust/anomclust/tensor"
)

// TestWinogradMatchesDirect compares both Winograd convolutions, F(2x2, 3x3)
// and F(4x4, 3x3) (assembly and Go transforms), with tensor.Conv2d on map
// sizes that are and are not multiples of the tile, channel counts that are
// and are not multiples of 16, with and without ReLU, and with the
// production block size as well as blocks of 5 tiles (so every shape with
// more than 5 tiles spans several blocks, the last one partial, exercising
// the t0 offsets of the multi-block loop). Each variant has its own
// tolerance, justified beside it.
func TestWinogradMatchesDirect(t *testing.T) {
	type shape struct{ n, h, w, in, out int }
	shapes := []shape{{2, 7, 9, 16, 32}, {1, 8, 8, 32, 16}, {3, 5, 6, 12, 20}, {1, 1, 1, 16, 16}, {2, 14, 14, 64, 48}}
	for _, v := range []struct {
		name   string
		seed   uint64 // the PCG seed is (seed, seed+1)
		shapes []shape
		tol    float64
		conv   func(wt, bias []float32, in, out int, noAsm bool, block int) convOp
	}{
		// F(2x2): both are float32 sums over 9*Cin products in different
		// orders; 2e-6 of the largest output is ~20 ulps.
		{"F2x2", 3, shapes, 2e-6, func(wt, bias []float32, in, out int, noAsm bool, block int) convOp {
			wc := newWinograd(wt, bias, in, out)
			wc.noAsm, wc.blockTiles = noAsm, block
			return wc
		}},
		// F(4x4): the transforms scale values by up to 8 (and G by 1/24),
		// so rounding errors are about 10x those of F(2x2): measured up to
		// 1.2e-5 relative here (vs ~2e-7 for F(2x2) on the same cases);
		// 4e-5 leaves 3x margin and is still far below any wrong tap or
		// weight (errors of order 1e-1).
		{"F4x4", 13, append(shapes, shape{1, 12, 16, 48, 64}), 4e-5, func(wt, bias []float32, in, out int, noAsm bool, block int) convOp {
			wc := newWinograd4(wt, bias, in, out)
			wc.noAsm, wc.blockTiles = noAsm, block
			return wc
		}},
	} {
		t.Run(v.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(v.seed, v.seed+1))
			for _, tc := range v.shapes {
				wt := make([]float32, tc.out*tc.in*9)
				bias := make([]float32, tc.out)
				for i := range wt {
					wt[i] = float32(rng.NormFloat64())
				}
				for i := range bias {
					bias[i] = float32(rng.NormFloat64())
				}
				x := tensor.New(tc.n, tc.h, tc.w, tc.in)
				for i := range x.Data {
					x.Data[i] = float32(rng.NormFloat64())
				}
				c, err := tensor.NewConv2d(tensor.ConvSpec{InC: tc.in, OutC: tc.out, KH: 3, KW: 3, Stride: 1, Pad: 1}, wt, bias)
				if err != nil {
					t.Fatal(err)
				}
				for _, relu := range []bool{false, true} {
					want := direct{c}.forward(nil, x, relu)
					for _, noAsm := range []bool{false, true} {
						for _, block := range []int{0, 5} { // 0: production size
							// The second pass runs on recycled buffers (the
							// first pass's scratch and its NaN-filled output):
							// the conv must overwrite every value it returns.
							a := newArena([3]int{})
							conv := v.conv(wt, bias, tc.in, tc.out, noAsm, block)
							first := conv.forward(a, x, relu)
							for i := range first.Data {
								first.Data[i] = float32(math.NaN())
							}
							a.release(first.Data)
							got := conv.forward(a, x, relu)
							e, err := backbonetest.RelMaxErr(got.Data, want.Data)
							if err != nil {
								t.Fatal(err)
							}
							if !(e <= v.tol) {
								t.Errorf("%+v relu=%v noAsm=%v block=%d: relative max error %.3g", tc, relu, noAsm, block, e)
							}
						}
					}
				}
			}
		})
	}
}

// TestWinogradAsmTwin checks that the assembly transforms give bit-for-bit
// the Go twins' results (same operations in the same order), NaN and -0
// included (see plantInputSpecials, plantOutputSpecials).
func TestWinogradAsmTwin(t *testing.T) {
	levels := winoLevels()
	if len(levels) == 0 {
		t.Skip("no assembly transforms for this CPU/build (" + isa.Describe() + ")")
	}
	for _, k := range levels {
		t.Run(k.name, func(t *testing.T) { testWinogradAsmTwin(t, k) })
	}
}

func testWinogradAsmTwin(t *testing.T, k *winoKernels) {
	rng := rand.New(rand.NewPCG(5, 6))
	const c, stride = 48, 64
	var d [16][]float32
	var p [16]*float32
	for k := range d {
		d[k] = make([]float32, c)
		for i := range d[k] {
			d[k][i] = float32(rng.NormFloat64())
		}
		p[k] = &d[k][0]
	}
	plantInputSpecials(d[:])
	vGo, vAsm := make([]float32, 16*stride), make([]float32, 16*stride)
	inputTransform(&d, vGo, stride, c)
	k.input(&p, &vAsm[0], stride, c)
	requireSameBits(t, "input transform", vGo, vAsm)
	bias := make([]float32, c)
	for i := range bias {
		bias[i] = float32(rng.NormFloat64())
	}
	plantOutputSpecials(vGo, stride, bias, 5)
	for _, relu := range []bool{false, true} {
		var dg, da [4][]float32
		var pa [4]*float32
		for k := range dg {
			dg[k], da[k] = make([]float32, c), make([]float32, c)
			pa[k] = &da[k][0]
		}
		outputTransform(vGo, stride, &dg, bias, relu)
		checkSpecialsReached(t, dg[:])
		k.output(&vGo[0], stride, &pa, &bias[0], c, relu)
		for k := range dg {
			requireSameBits(t, fmt.Sprintf("output transform (relu=%v) tile pixel %d", relu, k), dg[k], da[k])
		}
	}
}

// TestWinograd4AsmTwin checks that the F(4x4) assembly transforms give
// bit-for-bit the Go twins' results (same operations in the same order),
// NaN and -0 included.
func TestWinograd4AsmTwin(t *testing.T) {
	levels := winoLevels()
	if len(levels) == 0 {
		t.Skip("no assembly transforms for this CPU/build (" + isa.Describe() + ")")
	}
	for _, k := range levels {
		t.Run(k.name, func(t *testing.T) { testWinograd4AsmTwin(t, k) })
	}
}

func testWinograd4AsmTwin(t *testing.T, k *winoKernels) {
	rng := rand.New(rand.NewPCG(15, 16))
	const c, stride = 48, 64
	var d [36][]float32
	var p [36]*float32
	for k := range d {
		d[k] = make([]float32, c)
		for i := range d[k] {
			d[k][i] = float32(rng.NormFloat64())
		}
		p[k] = &d[k][0]
	}
	plantInputSpecials(d[:])
	vGo, vAsm := make([]float32, 36*stride), make([]float32, 36*stride)
	var scratch [36 * 16]float32
	input4Transform(&d, vGo, stride, c)
	k.input4(&p, &vAsm[0], stride, c, &scratch)
	requireSameBits(t, "input transform", vGo, vAsm)
	bias := make([]float32, c)
	for i := range bias {
		bias[i] = float32(rng.NormFloat64())
	}
	plantOutputSpecials(vGo, stride, bias, 7)
	for _, relu := range []bool{false, true} {
		var dg, da [16][]float32
		var pa [16]*float32
		for k := range dg {
			dg[k], da[k] = make([]float32, c), make([]float32, c)
			pa[k] = &da[k][0]
		}
		output4Transform(vGo, stride, &dg, bias, relu)
		checkSpecialsReached(t, dg[:])
		k.output4(&vGo[0], stride, &pa, &bias[0], c, relu, &scratch)
		for k := range dg {
			requireSameBits(t, fmt.Sprintf("output transform (relu=%v) tile pixel %d", relu, k), dg[k], da[k])
		}
	}
}

// plantInputSpecials puts a NaN in channel 0 of one input pixel and -0 in
// channel 1 of every pixel of a tile, so the bitwise twin comparisons cover
// NaN propagation and signed zeros.
func plantInputSpecials(d [][]float32) {
	d[3][0] = float32(math.NaN())
	for _, px := range d {
		px[1] = float32(math.Copysign(0, -1))
	}
}

// plantOutputSpecials edits a transformed product m (position k at
// m[k*stride:]) and the bias so that the output transform sees, under ReLU:
// NaN from the product (channel 3: position pos, which feeds every output
// of the tile), NaN from the bias (channel 4), and -0 (channel 2: all -0,
// bias -0, so the additions give -0 outputs). torch.relu keeps NaN and -0
// (clamp_min is _mm512_max_ps(0, x), returning x unless 0 > x); a
// VMAXPS with the operands the other way round gives 0 for both, which
// these channels catch.
func plantOutputSpecials(m []float32, stride int, bias []float32, pos int) {
	negZero := float32(math.Copysign(0, -1))
	for k := 0; (k+1)*stride <= len(m); k++ {
		m[k*stride+2] = negZero
	}
	bias[2] = negZero
	m[pos*stride+3] = float32(math.NaN())
	bias[4] = float32(math.NaN())
}

// checkSpecialsReached fails unless the Go output transform's results hold
// both a NaN and a -0 (so plantOutputSpecials did reach the outputs).
func checkSpecialsReached(t *testing.T, out [][]float32) {
	t.Helper()
	var nan, negZero bool
	for _, r := range out {
		for _, v := range r {
			nan = nan || v != v
			negZero = negZero || math.Float32bits(v) == 0x80000000
		}
	}
	if !nan || !negZero {
		t.Fatalf("outputs hold NaN: %v, -0: %v; want both", nan, negZero)
	}
}

// requireSameBits fails unless the Go and assembly results are identical bit
// for bit (NaN payloads and the sign of zero included).
func requireSameBits(t *testing.T, what string, goRes, asmRes []float32) {
	t.Helper()
	for i := range goRes {
		if math.Float32bits(goRes[i]) != math.Float32bits(asmRes[i]) {
			t.Fatalf("%s differs at %d: go %g asm %g", what, i, goRes[i], asmRes[i])
		}
	}
}
