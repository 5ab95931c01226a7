package pipeline

import (
	"io"
	"testing"

	"github.com/anomclust/anomclust/rundir"
)

// TestChooseMode: with ChooseMode the average is recommended exactly when
// its silhouette is the higher one and there is no semi-supervised result
// to recommend; without ChooseMode, or without both silhouettes, the
// unsupervised mode stays recommended.
func TestChooseMode(t *testing.T) {
	modes := []string{rundir.ModeUnsupervised, rundir.ModeSemi, rundir.ModeAverage}
	one := 1.0
	for _, tc := range []struct {
		choose, semi bool
		u, a         float64
		only         bool // only the unsupervised silhouette
		want         string
	}{
		{true, false, 0.20, 0.25, false, rundir.ModeAverage},
		{true, false, 0.25, 0.20, false, rundir.ModeUnsupervised},
		{true, true, 0.20, 0.25, false, rundir.ModeSemi},
		{false, false, 0.20, 0.25, false, rundir.ModeUnsupervised},
		{true, false, 0.20, 0.25, true, rundir.ModeUnsupervised},
	} {
		o := &Options{Modes: modes, Taus: []float64{0.5, 1}, RecommendTauUnsupervised: &one, ChooseMode: tc.choose}
		info := &rundir.Category{Name: "c", Choice: &rundir.CategoryChoice{Kind: rundir.KindTexture,
			Silhouettes: map[string]float64{rundir.ModeUnsupervised: tc.u, rundir.ModeAverage: tc.a}}}
		if tc.only {
			delete(info.Choice.Silhouettes, rundir.ModeAverage)
		}
		chooseMode(o, info, tc.semi, io.Discard)
		if got := recommendedMode(o, tc.semi); got != tc.want {
			t.Errorf("%+v: recommended %s, want %s (why %q)", tc, got, tc.want, info.Choice.ModeWhy)
		}
		rows := []rundir.Row{{Mode: rundir.ModeUnsupervised, Tau: 1, HasTau: true}, {Mode: rundir.ModeAverage}}
		markRecommended(o, rows, tc.semi)
		if rows[1].Recommended != (tc.want == rundir.ModeAverage) || rows[0].Recommended != (tc.want == rundir.ModeUnsupervised) {
			t.Errorf("%+v: rows marked %v %v", tc, rows[0].Recommended, rows[1].Recommended)
		}
	}
	// Only the average and the unsupervised result at the recommended tau
	// take part.
	o := &Options{Taus: []float64{0.5, 1}, RecommendTauUnsupervised: &one, ChooseMode: true}
	if !wantSilhouette(o, rundir.ModeUnsupervised, 1) || wantSilhouette(o, rundir.ModeUnsupervised, 0.5) ||
		!wantSilhouette(o, rundir.ModeAverage, 0) || wantSilhouette(o, rundir.ModeSemi, 0.5) {
		t.Error("wantSilhouette picks the wrong results")
	}
}

// TestChooseModePerCategory: without PerCategory every category runs with
// the same Options, so one category's choice of the average must not be
// the next category's recommendation.
func TestChooseModePerCategory(t *testing.T) {
	one := 1.0
	o := &Options{Modes: []string{rundir.ModeUnsupervised, rundir.ModeAverage}, Taus: []float64{1},
		RecommendTauUnsupervised: &one, ChooseMode: true}
	for _, tc := range []struct {
		u, a float64
		want string
	}{{0.20, 0.25, rundir.ModeAverage}, {0.25, 0.20, rundir.ModeUnsupervised}} {
		info := &rundir.Category{Name: "c", Choice: &rundir.CategoryChoice{Kind: rundir.KindTexture,
			Silhouettes: map[string]float64{rundir.ModeUnsupervised: tc.u, rundir.ModeAverage: tc.a}}}
		chooseMode(o, info, false, io.Discard)
		if got := recommendedMode(o, false); got != tc.want {
			t.Errorf("silhouettes %v/%v after another category: recommended %s, want %s", tc.u, tc.a, got, tc.want)
		}
	}
}
