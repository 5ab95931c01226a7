package pipeline

import (
	"fmt"
	"io"
	"slices"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// The auto preset's texture configuration chooses between the weighted
// (unsupervised) and the average mode without labels: the one whose
// clusters are better separated in their own X (the higher mean
// silhouette, cluster.Silhouette, at the result's K) is recommended.
// Measured on ../shared/data (docs/QUALITY.md): the score-weighted X wins
// on neu and xsdd, the uniform average on deeppcb (defects spread over the
// board's whole pattern), and the silhouette tells which.

// wantSilhouette reports whether the result of mode at tau takes part in
// the mode choice (Options.ChooseMode): the average and the unsupervised
// result at the recommended tau.
func wantSilhouette(o *Options, mode string, tau float64) bool {
	if !o.ChooseMode {
		return false
	}
	switch mode {
	case rundir.ModeAverage:
		return true
	case rundir.ModeUnsupervised:
		return rundir.TauName(tau) == rundir.TauName(recommendedTau(o, mode))
	}
	return false
}

// noteSilhouette records in info the silhouette of a result's clusters
// pred in its X when it takes part in the mode choice.
func noteSilhouette(o *Options, info *rundir.Category, mode string, tau float64, x *tensor.Tensor, pred []int) {
	if !wantSilhouette(o, mode, tau) || info.Choice == nil {
		return
	}
	s := cluster.Silhouette(x.Data, x.Shape[0], x.Shape[1], pred)
	if info.Choice.Silhouettes == nil {
		info.Choice.Silhouettes = map[string]float64{}
	}
	info.Choice.Silhouettes[mode] = s
}

// chooseMode applies the mode choice once every mode of a category ran:
// when the category has no semi-supervised result to recommend and the
// average's silhouette is above the unsupervised one's, the average is
// recommended (o.recommendAverage, read by recommendedMode). The decision
// and its figures go to run.json (choice.mode_why) and the log. o may be
// the run's own options (without PerCategory every category runs with
// them), so an earlier category's outcome is cleared first.
func chooseMode(o *Options, info *rundir.Category, semi bool, log io.Writer) {
	o.recommendAverage = false
	if !o.ChooseMode || info.Choice == nil || recommendedMode(o, semi) != rundir.ModeUnsupervised ||
		!slices.Contains(o.Modes, rundir.ModeAverage) {
		return
	}
	u, okU := info.Choice.Silhouettes[rundir.ModeUnsupervised]
	a, okA := info.Choice.Silhouettes[rundir.ModeAverage]
	if !okU || !okA {
		return
	}
	pick := rundir.ModeUnsupervised
	if a > u {
		pick = rundir.ModeAverage
		o.recommendAverage = true
	}
	info.Choice.ModeWhy = fmt.Sprintf("silhouette of the clusters in X: unsupervised (tau %s) %.3f, average %.3f: %s recommended",
		rundir.TauName(recommendedTau(o, rundir.ModeUnsupervised)), u, a, pick)
	fmt.Fprintf(log, "%s: %s\n", info.Name, info.Choice.ModeWhy)
}
