// Package zoo builds a backbone by its registry name ("wide_resnet50_2",
// "dino_vitb8", "dinov2_vits14_reg", "mobilenet_v2", ...): the architecture
// comes from the weights registry (package weights), the implementation
// from package resnet, vit or mobilenet, so callers (the CLI, the pipeline)
// need not know which package implements which backbone.
package zoo

import (
	"context"
	"fmt"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/mobilenet"
	"github.com/anomclust/anomclust/backbone/resnet"
	"github.com/anomclust/anomclust/backbone/vit"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/load"
	"github.com/anomclust/anomclust/weights"
)

// Arch is one known architecture: exactly one of ResNet, ViT and MobileNet
// is set.
type Arch struct {
	Entry  weights.Entry
	ResNet *resnet.Config
	ViT    *vit.Config
	// MobileNet marks the TFLite MobileNets of package mobilenet, whose
	// graph comes from the file itself.
	MobileNet bool
	// DefaultLayers are the taps the method uses by default (METHOD.md §2).
	DefaultLayers []string
}

// Names lists the registry's backbone names, sorted.
func Names() []string { return weights.Names() }

// Lookup returns the architecture of the registry entry name.
func Lookup(name string) (Arch, error) {
	e, err := weights.Lookup(name)
	if err != nil {
		return Arch{}, err
	}
	return FromEntry(e)
}

// FromEntry translates a registry entry into the configuration of the
// package implementing it. Every backbone gets the seed's ImageNet
// preprocessing (METHOD.md §1); e.Preprocess keeps the authors' own.
func FromEntry(e weights.Entry) (Arch, error) {
	a := Arch{Entry: e, DefaultLayers: e.DefaultLayers}
	switch {
	case e.ResNet != nil:
		c := resnet.Config{Name: e.Name, Blocks: e.ResNet.Blocks, Planes: [4]int{64, 128, 256, 512}, WidthPerGroup: e.ResNet.WidthPerGroup}
		switch e.ResNet.Block {
		case "basic":
			c.Block = resnet.Basic
		case "bottleneck":
			c.Block = resnet.Bottleneck
		default:
			return Arch{}, fmt.Errorf("backbone %s: unknown ResNet block %q", e.Name, e.ResNet.Block)
		}
		a.ResNet = &c
	case e.ViT != nil:
		v := e.ViT
		c := vit.Config{Name: e.Name, Patch: v.PatchSize, Dim: v.EmbedDim, Depth: v.Depth, Heads: v.Heads,
			MLPRatio: float64(v.MLPRatio), Eps: v.LayerNormEps, ImgSize: v.ImgSize, Registers: v.Registers,
			InterpolateOffset: 0.1, Preprocess: backbone.ImageNet()}
		if v.KeyStyle == weights.KeysDINOv2 {
			c.LayerScale = true
			if v.Registers > 0 {
				// dinov2/hub/backbones.py builds the _reg models with
				// interpolate_offset=0.0, interpolate_antialias=True.
				c.InterpolateOffset, c.InterpolateAntialias = 0, true
			}
		}
		a.ViT = &c
	case e.MobileNet != nil:
		a.MobileNet = true
	default:
		return Arch{}, fmt.Errorf("backbone %s: registry entry has no architecture", e.Name)
	}
	return a, nil
}

// New builds the backbone name from a state dict with the checkpoint's keys.
// When only is given, the backbone needs to offer only those layers: a
// ResNet is then built up to the deepest of them (less memory; later taps
// are unknown).
func New(name string, sd checkpoint.StateDict, only ...string) (backbone.Backbone, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return a.build(sd, only)
}

func (a Arch) build(sd checkpoint.StateDict, only []string) (backbone.Backbone, error) {
	switch {
	case a.ResNet != nil:
		c := *a.ResNet
		if len(only) > 0 {
			c.Stages = resnet.StagesFor(only)
		}
		m, err := resnet.New(c, sd)
		if err != nil {
			return nil, err
		}
		return m.Backbone(), nil
	case a.ViT != nil:
		m, err := vit.New(*a.ViT, sd)
		if err != nil {
			return nil, err
		}
		return m.Backbone(), nil
	}
	return nil, fmt.Errorf("backbone %s is built from its TFLite file (use Open)", a.Entry.Name)
}

// RandomWeights returns a state dict of the right shapes for name with
// random values (deterministic in seed): for speed measurements and tests
// that need no download. The MobileNets have none (their graph is the file).
func RandomWeights(name string, seed uint64) (checkpoint.StateDict, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	switch {
	case a.ResNet != nil:
		return resnet.RandomWeights(*a.ResNet, seed), nil
	case a.ViT != nil:
		return vit.RandomWeights(*a.ViT, seed), nil
	}
	return nil, fmt.Errorf("backbone %s: no random weights (its graph comes from the TFLite file)", name)
}

// Open builds the backbone name from its weights: the file at path when
// given, else the registry's file, found in ANOMCLUST_WEIGHTS_PATH or the
// cache or downloaded (weights.Store.Resolve). only is as for New.
func Open(ctx context.Context, name, path string, only ...string) (backbone.Backbone, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if path == "" {
		store, err := weights.NewStore()
		if err != nil {
			return nil, err
		}
		if path, err = store.Resolve(ctx, a.Entry, ""); err != nil {
			return nil, err
		}
	}
	if a.MobileNet {
		return mobilenet.Load(path)
	}
	sd, err := load.Load(path)
	if err != nil {
		return nil, err
	}
	b, err := a.build(sd, only)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
