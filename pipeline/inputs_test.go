package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// flatCopy copies the test images of the synthetic "wood" category into a
// flat folder (type_name.png) and its train/good images into dir/normal;
// it returns the flat folder and the true type of each file name.
func flatCopy(t *testing.T) (flat, normal string, truth map[string]string) {
	t.Helper()
	src := filepath.Join(smallSynth(t), "wood")
	flat, normal = filepath.Join(t.TempDir(), "photos"), filepath.Join(t.TempDir(), "normal")
	truth = map[string]string{}
	tests, _ := filepath.Glob(filepath.Join(src, "test", "*", "*.png"))
	trains, _ := filepath.Glob(filepath.Join(src, "train", "good", "*.png"))
	for _, p := range tests {
		typ := filepath.Base(filepath.Dir(p))
		name := typ + "_" + filepath.Base(p)
		copyFile(t, p, filepath.Join(flat, name))
		truth[name] = typ
	}
	for _, p := range trains {
		copyFile(t, p, filepath.Join(normal, filepath.Base(p)))
	}
	return flat, normal, truth
}

// listing maps every file under dir to its size and modification time.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				t.Fatal(err)
			}
			m[p] = fmt.Sprintf("%d %v", info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return m
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnlabelledFlat runs the pipeline end to end on a flat folder of
// images without labels: K must be given; with it every mode that needs
// no labels runs (semi once --normal names the normal images), the
// clusters are written, and nothing is scored (no metrics.json, no
// summary). Paths in the run are relative to the data root.
func TestUnlabelledFlat(t *testing.T) {
	flat, normal, truth := flatCopy(t)
	net := &poolNet{}
	o := fakeOptions(t, net)
	o.Data = flat
	o.SkipSemiWithoutTrain = true
	var log strings.Builder
	o.Log = &log
	// No labels and no K: K is estimated (K auto is the default there).
	auto := o
	var autoLog strings.Builder
	auto.Out, auto.Cache, auto.Log = filepath.Join(t.TempDir(), "auto"), filepath.Join(t.TempDir(), "cache"), &autoLog
	ra, err := pipeline.Run(context.Background(), auto)
	if err != nil {
		t.Fatalf("no labels, no K: %v", err)
	}
	if c := ra.Run.Categories[0]; len(c.KChoices) == 0 || c.KChoices[0].K < 2 || !strings.Contains(autoLog.String(), "K = auto") {
		t.Errorf("no labels, no K: choices %+v", c.KChoices)
	}
	o.K = 3
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "flat folder of 12 images") || !strings.Contains(log.String(), "no metrics") ||
		!strings.Contains(log.String(), "unsupervised patch scores: 66 image pairs of 64 x 64 patches") {
		t.Errorf("log does not say what was detected:\n%s", log.String())
	}
	r := res.Run
	if r.Labelled == nil || *r.Labelled || r.Layout != "unlabelled images" || r.Protocol != rundir.ProtocolAll || len(res.Summary) != 0 {
		t.Errorf("run.json: labelled %v, layout %q, protocol %q, %d summary rows", r.Labelled, r.Layout, r.Protocol, len(res.Summary))
	}
	c := r.Categories[0]
	if !c.Unlabelled || c.NImages != 12 || len(c.Labels) != 0 || c.K != 3 || c.NBank != 0 {
		t.Errorf("category %+v", c)
	}
	for _, f := range []string{rundir.SummaryCSVFile, rundir.SummaryMDFile} {
		if _, err := os.Stat(filepath.Join(o.Out, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s written without labels (stat %v)", f, err)
		}
	}
	results := r.Results(o.Out)
	done := 0
	for _, res := range results {
		if res.Mode == rundir.ModeSemi {
			if _, err := os.Stat(res.Dir); err == nil {
				t.Errorf("semi ran without normal images: %s", res.Dir)
			}
			continue
		}
		done++
		if _, err := os.Stat(filepath.Join(res.Dir, rundir.MetricsFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: metrics.json without labels", res.Dir)
		}
		as, err := rundir.ReadAssignments(filepath.Join(res.Dir, rundir.AssignmentsFile))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, a := range as {
			if a.Label != "" || a.Cluster < 0 || a.Cluster >= 3 || filepath.IsAbs(a.Path) {
				t.Errorf("%s: row %+v", res.Dir, a)
			}
			if _, ok := truth[a.Path]; !ok {
				t.Errorf("%s: path %s is not a file name of the flat folder", res.Dir, a.Path)
			}
			seen[a.Cluster] = true
		}
		if len(as) != 12 || len(seen) != 3 {
			t.Errorf("%s: %d rows, %d clusters used", res.Dir, len(as), len(seen))
		}
		if _, shape, err := npy.Read[float32](filepath.Join(res.Dir, rundir.XFile)); err != nil || !slices.Equal(shape, []int{12, 16}) {
			t.Errorf("%s X: shape %v, %v", res.Dir, shape, err)
		}
		if _, shape, err := npy.Read[float32](filepath.Join(res.Dir, rundir.AlphaFile)); err != nil || !slices.Equal(shape, []int{12, 64}) {
			t.Errorf("%s alpha: shape %v, %v", res.Dir, shape, err)
		}
	}
	if done != 4 { // unsupervised x 3 taus + average
		t.Errorf("%d results, want 4", done)
	}
	items, err := rundir.ReadItems(filepath.Join(o.Out, c.Name, rundir.ItemsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if got := rundir.Resolve(o.Out, r, c.Dir, it.Path, ""); got != filepath.Join(flat, it.Path) {
			t.Errorf("item %s resolves to %s", it.Path, got)
		}
	}

	// --normal: the semi-supervised mode runs on the normal images.
	o.Normal, o.Force = normal, true
	res, err = pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Run.Categories[0]; c.NBank != 4 || c.NImages != 12 || len(c.BankImages) != 4 || !filepath.IsAbs(c.BankImages[0]) {
		// the normal folder lies outside the data root: absolute paths
		t.Errorf("with --normal: %d bank images %v, %d clustered", c.NBank, c.BankImages, c.NImages)
	}
	if _, err := os.Stat(filepath.Join(rundir.ResultDir(o.Out, c.Name, rundir.ModeSemi, 2), rundir.AssignmentsFile)); err != nil {
		t.Errorf("semi result missing: %v", err)
	}
}

// TestManifestRun: a manifest with labels gives metrics under the
// protocol of class folders (every image clustered).
func TestManifestRun(t *testing.T) {
	flat, _, truth := flatCopy(t)
	var b strings.Builder
	b.WriteString("path,label\n")
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range truth {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		fmt.Fprintf(&b, "%s,%s\n", n, truth[n])
	}
	m := filepath.Join(flat, "list.csv")
	if err := os.WriteFile(m, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	o := fakeOptions(t, &poolNet{})
	o.Data, o.Manifest = "", m
	o.Modes = []string{rundir.ModeAverage}
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Run
	if *r.Labelled != true || r.Layout != "manifest" || r.Protocol != rundir.ProtocolAll || r.Settings.Data != flat || r.Settings.Manifest != m {
		t.Errorf("run.json: labelled %v layout %q protocol %q data %q manifest %q", *r.Labelled, r.Layout, r.Protocol, r.Settings.Data, r.Settings.Manifest)
	}
	if len(res.Summary) == 0 || r.Categories[0].K != len(r.Categories[0].Labels) || r.Categories[0].K < 2 {
		t.Errorf("summary %d rows, category %+v", len(res.Summary), r.Categories[0])
	}
}

// TestBadImages: every unreadable image is named in one error before any
// backbone work; SkipBad leaves them out and records them.
func TestBadImages(t *testing.T) {
	flat, _, _ := flatCopy(t)
	os.WriteFile(filepath.Join(flat, "zz_text.png"), []byte("not an image"), 0o644)
	os.WriteFile(filepath.Join(flat, "aa_empty.jpg"), nil, 0o644)
	// A PNG cut in its pixel data: its header decodes, its pixels do not.
	pngs, _ := filepath.Glob(filepath.Join(flat, "*.png"))
	whole, err := os.ReadFile(pngs[0])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(flat, "mm_cut.png"), whole[:len(whole)*2/3], 0o644)
	net := &poolNet{}
	o := fakeOptions(t, net)
	o.Data, o.K, o.Modes = flat, 2, []string{rundir.ModeAverage}
	_, err = pipeline.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "3 unreadable images") || !strings.Contains(err.Error(), "zz_text.png") ||
		!strings.Contains(err.Error(), "aa_empty.jpg") || !strings.Contains(err.Error(), "mm_cut.png") || !strings.Contains(err.Error(), "--skip-bad") {
		t.Fatalf("bad images: %v", err)
	}
	if net.calls.Load() != 0 {
		t.Error("backbone ran before the images were checked")
	}
	if _, err := os.Stat(o.Out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused run left its output folder (stat %v)", err)
	}
	o.SkipBad = true
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, b := range res.Run.Skipped {
		skipped = append(skipped, b.Path)
		if b.Error == "" {
			t.Errorf("skipped %s without a reason", b.Path)
		}
	}
	if !slices.Equal(skipped, []string{"aa_empty.jpg", "mm_cut.png", "zz_text.png"}) || res.Run.Categories[0].NImages != 12 {
		t.Errorf("skipped %v, %d images", skipped, res.Run.Categories[0].NImages)
	}
}

// TestBounds: absurd sizes fail at once, naming the flag.
func TestBounds(t *testing.T) {
	for _, c := range []struct {
		flag string
		set  func(o *pipeline.Options)
	}{
		{"--patchsize 999", func(o *pipeline.Options) { o.PatchSize = 999 }},
		{"--target-dim 100000", func(o *pipeline.Options) { o.TargetDim = 100000 }},
		{"--pretrain-dim 100000", func(o *pipeline.Options) { o.PretrainDim = 100000 }},
		{"--image-size 5000", func(o *pipeline.Options) { o.ImageSize, o.Resize = 5000, 5000 }},
		{"--resize 100000", func(o *pipeline.Options) { o.Resize = 100000 }},
		{"--batch 100000", func(o *pipeline.Options) { o.Batch = 100000 }},
		{"--k 5000", func(o *pipeline.Options) { o.K = 5000 }},
		{"--patchsize 0", func(o *pipeline.Options) { o.PatchSize = 0 }},
	} {
		net := &poolNet{}
		o := fakeOptions(t, net)
		c.set(&o)
		_, err := pipeline.Run(context.Background(), o)
		if err == nil || !strings.HasPrefix(err.Error(), c.flag+":") {
			t.Errorf("%s: %v", c.flag, err)
		}
		if net.calls.Load() != 0 {
			t.Errorf("%s: backbone ran", c.flag)
		}
	}
}

// TestOutFolderSafety: a run never writes into a folder holding anything
// but an earlier run, replaces an earlier run only with Force, and an
// interrupted replacement leaves the earlier run whole.
func TestOutFolderSafety(t *testing.T) {
	net := &poolNet{}
	o := fakeOptions(t, net)
	o.Categories, o.Modes = []string{"wood"}, []string{rundir.ModeAverage}
	first, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Run(context.Background(), o); !errors.Is(err, rundir.ErrNotEmpty) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second run without Force: %v", err)
	}
	// Interrupted while replacing: the earlier run is untouched (every
	// file as it was, same modification time).
	before := listing(t, o.Out)
	o.Force, o.Cache = true, ""
	ctx, cancel := context.WithCancel(context.Background())
	net.onForward = func() { cancel() }
	if _, err := pipeline.Run(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	net.onForward = nil
	if after := listing(t, o.Out); !maps.Equal(before, after) {
		t.Errorf("earlier run changed by an interrupted one:\nbefore %v\nafter  %v", before, after)
	}
	again, err := rundir.ReadRun(o.Out)
	if err != nil || !again.Start.Equal(first.Run.Start) {
		t.Errorf("earlier run damaged by an interrupted one: %v, start %v vs %v", err, again, first.Run.Start)
	}
	if _, err := os.Stat(filepath.Join(rundir.ResultDir(o.Out, "wood", rundir.ModeAverage, 0), rundir.XFile)); err != nil {
		t.Errorf("earlier run's X.npy gone: %v", err)
	}
	siblings, _ := os.ReadDir(filepath.Dir(o.Out))
	for _, e := range siblings {
		if e.Name() != filepath.Base(o.Out) {
			t.Errorf("left beside the run: %s", e.Name())
		}
	}
	// A folder that is not a run: refused even with Force.
	other := filepath.Join(t.TempDir(), "photos")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "keep.txt"), []byte("mine"), 0o644)
	o.Out = other
	if _, err := pipeline.Run(context.Background(), o); !errors.Is(err, rundir.ErrNotEmpty) || !strings.Contains(err.Error(), "even with --force") {
		t.Errorf("non-run folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "keep.txt")); string(b) != "mine" {
		t.Error("a folder that is not a run was touched")
	}
}
