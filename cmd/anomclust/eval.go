package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/eval"
	"github.com/anomclust/anomclust/featcache"
	"github.com/anomclust/anomclust/internal/atomicfile"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/tta"
)

// sharedSets are the labelled sets of ../shared/data the ablation runs on:
// name -> folder below the data root and categories.
var sharedSets = []struct {
	name, dir  string
	categories []string
	perClass   bool // class-per-folder: --max-per-class applies
}{
	{"screw", "mvtec_ad", []string{"screw"}, false},
	{"metal_nut", "metal_nut", nil, false},
	{"neu", "neu", nil, true},
	{"xsdd", "xsdd", nil, true},
	{"deeppcb", "deeppcb", nil, true},
}

func init() {
	register(command{name: "eval", summary: "ablation of the weighting/embedding options on labelled sets (NMI/ARI/F1 table)", run: runEval})
}

func runEval(args []string) error {
	fs := newFlags("eval", "[--shared DIR] [--sets screw,metal_nut,...] [flags]")
	shared := fs.String("shared", filepath.Join("..", "shared", "data"), "root of the shared data sets")
	sets := fs.String("sets", "screw,metal_nut,neu,xsdd,deeppcb", "sets to run (screw, metal_nut, neu, xsdd, deeppcb)")
	perClass := fs.Int("max-per-class", 50, "images per class of the class-per-folder sets (neu, xsdd, deeppcb); 0 = all")
	cache := fs.String("cache", "", "feature cache folder (default: the user cache dir's, 'none' to disable)")
	intervals := fs.String("intervals", "1,0.3", "unsupervised score variants: MuSc interval fractions r (1 = plain mean)")
	taus := fs.String("taus", "0,1,2,4,8", "softmax temperatures")
	topk := fs.String("topk", "0.01,0.03,0.1", "top-k pooling fractions")
	eff := fs.String("eff", "0.01,0.03,0.1", "per-image temperature: target effective fractions of the patches")
	stdTaus := fs.String("std-taus", "0.5,1,2", "temperatures on standardised scores (set-wide and per image)")
	zoomPools := fs.String("zoom-pools", "", "pools (e.g. topk=0.03) for which the zoom variants are measured")
	zw := fs.Float64("zoom-window", 0.25, "zoom window side, fraction of the patch grid")
	zm := fs.Float64("zoom-margin", 0.25, "zoom margin on each side, fraction of the window side")
	zmin := fs.Float64("zoom-min", 0.2, "smallest crop side, fraction of the image's short side")
	zr := fs.Float64("zoom-r", 0.3, "MuSc interval fraction of the crops' own scores")
	auto, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		return err
	}
	backbones := fs.String("backbones", auto.Backbone, "backbones; with several, their L2-normalised X are also concatenated (default: the auto preset's)")
	layers := fs.String("layers", strings.Join(auto.Layers, ","), "backbone taps")
	scale := addScaleFlags(fs) // --refs, --proj, --semi-proj, --exact as run's (defaults: the auto preset's)
	coreset := fs.Float64("coreset", auto.Coreset, "semi: keep this fraction of the memory bank's patches (PatchCore greedy coreset); 0 = all")
	xPools := fs.String("x-pools", "mean", "image descriptors to measure: "+xpoolNames())
	posts := fs.String("posts", "raw,l2,pcaw", "X post-processings to measure (raw, l2, pcaw)")
	kAuto := fs.Bool("kauto", false, "record the K estimate of run --k auto on every row's X (table: kN)")
	consPools := fs.String("consensus-pools", "", "add consensus rows over every row with these pools (co-association, average and Ward linkage)")
	silPools := fs.String("sil-choice", "", "add, for the unsupervised rows of these pools (e.g. std-tau=1), the row a silhouette choice of the mode recommends (the texture configuration on V2 before): that row or the average one, whichever has the higher silhouette")
	predsOut := fs.String("preds", "", "write every row's clusters as JSON lines to this file")
	csvOut := fs.String("csv", "", "write every row as CSV to this file")
	mdOut := fs.String("md", "", "write the table as Markdown to this file")
	seed := fs.Uint64("seed", 0, "seed of the per-class pick")
	imageSize := fs.Int("image-size", 0, "network input (centre-crop) side in pixels, as run's (0 = the preset's 224)")
	resize := fs.Int("resize", 0, "short side in pixels before the crop, as run's (0 = image-size*256/224)")
	objectCrop := fs.Bool("object-crop", false, "crop each image to its foreground object first, as run's --object-crop")
	objectAlign := fs.Bool("object-align", false, "turn the part to a canonical pose, then crop it, as run's --object-align")
	ttas := fs.String("tta", "none", "test-time augmentations of the patch embeddings to measure: "+strings.Join(tta.Names(), ", ")+" (mean, or max over the copies)")
	objectAuto := fs.Bool("object-auto", false, "--object-align on the categories whose images show one part on a plain background, as run's --object-auto")
	methods := fs.String("methods", cluster.MethodWard, "clustering methods, each clustering every row's X ("+strings.Join(cluster.Methods(), ", ")+"); unless ward alone, rows name their method (a method column)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := scale.apply(&auto, set); err != nil {
		return err
	}
	c := eval.Config{Backbones: splitList(*backbones), Layers: splitList(*layers), Seed: *seed,
		Refs: auto.Refs, Proj: auto.Proj, SemiProj: auto.SemiProj, Coreset: *coreset,
		ZoomPools: splitList(*zoomPools),
		Input:     eval.Input{ImageSize: *imageSize, Resize: *resize, ObjectCrop: *objectCrop, ObjectAlign: *objectAlign, ObjectAuto: *objectAuto},
		Zoom:      eval.ZoomConfig{Window: *zw, Margin: *zm, MinSide: *zmin, R: *zr},
		Log:       os.Stderr, Progress: os.Stderr,
		Posts: splitList(*posts), KAuto: *kAuto, ConsensusPools: splitList(*consPools),
		SilChoicePools: splitList(*silPools), TTA: splitList(*ttas), Methods: splitList(*methods)}
	for _, m := range c.Methods {
		if _, err := cluster.LookupMethod(m); err != nil {
			return fmt.Errorf("--methods: %w", err)
		}
	}
	if c.XPools, err = parseXPools(*xPools); err != nil {
		return fmt.Errorf("--x-pools: %w", err)
	}
	switch *cache {
	case "none":
	case "":
		if c.Cache, err = featcache.DefaultDir(); err != nil {
			return err
		}
	default:
		c.Cache = *cache
	}
	for _, p := range []struct {
		s   string
		dst *[]float64
		f   string
	}{{*intervals, &c.Intervals, "--intervals"}, {*taus, &c.Taus, "--taus"}, {*topk, &c.TopK, "--topk"}, {*eff, &c.Effective, "--eff"}, {*stdTaus, &c.StdTaus, "--std-taus"}} {
		if *p.dst, err = parseFloats(p.s); err != nil {
			return fmt.Errorf("%s: %w", p.f, err)
		}
	}
	for _, name := range splitList(*sets) {
		found := false
		for _, s := range sharedSets {
			if s.name != name {
				continue
			}
			found = true
			set := eval.Set{Name: s.name, Data: filepath.Join(*shared, s.dir), Categories: s.categories}
			if s.perClass {
				set.MaxPerClass = *perClass
			}
			c.Sets = append(c.Sets, set)
		}
		if !found {
			return fmt.Errorf("--sets: unknown set %q", name)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rows, err := eval.Run(ctx, c)
	if err != nil {
		return err
	}
	if *csvOut != "" {
		if err := atomicfile.Write(*csvOut, func(w io.Writer) error { return eval.WriteCSV(w, rows) }); err != nil {
			return err
		}
	}
	if *predsOut != "" {
		if err := atomicfile.Write(*predsOut, func(w io.Writer) error { return eval.WritePreds(w, rows) }); err != nil {
			return err
		}
	}
	var b strings.Builder
	eval.WriteTable(&b, rows)
	fmt.Print(b.String())
	if *mdOut != "" {
		return atomicfile.WriteFile(*mdOut, []byte(b.String()))
	}
	return nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, p := range splitList(s) {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
