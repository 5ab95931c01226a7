// Package mobilenet runs the ImageNet MobileNet V1 and V2 of the int8 TFLite
// files in ../shared/weights as float32 feature extractors: the weights are
// dequantised once at load ((q - zero_point) * scale), the activations stay
// float32 (their quantisation parameters are ignored), and the graph is
// interpreted operator by operator from the file, so that any intermediate
// tensor can be tapped by name.
//
// Input: the quantised models take uint8 pixels q in [0, 255] with scale
// 1/128 and zero point 128, i.e. a real input x = (q - 128)/128 in
// [-1, 0.9921875]. Forward takes that real input: an (H, W, 3) RGB image
// preprocessed as Preprocess describes, which for pixels p/255 in [0, 1]
// means x = (p/255 - Mean)/Std with Mean = Std = 128/255 ≈ 0.50196 (within
// 0.4% of the common mean 0.5, std 0.5 convention, which gives (p-127.5)/127.5).
package mobilenet

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint/tflite"
	"github.com/anomclust/anomclust/tensor"
)

// MobileNet is a TFLite MobileNet graph with dequantised float32 weights.
// It implements backbone.Backbone. A MobileNet is safe for concurrent
// Forward calls: its state is read-only after Load.
type MobileNet struct {
	name  string
	file  string
	pre   backbone.Preprocess
	input int    // tensor index of the graph input
	nodes []node // the operators, in execution order
	// taps maps every accepted layer name to the tensor it denotes.
	taps map[string]int
	// layers are the names Layers lists, in forward order.
	layers []string
	// producer[t] is the index in nodes of the op writing tensor t (-1 for
	// the input and constants).
	producer []int
	// channels[t] is the channel count of tensor t in the file (its last
	// dimension), and stride[t] its stride w.r.t. the input, 0 if not a map.
	channels, stride []int
}

// node is one compiled operator.
type node struct {
	op      tflite.BuiltinOp
	inputs  []int // activation tensor indices read
	output  int   // tensor index written
	act     tflite.Activation
	conv    *tensor.Conv2d
	fc      *tensor.Linear
	poolK   [2]int // AVERAGE_POOL_2D filter (h, w)
	poolS   int
	reshape []int // RESHAPE target without the batch dimension
	beta    float32
	mean    *meanSpec
	// err is set for an operator the interpreter cannot run: the graph
	// still loads, and Forward fails only when a requested tap needs it.
	err error
}

// Load reads a MobileNet TFLite file. The backbone is named after the
// model's scope in its tensor names ("mobilenet_v1" or "mobilenet_v2"),
// or the file's base name when neither is found.
func Load(path string) (*MobileNet, error) {
	m, err := tflite.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(path), ".tflite")
	for _, t := range m.Subgraphs[0].Tensors {
		if strings.HasPrefix(t.Name, "MobilenetV1/") {
			name = "mobilenet_v1"
			break
		}
		if strings.HasPrefix(t.Name, "MobilenetV2/") {
			name = "mobilenet_v2"
			break
		}
		if strings.HasPrefix(t.Name, "MobileNetV2/") { // TF2 Keras export
			name = "tf2_mobilenet_v2"
			break
		}
	}
	return New(name, m)
}

// New compiles the main subgraph of m. It runs the operators MobileNets
// use (CONV_2D, DEPTHWISE_CONV_2D, ADD, AVERAGE_POOL_2D, MEAN, RESHAPE,
// SOFTMAX, FULLY_CONNECTED; QUANTIZE and DEQUANTIZE become identities since
// the activations are float). Any other operator (or fused activation) is
// kept as a node that cannot run: the graph loads, taps that do not depend
// on it work, and Forward reports it by name when a requested tap needs it.
// A malformed graph (an operator reading a tensor nothing wrote) is an
// error here.
func New(name string, m *tflite.Model) (*MobileNet, error) {
	b, err := compile(name, m)
	if err != nil {
		return nil, fmt.Errorf("mobilenet %s: %w", m.File, err)
	}
	return b, nil
}

func compile(name string, m *tflite.Model) (*MobileNet, error) {
	sg := &m.Subgraphs[0]
	if len(sg.Inputs) != 1 {
		return nil, fmt.Errorf("graph has %d inputs, want 1", len(sg.Inputs))
	}
	b := &MobileNet{name: name, file: m.File, input: sg.Inputs[0], taps: map[string]int{}}
	in := &sg.Tensors[b.input]
	if len(in.Shape) != 4 || in.Shape[0] != 1 || in.Shape[3] != 3 {
		return nil, fmt.Errorf("input %q has shape %v, want [1 H W 3]", in.Name, in.Shape)
	}
	b.pre = preprocessFor(in)

	nt := len(sg.Tensors)
	b.producer = make([]int, nt)
	for i := range b.producer {
		b.producer[i] = -1
	}
	b.channels = make([]int, nt)
	b.stride = make([]int, nt)
	for i, t := range sg.Tensors {
		if len(t.Shape) > 0 {
			b.channels[i] = t.Shape[len(t.Shape)-1]
		}
		if len(t.Shape) == 4 && t.Shape[1] > 0 && in.Shape[1]%t.Shape[1] == 0 {
			b.stride[i] = in.Shape[1] / t.Shape[1]
		}
	}
	for i, op := range sg.Operators {
		n, err := compileOp(m, sg, op)
		if err != nil {
			if len(op.Outputs) != 1 || op.Outputs[0] < 0 || op.Outputs[0] >= nt {
				return nil, fmt.Errorf("operator %d (%v): %w", i, op.Op, err)
			}
			// Only its place in the graph is kept: its output and the
			// inputs that are activations (constants have no producer).
			n = node{op: op.Op, output: op.Outputs[0], err: err}
			for _, x := range op.Inputs {
				if x >= 0 && x < nt && (x == b.input || b.producer[x] != -1) {
					n.inputs = append(n.inputs, x)
				}
			}
		}
		if b.producer[n.output] != -1 || n.output == b.input {
			return nil, fmt.Errorf("operator %d (%v) writes tensor %d, already written", i, op.Op, n.output)
		}
		for _, x := range n.inputs {
			if x != b.input && b.producer[x] == -1 {
				return nil, fmt.Errorf("operator %d (%v) reads tensor %d before any operator writes it", i, op.Op, x)
			}
		}
		b.producer[n.output] = len(b.nodes)
		b.nodes = append(b.nodes, n)
	}
	b.nameTaps(sg)
	return b, nil
}

// preprocessFor derives the normalisation from the input's quantisation:
// x = scale*(q - zp) with q = 255*p (p in [0, 1]) is (p - zp/255)/(1/(255*scale)).
// The resize and crop follow the Inception/MobileNet evaluation (central
// 87.5% crop, here as torchvision's Resize(256) + CenterCrop(224)).
func preprocessFor(in *tflite.Tensor) backbone.Preprocess {
	mean, std := float32(0.5), float32(0.5) // a float model in [-1, 1]
	if q := in.Quant; q != nil && len(q.Scale) == 1 && q.Scale[0] > 0 {
		zp := int64(0)
		if len(q.ZeroPoint) > 0 {
			zp = q.ZeroPoint[0]
		}
		mean = float32(float64(zp) / 255)
		std = float32(1 / (255 * float64(q.Scale[0])))
	}
	size := in.Shape[1]
	return backbone.Preprocess{
		Resize: int(math.Round(float64(size) / 0.875)),
		Crop:   size,
		Mean:   [3]float32{mean, mean, mean},
		Std:    [3]float32{std, std, std},
	}
}

// nameTaps registers the layer names: op<i> for the output of operator i,
// the full TFLite tensor name, a short name (the first ';'-separated part of
// the TFLite name without the model scope and the trailing op kind, e.g.
// "expanded_conv_5/add" or "Conv2d_11_pointwise"), stride<s> for the last
// feature map at each stride s (before pooling), and "output" for the
// graph's output.
func (b *MobileNet) nameTaps(sg *tflite.Subgraph) {
	short := map[string]int{}
	count := map[string]int{}
	for _, n := range b.nodes {
		s := shortName(sg.Tensors[n.output].Name)
		count[s]++
		short[s] = n.output
	}
	strideLast := map[int]int{} // stride -> tensor
	features := true
	var strides []int
	for i, n := range b.nodes {
		t := n.output
		b.taps["op"+strconv.Itoa(i)] = t
		b.taps[sg.Tensors[t].Name] = t
		if n.op == tflite.OpAveragePool2D || n.op == tflite.OpMean || n.op == tflite.OpReshape || n.op == tflite.OpFullyConnected {
			features = false
		}
		if features && b.stride[t] > 0 {
			if _, seen := strideLast[b.stride[t]]; !seen {
				strides = append(strides, b.stride[t])
			}
			strideLast[b.stride[t]] = t
		}
	}
	// Stride taps first (the usual choice), then every op's short name.
	for _, s := range strides {
		name := "stride" + strconv.Itoa(s)
		b.taps[name] = strideLast[s]
		b.layers = append(b.layers, name)
	}
	for _, n := range b.nodes {
		s := shortName(sg.Tensors[n.output].Name)
		if s != "" && count[s] == 1 {
			b.taps[s] = n.output
			b.layers = append(b.layers, s)
		}
	}
	if len(b.nodes) > 0 {
		b.taps["output"] = b.nodes[len(b.nodes)-1].output
		b.layers = append(b.layers, "output")
	}
}

// opSuffixes are trailing name parts that name the TF op, not the layer.
var opSuffixes = []string{"Relu6", "Relu", "add_fold", "BiasAdd", "Conv2D", "AvgPool", "Softmax"}

// shortName is the layer part of a TFLite tensor name:
// "MobilenetV2/expanded_conv_5/project/add_fold;..." -> "expanded_conv_5/project".
func shortName(full string) string {
	s, _, _ := strings.Cut(full, ";")
	for _, scope := range []string{"MobilenetV1/MobilenetV1/", "MobilenetV1/", "MobilenetV2/", "MobileNetV2/"} {
		if strings.HasPrefix(s, scope) {
			s = s[len(scope):]
			break
		}
	}
	if i := strings.LastIndexByte(s, '/'); i > 0 && slices.Contains(opSuffixes, s[i+1:]) {
		s = s[:i]
	}
	return s
}

// Name is the backbone's name, "mobilenet_v1" or "mobilenet_v2".
func (b *MobileNet) Name() string { return b.name }

// Preprocess is the normalisation the quantised input expects (see the
// package comment): Mean = Std = 128/255 for the shared files.
func (b *MobileNet) Preprocess() backbone.Preprocess { return b.pre }

// Layers lists the tap names in forward order: stride2 .. stride32 (the
// last feature map at each stride), then each operator's short name, then
// "output". Forward also accepts "op<i>" (operator i's output) and full
// TFLite tensor names.
func (b *MobileNet) Layers() []string { return slices.Clone(b.layers) }

// Channels is the channel count of the map a layer name denotes.
func (b *MobileNet) Channels(layer string) (int, error) {
	t, ok := b.taps[layer]
	if !ok {
		return 0, fmt.Errorf("mobilenet %s: unknown layer %q", b.name, layer)
	}
	return b.channels[t], nil
}

// Stride is the downsampling factor of a layer's map w.r.t. the input
// (0 for the pooled and classifier outputs).
func (b *MobileNet) Stride(layer string) (int, error) {
	t, ok := b.taps[layer]
	if !ok {
		return 0, fmt.Errorf("mobilenet %s: unknown layer %q", b.name, layer)
	}
	return b.stride[t], nil
}

// Forward runs each (H, W, 3) image through the graph up to the last
// operator a requested layer needs and returns the requested maps, (H', W',
// C) for feature maps, (1, 1, C) after pooling, (C) after the final reshape.
// Images are processed one at a time, freeing each intermediate map after
// its last use, so memory does not grow with the number of images.
func (b *MobileNet) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	want := make([]int, len(layers))
	for i, l := range layers {
		t, ok := b.taps[l]
		if !ok {
			return nil, fmt.Errorf("mobilenet %s: unknown layer %q (see Layers)", b.name, l)
		}
		want[i] = t
	}
	run, err := b.needed(want)
	if err != nil {
		return nil, err
	}
	// lastUse[t] is the last node reading t among those that run; a
	// requested tensor is kept to the end.
	lastUse := map[int]int{}
	for _, i := range run {
		for _, x := range b.nodes[i].inputs {
			lastUse[x] = i
		}
	}
	keep := map[int]bool{}
	for _, t := range want {
		keep[t] = true
	}
	out := make([]map[string]*tensor.Tensor, len(images))
	for k, img := range images {
		if len(img.Shape) != 3 || img.Shape[2] != 3 || img.Shape[0] < 1 || img.Shape[1] < 1 || len(img.Data) != tensor.Numel(img.Shape) {
			return nil, fmt.Errorf("mobilenet %s: image %d has shape %v, want (H, W, 3)", b.name, k, img.Shape)
		}
		vals := map[int]*tensor.Tensor{b.input: img}
		for _, i := range run {
			n := &b.nodes[i]
			y, err := n.run(vals)
			if err != nil {
				return nil, fmt.Errorf("mobilenet %s: image %d (%dx%d), operator %d (%v): %w", b.name, k, img.Shape[0], img.Shape[1], i, n.op, err)
			}
			vals[n.output] = y
			for _, x := range n.inputs {
				if lastUse[x] == i && !keep[x] && x != b.input {
					delete(vals, x)
				}
			}
		}
		res := make(map[string]*tensor.Tensor, len(layers))
		for i, l := range layers {
			if want[i] == b.input {
				res[l] = img
				continue
			}
			res[l] = vals[want[i]]
		}
		out[k] = res
	}
	return out, nil
}

// run computes the node's output from the values of its inputs. Every node
// writes a fresh tensor (RESHAPE a view of its input) and activations are
// applied in place on it, so values already computed are never modified.
func (n *node) run(vals map[int]*tensor.Tensor) (*tensor.Tensor, error) {
	x := vals[n.inputs[0]]
	var y *tensor.Tensor
	switch n.op {
	case tflite.OpConv2D, tflite.OpDepthwiseConv:
		y = n.conv.Forward(x)
	case tflite.OpFullyConnected:
		// TFLite flattens all but the last dimension into rows.
		if len(x.Data)%n.fc.In != 0 {
			return nil, fmt.Errorf("input %v does not split into rows of %d", x.Shape, n.fc.In)
		}
		y = n.fc.Forward(x.Reshape(len(x.Data)/n.fc.In, n.fc.In))
		if y.Shape[0] == 1 {
			y = y.Reshape(n.fc.Out)
		}
	case tflite.OpAdd:
		b := vals[n.inputs[1]]
		if !slices.Equal(x.Shape, b.Shape) {
			return nil, fmt.Errorf("shapes %v and %v differ (broadcasting is not supported)", x.Shape, b.Shape)
		}
		y = x.Clone()
		tensor.Add(y, b)
	case tflite.OpAveragePool2D:
		if len(x.Shape) != 3 || x.Shape[0] < n.poolK[0] || x.Shape[1] < n.poolK[1] {
			return nil, fmt.Errorf("map %v smaller than the %dx%d pooling window (input image too small)", x.Shape, n.poolK[0], n.poolK[1])
		}
		if n.poolK[0] != n.poolK[1] {
			return nil, fmt.Errorf("non-square pooling window %v", n.poolK)
		}
		y = tensor.AvgPool2d(x, n.poolK[0], n.poolS, 0)
	case tflite.OpReshape:
		shape := slices.Clone(n.reshape)
		if err := inferShape(shape, len(x.Data)); err != nil {
			return nil, fmt.Errorf("reshape %v to %v: %w", x.Shape, n.reshape, err)
		}
		y = x.Reshape(shape...)
	case tflite.OpSoftmax:
		y = x.Clone()
		if n.beta != 1 {
			for i := range y.Data {
				y.Data[i] *= n.beta
			}
		}
		tensor.Softmax(y)
	case tflite.OpMean:
		var err error
		if y, err = n.mean.run(x); err != nil {
			return nil, err
		}
	case tflite.OpQuantize, tflite.OpDequantize:
		y = x
	}
	switch n.act {
	case tflite.ActRelu:
		tensor.ReLU(y)
	case tflite.ActRelu6:
		tensor.ReLU6(y)
	}
	return y, nil
}

// inferShape fills a single -1 of shape so that it holds numel elements,
// and checks the element count.
func inferShape(shape []int, numel int) error {
	known, free := 1, -1
	for i, d := range shape {
		if d == -1 && free < 0 {
			free = i
			continue
		}
		if d <= 0 {
			return fmt.Errorf("invalid dimension %d", d)
		}
		known *= d
	}
	if free >= 0 {
		if known == 0 || numel%known != 0 {
			return fmt.Errorf("%d elements do not fill %v", numel, shape)
		}
		shape[free] = numel / known
		return nil
	}
	if known != numel {
		return fmt.Errorf("%d elements, target holds %d", numel, known)
	}
	return nil
}

var _ backbone.Backbone = (*MobileNet)(nil)
