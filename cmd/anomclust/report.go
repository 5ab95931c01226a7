package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/anomclust/anomclust/report"
)

func init() {
	register(command{name: "report", summary: "write a self-contained HTML report of a run folder", run: runReport})
}

func runReport(args []string) error {
	fs := newFlags("report", "--run DIR [--data DIR] [--out FILE] [--mode M [--tau T]] [--per-cluster N] [--max-thumbnails N] [--thumb PX]")
	runDir := fs.String("run", "", "run folder (written by anomclust run)")
	out := fs.String("out", "", "HTML file to write (default RUN/report.html)")
	mode := fs.String("mode", "", "setting shown in galleries, confusion and dendrogram: unsupervised, semi or average (default: the setting recommended without labels; best NMI for a run whose summary marks none)")
	tau := fs.String("tau", "", "tau of --mode (default: the mode's best-NMI tau; without labels, the recommended or the middle tau)")
	perCluster := fs.Int("per-cluster", 24, "thumbnails shown per cluster at most")
	maxThumbs := fs.Int("max-thumbnails", 720, "thumbnails in the whole report at most (per-cluster caps shrink to fit, down to 4)")
	thumb := fs.Int("thumb", 96, fmt.Sprintf("thumbnail side, pixels (at most %d)", report.MaxThumb))
	cmap := fs.String("colormap", "viridis", "alpha colour map: viridis or jet")
	scale := fs.String("scale", "per-image", "alpha colour scale of thumbnails: per-image (max-normalised) or shared")
	data := fs.String("data", "", "where the run's images are now, if they moved since the run (image paths are relative to the data root)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needFlag(fs, *runDir != "", "--run DIR"); err != nil {
		return err
	}
	opt := report.Options{Mode: *mode, MaxPerCluster: *perCluster, MaxThumbnails: *maxThumbs, Thumb: *thumb, Data: *data}
	if err := opt.Check(); err != nil {
		return err
	}
	var err error
	if opt.Tau, opt.HasTau, err = parseSettingTau(*mode, *tau); err != nil {
		return err
	}
	if opt.Colormap, opt.Scale, err = parseAlphaColours(*cmap, *scale); err != nil {
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
