package vit

import (
	"math"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// TestCost checks the count against the multiply-add figures torchvision
// publishes for its ViT-B ImageNet weights at 224 px ("GFLOPS" in the model
// docs, which are GMACs: vit_b_16 17.56, vit_b_32 4.41; the classifier head,
// 768 x 1000, is included there and added here), within 0.5%; and the
// per-layer arithmetic of the DINO ViT-B/8 used in the benchmarks (785
// tokens) by hand.
func TestCost(t *testing.T) {
	model := func(patch int) *Model {
		cfg := DINO("vit_b", true, patch)
		m := &Model{cfg: cfg, blocks: make([]block, cfg.Depth)}
		for i := range m.blocks {
			m.blocks[i].fc1 = &tensor.Linear{In: 768, Out: 3072}
		}
		return m
	}
	for _, tc := range []struct {
		patch int
		gmacs float64
	}{{16, 17.56}, {32, 4.41}} {
		c, err := model(tc.patch).Cost(224, 224, []string{"norm"})
		if err != nil {
			t.Fatal(err)
		}
		got := (c.Reference/2 + 768*1000) / 1e9
		if !(math.Abs(got-tc.gmacs) <= 0.005*tc.gmacs) || c.Executed != c.Reference {
			t.Errorf("ViT-B/%d: %.3f GMACs (executed %.4g), torchvision says %.2f", tc.patch, got, c.Executed, tc.gmacs)
		}
	}
	m := model(8)
	c, err := m.Cost(224, 224, []string{"blocks.3", "blocks.1"})
	if err != nil {
		t.Fatal(err)
	}
	const T, C = 785.0, 768.0
	block := T*C*3*C + 2*T*T*C + T*C*C + 2*T*C*4*C
	if want := 2 * (784*192*C + 4*block); !(math.Abs(c.Reference-want) <= 1) {
		t.Errorf("ViT-B/8 to blocks.3: %.6g FLOPs, want %.6g", c.Reference, want)
	}
	// DINOv2 with 4 registers at 98 x 112 px (7 x 8 patches of 14): the
	// registers are tokens of every block, and norm adds nothing.
	r := model(14)
	r.cfg.Registers = 4
	c, err = r.Cost(98, 112, []string{"norm"})
	if err != nil {
		t.Fatal(err)
	}
	const Tr = 1 + 4 + 56.0
	blockR := Tr*C*3*C + 2*Tr*Tr*C + Tr*C*C + 2*Tr*C*4*C
	if want := 2 * (56*588*C + 12*blockR); !(math.Abs(c.Reference-want) <= 1) {
		t.Errorf("ViT-B/14 with registers: %.6g FLOPs, want %.6g", c.Reference, want)
	}
	if _, err := m.Cost(224, 224, []string{"blocks.12"}); err == nil {
		t.Error("unknown layer accepted")
	}
}
