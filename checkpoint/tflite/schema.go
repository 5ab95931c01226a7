package tflite

import "fmt"

// TensorType is the element type of a tensor (schema.fbs enum TensorType).
type TensorType int8

// Tensor types used by quantised vision models.
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	UInt8   TensorType = 3
	Int64   TensorType = 4
	Int16   TensorType = 7
	Int8    TensorType = 9
	Float64 TensorType = 10
)

var tensorTypeNames = map[TensorType]string{
	Float32: "FLOAT32", Float16: "FLOAT16", Int32: "INT32", UInt8: "UINT8",
	Int64: "INT64", 5: "STRING", 6: "BOOL", Int16: "INT16", 8: "COMPLEX64", Int8: "INT8",
	Float64: "FLOAT64",
}

func (t TensorType) String() string {
	if s, ok := tensorTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("TensorType(%d)", int8(t))
}

// Size is the size of one element in bytes, 0 for types without a fixed size.
func (t TensorType) Size() int {
	switch t {
	case Float32, Int32:
		return 4
	case Float16, Int16:
		return 2
	case UInt8, Int8:
		return 1
	case Int64, Float64:
		return 8
	}
	return 0
}

// BuiltinOp is a builtin operator code (schema.fbs enum BuiltinOperator).
type BuiltinOp int32

// Builtin operators of the MobileNet graphs (and a few neighbours).
const (
	OpAdd            BuiltinOp = 0
	OpAveragePool2D  BuiltinOp = 1
	OpConcatenation  BuiltinOp = 2
	OpConv2D         BuiltinOp = 3
	OpDepthwiseConv  BuiltinOp = 4
	OpDequantize     BuiltinOp = 6
	OpFullyConnected BuiltinOp = 9
	OpLogistic       BuiltinOp = 14
	OpMaxPool2D      BuiltinOp = 17
	OpMul            BuiltinOp = 18
	OpRelu           BuiltinOp = 19
	OpRelu6          BuiltinOp = 21
	OpReshape        BuiltinOp = 22
	OpSoftmax        BuiltinOp = 25
	OpCustom         BuiltinOp = 32
	OpPad            BuiltinOp = 34
	OpMean           BuiltinOp = 40
	OpSqueeze        BuiltinOp = 43
	OpQuantize       BuiltinOp = 114
)

var opNames = map[BuiltinOp]string{
	OpAdd: "ADD", OpAveragePool2D: "AVERAGE_POOL_2D", OpConcatenation: "CONCATENATION",
	OpConv2D: "CONV_2D", OpDepthwiseConv: "DEPTHWISE_CONV_2D", OpDequantize: "DEQUANTIZE",
	OpFullyConnected: "FULLY_CONNECTED", OpLogistic: "LOGISTIC", OpMaxPool2D: "MAX_POOL_2D",
	OpMul: "MUL", OpRelu: "RELU", OpRelu6: "RELU6", OpReshape: "RESHAPE", OpSoftmax: "SOFTMAX",
	OpCustom: "CUSTOM", OpPad: "PAD", OpMean: "MEAN", OpSqueeze: "SQUEEZE", OpQuantize: "QUANTIZE",
}

func (o BuiltinOp) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("BuiltinOp(%d)", int32(o))
}

// Padding is the padding scheme of convolutions and pools (schema.fbs enum Padding).
type Padding int8

// Padding schemes: SAME pads so that out = ceil(in/stride), VALID does not pad.
const (
	Same  Padding = 0
	Valid Padding = 1
)

func (p Padding) String() string {
	switch p {
	case Same:
		return "SAME"
	case Valid:
		return "VALID"
	}
	return fmt.Sprintf("Padding(%d)", int8(p))
}

// Activation is a fused activation function (schema.fbs enum ActivationFunctionType).
type Activation int8

// Fused activations.
const (
	ActNone      Activation = 0
	ActRelu      Activation = 1
	ActReluN1To1 Activation = 2
	ActRelu6     Activation = 3
	ActTanh      Activation = 4
	ActSignBit   Activation = 5
)

func (a Activation) String() string {
	switch a {
	case ActNone:
		return "NONE"
	case ActRelu:
		return "RELU"
	case ActReluN1To1:
		return "RELU_N1_TO_1"
	case ActRelu6:
		return "RELU6"
	case ActTanh:
		return "TANH"
	case ActSignBit:
		return "SIGN_BIT"
	}
	return fmt.Sprintf("Activation(%d)", int8(a))
}

// Union type codes of BuiltinOptions (schema.fbs union BuiltinOptions: the
// position of the member, 1-based).
const (
	optConv2D          = 1
	optDepthwiseConv2D = 2
	optPool2D          = 5
	optFullyConnected  = 8
	optSoftmax         = 9
	optConcatenation   = 10
	optAdd             = 11
	optReshape         = 17
	optReducer         = 27
	optMul             = 21
	optSqueeze         = 30
)

// Field ids (declaration order in schema.fbs; a union takes two ids, its
// _type byte first).
const (
	modelVersion       = 0
	modelOperatorCodes = 1
	modelSubgraphs     = 2
	modelDescription   = 3
	modelBuffers       = 4

	opcodeDeprecatedBuiltin = 0
	opcodeCustom            = 1
	opcodeVersion           = 2
	opcodeBuiltin           = 3

	subgraphTensors   = 0
	subgraphInputs    = 1
	subgraphOutputs   = 2
	subgraphOperators = 3
	subgraphName      = 4

	tensorShape        = 0
	tensorType         = 1
	tensorBuffer       = 2
	tensorName         = 3
	tensorQuantization = 4
	tensorIsVariable   = 5

	quantMin       = 0
	quantMax       = 1
	quantScale     = 2
	quantZeroPoint = 3
	quantDetails   = 4 // union type byte; 5 is the union value
	quantDimension = 6

	bufferData   = 0
	bufferOffset = 1
	bufferSize   = 2

	operatorOpcodeIndex    = 0
	operatorInputs         = 1
	operatorOutputs        = 2
	operatorOptionsType    = 3
	operatorBuiltinOptions = 4
)
