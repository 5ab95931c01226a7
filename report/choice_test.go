package report_test

import (
	"strings"
	"testing"

	"github.com/anomclust/anomclust/report"
	"github.com/anomclust/anomclust/rundir"
)

// TestReportChoice: a category with the auto preset's per-category
// choice shows, under its heading, the gate's reason and the settings it
// ran with; one without a choice shows none.
func TestReportChoice(t *testing.T) {
	runDir := smallRun(t)
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	why := "object gate: part found in 100% of the sampled images, area CV 0.05: one part on a plain background"
	for i := range run.Categories {
		if c := &run.Categories[i]; c.Name == "metal_nut" {
			c.Choice = &rundir.CategoryChoice{Kind: rundir.KindObject, Found: 1, Why: why}
			c.ObjectAlign, c.ScoreInterval, c.XPool = true, 0.3, "mean"
		}
	}
	if err := rundir.WriteRun(runDir, run); err != nil {
		t.Fatal(err)
	}
	_, doc := render(t, runDir, report.Options{})
	nut := section(t, doc, "metal_nut").byClass("p", "choice")
	if len(nut) != 1 {
		t.Fatalf("metal_nut: %d choice lines, want 1", len(nut))
	}
	txt := nut[0].text()
	for _, w := range []string{why, "treated as an object", "aligned to their part", "--score-interval 0.3", "--x-pool mean"} {
		if !strings.Contains(txt, w) {
			t.Errorf("metal_nut choice line %q lacks %q", txt, w)
		}
	}
	if n := len(section(t, doc, "wood").byClass("p", "choice")); n != 0 {
		t.Errorf("wood has no choice but shows %d choice lines", n)
	}
}
