package main

import (
	"flag"
	"os"
	"runtime"
	"strings"

	"github.com/anomclust/anomclust/bench"
	"github.com/anomclust/anomclust/pipeline"
)

func init() {
	registerBench(benchTarget{name: "backbone", summary: "images/s of a backbone's feature extraction, vs PyTorch", run: runBenchBackbone})
}

// runBenchBackbone parses the flags of bench.Backbone, which prints the
// rates of Go and PyTorch and their ratio.
func runBenchBackbone(args []string) error {
	fs := newFlags("bench backbone", "NAME [--batch 8] [--images 32] [--layers L1,L2] [--size 224] [--rounds 1] [--no-torch]")
	batch := fs.Int("batch", 8, "images per forward pass")
	images := fs.Int("images", 32, "images timed (after one warm-up batch)")
	layers := fs.String("layers", "", "layers to extract; default: the deepest of the method's default layers for this backbone, e.g. layer3 or blocks.11")
	size := fs.Int("size", 224, "input height and width, pixels")
	noTorch := fs.Bool("no-torch", false, "skip the PyTorch measurement (as --python \"\")")
	python := pythonFlag(fs)
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "PyTorch threads (Go uses GOMAXPROCS)")
	rounds := fs.Int("rounds", 1, "alternate Go and PyTorch measurements this many times and report medians (the machine is shared: alternating evens out load changes)")
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) == 0 {
			return usageError(fs, "a backbone NAME is required")
		}
		fs.Usage()
		return flag.ErrHelp
	}
	if strings.HasPrefix(args[0], "-") {
		return usageError(fs, "the backbone NAME comes first, then the flags")
	}
	name := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := checkBounds(bound{"--batch", *batch, 1, pipeline.MaxBatch}, bound{"--images", *images, 1, 100000},
		bound{"--size", *size, 32, pipeline.MaxImageSize}, bound{"--rounds", *rounds, 1, 100}, bound{"--threads", *threads, 1, 1024}); err != nil {
		return err
	}
	py := *python
	if *noTorch {
		py = ""
	}
	return bench.Backbone(os.Stdout, bench.BackboneConfig{
		Name: name, Layers: splitList(*layers), Size: *size, Batch: *batch, Images: *images,
		Rounds: *rounds, Python: py, Threads: *threads,
	})
}
