package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tta"
	"github.com/anomclust/anomclust/xpool"
)

// The settings Options.PerCategory (the auto preset) may fix per category;
// a name in Options.Fixed keeps the caller's value for every category.
// They are the run flags' names.
const (
	FixAlign    = "object-align"   // ObjectAlign (and ObjectAuto)
	FixInterval = "score-interval" // ScoreInterval
	FixTau      = "tau"            // the recommended unsupervised tau
	FixXPool    = "x-pool"         // XPool
	FixLayers   = "layers"         // Layers (also fixed by --backbone and --weights: one net and its taps for all)
	FixTTA      = "tta"            // TTA
	FixCluster  = "cluster"        // Cluster
)

// autoLayers are the auto preset's backbone taps; a categoryConfig's own
// layers replace them only when the run has these (MobileNet's
// stride8+stride16, not another backbone's or the caller's taps).
var autoLayers = []string{"stride8", "stride16"}

// autoBackbone is the auto preset's backbone; a categoryConfig's own
// backbone replaces it only when the run has this one from the registry
// (not --backbone, --layers or --weights given: FixLayers), or a
// CategoryNet stands in for it (tests).
const autoBackbone = "mobilenet_v2"

// categoryConfig is what the auto preset sets for a category of one
// kind.
type categoryConfig struct {
	kind     string  // rundir.KindObject or rundir.KindTexture
	align    bool    // Options.ObjectAlign
	interval float64 // Options.ScoreInterval, MuSc's r of the unsupervised score (1 = plain mean)
	tauUnsup float64 // recommended unsupervised tau (std-tau: set-std weighting)
	xPool    xpool.Kind
	// layers replace the run's taps when those are autoLayers (nil: keep).
	layers []string
	// tta is the test-time augmentation of Z (Options.TTA; "" = none).
	tta tta.Variant
	// placement is assign's rule (Options.Placement): textures' X places
	// new images better in its own metric (Euclidean Ward cost), parts'
	// with the features standardised (docs/QUALITY.md, "Assign").
	placement string
	// cluster is the clustering method (Options.Cluster).
	cluster string
	// backbone replaces the run's when that is autoBackbone ("": keep):
	// a second net, opened for the categories of this kind only.
	backbone string
}

// categoryConfigs maps the object gate's decision (objectGate: one part
// on a plain background, or not) to the auto preset's settings, measured
// on ../shared/data (docs/QUALITY.md, "The recommended default"; mean
// NMI over seeds 0, 1, 2): parts are aligned and scored with MuSc's
// interval r = 0.3, weighted sharply (unsupervised std-tau 0.15) and
// described by the weighted mean + weighted std (metal_nut 0.492 -> 0.585,
// screw unsupervised 0.428 -> 0.515, semi 0.683 -> 0.70; std-tau 0.125
// gives the same, 0.1 falls off) and each patch averaged over the part's
// four turns (rot4: metal_nut 0.662, screw semi 0.745, unsupervised
// 0.416; docs/QUALITY.md, "MobileNet V1 for the textures"); other
// categories keep whole images,
// plain mean scores at std-tau 1, add the stride32 tap and the d4-max
// augmentation (neu, xsdd, deeppcb 0.970, 0.872, 0.412), are described by
// the weighted mean + weighted std and clustered spectrally (0.979, 0.881,
// 0.425; docs/QUALITY.md, "Spectral clustering"), and run on MobileNet V1
// with the unsupervised result recommended, where V2 recommended the
// average one when its silhouette was higher (0.966, 0.881, 0.483; seeds
// 3 and 4, held out: 0.778 and 0.778 in the mean of the three sets
// against 0.779 and 0.754; docs/QUALITY.md, "MobileNet V1 for the
// textures"). The semi tau is 0.5 in both (the preset's RecommendTau);
// every tau is one of the preset's Taus.
var categoryConfigs = map[bool]categoryConfig{
	true: {kind: rundir.KindObject, align: true, interval: 0.3, tauUnsup: 0.15, xPool: xpool.MeanStd, placement: model.RuleWardStd,
		cluster: cluster.MethodWard, tta: tta.Rot4},
	false: {kind: rundir.KindTexture, align: false, interval: 1, tauUnsup: 1, xPool: xpool.MeanStd,
		layers: []string{"stride8", "stride16", "stride32"}, tta: tta.D4Max, placement: model.RuleMembers, cluster: cluster.MethodSpectral,
		backbone: "mobilenet_v1"},
}

// chooseCategory returns the options and extractor one category runs
// with, and fills info's record of the choice. Without PerCategory it is
// the --object-auto gate alone (gateCategory) and o itself; with it the
// gate's decision picks a categoryConfig whose settings replace o's,
// except those named in o.Fixed. known is the gate's result when it was
// taken before (a sharded run's embed stage stores it); nil runs the gate
// on paths.
func chooseCategory(ctx context.Context, o *Options, ex *extractor, name string, paths []string, known *gateResult, info *rundir.Category) (*Options, *extractor, error) {
	if !o.PerCategory {
		ex, aligned, err := gateCategory(ctx, o, ex, name, paths, known)
		info.ObjectAlign = aligned
		info.Placement = o.Placement
		return o, ex, err
	}
	g, err := gateOf(ctx, name, paths, ex.pre.Grey16, known)
	if err != nil {
		return nil, nil, err
	}
	co, choice := categoryOptions(o, g)
	info.Choice = choice
	info.ObjectAlign = co.ObjectAlign
	info.XPool, info.ScoreInterval = co.XPool, intervalOf(co)
	info.Placement = co.Placement
	if !slices.Equal(co.Layers, o.Layers) {
		info.Layers = slices.Clone(co.Layers)
	}
	if ttaName(co.TTA) != ttaName(o.TTA) {
		info.TTA = ttaName(co.TTA)
	}
	if co.Cluster != o.Cluster {
		info.Cluster = co.Cluster
	}
	if co.Backbone != o.Backbone || co.NetID != o.NetID { // categoryConfig.backbone
		if ex, err = ex.withNet(ctx, name, co); err != nil {
			return nil, nil, err
		}
		n := ex.net
		info.Backbone = &rundir.Backbone{Name: n.bb.Name(), WeightsFile: n.file, WeightsSHA256: n.sha256, Random: n.random}
		if n.sha256 == "" { // given in memory (CategoryNet): its NetID
			info.Backbone.ID = n.id
		}
	}
	if !slices.Equal(co.Layers, ex.opt.Layers) {
		if ex, err = ex.withLayers(co.Layers); err != nil {
			return nil, nil, err
		}
	}
	if ttaName(co.TTA) != ttaName(ex.opt.TTA) {
		if ex, err = ex.withTTA(co.TTA); err != nil {
			return nil, nil, err
		}
	}
	if co.ObjectAlign && !ex.pre.ObjectAlign {
		if ex, err = ex.withObjectAlign(); err != nil {
			return nil, nil, err
		}
	}
	fmt.Fprintf(ex.log, "%s: %s -> treated as %s: %s; recommended unsupervised tau %g\n",
		name, info.Choice.Why, info.Choice.KindWords(), info.ChoiceSettings(), recommendedTau(co, rundir.ModeUnsupervised))
	return co, ex, nil
}

// categoryOptions are the options of a category whose gate decided g:
// o itself without PerCategory (then only --object-auto follows the
// gate), else o with the categoryConfig of g's kind applied, except the
// settings named in o.Fixed; and run.json's record of the choice (nil
// without PerCategory).
func categoryOptions(o *Options, g gateResult) (*Options, *rundir.CategoryChoice) {
	co := *o
	if !o.PerCategory {
		if o.ObjectAuto && !o.ObjectAlign {
			co.ObjectAlign = g.object
		}
		return &co, nil
	}
	c := categoryConfigs[g.object]
	c.apply(&co)
	if slices.Contains(o.Fixed, FixAlign) && o.ObjectAuto && !o.ObjectAlign {
		co.ObjectAlign = g.object // --object-auto: the same gate
	}
	choice := &rundir.CategoryChoice{Kind: c.kind, Found: g.found, Fixed: slices.Clone(o.Fixed), Why: gateWhy(g.object, g.found, g.cv)}
	if !math.IsInf(g.cv, 0) && !math.IsNaN(g.cv) {
		cv := g.cv
		choice.AreaCV = &cv
	}
	return &co, choice
}

// apply sets c's settings in o, except those named in o.Fixed.
func (c categoryConfig) apply(o *Options) {
	fixed := func(s string) bool { return slices.Contains(o.Fixed, s) }
	if !fixed(FixAlign) {
		o.ObjectAlign = c.align
	}
	if !fixed(FixInterval) {
		o.ScoreInterval = c.interval
	}
	if !fixed(FixXPool) {
		o.XPool = string(c.xPool)
	}
	if !fixed(FixTau) {
		t := c.tauUnsup
		o.RecommendTauUnsupervised = &t
	}
	if !fixed(FixTTA) {
		o.TTA = string(c.tta)
	}
	o.Placement = c.placement
	if !fixed(FixCluster) {
		o.Cluster = c.cluster
	}
	if c.layers != nil && !fixed(FixLayers) && slices.Equal(o.Layers, autoLayers) {
		o.Layers = slices.Clone(c.layers)
	}
	if c.backbone != "" && !fixed(FixLayers) && o.Weights == "" {
		switch {
		case o.CategoryNet != nil: // in memory (tests), as Net
			o.Backbone, o.Net, o.NetID = c.backbone, o.CategoryNet, o.CategoryNetID
		case o.Net == nil && o.Backbone == autoBackbone:
			o.Backbone = c.backbone
		}
	}
}

// netLayers are the taps the run's backbone must be able to give: o's
// and, with PerCategory, those any categoryConfig may replace them with
// (the net builds only the operators its taps need).
func netLayers(o *Options) []string {
	ls := slices.Clone(o.Layers)
	if !o.PerCategory {
		return ls
	}
	for _, object := range []bool{true, false} {
		co := *o
		categoryConfigs[object].apply(&co)
		for _, l := range co.Layers {
			if !slices.Contains(ls, l) {
				ls = append(ls, l)
			}
		}
	}
	return ls
}

// ttaName is the canonical name of a test-time augmentation ("" is
// "none").
func ttaName(v string) string {
	if v == "" {
		return string(tta.None)
	}
	return v
}

// gateWhy is run.json's and the log's account of a gate decision.
func gateWhy(object bool, found, cv float64) string {
	verdict := fmt.Sprintf("not one part on a plain background (needs found >= %.0f%% and area CV <= %.2f)", 100*gateFound, gateCV)
	if object {
		verdict = "one part on a plain background"
	}
	return fmt.Sprintf("object gate: part found in %.0f%% of the sampled images, area CV %.2f: %s", 100*found, cv, verdict)
}

// intervalOf is the MuSc interval fraction of the unsupervised score
// (Options.ScoreInterval; 0 means 1, the plain mean).
func intervalOf(o *Options) float64 {
	if o.ScoreInterval <= 0 {
		return 1
	}
	return o.ScoreInterval
}
