package vit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/tensor"
)

// FamilyName is the name the ViT family registers under (zoo.Register).
const FamilyName = "vit"

// Family builds Vision Transformers for package zoo.
var Family = backbone.Family{
	Name: FamilyName,
	New: func(a backbone.Arch, sd checkpoint.StateDict, _ []string) (backbone.Backbone, error) {
		c, err := backbone.ArchAs[Config](FamilyName, a)
		if err != nil {
			return nil, err
		}
		m, err := New(c, sd)
		if err != nil {
			return nil, err
		}
		return m.Backbone(), nil
	},
	RandomWeights: func(a backbone.Arch, seed uint64) (checkpoint.StateDict, error) {
		c, err := backbone.ArchAs[Config](FamilyName, a)
		if err != nil {
			return nil, err
		}
		return RandomWeights(c, seed), nil
	},
}

// Family is the family name, for backbone.Arch.
func (c Config) Family() string { return FamilyName }

// String describes the architecture: size, patch and the checkpoint's key
// style (dino, timm with a classifier head, dinov2 with a mask token).
func (c Config) String() string {
	size := map[int]string{384: "S", 768: "B", 1024: "L"}[c.Dim]
	if size == "" {
		size = strconv.Itoa(c.Dim)
	}
	keys := "dino"
	switch {
	case c.MaskToken:
		keys = "dinov2"
	case c.NumClasses > 0:
		keys = "timm"
	}
	return fmt.Sprintf("ViT-%s/%d (%s keys)", size, c.Patch, keys)
}

func (c Config) hidden() int {
	r := c.MLPRatio
	if r == 0 {
		r = 4
	}
	return int(float64(c.Dim) * r)
}

// Params lists the tensors of timm's and DINO's VisionTransformer
// (vision_transformer.py: PatchEmbed, Block(Attention, Mlp), norm, head)
// and of DINOv2's DinoVisionTransformer (mask_token, register_tokens,
// LayerScale ls1/ls2), in state_dict order.
func (c Config) Params() ([]checkpoint.Param, error) {
	if c.Dim <= 0 || c.Depth <= 0 || c.Patch <= 0 || c.ImgSize < c.Patch || c.MLPRatio < 0 || c.Registers < 0 || c.NumClasses < 0 {
		return nil, fmt.Errorf("bad ViT configuration %+v", c)
	}
	d, hidden, p := c.Dim, c.hidden(), c.Patch
	grid := c.ImgSize / p
	ps := []checkpoint.Param{
		{Name: "cls_token", Shape: []int{1, 1, d}},
		{Name: "pos_embed", Shape: []int{1, 1 + grid*grid, d}},
	}
	if c.Registers > 0 {
		ps = append(ps, checkpoint.Param{Name: "register_tokens", Shape: []int{1, c.Registers, d}})
	}
	if c.MaskToken {
		ps = append(ps, checkpoint.Param{Name: "mask_token", Shape: []int{1, d}})
	}
	add := func(name string, shape ...int) { ps = append(ps, checkpoint.Param{Name: name, Shape: shape}) }
	add("patch_embed.proj.weight", d, 3, p, p)
	add("patch_embed.proj.bias", d)
	for i := range c.Depth {
		b := "blocks." + strconv.Itoa(i) + "."
		add(b+"norm1.weight", d)
		add(b+"norm1.bias", d)
		add(b+"attn.qkv.weight", 3*d, d)
		add(b+"attn.qkv.bias", 3*d)
		add(b+"attn.proj.weight", d, d)
		add(b+"attn.proj.bias", d)
		if c.LayerScale {
			add(b+"ls1.gamma", d)
		}
		add(b+"norm2.weight", d)
		add(b+"norm2.bias", d)
		add(b+"mlp.fc1.weight", hidden, d)
		add(b+"mlp.fc1.bias", hidden)
		add(b+"mlp.fc2.weight", d, hidden)
		add(b+"mlp.fc2.bias", d)
		if c.LayerScale {
			add(b+"ls2.gamma", d)
		}
	}
	add("norm.weight", d)
	add("norm.bias", d)
	if c.NumClasses > 0 {
		add("head.weight", c.NumClasses, d)
		add("head.bias", c.NumClasses)
	}
	return ps, nil
}

// unused reports whether New ignores the checkpoint tensor name.
func unused(name string) bool {
	return name == "mask_token" || strings.HasPrefix(name, "head.")
}

// RandomWeights returns a state_dict with every tensor of cfg.Params that
// New reads (not mask_token, not the head), holding random values like
// DINO's init: weights of standard deviation 0.02, zero biases, unit
// LayerNorm; layer scale 0.1 rather than 1e-5 so blocks matter. For speed
// measurements without a download. Deterministic in seed.
func RandomWeights(cfg Config, seed uint64) checkpoint.StateDict {
	ps, err := cfg.Params()
	if err != nil {
		panic(err) // a Config built in code; New would refuse it too
	}
	// The patch embedding draws first: the order values were drawn in
	// before the list came from Params, so a seed gives the same weights.
	slices.SortStableFunc(ps, func(a, b checkpoint.Param) int {
		pa, pb := strings.HasPrefix(a.Name, "patch_embed."), strings.HasPrefix(b.Name, "patch_embed.")
		switch {
		case pa && !pb:
			return -1
		case pb && !pa:
			return 1
		}
		return 0
	})
	rng := rand.New(rand.NewPCG(seed, 0x717))
	// Uniform with standard deviation 0.02: as good as trunc-normal for
	// timing, and several times cheaper for 86M values.
	a := float32(0.02 * math.Sqrt(3))
	sd := checkpoint.StateDict{}
	for _, p := range ps {
		if unused(p.Name) {
			continue
		}
		v := make([]float32, tensor.Numel(p.Shape))
		dot := strings.LastIndexByte(p.Name, '.')
		module := p.Name[:max(dot, 0)]
		module = module[strings.LastIndexByte(module, '.')+1:]
		switch suffix := p.Name[dot+1:]; {
		case suffix == "bias":
			// zero
		case suffix == "gamma":
			fill(v, 0.1)
		case suffix == "weight" && strings.HasPrefix(module, "norm"):
			fill(v, 1)
		default: // linear and patch weights, cls_token, pos_embed, register_tokens
			for i := range v {
				v[i] = (2*rng.Float32() - 1) * a
			}
		}
		sd[p.Name] = &checkpoint.Tensor{Name: p.Name, DType: checkpoint.Float32, Shape: p.Shape, Data: v}
	}
	return sd
}

func fill(v []float32, c float32) {
	for i := range v {
		v[i] = c
	}
}

var _ backbone.Arch = Config{}
