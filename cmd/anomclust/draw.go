package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/anomclust/anomclust/draw"
)

func init() {
	register(command{name: "draw", summary: "draw alpha maps over the images of a run, beside their masks", run: runDraw})
}

func runDraw(args []string) error {
	fs := newFlags("draw", "--run DIR [--data DIR] [--category C] [--mode M [--tau T]] [--images i,j|paths] [--scale per-image|shared] [--out DIR]")
	runDir := fs.String("run", "", "run folder (written by anomclust run)")
	cats := fs.String("category", "", "comma-separated categories (default: all)")
	mode := fs.String("mode", "", "unsupervised, semi or average (default: the run's recommended setting per category, as report; the best-NMI one for a run that marks none)")
	tau := fs.String("tau", "", "tau of --mode (default: the mode's best-NMI tau per category; without labels, the recommended or the middle tau)")
	images := fs.String("images", "", "comma-separated items.csv indices or image paths (a trailing part such as crack/003.png suffices); default: all")
	scale := fs.String("scale", "per-image", "colour scale: per-image (each map divided by its maximum) or shared (by the category's maximum)")
	cmap := fs.String("colormap", "viridis", "colour map: viridis or jet")
	opacity := fs.Float64("opacity", draw.DefaultOpacity, "weight of the colour map over the image, 0..1")
	out := fs.String("out", "", "output folder (default RUN/draw); files go to OUT/<category>/<setting>/")
	data := fs.String("data", "", "where the run's images are now, if they moved since the run (image paths are relative to the data root)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needFlag(fs, *runDir != "", "--run DIR"); err != nil {
		return err
	}
	if *opacity <= 0 || *opacity > 1 {
		return fmt.Errorf("--opacity %g: want a value in (0, 1]", *opacity)
	}
	opt := draw.Options{Categories: splitList(*cats), Mode: *mode, Images: splitList(*images), Out: *out, Opacity: *opacity, Data: *data}
	var err error
	if opt.Tau, opt.HasTau, err = parseSettingTau(*mode, *tau); err != nil {
		return err
	}
	if opt.Colormap, opt.Scale, err = parseAlphaColours(*cmap, *scale); err != nil {
		return err
	}
	start := time.Now()
	files, err := draw.Run(*runDir, opt)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		fmt.Printf("wrote %d images in %.1fs, e.g. %s\n", len(files), time.Since(start).Seconds(), files[0])
	}
	return nil
}

// parseSettingTau parses --tau of draw and report, which picks a run's
// result setting together with --mode: no tau (hasTau false) means the
// mode's best-NMI tau.
func parseSettingTau(mode, tau string) (t float64, hasTau bool, err error) {
	if tau == "" {
		return 0, false, nil
	}
	if t, err = strconv.ParseFloat(tau, 64); err != nil {
		return 0, false, fmt.Errorf("--tau %q: %w", tau, err)
	}
	if mode == "" {
		return 0, false, fmt.Errorf("--tau needs --mode")
	}
	return t, true, nil
}

// parseAlphaColours parses --colormap and --scale of draw and report.
func parseAlphaColours(cmap, scale string) (draw.Colormap, draw.Scale, error) {
	c, err := draw.ColormapByName(cmap)
	if err != nil {
		return nil, 0, err
	}
	s, err := draw.ParseScale(scale)
	if err != nil {
		return nil, 0, err
	}
	return c, s, nil
}
