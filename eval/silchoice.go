package eval

import (
	"slices"

	"github.com/anomclust/anomclust/rundir"
)

// ModeSilChoice is the mode of the rows silChoiceRows adds.
const ModeSilChoice = "sil-choice"

// silChoiceRows adds, for every unsupervised row whose pool is in
// c.SilChoicePools, the row a silhouette choice of the mode recommends
// (the auto preset's texture configuration on MobileNet V2 before it
// moved to V1, docs/QUALITY.md): that row or the average row
// of the same category, backbone, descriptor, X post-processing and
// clustering method, whichever has the higher silhouette (Sil; the
// unsupervised one on a tie). The new row is the picked one's figures under mode
// ModeSilChoice, with Score naming the picked mode and Pool the
// unsupervised pool; Seconds are both rows'.
func silChoiceRows(c Config, rows []Result) []Result {
	if len(c.SilChoicePools) == 0 {
		return nil
	}
	type key struct{ set, cat, bb, xpool, post, method string }
	avg := map[key]Result{}
	for _, r := range rows {
		if r.Mode == rundir.ModeAverage && r.Zoom == "-" {
			avg[key{r.Set, r.Category, r.Backbone, r.XPool, r.Post, r.Method}] = r
		}
	}
	var out []Result
	for _, r := range rows {
		if r.Mode != rundir.ModeUnsupervised || r.Zoom != "-" || !slices.Contains(c.SilChoicePools, r.Pool) {
			continue
		}
		a, ok := avg[key{r.Set, r.Category, r.Backbone, r.XPool, r.Post, r.Method}]
		if !ok {
			continue
		}
		pick := r
		if a.Sil > r.Sil {
			pick = a
		}
		n := pick
		n.Mode, n.Score, n.Pool = ModeSilChoice, pick.Mode, r.Pool
		n.Seconds = r.Seconds + a.Seconds
		out = append(out, n)
	}
	return out
}
