package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/kselect"
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/report"
	"github.com/anomclust/anomclust/rundir"
)

// splitSynth writes a small MVTec-style category whose defect types are
// easy for poolNet: grey noise images (train/good, 8) and test images with
// one 5x5 square of a type-specific colour at a random place (4 types x
// 20). Every other test image of a type goes into A (the clustered set, a
// category folder with the train images); the rest is B, returned with
// its labels.
func splitSynth(t *testing.T) (aRoot string, b []string, bLabels []string) {
	t.Helper()
	root := t.TempDir()
	aRoot = filepath.Join(root, "a", "squares")
	r := rand.New(rand.NewPCG(3, 4))
	colours := map[string]color.RGBA{"red": {200, 40, 40, 255}, "green": {40, 190, 60, 255},
		"blue": {40, 60, 210, 255}, "yellow": {220, 210, 40, 255}}
	write := func(path string, c *color.RGBA) {
		img := image.NewRGBA(image.Rect(0, 0, 64, 64))
		for i := range img.Pix {
			img.Pix[i] = uint8(90 + r.IntN(80))
			if i%4 == 3 {
				img.Pix[i] = 255
			}
		}
		if c != nil {
			x0, y0 := 8+r.IntN(40), 8+r.IntN(40)
			for y := y0; y < y0+5; y++ {
				for x := x0; x < x0+5; x++ {
					img.SetRGBA(x, y, *c)
				}
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 8 {
		write(filepath.Join(aRoot, "train", "good", fmt.Sprintf("%03d.png", i)), nil)
	}
	for _, name := range []string{"blue", "green", "red", "yellow"} {
		c := colours[name]
		for i := range 20 {
			if i%2 == 0 {
				write(filepath.Join(aRoot, "test", name, fmt.Sprintf("%03d.png", i)), &c)
				continue
			}
			p := filepath.Join(root, "b", name, fmt.Sprintf("%03d.png", i))
			write(p, &c)
			b, bLabels = append(b, p), append(bLabels, name)
		}
	}
	return aRoot, b, bLabels
}

// TestAssignPartB clusters part A of a labelled synthetic set, assigns
// part B with the saved model, and checks that B's accuracy (each B image
// counted right when its cluster's Hungarian-matched label on A is its
// label) is within 0.05 of A's clustering F1 (or better), for the
// unsupervised and semi modes: with the mobilenet preset at tau 0 and with
// the default auto preset (set-standardised scores) at each mode's
// recommended tau, where assign's default must pick the run's recommended
// setting. The model files and the weights check are tested on the way.
func TestAssignPartB(t *testing.T) {
	t.Run("mobilenet-tau0", func(t *testing.T) {
		o := fakeOptions(t, &poolNet{})
		o.Taus = []float64{0}
		assignPartB(t, o)
	})
	t.Run("auto-recommended", func(t *testing.T) {
		o, err := pipeline.Preset(pipeline.PresetAuto)
		if err != nil {
			t.Fatal(err)
		}
		f := fakeOptions(t, &poolNet{})
		o.Out, o.Cache, o.Net, o.NetID, o.Layers = f.Out, f.Cache, f.Net, f.NetID, f.Layers
		o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize, o.Batch = f.PretrainDim, f.TargetDim, f.ImageSize, f.Resize, f.Batch
		if o.Weighting != pipeline.WeightSetStd {
			t.Fatalf("auto preset weighting %q: this test is about %q", o.Weighting, pipeline.WeightSetStd)
		}
		if !(o.Coreset > 0 && o.Coreset < 1) {
			t.Fatalf("auto preset coreset %v: this test also checks that the model reuses the scores' coreset", o.Coreset)
		}
		before := pipeline.CoresetSelections.Load()
		assignPartB(t, o)
		// The semi scores selected the bank's coreset (no score cache hit
		// in a fresh cache); the model's bank must reuse it.
		if n := pipeline.CoresetSelections.Load() - before; n != 0 {
			t.Errorf("the model selected the bank coreset again (%d times) instead of reusing the scores' selection", n)
		}
	})
}

// assignPartB runs o (Data and Modes set here) and checks assign on part B
// at every mode's recommended tau (the run's only tau for mobilenet-tau0).
func assignPartB(t *testing.T, o pipeline.Options) {
	net := o.Net
	var b []string
	var bLabels []string
	o.Data, b, bLabels = splitSynth(t)
	o.Modes = []string{rundir.ModeUnsupervised, rundir.ModeSemi}
	run := runRead(t, o)
	cat := run.Categories[0].Name
	m, err := model.Read(filepath.Join(o.Out, cat, rundir.ModelDir))
	if err != nil {
		t.Fatal(err)
	}
	if m.Unsupervised == nil || m.Semi == nil || len(m.Unsupervised.Images) != min(model.RefImages, run.Categories[0].NImages) ||
		m.Unsupervised.Patches != 64 || m.Unsupervised.Coreset != 1 || m.GridM != 64 || m.Dim != 16 || m.NetID != "" && m.NetID != o.NetID ||
		!(m.Unsupervised.ScoreSD > 0) || !(m.Semi.ScoreSD > 0) {
		t.Fatalf("model.json %+v", m)
	}
	recTau := func(mode string) float64 {
		if len(o.Taus) == 1 {
			return o.Taus[0]
		}
		if mode == rundir.ModeUnsupervised {
			return run.Settings.RecommendTauUnsupervised
		}
		return run.Settings.RecommendTau
	}
	for _, mode := range o.Modes {
		tau := recTau(mode)
		dir := rundir.ResultDir(o.Out, cat, mode, tau)
		met, err := rundir.ReadMetrics(filepath.Join(dir, rundir.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		label := map[int]string{}
		for _, cm := range met.Matching {
			label[cm.Cluster] = cm.Label
		}
		ao := pipeline.AssignOptions{Run: o.Out, Mode: mode, Tau: &tau, Images: b, Net: net, NetID: o.NetID, Cache: o.Cache}
		if mode == run.Categories[0].RecommendedMode {
			ao.Mode, ao.Tau = "", nil // the default must be the recommended setting
		}
		res, err := pipeline.Assign(context.Background(), ao)
		if err != nil {
			t.Fatal(err)
		}
		if res.K != met.K || len(res.Rows) != len(b) || res.Mode != mode || rundir.TauName(res.Tau) != rundir.TauName(tau) {
			t.Fatalf("%s tau %v: assigned with %s tau %v, K %d, %d rows", mode, tau, res.Mode, res.Tau, res.K, len(res.Rows))
		}
		right, nNew := 0, 0
		for i, r := range res.Rows {
			if label[r.Cluster] == bLabels[i] {
				right++
			}
			if r.New {
				nNew++
			}
			if !(r.Confidence >= 0.5 && r.Confidence <= 1) || !(r.Score >= 0) || !(r.Distance >= 0) {
				t.Errorf("%s: row %+v", mode, r)
			}
		}
		acc := float64(right) / float64(len(b))
		t.Logf("%s tau %v: clustering F1 on A %.3f (N=%d), assignment accuracy on B %.3f (N=%d), %d new; other placements %v",
			mode, tau, met.F1, met.N, acc, len(b), nNew, placementAccuracies(t, dir, res, label, bLabels))
		if !(acc >= met.F1-0.05) {
			t.Errorf("%s: accuracy on B %.3f, F1 on A %.3f: more than 0.05 below", mode, acc, met.F1)
		}
		// Images of the same distribution are mostly inside their
		// clusters (each cluster's radius is its own 95th percentile).
		if nNew > len(b)/3 {
			t.Errorf("%s: %d of %d B images called new", mode, nNew, len(b))
		}
	}
	// Another backbone identity: refused, naming both.
	_, err = pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: o.Out, Images: b, Net: net, NetID: "other"})
	if !errors.Is(err, pipeline.ErrWeightsMismatch) || !strings.Contains(err.Error(), "other") {
		t.Errorf("other weights: %v", err)
	}
	// A tau the run does not have.
	tau := 7.0
	if _, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: o.Out, Images: b, Net: net, NetID: o.NetID, Tau: &tau}); err == nil {
		t.Error("tau 7 accepted")
	}
}

// TestKAutoRun: with KAuto every result estimates its own K within the
// range, writes k.json and k.csv, records the choice in run.json, and
// clusters into that K; assignments.csv has the distance, confidence and
// score columns; --export-clusters links every image once.
func TestKAutoRun(t *testing.T) {
	net := &poolNet{}
	o := fakeOptions(t, net)
	o.Data, _, _ = splitSynth(t)
	o.Modes = []string{rundir.ModeUnsupervised, rundir.ModeAverage}
	o.Taus = []float64{0, 1}
	o.KAuto, o.KMin, o.KMax = true, 2, 6
	o.ExportClusters = true
	run := runRead(t, o)
	c := run.Categories[0]
	if !run.Settings.KAuto || run.Settings.KRange != [2]int{2, 6} || c.K != 0 || len(c.KChoices) != 3 {
		t.Fatalf("run.json: settings %+v, category K %d, %d choices", run.Settings, c.K, len(c.KChoices))
	}
	for i, r := range run.Results(o.Out) {
		kc, err := rundir.ReadK(r.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if kc.K != c.KChoices[i].K || kc.K < 2 || kc.K > 6 || kc.RunnerUp == kc.K || !slices.Equal(kc.Ks, []int{2, 3, 4, 5, 6}) {
			t.Errorf("%s: k.json %+v vs run.json %+v", r.Dir, kc, c.KChoices[i])
		}
		if _, err := os.Stat(filepath.Join(r.Dir, rundir.KCSVFile)); err != nil {
			t.Error(err)
		}
		as, err := rundir.ReadAssignments(filepath.Join(r.Dir, rundir.AssignmentsFile))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, a := range as {
			seen[a.Cluster] = true
			if !(a.Confidence >= 0 && a.Confidence <= 1) || !(a.Distance >= 0) {
				t.Errorf("%s: %+v", r.Dir, a)
			}
			if hasScore := !math.IsNaN(a.Score); hasScore != (r.Mode != rundir.ModeAverage) {
				t.Errorf("%s: score %v for mode %s", r.Dir, a.Score, r.Mode)
			}
		}
		if len(seen) != kc.K {
			t.Errorf("%s: %d clusters used, K %d", r.Dir, len(seen), kc.K)
		}
		met, err := rundir.ReadMetrics(filepath.Join(r.Dir, rundir.MetricsFile))
		if err != nil || met.K != kc.K {
			t.Errorf("metrics K %d, estimate %d (%v)", met.K, kc.K, err)
		}
		n := 0
		filepath.WalkDir(filepath.Join(r.Dir, rundir.ExportDir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
				if !strings.HasPrefix(filepath.Base(filepath.Dir(p)), "cluster_") {
					t.Errorf("export %s", p)
				}
			}
			return nil
		})
		if n != len(as) {
			t.Errorf("%s: %d exported files for %d images", r.Dir, n, len(as))
		}
	}
	// The report plots the estimate of the setting it shows.
	var page bytes.Buffer
	if err := report.Render(&page, o.Out, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if h := page.String(); !strings.Contains(h, "the K estimate (k.json)") || !strings.Contains(h, "(runner-up ") {
		t.Error("report without the K plot")
	}
	// Ward decides by eigengap_ward; spectral clustering by its own
	// graph's eigengap realised by its cuts, and writes spectral's
	// clustering at that K.
	for i := range run.Results(o.Out) {
		if got := c.KChoices[i].Criterion; got != kselect.WardEigengap {
			t.Errorf("ward: K decided by %s", got)
		}
	}
	sp := o
	sp.Out, sp.Cluster, sp.ExportClusters = filepath.Join(t.TempDir(), "spectral"), cluster.MethodSpectral, false
	for _, r := range runRead(t, sp).Results(sp.Out) {
		kc, err := rundir.ReadK(r.Dir)
		if err != nil {
			t.Fatal(err)
		}
		x, n, d, pred := readResult(t, r.Dir)
		want, err := cluster.Spectral(x, n, d, kc.K, cluster.SpectralOptions{Seed: sp.Seed})
		if err != nil {
			t.Fatal(err)
		}
		if ari, _ := metrics.ARI(want, pred); kc.Criterion != kselect.SpectralEigengap || !(ari > 1-1e-9) {
			t.Errorf("%s: K %d decided by %s, ARI %v against spectral's clustering at K", r.Dir, kc.K, kc.Criterion, ari)
		}
	}
}
