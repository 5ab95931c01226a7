// Package zoo builds a backbone by its registry name ("wide_resnet50_2",
// "dino_vitb8", "dinov2_vits14_reg", "mobilenet_v2", ...): the architecture
// comes from the weights registry (package weights), the implementation
// from the backbone family registered for it (Register; resnet, vit and
// mobilenet are registered in families.go), so callers (the CLI, the
// pipeline) need not know which package implements which backbone.
package zoo

import (
	"context"
	"fmt"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/load"
	"github.com/anomclust/anomclust/weights"
)

// Arch is one known backbone: its registry entry (whose Arch field is the
// architecture, e.g. a vit.Config) and the family that builds it.
type Arch struct {
	Entry weights.Entry
	// DefaultLayers are the taps the method uses by default (docs/METHOD.md §2).
	DefaultLayers []string
	family        backbone.Family
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

// FromEntry pairs a registry entry with the family registered for its
// architecture.
func FromEntry(e weights.Entry) (Arch, error) {
	if e.Arch == nil {
		return Arch{}, fmt.Errorf("backbone %s: registry entry has no architecture", e.Name)
	}
	f, err := family(e.Arch.Family())
	if err != nil {
		return Arch{}, fmt.Errorf("backbone %s: %w", e.Name, err)
	}
	return Arch{Entry: e, DefaultLayers: e.DefaultLayers, family: f}, nil
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
	if a.family.New == nil {
		return nil, fmt.Errorf("backbone %s is built from its %s file (use Open)", a.Entry.Name, a.Entry.Format)
	}
	return a.family.New(a.Entry.Arch, sd, only)
}

// RandomWeights returns a state dict of the right shapes for name with
// random values (deterministic in seed): for speed measurements and tests
// that need no download. The MobileNets have none (their graph is the file).
func RandomWeights(name string, seed uint64) (checkpoint.StateDict, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if a.family.RandomWeights == nil {
		return nil, fmt.Errorf("backbone %s: no random weights (its graph comes from the %s file)", name, a.Entry.Format)
	}
	return a.family.RandomWeights(a.Entry.Arch, seed)
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
	if a.family.Load != nil {
		return a.family.Load(a.Entry.Arch, path)
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
