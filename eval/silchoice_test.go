package eval

import (
	"testing"

	"github.com/anomclust/anomclust/rundir"
)

// TestSilChoiceRows: per (category, backbone, descriptor, post) the
// unsupervised row of a chosen pool is paired with the average row of the
// same X kind; the higher silhouette's figures are the new row's; other
// pools and descriptors without an average row add nothing.
func TestSilChoiceRows(t *testing.T) {
	row := func(cat, mode, pool, xp string, sil, nmi float64) Result {
		return Result{Set: "s", Category: cat, Backbone: "bb", Mode: mode, Score: "mean", Pool: pool, XPool: xp, Post: "raw",
			Zoom: "-", Sil: sil, NMI: nmi, Seconds: 1}
	}
	rows := []Result{
		row("a", rundir.ModeAverage, "uniform", "meanstd-u", 0.20, 0.5),
		row("a", rundir.ModeUnsupervised, "std-tau=1", "meanstd-u", 0.10, 0.9),   // average wins
		row("a", rundir.ModeUnsupervised, "std-tau=0.5", "meanstd-u", 0.30, 0.7), // not a chosen pool
		row("b", rundir.ModeAverage, "uniform", "meanstd-u", 0.10, 0.4),
		row("b", rundir.ModeUnsupervised, "std-tau=1", "meanstd-u", 0.15, 0.8), // unsupervised wins
		row("b", rundir.ModeUnsupervised, "std-tau=1", "mean", 0.15, 0.8),      // no average of this X
	}
	out := silChoiceRows(Config{SilChoicePools: []string{"std-tau=1"}}, rows)
	if len(out) != 2 {
		t.Fatalf("%d rows, want 2: %+v", len(out), out)
	}
	if r := out[0]; r.Category != "a" || r.Mode != ModeSilChoice || r.Score != rundir.ModeAverage || r.Pool != "std-tau=1" || r.NMI != 0.5 || r.Seconds != 2 {
		t.Errorf("category a: %+v", r)
	}
	if r := out[1]; r.Category != "b" || r.Score != rundir.ModeUnsupervised || r.NMI != 0.8 || r.XPool != "meanstd-u" {
		t.Errorf("category b: %+v", r)
	}
	if out := silChoiceRows(Config{}, rows); out != nil {
		t.Errorf("rows without SilChoicePools: %+v", out)
	}
}
