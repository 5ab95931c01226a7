// Package resnet is torchvision's ResNet family (models/resnet.py, the V1.5
// variant with the stride on the 3x3 convolution) as a frozen feature
// extractor: wide_resnet50_2, resnet50 and resnet18 with torchvision's
// checkpoint keys (conv1, bn1, layer1.0.conv1, ..., layerN.0.downsample.0/1).
//
// BatchNorm runs in eval mode and is folded into the preceding convolution
// when the model is built, so a forward pass is convolutions, ReLUs, one max
// pool and residual additions on channels-last maps. The stride-1 3x3
// convolutions use Winograd F(4x4, 3x3) (winograd4.go); the others are
// GEMMs whose epilogue adds the bias, the block's residual and the ReLU
// (tensor.Conv2d.ForwardFused). The classifier (fc) is not loaded.
package resnet

import (
	"fmt"
	"math"
	"slices"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/tensor"
)

// BlockKind is the residual block of a ResNet.
type BlockKind int

const (
	// Basic is torchvision's BasicBlock (two 3x3 convs, expansion 1): resnet18/34.
	Basic BlockKind = iota
	// Bottleneck is torchvision's Bottleneck (1x1, 3x3, 1x1, expansion 4):
	// resnet50 and wide_resnet50_2.
	Bottleneck
)

// Config is the architecture of a ResNet, as the arguments of torchvision's
// ResNet(block, layers, width_per_group=...).
type Config struct {
	Name  string
	Block BlockKind
	// Blocks is the number of residual blocks in layer1..layer4.
	Blocks [4]int
	// Planes is the planes argument of _make_layer for layer1..layer4;
	// torchvision hard-codes 64, 128, 256, 512 and the stem (conv1) has
	// Planes[0] channels. Reduced test models use smaller values.
	Planes [4]int
	// WidthPerGroup is torchvision's width_per_group: 64, or 128 for the
	// "wide" models (the 3x3 convs of a Bottleneck have planes*W/64 channels).
	WidthPerGroup int
	// Stages is how many of layer1..layer4 are built (0 means all 4):
	// PatchCore needs nothing after layer3, and layer4 holds 60% of
	// wide_resnet50_2's weights. Taps beyond it are unknown layers.
	Stages int
	// DirectConv computes the stride-1 3x3 convolutions by im2col + GEMM
	// instead of Winograd F(4x4, 3x3). An implementation choice, not part
	// of the architecture: for comparisons and tests.
	DirectConv bool
	// WinogradF2 computes them by Winograd F(2x2, 3x3) instead of
	// F(4x4, 3x3) (fewer multiplications, larger rounding errors); for
	// comparisons and tests.
	WinogradF2 bool
	// NumClasses is the width of the classifier (fc) a checkpoint holds
	// (1000 for torchvision's); Params lists it, New does not load it.
	NumClasses int
}

// WideResNet50_2 is torchvision's wide_resnet50_2, PatchCore's backbone:
// layer2 is (28, 28, 512) and layer3 (14, 14, 1024) at 224 px.
func WideResNet50_2() Config {
	return Config{Name: "wide_resnet50_2", Block: Bottleneck, Blocks: [4]int{3, 4, 6, 3}, Planes: [4]int{64, 128, 256, 512}, WidthPerGroup: 128, NumClasses: 1000}
}

// ResNet50 is torchvision's resnet50.
func ResNet50() Config {
	return Config{Name: "resnet50", Block: Bottleneck, Blocks: [4]int{3, 4, 6, 3}, Planes: [4]int{64, 128, 256, 512}, WidthPerGroup: 64, NumClasses: 1000}
}

// ResNet18 is torchvision's resnet18.
func ResNet18() Config {
	return Config{Name: "resnet18", Block: Basic, Blocks: [4]int{2, 2, 2, 2}, Planes: [4]int{64, 128, 256, 512}, WidthPerGroup: 64, NumClasses: 1000}
}

// expansion is the ratio of a block's output channels to its planes.
func (c Config) expansion() int {
	if c.Block == Bottleneck {
		return 4
	}
	return 1
}

// Channels returns the channel count of each tap in LayerNames order.
func (c Config) Channels() []int {
	e := c.expansion()
	return []int{c.Planes[0], c.Planes[0] * e, c.Planes[1] * e, c.Planes[2] * e, c.Planes[3] * e}
}

// layerNames are the taps a ResNet offers, in forward order: "maxpool" is the
// stem's output (conv1, bn1, relu, maxpool; stride 4), "layerN" the output of
// stage N (stride 4, 8, 16, 32).
var layerNames = []string{"maxpool", "layer1", "layer2", "layer3", "layer4"}

// block is one residual block; conv3 is nil for a BasicBlock and downsample
// nil when the identity is added unchanged. Every conv has its BN folded in.
type block struct {
	conv1, conv2, conv3, downsample convOp
}

// forward mirrors Bottleneck.forward / BasicBlock.forward of torchvision.
// The last conv adds the identity and applies the block's ReLU in its own
// epilogue (forwardAddReLU), so the residual costs no pass of its own.
//
// Intermediate maps go back to the arena as soon as they are consumed; x
// is the caller's to release.
func (b *block) forward(a *arena, x *tensor.Tensor) *tensor.Tensor {
	out := b.conv1.forward(a, x, true)
	last := b.conv2
	if b.conv3 != nil {
		out2 := b.conv2.forward(a, out, true)
		a.release(out.Data)
		out, last = out2, b.conv3
	}
	identity := x
	if b.downsample != nil {
		identity = b.downsample.forward(a, x, false)
	}
	y := last.forwardAddReLU(a, out, identity)
	a.release(out.Data)
	if identity != x {
		a.release(identity.Data)
	}
	return y
}

// Model is a ResNet with BN folded, ready for inference. It is safe for
// concurrent use: Forward allocates its own activations.
type Model struct {
	cfg    Config
	conv1  convOp     // conv1 with bn1 folded
	layers [4][]block // layer1..layer4
	arenas arenaPool  // activation buffers for ForwardBatch
}

// New builds a ResNet of architecture cfg from a torchvision state_dict,
// checking every tensor's shape and folding each BatchNorm into its conv.
// Keys not used (fc.*, num_batches_tracked) are ignored.
func New(cfg Config, sd checkpoint.StateDict) (*Model, error) {
	if cfg.WidthPerGroup == 0 {
		cfg.WidthPerGroup = 64
	}
	l := loader{sd: sd, winograd: !cfg.DirectConv, f2: cfg.WinogradF2}
	if cfg.Stages <= 0 || cfg.Stages > 4 {
		cfg.Stages = 4
	}
	m := &Model{cfg: cfg}
	m.conv1 = l.convBN("conv1", "bn1", 3, cfg.Planes[0], 7, 2, 3)
	inplanes := cfg.Planes[0]
	exp := cfg.expansion()
	for s := 0; s < cfg.Stages; s++ {
		planes := cfg.Planes[s]
		stride := 1
		if s > 0 {
			stride = 2
		}
		for i := 0; i < cfg.Blocks[s]; i++ {
			p := fmt.Sprintf("layer%d.%d.", s+1, i)
			var b block
			if cfg.Block == Bottleneck {
				width := planes * cfg.WidthPerGroup / 64
				b.conv1 = l.convBN(p+"conv1", p+"bn1", inplanes, width, 1, 1, 0)
				b.conv2 = l.convBN(p+"conv2", p+"bn2", width, width, 3, stride, 1)
				b.conv3 = l.convBN(p+"conv3", p+"bn3", width, planes*exp, 1, 1, 0)
			} else {
				b.conv1 = l.convBN(p+"conv1", p+"bn1", inplanes, planes, 3, stride, 1)
				b.conv2 = l.convBN(p+"conv2", p+"bn2", planes, planes, 3, 1, 1)
			}
			// torchvision's _make_layer: a downsample branch on the first
			// block when the stride or the channel count changes.
			if i == 0 && (stride != 1 || inplanes != planes*exp) {
				b.downsample = l.convBN(p+"downsample.0", p+"downsample.1", inplanes, planes*exp, 1, stride, 0)
			}
			inplanes = planes * exp
			stride = 1
			m.layers[s] = append(m.layers[s], b)
		}
	}
	if l.err != nil {
		return nil, fmt.Errorf("resnet %s: %w", cfg.Name, l.err)
	}
	return m, nil
}

// loader reads conv+BN pairs from a state dict, keeping the first error.
type loader struct {
	sd       checkpoint.StateDict
	err      error
	winograd bool // stride-1 3x3 convs by Winograd F(4x4, 3x3)
	f2       bool // ... or by F(2x2, 3x3)
}

// bnEps is torch.nn.BatchNorm2d's default eps, which torchvision uses.
const bnEps = 1e-5

func (l *loader) convBN(conv, bn string, in, out, k, stride, pad int) convOp {
	if l.err != nil {
		return nil
	}
	w, err := l.sd.Get(conv+".weight", out, in, k, k)
	if err != nil {
		l.err = err
		return nil
	}
	var p [4][]float32
	for i, name := range []string{"weight", "bias", "running_mean", "running_var"} {
		t, err := l.sd.Get(bn+"."+name, out)
		if err != nil {
			l.err = err
			return nil
		}
		p[i] = t.Data
	}
	if l.winograd && k == 3 && stride == 1 && pad == 1 {
		fw, fb := foldBN(w.Data, p[0], p[1], p[2], p[3], in*k*k)
		if l.f2 {
			return newWinograd(fw, fb, in, out)
		}
		return newWinograd4(fw, fb, in, out)
	}
	c, err := tensor.NewConv2d(tensor.ConvSpec{InC: in, OutC: out, KH: k, KW: k, Stride: stride, Pad: pad}, w.Data, nil)
	if err != nil {
		l.err = fmt.Errorf("%s: %w", conv, err)
		return nil
	}
	if err := c.FoldBatchNorm(p[0], p[1], p[2], p[3], bnEps); err != nil {
		l.err = fmt.Errorf("%s: %w", bn, err)
		return nil
	}
	return direct{c}
}

// foldBN returns the weights (OutC x fan) and bias of a bias-free conv
// followed by eval-mode BatchNorm: w*s and beta - mean*s with
// s = gamma/sqrt(var + eps) (torch.nn.functional.batch_norm, training=False),
// computed in float64 like tensor.Conv2d.FoldBatchNorm.
func foldBN(w, gamma, beta, mean, variance []float32, fan int) ([]float32, []float32) {
	fw := make([]float32, len(w))
	fb := make([]float32, len(gamma))
	for o := range gamma {
		s := float64(gamma[o]) / math.Sqrt(float64(variance[o])+bnEps)
		fb[o] = float32(float64(beta[o]) - float64(mean[o])*s)
		for i := o * fan; i < (o+1)*fan; i++ {
			fw[i] = float32(float64(w[i]) * s)
		}
	}
	return fw, fb
}

// Config returns the architecture the model was built with.
func (m *Model) Config() Config { return m.cfg }

// Layers lists the taps in forward order: maxpool, layer1 .. layer4 (up to
// the last stage built).
func (m *Model) Layers() []string { return slices.Clone(layerNames[:1+m.cfg.Stages]) }

// ForwardBatch runs the network on a batch x of shape (N, H, W, 3)
// (channels-last, normalised) and returns the requested taps as (N, h, w, C)
// maps, stopping after the deepest one requested. The returned maps own
// their data.
func (m *Model) ForwardBatch(x *tensor.Tensor, layers []string) (map[string]*tensor.Tensor, error) {
	if len(x.Shape) != 4 || x.Shape[3] != 3 {
		return nil, fmt.Errorf("resnet %s: input shape %v, want (N, H, W, 3)", m.cfg.Name, x.Shape)
	}
	last := -1
	for _, name := range layers {
		i := slices.Index(layerNames[:1+m.cfg.Stages], name)
		if i < 0 {
			return nil, fmt.Errorf("resnet %s: unknown layer %q (have %v)", m.cfg.Name, name, m.Layers())
		}
		last = max(last, i)
	}
	out := make(map[string]*tensor.Tensor, len(layers))
	keep := func(i int, t *tensor.Tensor) {
		if slices.Contains(layers, layerNames[i]) {
			out[layerNames[i]] = t
		}
	}
	if last < 0 {
		return out, nil
	}
	// Activations are recycled through an arena, kept by the model so
	// that consecutive batches reuse the same memory: a fresh, zeroed map
	// per conv cost a few percent of the forward pass, and the garbage made
	// the heap (and RSS) grow between collections. The maps returned are
	// never recycled.
	a := m.arenas.get([3]int{x.Shape[0], x.Shape[1], x.Shape[2]})
	defer m.arenas.put(a)
	kept := func(t *tensor.Tensor) bool {
		for _, o := range out {
			if o == t {
				return true
			}
		}
		return false
	}
	// Stem: torchvision's conv1 -> bn1 -> relu -> maxpool(3, 2, 1).
	h := m.conv1.forward(a, x, true)
	p := tensor.MaxPool2d(h, 3, 2, 1)
	a.release(h.Data)
	h = p
	keep(0, h)
	for s := 0; s < 4 && s+1 <= last; s++ {
		for i := range m.layers[s] {
			next := m.layers[s][i].forward(a, h)
			if !kept(h) {
				a.release(h.Data)
			}
			h = next
		}
		keep(s+1, h)
	}
	return out, nil
}

// StagesFor is the number of stages needed to compute layers (for
// Config.Stages), or 4 if a name is not a ResNet tap.
func StagesFor(layers []string) int {
	n := 0
	for _, l := range layers {
		i := slices.Index(layerNames, l)
		if i < 0 {
			return 4
		}
		n = max(n, i)
	}
	return max(n, 1)
}

// Backbone adapts a Model to the backbone.Backbone interface under name,
// with the ImageNet preprocessing torchvision's weights were trained with.
func (m *Model) Backbone() backbone.Backbone { return adapter{m} }

type adapter struct{ m *Model }

func (a adapter) Name() string                    { return a.m.cfg.Name }
func (a adapter) Layers() []string                { return a.m.Layers() }
func (a adapter) Preprocess() backbone.Preprocess { return backbone.ImageNet() }
func (a adapter) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	return backbone.ForwardEach(images, layers, a.m.ForwardBatch)
}
