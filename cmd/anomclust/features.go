package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/tensor"
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
	bb, err := loadBackbone(*name, *weights, *random, layerList)
	if err != nil {
		return err
	}
	var src imageSource
	if *inputNPY != "" {
		s, err := openNPYImages(*inputNPY)
		if err != nil {
			return err
		}
		defer s.Close()
		src = s
	} else {
		p := bb.Preprocess()
		opts := preprocess.Options{Resize: p.Resize, Crop: p.Crop, Mean: p.Mean, Std: p.Std}
		src = &fileImages{paths: fs.Args(), opts: opts}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	return writeFeatures(bb, src, layerList, *out, *batch)
}

// loadBackbone builds name from a weights file (the registry's when
// weights is empty) or, when random is set, from random weights of the
// right shapes.
func loadBackbone(name, weights string, random bool, layers []string) (backbone.Backbone, error) {
	if random {
		w, err := zoo.RandomWeights(name, 1)
		if err != nil {
			return nil, err
		}
		return zoo.New(name, w, layers...)
	}
	return zoo.Open(context.Background(), name, weights, layers...)
}

// imageSource yields preprocessed (H, W, 3) images in order.
type imageSource interface {
	Len() int
	// Next returns the next image, or io.EOF after the last.
	Next() (*tensor.Tensor, error)
}

// fileImages decodes and preprocesses image files one at a time.
type fileImages struct {
	paths []string
	opts  preprocess.Options
	i     int
}

func (f *fileImages) Len() int { return len(f.paths) }

func (f *fileImages) Next() (*tensor.Tensor, error) {
	if f.i >= len(f.paths) {
		return nil, io.EOF
	}
	r, err := f.opts.Load(f.paths[f.i])
	f.i++
	if err != nil {
		return nil, err
	}
	return r.X, nil
}

// writeFeatures runs the backbone over src in batches and streams each layer
// to <out>/<layer>.npy as float32 (N, C, H, W): memory is bounded by one
// batch whatever the number of images.
func writeFeatures(bb backbone.Backbone, src imageSource, layers []string, out string, batch int) error {
	n := src.Len()
	writers := make(map[string]*mapWriter, len(layers))
	defer func() {
		for _, w := range writers {
			w.w.Discard() // after an error: no partial file
		}
	}()
	imgs := make([]*tensor.Tensor, 0, batch)
	done := 0
	flush := func() error {
		if len(imgs) == 0 {
			return nil
		}
		maps, err := bb.Forward(imgs, layers)
		if err != nil {
			return err
		}
		for _, m := range maps {
			for _, l := range layers {
				t := m[l]
				w := writers[l]
				if w == nil {
					// The first image fixes the map size of the file.
					path := filepath.Join(out, l+".npy")
					w, err = createMapWriter(path, []int{n, t.Shape[2], t.Shape[0], t.Shape[1]})
					if err != nil {
						return err
					}
					writers[l] = w
				}
				if err := w.writeCHW(t); err != nil {
					return err
				}
			}
		}
		done += len(imgs)
		imgs = imgs[:0]
		return nil
	}
	for {
		x, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		imgs = append(imgs, x)
		if len(imgs) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, l := range layers {
		if err := writers[l].w.Close(); err != nil {
			return err
		}
		delete(writers, l)
	}
	fmt.Fprintf(os.Stderr, "features: %d images, layers %s -> %s\n", done, strings.Join(layers, ","), out)
	return nil
}

// mapWriter streams per-image channels-last maps to an (N, C, H, W)
// float32 .npy file (package npy writes it atomically on close).
type mapWriter struct {
	w     *npy.Writer[float32]
	path  string
	shape []int // (N, C, H, W)
	plane []float32
}

func createMapWriter(path string, shape []int) (*mapWriter, error) {
	w, err := npy.Create[float32](path, shape...)
	if err != nil {
		return nil, err
	}
	return &mapWriter{w: w, path: path, shape: shape, plane: make([]float32, shape[2]*shape[3])}, nil
}

// writeCHW appends one channels-last (H, W, C) map transposed to (C, H, W).
func (w *mapWriter) writeCHW(t *tensor.Tensor) error {
	h, wd, c := t.Shape[0], t.Shape[1], t.Shape[2]
	if h != w.shape[2] || wd != w.shape[3] || c != w.shape[1] {
		return fmt.Errorf("%s: map (%d, %d, %d) does not fit shape %v (images of different sizes?)", w.path, c, h, wd, w.shape)
	}
	for ch := 0; ch < c; ch++ {
		for i := range w.plane {
			w.plane[i] = t.Data[i*c+ch]
		}
		if err := w.w.Write(w.plane); err != nil {
			return err
		}
	}
	return nil
}

// npyImages reads an (N, 3, H, W) float32 array one image at a time and
// returns each as channels-last (H, W, 3).
type npyImages struct {
	r       *npy.Reader[float32]
	n, h, w int
	i       int
	buf     []float32
}

func openNPYImages(path string) (*npyImages, error) {
	r, err := npy.Open[float32](path)
	if err != nil {
		return nil, err
	}
	shape := r.Header().Shape
	if len(shape) != 4 || shape[1] != 3 {
		r.Close()
		return nil, fmt.Errorf("%s: shape %v, want (N, 3, H, W)", path, shape)
	}
	return &npyImages{r: r, n: shape[0], h: shape[2], w: shape[3], buf: make([]float32, 3*shape[2]*shape[3])}, nil
}

func (s *npyImages) Len() int { return s.n }

func (s *npyImages) Next() (*tensor.Tensor, error) {
	if s.i >= s.n {
		return nil, io.EOF
	}
	if err := s.r.Read(s.buf); err != nil {
		return nil, fmt.Errorf("image %d: %w", s.i, err)
	}
	s.i++
	hw := s.h * s.w
	x := tensor.New(s.h, s.w, 3)
	for c := 0; c < 3; c++ {
		for i := 0; i < hw; i++ {
			x.Data[i*3+c] = s.buf[c*hw+i]
		}
	}
	return x, nil
}

func (s *npyImages) Close() error { return s.r.Close() }
