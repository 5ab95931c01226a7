package pipeline_test

import (
	"bytes"
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/xpool"
)

// perCategoryOptions are fakeOptions with the auto preset's score,
// weighting and per-category settings, unsupervised only (writeSet has no
// train images).
func perCategoryOptions(t *testing.T, data string) pipeline.Options {
	t.Helper()
	auto, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	if !auto.PerCategory {
		t.Fatal("the auto preset does not choose per category")
	}
	o := fakeOptions(t, &poolNet{})
	o.Data, o.Categories = data, nil
	o.Preset, o.PerCategory, o.Weighting = auto.Preset, auto.PerCategory, auto.Weighting
	o.Taus, o.RecommendTau, o.RecommendTauUnsupervised = auto.Taus, auto.RecommendTau, auto.RecommendTauUnsupervised
	o.Modes = []string{rundir.ModeUnsupervised}
	o.Refs = 6
	return o
}

// runCat runs o and returns run.json's only category and the X.npy of
// the unsupervised result at tau.
func runCat(t *testing.T, o pipeline.Options, tau float64) (rundir.Category, []byte) {
	t.Helper()
	run := runRead(t, o)
	c := run.Categories[0]
	x, err := os.ReadFile(filepath.Join(rundir.ResultDir(o.Out, c.Name, rundir.ModeUnsupervised, tau), rundir.XFile))
	if err != nil {
		t.Fatal(err)
	}
	return c, x
}

// TestPerCategory: the auto preset gives a category of parts on a plain
// background the object configuration (aligned, MuSc interval 0.3,
// recommended unsupervised tau 0.15, weighted mean + weighted std X) and a category of
// blobs on a surface the texture one (whole images, plain mean scores,
// tau 1, mean + uniform std X). run.json records the kind and the gate's
// evidence; the X of each equals that of a run given the same settings
// explicitly; assign rebuilds the same X and scores from the recorded
// choice; a setting named in Fixed keeps the caller's value.
func TestPerCategory(t *testing.T) {
	for _, tc := range []struct {
		parts    bool
		kind     string
		interval float64
		pool     xpool.Kind
		tau      float64
		tta      string
		rule     string // assign's placement rule
		method   string // clustering method (run.json: "" = the run's, ward)
	}{
		{true, rundir.KindObject, 0.3, xpool.MeanStd, 0.15, string(objectTTA), model.RuleWardStd, ""},
		{false, rundir.KindTexture, 1, xpool.MeanStd, 1, string(textureTTA), model.RuleMembers, cluster.MethodSpectral},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			data := writeSet(t, tc.parts)
			o := perCategoryOptions(t, data)
			var log bytes.Buffer
			o.Log = &log
			c, x := runCat(t, o, tc.tau)
			// The log says what the gate decided, why, and the settings.
			if want := "-> treated as " + ch0(tc.kind) + ": " + c.ChoiceSettings() + "; recommended unsupervised tau "; !strings.Contains(log.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, log.String())
			}
			ch := c.Choice
			if ch == nil || ch.Kind != tc.kind || c.ObjectAlign != tc.parts || c.XPool != string(tc.pool) ||
				c.ScoreInterval != tc.interval || c.TTA != tc.tta || c.Placement != tc.rule || c.Cluster != tc.method || c.RecommendedMode != rundir.ModeUnsupervised || c.RecommendedTau != tc.tau {
				t.Fatalf("category record %+v, choice %+v", c, ch)
			}
			if tc.parts && (ch.Found != 1 || ch.AreaCV == nil || !(*ch.AreaCV <= 0.2)) || ch.Why == "" {
				t.Errorf("gate evidence %+v", ch)
			}
			// The same settings given explicitly, without the choice.
			e := fakeOptions(t, &poolNet{})
			e.Data, e.Categories, e.Modes, e.Refs, e.Weighting, e.Taus = data, nil, o.Modes, o.Refs, o.Weighting, o.Taus
			e.ObjectAlign, e.ScoreInterval, e.XPool, e.TTA = tc.parts, tc.interval, string(tc.pool), tc.tta
			if tc.method != "" {
				e.Cluster = tc.method
			}
			ec, ex := runCat(t, e, tc.tau)
			if ec.Choice != nil || !bytes.Equal(x, ex) {
				t.Errorf("X of the per-category run differs from the explicit run's (choice %+v)", ec.Choice)
			}
			// Every result was clustered with the category's method.
			for _, tau := range o.Taus {
				dir := rundir.ResultDir(o.Out, c.Name, rundir.ModeUnsupervised, tau)
				m, err := rundir.ReadMetrics(filepath.Join(dir, rundir.MetricsFile))
				if err != nil {
					t.Fatal(err)
				}
				if want := cmp.Or(tc.method, cluster.MethodWard); m.Cluster != want {
					t.Errorf("%s: clustered with %q, want %q", dir, m.Cluster, want)
				}
			}
			// assign: the per-category run and the explicit one place
			// the same images with the same X and scores.
			imgs := []string{filepath.Join(data, "a", "0.png"), filepath.Join(data, "b", "3.png")}
			assign := func(out string) *pipeline.AssignResult {
				t.Helper()
				tau := tc.tau
				r, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: out, Mode: rundir.ModeUnsupervised, Tau: &tau,
					Images: imgs, Net: o.Net, NetID: o.NetID})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			a1, a2 := assign(o.Out), assign(e.Out)
			checkPlacement(t, rundir.ResultDir(o.Out, c.Name, rundir.ModeUnsupervised, tc.tau), a1, tc.rule)
			if a1.D != tc.pool.Dim(16) || a1.D != a2.D || !equalF32(a1.X, a2.X) || a1.Rows[0].Score != a2.Rows[0].Score || a1.Rows[1].Score != a2.Rows[1].Score {
				t.Errorf("assign on the per-category run differs from the explicit run's: D %d, %d; scores %v %v, %v %v",
					a1.D, a2.D, a1.Rows[0].Score, a2.Rows[0].Score, a1.Rows[1].Score, a2.Rows[1].Score)
			}
			if tc.interval != 1 {
				// The interval matters to run and assign: the plain mean
				// scores give another X (on the same score cache: its
				// key tells the two apart).
				p := e
				p.Out, p.ScoreInterval = filepath.Join(t.TempDir(), "plain"), 1
				if _, px := runCat(t, p, tc.tau); bytes.Equal(px, x) {
					t.Error("run's X with r = 0.3 equals the plain mean's")
				}
				if a3 := assign(p.Out); equalF32(a3.X, a1.X) || a3.Rows[0].Score == a1.Rows[0].Score {
					t.Error("assign's X and scores with r = 0.3 equal those with the plain mean")
				}
			}
			// Fixed settings are kept.
			f := perCategoryOptions(t, data)
			f.XPool, f.ScoreInterval, f.ObjectAlign, f.Cluster = string(xpool.GeM), 0.5, false, cluster.MethodKMeans
			f.Fixed = []string{pipeline.FixAlign, pipeline.FixCluster, pipeline.FixInterval, pipeline.FixTau, pipeline.FixXPool}
			fc, _ := runCat(t, f, 1)
			if fc.Choice == nil || fc.Choice.Kind != tc.kind || len(fc.Choice.Fixed) != 5 || fc.ObjectAlign || fc.XPool != string(xpool.GeM) ||
				fc.ScoreInterval != 0.5 || fc.RecommendedTau != 1 || fc.Cluster != "" {
				t.Errorf("fixed settings not kept: %+v, choice %+v", fc, fc.Choice)
			}
		})
	}
	o := perCategoryOptions(t, writeSet(t, true))
	o.Fixed = []string{"backbone"}
	if _, err := pipeline.Run(context.Background(), o); err == nil {
		t.Error("an unknown fixed setting was accepted")
	}
}

// checkPlacement: every row of r is placed in the clusters of the result
// in dir by rule (cluster and confidence as model.Clusters.Place gives
// them), and the other rule would have given another confidence to some
// row (else the check tells the rules apart nowhere).
func checkPlacement(t *testing.T, dir string, r *pipeline.AssignResult, rule string) {
	t.Helper()
	x, n, d, pred := readResult(t, dir)
	cl, err := model.Fit(x, n, d, pred, slices.Max(pred)+1)
	if err != nil {
		t.Fatal(err)
	}
	other := model.RuleWard
	if rule == model.RuleWard {
		other = model.RuleWardStd
	}
	differ := false
	for i, row := range r.Rows {
		xi := r.X[i*r.D : (i+1)*r.D]
		cl.Rule = rule
		want := cl.Place(xi)
		cl.Rule = other
		differ = differ || cl.Place(xi).Confidence != want.Confidence
		if row.Cluster != want.Cluster || row.Confidence != want.Confidence {
			t.Errorf("assign's row %d: cluster %d, confidence %v; rule %s gives %d, %v", i, row.Cluster, row.Confidence, rule, want.Cluster, want.Confidence)
		}
	}
	if !differ {
		t.Errorf("rules %s and %s give the same confidences: the check tells nothing", rule, other)
	}
}

// readResult is the X (n x d) and the clusters of the result folder dir.
func readResult(t *testing.T, dir string) (x []float32, n, d int, pred []int) {
	t.Helper()
	x, shape, err := npy.Read[float32](filepath.Join(dir, rundir.XFile))
	if err != nil {
		t.Fatal(err)
	}
	as, err := rundir.ReadAssignments(filepath.Join(dir, rundir.AssignmentsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != len(as) {
		t.Fatalf("%s: X of shape %v for %d assignments", dir, shape, len(as))
	}
	pred = make([]int, len(as))
	for i, a := range as {
		pred[i] = a.Cluster
	}
	return x, shape[0], shape[1], pred
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ch0 is the kind with its article, as the log writes it.
func ch0(kind string) string {
	if kind == rundir.KindObject {
		return "an object"
	}
	return "a " + kind
}

// TestPlacementValidate: a run refuses a placement rule assign does not
// know, and records a known one for its category.
func TestPlacementValidate(t *testing.T) {
	o := fakeOptions(t, &poolNet{})
	o.Modes, o.Placement = []string{rundir.ModeAverage}, "nearest"
	if _, err := pipeline.Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "nearest") {
		t.Errorf("placement nearest: error %v, want one naming it", err)
	}
	o = fakeOptions(t, &poolNet{})
	o.Modes, o.Placement = []string{rundir.ModeAverage}, model.RuleWard
	if run := runRead(t, o); run.Categories[0].Placement != model.RuleWard {
		t.Errorf("placement ward recorded as %q", run.Categories[0].Placement)
	}
}
