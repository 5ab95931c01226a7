package main

import (
	"os"
	"strings"

	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/export"
	"github.com/anomclust/anomclust/preprocess"
)

func init() {
	register(command{name: "features", summary: "write a backbone's feature maps as .npy (N, C, H, W)", run: runFeatures})
}

const featuresSynopsis = "--backbone NAME [--weights FILE | --random-weights] --layers L1,L2 --out DIR (IMAGES... | --input-npy FILE)"

func runFeatures(args []string) error {
	fs := newFlags("features", featuresSynopsis)
	name := fs.String("backbone", "", "backbone name: "+strings.Join(zoo.Names(), ", "))
	weights := fs.String("weights", "", "weights file (torch.save or safetensors with the model's key names; TFLite for mobilenet_*); default: the registry's file, from ANOMCLUST_WEIGHTS_PATH, the cache or a download")
	random := fs.Bool("random-weights", false, "use random weights instead of --weights (for smoke tests and speed checks)")
	layers := fs.String("layers", "", "comma-separated layer names (e.g. layer2,layer3 or blocks.10,blocks.11); default: the method's")
	out := fs.String("out", "", "output directory; one <layer>.npy per layer")
	inputNPY := fs.String("input-npy", "", "read an already-normalised float32 (N, 3, H, W) .npy instead of image files")
	batch := fs.Int("batch", 8, "images per forward pass (memory grows with it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *name == "":
		return usageError(fs, "--backbone NAME is required")
	case *out == "":
		return usageError(fs, "--out DIR is required")
	case *weights != "" && *random:
		return usageError(fs, "--weights and --random-weights exclude each other")
	case fs.NArg() == 0 && *inputNPY == "":
		return usageError(fs, "give image files or --input-npy FILE")
	case fs.NArg() > 0 && *inputNPY != "":
		return usageError(fs, "give image files or --input-npy FILE, not both")
	case *batch < 1 || *batch > 256:
		return usageError(fs, "--batch %d: want 1 to 256", *batch)
	}
	arch, err := zoo.Lookup(*name)
	if err != nil {
		return err
	}
	layerList := splitList(*layers)
	if len(layerList) == 0 {
		layerList = arch.DefaultLayers
	}
	bb, err := export.LoadBackbone(*name, *weights, *random, layerList)
	if err != nil {
		return err
	}
	var src export.ImageSource
	if *inputNPY != "" {
		s, err := export.OpenNPY(*inputNPY)
		if err != nil {
			return err
		}
		defer s.Close()
		src = s
	} else {
		p := bb.Preprocess()
		opts := preprocess.Options{Resize: p.Resize, Crop: p.Crop, Mean: p.Mean, Std: p.Std}
		src = export.Files(fs.Args(), opts)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	return export.WriteFeatures(bb, src, layerList, *out, *batch, os.Stderr)
}
