// Package tensor holds the float32 tensor type and the neural-network
// operations the backbones are built from, each mirroring a PyTorch function
// (eval mode, float32) and tested against it (testdata/gen_tensor_fixtures.py).
//
// # Layout
//
// Everything is channels-last and row-major:
//
//   - a feature map of one image is (H, W, C); a batch of maps is (N, H, W, C);
//   - a token sequence is (T, C), a batch of sequences (N, T, C).
//
// A PyTorch NCHW tensor x therefore corresponds to x.permute(0, 2, 3, 1).
// Channels-last makes a 1x1 convolution a plain GEMM of (H*W, Cin)·(Cin, Cout),
// makes an im2col row a few contiguous runs of C values, and gives a ViT token
// sequence the same memory layout as a map. Weights arrive in PyTorch order
// (conv OIHW, linear [out, in]) and are repacked once by the constructors
// (NewConv2d, NewLinear) into the form the GEMM wants.
//
// # Speed
//
// Heavy products go through package gemm, which splits each product over
// goroutines itself: layer weights are packed once (gemm.PackB / PackBT) and
// products are issued as tall GEMMs (a whole batch of positions or tokens).
// The element-wise work around them (softmax, GELU, LayerNorm, depthwise
// conv) is spread over GOMAXPROCS goroutines here, with AVX-512 kernels in
// kernels_amd64.s chosen at start-up; each has a Go twin (kernels.go, the
// only path with the noasm (or purego) tag or on other CPUs) and the tests
// run both.
// Benchmarks: go test -run '^$' -bench . ./tensor
//
// # Errors and tests
//
// Operations panic on shape mismatches (a programming error); constructors
// that take checkpoint data return errors. Every operation is checked against
// PyTorch 1.13 on golden files made by testdata/gen_tensor_fixtures.py.
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

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Reshape returns a tensor sharing t's data with a new shape; it panics if
// the number of elements differs.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	return From(t.Data, shape...)
}

// mapDims reads an (H, W, C) or (N, H, W, C) shape as n, h, w, c.
func mapDims(op string, x *Tensor) (n, h, w, c int) {
	switch len(x.Shape) {
	case 3:
		return 1, x.Shape[0], x.Shape[1], x.Shape[2]
	case 4:
		return x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	}
	panic(fmt.Sprintf("tensor.%s: want an (H, W, C) or (N, H, W, C) map, got shape %v", op, x.Shape))
}

// mapShape is the shape of an n x h x w x c map with the rank of like
// (3 when like is a single image).
func mapShape(like *Tensor, n, h, w, c int) []int {
	if len(like.Shape) == 3 {
		return []int{h, w, c}
	}
	return []int{n, h, w, c}
}

// lastDim splits a shape into rows (the product of all but the last
// dimension) and the last dimension.
func lastDim(op string, x *Tensor) (rows, d int) {
	if len(x.Shape) == 0 {
		panic(fmt.Sprintf("tensor.%s: scalar tensor", op))
	}
	d = x.Shape[len(x.Shape)-1]
	if d == 0 {
		return 0, 0
	}
	return len(x.Data) / d, d
}
