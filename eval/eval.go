// Package eval measures the weighting, embedding and clustering options of
// Anomaly Clustering one by one (an ablation) on labelled data sets: the
// patch embeddings are computed once per backbone (feature cache), the
// pairwise patch distances once per category, and every option is then a
// cheap in-memory pass (weights, X, Ward, metrics). Labels are used only
// to score the clusters, never to choose anything inside an option.
package eval

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tta"
	"github.com/anomclust/anomclust/xpool"
)

// Set is one data set of the ablation.
type Set struct {
	Name        string // short name for the table
	Data        string // folder (MVTec root, category folder or class-per-folder)
	Categories  []string
	MaxPerClass int
}

// Config is what to measure.
type Config struct {
	Sets      []Set
	Backbones []string // registry names; with several, their L2-normalised X are also concatenated
	Layers    []string
	Cache     string
	Seed      uint64
	Workers   int
	// Score variants: MuSc interval fractions r of the unsupervised score
	// (1 = the plain mean of METHOD §4); the semi-supervised score is
	// measured when a category has train images.
	Intervals []float64
	// Refs, Proj, SemiProj and Coreset are the score approximations of
	// pipeline.Options (the same fields, the same functions: an eval row
	// and a run with the same options score the patches identically):
	// Refs sampled reference images per image for the unsupervised score
	// (0 = every other), Proj / SemiProj the PCA dimension of the
	// two-stage nearest-patch search (0 = exact), Coreset in (0, 1) the
	// semi-supervised memory bank's greedy coreset fraction (0 = all).
	Refs, Proj, SemiProj int
	Coreset              float64
	// Pooling variants: softmax temperatures, top-k fractions, target
	// effective fractions (alpha.TopK, alpha.EffectiveTemperature).
	Taus, TopK, Effective []float64
	// StdTaus are temperatures applied to standardised scores: "std"
	// against the set's whole score distribution (alpha.Standardize),
	// "img" against each image's own (alpha.StandardizeRows).
	StdTaus []float64
	// Zoom variants are measured for these pools only ("" = none).
	ZoomPools []string
	Zoom      ZoomConfig
	Log       io.Writer
	Progress  io.Writer
	// Descriptor options (descriptor.go): XPools are the image
	// descriptors measured (nil = mean only), Posts the X
	// post-processings (nil = raw, l2, pcaw), KAuto records kselect's K
	// estimate of every row, ConsensusPools adds consensus rows.
	XPools         []xpool.Kind
	Posts          []string
	KAuto          bool
	ConsensusPools []string
	// SilChoicePools adds, for the unsupervised rows of these pools, the
	// row of a silhouette choice against the average (silchoice.go; mode
	// ModeSilChoice).
	SilChoicePools []string
	// Tweak, when not nil, edits each set's pipeline options after the
	// config is applied (tests: a fake backbone, small images).
	Tweak func(o *pipeline.Options)
	// Input is the preprocessing (input size, object crop; input.go).
	Input Input
	// TTA are the test-time augmentations of the patch embeddings to
	// measure (pipeline.Options.TTA; nil = none only). Rows of a variant
	// other than none name it after the backbone ("bb/tta=d4"). With a
	// feature cache the backbone passes of the variant with the most
	// copies serve the others (pipeline.Options.TTAAlso).
	TTA []string
	// Methods are the clustering methods (names in cluster.Methods())
	// every row's X is clustered with, each giving its own row (nil =
	// Ward alone). Unless the list is Ward alone, rows name their method
	// (Result.Method): Option() ends in "method=NAME" and the CSV and
	// table get a method column; with Ward alone the output is that of
	// an eval without methods.
	Methods []string
}

// methods returns the clustering methods of the config (Ward alone by
// default) and whether rows name them.
func (c Config) methods() ([]string, bool) {
	if len(c.Methods) == 0 {
		return []string{cluster.MethodWard}, false
	}
	return c.Methods, len(c.Methods) > 1 || c.Methods[0] != cluster.MethodWard
}

// rowMethods are the values of Result.Method of the config's rows: the
// methods, or "" (Ward, not named) when rows do not name them.
func (c Config) rowMethods() []string {
	ms, named := c.methods()
	if !named {
		return []string{""}
	}
	return ms
}

// checkMethods reports an unknown or repeated clustering method.
func (c Config) checkMethods() error {
	for i, m := range c.Methods {
		if _, err := cluster.LookupMethod(m); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if slices.Contains(c.Methods[:i], m) {
			return fmt.Errorf("eval: cluster method %q listed twice", m)
		}
	}
	return nil
}

// ttaOrder returns the variants in the order to compute them, each with
// the later ones its passes also serve: the variant with the most copies
// first, so that those whose copies it computes are cache hits after it.
func ttaOrder(vs []string) ([]string, map[string][]string, error) {
	if len(vs) == 0 {
		vs = []string{string(tta.None)}
	}
	var parsed []tta.Variant
	for _, s := range vs {
		v, err := tta.Parse(s)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(parsed, v) {
			parsed = append(parsed, v)
		}
	}
	order := slices.Clone(parsed)
	slices.SortStableFunc(order, func(a, b tta.Variant) int { return len(b.Ops()) - len(a.Ops()) })
	also := map[string][]string{}
	done := map[tta.Variant]bool{}
	var names []string
	for _, v := range order {
		names = append(names, string(v))
		if done[v] {
			continue
		}
		for _, w := range order {
			if w == v || done[w] {
				continue
			}
			if sub(w.Ops(), v.Ops()) {
				also[string(v)] = append(also[string(v)], string(w))
				done[w] = true
			}
		}
		done[v] = true
	}
	return names, also, nil
}

// sub reports whether every op of a is in b.
func sub(a, b []tta.Op) bool {
	for _, op := range a {
		if !slices.Contains(b, op) {
			return false
		}
	}
	return true
}

// ttaLabel is the backbone column of a variant's rows.
func ttaLabel(bb, v string) string {
	if tv, _ := tta.Parse(v); tv.IsNone() {
		return bb
	}
	return bb + "/tta=" + v
}

// Result is one row of the ablation: an option on one category.
type Result struct {
	Set, Category, Backbone string
	Mode                    string // unsupervised, semi, average
	Score                   string // e.g. "mean", "r=0.3", "bank"
	Pool                    string // e.g. "tau=2", "topk=0.05", "eff=0.03", "uniform"
	Post                    string // "raw" or "l2": X as is or L2-normalised rows
	Zoom                    string // "-", "crop", "concat"
	N, K                    int
	NMI, ARI, F1            float64
	Seconds                 float64 // scores (shared by the options using them) + weights + X + clustering
	// Label-free evidence (criteria.go): Sil is the silhouette of the
	// row's clusters in its X, Peak the mean top-1% standardised patch
	// score of the score maps it was weighted with (0 for average).
	Sil, Peak float64
	// XPool is the image descriptor ("" or "mean" = METHOD §5's weighted
	// mean); KEst kselect's K estimate on the row's X (0 = not asked).
	XPool string
	KEst  int
	// Method is the clustering method (a cluster.Methods() name), or ""
	// for Ward when Config.Methods is Ward alone (rows then do not name
	// it, and the CSV and table have no method column).
	Method string
	pred   []int // the row's clusters, for the consensus rows
}

// Option names the option of a result, without the set and backbone.
func (r Result) Option() string {
	post := r.Post
	if r.XPool != "" && r.XPool != string(xpool.Mean) {
		post = r.XPool + "/" + r.Post
	}
	parts := []string{r.Mode, r.Score, r.Pool, post, "zoom=" + r.Zoom}
	if r.Method != "" {
		parts = append(parts, "method="+r.Method)
	}
	return strings.Join(parts, " ")
}

// scored is one score variant of a category.
type scored struct {
	mode, name string
	s          *alpha.Scores
	secs       float64
	// pm are the unsupervised pair minima (for zoom crops' own scores).
	r float64
}

// Run measures every option on every set and returns the rows.
func Run(ctx context.Context, c Config) ([]Result, error) {
	log := c.Log
	if log == nil {
		log = io.Discard
	}
	for _, p := range c.Posts {
		if p != "raw" && p != "l2" && p != "pcaw" {
			return nil, fmt.Errorf("eval: X post-processing %q: want raw, l2 or pcaw", p)
		}
	}
	if err := c.checkMethods(); err != nil {
		return nil, err
	}
	var rows []Result
	xs := map[string][][]float32{} // category|option -> L2 X per backbone
	meta := map[string]Result{}
	truth := map[string][]int{} // category -> labels
	var order []string
	variants, also, err := ttaOrder(c.TTA)
	if err != nil {
		return nil, err
	}
	for _, bb := range c.Backbones {
		for _, set := range c.Sets {
			for _, v := range variants {
				o, err := pipeline.Preset(pipeline.PresetMobileNet)
				if err != nil {
					return nil, err
				}
				o.Data, o.Out, o.Categories, o.MaxPerClass = set.Data, "unused", set.Categories, set.MaxPerClass
				o.Backbone, o.Cache, o.Seed, o.Workers = bb, c.Cache, c.Seed, c.Workers
				if len(c.Layers) > 0 {
					o.Layers = c.Layers
				}
				if name, layers, ok := strings.Cut(bb, "@"); ok { // name@tap+tap: this backbone's own taps
					o.Backbone, o.Layers = name, strings.Split(layers, "+")
				}
				if err := c.Input.apply(&o); err != nil {
					return nil, err
				}
				o.TTA = v
				if c.Cache != "" {
					o.TTAAlso = also[v]
				}
				o.Modes = []string{rundir.ModeUnsupervised, rundir.ModeSemi}
				o.SkipSemiWithoutTrain = true
				o.Log, o.Progress = log, c.Progress
				if c.Tweak != nil {
					c.Tweak(&o)
				}
				label := ttaLabel(bb, v)
				t0 := time.Now()
				prep, err := pipeline.Prepare(ctx, o)
				if err != nil {
					return nil, fmt.Errorf("%s on %s: %w", label, set.Name, err)
				}
				fmt.Fprintf(log, "%s %s: features in %.1fs\n", set.Name, label, time.Since(t0).Seconds())
				for _, f := range prep.Categories {
					rs, es, err := runCategory(ctx, c, set, label, prep, f, o)
					if err != nil {
						return nil, fmt.Errorf("%s/%s with %s: %w", set.Name, f.Name, label, err)
					}
					rows = append(rows, rs...)
					for _, r := range rs {
						fmt.Fprintf(log, "row %s/%s %s %s: NMI %.3f ARI %.3f F1 %.3f (%.1fs)\n", r.Set, r.Category, r.Backbone, r.Option(), r.NMI, r.ARI, r.F1, r.Seconds)
					}
					cat := set.Name + "/" + f.Name
					truth[cat] = f.Truth
					for k, r := range rs {
						if es[k] == nil {
							continue
						}
						key := v + "|" + cat + "|" + r.Option()
						if _, ok := xs[key]; !ok {
							order = append(order, key)
						}
						xs[key] = append(xs[key], es[k])
						meta[key] = r
					}
				}
			}
		}
	}
	cons, err := consensusRows(c, rows, truth)
	if err != nil {
		return nil, err
	}
	rows = append(rows, cons...)
	rows = append(rows, silChoiceRows(c, rows)...)
	if len(c.Backbones) < 2 {
		return rows, nil
	}
	for _, key := range order {
		parts := xs[key]
		if len(parts) != len(c.Backbones) {
			continue
		}
		r := meta[key]
		v, rest, _ := strings.Cut(key, "|")
		cat := rest[:strings.Index(rest, "|")]
		name := ttaLabel(strings.Join(c.Backbones, "+"), v)
		n := len(truth[cat])
		d := 0
		for _, p := range parts {
			d += len(p) / n
		}
		x := make([]float32, 0, n*d)
		for i := 0; i < n; i++ {
			for _, p := range parts {
				w := len(p) / n
				x = append(x, p[i*w:(i+1)*w]...)
			}
		}
		t0 := time.Now()
		sc, pred, err := c.clusterScore(r.Method, x, n, d, r.K, truth[cat])
		if err != nil {
			return nil, err
		}
		r.Sil = silhouette(x, n, d, pred)
		r.pred = pred
		if r.KEst, err = c.kEstimate(x, n, d, r.Method); err != nil {
			return nil, err
		}
		r.Backbone = name
		r.NMI, r.ARI, r.F1 = sc.NMI, sc.ARI, sc.F1
		r.Seconds = time.Since(t0).Seconds()
		rows = append(rows, r)
	}
	return rows, nil
}

// clusterScore clusters X into k clusters with the method ("" = Ward;
// seeded with c.Seed) and scores them.
func (c Config) clusterScore(method string, x []float32, n, d, k int, truth []int) (metrics.Scores, []int, error) {
	var pred []int
	var err error
	if method == "" || method == cluster.MethodWard {
		pred, _, err = cluster.WardLabels(x, n, d, k)
	} else {
		var m cluster.Method
		if m, err = cluster.LookupMethod(method); err == nil {
			pred, _, err = m.Cluster(x, n, d, k, cluster.MethodOptions{Seed: c.Seed, Workers: c.Workers})
		}
	}
	if err != nil {
		return metrics.Scores{}, nil, err
	}
	sc, err := metrics.Evaluate(truth, pred)
	return sc, pred, err
}

// l2Rows returns a copy of the (n x d) rows of x scaled to unit length.
func l2Rows(x []float32, n, d int) []float32 {
	out := make([]float32, len(x))
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(max(s, 1e-30))
		for j, v := range row {
			out[i*d+j] = float32(float64(v) * inv)
		}
	}
	return out
}

// pools lists the pooling variants of the config with their weights.
type pool struct {
	name    string
	weights func(s *alpha.Scores) ([]float64, error)
}

func (c Config) pools() []pool {
	var ps []pool
	for _, t := range c.Taus {
		ps = append(ps, pool{fmt.Sprintf("tau=%g", t), func(s *alpha.Scores) ([]float64, error) { return alpha.Alpha(s, t) }})
	}
	for _, t := range c.StdTaus {
		ps = append(ps, pool{fmt.Sprintf("std-tau=%g", t), func(s *alpha.Scores) ([]float64, error) { return alpha.Alpha(alpha.Standardize(s, s), t) }})
		ps = append(ps, pool{fmt.Sprintf("img-tau=%g", t), func(s *alpha.Scores) ([]float64, error) { return alpha.Alpha(alpha.StandardizeRows(s), t) }})
	}
	for _, f := range c.TopK {
		ps = append(ps, pool{fmt.Sprintf("topk=%g", f), func(s *alpha.Scores) ([]float64, error) { return alpha.TopK(s, f) }})
	}
	for _, f := range c.Effective {
		ps = append(ps, pool{fmt.Sprintf("eff=%g", f), func(s *alpha.Scores) ([]float64, error) { return alpha.EffectiveTemperature(s, f) }})
	}
	return ps
}

// runCategory measures every option on one category; the second result
// holds, for each row, its L2-normalised X (nil for rows not to concatenate).
func runCategory(ctx context.Context, c Config, set Set, bb string, prep *pipeline.Prepared, f pipeline.Features, o pipeline.Options) ([]Result, [][]float32, error) {
	log := c.Log
	if log == nil {
		log = io.Discard
	}
	N, M := len(f.Z), f.Z[0].Shape[0]
	D := f.Z[0].Shape[1]
	base := Result{Set: set.Name, Category: f.Name, Backbone: bb, N: N, K: f.K, Zoom: "-"}
	var rows []Result
	var xs [][]float32
	emit := func(r Result, x []float32, d int, t0 time.Time, extra float64) error {
		for _, post := range c.posts() {
			xx, dd := x, d
			switch post {
			case "l2":
				xx = l2Rows(x, N, d)
			case "pcaw":
				var err error
				if xx, dd, err = pcaWhiten(x, N, d); err != nil {
					return err
				}
			}
			// A row's seconds leave out the other methods' clustering.
			var others time.Duration
			for _, m := range c.rowMethods() {
				tm := time.Now()
				var err error
				if r.KEst, err = c.kEstimate(xx, N, dd, m); err != nil {
					return err
				}
				sc, pred, err := c.clusterScore(m, xx, N, dd, f.K, f.Truth)
				if err != nil {
					return err
				}
				r.Method, r.pred = m, pred
				r.Post, r.NMI, r.ARI, r.F1 = post, sc.NMI, sc.ARI, sc.F1
				r.Sil = silhouette(xx, N, dd, pred)
				r.Seconds = extra + (time.Since(t0) - others).Seconds()
				others += time.Since(tm)
				rows = append(rows, r)
				if post == "l2" {
					xs = append(xs, xx)
				} else {
					xs = append(xs, nil)
				}
			}
		}
		return nil
	}
	base0 := alpha.Options{Workers: c.Workers, Seed: c.Seed, Done: ctx.Done()}
	var variants []scored
	if len(c.Intervals) > 0 {
		t0 := time.Now()
		pm, err := alpha.PairMinimaFrom(alpha.Tensors(f.ZRef), 0, N, c.unsupervisedOptions(base0))
		if err != nil {
			return nil, nil, err
		}
		pmSecs := time.Since(t0).Seconds()
		fmt.Fprintf(log, "%s/%s %s: unsupervised pair minima (%d x %d images) in %.1fs\n", set.Name, f.Name, bb, N, len(f.ZRef), pmSecs)
		for _, r := range c.Intervals {
			t1 := time.Now()
			s, err := alpha.IntervalScores(pm, r)
			if err != nil {
				return nil, nil, err
			}
			name := fmt.Sprintf("r=%g", r)
			if r == 1 {
				name = "mean"
			}
			variants = append(variants, scored{mode: rundir.ModeUnsupervised, name: name, s: s, r: r, secs: pmSecs + time.Since(t1).Seconds()})
		}
	}
	if f.Bank != nil {
		t0 := time.Now()
		semi := alpha.ScaleOptions{Options: base0, Proj: c.SemiProj}
		semi.Coreset = c.Coreset
		s, err := alpha.SemiFrom(alpha.Tensors(f.Z), 0, N, alpha.Tensors(f.Bank), semi)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(log, "%s/%s %s: semi-supervised scores in %.1fs\n", set.Name, f.Name, bb, time.Since(t0).Seconds())
		variants = append(variants, scored{mode: rundir.ModeSemi, name: "bank", s: s, secs: time.Since(t0).Seconds()})
	}
	// Average: uniform weights.
	{
		for _, kind := range c.xpools() {
			t0 := time.Now()
			x, err := xpool.Embed(alpha.Tensors(f.Z), [][]float64{uniform(N, M)}, kind, base0)
			if err != nil {
				return nil, nil, err
			}
			r := base
			r.Mode, r.Score, r.Pool, r.XPool = rundir.ModeAverage, "-", "uniform", string(kind)
			if err := emit(r, x[0].Data, kind.Dim(D), t0, 0); err != nil {
				return nil, nil, err
			}
		}
	}
	pools := c.pools()
	for _, v := range variants {
		for _, p := range pools {
			t0 := time.Now()
			a, err := p.weights(v.s)
			if err != nil {
				return nil, nil, err
			}
			x, err := alpha.ImageEmbeddings(f.Z, a)
			if err != nil {
				return nil, nil, err
			}
			r := base
			r.Mode, r.Score, r.Pool, r.Peak = v.mode, v.name, p.name, peak(v.s)
			wsecs := time.Since(t0).Seconds() // weights and the mean X
			for _, kind := range c.xpools() {
				xk, tk := x, time.Now()
				if kind != xpool.Mean {
					xx, err := xpool.Embed(alpha.Tensors(f.Z), [][]float64{a}, kind, base0)
					if err != nil {
						return nil, nil, err
					}
					xk = xx[0]
				}
				r.XPool = string(kind)
				if err := emit(r, xk.Data, kind.Dim(D), tk, v.secs+wsecs); err != nil {
					return nil, nil, err
				}
			}
			r.XPool = string(xpool.Mean)
			for _, zp := range c.ZoomPools {
				if zp != p.name {
					continue
				}
				zr, err := zoomRows(ctx, c, prep, f, v, p, x.Data, D)
				if err != nil {
					return nil, nil, err
				}
				for _, z := range zr {
					rr := r
					rr.Zoom = z.name
					if err := emit(rr, z.x, z.d, time.Now(), v.secs+z.secs); err != nil {
						return nil, nil, err
					}
				}
			}
		}
	}
	return rows, xs, nil
}

// unsupervisedOptions are the unsupervised score's approximations, as the
// pipeline sets them for the same options.
func (c Config) unsupervisedOptions(o alpha.Options) alpha.ScaleOptions {
	return alpha.ScaleOptions{Options: o, Refs: c.Refs, Proj: c.Proj}
}

// uniform returns equal weights 1/m for n images of m patches.
func uniform(n, m int) []float64 {
	a := make([]float64, n*m)
	for k := range a {
		a[k] = 1 / float64(m)
	}
	return a
}
