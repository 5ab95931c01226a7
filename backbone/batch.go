package backbone

import (
	"fmt"
	"slices"

	"github.com/anomclust/anomclust/tensor"
)

// ForwardEach implements Backbone.Forward on top of a batched forward pass:
// runs of consecutive images of the same size are stacked into one
// (N, H, W, 3) batch for fwd (so 1x1 convolutions and linear layers become
// one tall GEMM), and each of fwd's (N, ...) maps is split back into
// per-image views of shape (...), which share fwd's memory.
//
// Images of other shapes than (H, W, 3) are an error; fwd's errors are
// returned as they are.
func ForwardEach(images []*tensor.Tensor, layers []string,
	fwd func(batch *tensor.Tensor, layers []string) (map[string]*tensor.Tensor, error)) ([]map[string]*tensor.Tensor, error) {
	out := make([]map[string]*tensor.Tensor, 0, len(images))
	for lo := 0; lo < len(images); {
		first := images[lo]
		if len(first.Shape) != 3 || first.Shape[2] != 3 {
			return nil, fmt.Errorf("image %d has shape %v, want (H, W, 3)", lo, first.Shape)
		}
		hi := lo + 1
		for hi < len(images) && slices.Equal(images[hi].Shape, first.Shape) {
			hi++
		}
		size := len(first.Data)
		x := tensor.New(hi-lo, first.Shape[0], first.Shape[1], 3)
		for i := lo; i < hi; i++ {
			copy(x.Data[(i-lo)*size:], images[i].Data)
		}
		maps, err := fwd(x, layers)
		if err != nil {
			return nil, err
		}
		for i := 0; i < hi-lo; i++ {
			m := make(map[string]*tensor.Tensor, len(maps))
			for name, t := range maps {
				per := len(t.Data) / (hi - lo)
				m[name] = tensor.From(t.Data[i*per:(i+1)*per:(i+1)*per], t.Shape[1:]...)
			}
			out = append(out, m)
		}
		lo = hi
	}
	return out, nil
}
