package vit

import (
	"fmt"

	"github.com/anomclust/anomclust/backbone"
)

// Cost counts the arithmetic of ForwardBatch on one h x w image up to the
// deepest of layers (see backbone.Cost): the patch embedding, and per block
// the qkv, attention (q·kᵀ and attn·v over all tokens, CLS and registers
// included), proj and the two MLP products. Executed equals Reference: the
// model runs the textbook algorithm.
func (m *Model) Cost(h, w int, layers []string) (backbone.Cost, error) {
	last := 0
	for _, name := range layers {
		i := m.layerIndex(name)
		if i < 0 {
			return backbone.Cost{}, fmt.Errorf("vit %s: unknown layer %q (blocks.0 .. blocks.%d, norm)", m.cfg.Name, name, len(m.blocks)-1)
		}
		last = max(last, i)
	}
	if last == 0 {
		return backbone.Cost{}, nil
	}
	p, C := m.cfg.Patch, float64(m.cfg.Dim)
	patches := float64((h / p) * (w / p))
	T := 1 + float64(m.cfg.Registers) + patches
	f := 2 * patches * float64(3*p*p) * C
	for i := 0; i < len(m.blocks) && i < last; i++ {
		hidden := float64(m.blocks[i].fc1.Out)
		f += 2 * (T*C*3*C + 2*T*T*C + T*C*C + 2*T*C*hidden)
	}
	return backbone.Cost{Reference: f, Executed: f}, nil
}

// Cost implements backbone.Coster.
func (a adapter) Cost(h, w int, layers []string) (backbone.Cost, error) {
	return a.m.Cost(h, w, layers)
}
