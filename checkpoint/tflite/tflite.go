// Package tflite reads TensorFlow Lite model files (FlatBuffers, schema
// tensorflow/lite/schema/schema.fbs, file identifier "TFL3") in pure Go:
// tensors with their shapes, types and quantisation, buffers, operator codes,
// operators with the builtin options of the ops vision backbones use, and
// the subgraph inputs and outputs. Quantised constant tensors are
// dequantised to float32 with Model.Float32.
//
// The reader is written for hostile input: every offset and length is
// checked against the file, problems come back as errors naming the file
// and the schema path at fault, and the parsed description never allocates
// more bytes than the file holds plus 64 KiB (buffer contents alias the
// file bytes; dequantised copies are made on request by Model.Float32).
package tflite

import (
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/anomclust/anomclust/checkpoint"
)

// Model is a parsed TFLite model.
type Model struct {
	// File is the name the model was read from, used in error messages.
	File string
	// Version is the schema version (3 for all current files).
	Version     uint32
	Description string
	// OperatorCodes are indexed by Operator.OpcodeIndex.
	OperatorCodes []OperatorCode
	// Subgraphs[0] is the main model.
	Subgraphs []Subgraph
	// Buffers hold the raw little-endian bytes of constant tensors, aliasing
	// the file's bytes; Buffers[0] is the empty sentinel of activations.
	Buffers [][]byte
}

// OperatorCode identifies an operator kind.
type OperatorCode struct {
	// Builtin is max(deprecated_builtin_code, builtin_code): files written
	// before schema 3a store the code only in the int8 field 0, newer files
	// store it in the int32 field 3 and put min(code, 127) in field 0
	// (tflite::GetBuiltinCode in schema_utils.cc).
	Builtin    BuiltinOp
	CustomCode string
	Version    int32
}

// Subgraph is one graph of the model: its tensors, the operators in
// execution order, and the indices of its input and output tensors.
type Subgraph struct {
	Name      string
	Tensors   []Tensor
	Inputs    []int
	Outputs   []int
	Operators []Operator
}

// Tensor describes one tensor of a subgraph. Shape is in TFLite order:
// NHWC for activations, OHWI for CONV_2D filters, 1HWC for depthwise
// filters, (out, in) for FULLY_CONNECTED weights.
type Tensor struct {
	Name       string
	Shape      []int
	Type       TensorType
	Buffer     int           // index into Model.Buffers; 0 means no data
	Quant      *Quantization // nil when the tensor is not quantised
	IsVariable bool
}

// Quantization holds the affine quantisation parameters of a tensor:
// real = (q - ZeroPoint[c]) * Scale[c], with c the index along
// Dimension when there is more than one scale (per-channel), else 0.
type Quantization struct {
	Min, Max  []float32 // optional calibration range, for information
	Scale     []float32
	ZeroPoint []int64
	Dimension int // quantized_dimension: the per-channel axis
}

// PerChannel reports whether the tensor has one scale per slice along Dimension.
func (q *Quantization) PerChannel() bool { return q != nil && len(q.Scale) > 1 }

// Operator is one node of a subgraph, with the builtin options decoded
// for the ops listed on its pointer fields (nil otherwise).
type Operator struct {
	OpcodeIndex int
	Op          BuiltinOp // resolved from Model.OperatorCodes
	// Inputs and Outputs are tensor indices; -1 marks an omitted optional input.
	Inputs, Outputs []int
	// OptionsType is the BuiltinOptions union tag found in the file.
	OptionsType uint8

	Conv2D          *Conv2DOptions
	DepthwiseConv2D *DepthwiseConv2DOptions
	Pool2D          *Pool2DOptions
	FullyConnected  *FullyConnectedOptions
	Softmax         *SoftmaxOptions
	Add             *ActivationOptions // ADD
	Mul             *ActivationOptions // MUL
	Concatenation   *ConcatenationOptions
	Reshape         *ReshapeOptions
	Squeeze         *SqueezeOptions
	Reducer         *ReducerOptions // MEAN, SUM, REDUCE_MAX, ...
}

// Conv2DOptions are CONV_2D's options.
type Conv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	Activation           Activation
	DilationW, DilationH int // default 1
}

// DepthwiseConv2DOptions are DEPTHWISE_CONV_2D's options.
type DepthwiseConv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	DepthMultiplier      int
	Activation           Activation
	DilationW, DilationH int // default 1
}

// Pool2DOptions are AVERAGE_POOL_2D's and MAX_POOL_2D's options.
type Pool2DOptions struct {
	Padding          Padding
	StrideW, StrideH int
	FilterW, FilterH int
	Activation       Activation
}

// FullyConnectedOptions are FULLY_CONNECTED's options.
type FullyConnectedOptions struct {
	Activation    Activation
	WeightsFormat int8 // 0 DEFAULT, 1 SHUFFLED4x16INT8
	KeepNumDims   bool
}

// SoftmaxOptions are SOFTMAX's options: softmax(beta * x).
type SoftmaxOptions struct {
	Beta float32
}

// ActivationOptions are the options of elementwise ops (ADD, MUL): a fused activation.
type ActivationOptions struct {
	Activation Activation
}

// ConcatenationOptions are CONCATENATION's options.
type ConcatenationOptions struct {
	Axis       int
	Activation Activation
}

// ReshapeOptions are RESHAPE's options; the target shape may instead be
// given as the op's second input tensor.
type ReshapeOptions struct {
	NewShape []int
}

// SqueezeOptions are SQUEEZE's options.
type SqueezeOptions struct {
	Dims []int
}

// ReducerOptions are the options of the reductions (MEAN, SUM, ...): the
// reduced axes come from the op's second input.
type ReducerOptions struct {
	KeepDims bool
}

// ReadFile reads and parses the TFLite file at path.
func ReadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tflite: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a TFLite model held in data; name is used in error messages.
// The returned Model's Buffers alias data.
func Parse(data []byte, name string) (*Model, error) {
	m, err := parse(data, name)
	if err != nil {
		return nil, fmt.Errorf("tflite %s: %w", name, err)
	}
	return m, nil
}

// fileIdentifier is schema.fbs's file_identifier, stored at bytes 4..8.
const fileIdentifier = "TFL3"

func parse(data []byte, name string) (*Model, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("file is %d bytes, too short for a FlatBuffer header", len(data))
	}
	if string(data[4:8]) != fileIdentifier {
		return nil, fmt.Errorf("file identifier is %q, want %q (not a TFLite model)", data[4:8], fileIdentifier)
	}
	r := &reader{buf: data, budget: len(data) + budgetSlack}
	root, err := r.tableAt(int(r.u32(0)))
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m := &Model{File: name}
	if m.Version, err = r.getU32(root, modelVersion, 0); err != nil {
		return nil, fmt.Errorf("model.version: %w", err)
	}
	if m.Description, err = r.str(root, modelDescription); err != nil {
		return nil, fmt.Errorf("model.description: %w", err)
	}

	codes, err := r.tables(root, modelOperatorCodes)
	if err != nil {
		return nil, fmt.Errorf("model.operator_codes: %w", err)
	}
	if err := r.charge(40 * len(codes)); err != nil {
		return nil, err
	}
	m.OperatorCodes = make([]OperatorCode, len(codes))
	for i, t := range codes {
		if m.OperatorCodes[i], err = r.operatorCode(t); err != nil {
			return nil, fmt.Errorf("model.operator_codes[%d]: %w", i, err)
		}
	}

	bufs, err := r.tables(root, modelBuffers)
	if err != nil {
		return nil, fmt.Errorf("model.buffers: %w", err)
	}
	if err := r.charge(24 * len(bufs)); err != nil {
		return nil, err
	}
	m.Buffers = make([][]byte, len(bufs))
	for i, t := range bufs {
		if m.Buffers[i], err = r.buffer(t); err != nil {
			return nil, fmt.Errorf("model.buffers[%d]: %w", i, err)
		}
	}

	sgs, err := r.tables(root, modelSubgraphs)
	if err != nil {
		return nil, fmt.Errorf("model.subgraphs: %w", err)
	}
	if len(sgs) == 0 {
		return nil, errors.New("model has no subgraphs")
	}
	if err := r.charge(128 * len(sgs)); err != nil {
		return nil, err
	}
	m.Subgraphs = make([]Subgraph, len(sgs))
	for i, t := range sgs {
		if err := r.subgraph(t, m, &m.Subgraphs[i]); err != nil {
			return nil, fmt.Errorf("model.subgraphs[%d]: %w", i, err)
		}
	}
	return m, nil
}

func (r *reader) operatorCode(t table) (OperatorCode, error) {
	var c OperatorCode
	dep, err := r.getI8(t, opcodeDeprecatedBuiltin, 0)
	if err != nil {
		return c, err
	}
	code, err := r.getI32(t, opcodeBuiltin, 0)
	if err != nil {
		return c, err
	}
	c.Builtin = BuiltinOp(max(int32(dep), code))
	if c.Builtin < 0 {
		return c, fmt.Errorf("negative builtin code %d", c.Builtin)
	}
	if c.CustomCode, err = r.str(t, opcodeCustom); err != nil {
		return c, fmt.Errorf("custom_code: %w", err)
	}
	c.Version, err = r.getI32(t, opcodeVersion, 1)
	return c, err
}

func (r *reader) buffer(t table) ([]byte, error) {
	data, err := r.bytesField(t, bufferData)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	// Files over 2 GB keep buffers outside the FlatBuffer and give their
	// position in the file instead (offset > 1; 0 and 1 mean "unused").
	off, err := r.getU64(t, bufferOffset, 0)
	if err != nil {
		return nil, err
	}
	size, err := r.getU64(t, bufferSize, 0)
	if err != nil {
		return nil, err
	}
	if off > 1 {
		if len(data) != 0 {
			return nil, errors.New("buffer has both inline data and an offset")
		}
		if off > uint64(len(r.buf)) || size > uint64(len(r.buf))-off {
			return nil, fmt.Errorf("buffer at offset %d of size %d runs past the end of the file (%d bytes)", off, size, len(r.buf))
		}
		data = r.buf[off : off+size : off+size]
	}
	return data, nil
}

func (r *reader) subgraph(t table, m *Model, sg *Subgraph) error {
	var err error
	if sg.Name, err = r.str(t, subgraphName); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	tensors, err := r.tables(t, subgraphTensors)
	if err != nil {
		return fmt.Errorf("tensors: %w", err)
	}
	if err := r.charge(96 * len(tensors)); err != nil {
		return err
	}
	sg.Tensors = make([]Tensor, len(tensors))
	for i, tt := range tensors {
		if err := r.tensor(tt, m, &sg.Tensors[i]); err != nil {
			return fmt.Errorf("tensors[%d]: %w", i, err)
		}
	}
	nt := len(sg.Tensors)
	if sg.Inputs, err = r.indices(t, subgraphInputs, nt, false); err != nil {
		return fmt.Errorf("inputs: %w", err)
	}
	if sg.Outputs, err = r.indices(t, subgraphOutputs, nt, false); err != nil {
		return fmt.Errorf("outputs: %w", err)
	}
	ops, err := r.tables(t, subgraphOperators)
	if err != nil {
		return fmt.Errorf("operators: %w", err)
	}
	if err := r.charge(160 * len(ops)); err != nil {
		return err
	}
	sg.Operators = make([]Operator, len(ops))
	for i, ot := range ops {
		if err := r.operator(ot, m, nt, &sg.Operators[i]); err != nil {
			return fmt.Errorf("operators[%d]: %w", i, err)
		}
	}
	return nil
}

// indices reads an [int] vector of tensor indices and checks each is in
// [0, n), or -1 when optional is true.
func (r *reader) indices(t table, id, n int, optional bool) ([]int, error) {
	v, err := r.ints32(t, id)
	if err != nil {
		return nil, err
	}
	for i, x := range v {
		if (x < 0 && !(optional && x == -1)) || x >= n {
			return nil, fmt.Errorf("element %d is tensor %d, outside the subgraph's %d tensors", i, x, n)
		}
	}
	return v, nil
}

func (r *reader) tensor(t table, m *Model, tn *Tensor) error {
	var err error
	if tn.Name, err = r.str(t, tensorName); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if tn.Shape, err = r.ints32(t, tensorShape); err != nil {
		return fmt.Errorf("%q shape: %w", tn.Name, err)
	}
	for _, d := range tn.Shape {
		if d < 0 {
			return fmt.Errorf("%q has negative dimension in shape %v", tn.Name, tn.Shape)
		}
	}
	typ, err := r.getI8(t, tensorType, 0)
	if err != nil {
		return fmt.Errorf("%q type: %w", tn.Name, err)
	}
	tn.Type = TensorType(typ)
	buf, err := r.getU32(t, tensorBuffer, 0)
	if err != nil {
		return fmt.Errorf("%q buffer: %w", tn.Name, err)
	}
	if uint64(buf) >= uint64(len(m.Buffers)) {
		return fmt.Errorf("%q refers to buffer %d, but the model has %d buffers", tn.Name, buf, len(m.Buffers))
	}
	tn.Buffer = int(buf)
	if tn.IsVariable, err = r.getBool(t, tensorIsVariable); err != nil {
		return fmt.Errorf("%q is_variable: %w", tn.Name, err)
	}
	if data := m.Buffers[tn.Buffer]; len(data) > 0 {
		// A constant tensor's storage must hold exactly its shape's elements.
		es := tn.Type.Size()
		if es == 0 {
			return fmt.Errorf("%q has data but type %v has no fixed element size", tn.Name, tn.Type)
		}
		n, ok := numel(tn.Shape, len(data)/es)
		if !ok || n*es != len(data) {
			return fmt.Errorf("%q has shape %v of %v but its buffer %d holds %d bytes", tn.Name, tn.Shape, tn.Type, tn.Buffer, len(data))
		}
	}
	qt, ok, err := r.subtable(t, tensorQuantization)
	if err != nil {
		return fmt.Errorf("%q quantization: %w", tn.Name, err)
	}
	if ok {
		if tn.Quant, err = r.quantization(qt, tn); err != nil {
			return fmt.Errorf("%q quantization: %w", tn.Name, err)
		}
	}
	return nil
}

// numel multiplies shape's dimensions, reporting false when the product
// exceeds limit (so that it cannot overflow).
func numel(shape []int, limit int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d != 0 && n > limit/d {
			return 0, false
		}
		n *= d
	}
	return n, n <= limit
}

func (r *reader) quantization(t table, tn *Tensor) (*Quantization, error) {
	if err := r.charge(96); err != nil {
		return nil, err
	}
	q := &Quantization{}
	var err error
	if q.Min, err = r.floats32(t, quantMin); err != nil {
		return nil, fmt.Errorf("min: %w", err)
	}
	if q.Max, err = r.floats32(t, quantMax); err != nil {
		return nil, fmt.Errorf("max: %w", err)
	}
	if q.Scale, err = r.floats32(t, quantScale); err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	if q.ZeroPoint, err = r.ints64(t, quantZeroPoint); err != nil {
		return nil, fmt.Errorf("zero_point: %w", err)
	}
	details, err := r.getU8(t, quantDetails, 0)
	if err != nil {
		return nil, fmt.Errorf("details_type: %w", err)
	}
	if details != 0 {
		return nil, fmt.Errorf("custom quantization details (type %d) are not supported", details)
	}
	dim, err := r.getI32(t, quantDimension, 0)
	if err != nil {
		return nil, fmt.Errorf("quantized_dimension: %w", err)
	}
	q.Dimension = int(dim)
	if len(q.Scale) == 0 && len(q.ZeroPoint) == 0 {
		// Only min/max (or nothing): not quantised for dequantisation purposes.
		return nil, nil
	}
	if len(q.Scale) == 0 {
		return nil, fmt.Errorf("%d zero points but no scale", len(q.ZeroPoint))
	}
	if nz := len(q.ZeroPoint); nz != 0 && nz != 1 && nz != len(q.Scale) {
		return nil, fmt.Errorf("%d scales but %d zero points", len(q.Scale), nz)
	}
	if len(q.Scale) > 1 {
		if q.Dimension < 0 || q.Dimension >= len(tn.Shape) {
			return nil, fmt.Errorf("quantized_dimension %d outside shape %v", q.Dimension, tn.Shape)
		}
		if tn.Shape[q.Dimension] != len(q.Scale) {
			return nil, fmt.Errorf("%d scales but dimension %d of shape %v is %d", len(q.Scale), q.Dimension, tn.Shape, tn.Shape[q.Dimension])
		}
	}
	return q, nil
}

func (r *reader) operator(t table, m *Model, nt int, op *Operator) error {
	idx, err := r.getU32(t, operatorOpcodeIndex, 0)
	if err != nil {
		return fmt.Errorf("opcode_index: %w", err)
	}
	if uint64(idx) >= uint64(len(m.OperatorCodes)) {
		return fmt.Errorf("opcode_index %d, but the model has %d operator codes", idx, len(m.OperatorCodes))
	}
	op.OpcodeIndex = int(idx)
	op.Op = m.OperatorCodes[idx].Builtin
	if op.Inputs, err = r.indices(t, operatorInputs, nt, true); err != nil {
		return fmt.Errorf("%v inputs: %w", op.Op, err)
	}
	if op.Outputs, err = r.indices(t, operatorOutputs, nt, false); err != nil {
		return fmt.Errorf("%v outputs: %w", op.Op, err)
	}
	if op.OptionsType, err = r.getU8(t, operatorOptionsType, 0); err != nil {
		return fmt.Errorf("%v builtin_options_type: %w", op.Op, err)
	}
	ot, ok, err := r.subtable(t, operatorBuiltinOptions)
	if err != nil {
		return fmt.Errorf("%v builtin_options: %w", op.Op, err)
	}
	if !ok {
		return nil
	}
	if err := r.options(ot, op); err != nil {
		return fmt.Errorf("%v builtin_options: %w", op.Op, err)
	}
	return nil
}

// options decodes the builtin options table t according to op.OptionsType.
// Unknown option kinds are left undecoded (the tag stays in OptionsType).
func (r *reader) options(t table, op *Operator) error {
	var err error
	// get reads one scalar field, keeping the first error; the option
	// tables are small and flat, so this keeps their decoding readable.
	i32 := func(id int, def int32) int {
		if err != nil {
			return 0
		}
		var v int32
		v, err = r.getI32(t, id, def)
		return int(v)
	}
	i8 := func(id int) int8 {
		if err != nil {
			return 0
		}
		var v int8
		v, err = r.getI8(t, id, 0)
		return v
	}
	switch op.OptionsType {
	case optConv2D:
		op.Conv2D = &Conv2DOptions{
			Padding: Padding(i8(0)), StrideW: i32(1, 0), StrideH: i32(2, 0),
			Activation: Activation(i8(3)), DilationW: i32(4, 1), DilationH: i32(5, 1),
		}
	case optDepthwiseConv2D:
		op.DepthwiseConv2D = &DepthwiseConv2DOptions{
			Padding: Padding(i8(0)), StrideW: i32(1, 0), StrideH: i32(2, 0),
			DepthMultiplier: i32(3, 0), Activation: Activation(i8(4)),
			DilationW: i32(5, 1), DilationH: i32(6, 1),
		}
	case optPool2D:
		op.Pool2D = &Pool2DOptions{
			Padding: Padding(i8(0)), StrideW: i32(1, 0), StrideH: i32(2, 0),
			FilterW: i32(3, 0), FilterH: i32(4, 0), Activation: Activation(i8(5)),
		}
	case optFullyConnected:
		fc := &FullyConnectedOptions{Activation: Activation(i8(0)), WeightsFormat: i8(1)}
		if err == nil {
			fc.KeepNumDims, err = r.getBool(t, 2)
		}
		op.FullyConnected = fc
	case optSoftmax:
		sm := &SoftmaxOptions{}
		sm.Beta, err = r.getF32(t, 0, 0)
		op.Softmax = sm
	case optAdd:
		op.Add = &ActivationOptions{Activation: Activation(i8(0))}
	case optMul:
		op.Mul = &ActivationOptions{Activation: Activation(i8(0))}
	case optConcatenation:
		op.Concatenation = &ConcatenationOptions{Axis: i32(0, 0), Activation: Activation(i8(1))}
	case optReshape:
		rs := &ReshapeOptions{}
		rs.NewShape, err = r.ints32(t, 0)
		op.Reshape = rs
	case optReducer:
		rd := &ReducerOptions{}
		rd.KeepDims, err = r.getBool(t, 0)
		op.Reducer = rd
	case optSqueeze:
		sq := &SqueezeOptions{}
		sq.Dims, err = r.ints32(t, 0)
		op.Squeeze = sq
	}
	return err
}

// Float32 returns the values of the constant tensor t (one of m's tensors)
// as float32, in t.Shape's row-major order. FLOAT32 data is decoded as is;
// INT8, UINT8 and INT32 data must be quantised and are dequantised as
// real = (q - zero_point) * scale, per channel along Quant.Dimension when
// there are several scales. The product is formed in float64 and rounded
// once to float32, as TFLite's reference Dequantize does
// (reference_ops::Dequantize: static_cast<float>(scale * (val - zero_point))
// with a double scale); for 8-bit data this equals the float32 product.
func (m *Model) Float32(t *Tensor) ([]float32, error) {
	out, err := m.float32(t)
	if err != nil {
		return nil, fmt.Errorf("tflite %s: tensor %q: %w", m.File, t.Name, err)
	}
	return out, nil
}

func (m *Model) float32(t *Tensor) ([]float32, error) {
	if t.Buffer < 0 || t.Buffer >= len(m.Buffers) {
		return nil, fmt.Errorf("buffer %d out of range", t.Buffer)
	}
	data := m.Buffers[t.Buffer]
	es := t.Type.Size()
	if len(data) == 0 || es == 0 {
		return nil, fmt.Errorf("has no constant data of a numeric type (type %v, %d bytes)", t.Type, len(data))
	}
	n, ok := numel(t.Shape, len(data)/es)
	if !ok || n*es != len(data) {
		return nil, fmt.Errorf("shape %v of %v disagrees with its %d-byte buffer", t.Shape, t.Type, len(data))
	}
	out := make([]float32, n)
	if t.Type == Float32 {
		for i := range out {
			out[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
		return out, nil
	}
	var raw func(i int) int64
	switch t.Type {
	case Int8:
		raw = func(i int) int64 { return int64(int8(data[i])) }
	case UInt8:
		raw = func(i int) int64 { return int64(data[i]) }
	case Int32:
		raw = func(i int) int64 {
			return int64(int32(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24))
		}
	default:
		return nil, fmt.Errorf("cannot dequantise type %v", t.Type)
	}
	q := t.Quant
	if q == nil || len(q.Scale) == 0 {
		return nil, fmt.Errorf("type %v without quantisation parameters", t.Type)
	}
	// Per-channel: the channel of flat index i is (i / inner) % channels,
	// inner being the product of the dimensions after Dimension.
	channels, inner := 1, 1
	if len(q.Scale) > 1 {
		if q.Dimension < 0 || q.Dimension >= len(t.Shape) || t.Shape[q.Dimension] != len(q.Scale) {
			return nil, fmt.Errorf("%d scales do not match dimension %d of shape %v", len(q.Scale), q.Dimension, t.Shape)
		}
		channels = len(q.Scale)
		for _, d := range t.Shape[q.Dimension+1:] {
			inner *= d
		}
	}
	for i := range out {
		c := 0
		if channels > 1 {
			c = (i / inner) % channels
		}
		var zp int64
		switch len(q.ZeroPoint) {
		case 0:
		case 1:
			zp = q.ZeroPoint[0]
		default:
			zp = q.ZeroPoint[c]
		}
		out[i] = float32(float64(q.Scale[c]) * float64(raw(i)-zp))
	}
	return out, nil
}

// StateDict returns the constant tensors of the main subgraph, keyed by
// their TFLite names, as checkpoint tensors: float and quantised tensors
// decoded to float32 in Data (DType records the stored type), unquantised
// integer tensors (e.g. reshape targets) in Ints. Shapes keep TFLite order.
func (m *Model) StateDict() (checkpoint.StateDict, error) {
	sd := checkpoint.StateDict{}
	sg := &m.Subgraphs[0]
	for i := range sg.Tensors {
		t := &sg.Tensors[i]
		if len(m.Buffers[t.Buffer]) == 0 {
			continue
		}
		ct := &checkpoint.Tensor{Name: t.Name, Shape: append([]int(nil), t.Shape...)}
		switch t.Type {
		case Float32:
			ct.DType = checkpoint.Float32
		case Int8:
			ct.DType = checkpoint.Int8
		case UInt8:
			ct.DType = checkpoint.UInt8
		case Int32:
			ct.DType = checkpoint.Int32
		case Int64:
			ct.DType = checkpoint.Int64
		default:
			continue
		}
		if t.Quant != nil || t.Type == Float32 {
			v, err := m.Float32(t)
			if err != nil {
				return nil, err
			}
			ct.Data = v
		} else {
			data := m.Buffers[t.Buffer]
			es := t.Type.Size()
			ct.Ints = make([]int64, len(data)/es)
			for k := range ct.Ints {
				switch t.Type {
				case Int8:
					ct.Ints[k] = int64(int8(data[k]))
				case UInt8:
					ct.Ints[k] = int64(data[k])
				case Int32:
					ct.Ints[k] = int64(int32(uint32(data[4*k]) | uint32(data[4*k+1])<<8 | uint32(data[4*k+2])<<16 | uint32(data[4*k+3])<<24))
				case Int64:
					var v uint64
					for b := 7; b >= 0; b-- {
						v = v<<8 | uint64(data[8*k+b])
					}
					ct.Ints[k] = int64(v)
				}
			}
		}
		if _, dup := sd[t.Name]; dup {
			return nil, fmt.Errorf("tflite %s: two constant tensors named %q", m.File, t.Name)
		}
		sd[t.Name] = ct
	}
	return sd, nil
}
