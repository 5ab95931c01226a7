// Package tensor holds the float32 tensor type and the neural-network
// operations the backbones are built from.
//
// Layout: feature maps are channels-last, (H, W, C) per image, row-major,
// so that a 1x1 convolution is a plain GEMM of (H*W, Cin)·(Cin, Cout) and a
// token sequence (T, C) of a ViT has the same memory layout as a map.
package tensor

import "fmt"

// Tensor is a dense row-major float32 array.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Numel(shape))}
}

// From wraps data as a tensor of the given shape; it panics if the sizes differ.
func From(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor.From: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Numel is the number of elements of a shape.
func Numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
