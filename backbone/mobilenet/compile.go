package mobilenet

import (
	"encoding/binary"
	"fmt"

	"github.com/anomclust/anomclust/checkpoint/tflite"
	"github.com/anomclust/anomclust/tensor"
)

// compileOp turns one TFLite operator into a node, dequantising and
// repacking its weights for the tensor package: the checks every
// operator shares (one output, a first input), then the operator's own
// compile function, then the fused activations the interpreter runs.
func compileOp(m *tflite.Model, sg *tflite.Subgraph, op tflite.Operator) (node, error) {
	n := node{op: op.Op}
	if len(op.Outputs) != 1 {
		return n, fmt.Errorf("%d outputs, want 1", len(op.Outputs))
	}
	n.output = op.Outputs[0]
	a := opArgs{m: m, sg: sg, op: op}
	x, err := a.arg(0)
	if err != nil {
		return n, err
	}
	inC := 0
	if len(x.Shape) > 0 {
		inC = x.Shape[len(x.Shape)-1]
	}

	switch op.Op {
	case tflite.OpConv2D, tflite.OpDepthwiseConv:
		n.inputs = []int{op.Inputs[0]}
		err = compileConv(&n, a, inC)
	case tflite.OpFullyConnected:
		n.inputs = []int{op.Inputs[0]}
		err = compileFC(&n, a)
	case tflite.OpAdd:
		if len(op.Inputs) != 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
			return n, fmt.Errorf("inputs %v, want two tensors", op.Inputs)
		}
		n.inputs = op.Inputs
		if op.Add != nil {
			n.act = op.Add.Activation
		}
	case tflite.OpAveragePool2D:
		err = compilePool(&n, op)
	case tflite.OpReshape:
		n.inputs = []int{op.Inputs[0]}
		n.reshape, err = reshapeTarget(m, sg, op)
	case tflite.OpSoftmax:
		n.inputs = []int{op.Inputs[0]}
		n.beta = 1
		if op.Softmax != nil {
			n.beta = op.Softmax.Beta
		}
	case tflite.OpMean:
		n.inputs = []int{op.Inputs[0]}
		n.mean, err = compileMean(m, sg, op, x)
	case tflite.OpQuantize, tflite.OpDequantize:
		n.inputs = []int{op.Inputs[0]}
	default:
		return n, fmt.Errorf("operator not supported by the float interpreter")
	}
	if err != nil {
		return n, err
	}
	switch n.act {
	case tflite.ActNone, tflite.ActRelu, tflite.ActRelu6:
	default:
		return n, fmt.Errorf("fused activation %v not supported", n.act)
	}
	return n, nil
}

// opArgs reads an operator's input tensors.
type opArgs struct {
	m  *tflite.Model
	sg *tflite.Subgraph
	op tflite.Operator
}

// arg is input i's tensor.
func (a opArgs) arg(i int) (*tflite.Tensor, error) {
	if i >= len(a.op.Inputs) || a.op.Inputs[i] < 0 {
		return nil, fmt.Errorf("missing input %d", i)
	}
	return &a.sg.Tensors[a.op.Inputs[i]], nil
}

// constant is input i's values (dequantised) and tensor.
func (a opArgs) constant(i int) ([]float32, *tflite.Tensor, error) {
	t, err := a.arg(i)
	if err != nil {
		return nil, nil, err
	}
	v, err := a.m.Float32(t)
	return v, t, err
}

// bias is the optional bias input i: absent (-1) means zero (nil).
func (a opArgs) bias(i int) ([]float32, error) {
	if i >= len(a.op.Inputs) || a.op.Inputs[i] < 0 {
		return nil, nil
	}
	v, _, err := a.constant(i)
	return v, err
}

// compileConv sets n.conv (and n.act) from a CONV_2D or DEPTHWISE_CONV_2D
// whose input has inC channels.
func compileConv(n *node, a opArgs, inC int) error {
	w, wt, err := a.constant(1)
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	bv, err := a.bias(2)
	if err != nil {
		return fmt.Errorf("bias: %w", err)
	}
	if len(wt.Shape) != 4 {
		return fmt.Errorf("filter shape %v, want 4-D", wt.Shape)
	}
	var spec tensor.ConvSpec
	var oihw []float32
	var pad tflite.Padding
	if o := a.op.Conv2D; o != nil {
		if spec, oihw, err = convFilter(w, wt.Shape, inC, o.StrideH, o.StrideW, o.DilationH, o.DilationW); err != nil {
			return err
		}
		pad, n.act = o.Padding, o.Activation
	} else if o := a.op.DepthwiseConv2D; o != nil {
		if spec, oihw, err = depthwiseFilter(w, wt.Shape, inC, o.StrideH, o.StrideW, o.DilationH, o.DilationW); err != nil {
			return err
		}
		pad, n.act = o.Padding, o.Activation
	} else {
		return fmt.Errorf("missing options (options type %d)", a.op.OptionsType)
	}
	switch pad {
	case tflite.Same:
		spec.SamePad = true
	case tflite.Valid:
	default:
		return fmt.Errorf("padding %v not supported", pad)
	}
	if n.conv, err = tensor.NewConv2d(spec, oihw, bv); err != nil {
		return err
	}
	// The convolution applies its activation while each block of its
	// output is still in cache (the GEMM epilogue, the depthwise rows)
	// instead of in a pass over the whole map afterwards.
	switch n.act {
	case tflite.ActRelu:
		n.conv.Act, n.act = tensor.ActReLU, tflite.ActNone
	case tflite.ActRelu6:
		n.conv.Act, n.act = tensor.ActReLU6, tflite.ActNone
	}
	return nil
}

// convFilter is a CONV_2D's spec and its filter w (shape OHWI) as PyTorch's
// OIHW.
func convFilter(w []float32, shape []int, inC, strideH, strideW, dilH, dilW int) (tensor.ConvSpec, []float32, error) {
	outC, kh, kw, ci := shape[0], shape[1], shape[2], shape[3]
	if ci != inC {
		return tensor.ConvSpec{}, nil, fmt.Errorf("filter %v for %d input channels", shape, inC)
	}
	spec := tensor.ConvSpec{InC: inC, OutC: outC, KH: kh, KW: kw, Stride: strideH, Dilation: dilH}
	if strideW != strideH || dilW != dilH {
		return spec, nil, fmt.Errorf("anisotropic stride %dx%d or dilation %dx%d not supported", strideH, strideW, dilH, dilW)
	}
	oihw := make([]float32, len(w))
	for oc := 0; oc < outC; oc++ {
		for t := 0; t < kh*kw; t++ {
			for c := 0; c < ci; c++ {
				oihw[(oc*ci+c)*kh*kw+t] = w[(oc*kh*kw+t)*ci+c]
			}
		}
	}
	return spec, oihw, nil
}

// depthwiseFilter is a DEPTHWISE_CONV_2D's spec and its filter w, shape
// (1, KH, KW, C*mult), as OIHW (C*mult, 1, KH, KW) with groups = C:
// TFLite's output channel c*mult+k reads input c, which is PyTorch's
// grouping order too.
func depthwiseFilter(w []float32, shape []int, inC, strideH, strideW, dilH, dilW int) (tensor.ConvSpec, []float32, error) {
	kh, kw, outC := shape[1], shape[2], shape[3]
	if shape[0] != 1 || inC == 0 || outC%inC != 0 {
		return tensor.ConvSpec{}, nil, fmt.Errorf("depthwise filter %v for %d input channels", shape, inC)
	}
	spec := tensor.ConvSpec{InC: inC, OutC: outC, KH: kh, KW: kw, Stride: strideH, Dilation: dilH, Groups: inC}
	if strideW != strideH || dilW != dilH {
		return spec, nil, fmt.Errorf("anisotropic stride %dx%d or dilation %dx%d not supported", strideH, strideW, dilH, dilW)
	}
	oihw := make([]float32, len(w))
	for oc := 0; oc < outC; oc++ {
		for t := 0; t < kh*kw; t++ {
			oihw[oc*kh*kw+t] = w[t*outC+oc]
		}
	}
	return spec, oihw, nil
}

// compileFC sets n.fc (and n.act) from a FULLY_CONNECTED.
func compileFC(n *node, a opArgs) error {
	w, wt, err := a.constant(1)
	if err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	bv, err := a.bias(2)
	if err != nil {
		return fmt.Errorf("bias: %w", err)
	}
	if len(wt.Shape) != 2 {
		return fmt.Errorf("weights shape %v, want (out, in)", wt.Shape)
	}
	if o := a.op.FullyConnected; o != nil {
		if o.WeightsFormat != 0 {
			return fmt.Errorf("weights format %d not supported", o.WeightsFormat)
		}
		n.act = o.Activation
	}
	n.fc, err = tensor.NewLinear(wt.Shape[0], wt.Shape[1], w, bv)
	return err
}

// compilePool sets the pooling of an AVERAGE_POOL_2D.
func compilePool(n *node, op tflite.Operator) error {
	o := op.Pool2D
	if o == nil {
		return fmt.Errorf("missing options")
	}
	// PyTorch avg_pool2d without padding is TFLite's VALID pooling.
	if o.Padding != tflite.Valid || o.StrideW != o.StrideH {
		return fmt.Errorf("pooling %+v not supported (VALID with equal strides only)", *o)
	}
	n.inputs = []int{op.Inputs[0]}
	n.poolK = [2]int{o.FilterH, o.FilterW}
	n.poolS = o.StrideH
	n.act = o.Activation
	return nil
}

// reshapeTarget is a RESHAPE's target shape without the batch dimension
// (Forward works on single images), from its constant shape input or its
// options.
func reshapeTarget(m *tflite.Model, sg *tflite.Subgraph, op tflite.Operator) ([]int, error) {
	var target []int
	if len(op.Inputs) > 1 && op.Inputs[1] >= 0 {
		st := &sg.Tensors[op.Inputs[1]]
		data := m.Buffers[st.Buffer]
		if st.Type != tflite.Int32 || len(data) == 0 {
			return nil, fmt.Errorf("shape tensor %q is not a constant INT32 tensor", st.Name)
		}
		for i := 0; i+4 <= len(data); i += 4 {
			target = append(target, int(int32(binary.LittleEndian.Uint32(data[i:]))))
		}
	} else if op.Reshape != nil {
		target = op.Reshape.NewShape
	}
	if len(target) == 0 || (target[0] != 1 && target[0] != -1) {
		return nil, fmt.Errorf("reshape target %v without a leading batch dimension of 1", target)
	}
	return target[1:], nil
}
