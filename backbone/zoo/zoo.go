// Package zoo builds a backbone by its registry name ("wide_resnet50_2",
// "dino_vitb8", "dinov2_vits14_reg", ...) from a state dict, so that callers
// (the CLI, the pipeline, a weights registry) need not know which package
// implements which architecture.
package zoo

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/mobilenet"
	"github.com/anomclust/anomclust/backbone/resnet"
	"github.com/anomclust/anomclust/backbone/vit"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/torchpt"
)

// Arch is one known architecture: exactly one of ResNet, ViT and MobileNet
// is set.
type Arch struct {
	ResNet *resnet.Config
	ViT    *vit.Config
	// MobileNet marks the TFLite MobileNets of package mobilenet, whose
	// architecture comes from the file itself.
	MobileNet bool
	// DefaultLayers are the taps the method uses by default (METHOD.md §2).
	DefaultLayers []string
}

func resnetArch(c resnet.Config) Arch {
	return Arch{ResNet: &c, DefaultLayers: []string{"layer2", "layer3"}}
}

func vitArch(c vit.Config) Arch {
	return Arch{ViT: &c, DefaultLayers: []string{"blocks.10", "blocks.11"}}
}

// archs returns the architectures by registry name (a fresh map per call:
// no package-level mutable state).
func archs() map[string]Arch {
	return map[string]Arch{
		"wide_resnet50_2":      resnetArch(resnet.WideResNet50_2()),
		"resnet50":             resnetArch(resnet.ResNet50()),
		"resnet18":             resnetArch(resnet.ResNet18()),
		"dino_vits8":           vitArch(vit.DINO("dino_vits8", false, 8)),
		"dino_vits16":          vitArch(vit.DINO("dino_vits16", false, 16)),
		"dino_vitb8":           vitArch(vit.DINO("dino_vitb8", true, 8)),
		"dino_vitb16":          vitArch(vit.DINO("dino_vitb16", true, 16)),
		"vit_base_patch8_224":  vitArch(vit.TimmBase("vit_base_patch8_224", 8)),
		"vit_base_patch16_224": vitArch(vit.TimmBase("vit_base_patch16_224", 16)),
		"dinov2_vits14":        vitArch(vit.DINOv2("dinov2_vits14", false, 0)),
		"dinov2_vitb14":        vitArch(vit.DINOv2("dinov2_vitb14", true, 0)),
		"dinov2_vits14_reg":    vitArch(vit.DINOv2("dinov2_vits14_reg", false, 4)),
		"dinov2_vitb14_reg":    vitArch(vit.DINOv2("dinov2_vitb14_reg", true, 4)),
		"mobilenet_v1":         {MobileNet: true, DefaultLayers: []string{"stride8", "stride16"}},
		"mobilenet_v2":         {MobileNet: true, DefaultLayers: []string{"stride8", "stride16"}},
	}
}

// Names lists the known backbone names, sorted.
func Names() []string {
	var names []string
	for n := range archs() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the architecture registered under name.
func Lookup(name string) (Arch, error) {
	a, ok := archs()[name]
	if !ok {
		return Arch{}, fmt.Errorf("unknown backbone %q (known: %v)", name, Names())
	}
	return a, nil
}

// New builds the backbone name from a state dict with the checkpoint's keys.
func New(name string, sd checkpoint.StateDict) (backbone.Backbone, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if a.MobileNet {
		return nil, fmt.Errorf("backbone %s is built from its TFLite file (use Open)", name)
	}
	if a.ResNet != nil {
		m, err := resnet.New(*a.ResNet, sd)
		if err != nil {
			return nil, err
		}
		return m.Backbone(), nil
	}
	m, err := vit.New(*a.ViT, sd)
	if err != nil {
		return nil, err
	}
	return m.Backbone(), nil
}

// RandomWeights returns a state dict of the right shapes for name with
// random values (deterministic in seed): for speed measurements and tests
// that need no download.
func RandomWeights(name string, seed uint64) (checkpoint.StateDict, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if a.MobileNet {
		return nil, fmt.Errorf("backbone %s: no random weights (its architecture comes from the TFLite file)", name)
	}
	if a.ResNet != nil {
		return resnet.RandomWeights(*a.ResNet, seed), nil
	}
	return vit.RandomWeights(*a.ViT, seed), nil
}

// LoadWeights reads a weights file. Only torch.save files (zip or legacy)
// are recognised for now.
func LoadWeights(path string) (checkpoint.StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	head := make([]byte, 16)
	n, _ := f.Read(head)
	f.Close()
	if torchpt.Sniff(head[:n]) {
		return torchpt.Load(path)
	}
	return nil, fmt.Errorf("weights %s: not a torch.save checkpoint (other formats are not wired in yet)", path)
}

// IsViT reports whether name is a transformer (its maps are token grids).
func IsViT(name string) bool {
	a, err := Lookup(name)
	return err == nil && a.ViT != nil
}

// Open builds the backbone name from the weights file at path: a TFLite
// file for the MobileNets, a torch.save checkpoint otherwise.
func Open(name, path string) (backbone.Backbone, error) {
	if strings.HasPrefix(name, "mobilenet") {
		return mobilenet.Load(path)
	}
	sd, err := LoadWeights(path)
	if err != nil {
		return nil, err
	}
	return New(name, sd)
}
