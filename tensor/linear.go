package tensor

import (
	"fmt"

	"github.com/anomclust/anomclust/gemm"
)

// Linear is torch.nn.Linear: y = x·Wᵀ + b over the last dimension.
// Forward is safe for concurrent use.
type Linear struct {
	In, Out int
	// Bias has Out values (zero if the checkpoint had none).
	Bias []float32
	// weight is W (out x in) packed once as the B operand of x·Wᵀ, so
	// Forward does not repack it on every call.
	weight *gemm.PackedB
}

// NewLinear builds a linear layer from a PyTorch weight of shape (out, in)
// and an optional bias (nil or out values).
func NewLinear(out, in int, weight, bias []float32) (*Linear, error) {
	if out <= 0 || in <= 0 || len(weight) != out*in {
		return nil, fmt.Errorf("linear %dx%d: weight has %d values, want %d (out x in)", out, in, len(weight), out*in)
	}
	if bias != nil && len(bias) != out {
		return nil, fmt.Errorf("linear %dx%d: bias has %d values, want %d", out, in, len(bias), out)
	}
	l := &Linear{In: in, Out: out, Bias: make([]float32, out), weight: gemm.PackBT(in, out, weight, in)}
	copy(l.Bias, bias)
	return l, nil
}

// Forward maps x of shape (..., In) to a new tensor of shape (..., Out).
func (l *Linear) Forward(x *Tensor) *Tensor {
	return l.forward(x, gemm.Epilogue{Bias: l.Bias})
}

// ForwardGELU is GELU(Forward(x)) (the fc1 of a ViT MLP, with
// torch.nn.functional.gelu's exact erf form), the activation applied to
// each tile of the output while it is in cache rather than in a pass of
// its own.
func (l *Linear) ForwardGELU(x *Tensor) *Tensor {
	return l.forward(x, gemm.Epilogue{Bias: l.Bias, Post: geluBlock})
}

// AddForward sets dst += Forward(x) without an intermediate tensor: the
// residual connection after a ViT's attention projection and MLP
// (x = x + proj(a)). dst has x's shape with Out in the last dimension.
func (l *Linear) AddForward(dst, x *Tensor) {
	rows, d := lastDim("Linear.AddForward", x)
	if d != l.In {
		panic(fmt.Sprintf("tensor.Linear.AddForward: input last dim %d, layer wants %d", d, l.In))
	}
	if len(dst.Data) != rows*l.Out {
		panic(fmt.Sprintf("tensor.Linear.AddForward: dst %v for %d rows of %d", dst.Shape, rows, l.Out))
	}
	gemm.MatMulPackedEpilogue(rows, x.Data, l.In, l.weight, dst.Data, l.Out, gemm.Epilogue{Accumulate: true, Bias: l.Bias})
}

// ForwardInto is Forward writing into dst (x's rows, Out values each, not
// overlapping x) instead of a new tensor: a caller that runs the layer many times reuses
// one buffer rather than having a fresh one allocated and zeroed each time.
func (l *Linear) ForwardInto(dst, x *Tensor) {
	l.into("Linear.ForwardInto", dst, x, gemm.Epilogue{Bias: l.Bias})
}

// ForwardGELUInto is ForwardGELU writing into dst, as ForwardInto.
func (l *Linear) ForwardGELUInto(dst, x *Tensor) {
	l.into("Linear.ForwardGELUInto", dst, x, gemm.Epilogue{Bias: l.Bias, Post: geluBlock})
}

// forward computes a new (..., Out) tensor as x·Wᵀ followed by ep.
func (l *Linear) forward(x *Tensor, ep gemm.Epilogue) *Tensor {
	shape := append(append([]int(nil), x.Shape[:len(x.Shape)-1]...), l.Out)
	y := New(shape...)
	l.into("Linear.Forward", y, x, ep)
	return y
}

// into sets dst = x·Wᵀ followed by ep.
func (l *Linear) into(op string, dst, x *Tensor, ep gemm.Epilogue) {
	rows, d := lastDim(op, x)
	if d != l.In {
		panic(fmt.Sprintf("tensor.%s: input last dim %d, layer wants %d", op, d, l.In))
	}
	if len(dst.Data) != rows*l.Out {
		panic(fmt.Sprintf("tensor.%s: dst %v for %d rows of %d", op, dst.Shape, rows, l.Out))
	}
	// One tall product: the GEMM splits it over goroutines itself.
	gemm.MatMulPackedEpilogue(rows, x.Data, l.In, l.weight, dst.Data, l.Out, ep)
}
