package pipeline

import (
	"testing"

	"github.com/anomclust/anomclust/rundir"
)

func TestIsRecommended(t *testing.T) {
	semi2 := &rundir.Category{RecommendedMode: rundir.ModeSemi, RecommendedTau: 2}
	avg := &rundir.Category{RecommendedMode: rundir.ModeAverage}
	for _, tc := range []struct {
		cat  *rundir.Category
		mode string
		tau  float64
		want bool
	}{
		{semi2, rundir.ModeSemi, 2, true},
		{semi2, rundir.ModeSemi, 1, false},
		{semi2, rundir.ModeUnsupervised, 2, false},
		{avg, rundir.ModeAverage, 1, true},                      // average has no tau
		{&rundir.Category{}, rundir.ModeUnsupervised, 0, false}, // the run marks none
		{nil, rundir.ModeUnsupervised, 0, false},
	} {
		if got := isRecommended(tc.cat, tc.mode, tc.tau); got != tc.want {
			t.Errorf("isRecommended(%+v, %s, %g) = %v, want %v", tc.cat, tc.mode, tc.tau, got, tc.want)
		}
	}
}
