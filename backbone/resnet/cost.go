package resnet

import (
	"fmt"
	"slices"

	"github.com/anomclust/anomclust/backbone"
)

// Cost counts the arithmetic of ForwardBatch on one h x w image up to the
// deepest of layers (see backbone.Cost): the reference is every conv run
// directly, as torchvision does; the executed count replaces each stride-1
// 3x3 conv by its Winograd products (36 per 4x4 output tile for F(4x4),
// 16 per 2x2 tile for F(2x2), whole tiles even where they overhang the map).
func (m *Model) Cost(h, w int, layers []string) (backbone.Cost, error) {
	last := -1
	for _, name := range layers {
		i := slices.Index(layerNames[:1+m.cfg.Stages], name)
		if i < 0 {
			return backbone.Cost{}, fmt.Errorf("resnet %s: unknown layer %q (have %v)", m.cfg.Name, name, m.Layers())
		}
		last = max(last, i)
	}
	var total backbone.Cost
	if last < 0 {
		return total, nil
	}
	c, h, w := m.conv1.cost(h, w)
	total = total.Add(c)
	h, w = (h-1)/2+1, (w-1)/2+1 // maxpool(3, stride 2, padding 1)
	for s := 0; s < 4 && s+1 <= last; s++ {
		for _, b := range m.layers[s] {
			var c backbone.Cost
			c, h, w = b.cost(h, w)
			total = total.Add(c)
		}
	}
	return total, nil
}

// cost is the arithmetic of the block on an h x w input and its output size.
func (b *block) cost(h, w int) (backbone.Cost, int, int) {
	total, oh, ow := b.conv1.cost(h, w)
	c, oh, ow := b.conv2.cost(oh, ow)
	total = total.Add(c)
	if b.conv3 != nil {
		c, oh, ow = b.conv3.cost(oh, ow)
		total = total.Add(c)
	}
	if b.downsample != nil {
		c, _, _ := b.downsample.cost(h, w)
		total = total.Add(c)
	}
	return total, oh, ow
}

func (d direct) cost(h, w int) (backbone.Cost, int, int) {
	s := d.c.ConvSpec
	stride, groups, dil := max(s.Stride, 1), max(s.Groups, 1), max(s.Dilation, 1)
	oh := (h+2*s.Pad-dil*(s.KH-1)-1)/stride + 1
	ow := (w+2*s.Pad-dil*(s.KW-1)-1)/stride + 1
	f := 2 * float64(oh*ow) * float64(s.KH*s.KW*s.InC/groups) * float64(s.OutC)
	return backbone.Cost{Reference: f, Executed: f}, oh, ow
}

func (wc *winograd4) cost(h, w int) (backbone.Cost, int, int) {
	ref := 2 * float64(h*w) * 9 * float64(wc.inC*wc.outC)
	exec := 2 * 36 * float64(((h+3)/4)*((w+3)/4)) * float64(wc.inC*wc.outC)
	return backbone.Cost{Reference: ref, Executed: exec}, h, w
}

func (wc *winograd) cost(h, w int) (backbone.Cost, int, int) {
	ref := 2 * float64(h*w) * 9 * float64(wc.inC*wc.outC)
	exec := 2 * 16 * float64(((h+1)/2)*((w+1)/2)) * float64(wc.inC*wc.outC)
	return backbone.Cost{Reference: ref, Executed: exec}, h, w
}

// Cost implements backbone.Coster.
func (a adapter) Cost(h, w int, layers []string) (backbone.Cost, error) {
	return a.m.Cost(h, w, layers)
}
