package tensor

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"slices"
	"sort"
	"testing"
)

// fixtureCase is one entry of testdata/tensor_fixtures.json, written by
// testdata/gen_tensor_fixtures.py with PyTorch 1.13.
type fixtureCase struct {
	Op     string                     `json:"op"`
	Params map[string]any             `json:"params"`
	Arrays map[string]json.RawMessage `json:"arrays"`
	name   string
	data   []float32
}

func (c *fixtureCase) num(key string) float64 { return c.Params[key].(float64) }
func (c *fixtureCase) int(key string) int     { return int(c.num(key)) }
func (c *fixtureCase) flag(key string) bool   { return c.Params[key].(bool) }
func (c *fixtureCase) has(name string) bool   { _, ok := c.Arrays[name]; return ok }

// tensor returns the named array (a fresh copy, so in-place ops may modify it).
func (c *fixtureCase) tensor(t *testing.T, name string) *Tensor {
	t.Helper()
	raw, ok := c.Arrays[name]
	if !ok {
		t.Fatalf("%s: no array %q", c.name, name)
	}
	var a struct {
		Shape  []int `json:"shape"`
		Offset int   `json:"offset"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("%s/%s: %v", c.name, name, err)
	}
	n := Numel(a.Shape)
	return From(slices.Clone(c.data[a.Offset:a.Offset+n]), a.Shape...)
}

func (c *fixtureCase) values(t *testing.T, name string) []float32 {
	if !c.has(name) {
		return nil
	}
	return c.tensor(t, name).Data
}

// loadFixtures reads the golden cases, sorted by name.
func loadFixtures(t *testing.T) []*fixtureCase {
	t.Helper()
	var index struct {
		Cases map[string]*fixtureCase `json:"cases"`
	}
	js, err := os.ReadFile("testdata/tensor_fixtures.json")
	if err != nil {
		t.Fatalf("read fixture index: %v", err)
	}
	if err := json.Unmarshal(js, &index); err != nil {
		t.Fatalf("parse testdata/tensor_fixtures.json: %v", err)
	}
	bin, err := os.ReadFile("testdata/tensor_fixtures.bin")
	if err != nil {
		t.Fatalf("read fixture data: %v", err)
	}
	data := make([]float32, len(bin)/4)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:]))
	}
	var cases []*fixtureCase
	for name, c := range index.Cases {
		c.name, c.data = name, data
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// compare fails t unless got has want's shape and
// max|got - want| <= tol * max(1, max|want|).
func compare(t *testing.T, got, want *Tensor, tol float64) {
	t.Helper()
	if !slices.Equal(got.Shape, want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	worst, at, scale := 0.0, 0, 1.0
	for i, w := range want.Data {
		scale = max(scale, math.Abs(float64(w)))
		if d := math.Abs(float64(got.Data[i]) - float64(w)); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	t.Logf("max relative error %.2g (tolerance %.2g)", worst/scale, tol)
	if !(worst <= tol*scale) {
		t.Errorf("max error %.3g at index %d (got %g, want %g), tolerance %.3g x %.3g",
			worst, at, got.Data[at], want.Data[at], tol, scale)
	}
}

// Tolerances, relative to max(1, max|want|). float32 rounding gives
// ~6e-8 per operation; a dot product of length K accumulates ~sqrt(K) of
// them in the typical case and K in the worst. The products here have
// K <= 200 (7x7x3 stem; 8x8x3 patch embedding) and PyTorch sums in another
// order (MKL-DNN), so 2e-5 leaves >10x margin over the ~1e-6 typical error
// while still catching any wrong tap or weight (errors of order 1e-1).
// Element-wise ops and short sums (pools, resize, norms) get 2e-6.
const (
	tolProduct = 2e-5
	tolShort   = 2e-6
)

func TestAgainstPyTorch(t *testing.T) {
	for _, c := range loadFixtures(t) {
		t.Run(c.name, func(t *testing.T) {
			switch c.Op {
			case "conv2d":
				testConv(t, c)
			case "linear":
				l, err := NewLinear(6, 10, c.values(t, "weight"), c.values(t, "bias"))
				if err != nil {
					t.Fatal(err)
				}
				compare(t, l.Forward(c.tensor(t, "x")), c.tensor(t, "y"), tolProduct)
			case "gelu", "relu", "relu6":
				x := c.tensor(t, "x")
				map[string]func(*Tensor){"gelu": GELU, "relu": ReLU, "relu6": ReLU6}[c.Op](x)
				compare(t, x, c.tensor(t, "y"), tolShort)
			case "layernorm":
				ln, err := NewLayerNorm(c.values(t, "weight"), c.values(t, "bias"), c.num("eps"))
				if err != nil {
					t.Fatal(err)
				}
				compare(t, ln.Forward(c.tensor(t, "x")), c.tensor(t, "y"), tolShort)
			case "layernorm_all":
				x := c.tensor(t, "x")
				LayerNormAll(x, c.num("eps"))
				compare(t, x, c.tensor(t, "y"), tolShort)
			case "softmax":
				x := c.tensor(t, "x")
				Softmax(x)
				compare(t, x, c.tensor(t, "y"), tolShort)
			case "maxpool2d":
				compareMaps(t, func(x *Tensor) *Tensor { return MaxPool2d(x, c.int("k"), c.int("stride"), c.int("pad")) }, c, 0)
			case "avgpool2d":
				compareMaps(t, func(x *Tensor) *Tensor { return AvgPool2d(x, c.int("k"), c.int("stride"), c.int("pad")) }, c, tolShort)
			case "adaptive_avg_pool2d":
				compareMaps(t, func(x *Tensor) *Tensor { return AdaptiveAvgPool2d(x, c.int("oh"), c.int("ow")) }, c, tolShort)
			case "adaptive_avg_pool1d":
				compare(t, AdaptiveAvgPool1d(c.tensor(t, "x"), c.int("m")), c.tensor(t, "y"), tolShort)
			case "global_avg_pool":
				compare(t, GlobalAvgPool(c.tensor(t, "x")), c.tensor(t, "y"), tolShort)
			case "resize":
				compareMaps(t, func(x *Tensor) *Tensor { return Resize(x, c.int("oh"), c.int("ow"), modeOf(t, c)) }, c, tolShort)
			case "resize_scale":
				compareMaps(t, func(x *Tensor) *Tensor { return ResizeScale(x, c.num("sh"), c.num("sw"), modeOf(t, c)) }, c, tolShort)
			case "attention":
				compare(t, Attention(c.tensor(t, "qkv"), c.int("heads")), c.tensor(t, "y"), tolProduct)
			case "bmm":
				compare(t, BatchMatMul(c.tensor(t, "a"), c.tensor(t, "b")), c.tensor(t, "y"), tolProduct)
			default:
				t.Fatalf("unknown op %q", c.Op)
			}
		})
	}
}

// compareMaps checks a map operation on the fixture's (N, H, W, C) batch x
// against y, and on the first image alone as an (H, W, C) map against y's
// first image.
func compareMaps(t *testing.T, op func(*Tensor) *Tensor, c *fixtureCase, tol float64) {
	t.Helper()
	x, want := c.tensor(t, "x"), c.tensor(t, "y")
	compare(t, op(x), want, tol)
	_, h, w, ch := mapDims("test", x)
	_, oh, ow, oc := mapDims("test", want)
	compare(t, op(From(x.Data[:h*w*ch], h, w, ch)), From(want.Data[:oh*ow*oc], oh, ow, oc), tol)
}

func modeOf(t *testing.T, c *fixtureCase) Interpolation {
	switch c.Params["mode"] {
	case "bilinear":
		return Bilinear
	case "bicubic":
		return Bicubic
	}
	t.Fatalf("unknown mode %v", c.Params["mode"])
	return 0
}

func testConv(t *testing.T, c *fixtureCase) {
	spec := ConvSpec{
		InC: c.int("inC"), OutC: c.int("outC"), KH: c.int("k"), KW: c.int("k"),
		Stride: c.int("stride"), Pad: c.int("pad"), SamePad: c.flag("same"),
		Groups: c.int("groups"), Dilation: c.int("dilation"),
	}
	conv, err := NewConv2d(spec, c.values(t, "weight"), c.values(t, "bias"))
	if err != nil {
		t.Fatal(err)
	}
	if c.flag("bn") {
		if err := conv.FoldBatchNorm(c.values(t, "gamma"), c.values(t, "beta"), c.values(t, "mean"), c.values(t, "var"), 1e-5); err != nil {
			t.Fatal(err)
		}
	}
	x, want := c.tensor(t, "x"), c.tensor(t, "y")
	compare(t, conv.Forward(x), want, tolProduct)

	// A single (H, W, C) image must give the batch's first output.
	n, h, w, ch := mapDims("test", x)
	_, oh, ow, oc := mapDims("test", want)
	one := From(x.Data[:h*w*ch], h, w, ch)
	first := From(want.Data[:oh*ow*oc], oh, ow, oc)
	if n > 1 {
		compare(t, conv.Forward(one), first, tolProduct)
	}
	if gh, gw := conv.OutputSize(h, w); gh != oh || gw != ow {
		t.Errorf("OutputSize(%d, %d) = %d, %d; want %d, %d", h, w, gh, gw, oh, ow)
	}
}
