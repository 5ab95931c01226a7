package weights

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/load"
)

// Param is one tensor a checkpoint of an architecture holds: its state
// dict key and shape (PyTorch order). Optional tensors may be absent
// (BatchNorm's num_batches_tracked, missing from older torchvision files).
type Param struct {
	Name     string
	Shape    []int
	Optional bool
}

// ExpectedShapes lists, in the order PyTorch's state_dict() would, every
// tensor a checkpoint of e's architecture holds. MobileNet (TFLite) graphs
// have no fixed naming and give nil; Check tests them loosely.
func ExpectedShapes(e Entry) ([]Param, error) {
	switch {
	case e.Family == FamilyViT && e.ViT != nil:
		return vitShapes(*e.ViT)
	case e.Family == FamilyResNet && e.ResNet != nil:
		return resnetShapes(*e.ResNet)
	case e.Family == FamilyMobileNet && e.MobileNet != nil:
		return nil, nil
	}
	return nil, fmt.Errorf("backbone %q: family %q without its configuration", e.Name, e.Family)
}

// vitShapes mirrors the parameters of timm's and DINO's VisionTransformer
// (vision_transformer.py: PatchEmbed, Block(Attention, Mlp), norm, head)
// and DINOv2's DinoVisionTransformer (mask_token, register_tokens,
// LayerScale ls1/ls2).
func vitShapes(c ViTConfig) ([]Param, error) {
	if c.EmbedDim <= 0 || c.Depth <= 0 || c.PatchSize <= 0 || c.ImgSize < c.PatchSize || c.MLPRatio <= 0 {
		return nil, fmt.Errorf("bad ViT configuration %+v", c)
	}
	d, hidden, p := c.EmbedDim, c.EmbedDim*c.MLPRatio, c.PatchSize
	grid := c.ImgSize / p
	ps := []Param{
		{Name: "cls_token", Shape: []int{1, 1, d}},
		{Name: "pos_embed", Shape: []int{1, 1 + grid*grid, d}},
	}
	if c.KeyStyle == KeysDINOv2 {
		if c.Registers > 0 {
			ps = append(ps, Param{Name: "register_tokens", Shape: []int{1, c.Registers, d}})
		}
		ps = append(ps, Param{Name: "mask_token", Shape: []int{1, d}})
	}
	ps = append(ps,
		Param{Name: "patch_embed.proj.weight", Shape: []int{d, 3, p, p}},
		Param{Name: "patch_embed.proj.bias", Shape: []int{d}},
	)
	for i := range c.Depth {
		b := "blocks." + strconv.Itoa(i) + "."
		ps = append(ps,
			Param{Name: b + "norm1.weight", Shape: []int{d}},
			Param{Name: b + "norm1.bias", Shape: []int{d}},
			Param{Name: b + "attn.qkv.weight", Shape: []int{3 * d, d}},
			Param{Name: b + "attn.qkv.bias", Shape: []int{3 * d}},
			Param{Name: b + "attn.proj.weight", Shape: []int{d, d}},
			Param{Name: b + "attn.proj.bias", Shape: []int{d}},
		)
		if c.KeyStyle == KeysDINOv2 {
			ps = append(ps, Param{Name: b + "ls1.gamma", Shape: []int{d}})
		}
		ps = append(ps,
			Param{Name: b + "norm2.weight", Shape: []int{d}},
			Param{Name: b + "norm2.bias", Shape: []int{d}},
			Param{Name: b + "mlp.fc1.weight", Shape: []int{hidden, d}},
			Param{Name: b + "mlp.fc1.bias", Shape: []int{hidden}},
			Param{Name: b + "mlp.fc2.weight", Shape: []int{d, hidden}},
			Param{Name: b + "mlp.fc2.bias", Shape: []int{d}},
		)
		if c.KeyStyle == KeysDINOv2 {
			ps = append(ps, Param{Name: b + "ls2.gamma", Shape: []int{d}})
		}
	}
	ps = append(ps,
		Param{Name: "norm.weight", Shape: []int{d}},
		Param{Name: "norm.bias", Shape: []int{d}},
	)
	if c.NumClasses > 0 {
		ps = append(ps,
			Param{Name: "head.weight", Shape: []int{c.NumClasses, d}},
			Param{Name: "head.bias", Shape: []int{c.NumClasses}},
		)
	}
	return ps, nil
}

// resnetShapes mirrors torchvision's ResNet (models/resnet.py): stem,
// layer1..layer4 of BasicBlock or Bottleneck (width = planes *
// width_per_group/64, expansion 4), a 1x1 conv + BN downsample on the first
// block of a stage when the stride or width changes, and fc.
func resnetShapes(c ResNetConfig) ([]Param, error) {
	expansion := map[string]int{"basic": 1, "bottleneck": 4}[c.Block]
	if expansion == 0 || c.WidthPerGroup <= 0 || c.NumClasses <= 0 {
		return nil, fmt.Errorf("bad ResNet configuration %+v", c)
	}
	var ps []Param
	conv := func(name string, out, in, k int) {
		ps = append(ps, Param{Name: name + ".weight", Shape: []int{out, in, k, k}})
	}
	bn := func(name string, n int) {
		for _, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			ps = append(ps, Param{Name: name + "." + s, Shape: []int{n}})
		}
		ps = append(ps, Param{Name: name + ".num_batches_tracked", Shape: []int{}, Optional: true})
	}
	conv("conv1", 64, 3, 7)
	bn("bn1", 64)
	inplanes := 64
	for s, n := range c.Blocks {
		planes := 64 << s
		for b := range n {
			p := "layer" + strconv.Itoa(s+1) + "." + strconv.Itoa(b) + "."
			out := planes * expansion
			if c.Block == "basic" {
				conv(p+"conv1", planes, inplanes, 3)
				bn(p+"bn1", planes)
				conv(p+"conv2", planes, planes, 3)
				bn(p+"bn2", planes)
			} else {
				width := planes * c.WidthPerGroup / 64
				conv(p+"conv1", width, inplanes, 1)
				bn(p+"bn1", width)
				conv(p+"conv2", width, width, 3)
				bn(p+"bn2", width)
				conv(p+"conv3", out, width, 1)
				bn(p+"bn3", out)
			}
			if b == 0 && (s > 0 || inplanes != out) {
				conv(p+"downsample.0", out, inplanes, 1)
				bn(p+"downsample.1", out)
			}
			inplanes = out
		}
	}
	ps = append(ps,
		Param{Name: "fc.weight", Shape: []int{c.NumClasses, inplanes}},
		Param{Name: "fc.bias", Shape: []int{c.NumClasses}},
	)
	return ps, nil
}

// Check tests that sd holds every tensor e's architecture needs, with the
// right shape; the error names the first tensor that is missing or has
// the wrong shape. With strict, a tensor the architecture does not have is
// an error too. MobileNet graphs are checked loosely: enough constant
// tensors, and a first convolution over 3 channels.
func Check(sd checkpoint.StateDict, e Entry, strict bool) error {
	if e.Family == FamilyMobileNet {
		return checkMobileNet(sd, e)
	}
	want, err := ExpectedShapes(e)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(want))
	for _, p := range want {
		seen[p.Name] = true
		t, ok := sd[p.Name]
		if !ok {
			if p.Optional {
				continue
			}
			return fmt.Errorf("%s checkpoint: missing tensor %q (want shape %v)", e.Name, p.Name, p.Shape)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%s checkpoint: tensor %q has shape %v, want %v", e.Name, p.Name, t.Shape, p.Shape)
		}
	}
	if strict {
		var extra []string
		for name := range sd {
			if !seen[name] {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			return fmt.Errorf("%s checkpoint: unexpected tensor %q (and %d more) not in the architecture", e.Name, extra[0], len(extra)-1)
		}
	}
	return nil
}

func checkMobileNet(sd checkpoint.StateDict, e Entry) error {
	if e.MobileNet == nil {
		return fmt.Errorf("backbone %q: family %q without its configuration", e.Name, e.Family)
	}
	if len(sd) < e.MobileNet.MinTensors {
		return fmt.Errorf("%s: the graph has %d constant tensors, want at least %d", e.Name, len(sd), e.MobileNet.MinTensors)
	}
	// TFLite CONV_2D filters are OHWI: the stem's is (32, 3, 3, 3).
	stem, signature := false, len(e.MobileNet.Signature) == 0
	for _, t := range sd {
		if len(t.Shape) == 4 && t.Shape[1] == 3 && t.Shape[2] == 3 && t.Shape[3] == 3 {
			stem = true
		}
		if !signature && slices.Equal(t.Shape, e.MobileNet.Signature) {
			signature = true
		}
	}
	if !stem {
		return fmt.Errorf("%s: no 3x3 convolution over 3 input channels (the stem) in the graph", e.Name)
	}
	if !signature {
		return fmt.Errorf("%s: no filter of shape %v in the graph: not a MobileNet V%d file", e.Name, e.MobileNet.Signature, e.MobileNet.Version)
	}
	return nil
}

// VerifyFile loads path as a checkpoint (any format package load reads)
// and checks it against e's architecture with Check.
func VerifyFile(path string, e Entry, strict bool) error {
	sd, err := load.Load(path)
	if err != nil {
		return err
	}
	if err := Check(sd, e, strict); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
