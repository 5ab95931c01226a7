package pipeline

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/rundir"
)

// Upper bounds of the size settings: beyond them a run would take hours or
// more memory than a workstation has (e.g. --patchsize 999 or --target-dim
// 100000), so they are refused before any work.
const (
	MaxPatchSize = 15      // PatchCore uses 3
	MaxDim       = 8192    // pretrain and target dims (the seed preset uses 4096)
	MaxImageSize = 1024    // centre-crop side
	MaxResize    = 4096    // short side before the crop
	MaxBatch     = 256     // images per forward pass
	MaxK         = 1000    // clusters
	MaxTaus      = 100     // temperatures
	MaxWorkers   = 4096    // goroutines of the scores
	MaxPixels    = 1e8     // pixels of one input image (a 10000 x 10000 image)
	MaxPatches   = 64 * 64 // patch grid M: the scores hold M x M distances per worker
)

// inputState is what Run learnt from the data set.
type inputState struct {
	layout   dataset.Layout
	labelled bool
	root     string // data root, absolute: image paths are written relative to it
	why      string // which layout was found and why
	skipped  []rundir.BadImage
	out      string      // the output folder asked for (Options.Out is the staging folder while the run writes)
	merge    *mergeState // set by Merge: plans, Z and scores from a sharded run (shard.go)
}

// checkBounds refuses sizes beyond the Max constants, naming the flag.
func (o *Options) checkBounds() error {
	for _, b := range []struct {
		flag    string
		v, max  int
		minimum int
	}{
		{"--patchsize", o.PatchSize, MaxPatchSize, 1},
		{"--pretrain-dim", o.PretrainDim, MaxDim, 1},
		{"--target-dim", o.TargetDim, MaxDim, 1},
		{"--image-size", o.ImageSize, MaxImageSize, 1},
		{"--resize", o.Resize, MaxResize, 1},
		{"--batch", o.Batch, MaxBatch, 0},
		{"--k", o.K, MaxK, 0},
		{"--workers", o.Workers, MaxWorkers, 0},
	} {
		if b.v > b.max {
			return fmt.Errorf("%s %d: at most %d", b.flag, b.v, b.max)
		}
		if b.v < b.minimum {
			return fmt.Errorf("%s %d: at least %d", b.flag, b.v, b.minimum)
		}
	}
	if len(o.Taus) > MaxTaus {
		return fmt.Errorf("--tau: %d values, at most %d", len(o.Taus), MaxTaus)
	}
	return nil
}

// openData opens the data set as the options say and logs what was found.
func (o *Options) openData(log io.Writer) (*dataset.Dataset, error) {
	ds, err := dataset.OpenWith(o.Data, dataset.OpenOptions{Labels: o.Labels, Normal: o.Normal, Manifest: o.Manifest})
	if err != nil {
		return nil, err
	}
	o.in.layout, o.in.labelled, o.in.root, o.in.why = ds.Layout, ds.Labelled, ds.Root, ds.Detected
	fmt.Fprintf(log, "data: %s\n", ds.Detected)
	if !ds.Labelled {
		fmt.Fprintln(log, "data: no labels: the images are clustered, no metrics are computed")
	}
	if ds.Normal != "" {
		fmt.Fprintf(log, "data: normal images from %s (the semi-supervised memory bank)\n", ds.Normal)
	}
	return ds, nil
}

// rel is p relative to the data root when under it (run.json, CSVs).
func (o *Options) rel(p string) string { return rundir.RelPath(o.in.root, p) }

// rels maps rel over paths.
func (o *Options) rels(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = o.rel(p)
	}
	return out
}

// checkImages opens every image of the plans (clustered, reference-only
// and bank images) before any backbone work. Without SkipBad every
// unreadable file is listed in one error; with it they are dropped from
// the plans (which are checked again: K, two images) and recorded. Images
// whose Z the extractor x (nil = none) finds in its feature cache only
// have their header checked (decodeAll).
func checkImages(ctx context.Context, o *Options, plans []plan, x *extractor, log io.Writer) ([]plan, error) {
	if o.in.merge != nil {
		return plans, nil // checked by the embed stage
	}
	var paths []string
	seen := map[string]bool{}
	for _, p := range plans {
		for _, list := range [][]dataset.Item{p.set.Items, p.ref, p.train} {
			for _, it := range list {
				if !seen[it.Path] {
					seen[it.Path] = true
					paths = append(paths, it.Path)
				}
			}
		}
	}
	start := time.Now()
	errs, hits, err := decodeAll(ctx, paths, o.Workers, x)
	if err != nil {
		return nil, err
	}
	cached := ""
	if hits > 0 {
		cached = fmt.Sprintf(" (%d with cached features: header only)", hits)
	}
	fmt.Fprintf(log, "data: %d images checked in %s%s, %d unreadable\n", len(paths), time.Since(start).Round(10*time.Millisecond), cached, countErrs(errs))
	bad := map[string]string{}
	var order []string
	for i, e := range errs {
		if e != nil {
			bad[paths[i]] = e.Error()
			order = append(order, paths[i])
		}
	}
	if len(order) == 0 {
		return plans, nil
	}
	if !o.SkipBad {
		lines := make([]string, len(order))
		for i, p := range order {
			lines[i] = p + ": " + bad[p]
		}
		what := "images"
		if len(order) == 1 {
			what = "image"
		}
		return nil, fmt.Errorf("%d unreadable %s (--skip-bad leaves them out):\n  %s", len(order), what, strings.Join(lines, "\n  "))
	}
	for _, p := range order {
		fmt.Fprintf(log, "skipped unreadable image %s: %s\n", p, bad[p])
		o.in.skipped = append(o.in.skipped, rundir.BadImage{Path: o.rel(p), Error: bad[p]})
	}
	keep := func(items []dataset.Item) []dataset.Item {
		var out []dataset.Item
		for _, it := range items {
			if _, b := bad[it.Path]; !b {
				out = append(out, it)
			}
		}
		return out
	}
	for i := range plans {
		p := &plans[i]
		p.set = p.set.Keep(keep(p.set.Items))
		p.ref, p.train = keep(p.ref), keep(p.train)
		if err := p.set.Check(); err != nil {
			return nil, fmt.Errorf("after leaving out %d unreadable images: %w", len(order), err)
		}
		if o.K == 0 && !o.autoK(len(p.set.Labels)) {
			p.k = len(p.set.Labels)
		}
		if p.k > len(p.set.Items) {
			return nil, fmt.Errorf("category %s: after leaving out unreadable images, K = %d clusters for %d images: %w", p.cat.Name, p.k, len(p.set.Items), ErrKTooLarge)
		}
		if p.semi && len(p.train) == 0 {
			return nil, fmt.Errorf("category %s: every normal image is unreadable: %w", p.cat.Name, ErrNoTrain)
		}
	}
	return plans, nil
}
