package mobilenet

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/checkpoint/tflite"
	"github.com/anomclust/anomclust/tensor"
)

// synthetic is a small TFLite graph built in memory, with the features of
// the MobileNet graphs and a few more (depth multiplier 2, an omitted bias,
// FULLY_CONNECTED, softmax beta), so that the interpreter is tested without
// ../shared against a direct, naive NHWC evaluation (ref* below).
type synthetic struct {
	m *tflite.Model
	// Dequantised float weights, in TFLite layouts, for the reference.
	convW, convB []float32 // (4, 3, 3, 3) OHWI, (4)
	dwW, dwB     []float32 // (1, 3, 3, 8), (8)
	pwW          []float32 // (8, 1, 1, 8)
	fcW, fcB     []float32 // (3, 8), (3)
}

func newSynthetic(t *testing.T) *synthetic {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &synthetic{m: &tflite.Model{File: "synthetic.tflite", Buffers: [][]byte{nil}}}
	var tensors []tflite.Tensor
	add := func(name string, shape []int, typ tflite.TensorType, data []byte, q *tflite.Quantization) int {
		buf := 0
		if data != nil {
			s.m.Buffers = append(s.m.Buffers, data)
			buf = len(s.m.Buffers) - 1
		}
		tensors = append(tensors, tflite.Tensor{Name: name, Shape: shape, Type: typ, Buffer: buf, Quant: q})
		return len(tensors) - 1
	}
	// uint8 weights with a per-tensor scale and zero point; returns the
	// bytes and the dequantised values (q - zp)*scale.
	quantU8 := func(n int, scale float32, zp int64) ([]byte, []float32, *tflite.Quantization) {
		b := make([]byte, n)
		v := make([]float32, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
			v[i] = float32(float64(scale) * float64(int64(b[i])-zp))
		}
		return b, v, &tflite.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	// int8 weights quantised per output channel along dimension dim.
	quantI8 := func(shape []int, dim int) ([]byte, []float32, *tflite.Quantization) {
		n := tensor.Numel(shape)
		q := &tflite.Quantization{Dimension: dim}
		for c := 0; c < shape[dim]; c++ {
			q.Scale = append(q.Scale, 0.01*float32(c+1))
			q.ZeroPoint = append(q.ZeroPoint, int64(c%3-1))
		}
		inner := tensor.Numel(shape[dim+1:])
		b := make([]byte, n)
		v := make([]float32, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
			c := (i / inner) % shape[dim]
			v[i] = float32(float64(q.Scale[c]) * float64(int64(int8(b[i]))-q.ZeroPoint[c]))
		}
		return b, v, q
	}
	f32 := func(v []float32) []byte {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	}
	randF := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.3)
		}
		return v
	}
	i32 := func(v ...int32) []byte {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
		}
		return b
	}

	in := add("input", []int{1, 10, 10, 3}, tflite.UInt8, nil, &tflite.Quantization{Scale: []float32{1.0 / 128}, ZeroPoint: []int64{128}})
	wb, wv, wq := quantU8(4*3*3*3, 0.05, 120)
	s.convW = wv
	convW := add("Net/conv/weights", []int{4, 3, 3, 3}, tflite.UInt8, wb, wq)
	// int32 bias, scale 0.001.
	s.convB = []float32{0.1, -0.2, 0.3, 0.05}
	convB := add("Net/conv/bias", []int{4}, tflite.Int32, i32(100, -200, 300, 50), &tflite.Quantization{Scale: []float32{0.001}, ZeroPoint: []int64{0}})
	conv := add("Net/conv/Relu6;Net/conv/add_fold", []int{1, 5, 5, 4}, tflite.UInt8, nil, nil)
	db, dv, dq := quantI8([]int{1, 3, 3, 8}, 3)
	s.dwW = dv
	dwW := add("Net/dw/weights", []int{1, 3, 3, 8}, tflite.Int8, db, dq)
	s.dwB = randF(8)
	dwB := add("Net/dw/bias", []int{8}, tflite.Float32, f32(s.dwB), nil)
	dw := add("Net/dw/Relu", []int{1, 5, 5, 8}, tflite.UInt8, nil, nil)
	s.pwW = randF(8 * 8)
	pwW := add("Net/pw/weights", []int{8, 1, 1, 8}, tflite.Float32, f32(s.pwW), nil)
	pw := add("Net/pw/add_fold", []int{1, 5, 5, 8}, tflite.UInt8, nil, nil)
	sum := add("Net/add", []int{1, 5, 5, 8}, tflite.UInt8, nil, nil)
	pool := add("Net/pool/AvgPool", []int{1, 1, 1, 8}, tflite.UInt8, nil, nil)
	s.fcW, s.fcB = randF(3*8), randF(3)
	fcW := add("Net/fc/weights", []int{3, 8}, tflite.Float32, f32(s.fcW), nil)
	fcB := add("Net/fc/bias", []int{3}, tflite.Float32, f32(s.fcB), nil)
	fc := add("Net/fc/BiasAdd", []int{1, 3}, tflite.UInt8, nil, nil)
	shape := add("Net/shape", []int{2}, tflite.Int32, i32(1, -1), nil)
	logits := add("Net/logits", []int{1, 3}, tflite.UInt8, nil, nil)
	probs := add("Net/probs/Softmax", []int{1, 3}, tflite.UInt8, nil, nil)

	s.m.OperatorCodes = []tflite.OperatorCode{{Builtin: tflite.OpConv2D}, {Builtin: tflite.OpDepthwiseConv},
		{Builtin: tflite.OpAdd}, {Builtin: tflite.OpAveragePool2D}, {Builtin: tflite.OpFullyConnected},
		{Builtin: tflite.OpReshape}, {Builtin: tflite.OpSoftmax}}
	ops := []tflite.Operator{
		{Op: tflite.OpConv2D, Inputs: []int{in, convW, convB}, Outputs: []int{conv},
			Conv2D: &tflite.Conv2DOptions{Padding: tflite.Same, StrideW: 2, StrideH: 2, Activation: tflite.ActRelu6, DilationW: 1, DilationH: 1}},
		{Op: tflite.OpDepthwiseConv, Inputs: []int{conv, dwW, dwB}, Outputs: []int{dw},
			DepthwiseConv2D: &tflite.DepthwiseConv2DOptions{Padding: tflite.Same, StrideW: 1, StrideH: 1, DepthMultiplier: 2, Activation: tflite.ActRelu, DilationW: 1, DilationH: 1}},
		{Op: tflite.OpConv2D, Inputs: []int{dw, pwW, -1}, Outputs: []int{pw},
			Conv2D: &tflite.Conv2DOptions{Padding: tflite.Valid, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1}},
		{Op: tflite.OpAdd, Inputs: []int{pw, dw}, Outputs: []int{sum}, Add: &tflite.ActivationOptions{Activation: tflite.ActRelu6}},
		{Op: tflite.OpAveragePool2D, Inputs: []int{sum}, Outputs: []int{pool},
			Pool2D: &tflite.Pool2DOptions{Padding: tflite.Valid, StrideW: 1, StrideH: 1, FilterW: 5, FilterH: 5}},
		{Op: tflite.OpFullyConnected, Inputs: []int{pool, fcW, fcB}, Outputs: []int{fc}, FullyConnected: &tflite.FullyConnectedOptions{}},
		{Op: tflite.OpReshape, Inputs: []int{fc, shape}, Outputs: []int{logits}},
		{Op: tflite.OpSoftmax, Inputs: []int{logits}, Outputs: []int{probs}, Softmax: &tflite.SoftmaxOptions{Beta: 0.5}},
	}
	s.m.Subgraphs = []tflite.Subgraph{{Tensors: tensors, Inputs: []int{in}, Outputs: []int{probs}, Operators: ops}}
	return s
}

// refConv is a direct NHWC convolution with TensorFlow SAME or VALID
// padding (SAME: out = ceil(in/stride), total padding split with the odd
// pixel at the bottom/right). w is (KH, KW, Cin, Cout) indexed by wAt.
func refConv(x []float32, h, w, cin int, kh, kw, cout, stride int, same bool, wAt func(ky, kx, ci, co int) float32, bias []float32) ([]float32, int, int) {
	oh, ow, pt, pl := (h-kh)/stride+1, (w-kw)/stride+1, 0, 0
	if same {
		oh, ow = (h+stride-1)/stride, (w+stride-1)/stride
		pt = max((oh-1)*stride+kh-h, 0) / 2
		pl = max((ow-1)*stride+kw-w, 0) / 2
	}
	out := make([]float32, oh*ow*cout)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			for co := 0; co < cout; co++ {
				var acc float64
				if bias != nil {
					acc = float64(bias[co])
				}
				for ky := 0; ky < kh; ky++ {
					for kx := 0; kx < kw; kx++ {
						iy, ix := oy*stride+ky-pt, ox*stride+kx-pl
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						for ci := 0; ci < cin; ci++ {
							if wv := wAt(ky, kx, ci, co); wv != 0 {
								acc += float64(x[(iy*w+ix)*cin+ci]) * float64(wv)
							}
						}
					}
				}
				out[(oy*ow+ox)*cout+co] = float32(acc)
			}
		}
	}
	return out, oh, ow
}

func clamp(v []float32, hi float64) {
	for i, x := range v {
		v[i] = float32(math.Min(math.Max(float64(x), 0), hi))
	}
}

// reference evaluates the synthetic graph directly from its TFLite layouts.
func (s *synthetic) reference(img []float32) map[string][]float32 {
	conv, h, w := refConv(img, 10, 10, 3, 3, 3, 4, 2, true,
		func(ky, kx, ci, co int) float32 { return s.convW[((co*3+ky)*3+kx)*3+ci] }, s.convB)
	clamp(conv, 6)
	// Depthwise, multiplier 2: output channel co reads input co/2 with
	// filter (1, KH, KW, Cout) entry [ky, kx, co].
	dw, _, _ := refConv(conv, h, w, 4, 3, 3, 8, 1, true, func(ky, kx, ci, co int) float32 {
		if co/2 != ci {
			return 0
		}
		return s.dwW[(ky*3+kx)*8+co]
	}, s.dwB)
	clamp(dw, math.Inf(1))
	pw, _, _ := refConv(dw, h, w, 8, 1, 1, 8, 1, false, func(_, _, ci, co int) float32 { return s.pwW[co*8+ci] }, nil)
	sum := make([]float32, len(pw))
	for i := range pw {
		sum[i] = pw[i] + dw[i]
	}
	clamp(sum, 6)
	pool := make([]float32, 8)
	for i, v := range sum {
		pool[i%8] += v / 25
	}
	logits := make([]float32, 3)
	for o := range logits {
		acc := float64(s.fcB[o])
		for i := range pool {
			acc += float64(s.fcW[o*8+i]) * float64(pool[i])
		}
		logits[o] = float32(acc)
	}
	probs := make([]float32, 3)
	var z float64
	for i, l := range logits {
		z += math.Exp(0.5 * float64(l))
		probs[i] = float32(math.Exp(0.5 * float64(l)))
	}
	for i := range probs {
		probs[i] = float32(float64(probs[i]) / z)
	}
	return map[string][]float32{"Net/conv": conv, "Net/dw": dw, "Net/pw": pw, "Net/add": sum, "Net/pool": pool, "Net/logits": logits, "output": probs}
}

func TestSyntheticGraph(t *testing.T) {
	s := newSynthetic(t)
	b, err := New("synthetic", s.m)
	if err != nil {
		t.Fatal(err)
	}
	wantLayers := []string{"stride2", "Net/conv", "Net/dw", "Net/pw", "Net/add", "Net/pool", "Net/fc", "Net/logits", "Net/probs", "output"}
	if !slices.Equal(b.Layers(), wantLayers) {
		t.Errorf("Layers() = %v, want %v", b.Layers(), wantLayers)
	}
	p := b.Preprocess()
	if p.Crop != 10 || !(math.Abs(float64(p.Mean[0])-128.0/255) <= 1e-7) || !(math.Abs(float64(p.Std[1])-128.0/255) <= 1e-7) {
		t.Errorf("Preprocess() = %+v, want crop 10, mean = std = 128/255", p)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var images []*tensor.Tensor
	for range 2 {
		img := tensor.New(10, 10, 3)
		for i := range img.Data {
			img.Data[i] = float32(rng.IntN(256)-128) / 128
		}
		images = append(images, img)
	}
	layers := []string{"Net/conv", "Net/dw", "Net/pw", "Net/add", "Net/pool", "Net/logits", "output", "stride2", "op1"}
	out, err := b.Forward(images, layers)
	if err != nil {
		t.Fatal(err)
	}
	for k, img := range images {
		ref := s.reference(img.Data)
		ref["stride2"] = ref["Net/add"] // last map at stride 2
		ref["op1"] = ref["Net/dw"]
		for _, l := range layers {
			got := out[k][l].Data
			// float32 products and sums vs float64 accumulation over at
			// most 27 terms: relative errors ~1e-7 of the map's largest
			// value; a layout or padding slip gives errors of order 1.
			tol := 1e-5 * math.Max(maxAbs32(ref[l]), 1)
			if e := maxDiff32(got, ref[l]); !(e <= tol) || len(got) != len(ref[l]) { // maxDiff is NaN if any value is
				t.Errorf("image %d %s: max error %.3g > %.3g (%d values, want %d)", k, l, e, tol, len(got), len(ref[l]))
			}
		}
	}
	if s := out[0]["Net/pool"].Shape; !slices.Equal(s, []int{1, 1, 8}) {
		t.Errorf("pool shape %v", s)
	}
	if s := out[0]["output"].Shape; !slices.Equal(s, []int{3}) {
		t.Errorf("output shape %v, want [3] (batch dimension dropped)", s)
	}
}

// TestUnsupported: an operator the interpreter cannot run (or a fused
// activation it does not know) fails Forward only for the taps that depend
// on it; a graph reading a tensor nothing wrote does not load.
func TestUnsupported(t *testing.T) {
	img := tensor.New(10, 10, 3)
	for name, mutate := range map[string]func(s *synthetic){
		"MUL":         func(s *synthetic) { s.m.Subgraphs[0].Operators[3].Op = tflite.OpMul },
		"fused TANH":  func(s *synthetic) { s.m.Subgraphs[0].Operators[3].Add.Activation = tflite.ActTanh },
		"MAX_POOL_2D": func(s *synthetic) { s.m.Subgraphs[0].Operators[3].Op = tflite.OpMaxPool2D },
	} {
		s := newSynthetic(t)
		mutate(s)
		b, err := New("synthetic", s.m)
		if err != nil {
			t.Errorf("%s at operator 3: New failed although earlier taps need no such operator: %v", name, err)
			continue
		}
		if _, err := b.Forward([]*tensor.Tensor{img}, []string{"Net/conv", "Net/pw"}); err != nil {
			t.Errorf("%s at operator 3: taps before it fail: %v", name, err)
		}
		for _, l := range []string{"Net/add", "output"} {
			if _, err := b.Forward([]*tensor.Tensor{img}, []string{l}); err == nil || !strings.Contains(err.Error(), "operator 3") {
				t.Errorf("%s at operator 3: tap %s needing it gives error %v, want one naming operator 3", name, l, err)
			}
		}
	}
	s := newSynthetic(t)
	s.m.Subgraphs[0].Operators[1].Inputs[0] = 8 // reads the ADD's output before it runs
	if _, err := New("synthetic", s.m); err == nil {
		t.Error("an operator reading a tensor not yet written was accepted")
	}
}

// TestMean replaces the average pool of the synthetic graph by MEAN over
// H and W (as TF2 Keras exports the global pool), with and without
// keep_dims, and checks it against the naive mean.
func TestMean(t *testing.T) {
	for _, keep := range []bool{true, false} {
		s := newSynthetic(t)
		sg := &s.m.Subgraphs[0]
		s.m.Buffers = append(s.m.Buffers, make([]byte, 8))
		binary.LittleEndian.PutUint32(s.m.Buffers[len(s.m.Buffers)-1], 1)
		// axes (1, 2) written as 1 and -2 to exercise negative axes.
		binary.LittleEndian.PutUint32(s.m.Buffers[len(s.m.Buffers)-1][4:], uint32(0xfffffffe))
		sg.Tensors = append(sg.Tensors, tflite.Tensor{Name: "Net/axes", Shape: []int{2}, Type: tflite.Int32, Buffer: len(s.m.Buffers) - 1})
		axes := len(sg.Tensors) - 1
		op := &sg.Operators[4]
		pool := op.Outputs[0]
		*op = tflite.Operator{Op: tflite.OpMean, Inputs: []int{op.Inputs[0], axes}, Outputs: []int{pool}, Reducer: &tflite.ReducerOptions{KeepDims: keep}}
		if !keep {
			sg.Tensors[pool].Shape = []int{1, 8}
		}
		b, err := New("synthetic", s.m)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(b.Layers(), "stride10") {
			t.Errorf("the MEAN output is listed as a feature map: %v", b.Layers())
		}
		rng := rand.New(rand.NewPCG(5, 6))
		img := tensor.New(10, 10, 3)
		for i := range img.Data {
			img.Data[i] = float32(rng.IntN(256)-128) / 128
		}
		out, err := b.Forward([]*tensor.Tensor{img}, []string{"Net/add", "Net/pool", "output"})
		if err != nil {
			t.Fatal(err)
		}
		add, got := out[0]["Net/add"], out[0]["Net/pool"]
		wantShape := []int{1, 1, 8}
		if !keep {
			wantShape = []int{8}
		}
		if !slices.Equal(got.Shape, wantShape) {
			t.Errorf("keep_dims %v: shape %v, want %v", keep, got.Shape, wantShape)
		}
		ref := s.reference(img.Data)
		for c := 0; c < 8; c++ {
			var sum float64
			for p := 0; p < 25; p++ {
				sum += float64(add.Data[p*8+c])
			}
			if e := math.Abs(float64(got.Data[c]) - sum/25); !(e <= 1e-6) {
				t.Errorf("keep_dims %v: channel %d mean %v, want %v", keep, c, got.Data[c], sum/25)
			}
			if e := math.Abs(float64(got.Data[c]) - float64(ref["Net/pool"][c])); !(e <= 1e-5) {
				t.Errorf("keep_dims %v: channel %d mean %v, average pool gives %v", keep, c, got.Data[c], ref["Net/pool"][c])
			}
		}
		if e := maxDiff32(out[0]["output"].Data, ref["output"]); !(e <= 1e-5) {
			t.Errorf("keep_dims %v: output after MEAN differs from the pooled graph's by %g", keep, e)
		}
	}
	// The batch axis cannot be reduced.
	s := newSynthetic(t)
	sg := &s.m.Subgraphs[0]
	s.m.Buffers = append(s.m.Buffers, []byte{0, 0, 0, 0})
	sg.Tensors = append(sg.Tensors, tflite.Tensor{Name: "Net/axes", Shape: []int{1}, Type: tflite.Int32, Buffer: len(s.m.Buffers) - 1})
	op := &sg.Operators[4]
	*op = tflite.Operator{Op: tflite.OpMean, Inputs: []int{op.Inputs[0], len(sg.Tensors) - 1}, Outputs: op.Outputs}
	b, err := New("synthetic", s.m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Forward([]*tensor.Tensor{tensor.New(10, 10, 3)}, []string{"Net/pool"}); err == nil {
		t.Error("MEAN over the batch axis accepted")
	}
}

func TestShortName(t *testing.T) {
	for full, want := range map[string]string{
		"MobilenetV2/expanded_conv_5/project/add_fold;MobilenetV2/expanded_conv_5/project/Conv2D_Fold": "expanded_conv_5/project",
		"MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6;x":                                          "Conv2d_11_pointwise",
		"MobilenetV2/expanded_conv_2/add":                                                              "expanded_conv_2/add",
		"MobilenetV2/Predictions/Softmax":                                                              "Predictions",
		"MobilenetV1/Logits/AvgPool_1a/AvgPool":                                                        "Logits/AvgPool_1a",
		"MobileNetV2/expanded_conv_3/add;StatefulPartitionedCall/MobileNetV2/expanded_conv_3/add":      "expanded_conv_3/add",
	} {
		if got := shortName(full); got != want {
			t.Errorf("shortName(%q) = %q, want %q", full, got, want)
		}
	}
}
