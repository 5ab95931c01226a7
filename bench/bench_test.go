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

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
}
