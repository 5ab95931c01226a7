package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
)

// Run on a small synthetic defect set (one category, "wood": three defect
// types and good, three test images each, 64 px) with a ResNet-18 of
// random weights, so that nothing is downloaded. Real runs set
// o.Backbone (or keep the preset's) instead of o.Net. The metrics of a
// random network mean nothing, so only the run's shape is printed.
func ExampleRun() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "anomclust-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(ctx, data, synth.Options{Categories: 2, Train: 4, PerType: 3, Size: 64, Seed: 1}); err != nil {
		panic(err)
	}

	sd, err := zoo.RandomWeights("resnet18", 1)
	if err != nil {
		panic(err)
	}
	net, err := zoo.New("resnet18", sd, "layer2", "layer3")
	if err != nil {
		panic(err)
	}

	o, err := pipeline.Preset("")
	if err != nil {
		panic(err)
	}
	o.Data, o.Out = data, filepath.Join(dir, "out")
	o.Categories = []string{"wood"}
	o.Net, o.NetID, o.NetRandom = net, "resnet18-random-1", true
	o.Layers = []string{"layer2", "layer3"}
	o.PretrainDim, o.TargetDim = 64, 32
	o.ImageSize, o.Resize = 64, 72
	o.Modes = []string{rundir.ModeUnsupervised, rundir.ModeAverage}
	o.Taus = []float64{1}
	res, err := pipeline.Run(ctx, o)
	if err != nil {
		panic(err)
	}

	for _, c := range res.Run.Categories {
		fmt.Printf("%s: %d images, K = %d, %dx%d patches of dimension %d\n", c.Name, c.NImages, c.K, c.GridH, c.GridW, c.Dim)
	}
	for _, r := range res.Summary {
		if r.Kind == rundir.KindCategory {
			ok := r.NMI >= 0 && r.NMI <= 1 && r.F1 >= 0 && r.F1 <= 1
			fmt.Printf("%s %s (has tau: %t): NMI and F1 in [0, 1]: %t\n", r.Category, r.Mode, r.HasTau, ok)
		}
	}
	// Output:
	// wood: 12 images, K = 4, 8x8 patches of dimension 32
	// wood unsupervised (has tau: true): NMI and F1 in [0, 1]: true
	// wood average (has tau: false): NMI and F1 in [0, 1]: true
}
