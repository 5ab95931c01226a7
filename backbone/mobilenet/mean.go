package mobilenet

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/anomclust/anomclust/checkpoint/tflite"
	"github.com/anomclust/anomclust/tensor"
)

// meanSpec is a compiled MEAN: the average over some axes of an (H, W, C)
// map (the file's NHWC axes 1..3 without the batch axis), keeping the
// reduced axes as size 1 or dropping them.
type meanSpec struct {
	axes [3]bool // reduce axis 0 (H), 1 (W), 2 (C) of the map
	keep bool
}

// compileMean reads MEAN's constant axes (input 1, INT32, negative values
// count from the end) for the 4-D NHWC input x.
func compileMean(m *tflite.Model, sg *tflite.Subgraph, op tflite.Operator, x *tflite.Tensor) (*meanSpec, error) {
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("input shape %v, want a 4-D NHWC map", x.Shape)
	}
	if len(op.Inputs) < 2 || op.Inputs[1] < 0 || op.Inputs[1] >= len(sg.Tensors) {
		return nil, fmt.Errorf("missing axes input")
	}
	at := &sg.Tensors[op.Inputs[1]]
	if at.Type != tflite.Int32 || at.Buffer < 0 || at.Buffer >= len(m.Buffers) || len(m.Buffers[at.Buffer]) == 0 {
		return nil, fmt.Errorf("axes tensor %q is not a constant INT32 tensor", at.Name)
	}
	data := m.Buffers[at.Buffer]
	s := &meanSpec{}
	if op.Reducer != nil {
		s.keep = op.Reducer.KeepDims
	}
	for i := 0; i+4 <= len(data); i += 4 {
		a := int(int32(binary.LittleEndian.Uint32(data[i:])))
		if a < 0 {
			a += 4
		}
		if a < 1 || a > 3 {
			return nil, fmt.Errorf("axis %d of a 4-D input not supported (the batch axis cannot be reduced)", int32(binary.LittleEndian.Uint32(data[i:])))
		}
		s.axes[a-1] = true
	}
	return s, nil
}

// run averages x over the spec's axes, summing in float64.
func (s *meanSpec) run(x *tensor.Tensor) (*tensor.Tensor, error) {
	if len(x.Shape) != 3 {
		return nil, fmt.Errorf("input shape %v, want (H, W, C)", x.Shape)
	}
	in := [3]int{x.Shape[0], x.Shape[1], x.Shape[2]}
	var out [3]int
	count := 1
	for a := range 3 {
		out[a] = in[a]
		if s.axes[a] {
			out[a] = 1
			count *= in[a]
		}
	}
	acc := make([]float64, out[0]*out[1]*out[2])
	for h := 0; h < in[0]; h++ {
		for w := 0; w < in[1]; w++ {
			row := x.Data[(h*in[1]+w)*in[2] : (h*in[1]+w+1)*in[2]]
			oh, ow := h, w
			if s.axes[0] {
				oh = 0
			}
			if s.axes[1] {
				ow = 0
			}
			base := (oh*out[1] + ow) * out[2]
			for c, v := range row {
				if s.axes[2] {
					acc[base] += float64(v)
				} else {
					acc[base+c] += float64(v)
				}
			}
		}
	}
	shape := out[:]
	if !s.keep {
		shape = nil
		for a := range 3 {
			if !s.axes[a] {
				shape = append(shape, out[a])
			}
		}
		if len(shape) == 0 {
			shape = []int{1}
		}
	}
	y := tensor.New(slices.Clone(shape)...)
	inv := 1 / float64(count)
	for i, v := range acc {
		y.Data[i] = float32(v * inv)
	}
	return y, nil
}

// needed returns, in execution order, the operators the tensors want depend
// on, or an error naming the first of them the interpreter cannot run.
func (b *MobileNet) needed(want []int) ([]int, error) {
	mark := make([]bool, len(b.nodes))
	stack := slices.Clone(want)
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i := b.producer[t]
		if i < 0 || mark[i] {
			continue
		}
		mark[i] = true
		stack = append(stack, b.nodes[i].inputs...)
	}
	var run []int
	for i, ok := range mark {
		if !ok {
			continue
		}
		if err := b.nodes[i].err; err != nil {
			return nil, fmt.Errorf("mobilenet %s: operator %d (%v), needed by the requested layers: %w", b.name, i, b.nodes[i].op, err)
		}
		run = append(run, i)
	}
	return run, nil
}
