package pipeline_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// TestAutoPreset runs the auto preset's weighting (set-standardised scores,
// a reference sample, bank coreset) with L2-normalised X on the synthetic
// set: the recommended setting is semi at
// the preset's semi tau (train images exist), X rows have unit length and
// run.json records the choices. Without train images the recommendation is
// unsupervised at its own tau.
func TestAutoPreset(t *testing.T) {
	auto, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	if def, _ := pipeline.Preset(""); def.Preset != pipeline.PresetAuto {
		t.Errorf("default preset %q, want auto", def.Preset)
	}
	o := fakeOptions(t, &poolNet{})
	o.Preset, o.Taus, o.RecommendTau, o.RecommendTauUnsupervised = auto.Preset, auto.Taus, auto.RecommendTau, auto.RecommendTauUnsupervised
	o.Weighting = auto.Weighting
	// NormalizeX, which auto leaves off, is exercised too.
	o.NormalizeX = true
	o.Refs = 6 // fewer than the 12+ other images: sampled
	o.Coreset = auto.Coreset
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	run, err := rundir.ReadRun(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	s := run.Settings
	if s.Weighting != pipeline.WeightSetStd || s.Refs != 6 || s.Coreset != auto.Coreset || !s.NormalizeX ||
		s.RecommendTau != 0.5 || s.RecommendTauUnsupervised != 1 {
		t.Errorf("run.json settings %+v", s)
	}
	nrec := map[string]int{}
	for _, r := range res.Summary {
		if r.Kind != rundir.KindCategory {
			continue
		}
		if r.Recommended {
			nrec[r.Category]++
			if r.Mode != rundir.ModeSemi || r.Tau != *auto.RecommendTau {
				t.Errorf("%s: recommended %s tau %v", r.Category, r.Mode, r.Tau)
			}
		}
	}
	for _, c := range run.Categories {
		if nrec[c.Name] != 1 {
			t.Errorf("%s: %d recommended rows, want 1", c.Name, nrec[c.Name])
		}
	}
	// Without train images (semi not run): unsupervised at tau 1.
	o2 := o
	o2.Out = filepath.Join(t.TempDir(), "out2")
	o2.Modes = []string{rundir.ModeUnsupervised, rundir.ModeAverage}
	res2, err := pipeline.Run(context.Background(), o2)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range res2.Summary {
		if r.Kind == rundir.KindCategory && r.Recommended {
			n++
			if r.Mode != rundir.ModeUnsupervised || r.Tau != 1 {
				t.Errorf("no semi: recommended %s tau %v, want unsupervised tau 1", r.Mode, r.Tau)
			}
		}
	}
	if n != len(run.Categories) {
		t.Errorf("no semi: %d recommended rows for %d categories", n, len(run.Categories))
	}
	for _, r := range run.Results(o.Out) {
		checkResult(t, r, 12, 64, 16)
		x, _, err := npy.Read[float32](filepath.Join(r.Dir, rundir.XFile))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 12; i++ {
			var n float64
			for _, v := range x[i*16 : (i+1)*16] {
				n += float64(v) * float64(v)
			}
			if !(math.Abs(n-1) <= 1e-5) {
				t.Errorf("%s: X row %d has squared norm %v, want 1", r.Dir, i, n)
			}
		}
	}
}
