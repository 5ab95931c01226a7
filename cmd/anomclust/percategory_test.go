package main

import (
	"slices"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
)

// TestRunFlagsPerCategory: the auto preset chooses per category and fixes
// nothing; --object-align, --object-auto, --score-interval, --tau and
// --x-pool given explicitly are named in Options.Fixed (kept for every
// category); the other presets do not choose per category.
func TestRunFlagsPerCategory(t *testing.T) {
	parse := func(args ...string) pipeline.Options {
		t.Helper()
		f := newRunFlags()
		if err := f.fs.Parse(append([]string{"--data", "d", "--out", "o", "--cache", "none"}, args...)); err != nil {
			t.Fatal(err)
		}
		o, err := f.options()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if d := parse(); !d.PerCategory || len(d.Fixed) != 0 || d.ScoreInterval != 0 || d.XPool != "" {
		t.Errorf("default: per category %v, fixed %v, interval %v, x-pool %q", d.PerCategory, d.Fixed, d.ScoreInterval, d.XPool)
	}
	for _, c := range []struct {
		args  []string
		fixed []string
	}{
		{[]string{"--x-pool", "gem"}, []string{pipeline.FixXPool}},
		{[]string{"--score-interval", "0.3", "--tau", "1"}, []string{pipeline.FixInterval, pipeline.FixTau}},
		{[]string{"--object-align=false", "--object-auto"}, []string{pipeline.FixAlign}},
		{[]string{"--cluster", "ward"}, []string{pipeline.FixCluster}},
	} {
		if o := parse(c.args...); !slices.Equal(o.Fixed, c.fixed) {
			t.Errorf("%v: fixed %v, want %v", c.args, o.Fixed, c.fixed)
		}
	}
	if o := parse("--score-interval", "0.3"); o.ScoreInterval != 0.3 {
		t.Errorf("--score-interval 0.3: %v", o.ScoreInterval)
	}
	for _, p := range []string{"mobilenet", "seed"} {
		if o := parse("--preset", p); o.PerCategory {
			t.Errorf("preset %s chooses per category", p)
		}
	}
}

// TestRunFlagsCopied: every value flag given on the command line reaches
// its Options field, and one not given keeps the preset's value.
func TestRunFlagsCopied(t *testing.T) {
	f := newRunFlags()
	args := []string{"--data", "d", "--out", "o", "--cache", "none",
		"--layernorm", "--object-crop", "--object-align", "--object-auto", "--normalize-x",
		"--weighting", "set-std", "--x-pool", "gem", "--cluster", "kmeans",
		"--score-interval", "0.3", "--train-ratio", "0.7",
		"--pretrain-dim", "512", "--target-dim", "256", "--patchsize", "5", "--image-size", "192", "--resize", "200", "--batch", "3"}
	if err := f.fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	o, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	got := []any{o.LayerNorm, o.ObjectCrop, o.ObjectAlign, o.ObjectAuto, o.NormalizeX,
		o.Weighting, o.XPool, o.Cluster, o.ScoreInterval, o.TrainRatio,
		o.PretrainDim, o.TargetDim, o.PatchSize, o.ImageSize, o.Resize, o.Batch}
	want := []any{true, true, true, true, true, "set-std", "gem", "kmeans", 0.3, 0.7, 512, 256, 5, 192, 200, 3}
	if !slices.Equal(got, want) {
		t.Errorf("options from flags:\n got %v\nwant %v", got, want)
	}
	d, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	f = newRunFlags()
	if err := f.fs.Parse([]string{"--data", "d", "--out", "o", "--cache", "none"}); err != nil {
		t.Fatal(err)
	}
	if o, err = f.options(); err != nil {
		t.Fatal(err)
	}
	if o.Weighting != d.Weighting || o.PatchSize != d.PatchSize || o.TrainRatio != d.TrainRatio || o.ObjectAlign != d.ObjectAlign {
		t.Errorf("flags not given changed the preset: %+v", o)
	}
}
