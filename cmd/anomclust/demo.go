package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/synth"
	"github.com/anomclust/anomclust/weights"
)

func init() {
	register(command{name: "demo", summary: "draw a synthetic defect set, cluster it with MobileNet V2 and show the scores", run: runDemo})
}

// demoSynth is the demo's data: three categories (two textures and an
// object) of 8 test images per defect type and 8 good, 10 train images.
// Sized so that the whole demo takes a minute or two on two cores.
func demoSynth() synth.Options {
	return synth.Options{Categories: 3, Train: 10, PerType: 8, Size: 256, Seed: 0}
}

func runDemo(args []string) error {
	fs := newFlags("demo", "[--out DIR] [--keep]")
	out := fs.String("out", "anomclust-demo", "folder for the synthetic images (DIR/data), the results (DIR/run) and the report")
	keep := fs.Bool("keep", false, "keep the feature cache DIR/cache (about 400 MB) so that a second demo skips the backbone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	ctx, stop := signalContext("demo")
	defer stop()
	start := time.Now()

	// Absolute, so that every path printed works from any directory.
	if a, err := filepath.Abs(*out); err == nil {
		*out = a
	}
	data := filepath.Join(*out, "data")
	so := demoSynth()
	res, err := synth.Generate(ctx, data, so)
	if err != nil {
		return fmt.Errorf("synthetic data: %w", err)
	}
	var cats []string
	for _, c := range synth.CategoryNames(so.Categories) {
		cats = append(cats, fmt.Sprintf("%s (%s)", c, strings.Join(synth.DefectTypes(c), ", ")))
	}
	if res.UpToDate {
		fmt.Printf("synthetic data: %s (already there)\n", data)
	} else {
		fmt.Printf("synthetic data: %d images in %s, %.1fs\n", res.Images, data, time.Since(start).Seconds())
	}
	fmt.Printf("  categories: %s\n", strings.Join(cats, "; "))

	o, err := pipeline.Preset(pipeline.PresetMobileNet)
	if err != nil {
		return err
	}
	o.Data, o.Out = data, filepath.Join(*out, "run")
	o.Taus = []float64{0, 1, 2, 4}
	o.SkipSemiWithoutTrain = true
	o.Cache = filepath.Join(*out, "cache")
	o.Report = true
	o.Force = true // the demo's own run folder: a second demo replaces it
	o.Command = append([]string{"anomclust", "demo"}, args...)
	if !*keep {
		defer os.RemoveAll(o.Cache)
	}
	fmt.Printf("backbone: %s (weights from %s, the cache, or downloaded), layers %s, D = %d\n\n",
		o.Backbone, weights.EnvWeightsPath, strings.Join(o.Layers, ","), o.TargetDim)
	if _, err := runPipeline(ctx, o, os.Stdout, os.Stderr); err != nil {
		return err
	}
	if err := writeReport(o.Out, os.Stdout); err != nil {
		return err
	}
	fmt.Printf("demo done in %.0f s. Next: open %s, or run `anomclust run --data DIR --out DIR` on a folder of your own images (K is estimated; --k N fixes it).\n",
		time.Since(start).Seconds(), filepath.Join(o.Out, "report.html"))
	return nil
}
