package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	// The decoders of preprocess.DecodeFile, so that an image passing the
	// check also decodes in the embedding stage.
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
)

// fullDecodes counts the images checkImage decoded in full (tests).
var fullDecodes atomic.Int64

// checkImage decodes the whole image at path, as the embedding stage will:
// the header first (format known, size within MaxPixels, so that a huge
// image is refused before its pixels are allocated), then every pixel, so
// that truncated or corrupt pixel data is caught before any backbone work.
// With headerOnly (an image whose Z the feature cache holds: the
// embedding stage will not decode it) the pixels are not decoded.
func checkImage(path string, headerOnly bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("not a readable PNG, JPEG or BMP image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("%s image of %d x %d pixels", format, cfg.Width, cfg.Height)
	}
	if float64(cfg.Width)*float64(cfg.Height) > MaxPixels {
		return fmt.Errorf("%s image of %d x %d pixels: more than %.0e pixels", format, cfg.Width, cfg.Height, MaxPixels)
	}
	if headerOnly {
		return nil
	}
	fullDecodes.Add(1)
	if _, err := f.Seek(0, 0); err != nil {
		return err
	}
	if _, _, err := image.Decode(bufio.NewReaderSize(f, 64<<10)); err != nil {
		return fmt.Errorf("%s image of %d x %d pixels whose pixel data does not decode (truncated or corrupt file?): %w", format, cfg.Width, cfg.Height, err)
	}
	return nil
}

// decodeAll runs checkImage on every path with up to workers goroutines
// (0 or more than GOMAXPROCS = GOMAXPROCS: each holds one decoded image)
// and returns the error of each path (nil = readable), in
// the order of paths, and how many were in the cache. An image whose
// patch embeddings the extractor x finds in its feature cache (a valid
// entry for its content's SHA-256 and the run's settings: x.cached) has
// only its header checked, since the embedding stage reads the cached Z
// instead of decoding it; x nil or without a cache checks every image in
// full. It stops early with ctx's error when ctx is done.
func decodeAll(ctx context.Context, paths []string, workers int, x *extractor) ([]error, int, error) {
	if n := runtime.GOMAXPROCS(0); workers <= 0 || workers > n {
		workers = n
	}
	workers = min(workers, max(len(paths), 1))
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	var hits atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []float32
			for i := range next {
				cached := false
				if x != nil {
					cached, buf = x.cached(paths[i], buf)
				}
				if cached {
					hits.Add(1)
				}
				errs[i] = checkImage(paths[i], cached)
			}
		}()
	}
	var stopped error
feed:
	for i := range paths {
		select {
		case next <- i:
		case <-ctx.Done():
			stopped = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if stopped != nil {
		return nil, 0, stopped
	}
	return errs, int(hits.Load()), nil
}

// countErrs is the number of non-nil errors.
func countErrs(errs []error) int {
	n := 0
	for _, e := range errs {
		if e != nil {
			n++
		}
	}
	return n
}
