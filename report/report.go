// Package report writes one self-contained HTML page about a run directory
// (package rundir): the summary table, and per category the scores against
// tau, the confusion matrix after Hungarian matching, the Ward dendrogram and
// a gallery of each cluster with alpha overlays, wrong-cluster images marked,
// plus the settings and versions that reproduce the run.
//
// The page needs no network: images are data: URIs, plots and the dendrogram
// inline SVG, the style inline, and there is no script. Galleries sample at
// most Options.MaxPerCluster images per cluster (and fewer when the whole
// report would exceed Options.MaxThumbnails), so the page of a 2,000-image
// run stays a few MB and opens at once.
package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anomclust/anomclust/draw"
	"github.com/anomclust/anomclust/internal/atomicfile"
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
)

// Options tune the report. The zero value gives the defaults.
type Options struct {
	// Mode and Tau choose the setting shown in the confusion matrices,
	// dendrograms and galleries. Mode "" shows, per category, the setting
	// with the best NMI; a Mode without HasTau shows that mode's best tau.
	Mode   string
	Tau    float64
	HasTau bool
	// MaxPerCluster caps the thumbnails shown per cluster (default 24).
	MaxPerCluster int
	// MaxThumbnails caps the thumbnails of the whole report (default 720,
	// about 2.5 MB); per-cluster caps shrink, down to 4, to fit.
	MaxThumbnails int
	// Thumb is the thumbnail side in pixels (default 96).
	Thumb    int
	Colormap draw.Colormap // default draw.Viridis
	// Scale is the alpha colour scale of thumbnails (default per image).
	Scale draw.Scale
	// Title heads the page; default "anomclust run <folder name>".
	Title string
	// Now stamps the page; zero means time.Now() (tests fix it).
	Now time.Time
	// Data is where the run's images are now, when they moved (--data).
	Data string
}

// Upper bounds of the report's sizes (Check).
const (
	MaxThumb         = 512   // thumbnail side, pixels
	MaxPerClusterCap = 1000  // thumbnails per cluster
	MaxThumbnailsCap = 20000 // thumbnails in the whole report
)

// Check refuses sizes that would make a report of gigabytes (or run out
// of memory drawing it), naming the flag.
func (o Options) Check() error {
	for _, b := range []struct {
		flag   string
		v, max int
	}{{"--thumb", o.Thumb, MaxThumb}, {"--per-cluster", o.MaxPerCluster, MaxPerClusterCap}, {"--max-thumbnails", o.MaxThumbnails, MaxThumbnailsCap}} {
		if b.v > b.max {
			return fmt.Errorf("%s %d: at most %d", b.flag, b.v, b.max)
		}
		if b.v < 0 {
			return fmt.Errorf("%s %d: must not be negative", b.flag, b.v)
		}
	}
	return nil
}

func (o *Options) defaults(runDir string) {
	if o.MaxPerCluster <= 0 {
		o.MaxPerCluster = 24
	}
	if o.MaxThumbnails <= 0 {
		o.MaxThumbnails = 720
	}
	if o.Thumb <= 0 {
		o.Thumb = 96
	}
	if o.Colormap == nil {
		o.Colormap = draw.Viridis
	}
	if o.Title == "" {
		abs, err := filepath.Abs(runDir)
		if err != nil {
			abs = runDir
		}
		o.Title = "Anomaly clustering report: " + filepath.Base(abs)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// Write reads the run in runDir and writes the HTML report to outFile
// (atomically; default RUN/report.html when outFile is "").
func Write(runDir, outFile string, opt Options) error {
	if outFile == "" {
		outFile = filepath.Join(runDir, "report.html")
	}
	var buf bytes.Buffer
	if err := Render(&buf, runDir, opt); err != nil {
		return err
	}
	return atomicfile.WriteFile(outFile, buf.Bytes())
}

// Render writes the HTML report of the run in runDir to w.
func Render(w *bytes.Buffer, runDir string, opt Options) error {
	if err := opt.Check(); err != nil {
		return err
	}
	opt.defaults(runDir)
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		return err
	}
	pg := &page{Title: opt.Title, Generated: opt.Now.Format("2006-01-02 15:04 MST"), RunDir: runDir, Run: run, Thumb: opt.Thumb,
		OwnNets: ownNets(run)}
	rows, err := summaryRows(runDir, run)
	if err != nil {
		return err
	}
	pg.Summary = buildSummary(rows, run)
	pg.Full = buildFullTable(rows)
	pg.Repro = buildRepro(run, runDir)

	totalClusters := 0
	for _, c := range run.Categories {
		totalClusters += max(1, c.K, len(c.Labels))
	}
	perCluster := min(opt.MaxPerCluster, max(4, opt.MaxThumbnails/max(1, totalClusters)))
	for _, c := range run.Categories {
		cv, err := buildCategory(runDir, run, c, rows, perCluster, opt)
		if err != nil {
			return fmt.Errorf("report, category %s: %w", c.Name, err)
		}
		pg.Categories = append(pg.Categories, cv)
	}
	return pageTemplate.Execute(w, pg)
}

// summaryRows reads summary.csv, or rebuilds it from the metrics.json files
// when it is missing (a run interrupted before the end).
func summaryRows(runDir string, run *rundir.Run) ([]rundir.Row, error) {
	rows, err := rundir.ReadSummaryCSV(filepath.Join(runDir, rundir.SummaryCSVFile))
	if err == nil {
		return rows, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var cats []rundir.Row
	n := map[string]int{}
	for _, c := range run.Categories {
		n[c.Name] = c.NImages
	}
	for _, r := range run.Results(runDir) {
		m, err := rundir.ReadMetrics(filepath.Join(r.Dir, rundir.MetricsFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cats = append(cats, rundir.Row{Kind: rundir.KindCategory, Category: r.Category, Mode: r.Mode, Tau: r.Tau,
			HasTau: r.HasTau, NCategories: 1, NImages: n[r.Category], NMI: m.NMI, ARI: m.ARI, F1: m.F1})
	}
	return rundir.Summarize(cats)
}

// labelPalette colours true labels everywhere on the page (Tableau 10, then
// darker variants); a cluster takes the colour of the label it is matched to.
var labelPalette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 255}, {0xf2, 0x8e, 0x2b, 255}, {0xe1, 0x57, 0x59, 255}, {0x76, 0xb7, 0xb2, 255},
	{0x59, 0xa1, 0x4f, 255}, {0xed, 0xc9, 0x48, 255}, {0xb0, 0x7a, 0xa1, 255}, {0xff, 0x9d, 0xa7, 255},
	{0x9c, 0x75, 0x5f, 255}, {0xba, 0xb0, 0xac, 255},
}

func labelColor(i int) color.RGBA {
	c := labelPalette[i%len(labelPalette)]
	if k := i / len(labelPalette); k > 0 { // darken repeats
		f := 1 / float64(k+1)
		c = color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), 255}
	}
	return c
}

// unmatchedColor marks clusters without a matched label (K > labels).
var unmatchedColor = color.RGBA{0x44, 0x44, 0x44, 255}

func buildCategory(runDir string, run *rundir.Run, c rundir.Category, rows []rundir.Row, perCluster int, opt Options) (*categoryView, error) {
	cv := &categoryView{Name: c.Name, N: c.NImages, K: c.K, GridH: c.GridH, GridW: c.GridW, ImageSize: c.ImageSize, NBank: c.NBank}
	if c.Choice != nil {
		cv.Choice = fmt.Sprintf("Settings chosen for this category (auto preset): %s -> treated as %s: %s.", c.Choice.Why, c.Choice.KindWords(), c.ChoiceSettings())
	} else if c.ObjectAlign {
		cv.Choice = "Images aligned to their part (--object-align or --object-auto's gate)."
	}
	for i, l := range c.Labels {
		n := 0
		if i < len(c.LabelCounts) {
			n = c.LabelCounts[i]
		}
		cv.Labels = append(cv.Labels, labelView{Name: l, Count: n, Color: template.CSS(hex(labelColor(i)))})
	}
	plots, err := buildPlots(rows, c.Name)
	if err != nil {
		return nil, err
	}
	cv.Plots = plots

	st, m, err := chooseSetting(runDir, run, c.Name, opt)
	if err != nil {
		return nil, err
	}
	recommended := false
	if opt.Mode == "" {
		// The setting the tool recommends without labels, when the
		// summary marks one; otherwise the best NMI as before.
		if rs, rm, ok := recommendedSetting(runDir, rows, c.Name); ok {
			st, m, recommended = rs, rm, true
		}
	}
	cv.Setting = settingName(st.Mode, st.Tau, rundir.Mode(st.Mode).HasTau())
	if c.Unlabelled {
		return buildUnlabelled(cv, runDir, run, c, st, perCluster, opt)
	}
	labelled := len(c.Labels) >= 2 // one label: no metrics to show
	if labelled {
		cv.Scores = fmt.Sprintf("NMI %.3f · ARI %.3f · F1 %.3f", m.NMI, m.ARI, m.F1)
	}
	if recommended {
		cv.SettingWhy = "recommended without labels (summary.csv column recommended)"
	} else if opt.Mode == "" {
		cv.SettingWhy = "best NMI of this category"
	} else if !opt.HasTau && rundir.Mode(opt.Mode).HasTau() {
		cv.SettingWhy = "best NMI of mode " + opt.Mode
	} else {
		cv.SettingWhy = "chosen for the report"
	}
	if m.Cluster != "" {
		cv.Method = m.Cluster
	}
	dir := st.Dir(runDir, c.Name)
	src, as, err := openResult(cv, runDir, run, c.Name, dir, opt)
	if err != nil {
		return nil, err
	}
	match, err := clusterLabels(m, as, c.Labels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	labelIdx := map[string]int{}
	for i, l := range c.Labels {
		labelIdx[l] = i
	}
	clusterColor := func(k int) color.RGBA {
		if l, ok := match[k]; ok && l != "" {
			return labelColor(labelIdx[l])
		}
		return unmatchedColor
	}
	if labelled {
		cv.Confusion = buildConfusion(m, as, c.Labels, match, clusterColor)
	}

	// Dendrogram, from linkage.npy when the method was Ward.
	leafColor := make([]color.RGBA, len(as))
	for i, a := range as {
		leafColor[i] = labelColor(labelIdx[a.Label])
	}
	k := m.K
	if k == 0 {
		k = len(match)
	}
	if err := addDendrogram(cv, dir, m.Cluster, as, k, clusterColor, leafColor); err != nil {
		return nil, err
	}

	alpha, err := src.ReadAlpha(dir)
	if err != nil {
		return nil, err
	}
	galleries, err := buildGalleries(src, as, alpha, match, clusterColor, perCluster, opt)
	if err != nil {
		return nil, err
	}
	cv.Galleries = galleries
	return cv, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// recommendedSetting returns the setting summary rows mark recommended for
// the category, with its metrics.
func recommendedSetting(runDir string, rows []rundir.Row, category string) (draw.Setting, *rundir.Metrics, bool) {
	for _, r := range rows {
		if r.Kind != rundir.KindCategory || r.Category != category || !r.Recommended {
			continue
		}
		st := draw.Setting{Mode: r.Mode, Tau: r.Tau}
		m, err := rundir.ReadMetrics(filepath.Join(st.Dir(runDir, category), rundir.MetricsFile))
		if err != nil {
			return st, nil, false
		}
		return st, m, true
	}
	return draw.Setting{}, nil, false
}

// chooseSetting picks the setting shown for a category (see Options.Mode).
func chooseSetting(runDir string, run *rundir.Run, category string, opt Options) (draw.Setting, *rundir.Metrics, error) {
	if opt.Mode != "" {
		if err := draw.CheckMode(runDir, run, category, opt.Mode); err != nil {
			return draw.Setting{}, nil, err
		}
	}
	if opt.Mode != "" && (opt.HasTau || !rundir.Mode(opt.Mode).HasTau()) {
		st := draw.Setting{Mode: opt.Mode, Tau: opt.Tau}
		if i := slices.IndexFunc(run.Categories, func(c rundir.Category) bool { return c.Name == category }); i >= 0 && run.Categories[i].Unlabelled {
			return st, nil, nil // no metrics.json without labels
		}
		m, err := rundir.ReadMetrics(filepath.Join(st.Dir(runDir, category), rundir.MetricsFile))
		if err != nil {
			return st, nil, fmt.Errorf("setting %s: %w", st, err)
		}
		return st, m, nil
	}
	return draw.Best(runDir, run, category, opt.Mode)
}

// clusterLabels maps each cluster to its Hungarian-matched label ("" when
// unmatched): metrics.json's matching when present, else metrics.Match on the
// assignments.
func clusterLabels(m *rundir.Metrics, as []rundir.Assignment, labels []string) (map[int]string, error) {
	match := map[int]string{}
	if len(m.Matching) > 0 {
		for _, cm := range m.Matching {
			match[cm.Cluster] = cm.Label
		}
		return match, nil
	}
	idx := map[string]int{}
	for i, l := range labels {
		idx[l] = i
	}
	truth := make([]int, len(as))
	pred := make([]int, len(as))
	for i, a := range as {
		li, ok := idx[a.Label]
		if !ok {
			return nil, fmt.Errorf("assignment %d: label %q not in run.json's labels %v", i, a.Label, labels)
		}
		truth[i], pred[i] = li, a.Cluster
	}
	mt, err := metrics.Match(truth, pred)
	if err != nil {
		return nil, err
	}
	for _, k := range mt.Clusters {
		match[k] = ""
		if li, ok := mt.ClassOf(k); ok {
			match[k] = labels[li]
		}
	}
	return match, nil
}

// buildConfusion lays out the confusion matrix with rows = true labels and
// columns = clusters, each matched cluster in its label's column so the
// diagonal holds the correctly clustered images; unmatched clusters follow.
func buildConfusion(m *rundir.Metrics, as []rundir.Assignment, labels []string, match map[int]string, clusterColor func(int) color.RGBA) confusionView {
	// Count from the assignments, so the table always agrees with the
	// galleries (metrics.json's confusion holds the same numbers).
	var clusters []int
	for k := range match {
		clusters = append(clusters, k)
	}
	for _, a := range as {
		if !slices.Contains(clusters, a.Cluster) {
			clusters = append(clusters, a.Cluster)
		}
	}
	slices.Sort(clusters)
	var cols []int
	for _, l := range labels {
		for _, k := range clusters {
			if match[k] == l {
				cols = append(cols, k)
			}
		}
	}
	for _, k := range clusters {
		if !slices.Contains(cols, k) {
			cols = append(cols, k)
		}
	}
	colOf := map[int]int{}
	for j, k := range cols {
		colOf[k] = j
	}
	li := map[string]int{}
	for i, l := range labels {
		li[l] = i
	}
	counts := make([][]int, len(labels))
	for i := range counts {
		counts[i] = make([]int, len(cols))
	}
	for _, a := range as {
		counts[li[a.Label]][colOf[a.Cluster]]++
	}
	var v confusionView
	for _, k := range cols {
		v.Cols = append(v.Cols, clusterHead{ID: k, Label: match[k], Color: template.CSS(hex(clusterColor(k)))})
	}
	for i, l := range labels {
		total := 0
		for _, n := range counts[i] {
			total += n
		}
		row := confusionRow{Label: l, Color: template.CSS(hex(labelColor(i))), Total: total}
		for j, n := range counts[i] {
			cell := confusionCell{N: n, Match: match[cols[j]] == l}
			if total > 0 && n > 0 {
				f := float64(n) / float64(total)
				if cell.Match {
					cell.Style = template.CSS(fmt.Sprintf("background:rgba(46,139,87,%.2f)", 0.12+0.6*f))
				} else {
					cell.Style = template.CSS(fmt.Sprintf("background:rgba(200,55,45,%.2f)", 0.10+0.6*f))
				}
				cell.Dark = f > 0.6
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	_ = m
	return v
}

// buildPlots draws NMI, ARI and F1 against tau for one category.
func buildPlots(rows []rundir.Row, category string) ([]template.HTML, error) {
	by := map[string]*[3]curve{}
	var modes []string
	for _, r := range rows {
		if r.Kind != rundir.KindCategory || r.Category != category {
			continue
		}
		cs, ok := by[r.Mode]
		if !ok {
			cs = &[3]curve{}
			for j := range cs {
				cs[j] = curve{Mode: r.Mode, Flat: !r.HasTau}
			}
			by[r.Mode] = cs
			modes = append(modes, r.Mode)
		}
		for j, v := range []float64{r.NMI, r.ARI, r.F1} {
			cs[j].Tau = append(cs[j].Tau, r.Tau)
			cs[j].Y = append(cs[j].Y, v)
		}
	}
	var out []template.HTML
	for j, name := range []string{"NMI", "ARI", "F1"} {
		var curves []curve
		for _, md := range modes {
			c := by[md][j]
			sortCurve(&c)
			curves = append(curves, c)
		}
		svg, err := tauPlot(name, curves)
		if err != nil {
			return nil, err
		}
		out = append(out, template.HTML(svg))
	}
	return out, nil
}

func sortCurve(c *curve) {
	idx := make([]int, len(c.Tau))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case c.Tau[a] < c.Tau[b]:
			return -1
		case c.Tau[a] > c.Tau[b]:
			return 1
		}
		return 0
	})
	t, y := make([]float64, len(idx)), make([]float64, len(idx))
	for i, k := range idx {
		t[i], y[i] = c.Tau[k], c.Y[k]
	}
	c.Tau, c.Y = t, y
}

// settingName is "unsupervised τ=2" or "average".
func settingName(mode string, tau float64, hasTau bool) string {
	if !hasTau {
		return mode
	}
	return mode + " τ=" + rundir.TauName(tau)
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// addKPlot adds the K estimate's plot (k.json in dir, written by --k auto)
// to the category's plots; no k.json: nothing to add.
func addKPlot(cv *categoryView, dir string) error {
	kc, err := rundir.ReadK(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	svg, err := kPlot(kc, cv.Setting)
	if err != nil {
		return err
	}
	cv.Plots = append(cv.Plots, template.HTML(svg))
	cv.KAuto, cv.K = true, kc.K
	return nil
}

// openResult opens what a category's section shows from one result folder
// dir: the K plot (when k.json is there), the category's images (rebased
// on opt.Data) and its assignments, one per image.
func openResult(cv *categoryView, runDir string, run *rundir.Run, category, dir string, opt Options) (*draw.Source, []rundir.Assignment, error) {
	if err := addKPlot(cv, dir); err != nil {
		return nil, nil, err
	}
	src, err := draw.OpenCategory(runDir, run, category)
	if err != nil {
		return nil, nil, err
	}
	src.Data = opt.Data
	as, err := rundir.ReadAssignments(filepath.Join(dir, rundir.AssignmentsFile))
	if err != nil {
		return nil, nil, err
	}
	if len(as) != len(src.Items) {
		return nil, nil, fmt.Errorf("%s: %d assignments for %d images", dir, len(as), len(src.Items))
	}
	return src, as, nil
}

// addDendrogram draws the result folder dir's Ward tree (linkage.npy) cut
// into k clusters, leaves coloured by leafColor; without linkage.npy (a
// method other than Ward, named by method) it leaves a note instead.
func addDendrogram(cv *categoryView, dir, method string, as []rundir.Assignment, k int,
	clusterColor func(int) color.RGBA, leafColor []color.RGBA) error {
	lpath := filepath.Join(dir, rundir.LinkageFile)
	link, shape, err := npy.Read[float64](lpath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cv.DendroNote = "no linkage.npy (clustered with " + orDash(method) + ")"
		return nil
	case err != nil:
		return fmt.Errorf("read %s: %w", lpath, err)
	case len(shape) != 2 || shape[1] != 4 || shape[0] != len(as)-1:
		return fmt.Errorf("%s: shape %v, want (%d, 4)", lpath, shape, len(as)-1)
	}
	leafCluster := make([]int, len(as))
	for i, a := range as {
		leafCluster[i] = a.Cluster
	}
	svg, err := dendrogram(link, len(as), k, leafCluster, clusterColor, leafColor)
	if err != nil {
		return fmt.Errorf("%s: %w", lpath, err)
	}
	cv.Dendrogram = template.HTML(svg)
	return nil
}
