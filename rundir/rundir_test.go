package rundir

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTauNameAndResultDir(t *testing.T) {
	for _, c := range []struct {
		tau  float64
		want string
	}{{0, "0"}, {math.Copysign(0, -1), "0"}, {0.2, "0.2"}, {2, "2"}, {1.5, "1.5"}, {18, "18"}} {
		if got := TauName(c.tau); got != c.want {
			t.Errorf("TauName(%v) = %q, want %q", c.tau, got, c.want)
		}
	}
	if got, want := ResultDir("o", "screw", ModeSemi, 0.2), filepath.Join("o", "screw", "semi", "tau_0.2"); got != want {
		t.Errorf("ResultDir semi = %q, want %q", got, want)
	}
	if got, want := ResultDir("o", "screw", ModeAverage, 3), filepath.Join("o", "screw", "average"); got != want {
		t.Errorf("ResultDir average = %q, want %q", got, want)
	}
}

func TestRoundTrips(t *testing.T) {
	dir := t.TempDir()
	run := &Run{Format: Format, Tool: "anomclust", Version: "dev",
		Settings:   Settings{Modes: []string{ModeUnsupervised, ModeAverage}, Taus: []float64{0, 2}},
		Categories: []Category{{Name: "a", NImages: 3, Labels: []string{"good", "x"}, LabelCounts: []int{1, 2}, GridH: 2, GridW: 3}},
		Start:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Stages: map[string]float64{"features": 1.5}}
	if err := WriteRun(dir, run); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, run) {
		t.Errorf("run.json round trip:\n got %+v\nwant %+v", got, run)
	}
	res := got.Results(dir)
	if len(res) != 3 || res[0].Dir != filepath.Join(dir, "a", "unsupervised", "tau_0") || res[2].HasTau || res[2].Dir != filepath.Join(dir, "a", "average") {
		t.Errorf("Results = %+v", res)
	}

	items := []Item{{0, "p,with comma.png", "good", ""}, {1, "q.png", "x", "m.png"}}
	p := filepath.Join(dir, ItemsFile)
	if err := WriteItems(p, items); err != nil {
		t.Fatal(err)
	}
	if gi, err := ReadItems(p); err != nil || !reflect.DeepEqual(gi, items) {
		t.Errorf("items round trip: %v %v", gi, err)
	}
	as := []Assignment{{"p.png", "good", 1, 0.5, 0.75, 3.25}, {"q.png", "x", 0, 1.5, 0.5, 2}}
	p = filepath.Join(dir, AssignmentsFile)
	if err := WriteAssignments(p, as); err != nil {
		t.Fatal(err)
	}
	if ga, err := ReadAssignments(p); err != nil || !reflect.DeepEqual(ga, as) {
		t.Errorf("assignments round trip: %v %v", ga, err)
	}
	// The average mode has no score: written empty, read back as NaN; an
	// older three-column file reads with NaN extras.
	as[0].Score = math.NaN()
	if err := WriteAssignments(p, as); err != nil {
		t.Fatal(err)
	}
	if ga, err := ReadAssignments(p); err != nil || !math.IsNaN(ga[0].Score) || ga[1].Score != 2 {
		t.Errorf("NaN score round trip: %v %v", ga, err)
	}
	old := filepath.Join(dir, "old.csv")
	if err := WriteCSV(old, [][]string{{"path", "label", "cluster"}, {"p.png", "good", "1"}}); err != nil {
		t.Fatal(err)
	}
	if ga, err := ReadAssignments(old); err != nil || len(ga) != 1 || ga[0].Cluster != 1 || !math.IsNaN(ga[0].Distance) {
		t.Errorf("three-column file: %v %v", ga, err)
	}
	// ReadItems must refuse a file of another kind (header check).
	if _, err := ReadItems(p); err == nil {
		t.Error("ReadItems accepted assignments.csv")
	}
	tau := 2.0
	m := &Metrics{Category: "a", Mode: ModeSemi, Tau: &tau, NMI: 0.5, Labels: []string{"good"}, Confusion: [][]int{{1, 2}},
		Matching: []ClusterMatch{{Cluster: 0, Label: "good", Size: 1, Correct: 1}}}
	p = filepath.Join(dir, MetricsFile)
	if err := WriteMetrics(p, m); err != nil {
		t.Fatal(err)
	}
	if gm, err := ReadMetrics(p); err != nil || !reflect.DeepEqual(gm, m) {
		t.Errorf("metrics round trip: %+v %v", gm, err)
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left", e.Name())
		}
	}
}

func TestSummarize(t *testing.T) {
	cats := []Row{
		{Kind: KindCategory, Category: "screw", Mode: ModeSemi, Tau: 1, HasTau: true, NCategories: 1, NImages: 10, NMI: 0.2, ARI: 0.1, F1: 0.5, Recommended: true},
		{Kind: KindCategory, Category: "bottle", Mode: ModeSemi, Tau: 1, HasTau: true, NCategories: 1, NImages: 30, NMI: 0.6, ARI: 0.5, F1: 0.9, Recommended: true},
		{Kind: KindCategory, Category: "wood", Mode: ModeSemi, Tau: 1, HasTau: true, NCategories: 1, NImages: 20, NMI: 0.9, ARI: 0.8, F1: 1},
		{Kind: KindCategory, Category: "screw", Mode: ModeAverage, NCategories: 1, NImages: 10, NMI: 0.1},
	}
	rows, err := Summarize(cats)
	if err != nil {
		t.Fatal(err)
	}
	find := func(g, w, mode string) Row {
		for _, r := range rows {
			if r.Kind == KindMean && r.Category == g && r.Weighting == w && r.Mode == mode {
				return r
			}
		}
		t.Fatalf("no mean row %s %s %s", g, w, mode)
		return Row{}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	// object: screw and bottle. plain (0.2+0.6)/2, weighted (10*0.2+30*0.6)/40.
	if r := find(GroupObject, WeightPlain, ModeSemi); !near(r.NMI, 0.4) || r.NCategories != 2 || r.NImages != 40 {
		t.Errorf("object plain = %+v", r)
	}
	if r := find(GroupObject, WeightByImages, ModeSemi); !near(r.NMI, 0.5) {
		t.Errorf("object weighted = %+v", r)
	}
	if r := find(GroupTexture, WeightPlain, ModeSemi); !near(r.NMI, 0.9) || r.NCategories != 1 {
		t.Errorf("texture plain = %+v", r)
	}
	if r := find(GroupAll, WeightByImages, ModeSemi); !near(r.F1, (5+27+20)/60.0) {
		t.Errorf("all weighted = %+v", r)
	}
	// Both object categories recommend semi tau=1, wood does not.
	if r := find(GroupObject, WeightPlain, ModeSemi); !r.Recommended {
		t.Error("object mean of a setting both object categories recommend is not marked")
	}
	if r := find(GroupAll, WeightPlain, ModeSemi); r.Recommended {
		t.Error("mean over all marked recommended although wood does not recommend it")
	}
	// average has only screw: no texture mean for it.
	for _, r := range rows {
		if r.Mode == ModeAverage && r.Category == GroupTexture {
			t.Errorf("texture mean without texture categories: %+v", r)
		}
	}
	dir := t.TempDir()
	all, err := WriteSummary(dir, cats, ProtocolMVTec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadSummaryCSV(filepath.Join(dir, SummaryCSVFile))
	if err != nil || !reflect.DeepEqual(back, all) {
		t.Errorf("summary.csv round trip: %v\n got %+v\nwant %+v", err, back, all)
	}
	// A summary.csv of an earlier version (no recommended column) reads.
	old := "kind,category,weighting,mode,tau,n_categories,n_images,nmi,ari,f1\ncategory,screw,,semi,1,1,10,0.2,0.1,0.5\n"
	if err := os.WriteFile(filepath.Join(dir, "old.csv"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if o, err := ReadSummaryCSV(filepath.Join(dir, "old.csv")); err != nil || len(o) != 1 || o[0].NMI != 0.2 || o[0].Recommended {
		t.Errorf("old summary.csv: %+v, %v", o, err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, SummaryMDFile))
	if !strings.Contains(string(md), "| semi | 1 | **0.200** | **0.100** | **0.500** | ✓ |") {
		t.Errorf("summary.md does not mark the recommended setting:\n%s", md)
	}
	// In the screw table semi (0.200) beats average (0.100): bold.
	if !strings.Contains(string(md), "| semi | 1 | **0.200** |") || !strings.Contains(string(md), "| average | - | 0.100 |") {
		t.Errorf("summary.md best marking wrong:\n%s", md)
	}
}
