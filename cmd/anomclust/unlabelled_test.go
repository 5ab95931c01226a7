package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
)

// flatSet draws a small synthetic category and copies its test images
// into one flat folder without labels (type_name.png); it returns the
// folder.
func flatSet(t *testing.T, dir string, perType, size int) string {
	t.Helper()
	data := filepath.Join(dir, "synth")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 2, PerType: perType, Size: size, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	flat := filepath.Join(dir, "photos")
	if err := os.MkdirAll(flat, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(data, "*", "test", "*", "*.png"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(f)) + "_" + filepath.Base(f)
		if err := os.WriteFile(filepath.Join(flat, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.RemoveAll(data)
	return flat
}

// TestUnlabelledEndToEnd: run on a flat folder without labels (no metric
// table printed), move the images, then report and draw with --data; the
// report has no summary or confusion matrix but a gallery per cluster with
// uncut file-name captions and names the layout; absurd sizes fail fast.
func TestUnlabelledEndToEnd(t *testing.T) {
	dir := t.TempDir()
	flat := flatSet(t, dir, 2, 64)
	o, err := pipeline.Preset("")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	o.Data, o.Out, o.K = flat, out, 3
	o.Net, o.NetID, o.Layers = meanNet{}, "meannet", []string{"p8"}
	o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
	o.SkipSemiWithoutTrain = true
	o.SkipBad = true
	o.ExportClusters = true
	if err := os.WriteFile(filepath.Join(flat, "broken.png"), []byte("truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := runPipeline(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if s := stdout.String(); !strings.Contains(s, "no labels, so no metrics") || strings.Contains(s, "NMI") {
		t.Errorf("stdout:\n%s", s)
	}
	// --export-clusters: the log names the recommended result's folder.
	run, err := rundir.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	c := run.Categories[0]
	clusters := filepath.Join(rundir.ResultDir(out, c.Name, c.RecommendedMode, c.RecommendedTau), "clusters")
	if d, err := os.ReadDir(clusters); err != nil || len(d) != 3 || !strings.Contains(stdout.String(), "one folder per cluster: "+clusters+string(filepath.Separator)+"\n") {
		t.Errorf("export: %d folders in %s (%v); stdout:\n%s", len(d), clusters, err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "data: a flat folder of") {
		t.Errorf("stderr does not say what was detected:\n%s", stderr.String())
	}
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(flat, moved); err != nil {
		t.Fatal(err)
	}
	var o1, e1 bytes.Buffer
	if code := runMain([]string{"report", "--run", out}, &o1, &e1); code != 1 || !strings.Contains(e1.String(), flat) {
		t.Errorf("report with the images moved away: exit %d, stderr %q (want the expected path named)", code, e1.String())
	}
	e1.Reset()
	if code := runMain([]string{"report", "--run", out, "--data", moved}, &o1, &e1); code != 0 {
		t.Fatalf("report --data: exit %d, %s", code, e1.String())
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{"data: unlabelled images", "No labels", "1 unreadable image skipped", "broken.png: not a readable PNG", "Cluster 0", "Cluster 2", "contamination_000.png", "overflow-wrap:anywhere"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<h2>Summary</h2>", "Confusion matrix</h3>", "Scores against", "text-overflow:ellipsis", "unmatched"} {
		if strings.Contains(html, bad) {
			t.Errorf("report of an unlabelled run has %q", bad)
		}
	}
	e1.Reset()
	if code := runMain([]string{"draw", "--run", out, "--data", moved}, &o1, &e1); code != 0 {
		t.Errorf("draw --data: exit %d, %s", code, e1.String())
	}
	// draw follows the recommended setting (the texture configuration's
	// unsupervised tau 1).
	rec := c.RecommendedMode
	if rundir.Mode(rec).HasTau() {
		rec += "_tau_" + rundir.TauName(c.RecommendedTau)
	}
	if fs, _ := filepath.Glob(filepath.Join(out, "draw", "photos", rec, "*.png")); len(fs) == 0 || c.Choice == nil || rec != "unsupervised_tau_1" {
		entries, _ := filepath.Glob(filepath.Join(out, "draw", "*", "*"))
		t.Errorf("draw wrote nothing for the recommended %s (found %v; choice %+v)", rec, entries, c.Choice)
	}
	start := time.Now()
	e1.Reset()
	if code := runMain([]string{"report", "--run", out, "--thumb", "100000"}, &o1, &e1); code != 1 || !strings.Contains(e1.String(), "--thumb 100000: at most 512") ||
		time.Since(start) > time.Second {
		t.Errorf("report --thumb 100000: exit %d, %q, %v", code, e1.String(), time.Since(start))
	}
	// A second run into the same folder is refused; --force replaces it.
	e1.Reset()
	if code := runMain([]string{"run", "--data", moved, "--out", out, "--k", "2", "--cache", "none", "--patchsize", "999"}, &o1, &e1); code != 1 ||
		!strings.Contains(e1.String(), "--patchsize 999: at most 15") {
		t.Errorf("run --patchsize 999: exit %d, %q", code, e1.String())
	}
	e1.Reset()
	if code := runMain([]string{"run", "--data", moved, "--out", out, "--k", "2", "--cache", "none"}, &o1, &e1); code != 1 ||
		!strings.Contains(e1.String(), "holds an earlier run") {
		t.Errorf("run into an earlier run: exit %d, %q", code, e1.String())
	}
	if _, err := rundir.ReadRun(out); err != nil {
		t.Errorf("earlier run damaged: %v", err)
	}
}

// TestUnlabelledMobileNet runs the real command line, `anomclust run` on a
// flat folder of unlabelled images with MobileNet V2 from ../shared (K
// given), and checks the run without labels.
func TestUnlabelledMobileNet(t *testing.T) {
	wdir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "weights"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(wdir, "mobilenet_v2_1.0_224_quant.tflite")); err != nil {
		t.Skipf("needs the MobileNet V2 weights in %s: %v", wdir, err)
	}
	if testing.Short() {
		t.Skip("runs MobileNet V2 on 16 images")
	}
	t.Setenv("ANOMCLUST_WEIGHTS_PATH", wdir)
	t.Setenv("ANOMCLUST_CACHE", t.TempDir())
	dir := t.TempDir()
	flat := flatSet(t, dir, 4, 224)
	out := filepath.Join(dir, "out")
	var o1, e1 bytes.Buffer
	if code := runMain([]string{"run", "--data", flat, "--out", out, "--k", "3", "--cache", "none", "--mode", "unsupervised", "--tau", "1"}, &o1, &e1); code != 0 {
		t.Fatalf("exit %d: %s", code, e1.String())
	}
	run, err := rundir.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	c := run.Categories[0]
	if run.Labelled == nil || *run.Labelled || !c.Unlabelled || c.NImages != 16 || c.K != 3 || run.Backbone.Name != "mobilenet_v2" {
		t.Errorf("run.json: labelled %v, category %+v, backbone %s", run.Labelled, c, run.Backbone.Name)
	}
	as, err := rundir.ReadAssignments(filepath.Join(rundir.ResultDir(out, c.Name, rundir.ModeUnsupervised, 1), rundir.AssignmentsFile))
	if err != nil || len(as) != 16 {
		t.Fatalf("assignments: %d rows, %v", len(as), err)
	}
	if !strings.Contains(e1.String(), "unsupervised patch scores: 120 image pairs") {
		t.Errorf("no cost line before the scores:\n%s", e1.String())
	}
}
