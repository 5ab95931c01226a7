package tflite

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sharedWeights is ../shared/weights beside the module root; this package
// is three directories below the root.
var sharedWeights = filepath.Join("..", "..", "..", "shared", "weights")

const (
	v1File = "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"
	v2File = "mobilenet_v2_1.0_224_quant.tflite"
)

func readShared(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedWeights, name))
	if err != nil {
		t.Skipf("shared weights not available (%v): the real-file checks need ../shared/weights", err)
	}
	return data
}

func TestTinyModel(t *testing.T) {
	data := buildModel(tinyModel())
	m, err := Parse(data, "tiny.tflite")
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 3 || m.Description != "tiny" || len(m.Buffers) != 4 || len(m.Subgraphs) != 1 {
		t.Fatalf("header: version %d description %q buffers %d subgraphs %d", m.Version, m.Description, len(m.Buffers), len(m.Subgraphs))
	}
	wantCodes := []BuiltinOp{OpConv2D, OpQuantize, OpReshape, 150}
	for i, c := range m.OperatorCodes {
		if c.Builtin != wantCodes[i] {
			t.Errorf("operator code %d = %v, want %v (deprecated/builtin code rule)", i, c.Builtin, wantCodes[i])
		}
	}
	if m.OperatorCodes[0].Version != 1 || m.OperatorCodes[1].Version != 2 {
		t.Errorf("operator code versions %d, %d; want default 1 and 2", m.OperatorCodes[0].Version, m.OperatorCodes[1].Version)
	}
	sg := &m.Subgraphs[0]
	if sg.Name != "main" || !reflect.DeepEqual(sg.Inputs, []int{0}) || !reflect.DeepEqual(sg.Outputs, []int{5}) {
		t.Errorf("subgraph %q inputs %v outputs %v", sg.Name, sg.Inputs, sg.Outputs)
	}
	conv := sg.Operators[0]
	wantConv := Conv2DOptions{Padding: Valid, StrideW: 2, StrideH: 3, Activation: ActRelu6, DilationW: 1, DilationH: 2}
	if conv.Op != OpConv2D || conv.Conv2D == nil || *conv.Conv2D != wantConv {
		t.Errorf("conv op %v options %+v, want %+v (absent dilation_w defaults to 1)", conv.Op, conv.Conv2D, wantConv)
	}
	if q := sg.Operators[1]; q.Op != OpQuantize || !reflect.DeepEqual(q.Inputs, []int{3, -1}) {
		t.Errorf("quantize op %v inputs %v", q.Op, q.Inputs)
	}
	if r := sg.Operators[2]; r.Reshape == nil || !reflect.DeepEqual(r.Reshape.NewShape, []int{1, 8}) {
		t.Errorf("reshape options %+v", r.Reshape)
	}
	in := sg.Tensors[0]
	if in.Quant == nil || in.Quant.Scale[0] != 1.0/128 || in.Quant.ZeroPoint[0] != 128 || in.Quant.PerChannel() {
		t.Errorf("input quantisation %+v", in.Quant)
	}

	// Per-channel int8 along dimension 0: channel 0 scale 0.5 zp 0,
	// channel 1 scale 0.25 zp -2; raw values 1 2 3 | -1 -128 127.
	w, err := m.Float32(&sg.Tensors[1])
	if err != nil {
		t.Fatal(err)
	}
	wantW := []float32{0.5, 1, 1.5, (-1 + 2) * 0.25, (-128 + 2) * 0.25, (127 + 2) * 0.25}
	if !reflect.DeepEqual(w, wantW) {
		t.Errorf("per-channel dequantised weights %v, want %v", w, wantW)
	}
	b, err := m.Float32(&sg.Tensors[2])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, []float32{1, -1}) {
		t.Errorf("int32 bias dequantised to %v, want [1 -1]", b)
	}
	f, err := m.Float32(&sg.Tensors[4])
	if err != nil || !reflect.DeepEqual(f, []float32{1, -2}) {
		t.Errorf("float32 tensor %v (%v), want [1 -2]", f, err)
	}
	if _, err := m.Float32(&sg.Tensors[3]); err == nil {
		t.Error("Float32 of an activation tensor (no data) succeeded")
	}
	sd, err := m.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	if len(sd) != 3 || !reflect.DeepEqual(sd["w"].Data, wantW) || !reflect.DeepEqual(sd["w"].Shape, []int{2, 1, 1, 3}) {
		t.Errorf("state dict %v", sd)
	}
}

// TestHostile checks that malformed files give an error naming the file and
// the problem, without panicking.
func TestHostile(t *testing.T) {
	good := buildModel(tinyModel())
	mutate := func(f func(root fbTable)) []byte {
		root := tinyModel()
		f(root)
		return buildModel(root)
	}
	sub := func(root fbTable) fbTable { return root[modelSubgraphs].(fbTables)[0] }
	tensor := func(root fbTable, i int) fbTable { return sub(root)[subgraphTensors].(fbTables)[i] }

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"wrong magic", append(append([]byte{}, good[:4]...), append([]byte("TFL2"), good[8:]...)...), "file identifier"},
		{"root outside", append([]byte{0xff, 0xff, 0, 0}, good[4:]...), "outside the file"},
		{"truncated", good[:len(good)/2], "tiny.tflite"},
		{"shape disagrees with storage", mutate(func(r fbTable) { tensor(r, 1)[tensorShape] = ints(2, 1, 1, 4) }), "holds 6 bytes"},
		{"negative dimension", mutate(func(r fbTable) { tensor(r, 0)[tensorShape] = ints(1, -2, 2, 3) }), "negative dimension"},
		{"buffer index", mutate(func(r fbTable) { tensor(r, 1)[tensorBuffer] = i32(99) }), "buffer 99"},
		{"scale count", mutate(func(r fbTable) {
			tensor(r, 1)[tensorQuantization] = fbTable{quantScale: floats(1, 2, 3), quantZeroPoint: longs(0, 0, 0)}
		}), "3 scales"},
		{"quantized dimension", mutate(func(r fbTable) {
			tensor(r, 1)[tensorQuantization] = fbTable{quantScale: floats(1, 2), quantZeroPoint: longs(0, 0), quantDimension: i32(7)}
		}), "quantized_dimension 7"},
		{"zero point count", mutate(func(r fbTable) {
			tensor(r, 1)[tensorQuantization] = fbTable{quantScale: floats(1, 2), quantZeroPoint: longs(0, 0, 0)}
		}), "3 zero points"},
		{"opcode index", mutate(func(r fbTable) { sub(r)[subgraphOperators].(fbTables)[0][operatorOpcodeIndex] = i32(5) }), "opcode_index 5"},
		{"operator tensor index", mutate(func(r fbTable) { sub(r)[subgraphOperators].(fbTables)[0][operatorInputs] = ints(0, 1, 40) }), "tensor 40"},
		{"subgraph output index", mutate(func(r fbTable) { sub(r)[subgraphOutputs] = ints(-1) }), "tensor -1"},
		{"no subgraphs", mutate(func(r fbTable) { delete(r, modelSubgraphs) }), "no subgraphs"},
		{"custom quantization", mutate(func(r fbTable) {
			tensor(r, 1)[tensorQuantization] = fbTable{quantScale: floats(1), quantDetails: u8(1)}
		}), "custom quantization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.data, "tiny.tflite")
			if err == nil {
				t.Fatalf("no error, want one containing %q", c.want)
			}
			if !strings.Contains(err.Error(), "tiny.tflite") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want the file name and %q", err, c.want)
			}
		})
	}
}

// TestAllocationBudget points the main subgraph's tensors field at a new
// vector of 100000 offsets that all lead to one (empty) tensor table: 400 KB
// of file that would decode into ~13 MB of Tensor structs. The parse must
// refuse with the budget error instead.
func TestAllocationBudget(t *testing.T) {
	data := buildModel(tinyModel())
	r := &reader{buf: data, budget: len(data)}
	root, err := r.tableAt(int(r.u32(0)))
	if err != nil {
		t.Fatal(err)
	}
	sgs, err := r.tables(root, modelSubgraphs)
	if err != nil {
		t.Fatal(err)
	}
	slot, ok, err := r.field(sgs[0], subgraphTensors, 4)
	if err != nil || !ok {
		t.Fatal("no tensors field", err)
	}
	const n = 100000
	vec := len(data)
	data = binary.LittleEndian.AppendUint32(data, n)
	data = append(data, make([]byte, 4*n)...)
	vt := len(data)
	data = binary.LittleEndian.AppendUint16(data, 4) // vtable: no fields
	data = binary.LittleEndian.AppendUint16(data, 4) // table: just its soffset
	tbl := len(data)
	data = binary.LittleEndian.AppendUint32(data, uint32(tbl-vt))
	for i := 0; i < n; i++ {
		s := vec + 4 + 4*i
		binary.LittleEndian.PutUint32(data[s:], uint32(tbl-s))
	}
	binary.LittleEndian.PutUint32(data[slot:], uint32(vec-slot))
	_, err = Parse(data, "bomb.tflite")
	if err == nil || !strings.Contains(err.Error(), "more than the file's") {
		t.Fatalf("error %v, want the allocation budget error", err)
	}
}

// TestTruncations parses every prefix of the tiny model: each must fail
// cleanly (the last bytes are part of the last table, so no strict prefix
// is a valid model).
func TestTruncations(t *testing.T) {
	good := buildModel(tinyModel())
	for n := 0; n < len(good); n++ {
		if _, err := Parse(good[:n], "tiny.tflite"); err == nil {
			t.Errorf("prefix of %d/%d bytes parsed without error", n, len(good))
		}
	}
}

// expectFile is testdata/tflite_expect.json, written by
// testdata/gen_tflite_expect.py from an independent struct-based parse.
type expectFile map[string]struct {
	Version         uint32
	NumTensors      int `json:"num_tensors"`
	NumBuffers      int `json:"num_buffers"`
	Inputs, Outputs []int
	InputScale      []float32 `json:"input_scale"`
	InputZeroPoint  []int64   `json:"input_zero_point"`
	Operators       []struct {
		Op              BuiltinOp
		Inputs, Outputs []int
		Options         map[string]float64
	}
	Tensors []struct {
		Index, Op, Slot int
		Name            string
		Shape           []int
		Type            string
		Scale           []float32
		ZeroPoint       []int64   `json:"zero_point"`
		QuantizedDim    int       `json:"quantized_dimension"`
		FirstRaw        []int64   `json:"first_raw"`
		FirstValues     []float32 `json:"first_values"`
		Sum             float64
	}
}

// TestAgainstPython compares both shared models with the independent
// Python parse: graph structure and options exactly, dequantised values
// bit-exactly (same formula, float64 product rounded once) and the float64
// sum of each whole tensor to 1e-9 relative (summation order differs).
func TestAgainstPython(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "tflite_expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expectFile
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{v1File, v2File} {
		t.Run(name, func(t *testing.T) {
			e := exp[name]
			m, err := Parse(readShared(t, name), name)
			if err != nil {
				t.Fatal(err)
			}
			sg := &m.Subgraphs[0]
			if m.Version != e.Version || len(sg.Tensors) != e.NumTensors || len(m.Buffers) != e.NumBuffers ||
				!reflect.DeepEqual(sg.Inputs, e.Inputs) || !reflect.DeepEqual(sg.Outputs, e.Outputs) {
				t.Fatalf("header: version %d tensors %d buffers %d in %v out %v; want %d %d %d %v %v",
					m.Version, len(sg.Tensors), len(m.Buffers), sg.Inputs, sg.Outputs,
					e.Version, e.NumTensors, e.NumBuffers, e.Inputs, e.Outputs)
			}
			in := sg.Tensors[sg.Inputs[0]]
			if !reflect.DeepEqual(in.Quant.Scale, e.InputScale) || !reflect.DeepEqual(in.Quant.ZeroPoint, e.InputZeroPoint) {
				t.Errorf("input quantisation %v %v, want %v %v", in.Quant.Scale, in.Quant.ZeroPoint, e.InputScale, e.InputZeroPoint)
			}
			if len(sg.Operators) != len(e.Operators) {
				t.Fatalf("%d operators, want %d", len(sg.Operators), len(e.Operators))
			}
			for i, eo := range e.Operators {
				op := sg.Operators[i]
				if op.Op != eo.Op || !reflect.DeepEqual(op.Inputs, eo.Inputs) || !reflect.DeepEqual(op.Outputs, eo.Outputs) {
					t.Errorf("op %d: %v %v->%v, want %v %v->%v", i, op.Op, op.Inputs, op.Outputs, eo.Op, eo.Inputs, eo.Outputs)
				}
				if got := optionsMap(op); eo.Options != nil && !reflect.DeepEqual(got, eo.Options) {
					t.Errorf("op %d (%v) options %v, want %v", i, op.Op, got, eo.Options)
				}
			}
			for _, et := range e.Tensors {
				ti := sg.Operators[et.Op].Inputs[et.Slot]
				tn := &sg.Tensors[ti]
				if ti != et.Index || tn.Name != et.Name || !reflect.DeepEqual(tn.Shape, et.Shape) || tn.Type.String() != et.Type {
					t.Errorf("op %d input %d: tensor %d %q %v %v, want %d %q %v %v", et.Op, et.Slot, ti, tn.Name, tn.Shape, tn.Type, et.Index, et.Name, et.Shape, et.Type)
					continue
				}
				if !reflect.DeepEqual(tn.Quant.Scale, et.Scale) || !reflect.DeepEqual(tn.Quant.ZeroPoint, et.ZeroPoint) || tn.Quant.Dimension != et.QuantizedDim {
					t.Errorf("tensor %q quantisation %+v, want %v %v %d", tn.Name, *tn.Quant, et.Scale, et.ZeroPoint, et.QuantizedDim)
				}
				v, err := m.Float32(tn)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(v[:len(et.FirstValues)], et.FirstValues) {
					t.Errorf("tensor %q first values %v, want %v", tn.Name, v[:len(et.FirstValues)], et.FirstValues)
				}
				// And the formula itself on the raw values.
				for k, q := range et.FirstRaw {
					want := float32(float64(tn.Quant.Scale[0]) * float64(q-tn.Quant.ZeroPoint[0]))
					if v[k] != want {
						t.Errorf("tensor %q value %d = %v, want (q-zp)*scale = %v", tn.Name, k, v[k], want)
					}
				}
				var sum float64
				for _, x := range v {
					sum += float64(x)
				}
				if !(math.Abs(sum-et.Sum) <= 1e-9*math.Max(1, math.Abs(et.Sum))) {
					t.Errorf("tensor %q sum %v, want %v", tn.Name, sum, et.Sum)
				}
			}
			if _, err := m.StateDict(); err != nil {
				t.Errorf("StateDict: %v", err)
			}
		})
	}
}

// optionsMap flattens op's options with the Python script's key names.
func optionsMap(op Operator) map[string]float64 {
	f := func(x int) float64 { return float64(x) }
	switch {
	case op.Conv2D != nil:
		o := op.Conv2D
		return map[string]float64{"padding": f(int(o.Padding)), "stride_w": f(o.StrideW), "stride_h": f(o.StrideH),
			"activation": f(int(o.Activation)), "dilation_w": f(o.DilationW), "dilation_h": f(o.DilationH)}
	case op.DepthwiseConv2D != nil:
		o := op.DepthwiseConv2D
		return map[string]float64{"padding": f(int(o.Padding)), "stride_w": f(o.StrideW), "stride_h": f(o.StrideH),
			"depth_multiplier": f(o.DepthMultiplier), "activation": f(int(o.Activation)),
			"dilation_w": f(o.DilationW), "dilation_h": f(o.DilationH)}
	case op.Pool2D != nil:
		o := op.Pool2D
		return map[string]float64{"padding": f(int(o.Padding)), "stride_w": f(o.StrideW), "stride_h": f(o.StrideH),
			"filter_w": f(o.FilterW), "filter_h": f(o.FilterH), "activation": f(int(o.Activation))}
	case op.Add != nil:
		return map[string]float64{"activation": f(int(op.Add.Activation))}
	case op.Softmax != nil:
		return map[string]float64{"beta": float64(op.Softmax.Beta)}
	}
	return nil
}

// TestMobileNetStructure pins facts about the shared files that the
// backbone relies on, independent of the Python fixture.
func TestMobileNetStructure(t *testing.T) {
	m, err := Parse(readShared(t, v2File), v2File)
	if err != nil {
		t.Fatal(err)
	}
	sg := &m.Subgraphs[0]
	counts := map[BuiltinOp]int{}
	for _, op := range sg.Operators {
		counts[op.Op]++
	}
	// MobileNet V2: stem conv, 17 inverted residual blocks (the first
	// without expansion: project conv only; the others expand + project),
	// the 1x1 conv to 1280 and the logits conv.
	want := map[BuiltinOp]int{OpConv2D: 1 + 1 + 16*2 + 1 + 1, OpDepthwiseConv: 17, OpAdd: 10, OpAveragePool2D: 1, OpReshape: 1, OpSoftmax: 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("operator counts %v, want %v", counts, want)
	}
	out := sg.Tensors[sg.Outputs[0]]
	if !reflect.DeepEqual(out.Shape, []int{1, 1001}) || out.Type != UInt8 {
		t.Errorf("output %v %v, want [1 1001] UINT8", out.Shape, out.Type)
	}
}
