package zoo

import (
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/vit"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/tensor"
	"github.com/anomclust/anomclust/weights"
)

// TestRegistryBackbonesBuild builds every ResNet and ViT of the registry
// from random weights, after checking those weights against the
// architecture's tensor names and shapes (Arch.Params, which package
// weights tests against torchvision's and DINO's own lists), and runs a
// small forward pass. Random weights for the full models take a few
// seconds in all.
func TestRegistryBackbonesBuild(t *testing.T) {
	for _, e := range weights.All() {
		a, err := FromEntry(e)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		if a.family.RandomWeights == nil {
			if _, ok := e.Arch.(backbone.GraphChecker); !ok {
				t.Errorf("%s: no random weights, yet not a graph read from the file", e.Name)
			}
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			sd, err := RandomWeights(e.Name, 1)
			if err != nil {
				t.Fatal(err)
			}
			want, err := weights.ExpectedShapes(e)
			if err != nil {
				t.Fatal(err)
			}
			// Everything generated is in the registry's list, same shape;
			// everything listed is generated, except what the backbone does
			// not use (classifier, DINOv2's mask_token, BN counters).
			expected := map[string][]int{}
			for _, p := range want {
				expected[p.Name] = p.Shape
				_, ok := sd[p.Name]
				unused := strings.HasPrefix(p.Name, "fc.") || strings.HasPrefix(p.Name, "head.") ||
					p.Name == "mask_token" || strings.HasSuffix(p.Name, "num_batches_tracked")
				if !ok && !unused && !p.Optional {
					t.Errorf("registry tensor %s %v not generated", p.Name, p.Shape)
				}
			}
			for name, tt := range sd {
				if s, ok := expected[name]; !ok || !slices.Equal(s, tt.Shape) {
					t.Errorf("generated %s %v, registry has %v", name, tt.Shape, s)
				}
			}
			b, err := New(e.Name, sd)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(b.Layers()[len(b.Layers())-len(e.Layers):], e.Layers) {
				t.Errorf("layers %v, registry says %v", b.Layers(), e.Layers)
			}
			// Smallest input that reaches the first default layer.
			size := 64
			if c, ok := e.Arch.(vit.Config); ok {
				size = 2 * c.Patch
			}
			first := e.DefaultLayers[:1]
			out, err := b.Forward([]*tensor.Tensor{tensor.New(size, size, 3)}, first)
			if err != nil {
				t.Fatal(err)
			}
			if m := out[0][first[0]]; m == nil || len(m.Shape) != 3 {
				t.Fatalf("no map for %s", first[0])
			}
		})
	}
}

func TestDINOv2Interpolation(t *testing.T) {
	for name, want := range map[string][2]any{
		"dinov2_vits14":     {0.1, false},
		"dinov2_vitb14_reg": {0.0, true},
		"dino_vitb8":        {0.1, false},
	} {
		a, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		c := a.Entry.Arch.(vit.Config)
		if c.InterpolateOffset != want[0] || c.InterpolateAntialias != want[1] {
			t.Errorf("%s: offset %v antialias %v, want %v", name, c.InterpolateOffset, c.InterpolateAntialias, want)
		}
		if strings.HasPrefix(name, "dinov2") != c.LayerScale {
			t.Errorf("%s: layer scale %v", name, c.LayerScale)
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("unknown name accepted")
	}
}

// TestFamilies: every registry entry's family is registered; an entry of
// an unknown family, a family registered twice or one that cannot build
// anything are refused.
func TestFamilies(t *testing.T) {
	if got := Families(); !slices.Equal(got, []string{"mobilenet", "resnet", "vit"}) {
		t.Errorf("families %v", got)
	}
	e, err := weights.Lookup("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	e.Arch = otherArch{}
	if _, err := FromEntry(e); err == nil || !strings.Contains(err.Error(), `no backbone family "other"`) {
		t.Errorf("unknown family: %v", err)
	}
	e.Arch = nil
	if _, err := FromEntry(e); err == nil {
		t.Error("entry without an architecture accepted")
	}
	for name, f := range map[string]backbone.Family{
		"duplicate": {Name: "vit", New: families["vit"].New},
		"no name":   {New: families["vit"].New},
		"no build":  {Name: "other"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			Register(f)
		}()
	}
	if _, err := RandomWeights("mobilenet_v2", 1); err == nil || !strings.Contains(err.Error(), "tflite file") {
		t.Errorf("random MobileNet weights: %v", err)
	}
	if _, err := New("mobilenet_v2", nil); err == nil || !strings.Contains(err.Error(), "use Open") {
		t.Errorf("MobileNet from a state dict: %v", err)
	}
}

type otherArch struct{}

func (otherArch) Family() string                      { return "other" }
func (otherArch) Params() ([]checkpoint.Param, error) { return nil, nil }
func (otherArch) String() string                      { return "other" }
