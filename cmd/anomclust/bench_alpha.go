package main

import (
	"fmt"
	"os"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/bench"
	"github.com/anomclust/anomclust/pipeline"
)

func init() {
	registerBench(benchTarget{
		name:    "alpha",
		summary: "unsupervised patch scores (N images x M patches x D) vs a PyTorch torch.cdist loop",
		run:     runBenchAlpha,
	})
}

func runBenchAlpha(args []string) error {
	fs := newFlags("bench alpha", "[flags]")
	n := fs.Int("n", 100, "number of images N")
	m := fs.Int("m", 784, "patches per image M (784 = 28x28)")
	d := fs.Int("d", 1024, "embedding dimension D")
	seed := fs.Uint64("seed", 1, "seed of the random Z and of the PyTorch sample")
	strategy := fs.String("strategy", "symmetric", "our pair strategy: symmetric or fused (see package alpha)")
	workers := fs.Int("workers", 0, "our pair workers (0 = GOMAXPROCS)")
	sample := fs.Int("pairs-sample", 100, "time PyTorch on about this many image pairs, taken as whole query images (each against all N-1 others), and extrapolate to all N(N-1) pairs; 0 = all pairs")
	python := pythonFlag(fs)
	threads := fs.Int("torch-threads", 2, "torch.set_num_threads for the reference loop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkBounds(bound{"--n", *n, 2, 10000}, bound{"--m", *m, 1, pipeline.MaxPatches}, bound{"--d", *d, 1, pipeline.MaxDim},
		bound{"--workers", *workers, 0, pipeline.MaxWorkers}); err != nil {
		return err
	}
	var st alpha.Strategy
	switch *strategy {
	case "symmetric":
		st = alpha.Symmetric
	case "fused":
		st = alpha.Fused
	default:
		return fmt.Errorf("unknown --strategy %q (symmetric or fused)", *strategy)
	}
	return bench.Alpha(os.Stdout, bench.AlphaConfig{
		N: *n, M: *m, D: *d, Seed: *seed, Strategy: st, StrategyName: *strategy, Workers: *workers,
		PairsSample: *sample, Python: *python, TorchThreads: *threads,
	})
}
