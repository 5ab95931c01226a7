package eval

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/synth"
	"github.com/anomclust/anomclust/tensor"
)

// meanNet averages 8x8 blocks: a tiny stand-in backbone.
type meanNet struct{}

func (meanNet) Name() string                    { return "meannet" }
func (meanNet) Layers() []string                { return []string{"p8"} }
func (meanNet) Preprocess() backbone.Preprocess { return backbone.ImageNet() }
func (meanNet) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	out := make([]map[string]*tensor.Tensor, len(images))
	for k, img := range images {
		H, W := img.Shape[0]/8, img.Shape[1]/8
		t := tensor.New(H, W, 3)
		for y := 0; y < H*8; y++ {
			for x := 0; x < W*8; x++ {
				for c := 0; c < 3; c++ {
					t.Data[((y/8)*W+x/8)*3+c] += img.Data[(y*img.Shape[1]+x)*3+c] / 64
				}
			}
		}
		out[k] = map[string]*tensor.Tensor{"p8": t}
	}
	return out, nil
}

// TestRun runs the ablation on a synthetic set with two categories and
// checks its rows: every option on every category, scores in range, the
// table lists every option once.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 4, PerType: 3, Size: 64, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	c := Config{
		Sets:      []Set{{Name: "synth", Data: data}},
		Backbones: []string{"mobilenet_v2"},
		Intervals: []float64{1, 0.3}, Taus: []float64{0, 1}, TopK: []float64{0.1}, Effective: []float64{0.1}, StdTaus: []float64{1},
		Refs: 0, Proj: 4, SemiProj: 4,
		ZoomPools: []string{"tau=1"}, Zoom: ZoomConfig{Window: 0.25, Margin: 0.25, MinSide: 0.3, R: 0.3},
		Tweak: func(o *pipeline.Options) {
			o.Net, o.NetID, o.Layers = meanNet{}, "meannet", []string{"p8"}
			o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
			o.Cache = ""
		},
	}
	rows, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	// Average + (2 unsupervised + 1 semi) x (6 pools + 4 zoom variants of
	// one pool), each raw, l2 and PCA-whitened.
	want := 3 * (1 + 3*(6+4))
	if len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	for _, r := range rows {
		if !(r.NMI >= 0 && r.NMI <= 1) || !(r.F1 >= 0 && r.F1 <= 1) || r.N != 12 || r.K != 4 {
			t.Errorf("row %+v out of range", r)
		}
	}
	// Uniform weights: X is the mean patch embedding, never all zeros.
	if u := uniform(2, 4); u[0] != 0.25 || u[7] != 0.25 {
		t.Errorf("uniform = %v", u)
	}
	var b bytes.Buffer
	WriteTable(&b, rows)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2+want {
		t.Errorf("table has %d lines, want %d:\n%s", len(lines), 2+want, b.String())
	}
	var csv bytes.Buffer
	if err := WriteCSV(&csv, rows); err != nil || strings.Count(csv.String(), "\n") != want+1 {
		t.Errorf("csv: %v, %d lines", err, strings.Count(csv.String(), "\n"))
	}
}

// TestRowMatchesRun: an eval row and pipeline.Run with the same options
// (sampled references, two-stage search, coreset, set-standardised
// weights) score the same: eval uses the pipeline's score functions.
func TestRowMatchesRun(t *testing.T) {
	rowsMatchRun(t, func(*Config) {}, func(*pipeline.Options) {},
		func(r Result) bool { return r.Post == "raw" && r.Zoom == "-" })
}

// rowsMatchRun runs eval (Config adjusted by cfg) and pipeline.Run
// (Options adjusted by opt) on one synthetic category with the same score
// settings, and checks that every row keep accepts, at std-tau 0.5 or in
// the average mode, has the NMI and ARI of the run's result for its mode,
// for all three modes. The run's per-category choice is off: the rows name
// every setting (the auto preset's choice is pipeline.TestPerCategory's).
func rowsMatchRun(t *testing.T, cfg func(*Config), opt func(*pipeline.Options), keep func(Result) bool) []Result {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 6, PerType: 4, Size: 64, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	tweak := func(o *pipeline.Options) {
		o.Net, o.NetID, o.Layers = meanNet{}, "meannet", []string{"p8"}
		o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
		o.Cache = ""
	}
	c := Config{
		Sets: []Set{{Name: "synth", Data: data}}, Backbones: []string{"mobilenet_v2"},
		Intervals: []float64{1}, StdTaus: []float64{0.5},
		Refs: 4, Proj: 3, SemiProj: 3, Coreset: 0.5, Tweak: tweak,
	}
	cfg(&c)
	rows, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	o, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	o.Data, o.Out = data, filepath.Join(dir, "out")
	o.Refs, o.Proj, o.SemiProj, o.Coreset = 4, 3, 3, 0.5
	o.Weighting, o.Taus = pipeline.WeightSetStd, []float64{0.5}
	o.PerCategory = false
	opt(&o)
	tweak(&o)
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range rows {
		if !keep(r) || (r.Mode != "average" && r.Pool != "std-tau=0.5") {
			continue
		}
		for _, s := range res.Summary {
			if s.Kind == "category" && s.Mode == r.Mode && (r.Mode == "average" || s.Tau == 0.5) {
				checked++
				if s.NMI != r.NMI || s.ARI != r.ARI {
					t.Errorf("%s: eval NMI %v ARI %v, run %v %v", r.Mode, r.NMI, r.ARI, s.NMI, s.ARI)
				}
			}
		}
	}
	if checked != 3 {
		t.Errorf("compared %d modes, want 3 (average, unsupervised, semi)", checked)
	}
	return rows
}
