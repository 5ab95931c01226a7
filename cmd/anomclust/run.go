package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/featcache"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/report"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tta"
	"github.com/anomclust/anomclust/weights"
	"github.com/anomclust/anomclust/xpool"
	"golang.org/x/term"
)

func init() {
	register(command{name: "run", summary: "cluster a data set's images by defect type and score the clusters", run: runRun})
}

const runSynopsis = "--data DIR --out DIR [--preset auto|mobilenet|patchcore|seed] [flags]"

// runFlags are the flags of `run` (demo sets the same options directly).
type runFlags struct {
	fs                                               *flag.FlagSet
	data, out, categories, preset, backbone, weights *string
	layers, mode, tau, cluster, cache                *string
	pretrain, target, patch, imageSize, resize       *int
	maxPerClass, batch                               *int
	k, kRange                                        *string
	exportClusters                                   *bool
	trainRatio, coreset                              *float64
	seed                                             *uint64
	defectsOnly, layerNorm, report, objectCrop       *bool
	objectAlign, objectAuto                          *bool
	weighting                                        *string
	normalizeX                                       *bool
	xPool                                            *string
	scoreInterval                                    *float64
	tta                                              *string
	scale                                            *scaleFlags
	in                                               *inputFlags
	shard                                            *shardFlags
}

func newRunFlags() *runFlags {
	fs := newFlags("run", runSynopsis)
	d, _ := pipeline.Preset("")
	f := &runFlags{fs: fs}
	f.data = fs.String("data", "", "data folder: images without labels (flat or in sub-folders), an MVTec AD root, one category folder (train/good, test/<type>), or one sub-folder of images per class (see --labels)")
	f.in = addInputFlags(fs)
	f.out = fs.String("out", "", "output folder (run.json, summary.csv/.md, one folder per category)")
	f.categories = fs.String("categories", "", "comma-separated categories to run (default: all found)")
	f.preset = fs.String("preset", pipeline.PresetAuto, "method settings: auto (mobilenet_v2 with the label-free score/weighting choices of docs/QUALITY.md: set-standardised scores, tau 0.15, 0.5 and 1; per category, parts on a plain background are aligned, scored with --score-interval 0.3 and get --x-pool meanstd at unsupervised tau 0.15 and --tta rot4, others run on mobilenet_v1 with --x-pool meanstd, --cluster spectral, the stride32 tap and --tta d4-max; --backbone, --weights or --layers given keep one net and its taps for all), mobilenet (mobilenet_v2 stride8,stride16, 1024/1024, the published method, tau 0,1,2), patchcore (wide_resnet50_2 layer2,layer3, 1024/1024), seed (dino_vitb8 blocks.10,blocks.11, 2048/4096, LayerNorm, 17 taus); flags given explicitly override it")
	f.backbone = fs.String("backbone", d.Backbone, "backbone registry name (anomclust weights list shows them)")
	f.weights = fs.String("weights", "", "weights file of --backbone (default: found in "+weights.EnvWeightsPath+" or the cache, else downloaded)")
	f.layers = fs.String("layers", strings.Join(d.Layers, ","), "comma-separated backbone layers; the first fixes the patch grid (a finer later one is averaged onto it, e.g. stride8,stride16,stride4)")
	f.pretrain = fs.Int("pretrain-dim", d.PretrainDim, "per-layer patch vector length (PatchCore's pretrain_embed_dimension)")
	f.target = fs.Int("target-dim", d.TargetDim, "patch embedding length D (PatchCore's target_embed_dimension)")
	f.patch = fs.Int("patchsize", d.PatchSize, "patch neighbourhood side")
	f.imageSize = fs.Int("image-size", d.ImageSize, "centre-crop side in pixels")
	f.resize = fs.Int("resize", d.Resize, "short side in pixels before the crop")
	f.objectCrop = fs.Bool("object-crop", d.ObjectCrop, "crop each image to the square around its foreground object (plain background: estimated from the border) before the resize; the whole image when none is found")
	f.objectAlign = fs.Bool("object-align", d.ObjectAlign, "turn an elongated part (found as --object-crop does) so its long axis is horizontal, the same end right, then crop it; a compact part gets the --object-crop crop")
	f.objectAuto = fs.Bool("object-auto", d.ObjectAuto, "--object-align on each category whose images show one part on a plain background (part found in >= 95% of 24 sampled images, its area's coefficient of variation <= 0.2); run.json's categories record the decision")
	f.layerNorm = fs.Bool("layernorm", d.LayerNorm, "apply the seed's per-map LayerNorm to every layer (on in the seed preset)")
	f.mode = fs.String("mode", "all", "weighting: unsupervised, semi, average or all (comma-separated list allowed)")
	f.tau = fs.String("tau", "0,1,2", "comma-separated softmax temperatures (0 = hard arg-max)")
	f.trainRatio = fs.Float64("train-ratio", d.TrainRatio, "semi: train/good images in the memory bank, as a fraction of the test images")
	f.coreset = fs.Float64("coreset", d.Coreset, "semi: keep this fraction of the memory bank's patches (PatchCore greedy coreset); 0 = all")
	f.cluster = fs.String("cluster", d.Cluster, "clustering: "+strings.Join(cluster.Methods(), " or "))
	f.k = fs.String("k", "", "number of clusters, or auto to estimate it from the data (default: the number of labels of each category; auto when there are none)")
	f.kRange = fs.String("k-range", "2,15", "candidates of --k auto: min,max")
	f.exportClusters = fs.Bool("export-clusters", false, "write <result>/clusters/cluster_<N>/ (N zero-padded to the digits of K-1) with every image of every result (hard links, else copies)")
	f.seed = fs.Uint64("seed", 0, "random seed (bank pick, subsampling, coreset, k-means)")
	f.defectsOnly = fs.Bool("defects-only", false, "drop the good images (protocol of other papers); default keeps good as a class")
	f.maxPerClass = fs.Int("max-per-class", 0, "keep at most N images per label, seeded pick (for big class-per-folder sets); 0 = all")
	f.cache = fs.String("cache", "", "feature cache folder (default: $"+weights.EnvCache+"/features or the user cache dir; \"none\" disables)")
	f.batch = fs.Int("batch", d.Batch, "images per backbone forward pass")
	f.report = fs.Bool("report", false, "also write the HTML report OUT/report.html")
	f.weighting = fs.String("weighting", d.Weighting, "scores to weights per tau: softmax (of the scores), image-std (of each image's standardised scores) or set-std (of the scores standardised over the category)")
	f.normalizeX = fs.Bool("normalize-x", d.NormalizeX, "L2-normalise each image embedding before clustering")
	f.xPool = fs.String("x-pool", string(xpool.Mean), "image descriptor from the weighted patches: "+xpoolNames())
	f.tta = fs.String("tta", "", "test-time augmentation of the patch features: the mean over the mirrored (flip), turned (rot4) or both (d4) copies of each image, mapped back onto its grid ("+strings.Join(tta.Names(), ", ")+"); the auto preset uses d4-max for textures, rot4 for parts")
	f.scoreInterval = fs.Float64("score-interval", 0, "unsupervised score: mean of each patch's lowest fraction r of distances to the reference images (MuSc's interval averaging; 0 or 1 = the plain mean; the auto preset picks 0.3 for parts on a plain background, 1 otherwise)")
	f.scale = addScaleFlags(fs)
	f.shard = addShardFlags(fs)
	return f
}

// options resolves the preset and overrides it with the flags given
// explicitly.
func (f *runFlags) options() (pipeline.Options, error) {
	o, err := pipeline.Preset(*f.preset)
	if err != nil {
		return o, err
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	o.Data, o.Out, o.Weights = *f.data, *f.out, *f.weights
	o.Categories = splitList(*f.categories)
	if set["backbone"] {
		o.Backbone = *f.backbone
		if !set["layers"] && o.Backbone != "" {
			// Another backbone than the preset's: its own default taps.
			if e, err := weights.Lookup(o.Backbone); err == nil {
				o.Layers = e.DefaultLayers
			}
		}
	}
	if set["layers"] {
		o.Layers = splitList(*f.layers)
	}
	copyFlags(set, map[string]flagCopy[int]{
		"pretrain-dim": {&o.PretrainDim, *f.pretrain}, "target-dim": {&o.TargetDim, *f.target},
		"patchsize": {&o.PatchSize, *f.patch}, "image-size": {&o.ImageSize, *f.imageSize},
		"resize": {&o.Resize, *f.resize}, "batch": {&o.Batch, *f.batch},
	})
	copyFlags(set, map[string]flagCopy[bool]{
		"layernorm": {&o.LayerNorm, *f.layerNorm}, "object-crop": {&o.ObjectCrop, *f.objectCrop},
		"object-align": {&o.ObjectAlign, *f.objectAlign}, "object-auto": {&o.ObjectAuto, *f.objectAuto},
		"normalize-x": {&o.NormalizeX, *f.normalizeX},
	})
	copyFlags(set, map[string]flagCopy[string]{
		"weighting": {&o.Weighting, *f.weighting}, "x-pool": {&o.XPool, *f.xPool}, "tta": {&o.TTA, *f.tta},
		"cluster": {&o.Cluster, *f.cluster},
	})
	copyFlags(set, map[string]flagCopy[float64]{
		"score-interval": {&o.ScoreInterval, *f.scoreInterval}, "train-ratio": {&o.TrainRatio, *f.trainRatio},
	})
	if set["tau"] {
		if o.Taus, err = parseTaus(*f.tau); err != nil {
			return o, err
		}
	}
	modes := splitList(*f.mode)
	o.Modes = nil
	for _, m := range modes {
		if m == "all" {
			o.Modes = rundir.Modes()
			o.SkipSemiWithoutTrain = true
			break
		}
		// A mode given twice would write its folders twice and double
		// its summary rows.
		if !slices.Contains(o.Modes, m) {
			o.Modes = append(o.Modes, m)
		}
	}
	// Settings given explicitly win over the auto preset's per-category
	// choice.
	for flagName, fix := range map[string]string{"object-align": pipeline.FixAlign, "object-auto": pipeline.FixAlign,
		"score-interval": pipeline.FixInterval, "tau": pipeline.FixTau, "x-pool": pipeline.FixXPool,
		"layers": pipeline.FixLayers, "backbone": pipeline.FixLayers, "weights": pipeline.FixLayers, "tta": pipeline.FixTTA, "cluster": pipeline.FixCluster} {
		if set[flagName] && !slices.Contains(o.Fixed, fix) {
			o.Fixed = append(o.Fixed, fix)
		}
	}
	slices.Sort(o.Fixed)
	f.in.apply(&o)
	if set["coreset"] {
		o.Coreset = *f.coreset
	}
	o.Seed = *f.seed
	if o.K, o.KAuto, o.KMin, o.KMax, err = parseK(*f.k, *f.kRange); err != nil {
		return o, err
	}
	o.ExportClusters = *f.exportClusters
	o.DefectsOnly, o.MaxPerClass, o.Report = *f.defectsOnly, *f.maxPerClass, *f.report
	if err := f.scale.apply(&o, set); err != nil {
		return o, err
	}
	switch *f.cache {
	case "none", "off":
		o.Cache = ""
	case "":
		o.Cache, err = featcache.DefaultDir()
		if err != nil {
			return o, err
		}
	default:
		o.Cache = *f.cache
	}
	return o, nil
}

// parseTaus parses --tau, dropping repeats: values with the same
// rundir.TauName ("1" and "1.0") share a result folder and summary rows.
func parseTaus(s string) ([]float64, error) {
	var out []float64
	seen := map[string]bool{}
	for _, p := range splitList(s) {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, fmt.Errorf("--tau %q: %w", p, err)
		}
		if v == 0 {
			v = 0 // "-0" is tau 0
		}
		if name := rundir.TauName(v); !seen[name] {
			seen[name] = true
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--tau %q: no value", s)
	}
	return out, nil
}

func runRun(args []string) error {
	f := newRunFlags()
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if *f.data == "" && *f.in.manifest == "" {
		return usageError(f.fs, "--data DIR (or --manifest FILE) is required")
	}
	if err := needFlag(f.fs, *f.out != "", "--out DIR"); err != nil {
		return err
	}
	o, err := f.options()
	if err != nil {
		return err
	}
	o.Command = append([]string{"anomclust", "run"}, args...)
	if staged, err := f.shard.active(f.fs); err != nil || staged {
		if err == nil {
			err = runStage(o, f.shard, cliStderr) // a sharded run's stage (run_shard.go)
		}
		return err
	}
	ctx, stop := signalContext("run")
	defer stop()
	if _, err := runPipeline(ctx, o, cliStdout, cliStderr); err != nil {
		return err
	}
	if *f.report {
		return writeReport(o.Out, cliStdout)
	}
	return nil
}

// runPipeline runs the pipeline with progress on stderr and prints the
// summary table and where the outputs are on stdout.
func runPipeline(ctx context.Context, o pipeline.Options, stdout, stderr io.Writer) (*pipeline.Result, error) {
	o.Version = version
	o.Log = stderr
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Progress = stderr // bars redraw with \r: only on a terminal
	} else {
		o.Progress = newLineProgress(stderr, progressEvery) // a plain line every few seconds
	}
	res, err := pipeline.Run(ctx, o)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			// runMain then says "interrupted" and exits 130 (143 for SIGTERM).
			fmt.Fprintf(stderr, "the run was not finished: %s is as it was before (runs are written to a temporary folder and moved there at the end)\n", absPath(o.Out))
		}
		return nil, err
	}
	// run.json holds the absolute output folder: print that, so the line
	// is usable from any directory.
	if len(res.Summary) > 0 {
		printSummary(stdout, res.Summary)
		fmt.Fprintf(stdout, "\noutputs: %s (run.json, summary.md, summary.csv, <category>/<mode>/tau_<tau>/)\n", res.Run.Settings.Out)
	} else {
		// No labels: no scores to show, only where the clusters are.
		printUnlabelled(stdout, res.Run)
	}
	fmt.Fprintf(stdout, "wall time: %.1f s (", res.Run.WallSeconds)
	first := true
	for _, st := range []string{"features", "scores", "alpha", "cluster", "metrics", "write"} {
		if v, ok := res.Run.Stages[st]; ok {
			if !first {
				fmt.Fprint(stdout, ", ")
			}
			fmt.Fprintf(stdout, "%s %.1f", st, v)
			first = false
		}
	}
	fmt.Fprintln(stdout, ")")
	return res, nil
}

// printSummary prints the scores as a table: one line per (mode, tau),
// NMI ARI F1 per category and their plain mean over categories; with many
// categories only the means (summary.md has everything).
func printSummary(w io.Writer, rows []rundir.Row) {
	g := rundir.NewSummaryGrid(rows, 6)
	fmt.Fprintf(w, "NMI ARI F1 (F1 after Hungarian matching; mean = plain mean over categories, see summary.md for more)\n")
	fmt.Fprintf(w, "%-13s %-5s", "mode", "tau")
	for _, c := range g.Columns {
		fmt.Fprintf(w, "   %-19s", c)
	}
	fmt.Fprintln(w)
	for _, l := range g.Lines {
		fmt.Fprintf(w, "%-13s %-5s", l.Mode, rundir.Mode(l.Mode).TauText(l.Tau))
		for _, c := range g.Columns {
			if r, ok := l.Cells[c]; ok {
				fmt.Fprintf(w, "  %6.3f %6.3f %6.3f", r.NMI, r.ARI, r.F1)
			} else {
				fmt.Fprintf(w, "  %-20s", "")
			}
		}
		fmt.Fprintln(w)
	}
}

// writeReport renders the HTML report of a run folder (package report) to
// OUT/report.html.
func writeReport(out string, stdout io.Writer) error {
	if err := report.Write(out, "", report.Options{}); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(absPath(out), "report.html"))
	return nil
}

// absPath is path made absolute, or path itself if that fails.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// flagCopy is where a flag's parsed value goes in the options.
type flagCopy[T any] struct {
	dst *T
	v   T
}

// copyFlags stores each named flag's value that was given on the command
// line, so the preset's value stays for the others.
func copyFlags[T any](set map[string]bool, flags map[string]flagCopy[T]) {
	for name, p := range flags {
		if set[name] {
			*p.dst = p.v
		}
	}
}
