package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
	"github.com/anomclust/anomclust/xpool"
)

// Result is what Run returns: run.json's content and the summary rows
// (category rows, then the means).
type Result struct {
	Run     *rundir.Run
	Summary []rundir.Row
}

// plan is one category ready to run.
type plan struct {
	cat   *dataset.Category
	set   dataset.Set
	k     int            // 0: estimated per result (Options.autoK)
	semi  bool           // run the semi-supervised mode
	train []dataset.Item // the memory bank's images (semi)
	// ref are the test images that are not clustered but are "other
	// images" of the unsupervised score (docs/METHOD.md §4): combined, and good
	// under DefectsOnly; with MaxPerClass, the same seeded pick per label.
	ref []dataset.Item
	// gate is the object gate's result when it was taken before the run
	// (a sharded run's embed stage), nil otherwise.
	gate *gateResult
}

// Run executes the pipeline and writes its outputs under o.Out (see package
// rundir for the layout). Everything is checked before the first image is
// read: the data set and categories, the protocol (two classes at least),
// K, the backbone and its layers. ctx cancels it between images, between
// image pairs of the scores and between files; files already written are
// whole.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	if err := o.validate(); err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	// Refused before any work; checked again when the run is staged.
	if err := rundir.CheckOut(o.Out, o.Force); err != nil {
		return nil, err
	}
	plans, err := makePlans(&o, log)
	if err != nil {
		return nil, err
	}
	// The backbone is opened (not run) before the images are checked, so
	// that the check can skip decoding images whose Z is in the cache.
	on := o
	on.Layers = netLayers(&o) // the per-category taps too
	n, err := openNet(ctx, &on, log)
	if err != nil {
		return nil, err
	}
	ex, err := newExtractor(n, &o, log)
	if err != nil {
		return nil, err
	}
	if plans, err = checkImages(ctx, &o, plans, ex, log); err != nil {
		return nil, err
	}
	if err := checkLayers(n, &o); err != nil {
		return nil, err
	}
	// The run is written to a temporary sibling of Out, renamed into place
	// at the end: an interrupted run never touches an earlier one.
	stage, err := rundir.Stage(o.Out, o.Force)
	if err != nil {
		return nil, err
	}
	if stage.Recovered != "" {
		fmt.Fprintln(log, stage.Recovered)
	}
	committed := false
	defer func() {
		if !committed {
			stage.Abort()
		}
	}()
	final := o.Out
	o.Out, o.in.out = stage.Dir, stage.Final
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	run := &rundir.Run{
		Format: rundir.Format, Tool: "anomclust", Version: o.Version, GoVersion: runtime.Version(),
		Command: o.Command, Settings: o.settings(),
		Backbone: rundir.Backbone{Name: n.bb.Name(), WeightsFile: n.file, WeightsSHA256: n.sha256, Random: n.random},
		Layers:   o.Layers, Protocol: o.protocol(), Start: start, Stages: map[string]float64{},
		Layout: o.in.layout.String(), LayoutWhy: o.in.why, Labelled: &o.in.labelled, Skipped: o.in.skipped,
	}
	run.Settings.Out = final
	if rundir.AnyFrom(o.Modes, rundir.SourceOthers) {
		run.Reference = referenceText
	}
	if o.Net != nil {
		run.Backbone.ID = o.NetID
	}
	var rows []rundir.Row
	for _, p := range plans {
		c, crows, co, err := runCategory(ctx, &o, p, ex, log)
		if err != nil {
			return nil, fmt.Errorf("category %s: %w", p.cat.Name, err)
		}
		markRecommended(co, crows, p.semi)
		c.RecommendedMode = recommendedMode(co, p.semi)
		if rundir.Mode(c.RecommendedMode).HasTau() {
			c.RecommendedTau = recommendedTau(co, c.RecommendedMode)
		}
		run.Categories = append(run.Categories, c)
		for k, v := range c.Stages {
			run.Stages[k] += v
		}
		rows = append(rows, crows...)
	}
	pruneCache(&o, start, log)
	var all []rundir.Row
	if len(rows) > 0 { // none without labels: nothing to summarise
		if all, err = rundir.WriteSummary(o.Out, rows, o.protocol()); err != nil {
			return nil, err
		}
	}
	run.End = time.Now()
	run.WallSeconds = run.End.Sub(start).Seconds()
	if err := rundir.WriteRun(o.Out, run); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := stage.Commit(); err != nil {
		return nil, err
	}
	committed = true
	return &Result{Run: run, Summary: all}, nil
}

// referenceText is run.json's description of the unsupervised score's
// image set (Run.Reference).
const referenceText = "every test image of the category, good and combined included, under either protocol; " +
	"with max_per_class, the same seeded pick per label as the clustered set"

// makePlans opens the data set and checks every category before any work.
func makePlans(o *Options, log io.Writer) ([]plan, error) {
	if o.in.merge != nil {
		return o.in.merge.plans(o), nil // a sharded run's (shard.go)
	}
	ds, err := o.openData(log)
	if err != nil {
		return nil, err
	}
	if !ds.Labelled && o.DefectsOnly {
		return nil, errors.New("--defects-only drops the images labelled good, but the images have no labels (give the normal ones with --normal DIR instead)")
	}
	cats, err := ds.Select(o.Categories)
	if err != nil {
		return nil, err
	}
	wantSemi := rundir.AnyFrom(o.Modes, rundir.SourceBank)
	var plans []plan
	for _, c := range cats {
		set := c.ClusterSet(dataset.SetOptions{DefectsOnly: o.DefectsOnly})
		if o.MaxPerClass > 0 {
			set = subsample(set, o.MaxPerClass, o.Seed)
		}
		if err := set.Check(); err != nil {
			return nil, err
		}
		p := plan{cat: c, set: set, k: o.K}
		// The unsupervised score's "other images" are all test images
		// (docs/METHOD.md §4). subsample picks per label with a stream seeded by
		// the label, so each label's pick here is the one of the
		// clustered set: the clustered images are a subset of all.
		all := c.ClusterSet(dataset.SetOptions{KeepCombined: true})
		if o.MaxPerClass > 0 {
			all = subsample(all, o.MaxPerClass, o.Seed)
		}
		clustered := map[string]bool{}
		for _, it := range set.Items {
			clustered[it.Path] = true
		}
		for _, it := range all.Items {
			if !clustered[it.Path] {
				p.ref = append(p.ref, it)
			}
		}
		if p.k == 0 && !o.autoK(len(set.Labels)) {
			p.k = len(set.Labels)
		}
		if set.Unlabelled && len(p.ref) > 0 {
			p.ref = nil // no combined or good test images without labels
		}
		if p.k > len(set.Items) {
			return nil, fmt.Errorf("category %s: K = %d clusters for %d images: %w", c.Name, p.k, len(set.Items), ErrKTooLarge)
		}
		if p.k < 2 && o.K != 0 {
			return nil, fmt.Errorf("category %s: K = %d: want at least 2 clusters", c.Name, p.k)
		}
		if wantSemi {
			train, err := c.TrainSet()
			switch {
			case err == nil:
				idx, capped, err := alpha.SampleNormals(len(train), len(set.Items), o.TrainRatio, o.Seed)
				if err != nil {
					return nil, fmt.Errorf("category %s: %w", c.Name, err)
				}
				if capped {
					fmt.Fprintf(log, "%s: the memory bank uses all %d normal images (--train-ratio %g would take %d, %g per clustered image)\n",
						c.Name, len(train), o.TrainRatio, int(o.TrainRatio*float64(len(set.Items))), o.TrainRatio)
				}
				for _, i := range idx {
					p.train = append(p.train, train[i])
				}
				p.semi = true
			case o.SkipSemiWithoutTrain:
				if o.in.layout == dataset.MVTecRoot || o.in.layout == dataset.MVTecCategory {
					fmt.Fprintf(log, "%s: no train/good images, semi-supervised mode skipped\n", c.Name)
				} else {
					fmt.Fprintf(log, "%s: no normal images (--normal DIR), semi-supervised mode skipped\n", c.Name)
				}
			default:
				return nil, fmt.Errorf("%w: %v", ErrNoTrain, err)
			}
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// subsample keeps at most max images per label, picked with a PCG stream
// seeded by (seed, label) so that the pick of one label does not depend on
// the others; the kept images stay in their sorted order.
func subsample(s dataset.Set, max int, seed uint64) dataset.Set {
	byLabel := map[string][]int{}
	for i, it := range s.Items {
		byLabel[it.Label] = append(byLabel[it.Label], i)
	}
	keep := make([]bool, len(s.Items))
	for label, idx := range byLabel {
		if len(idx) <= max {
			for _, i := range idx {
				keep[i] = true
			}
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(label))
		r := rand.New(rand.NewPCG(seed, h.Sum64()))
		for _, j := range r.Perm(len(idx))[:max] {
			keep[idx[j]] = true
		}
	}
	out := s
	out.Items = nil
	for i, it := range s.Items {
		if keep[i] {
			out.Items = append(out.Items, it)
		}
	}
	return out
}

// stopwatch accumulates wall seconds per stage.
type stopwatch struct {
	m    map[string]float64
	t    time.Time
	name string
}

func (s *stopwatch) start(name string) {
	s.stop()
	s.name, s.t = name, time.Now()
}

func (s *stopwatch) stop() {
	if s.name != "" {
		s.m[s.name] += time.Since(s.t).Seconds()
		s.name = ""
	}
}

// runCategory runs every mode and tau of one category and writes its
// files; it returns the options the category ran with (chooseCategory).
func runCategory(ctx context.Context, o *Options, p plan, ex *extractor, log io.Writer) (rundir.Category, []rundir.Row, *Options, error) {
	sw := &stopwatch{m: map[string]float64{}}
	defer sw.stop()
	set := p.set
	N := len(set.Items)
	info, c := categoryRecord(o, p)
	info.Stages = sw.m
	truth, items, paths, refPaths := c.truth, c.items, c.paths, c.refPaths
	if o.in.labelled {
		fmt.Fprintf(log, "%s: %d images, %d labels (%v), K = %s, %d bank images\n", p.cat.Name, N, len(set.Labels), set.Labels, kText(p.k), len(p.train))
	} else {
		fmt.Fprintf(log, "%s: %d images without labels, K = %s, %d normal images in the bank\n", p.cat.Name, N, kText(p.k), len(p.train))
	}
	if len(refPaths) > 0 {
		fmt.Fprintf(log, "%s: the unsupervised score compares with %d test images: the %d clustered and %d others (combined, or good under defects-only)\n",
			p.cat.Name, info.NReference, N, len(refPaths))
	}
	catDir := rundir.CategoryDir(o.Out, p.cat.Name)
	if err := os.MkdirAll(catDir, 0o755); err != nil {
		return info, nil, o, err
	}
	sw.start("write")
	if err := rundir.WriteItems(filepath.Join(catDir, rundir.ItemsFile), items); err != nil {
		return info, nil, o, err
	}

	sw.start("features")
	o, ex, err := chooseCategory(ctx, o, ex, p.cat.Name, paths, p.gate, &info)
	if err != nil {
		return info, nil, nil, err
	}
	h0, m0 := ex.hits, ex.misses
	var bp []string
	if p.semi {
		bp = make([]string, len(p.train))
		for i, it := range p.train {
			bp[i] = it.Path
		}
		info.BankImages = o.rels(bp)
	}
	// Z of every image, streamed from the feature cache (or held in
	// memory without one); zRef is the unsupervised score's set: the
	// clustered images, then the reference-only ones.
	in, err := ex.inputs(ctx, paths, refPaths, bp, p.cat.Name, o.Progress)
	if err != nil {
		return info, nil, o, err
	}
	nz := in.zRef.Len() + in.bank.Len()
	info.CacheHits, info.CacheMisses = ex.hits-h0, ex.misses-m0
	fmt.Fprintf(log, "%s: patch embeddings of %d images (%d from the cache) in %.1fs\n",
		p.cat.Name, nz, info.CacheHits, time.Since(sw.t).Seconds())
	M, D := in.z.Dims()
	g, err := gridOf(M)
	if err != nil {
		return info, nil, o, err
	}
	info.GridH, info.GridW, info.Dim = g, g, D
	if ex.cache != nil {
		info.CacheBytes = int64(nz) * int64(M) * int64(D) * 4
		fmt.Fprintf(log, "%s: feature cache holds %s for this category (%d images x %d patches x %d floats x 4 B) in %s\n",
			p.cat.Name, byteSize(info.CacheBytes), nz, M, D, o.Cache)
	}

	var rows []rundir.Row
	ms := newModelSaver(o, p, in.z, in.bank)
	for _, mode := range o.Modes {
		if rundir.Mode(mode).Source() == rundir.SourceBank && !p.semi {
			continue
		}
		r, err := runMode(ctx, o, sw, p, mode, in, &info, ms, truth, items, log)
		if err != nil {
			return info, nil, o, err
		}
		rows = append(rows, r...)
	}
	sw.start("model")
	if err := ms.save(ctx, catDir, log); err != nil {
		return info, nil, o, fmt.Errorf("saving the model for assign: %w", err)
	}
	return info, rows, o, nil
}

// runMode scores the patches of one weighting mode, then for each of its
// taus weights them into image embeddings, clusters them and writes the
// result folder. It returns the summary rows (none without labels) and
// records score cache hits and K estimates in info, and the mode's score
// statistics in ms (for assign).
func runMode(ctx context.Context, o *Options, sw *stopwatch, p plan, mode string, in *catInputs, info *rundir.Category,
	ms *modelSaver, truth []int, items []rundir.Item, log io.Writer) ([]rundir.Row, error) {
	_, D := in.z.Dims()
	var rows []rundir.Row
	sw.start("scores")
	s, hit, err := scores(ctx, o, mode, in, p.cat.Name, log, ms.keepCoreset)
	if err != nil {
		return nil, err
	}
	if hit {
		info.ScoreCacheHits++
	}
	if rundir.Mode(mode).Scored() {
		how := "computed"
		if hit {
			how = "from the score cache"
		} else if note := scaleNote(o, mode, in.zRef.Len(), D); note != "" {
			how += ", " + note
		}
		fmt.Fprintf(log, "%s: %s patch scores (%s) in %.1fs\n", p.cat.Name, mode, how, time.Since(sw.t).Seconds())
	}
	if rundir.Mode(mode).Scored() {
		if err := writeScores(o, p.cat.Name, mode, s); err != nil {
			return nil, err
		}
		ms.scoreStats(mode, s)
	}
	taus := o.Taus
	if !rundir.Mode(mode).HasTau() {
		taus = []float64{1} // every tau gives uniform weights
	}
	// alpha for every tau, then X for all of them in one pass over Z.
	sw.start("alpha")
	alphas := make([][]float64, len(taus))
	for k, tau := range taus {
		if alphas[k], err = patchWeights(o, s, tau); err != nil {
			return nil, err
		}
	}
	xs, err := xpool.Embed(in.z, alphas, xPoolKind(o.XPool), alpha.Options{Workers: o.Workers, Done: ctx.Done()})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	for k, tau := range taus {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		postX(o, xs[k])
		r, kc, err := clusterAndWrite(ctx, o, sw, p, mode, tau, alphas[k], xs[k], s, truth, items)
		if err != nil {
			return nil, err
		}
		if r.Kind != "" { // "" without labels: no scores
			rows = append(rows, r)
		}
		if kc != nil {
			info.KChoices = append(info.KChoices, *kc)
			fmt.Fprintf(log, "%s: %s: K = %d estimated (runner-up %d, %s)\n", p.cat.Name, settingText(mode, tau), kc.K, kc.RunnerUp, kc.Criterion)
		}
	}
	return rows, nil
}

// catRecord is what the result files of a category need of its images.
type catRecord struct {
	truth    []int         // label index per image (-1 without)
	items    []rundir.Item // items.csv
	paths    []string      // the clustered images' files
	refPaths []string      // reference-only images of the unsupervised score
}

// categoryRecord fills the run.json record of a category from its plan
// (everything known before the features) and lists its images.
func categoryRecord(o *Options, p plan) (rundir.Category, catRecord) {
	set := p.set
	N := len(set.Items)
	info := rundir.Category{Name: p.cat.Name, Dir: p.cat.Dir, NImages: N, Labels: set.Labels, K: p.k,
		ImageSize: o.ImageSize, Resize: o.Resize, NBank: len(p.train)}
	info.LabelCounts = make([]int, len(set.Labels))
	c := catRecord{truth: make([]int, N), items: make([]rundir.Item, N), paths: make([]string, N)}
	info.Dir, info.Unlabelled = o.rel(p.cat.Dir), set.Unlabelled
	for i, it := range set.Items {
		if it.LabelIndex >= 0 {
			info.LabelCounts[it.LabelIndex]++
		}
		c.truth[i] = it.LabelIndex
		c.items[i] = rundir.Item{Index: i, Path: o.rel(it.Path), Label: it.Label, Mask: o.rel(it.MaskPath)}
		c.paths[i] = it.Path
	}
	if rundir.AnyFrom(o.Modes, rundir.SourceOthers) {
		for _, it := range p.ref {
			c.refPaths = append(c.refPaths, it.Path)
		}
		info.NReference, info.ReferenceOnly = N+len(c.refPaths), o.rels(c.refPaths)
	}
	return info, c
}

// byteSize formats n bytes for a log line (MB or GB, 1 decimal).
func byteSize(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// clusterAndWrite clusters X, scores the clusters and writes the result
// folder of (mode, tau).
func clusterAndWrite(ctx context.Context, o *Options, sw *stopwatch, p plan, mode string, tau float64,
	a []float64, x *tensor.Tensor, s *alpha.Scores, truth []int, items []rundir.Item) (rundir.Row, *rundir.KChoice, error) {
	N := x.Shape[0]
	sw.start("cluster")
	pred, link, kc, err := clusterX(o, x, p.k, mode, tau)
	if err != nil {
		return rundir.Row{}, nil, fmt.Errorf("%s clustering (%s, tau %g): %w", o.Cluster, mode, tau, err)
	}
	k := p.k
	if kc != nil {
		k = kc.K
	}
	hasTau := rundir.Mode(mode).HasTau()
	var m *rundir.Metrics
	if !p.set.Unlabelled { // without labels there is nothing to score
		sw.start("metrics")
		if m, err = scoreClusters(o, p, k, mode, tau, truth, pred); err != nil {
			return rundir.Row{}, nil, err
		}
	}

	sw.start("write")
	if err := ctx.Err(); err != nil {
		return rundir.Row{}, nil, err
	}
	dir := rundir.ResultDir(o.Out, p.cat.Name, mode, tau)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rundir.Row{}, nil, err
	}
	if err := writeArrays(dir, a, x, link); err != nil {
		return rundir.Row{}, nil, err
	}
	as := make([]rundir.Assignment, N)
	for i, it := range items {
		as[i] = rundir.Assignment{Path: it.Path, Label: it.Label, Cluster: pred[i]}
	}
	if err := describe(as, x, pred, k, s, mode); err != nil {
		return rundir.Row{}, nil, err
	}
	if err := writeRecords(dir, as, m, kc); err != nil {
		return rundir.Row{}, nil, err
	}
	if o.ExportClusters {
		if err := exportResult(o, p, dir, as, k); err != nil {
			return rundir.Row{}, nil, err
		}
	}
	if m == nil {
		return rundir.Row{}, kc, nil // "" Kind: no scores without labels
	}
	if !hasTau {
		tau = 0
	}
	return rundir.Row{Kind: rundir.KindCategory, Category: p.cat.Name, Mode: mode, Tau: tau, HasTau: hasTau,
		NCategories: 1, NImages: N, NMI: m.NMI, ARI: m.ARI, F1: m.F1}, kc, nil
}

// settingText names a result for log lines: "unsupervised tau 1", "average".
func settingText(mode string, tau float64) string {
	if !rundir.Mode(mode).HasTau() {
		return mode
	}
	return mode + " tau " + rundir.TauName(tau)
}
