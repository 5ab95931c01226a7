package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint"
)

// FamilyName is the name the ResNet family registers under (zoo.Register).
const FamilyName = "resnet"

// Family builds ResNets for package zoo.
var Family = backbone.Family{
	Name: FamilyName,
	New: func(a backbone.Arch, sd checkpoint.StateDict, only []string) (backbone.Backbone, error) {
		c, err := backbone.ArchAs[Config](FamilyName, a)
		if err != nil {
			return nil, err
		}
		if len(only) > 0 {
			c.Stages = StagesFor(only)
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

// String describes the architecture: block kind, blocks per stage, width.
func (c Config) String() string {
	return fmt.Sprintf("ResNet %s %v width %d", c.Block, c.Blocks, c.widthPerGroup())
}

// String is torchvision's name of the block kind.
func (k BlockKind) String() string {
	if k == Bottleneck {
		return "bottleneck"
	}
	return "basic"
}

func (c Config) widthPerGroup() int {
	if c.WidthPerGroup == 0 {
		return 64
	}
	return c.WidthPerGroup
}

// Params lists the tensors of torchvision's ResNet (models/resnet.py) in
// state_dict order: the stem, layer1..layer4 of BasicBlock or Bottleneck
// (width = planes * width_per_group/64, expansion 4), a 1x1 conv + BN
// downsample on the first block of a stage when the stride or width
// changes, and fc when NumClasses > 0. All four stages are listed
// whatever Stages says: a checkpoint holds them all.
func (c Config) Params() ([]checkpoint.Param, error) {
	if c.Block != Basic && c.Block != Bottleneck || c.Planes[0] <= 0 || c.WidthPerGroup < 0 || c.NumClasses < 0 {
		return nil, fmt.Errorf("bad ResNet configuration %+v", c)
	}
	var ps []checkpoint.Param
	conv := func(name string, out, in, k int) {
		ps = append(ps, checkpoint.Param{Name: name + ".weight", Shape: []int{out, in, k, k}})
	}
	bn := func(name string, n int) {
		for _, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			ps = append(ps, checkpoint.Param{Name: name + "." + s, Shape: []int{n}})
		}
		ps = append(ps, checkpoint.Param{Name: name + ".num_batches_tracked", Shape: []int{}, Optional: true})
	}
	conv("conv1", c.Planes[0], 3, 7)
	bn("bn1", c.Planes[0])
	inplanes, exp := c.Planes[0], c.expansion()
	for s, n := range c.Blocks {
		planes := c.Planes[s]
		out := planes * exp
		for b := range n {
			p := "layer" + strconv.Itoa(s+1) + "." + strconv.Itoa(b) + "."
			if c.Block == Bottleneck {
				width := planes * c.widthPerGroup() / 64
				conv(p+"conv1", width, inplanes, 1)
				bn(p+"bn1", width)
				conv(p+"conv2", width, width, 3)
				bn(p+"bn2", width)
				conv(p+"conv3", out, width, 1)
				bn(p+"bn3", out)
			} else {
				conv(p+"conv1", planes, inplanes, 3)
				bn(p+"bn1", planes)
				conv(p+"conv2", planes, planes, 3)
				bn(p+"bn2", planes)
			}
			// torchvision's _make_layer: a downsample branch on the first
			// block when the stride (every stage but layer1) or the
			// channel count changes.
			if b == 0 && (s > 0 || inplanes != out) {
				conv(p+"downsample.0", out, inplanes, 1)
				bn(p+"downsample.1", out)
			}
			inplanes = out
		}
	}
	if c.NumClasses > 0 {
		ps = append(ps,
			checkpoint.Param{Name: "fc.weight", Shape: []int{c.NumClasses, inplanes}},
			checkpoint.Param{Name: "fc.bias", Shape: []int{c.NumClasses}},
		)
	}
	return ps, nil
}

// RandomWeights returns a state_dict of architecture cfg with random values
// for every tensor of cfg.Params that New reads (not fc, not the BN
// counters): convs with the variance of torchvision's Kaiming init, BN
// statistics near identity. For speed measurements without a download.
// Deterministic in seed.
func RandomWeights(cfg Config, seed uint64) checkpoint.StateDict {
	ps, err := cfg.Params()
	if err != nil {
		panic(err) // a Config built in code; New would refuse it too
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	sd := checkpoint.StateDict{}
	for _, p := range ps {
		if p.Optional || strings.HasPrefix(p.Name, "fc.") {
			continue
		}
		v := make([]float32, numel(p.Shape))
		switch suffix := p.Name[strings.LastIndexByte(p.Name, '.')+1:]; {
		case len(p.Shape) == 4:
			// Variance of kaiming_normal_(mode="fan_out"), drawn uniformly
			// (several times cheaper than normal for 69M values).
			out, k := p.Shape[0], p.Shape[2]
			a := float32(math.Sqrt(3 * 2 / float64(out*k*k)))
			for i := range v {
				v[i] = (2*rng.Float32() - 1) * a
			}
		case suffix == "weight" || suffix == "running_var":
			for i := range v {
				v[i] = 0.5 + rng.Float32()
			}
		default: // bias, running_mean
			for i := range v {
				v[i] = 0.1 * float32(rng.NormFloat64())
			}
		}
		sd[p.Name] = &checkpoint.Tensor{Name: p.Name, DType: checkpoint.Float32, Shape: p.Shape, Data: v}
	}
	return sd
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
