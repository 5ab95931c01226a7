package main

import (
	"context"
	"flag"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
	"github.com/anomclust/anomclust/tensor"
)

// TestRunFlagsPreset checks preset resolution: the preset's settings unless
// a flag was given explicitly, a new backbone bringing its own default
// layers, and "all" modes skipping semi where there is no train set.
func TestRunFlagsPreset(t *testing.T) {
	parse := func(args ...string) (o struct {
		backbone            string
		layers              []string
		pre, target         int
		layerNorm, skipSemi bool
		taus                []float64
		modes               []string
		cache               string
	}) {
		t.Helper()
		f := newRunFlags()
		if err := f.fs.Parse(append([]string{"--data", "d", "--out", "o", "--cache", "none"}, args...)); err != nil {
			t.Fatal(err)
		}
		p, err := f.options()
		if err != nil {
			t.Fatal(err)
		}
		o.backbone, o.layers, o.pre, o.target = p.Backbone, p.Layers, p.PretrainDim, p.TargetDim
		o.layerNorm, o.skipSemi, o.taus, o.modes, o.cache = p.LayerNorm, p.SkipSemiWithoutTrain, p.Taus, p.Modes, p.Cache
		return o
	}
	d := parse()
	if d.backbone != "mobilenet_v2" || !slices.Equal(d.layers, []string{"stride8", "stride16"}) || d.pre != 1024 ||
		!slices.Equal(d.modes, rundir.Modes()) || !d.skipSemi || d.cache != "" || !slices.Equal(d.taus, []float64{0.15, 0.5, 1}) {
		t.Errorf("default (auto): %+v", d)
	}
	if m := parse("--preset", "mobilenet"); m.backbone != "mobilenet_v2" || !slices.Equal(m.taus, []float64{0, 1, 2}) {
		t.Errorf("mobilenet: %+v", m)
	}
	s := parse("--preset", "seed")
	if s.backbone != "dino_vitb8" || !slices.Equal(s.layers, []string{"blocks.10", "blocks.11"}) || s.pre != 2048 || s.target != 4096 ||
		!s.layerNorm || len(s.taus) != 17 {
		t.Errorf("seed: %+v", s)
	}
	s = parse("--preset", "seed", "--tau", "2", "--target-dim", "512", "--layernorm=false", "--mode", "semi")
	if !slices.Equal(s.taus, []float64{2}) || s.target != 512 || s.pre != 2048 || s.layerNorm || s.skipSemi ||
		!slices.Equal(s.modes, []string{"semi"}) {
		t.Errorf("seed with overrides: %+v", s)
	}
	p := parse("--preset", "patchcore", "--backbone", "dino_vits8")
	if !slices.Equal(p.layers, []string{"blocks.10", "blocks.11"}) || p.pre != 1024 {
		t.Errorf("patchcore with a ViT backbone: %+v", p)
	}
	p = parse("--preset", "patchcore", "--backbone", "resnet18", "--layers", "layer3")
	if !slices.Equal(p.layers, []string{"layer3"}) {
		t.Errorf("explicit layers: %+v", p)
	}
	p = parse("--tau", "1,1.0,0.5,1e0,.5,-0,0", "--mode", "semi,average,semi")
	if !slices.Equal(p.taus, []float64{1, 0.5, 0}) || !slices.Equal(p.modes, []string{"semi", "average"}) || math.Signbit(p.taus[2]) {
		t.Errorf("repeated --tau/--mode values not dropped: taus %v, modes %v", p.taus, p.modes)
	}
	f := newRunFlags()
	f.fs.Parse([]string{"--preset", "nope"})
	if _, err := f.options(); err == nil {
		t.Error("unknown preset accepted")
	}
}

// TestRunUsage: missing --data or --out is a usage error (exit 2), a bad
// flag value an error naming it (exit 1).
func TestRunUsage(t *testing.T) {
	var out, errb strings.Builder
	if code := runMain([]string{"run", "--out", t.TempDir()}, &out, &errb); code != 2 {
		t.Errorf("run without --data: exit %d, want 2", code)
	}
	errb.Reset()
	if code := runMain([]string{"run", "--data", t.TempDir(), "--out", t.TempDir(), "--tau", "x", "--cache", "none"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "--tau") {
		t.Errorf("bad --tau: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := runMain([]string{"run", "--data", t.TempDir(), "--out", t.TempDir(), "--cache", "none"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "empty") {
		t.Errorf("empty data folder: exit %d, stderr %q", code, errb.String())
	}
}

// TestRunFlagsArgNames: flag.PrintDefaults takes a `quoted` word of a usage
// string as the flag's argument name ("-backbone anomclust weights list"),
// so the help must show each flag with its type as argument name.
func TestRunFlagsArgNames(t *testing.T) {
	newRunFlags().fs.VisitAll(func(f *flag.Flag) {
		if name, _ := flag.UnquoteUsage(f); name != "" && !slices.Contains([]string{"string", "int", "uint", "float"}, name) {
			t.Errorf("-%s is shown as taking %q", f.Name, name)
		}
	})
}

// meanNet is a stand-in backbone: "p8" is the (H/8, W/8, 3) map of 8x8
// block means. Enough for the pipeline to run in milliseconds.
type meanNet struct{}

func (meanNet) Name() string                    { return "meannet" }
func (meanNet) Layers() []string                { return []string{"p8"} }
func (meanNet) Preprocess() backbone.Preprocess { return backbone.ImageNet() }
func (meanNet) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	out := make([]map[string]*tensor.Tensor, len(images))
	for k, img := range images {
		H, W := img.Shape[0]/8, img.Shape[1]/8
		t := tensor.New(H, W, 3)
		for y := range H * 8 {
			for x := range W * 8 {
				for c := range 3 {
					t.Data[((y/8)*W+x/8)*3+c] += img.Data[(y*img.Shape[1]+x)*3+c] / 64
				}
			}
		}
		out[k] = map[string]*tensor.Tensor{"p8": t}
	}
	return out, nil
}

// TestOutputsAbsolute: with a relative --out the "outputs:" line names
// the absolute folder (usable from any directory).
func TestOutputsAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if _, err := synth.Generate(context.Background(), "data", synth.Options{Categories: 1, Train: 2, PerType: 2, Size: 64, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	o, err := pipeline.Preset("")
	if err != nil {
		t.Fatal(err)
	}
	o.Data, o.Out = "data", "out"
	o.Net, o.NetID, o.Layers = meanNet{}, "meannet", []string{"p8"}
	o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
	o.Modes, o.Taus = []string{rundir.ModeAverage}, []float64{1}
	var stdout, stderr strings.Builder
	if _, err := runPipeline(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	// t.TempDir may sit behind a symlink: compare with the resolved cwd.
	want := "outputs: " + filepath.Join(absPath("."), "out") + " "
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
}
