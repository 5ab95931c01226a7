package resnet

import (
	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/tensor"
)

// forwardEach stacks runs of same-size images into batches for fwd and
// splits the maps back per image (see backbone.ForwardEach).
func forwardEach(images []*tensor.Tensor, layers []string,
	fwd func(*tensor.Tensor, []string) (map[string]*tensor.Tensor, error)) ([]map[string]*tensor.Tensor, error) {
	return backbone.ForwardEach(images, layers, fwd)
}
