package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/anomclust/anomclust/bench"
)

func init() {
	registerBench(benchTarget{
		name:    "scale",
		summary: "time and peak RSS of a whole run against the number of images N (unsupervised, defaults)",
		run:     runBenchScale,
	})
}

func runBenchScale(args []string) error {
	fs := newFlags("bench scale", "[flags] [-- extra run flags]")
	data := fs.String("data", filepath.Join("..", "shared", "data", "neu"), "class-per-folder data set (or an MVTec category: its test/<type> folders) the N images are taken from, round-robin over the classes; \"synth\" draws a synthetic set big enough")
	sizes := fs.String("sizes", "100,300,1000,2000", "comma-separated N; sizes above the images available are skipped with a note")
	work := fs.String("work", "", "work folder (default: a temporary folder, removed at the end)")
	warm := fs.Bool("warm", false, "share one feature cache over the sizes (later sizes reuse the earlier sizes' embeddings); default: a fresh cache per size, so each time includes the features")
	if err := fs.Parse(args); err != nil {
		return err
	}
	extra := fs.Args() // passed to every run
	var ns []int
	for _, s := range splitList(*sizes) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			return fmt.Errorf("--sizes %q: %q is not a number of images >= 2", *sizes, s)
		}
		ns = append(ns, n)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return bench.Scale(os.Stdout, bench.ScaleConfig{Data: *data, Sizes: ns, Work: *work, Warm: *warm, Extra: extra, Exe: self})
}
