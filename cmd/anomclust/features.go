package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
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
	if *name == "" || *out == "" || (*weights != "" && *random) || (fs.NArg() == 0) == (*inputNPY == "") || *batch < 1 {
		fs.Usage()
		return errUsage
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
	writers := make(map[string]*npyWriter, len(layers))
	defer func() {
		for _, w := range writers {
			w.f.Close()
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
					w, err = createNPY(path, []int{n, t.Shape[2], t.Shape[0], t.Shape[1]})
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
		if err := writers[l].close(); err != nil {
			return err
		}
		delete(writers, l)
	}
	fmt.Fprintf(os.Stderr, "features: %d images, layers %s -> %s\n", done, strings.Join(layers, ","), out)
	return nil
}

// Streaming .npy output: package npy writes whole arrays, but features must
// not hold N images' maps, so the header (format 1.0, as numpy writes it)
// goes first and each batch is appended.

// npyWriter streams a float32 array whose header was written up front.
type npyWriter struct {
	f     *os.File
	bw    *bufio.Writer
	path  string
	shape []int
	left  int // values still expected
	buf   []byte
}

func createNPY(path string, shape []int) (*npyWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = strconv.Itoa(s)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	// Pad with spaces so that magic + len + header + '\n' is a multiple of 64.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	w := &npyWriter{f: f, bw: bufio.NewWriterSize(f, 1<<20), path: path, shape: shape, left: tensor.Numel(shape)}
	w.bw.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w.bw, binary.LittleEndian, uint16(len(header)))
	w.bw.WriteString(header)
	return w, nil
}

// writeCHW appends one channels-last (H, W, C) map transposed to (C, H, W).
func (w *npyWriter) writeCHW(t *tensor.Tensor) error {
	h, wd, c := t.Shape[0], t.Shape[1], t.Shape[2]
	if h != w.shape[2] || wd != w.shape[3] || c != w.shape[1] {
		return fmt.Errorf("%s: map (%d, %d, %d) does not fit shape %v (images of different sizes?)", w.path, c, h, wd, w.shape)
	}
	if len(w.buf) < 4*h*wd {
		w.buf = make([]byte, 4*h*wd)
	}
	for ch := 0; ch < c; ch++ {
		for i := 0; i < h*wd; i++ {
			binary.LittleEndian.PutUint32(w.buf[4*i:], math.Float32bits(t.Data[i*c+ch]))
		}
		if _, err := w.bw.Write(w.buf[:4*h*wd]); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	w.left -= h * wd * c
	return nil
}

func (w *npyWriter) close() error {
	if w.left != 0 {
		w.f.Close()
		return fmt.Errorf("%s: %d values missing", w.path, w.left)
	}
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.f.Close()
}

// npyImages reads an (N, 3, H, W) float32 array one image at a time and
// returns each as channels-last (H, W, 3).
type npyImages struct {
	f       *os.File
	r       *bufio.Reader
	path    string
	n, h, w int
	i       int
	buf     []byte
}

func openNPYImages(path string) (*npyImages, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	shape, err := readNPYHeader(r)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(shape) != 4 || shape[1] != 3 {
		f.Close()
		return nil, fmt.Errorf("%s: shape %v, want (N, 3, H, W)", path, shape)
	}
	return &npyImages{f: f, r: r, path: path, n: shape[0], h: shape[2], w: shape[3]}, nil
}

// readNPYHeader reads and checks the header of a .npy stream (package npy
// parses it) and leaves r at the first element.
func readNPYHeader(r io.Reader) ([]int, error) {
	pre := make([]byte, 12)
	if _, err := io.ReadFull(r, pre[:10]); err != nil {
		return nil, fmt.Errorf("not a .npy file: %w", err)
	}
	var hl, n int
	switch pre[6] {
	case 1:
		hl, n = int(binary.LittleEndian.Uint16(pre[8:10])), 10
	default:
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, err
		}
		hl, n = int(binary.LittleEndian.Uint32(pre[8:12])), 12
	}
	if hl > 1<<20 {
		return nil, fmt.Errorf(".npy header of %d bytes", hl)
	}
	b := append(pre[:n], make([]byte, hl)...)
	if _, err := io.ReadFull(r, b[n:]); err != nil {
		return nil, fmt.Errorf("truncated .npy header: %w", err)
	}
	h, err := npy.ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if h.Descr != "<f4" {
		return nil, fmt.Errorf("dtype %s, want float32 (<f4)", h.Descr)
	}
	return h.Shape, nil
}

func (s *npyImages) Len() int { return s.n }

func (s *npyImages) Next() (*tensor.Tensor, error) {
	if s.i >= s.n {
		return nil, io.EOF
	}
	hw := s.h * s.w
	if len(s.buf) < 4*3*hw {
		s.buf = make([]byte, 4*3*hw)
	}
	if _, err := io.ReadFull(s.r, s.buf[:4*3*hw]); err != nil {
		return nil, fmt.Errorf("%s: image %d: %w", s.path, s.i, err)
	}
	s.i++
	x := tensor.New(s.h, s.w, 3)
	for c := 0; c < 3; c++ {
		for i := 0; i < hw; i++ {
			x.Data[i*3+c] = math.Float32frombits(binary.LittleEndian.Uint32(s.buf[4*(c*hw+i):]))
		}
	}
	return x, nil
}

func (s *npyImages) Close() error { return s.f.Close() }
