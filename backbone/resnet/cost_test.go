package resnet

import (
	"math"
	"testing"
)

// TestCost checks the reference count against the multiply-add figures
// torchvision publishes for its ImageNet weights at 224 px ("GFLOPS" in the
// model docs, which are GMACs: resnet18 1.81, resnet50 4.09,
// wide_resnet50_2 11.40). Those include the fc layer (Cout x 1000), which
// Cost does not run, so it is added here; within 1% (the published figures
// have three significant digits).
func TestCost(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		gmacs float64
		fcIn  int
	}{{ResNet18(), 1.81, 512}, {ResNet50(), 4.09, 2048}, {WideResNet50_2(), 11.40, 2048}} {
		m, err := New(tc.cfg, RandomWeights(tc.cfg, 1))
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Cost(224, 224, []string{"layer4"})
		if err != nil {
			t.Fatal(err)
		}
		got := (c.Reference/2 + float64(tc.fcIn*1000)) / 1e9
		if math.Abs(got-tc.gmacs) > 0.01*tc.gmacs {
			t.Errorf("%s: %.3f GMACs, torchvision says %.2f", tc.cfg.Name, got, tc.gmacs)
		}
		if !(c.Executed < c.Reference) {
			t.Errorf("%s: Winograd executed %.3g >= reference %.3g", tc.cfg.Name, c.Executed, c.Reference)
		}
	}
}

// TestCostExecuted recounts wide_resnet50_2 up to layer3 by hand: the eleven
// stride-1 3x3 convs at 56, 28 and 14 px (3, 3 and 5 of them, 128, 256 and
// 512 channels) run as Winograd F(4x4) with 14, 7 and 4 tiles a side, the
// rest directly; F(2x2) and the direct model give their own counts.
func TestCostExecuted(t *testing.T) {
	cfg := WideResNet50_2()
	cfg.Stages = 3
	counts := map[string]float64{}
	for _, v := range []string{"f4", "f2", "direct"} {
		c := cfg
		c.WinogradF2, c.DirectConv = v == "f2", v == "direct"
		m, err := New(c, RandomWeights(c, 1))
		if err != nil {
			t.Fatal(err)
		}
		cost, err := m.Cost(224, 224, []string{"layer2", "layer3"})
		if err != nil {
			t.Fatal(err)
		}
		counts[v] = cost.Executed
		counts[v+"ref"] = cost.Reference
	}
	wino := func(products, tiles, side, ch float64) float64 { return 2 * products * tiles * tiles * ch * ch * side }
	direct3 := 2 * 9 * (3*56*56*128*128 + 3*28*28*256*256 + 5*14*14*512*512.0)
	f4 := wino(36, 14, 3, 128) + wino(36, 7, 3, 256) + wino(36, 4, 5, 512)
	f2 := wino(16, 28, 3, 128) + wino(16, 14, 3, 256) + wino(16, 7, 5, 512)
	if counts["direct"] != counts["directref"] || counts["f4ref"] != counts["directref"] || counts["f2ref"] != counts["directref"] {
		t.Fatalf("references differ: %v", counts)
	}
	if got, want := counts["directref"]-counts["f4"], direct3-f4; math.Abs(got-want) > 1 {
		t.Errorf("F(4x4) saves %.6g FLOPs, want %.6g", got, want)
	}
	if got, want := counts["directref"]-counts["f2"], direct3-f2; math.Abs(got-want) > 1 {
		t.Errorf("F(2x2) saves %.6g FLOPs, want %.6g", got, want)
	}
	if _, err := (&Model{cfg: cfg}).Cost(224, 224, []string{"layer9"}); err == nil {
		t.Error("unknown layer accepted")
	}
}
