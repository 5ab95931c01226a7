package pipeline_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// TestTextureModeChoice: the auto preset's texture configuration records
// the silhouette of the unsupervised result (at its recommended tau) and
// of the average one, each equal to the silhouette of that result's own
// X.npy and assignments.csv, and recommends the better separated mode in
// run.json and summary.csv; the object configuration makes no such
// choice (its recommended mode stays unsupervised).
func TestTextureModeChoice(t *testing.T) {
	for _, parts := range []bool{false, true} {
		o := perCategoryOptions(t, writeSet(t, parts))
		o.Modes = []string{rundir.ModeUnsupervised, rundir.ModeAverage}
		var log strings.Builder
		o.Log = &log
		res, err := pipeline.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		run, err := rundir.ReadRun(o.Out)
		if err != nil {
			t.Fatal(err)
		}
		c := run.Categories[0]
		if parts {
			if len(c.Choice.Silhouettes) != 0 || c.Choice.ModeWhy != "" || c.RecommendedMode != rundir.ModeUnsupervised {
				t.Errorf("object category: mode choice %v %q, recommended %s", c.Choice.Silhouettes, c.Choice.ModeWhy, c.RecommendedMode)
			}
			continue
		}
		sil := c.Choice.Silhouettes
		if len(sil) != 2 || c.Choice.ModeWhy == "" || !strings.Contains(log.String(), c.Choice.ModeWhy) {
			t.Fatalf("texture category: silhouettes %v, why %q, log:\n%s", sil, c.Choice.ModeWhy, log.String())
		}
		for mode, tau := range map[string]float64{rundir.ModeUnsupervised: 1, rundir.ModeAverage: 0} {
			dir := rundir.ResultDir(o.Out, c.Name, mode, tau)
			x, n, d, pred := readResult(t, dir)
			want := cluster.Silhouette(x, n, d, pred)
			if got, ok := sil[mode]; !ok || !(math.Abs(got-want) <= 1e-12) {
				t.Errorf("%s: recorded silhouette %v (present %v), its X and clusters give %v", mode, got, ok, want)
			}
		}
		best := rundir.ModeUnsupervised
		if sil[rundir.ModeAverage] > sil[rundir.ModeUnsupervised] {
			best = rundir.ModeAverage
		}
		if c.RecommendedMode != best || !strings.Contains(c.Choice.ModeWhy, best+" recommended") {
			t.Errorf("recommended %s (%q), silhouettes %v: want %s", c.RecommendedMode, c.Choice.ModeWhy, sil, best)
		}
		n := 0
		for _, r := range res.Summary {
			if r.Kind == rundir.KindCategory && r.Recommended {
				n++
				if r.Mode != best {
					t.Errorf("summary recommends %s, want %s", r.Mode, best)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d recommended summary rows, want 1", n)
		}
	}
}
