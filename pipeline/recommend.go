package pipeline

import (
	"math"
	"slices"

	"github.com/anomclust/anomclust/rundir"
)

// recommendedMode is the mode the tool recommends for a category without
// looking at labels: the semi-supervised scores when the category has
// normal train images (more information about what is normal), else the
// unsupervised ones, else the average.
func recommendedMode(o *Options, semi bool) string {
	switch {
	case semi && slices.Contains(o.Modes, rundir.ModeSemi):
		return rundir.ModeSemi
	case slices.Contains(o.Modes, rundir.ModeUnsupervised):
		return rundir.ModeUnsupervised
	}
	return rundir.ModeAverage
}

// recommendedTau is the temperature recommended among o.Taus for a mode:
// the preset's own (Options.RecommendTau, or RecommendTauUnsupervised for
// the unsupervised mode when set) when it is in the list, else the one
// nearest to it (2 when unset: the seed's default).
func recommendedTau(o *Options, mode string) float64 {
	want := o.RecommendTau
	if mode == rundir.ModeUnsupervised && o.RecommendTauUnsupervised != nil {
		want = o.RecommendTauUnsupervised
	}
	if want == nil {
		two := 2.0
		want = &two
	}
	best := math.Inf(1)
	tau := 0.0
	for _, t := range o.Taus {
		if d := math.Abs(t - *want); d < best {
			best, tau = d, t
		}
	}
	return tau
}

// markRecommended sets Recommended on exactly one of a category's rows
// (those of runCategory: one per mode and tau).
func markRecommended(o *Options, rows []rundir.Row, semi bool) {
	mode := recommendedMode(o, semi)
	tau := recommendedTau(o, mode)
	for i := range rows {
		r := &rows[i]
		r.Recommended = r.Mode == mode && (!r.HasTau || rundir.TauName(r.Tau) == rundir.TauName(tau))
	}
}
