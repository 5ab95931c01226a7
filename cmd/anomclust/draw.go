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
	fs := newFlags("draw", "--run DIR [--category C] [--mode M [--tau T]] [--images i,j|paths] [--scale per-image|shared] [--out DIR]")
	runDir := fs.String("run", "", "run folder (written by anomclust run)")
	cats := fs.String("category", "", "comma-separated categories (default: all)")
	mode := fs.String("mode", "", "unsupervised, semi or average (default: the best-NMI setting per category)")
	tau := fs.String("tau", "", "tau of --mode (default: the mode's best-NMI tau per category)")
	images := fs.String("images", "", "comma-separated items.csv indices or image paths (a trailing part such as crack/003.png suffices); default: all")
	scale := fs.String("scale", "per-image", "colour scale: per-image (each map divided by its maximum) or shared (by the category's maximum)")
	cmap := fs.String("colormap", "viridis", "colour map: viridis or jet")
	opacity := fs.Float64("opacity", draw.DefaultOpacity, "weight of the colour map over the image, 0..1")
	out := fs.String("out", "", "output folder (default RUN/draw); files go to OUT/<category>/<setting>/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runDir == "" || fs.NArg() > 0 {
		fmt.Fprintln(fs.Output(), "anomclust draw: --run DIR is required and no positional arguments are taken")
		fs.Usage()
		return errUsage
	}
	if *opacity <= 0 || *opacity > 1 {
		return fmt.Errorf("--opacity %g: want a value in (0, 1]", *opacity)
	}
	opt := draw.Options{Categories: splitList(*cats), Mode: *mode, Images: splitList(*images), Out: *out, Opacity: *opacity}
	if *tau != "" {
		t, err := strconv.ParseFloat(*tau, 64)
		if err != nil {
			return fmt.Errorf("--tau %q: %w", *tau, err)
		}
		if *mode == "" {
			return fmt.Errorf("--tau needs --mode")
		}
		opt.Tau, opt.HasTau = t, true
	}
	var err error
	if opt.Scale, err = draw.ParseScale(*scale); err != nil {
		return err
	}
	if opt.Colormap, err = draw.ColormapByName(*cmap); err != nil {
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
