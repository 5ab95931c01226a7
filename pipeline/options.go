package pipeline

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/weights"
	"github.com/anomclust/anomclust/xpool"
)

// Cluster methods (docs/METHOD.md §5); the table of methods is in package
// cluster (cluster.Methods, cluster.RegisterMethod).
const (
	ClusterWard     = cluster.MethodWard     // agglomerative, Ward linkage (sklearn's defaults)
	ClusterKMeans   = cluster.MethodKMeans   // k-means++, 10 restarts, seeded
	ClusterSpectral = cluster.MethodSpectral // normalised spectral clustering on a self-tuning kNN graph
)

// Options are every setting of a run. Preset fills the method's settings;
// the caller adds the data, output and anything it overrides.
type Options struct {
	Data       string   // data folder: MVTec root, category folder, class-per-folder or unlabelled images
	Out        string   // output folder (created; see Force)
	Categories []string // categories to run, in this order; empty = all

	// Input, labels and run-folder options (inputs.go).
	Labels   string // dataset.LabelsAuto (""), LabelsNone, LabelsFolders, LabelsMVTec
	Normal   string // folder of defect-free images: the semi-supervised bank, for any layout
	Manifest string // CSV list of images instead of Data (dataset.OpenManifest)
	SkipBad  bool   // leave unreadable images out (listed in run.json) instead of failing
	Force    bool   // replace an earlier run in Out (never a folder that is not a run)

	Preset   string // name of the preset the settings came from (recorded only)
	Backbone string // registry name (package zoo / weights)
	// Weights is an explicit weights file; "" lets the weights store find it
	// (ANOMCLUST_WEIGHTS_PATH, the cache) or download it.
	Weights string

	Layers      []string // backbone taps, first one fixes the patch grid
	PretrainDim int      // PatchCore's pretrain_embed_dimension
	TargetDim   int      // D, PatchCore's target_embed_dimension
	PatchSize   int      // neighbourhood side of the patch aggregation (3)
	ImageSize   int      // centre-crop side in pixels (224)
	Resize      int      // short side before the crop in pixels (256)
	LayerNorm   bool     // the seed's per-map LayerNorm quirk (docs/METHOD.md §2)
	// ObjectCrop crops each image to the square around its foreground
	// object before the resize (preprocess.ObjectBox; off by default).
	ObjectCrop bool
	// ObjectAlign turns an elongated part to one canonical pose, then
	// crops it (preprocess.AlignObject; off by default).
	ObjectAlign bool
	// TTA is the test-time augmentation of the patch embeddings (package
	// tta: "" or "none", "flip", "rot4", "d4", "-max" variants): the
	// backbone also runs on the mirrored / turned copies of each square
	// input and Z is their mean per patch and component (their maximum for
	// the "-max" variants), mapped back onto the input's grid. It changes Z (feature cache key) and costs one backbone pass
	// per copy.
	TTA string
	// Placement is the rule `assign` places new images in a category's
	// clusters by, recorded in run.json per category (model.RuleWardStd,
	// model.RuleWard, model.RuleMembers; "" = ward-std). The auto preset's
	// texture configuration sets members (its clusters are spectral's).
	Placement string
	// TTAAlso (eval) are further variants whose Z are stored in the
	// feature cache from the same backbone passes as TTA's (their copies
	// must be among TTA's), so that measuring several costs the passes of
	// the largest once.
	TTAAlso []string
	// ObjectAuto turns ObjectAlign on per category when the object gate
	// finds one part on a plain background in its images (objectgate.go);
	// run.json's category records the decision (object_align).
	ObjectAuto bool
	// PerCategory (the auto preset) chooses the alignment, the
	// unsupervised ScoreInterval, the recommended unsupervised tau and the
	// XPool of each category from the object gate's decision
	// (categoryConfigs, autocat.go); run.json's category records the
	// choice. Fixed names the settings (FixAlign, FixInterval, FixTau,
	// FixXPool, FixLayers, FixTTA, FixCluster) the caller gave explicitly: they are kept as given.
	PerCategory bool
	Fixed       []string

	// Modes are rundir.ModeUnsupervised, ModeSemi, ModeAverage. The
	// unsupervised score of a clustered image is its mean distance to
	// every other TEST image of the category (docs/METHOD.md §4): the combined
	// images, and the good ones under DefectsOnly, are not clustered but
	// still act as other images (run.json: reference_only).
	Modes []string
	Taus  []float64 // temperatures; the average mode ignores them
	// Weighting turns scores into weights per tau: WeightSoftmax (""),
	// WeightImageStd.
	Weighting string
	// NormalizeX L2-normalises each image embedding before clustering.
	NormalizeX bool
	// XPool is the image descriptor built from the weighted patches
	// (package xpool; "" = xpool.Mean, METHOD §5's weighted mean).
	XPool string
	// ScoreInterval is MuSc's interval fraction r in (0, 1] of the
	// unsupervised score (alpha.IntervalScores): each patch's score is the
	// mean of its lowest r of distances to the reference images. 0 or 1 =
	// the plain mean.
	ScoreInterval float64
	// RecommendTau is the temperature summary.csv marks as recommended
	// (with the mode: semi when a category has train images, else
	// unsupervised); nil means the one of Taus nearest to 2.
	RecommendTau *float64
	// RecommendTauUnsupervised, when not nil, replaces RecommendTau for
	// categories whose recommended mode is unsupervised (no train images).
	RecommendTauUnsupervised *float64
	// TrainRatio is the number of train/good images in the semi-supervised
	// memory bank as a fraction of the number of test images (the seed's
	// int(train_ratio * N)).
	TrainRatio float64
	// Coreset in (0, 1) subsamples the memory bank (PatchCore's greedy
	// coreset); 0 keeps every patch.
	Coreset float64
	// CoresetExact selects the coreset with the plain sequential greedy
	// search instead of the blocked GEMM one (alpha.CoresetBlocked).
	CoresetExact bool
	// Refs is the number of reference images each image's unsupervised
	// score is a mean over: a seeded sample of the other images (an
	// unbiased estimate of the mean over all). 0 = every other image
	// (exact, O(N²)); at least N-1 is exact too.
	Refs int
	// Proj > 0 makes the unsupervised nearest-patch search two-stage:
	// candidates from a Proj-dimensional PCA projection, exact distances
	// for them only. SemiProj does the same for the semi-supervised
	// memory bank. 0 (or >= D) = exact distances.
	Proj, SemiProj int
	// SkipSemiWithoutTrain skips the semi-supervised mode, with a note, for
	// categories without train/good images (class-per-folder sets) instead
	// of failing; set it when all modes were asked for.
	SkipSemiWithoutTrain bool

	Cluster string // a name in cluster.Methods(): ClusterWard, ClusterKMeans, ClusterSpectral
	K       int    // clusters; 0 = number of labels of the category (estimated when it has none)
	// KAuto estimates K from X for every result (package kselect) within
	// KMin..KMax (0: kselect's defaults 2..15), labels or not.
	KAuto      bool
	KMin, KMax int
	// ExportClusters writes each result's clusters/ folder (hard links).
	ExportClusters bool
	Seed           uint64 // seeds the bank pick, the subsampling, the coreset and k-means
	// DefectsOnly drops the good images from the clustered set (they stay
	// in the unsupervised score's reference set, see Modes).
	DefectsOnly bool
	// MaxPerClass, when > 0, keeps at most that many images per label,
	// picked with a seeded RNG (for big class-per-folder sets: the
	// unsupervised score costs O(N²)). The unsupervised reference set is
	// capped the same way (the same pick for the clustered labels, at most
	// MaxPerClass combined images and, under DefectsOnly, good ones), so
	// the cap bounds its cost too.
	MaxPerClass int

	// Cache is the feature cache root; "" disables the cache. It also
	// holds the patch score cache (scores/), and with a cache the patch
	// embeddings are streamed from it instead of held in memory.
	Cache string
	// CacheMax > 0 caps the cache root's size in bytes: after the run the
	// least recently used entries are removed (never the run's own).
	CacheMax int64
	// Batch is the number of images per backbone forward pass (memory grows
	// with it); 0 means 8.
	Batch int
	// Workers bounds the goroutines of the score computations; 0 = GOMAXPROCS.
	Workers int

	// Net, when not nil, is used instead of building Backbone from its
	// weights (tests, or callers holding a model already). NetID then
	// identifies its weights in the feature cache key and in run.json; it
	// must change whenever the weights do. Without a NetID the feature
	// cache is not used (two Nets of one Name would share entries).
	// NetRandom records in run.json that Net has random weights.
	Net       backbone.Backbone
	NetID     string
	NetRandom bool
	// CategoryNet and CategoryNetID stand in, as Net and NetID do, for the
	// backbone the auto preset's texture configuration opens for its
	// categories (categoryConfig.backbone); with Net set and CategoryNet
	// nil, texture categories keep Net.
	CategoryNet   backbone.Backbone
	CategoryNetID string
	// Store finds and downloads weight files; nil means weights.NewStore().
	Store *weights.Store

	// Progress receives progress bars (feature extraction, scores); nil for
	// none. Log receives one-line notes; nil for none.
	Progress io.Writer
	Log      io.Writer
	// Version is the tool version recorded in run.json.
	Version string
	// Command is the command line recorded in run.json.
	Command []string
	// Report is recorded in run.json: the caller writes the HTML report
	// (package report) after Run.
	Report bool

	// Set by Run from the data set (inputs.go).
	in inputState
}

// Preset names.
const (
	PresetAuto      = "auto"      // the default: label-free choices measured on ../shared/data (docs/QUALITY.md)
	PresetMobileNet = "mobilenet" // the method as published, on a laptop CPU
	PresetSeed      = "seed"      // the public DINO re-implementation's settings
	PresetPatchCore = "patchcore" // PatchCore's WideResNet-50 settings
)

// The default score approximations of every preset (Options.Refs, Proj,
// SemiProj); Options{Refs: 0, Proj: 0, SemiProj: 0} is exact.
const (
	DefaultRefs = 32
	DefaultProj = 64
)

// Presets lists the preset names.
func Presets() []string { return []string{PresetAuto, PresetMobileNet, PresetPatchCore, PresetSeed} }

// SeedTaus is the seed's tau sweep (docs/METHOD.md §4).
func SeedTaus() []float64 {
	return []float64{0, 0.2, 0.4, 0.6, 0.8, 1, 1.5, 2, 2.5, 3, 4, 8, 10, 12, 14, 18, 20}
}

// Preset returns the method settings of a named preset ("" is the default,
// PresetAuto):
//   - auto: mobilenet's backbone and taps with the label-free score and
//     weighting choices measured with anomclust eval (autoScoring,
//     docs/QUALITY.md): one setting per mode, no tau to pick by hand;
//     per category (PerCategory) the object gate picks the alignment,
//     score interval, unsupervised tau and X descriptor (categoryConfigs);
//     parts also get the rot4 augmentation, texture categories the
//     stride32 tap, the d4-max augmentation, spectral clustering and
//     their own backbone, MobileNet V1 (a second net, opened for them
//     only).
//   - mobilenet: mobilenet_v2 (int8 TFLite, weights from ANOMCLUST_WEIGHTS_PATH
//     or downloaded), taps stride8 and stride16 (28x28 and 14x14 at 224),
//     1024/1024, no LayerNorm, tau 0,1,2: the method as published, on a
//     3.6 MB file that runs on two cores in minutes.
//   - patchcore: wide_resnet50_2, layer2 and layer3, 1024/1024, no LayerNorm.
//   - seed: dino_vitb8, blocks.10 and blocks.11, 2048/4096, LayerNorm quirk
//     on, the seed's 17 temperatures.
//
// Common to all: patch size 3, Resize(256) + CenterCrop(224), every mode,
// train ratio 1, Ward, K = number of labels, seed 0, batch 8, and the
// score approximations DefaultRefs and DefaultProj.
func Preset(name string) (Options, error) {
	o := Options{
		PatchSize: 3, ImageSize: 224, Resize: 256,
		Modes:      rundir.Modes(),
		Taus:       []float64{0, 1, 2},
		TrainRatio: 1, Cluster: ClusterWard, Batch: 8,
		// Sub-quadratic scores (issue 13's ablation, README): 32 sampled
		// reference images, two-stage search on a 64-dim PCA.
		Refs: DefaultRefs, Proj: DefaultProj, SemiProj: DefaultProj,
	}
	switch name {
	case "", PresetAuto:
		o.Preset = PresetAuto
		o.Backbone = "mobilenet_v2"
		o.Layers = []string{"stride8", "stride16"}
		o.PretrainDim, o.TargetDim = 1024, 1024
		autoScoring(&o)
		o.PerCategory = true
	case PresetMobileNet:
		o.Preset = PresetMobileNet
		o.Backbone = "mobilenet_v2"
		o.Layers = []string{"stride8", "stride16"}
		o.PretrainDim, o.TargetDim = 1024, 1024
	case PresetPatchCore:
		o.Preset = name
		o.Backbone = "wide_resnet50_2"
		o.Layers = []string{"layer2", "layer3"}
		o.PretrainDim, o.TargetDim = 1024, 1024
	case PresetSeed:
		o.Preset = name
		o.Backbone = "dino_vitb8"
		o.Layers = []string{"blocks.10", "blocks.11"}
		o.PretrainDim, o.TargetDim = 2048, 4096
		o.LayerNorm = true
		o.Taus = SeedTaus()
	default:
		return Options{}, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(Presets(), ", "))
	}
	return o, nil
}

// Errors a caller may test for with errors.Is.
var (
	// ErrKTooLarge: more clusters asked for than images to cluster.
	ErrKTooLarge = errors.New("more clusters than images")
	// ErrUnknownLayer: a layer name the backbone does not have.
	ErrUnknownLayer = errors.New("unknown layer")
	// ErrUnknownBackbone: a backbone name not in the registry.
	ErrUnknownBackbone = errors.New("unknown backbone")
	// ErrNoTrain: the semi-supervised mode on a category without train/good
	// images.
	ErrNoTrain = errors.New("no train/good images for the semi-supervised mode")
)

// validate checks the settings that do not need the data or the backbone.
func (o *Options) validate() error {
	if o.Data == "" && o.Manifest == "" {
		return errors.New("no data folder given")
	}
	if o.Data != "" && o.Manifest != "" {
		return errors.New("a data folder and a manifest given: the manifest's folder is the data root, give one of them")
	}
	if err := o.checkBounds(); err != nil {
		return err
	}
	if o.Out == "" {
		return errors.New("no output folder given")
	}
	if o.Net == nil && o.Backbone == "" {
		return errors.New("no backbone given")
	}
	if len(o.Layers) == 0 {
		return errors.New("no layers given")
	}
	if o.PretrainDim <= 0 || o.TargetDim <= 0 {
		return fmt.Errorf("pretrain dim %d and target dim %d must be positive", o.PretrainDim, o.TargetDim)
	}
	if o.PatchSize <= 0 {
		return fmt.Errorf("patch size %d must be positive", o.PatchSize)
	}
	if o.ImageSize <= 0 || o.Resize < o.ImageSize {
		return fmt.Errorf("image size %d and resize %d: want 0 < image size <= resize", o.ImageSize, o.Resize)
	}
	if len(o.Modes) == 0 {
		return errors.New("no weighting mode given")
	}
	for i, m := range o.Modes {
		if !rundir.Mode(m).Known() {
			return fmt.Errorf("unknown mode %q (known: %s, or all)", m, strings.Join(rundir.Modes(), ", "))
		}
		// A repeat would write its result folders twice and double its
		// summary rows.
		if slices.Contains(o.Modes[:i], m) {
			return fmt.Errorf("mode %q given twice", m)
		}
	}
	needTau := slices.ContainsFunc(o.Modes, func(m string) bool { return rundir.Mode(m).HasTau() })
	if needTau && len(o.Taus) == 0 {
		return errors.New("no temperature tau given")
	}
	for i, t := range o.Taus {
		if t < 0 || math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("tau %v: want a finite value >= 0", t)
		}
		for _, u := range o.Taus[:i] {
			if rundir.TauName(u) == rundir.TauName(t) {
				return fmt.Errorf("tau %s given twice (one result folder per tau)", rundir.TauName(t))
			}
		}
	}
	if o.TrainRatio <= 0 || math.IsNaN(o.TrainRatio) {
		return fmt.Errorf("train ratio %v must be > 0", o.TrainRatio)
	}
	if o.Coreset < 0 || o.Coreset > 1 {
		return fmt.Errorf("coreset fraction %v not in [0, 1]", o.Coreset)
	}
	if !(o.ScoreInterval >= 0 && o.ScoreInterval <= 1) {
		return fmt.Errorf("score interval %v: want a fraction in (0, 1] (0 = 1, the plain mean)", o.ScoreInterval)
	}
	for _, f := range o.Fixed {
		if !slices.Contains([]string{FixAlign, FixInterval, FixTau, FixXPool, FixLayers, FixTTA, FixCluster}, f) {
			return fmt.Errorf("fixed setting %q: want %s, %s, %s, %s, %s, %s or %s", f, FixAlign, FixInterval, FixTau, FixXPool, FixLayers, FixTTA, FixCluster)
		}
	}
	if o.XPool != "" {
		if _, err := xpool.Parse(o.XPool); err != nil {
			return err
		}
	}
	if !slices.Contains(append(Weightings(), ""), o.Weighting) {
		return fmt.Errorf("unknown weighting %q (known: %s)", o.Weighting, strings.Join(Weightings(), ", "))
	}
	if o.Refs < 0 || o.Proj < 0 || o.SemiProj < 0 {
		return fmt.Errorf("refs %d, proj %d, semi proj %d: want >= 0 (0 = exact)", o.Refs, o.Proj, o.SemiProj)
	}
	if _, err := cluster.LookupMethod(o.Cluster); err != nil {
		return err
	}
	if o.K < 0 {
		return fmt.Errorf("k = %d must be >= 0 (0: the number of labels)", o.K)
	}
	if err := o.validateK(); err != nil {
		return err
	}
	if o.MaxPerClass < 0 {
		return fmt.Errorf("max per class %d must be >= 0", o.MaxPerClass)
	}
	if o.Batch <= 0 {
		o.Batch = 8
	}
	if err := validateTTA(o.TTA, o.TTAAlso); err != nil {
		return err
	}
	if err := model.CheckRule(o.Placement); err != nil {
		return err
	}
	// Absolute paths in items.csv and run.json: a report or notebook finds
	// the images from any working directory.
	var err error
	if o.Data != "" {
		if o.Data, err = filepath.Abs(o.Data); err != nil {
			return fmt.Errorf("data folder %s: %w", o.Data, err)
		}
	}
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return fmt.Errorf("output folder %s: %w", o.Out, err)
	}
	return nil
}

// protocol names the clustering protocol of the settings and the data
// set's layout (MVTec drops combined; other layouts have none to drop).
func (o *Options) protocol() string {
	mvtec := o.in.layout == dataset.MVTecRoot || o.in.layout == dataset.MVTecCategory
	switch {
	case mvtec && o.DefectsOnly:
		return rundir.ProtocolDefectsOnly
	case mvtec:
		return rundir.ProtocolMVTec
	case o.DefectsOnly:
		return rundir.ProtocolAllDefectsOnly
	}
	return rundir.ProtocolAll
}

// settings is the run.json record of the options.
func (o *Options) settings() rundir.Settings {
	return rundir.Settings{
		Data: o.in.root, Manifest: o.Manifest, Labels: o.Labels, Normal: o.Normal, SkipBad: o.SkipBad,
		Out: o.Out, Categories: o.Categories, Preset: o.Preset,
		Backbone: o.Backbone, Weights: o.Weights, Layers: o.Layers,
		PretrainDim: o.PretrainDim, TargetDim: o.TargetDim, PatchSize: o.PatchSize,
		ImageSize: o.ImageSize, Resize: o.Resize, LayerNorm: o.LayerNorm, ObjectCrop: o.ObjectCrop, ObjectAlign: o.ObjectAlign, ObjectAuto: o.ObjectAuto,
		TTA: o.TTA, Modes: o.Modes, Taus: o.Taus, TrainRatio: o.TrainRatio, Coreset: o.Coreset,
		Refs: o.Refs, Proj: o.Proj, SemiProj: o.SemiProj, CacheMax: o.CacheMax,
		Cluster: o.Cluster, K: o.K, KAuto: o.KAuto, KRange: kRangeOf(o), ExportClusters: o.ExportClusters, Seed: o.Seed, DefectsOnly: o.DefectsOnly,
		MaxPerClass: o.MaxPerClass, Cache: o.Cache, Batch: o.Batch, Report: o.Report,
		Weighting: o.Weighting, NormalizeX: o.NormalizeX, XPool: o.XPool, ScoreInterval: o.ScoreInterval,
		PerCategory: o.PerCategory, Fixed: o.Fixed, RecommendTau: recommendedTau(o, rundir.ModeSemi),
		RecommendTauUnsupervised: recommendedTau(o, rundir.ModeUnsupervised),
	}
}
