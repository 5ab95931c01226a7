package vit

import (
	"strings"
	"testing"
)

// TestParamsAreWhatNewReads: New builds from exactly the tensors Params
// lists (all but the unused head and mask token), and refuses a checkpoint
// lacking any of them, naming it: the key list and the model builder
// cannot drift apart.
func TestParamsAreWhatNewReads(t *testing.T) {
	base := Config{Name: "t", Patch: 4, Dim: 8, Depth: 2, Heads: 2, ImgSize: 16}
	v2 := base
	v2.LayerScale, v2.MaskToken, v2.Registers, v2.NumClasses = true, true, 2, 5
	for _, cfg := range []Config{base, v2} {
		ps, err := cfg.Params()
		if err != nil {
			t.Fatal(err)
		}
		sd := RandomWeights(cfg, 1)
		if _, err := New(cfg, sd); err != nil {
			t.Fatal(err)
		}
		required := 0
		for _, p := range ps {
			if unused(p.Name) {
				if _, ok := sd[p.Name]; ok {
					t.Errorf("RandomWeights holds %s, which New does not use", p.Name)
				}
				continue
			}
			required++
			v := sd[p.Name]
			delete(sd, p.Name)
			if _, err := New(cfg, sd); err == nil || !strings.Contains(err.Error(), p.Name) {
				t.Errorf("%+v without %s: %v", cfg, p.Name, err)
			}
			sd[p.Name] = v
		}
		if required != len(sd) {
			t.Errorf("%d tensors generated, %d required", len(sd), required)
		}
	}
	if got := (Config{Dim: 768, Patch: 8}).String(); got != "ViT-B/8 (dino keys)" {
		t.Errorf("String %q", got)
	}
	if got := v2.String(); got != "ViT-8/4 (dinov2 keys)" {
		t.Errorf("String %q", got)
	}
}
