// Package checkpoint reads model weights: PyTorch checkpoints written by
// torch.save, safetensors files and TFLite flatbuffers (subpackages), into
// a common map of named tensors.
package checkpoint

import (
	"fmt"
	"math"
)

// DType names the element type a tensor had in its file.
type DType string

const (
	Float32  DType = "float32"
	Float16  DType = "float16"
	BFloat16 DType = "bfloat16"
	Int64    DType = "int64"
	Int8     DType = "int8"
	UInt8    DType = "uint8"
	Int32    DType = "int32"
	Float64  DType = "float64"
	Int16    DType = "int16"
	Bool     DType = "bool"
)

// IsFloat reports whether tensors of this type are decoded into Tensor.Data
// (floating point) rather than Tensor.Ints.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float16 || d == BFloat16 || d == Float64
}

// Tensor is one named tensor of a checkpoint. Floating-point tensors are
// decoded to float32 in Data; integer tensors keep their values in Ints.
// Shape is in the file's (PyTorch: NCHW / OIHW) order; Data is dense
// row-major, with strides and offsets already applied.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []float32
	Ints  []int64
}

// StateDict maps parameter names (PyTorch state_dict keys) to tensors.
type StateDict map[string]*Tensor

// Get returns the tensor named name, checking its shape when want is not nil.
func (s StateDict) Get(name string, want ...int) (*Tensor, error) {
	t, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("checkpoint has no tensor %q", name)
	}
	if want != nil {
		if len(want) != len(t.Shape) {
			return nil, fmt.Errorf("tensor %q has shape %v, want %v", name, t.Shape, want)
		}
		for i := range want {
			if want[i] != t.Shape[i] {
				return nil, fmt.Errorf("tensor %q has shape %v, want %v", name, t.Shape, want)
			}
		}
	}
	return t, nil
}

// Numel is the number of elements of a tensor of shape shape (1 for a
// scalar, shape []).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Float16ToFloat32 converts an IEEE 754 binary16 value (given as its bits)
// to float32 exactly, subnormals, infinities and NaNs included, as
// torch.Tensor.float() does.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN: keep the payload
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal half: mant * 2^-24, exactly representable as a normal float32.
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// BFloat16ToFloat32 converts a bfloat16 value (the upper 16 bits of a
// float32) to float32 exactly.
func BFloat16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}
