package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// TestAssignRealPartB is the assign test on real images with the
// default (auto) preset: every other image of each label of a set in
// ../shared/data is part A, clustered by `run` (K = the number of labels);
// the rest is part B, placed by Assign with its default setting (the run's
// recommended mode and tau). B's accuracy (a B image is right when its
// cluster's Hungarian-matched label on A is its label) must be within 0.05
// of A's clustering F1 at that setting, or better. Opt-in (a real MobileNet
// run, minutes on 2 cores): ANOMCLUST_ASSIGN_REAL=metal_nut,mvtec_ad/screw
// (paths under ../shared/data; class-per-folder sets or MVTec categories,
// whose train/good stays in A as the normal images).
func TestAssignRealPartB(t *testing.T) {
	sets := os.Getenv("ANOMCLUST_ASSIGN_REAL")
	if sets == "" {
		t.Skip("set ANOMCLUST_ASSIGN_REAL=metal_nut,mvtec_ad/screw to run assign on real sets (minutes)")
	}
	shared, err := filepath.Abs(filepath.Join("..", "..", "shared"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(shared, "weights", "mobilenet_v2_1.0_224_quant.tflite")); err != nil {
		t.Skipf("../shared absent: %v", err)
	}
	t.Setenv("ANOMCLUST_WEIGHTS_PATH", filepath.Join(shared, "weights"))
	for _, set := range strings.Split(sets, ",") {
		t.Run(set, func(t *testing.T) {
			src := filepath.Join(shared, "data", set)
			if _, err := os.Stat(src); err != nil {
				t.Skipf("%s absent: %v", src, err)
			}
			aRoot, b, bLabels := splitReal(t, src)
			o, err := pipeline.Preset(pipeline.PresetAuto)
			if err != nil {
				t.Fatal(err)
			}
			o.Data, o.Out = aRoot, filepath.Join(t.TempDir(), "out")
			o.Seed = 0
			o.SkipSemiWithoutTrain = true // as the CLI does for --mode all
			if _, err := pipeline.Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			run, err := rundir.ReadRun(o.Out)
			if err != nil {
				t.Fatal(err)
			}
			c := run.Categories[0]
			res, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: o.Out, Images: b, Cache: o.Cache})
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != c.RecommendedMode || rundir.TauName(res.Tau) != rundir.TauName(c.RecommendedTau) {
				t.Fatalf("assign used %s tau %v, the run recommends %s tau %v", res.Mode, res.Tau, c.RecommendedMode, c.RecommendedTau)
			}
			met, err := rundir.ReadMetrics(filepath.Join(rundir.ResultDir(o.Out, c.Name, res.Mode, res.Tau), rundir.MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			label := map[int]string{}
			for _, cm := range met.Matching {
				label[cm.Cluster] = cm.Label
			}
			right, nNew := 0, 0
			for i, r := range res.Rows {
				if label[r.Cluster] == bLabels[i] {
					right++
				}
				if r.New {
					nNew++
				}
			}
			acc := float64(right) / float64(len(b))
			t.Logf("%s, %s tau %v (recommended): clustering F1 on A %.3f (N=%d, NMI %.3f), assignment accuracy on B %.3f (N=%d), %d new",
				set, res.Mode, res.Tau, met.F1, met.N, met.NMI, acc, len(b), nNew)
			if !(acc >= met.F1-0.05) {
				t.Errorf("accuracy on B %.3f, F1 on A %.3f: more than 0.05 below", acc, met.F1)
			}
			// Consistency: A's own images, assigned as new ones, land in
			// the clusters the run gave them (else assign's scores or
			// weights differ from the run's).
			dir := rundir.ResultDir(o.Out, c.Name, res.Mode, res.Tau)
			as, err := rundir.ReadAssignments(filepath.Join(dir, rundir.AssignmentsFile))
			if err != nil {
				t.Fatal(err)
			}
			var aPaths []string
			for _, a := range as {
				aPaths = append(aPaths, rundir.Resolve(o.Out, run, "", a.Path, ""))
			}
			resA, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: o.Out, Images: aPaths, Cache: o.Cache})
			if err != nil {
				t.Fatal(err)
			}
			same := 0
			for i, r := range resA.Rows {
				if r.Cluster == as[i].Cluster {
					same++
				}
			}
			agree := float64(same) / float64(len(as))
			t.Logf("%s: A's own images assigned: %.3f in the run's cluster", set, agree)
			if !(agree >= 0.8) {
				t.Errorf("assign puts only %.3f of the clustered images in their own cluster", agree)
			}
		})
	}
}

// splitReal links every other image of each label of src into part A (a
// folder of the same layout; an MVTec category keeps its train/good there)
// and returns the rest as part B with its labels.
func splitReal(t *testing.T, src string) (aRoot string, b, bLabels []string) {
	t.Helper()
	aRoot = filepath.Join(t.TempDir(), filepath.Base(src))
	link := func(from, to string) {
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(from, to); err != nil {
			t.Fatal(err)
		}
	}
	mvtec := false
	if _, err := os.Stat(filepath.Join(src, "test")); err == nil {
		mvtec = true
		goods, _ := filepath.Glob(filepath.Join(src, "train", "good", "*"))
		for _, p := range goods {
			link(p, filepath.Join(aRoot, "train", "good", filepath.Base(p)))
		}
	}
	classRoot, aClass := src, aRoot
	if mvtec {
		classRoot, aClass = filepath.Join(src, "test"), filepath.Join(aRoot, "test")
	}
	classes, err := os.ReadDir(classRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range classes {
		if !c.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(classRoot, c.Name()))
		var imgs []string
		for _, f := range files {
			if dataset.IsImage(f.Name()) {
				imgs = append(imgs, f.Name())
			}
		}
		slices.Sort(imgs)
		for i, name := range imgs {
			p := filepath.Join(classRoot, c.Name(), name)
			if i%2 == 0 {
				link(p, filepath.Join(aClass, c.Name(), name))
			} else {
				b, bLabels = append(b, p), append(bLabels, c.Name())
			}
		}
	}
	return aRoot, b, bLabels
}
