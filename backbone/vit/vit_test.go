package vit

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/backbone/internal/backbonetest"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/tensor"
)

// tiny is the reduced architecture of testdata/gen_vit.py.
func tiny(name string, patch, depth, img int) Config {
	return Config{Name: name, Patch: patch, Dim: 48, Depth: depth, Heads: 3, MLPRatio: 4, Eps: 1e-6, ImgSize: img, InterpolateOffset: 0.1}
}

// tolerance on backbonetest.RelMaxErr (max |go - torch| / max |torch|). Both
// sides are float32 with different summation orders in the GEMMs (K up to
// 192) and different exp/erf approximations (a few ulps); a block adds
// errors of a few 1e-7 relative, and the final LayerNorm divides by a
// standard deviation of ~1, so 1e-4 leaves a margin of ~100x over what is
// observed while a wrong position embedding, head split or missing layer
// scale is O(1).
const tolerance = 1e-4

func TestViTMatchesTorch(t *testing.T) {
	v2 := tiny("dinov2reg", 14, 2, 56)
	v2.LayerScale, v2.Registers = true, 2
	v2aa := v2
	v2aa.InterpolateOffset, v2aa.InterpolateAntialias = 0, true
	cases := []struct {
		name, ckpt string
		cfg        Config
		layers     []string
	}{
		// 48 px on a 48 px checkpoint: the position embeddings as stored.
		{"dino16", "dino16", tiny("dino16", 16, 2, 48), []string{"blocks.0", "blocks.1", "norm"}},
		// 64x32: DINO's interpolate_pos_encoding (bicubic, +0.1 offset).
		{"dino16_64x32", "dino16", tiny("dino16", 16, 2, 48), []string{"blocks.0", "blocks.1", "norm"}},
		{"dino8_40x48", "dino8_40x48", tiny("dino8", 8, 2, 32), []string{"blocks.0", "blocks.1", "norm"}},
		// DINOv2: layer scale, 2 registers, patch 14, offset 0.1 ...
		{"dinov2reg_42x70", "dinov2reg_42x70", v2, []string{"blocks.0", "blocks.1", "norm"}},
		// ... and the register models' size= antialiased interpolation.
		{"dinov2reg_aa_42x70", "dinov2reg_42x70", v2aa, []string{"blocks.0", "blocks.1", "norm"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			compareWithTorch(t, "testdata", tc.name, tc.ckpt, tc.cfg, tc.layers)
		})
	}
}

func compareWithTorch(t *testing.T, dir, name, ckpt string, cfg Config, layers []string) {
	m, err := New(cfg, backbonetest.LoadTorch(t, filepath.Join(dir, ckpt+".pth")))
	if err != nil {
		t.Fatal(err)
	}
	x := backbonetest.NCHWToNHWC(backbonetest.ReadNPY(t, filepath.Join(dir, name+"_input.npy")))
	for _, req := range [][]string{layers, {layers[0]}} {
		out, err := m.ForwardBatch(x, req)
		if err != nil {
			t.Fatal(err)
		}
		backbonetest.CheckLayers(t, dir, name, out, req, tolerance)
	}
}

func TestLayersAndErrors(t *testing.T) {
	cfg := tiny("t", 8, 3, 32)
	cfg.LayerScale, cfg.Registers = true, 4
	m, err := New(cfg, RandomWeights(cfg, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Layers(), []string{"blocks.0", "blocks.1", "blocks.2", "norm"}; !slices.Equal(got, want) {
		t.Errorf("Layers() = %v, want %v", got, want)
	}
	x := tensor.New(1, 32, 32, 3)
	for _, bad := range []string{"blocks.3", "blocks.01", "blocks.-1", "head", ""} {
		if _, err := m.ForwardBatch(x, []string{bad}); err == nil {
			t.Errorf("layer %q accepted", bad)
		}
	}
	out, err := m.ForwardBatch(x, []string{"blocks.1"})
	if err != nil {
		t.Fatal(err)
	}
	if s := out["blocks.1"].Shape; !slices.Equal(s, []int{1, 4, 4, 48}) {
		t.Errorf("blocks.1 shape %v, want [1 4 4 48]", s)
	}
	// A checkpoint without layer scale cannot build a DINOv2 config.
	plain := tiny("t", 8, 3, 32)
	if _, err := New(cfg, RandomWeights(plain, 1)); err == nil {
		t.Error("missing ls1.gamma / register_tokens not reported")
	}
	// Prefixed keys (DINO training checkpoints) are accepted.
	sd := checkpoint.StateDict{}
	for k, v := range RandomWeights(plain, 2) {
		sd["module."+k] = v
	}
	if _, err := New(plain, sd); err != nil {
		t.Errorf("module.-prefixed checkpoint: %v", err)
	}
}

// TestFullViTB8 compares a real-size ViT-B/8 at 224 px (random weights) with
// the PyTorch DINO definition of testdata/gen_vit.py. Opt-in, it needs
// /usr/bin/python3 with torch and takes a few minutes:
//
//	ANOMCLUST_FULL_MODELS=1 go test ./backbone/vit -run TestFull -v -timeout 30m
func TestFullViTB8(t *testing.T) {
	if os.Getenv("ANOMCLUST_FULL_MODELS") == "" {
		t.Skip("set ANOMCLUST_FULL_MODELS=1 to compare full-size ViT-B/8 with PyTorch")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skipf("/usr/bin/python3 has no torch: %v", err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("/usr/bin/python3", "testdata/gen_vit.py", "--full", dir).CombinedOutput(); err != nil {
		t.Fatalf("gen_vit.py --full: %v\n%s", err, out)
	}
	layers := []string{"blocks.0", "blocks.10", "blocks.11", "norm"}
	compareWithTorch(t, dir, "vit_base8", "vit_base8", DINO("vit_base8", true, 8), layers)
}

// TestBackboneForward checks the per-image interface against the batch
// path, with images of two sizes (so two position-embedding grids) in one
// call.
func TestBackboneForward(t *testing.T) {
	cfg := tiny("t", 8, 2, 32)
	m, err := New(cfg, RandomWeights(cfg, 3))
	if err != nil {
		t.Fatal(err)
	}
	img := func(h, w int, seed float32) *tensor.Tensor {
		x := tensor.New(h, w, 3)
		for i := range x.Data {
			x.Data[i] = float32(i%13)/13 - seed
		}
		return x
	}
	imgs := []*tensor.Tensor{img(32, 32, 0), img(32, 32, 0.5), img(24, 40, 0.2)}
	got, err := m.Backbone().Forward(imgs, []string{"norm"})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range imgs {
		one, err := m.ForwardBatch(x.Reshape(append([]int{1}, x.Shape...)...), []string{"norm"})
		if err != nil {
			t.Fatal(err)
		}
		want := one["norm"]
		if !slices.Equal(got[i]["norm"].Shape, want.Shape[1:]) {
			t.Fatalf("image %d: shape %v, want %v", i, got[i]["norm"].Shape, want.Shape[1:])
		}
		// Same operations; batching may change GEMM blocking: float noise only.
		if e, _ := backbonetest.RelMaxErr(got[i]["norm"].Data, want.Data); !(e <= 1e-6) { // written so that a NaN fails
			t.Errorf("image %d: batched result differs from single (%.3g)", i, e)
		}
	}
}

// TestRowChunks runs the row-wise block steps in chunks of 7 tokens (which
// split images mid-sequence) and checks the result against PyTorch as well.
func TestRowChunks(t *testing.T) {
	m, err := New(tiny("dino8", 8, 2, 32), backbonetest.LoadTorch(t, filepath.Join("testdata", "dino8_40x48.pth")))
	if err != nil {
		t.Fatal(err)
	}
	m.rowChunk = 7
	x := backbonetest.NCHWToNHWC(backbonetest.ReadNPY(t, filepath.Join("testdata", "dino8_40x48_input.npy")))
	out, err := m.ForwardBatch(x, []string{"norm"})
	if err != nil {
		t.Fatal(err)
	}
	want := backbonetest.NCHWToNHWC(backbonetest.ReadNPY(t, filepath.Join("testdata", "dino8_40x48_norm.npy")))
	if e, _ := backbonetest.RelMaxErr(out["norm"].Data, want.Data); e > tolerance {
		t.Errorf("relative max error %.3g > %g", e, tolerance)
	}
}
