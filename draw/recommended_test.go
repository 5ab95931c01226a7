package draw_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/draw"
	"github.com/anomclust/anomclust/rundir"
)

// TestRunDefaultRecommended: without --mode, draw shows the setting the run
// recommends (as the report does), not the best-NMI one; a run that marks
// none gets the best NMI (TestRunDefaults).
func TestRunDefaultRecommended(t *testing.T) {
	runDir := fakeRun(t)
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	const cat = "metal_nut"
	best, _, err := draw.Best(runDir, run, cat, "")
	if err != nil {
		t.Fatal(err)
	}
	var rec draw.Setting
	for _, r := range run.Results(runDir) {
		if st := (draw.Setting{Mode: r.Mode, Tau: r.Tau}); r.Category == cat && st.String() != best.String() {
			rec = st
			break
		}
	}
	if rec.Mode == "" {
		t.Fatalf("fake run has no setting besides the best (%s)", best)
	}
	for i := range run.Categories {
		if run.Categories[i].Name == cat {
			run.Categories[i].RecommendedMode, run.Categories[i].RecommendedTau = rec.Mode, rec.Tau
		}
	}
	if err := rundir.WriteRun(runDir, run); err != nil {
		t.Fatal(err)
	}
	files, err := draw.Run(runDir, draw.Options{Categories: []string{cat}, Images: []string{"0"}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(rec.String(), " tau=", "_tau_")
	if len(files) != 1 || filepath.Base(filepath.Dir(files[0])) != want {
		t.Errorf("draw without --mode wrote %v, want one file under .../%s/%s/ (the recommended setting; best NMI is %s)", files, cat, want, best)
	}
}
