// Package export writes a backbone's feature maps of a set of images as
// .npy files (N, C, H, W), one per layer: the library side of
// `anomclust features`, for comparisons with other implementations.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/tensor"
)

// LoadBackbone builds the backbone name from a weights file (the registry's when
// weights is empty) or, when random is set, from random weights of the
// right shapes.
func LoadBackbone(name, weights string, random bool, layers []string) (backbone.Backbone, error) {
	if random {
		w, err := zoo.RandomWeights(name, 1)
		if err != nil {
			return nil, err
		}
		return zoo.New(name, w, layers...)
	}
	return zoo.Open(context.Background(), name, weights, layers...)
}

// ImageSource yields preprocessed (H, W, 3) images in order.
type ImageSource interface {
	Len() int
	// Next returns the next image, or io.EOF after the last.
	Next() (*tensor.Tensor, error)
}

// FileImages decodes and preprocesses image files one at a time.
type FileImages struct {
	paths []string
	opts  preprocess.Options
	i     int
}

// Files reads paths with opts (the backbone's preprocessing).
func Files(paths []string, opts preprocess.Options) *FileImages {
	return &FileImages{paths: paths, opts: opts}
}

// Len is the number of images.

func (f *FileImages) Len() int { return len(f.paths) }

// Next decodes and preprocesses the next file, or returns io.EOF.
func (f *FileImages) Next() (*tensor.Tensor, error) {
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

// WriteFeatures runs the backbone over src in batches and streams each layer
// to <out>/<layer>.npy as float32 (N, C, H, W): memory is bounded by one
// batch whatever the number of images. The files are written atomically:
// after an error none is left. A one-line summary goes to log (nil: none).
func WriteFeatures(bb backbone.Backbone, src ImageSource, layers []string, out string, batch int, log io.Writer) error {
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
	if log == nil {
		return nil
	}
	fmt.Fprintf(log, "features: %d images, layers %s -> %s\n", done, strings.Join(layers, ","), out)
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

// NPYImages reads an (N, 3, H, W) float32 array one image at a time and
// returns each as channels-last (H, W, 3).
type NPYImages struct {
	r       *npy.Reader[float32]
	n, h, w int
	i       int
	buf     []float32
}

// OpenNPY opens an already-normalised float32 (N, 3, H, W) .npy file.
func OpenNPY(path string) (*NPYImages, error) {
	r, err := npy.Open[float32](path)
	if err != nil {
		return nil, err
	}
	shape := r.Header().Shape
	if len(shape) != 4 || shape[1] != 3 {
		r.Close()
		return nil, fmt.Errorf("%s: shape %v, want (N, 3, H, W)", path, shape)
	}
	return &NPYImages{r: r, n: shape[0], h: shape[2], w: shape[3], buf: make([]float32, 3*shape[2]*shape[3])}, nil
}

// Len is the number of images.
func (s *NPYImages) Len() int { return s.n }

// Next reads the next image as (H, W, 3), or returns io.EOF.
func (s *NPYImages) Next() (*tensor.Tensor, error) {
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

// Close closes the file.
func (s *NPYImages) Close() error { return s.r.Close() }
