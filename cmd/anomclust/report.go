package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/anomclust/anomclust/draw"
	"github.com/anomclust/anomclust/report"
)

func init() {
	register(command{name: "report", summary: "write a self-contained HTML report of a run folder", run: runReport})
}

func runReport(args []string) error {
	fs := newFlags("report", "--run DIR [--out FILE] [--mode M [--tau T]] [--per-cluster N] [--max-thumbnails N]")
	runDir := fs.String("run", "", "run folder (written by anomclust run)")
	out := fs.String("out", "", "HTML file to write (default RUN/report.html)")
	mode := fs.String("mode", "", "setting shown in galleries, confusion and dendrogram: unsupervised, semi or average (default: best NMI per category)")
	tau := fs.String("tau", "", "tau of --mode (default: the mode's best-NMI tau per category)")
	perCluster := fs.Int("per-cluster", 24, "thumbnails shown per cluster at most")
	maxThumbs := fs.Int("max-thumbnails", 720, "thumbnails in the whole report at most (per-cluster caps shrink to fit, down to 4)")
	thumb := fs.Int("thumb", 96, "thumbnail side, pixels")
	cmap := fs.String("colormap", "viridis", "alpha colour map: viridis or jet")
	scale := fs.String("scale", "per-image", "alpha colour scale of thumbnails: per-image (max-normalised) or shared")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runDir == "" || fs.NArg() > 0 {
		fmt.Fprintln(fs.Output(), "anomclust report: --run DIR is required and no positional arguments are taken")
		fs.Usage()
		return errUsage
	}
	opt := report.Options{Mode: *mode, MaxPerCluster: *perCluster, MaxThumbnails: *maxThumbs, Thumb: *thumb}
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
	if opt.Colormap, err = draw.ColormapByName(*cmap); err != nil {
		return err
	}
	if opt.Scale, err = draw.ParseScale(*scale); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(*runDir, "report.html")
	}
	start := time.Now()
	if err := report.Write(*runDir, *out, opt); err != nil {
		return err
	}
	fmt.Printf("wrote %s in %.1fs\n", *out, time.Since(start).Seconds())
	return nil
}
