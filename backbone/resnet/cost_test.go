package resnet

import (
	"math"
	"testing"

	"github.com/anomclust/anomclust/tensor"
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
		if !(math.Abs(got-tc.gmacs) <= 0.01*tc.gmacs) {
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
	if got, want := counts["directref"]-counts["f4"], direct3-f4; !(math.Abs(got-want) <= 1) {
		t.Errorf("F(4x4) saves %.6g FLOPs, want %.6g", got, want)
	}
	if got, want := counts["directref"]-counts["f2"], direct3-f2; !(math.Abs(got-want) <= 1) {
		t.Errorf("F(2x2) saves %.6g FLOPs, want %.6g", got, want)
	}
	if _, err := (&Model{cfg: cfg}).Cost(224, 224, []string{"layer9"}); err == nil {
		t.Error("unknown layer accepted")
	}
}

// TestCostOddSizes checks the sizes Cost derives (stem, max pool, the
// stride-2 first block of a stage) against the maps ForwardBatch returns,
// at sizes where every stride rounds: the differences between consecutive
// taps must be the direct-conv arithmetic of that stage at the tap's size.
// A reduced resnet18 (BasicBlocks, planes 4..32).
func TestCostOddSizes(t *testing.T) {
	cfg := small(Basic, [4]int{2, 2, 2, 2}, 64)
	cfg.DirectConv = true
	m, err := New(cfg, RandomWeights(cfg, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, hw := range [][2]int{{97, 131}, {33, 45}, {63, 65}} {
		x := tensor.New(1, hw[0], hw[1], 3)
		taps, err := m.ForwardBatch(x, []string{"maxpool", "layer1", "layer2", "layer3", "layer4"})
		if err != nil {
			t.Fatal(err)
		}
		prev := 0.0
		for i, name := range []string{"maxpool", "layer1", "layer2", "layer3", "layer4"} {
			c, err := m.Cost(hw[0], hw[1], []string{name})
			if err != nil {
				t.Fatal(err)
			}
			px := float64(taps[name].Shape[1] * taps[name].Shape[2])
			var want float64
			if i == 0 {
				// conv1 7x7/2 (pad 3) then maxpool 3/2 (pad 1): conv1's
				// output is (h-1)/2+1 a side.
				ch, cw := (hw[0]-1)/2+1, (hw[1]-1)/2+1
				want = 2 * float64(ch*cw) * 49 * 3 * 4
				if (ch-1)/2+1 != taps[name].Shape[1] || (cw-1)/2+1 != taps[name].Shape[2] {
					t.Fatalf("%v: maxpool map %v, not %dx%d", hw, taps[name].Shape, (ch-1)/2+1, (cw-1)/2+1)
				}
			} else {
				in, out := float64(cfg.Planes[max(i-2, 0)]), float64(cfg.Planes[i-1])
				want = 2 * px * 9 * (in*out + 3*out*out) // 4 3x3 convs, the first from in channels
				if i > 1 {
					want += 2 * px * in * out // 1x1 stride-2 downsample
				}
			}
			if got := c.Reference - prev; !(math.Abs(got-want) <= 1e-9*want) {
				t.Errorf("%v %s: %.6g FLOPs, want %.6g (map %v)", hw, name, got, want, taps[name].Shape)
			}
			prev = c.Reference
		}
	}
}
