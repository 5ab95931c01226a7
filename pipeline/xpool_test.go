package pipeline_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/xpool"
)

// TestAssignXPool runs the auto preset with the mean+std descriptor:
// run writes X of 2D values per image and records the descriptor in
// run.json, and assign rebuilds the same descriptor for new images (X of
// 2D values whose mean and std halves each have unit length).
func TestAssignXPool(t *testing.T) {
	o, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	f := fakeOptions(t, &poolNet{})
	o.Out, o.Cache, o.Net, o.NetID, o.Layers = f.Out, f.Cache, f.Net, f.NetID, f.Layers
	o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize, o.Batch = f.PretrainDim, f.TargetDim, f.ImageSize, f.Resize, f.Batch
	o.XPool = string(xpool.MeanStd)
	o.Fixed = []string{pipeline.FixXPool} // kept over the preset's per-category choice
	var b []string
	o.Data, b, _ = splitSynth(t)
	o.Modes = []string{rundir.ModeUnsupervised, rundir.ModeSemi}
	run := runRead(t, o)
	if run.Settings.XPool != string(xpool.MeanStd) {
		t.Errorf("run.json x_pool %q, want %q", run.Settings.XPool, xpool.MeanStd)
	}
	cat := run.Categories[0]
	for _, mode := range o.Modes {
		tau := run.Settings.RecommendTau
		if mode == rundir.ModeUnsupervised {
			tau = run.Settings.RecommendTauUnsupervised
		}
		_, shape, err := npy.Read[float32](filepath.Join(rundir.ResultDir(o.Out, cat.Name, mode, tau), rundir.XFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(shape) != 2 || shape[1] != 2*16 {
			t.Errorf("%s: X shape %v, want [N 32] (mean and std of 16-d patches)", mode, shape)
		}
		res, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: o.Out, Mode: mode, Tau: &tau, Images: b, Net: o.Net, NetID: o.NetID, Cache: o.Cache})
		if err != nil {
			t.Fatalf("%s: assign: %v", mode, err)
		}
		if res.D != 32 || len(res.X) != len(b)*32 {
			t.Fatalf("%s: assign X of %d values per image (%d in all), want 32", mode, res.D, len(res.X))
		}
		for i := range b {
			for h := 0; h < 2; h++ {
				var s float64
				for _, v := range res.X[i*32+h*16 : i*32+h*16+16] {
					s += float64(v) * float64(v)
				}
				if !(math.Abs(s-1) <= 1e-4) {
					t.Fatalf("%s: image %d half %d has squared norm %v, want 1", mode, i, h, s)
				}
			}
		}
	}
}

func TestXPoolOptionChecked(t *testing.T) {
	o := fakeOptions(t, &poolNet{})
	o.Data = t.TempDir()
	o.XPool = "median"
	if _, err := pipeline.Run(context.Background(), o); err == nil {
		t.Error("x-pool median accepted")
	}
}
