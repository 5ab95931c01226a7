package bench

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/alpha"
)

// TestAlphaSmall runs Alpha without and, when torch is installed, with the
// PyTorch reference, whose score comparison fails the run on disagreement.
func TestAlphaSmall(t *testing.T) {
	var out bytes.Buffer
	c := AlphaConfig{N: 3, M: 10, D: 8, Seed: 1, Strategy: alpha.Symmetric, StrategyName: "symmetric", PairsSample: 100, TorchThreads: 1}
	if err := Alpha(&out, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "PyTorch: skipped") {
		t.Errorf("no skip line without Python:\n%s", out.String())
	}
	if err := exec.Command(DefaultPython, "-c", "import torch").Run(); err != nil {
		t.Skipf("no %s with torch: %v", DefaultPython, err)
	}
	out.Reset()
	c.Python, c.N, c.M, c.D, c.PairsSample, c.Strategy = DefaultPython, 4, 30, 20, 3, alpha.Fused
	if err := Alpha(&out, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "check: max |s_anomclust - s_torch|") {
		t.Errorf("no score check printed:\n%s", out.String())
	}
}

// TestBackboneNoTorch times a small random ViT without PyTorch.
func TestBackboneNoTorch(t *testing.T) {
	var out bytes.Buffer
	err := Backbone(&out, BackboneConfig{Name: "nope", Size: 32, Batch: 1, Images: 1, Rounds: 1})
	if err == nil {
		t.Error("unknown backbone accepted")
	}
}

func TestParseShape(t *testing.T) {
	if sh, err := parseShape("785x2304x768"); err != nil || sh != [3]int{785, 2304, 768} {
		t.Fatalf("parseShape = %v, %v", sh, err)
	}
	for _, bad := range []string{"", "1x2", "1x2x0", "axbxc", "1x2x3x4"} {
		if _, err := parseShape(bad); err == nil {
			t.Errorf("parseShape(%q) accepted", bad)
		}
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median odd = %g, want 3", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %g, want 2.5", m)
	}
}
