package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/anomclust/anomclust/synth"
)

func init() {
	register(command{name: "synth", summary: "draw a small synthetic defect data set in MVTec AD layout", run: runSynth})
}

func runSynth(args []string) error {
	d := synth.Default()
	fs := newFlags("synth", "--out DIR [--categories N] [--train N] [--per-type N] [--size PX] [--seed N]")
	out := fs.String("out", "", "output folder; must not exist, be empty, or hold the same set (then nothing is done)")
	cats := fs.Int("categories", d.Categories, "number of categories (1-3: weave, wood, disc)")
	train := fs.Int("train", d.Train, "train/good images per category")
	perType := fs.Int("per-type", d.PerType, "test images per defect type, and test/good images")
	size := fs.Int("size", d.Size, "image side in pixels")
	seed := fs.Uint64("seed", d.Seed, "random seed; the same seed and flags give byte-identical files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needFlag(fs, *out != "", "--out DIR"); err != nil {
		return err
	}
	if err := checkBounds(bound{"--train", *train, 0, 10000}, bound{"--per-type", *perType, 1, 10000}); err != nil {
		return err
	}
	o := synth.Options{Categories: *cats, Train: *train, PerType: *perType, Size: *size, Seed: *seed}
	ctx, stop := signalContext("synth")
	defer stop()
	start := time.Now()
	res, err := synth.Generate(ctx, *out, o)
	if err != nil {
		return err
	}
	if res.UpToDate {
		fmt.Printf("%s already holds this synthetic set; nothing to do\n", res.Dir)
		return nil
	}
	var parts []string
	for _, c := range synth.CategoryNames(o.Categories) {
		parts = append(parts, fmt.Sprintf("%s (%s)", c, strings.Join(synth.DefectTypes(c), ", ")))
	}
	fmt.Printf("wrote %d images to %s in %.1fs: %s\n", res.Images, res.Dir, time.Since(start).Seconds(), strings.Join(parts, "; "))
	return nil
}
