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
	rows, d := lastDim("Linear.Forward", x)
	if d != l.In {
		panic(fmt.Sprintf("tensor.Linear.Forward: input last dim %d, layer wants %d", d, l.In))
	}
	shape := append(append([]int(nil), x.Shape[:len(x.Shape)-1]...), l.Out)
	y := New(shape...)
	for r := 0; r < rows; r++ {
		copy(y.Data[r*l.Out:(r+1)*l.Out], l.Bias)
	}
	// One tall product: the GEMM splits it over goroutines itself.
	gemm.MatMulPacked(rows, x.Data, l.In, l.weight, y.Data, l.Out, true)
	return y
}
