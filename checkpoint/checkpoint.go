// Package checkpoint reads model weights: PyTorch checkpoints written by
// torch.save, safetensors files and TFLite flatbuffers (subpackages), into
// a common map of named tensors.
package checkpoint

import "fmt"

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
)

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
