package report

import (
	"image/color"

	"github.com/anomclust/anomclust/draw"
	"github.com/anomclust/anomclust/rundir"
)

// buildUnlabelled fills a category view for images without labels: no
// scores, plots or confusion matrix; each cluster has a colour of its own,
// the dendrogram (Ward) and a gallery per cluster.
func buildUnlabelled(cv *categoryView, runDir string, run *rundir.Run, c rundir.Category, st draw.Setting, perCluster int, opt Options) (*categoryView, error) {
	cv.Unlabelled = true
	cv.Plots = nil
	cv.SettingWhy = "chosen for the report"
	if opt.Mode == "" || (!opt.HasTau && rundir.Mode(opt.Mode).HasTau()) {
		cv.SettingWhy = "no labels to pick a best setting by: the middle τ of the run's first mode"
		if st.Mode == c.RecommendedMode && st.Tau == c.RecommendedTau {
			cv.SettingWhy = "the setting recommended without labels: run.json recommended_mode, recommended_tau"
		}
	}
	cv.Method = run.ClusterMethod(&c)
	dir := st.Dir(runDir, c.Name)
	src, as, err := openResult(cv, runDir, run, c.Name, dir, opt)
	if err != nil {
		return nil, err
	}
	match := map[int]string{}
	for _, a := range as {
		match[a.Cluster] = ""
	}
	clusterColor := func(k int) color.RGBA { return labelColor(k) }

	leafColor := make([]color.RGBA, len(as))
	for i, a := range as {
		leafColor[i] = clusterColor(a.Cluster)
	}
	if err := addDendrogram(cv, dir, cv.Method, as, max(c.K, len(match)), clusterColor, leafColor); err != nil {
		return nil, err
	}
	alpha, err := src.ReadAlpha(dir)
	if err != nil {
		return nil, err
	}
	if cv.Galleries, err = buildGalleries(src, as, alpha, match, clusterColor, perCluster, opt); err != nil {
		return nil, err
	}
	return cv, nil
}
