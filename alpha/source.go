package alpha

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/anomclust/anomclust/tensor"
)

// Source gives the patch embeddings Z of N images one image at a time, so
// that the streaming score functions (RefDistances, UnsupervisedFrom,
// SemiFrom, ImageEmbeddingsFrom) hold only the images they work on, not all
// N (a feature cache on disk, or Tensors in memory).
type Source interface {
	// Len is the number of images N.
	Len() int
	// Dims are the patches M and the dimension D of every image.
	Dims() (m, d int)
	// Z returns image i's (M x D) values, row-major. It may fill and return
	// buf (len M*D) or return memory of its own; the caller neither
	// modifies the result nor keeps it after reusing buf. Z must be safe
	// for concurrent calls with distinct bufs.
	Z(i int, buf []float32) ([]float32, error)
}

// Tensors is a Source over (M, D) matrices held in memory; Z returns them
// without copying. Check it with CheckSource before use.
type Tensors []*tensor.Tensor

// Len is the number of images.
func (t Tensors) Len() int { return len(t) }

// Dims are the shape of the first image (CheckSource checks the others).
func (t Tensors) Dims() (m, d int) {
	if len(t) == 0 || t[0] == nil || len(t[0].Shape) != 2 {
		return 0, 0
	}
	return t[0].Shape[0], t[0].Shape[1]
}

// Z returns image i's data itself.
func (t Tensors) Z(i int, _ []float32) ([]float32, error) { return t[i].Data, nil }

// CheckSource verifies that src is usable: for Tensors, that every matrix
// has the same (M, D) shape; for any Source, that M and D are positive.
func CheckSource(what string, src Source) (m, d int, err error) {
	if t, ok := src.(Tensors); ok {
		return checkZ(what, t)
	}
	m, d = src.Dims()
	if m <= 0 || d <= 0 {
		return 0, 0, fmt.Errorf("alpha: %s: empty patch embeddings (M=%d, D=%d)", what, m, d)
	}
	return m, d, nil
}

// ImageEmbeddingsFrom is ImageEmbeddings for several weightings at once,
// reading each image's Z once from src: out[k] is X for alpha[k] (each
// (N x M) row-major, N = src.Len()). Memory: one image per worker besides
// the outputs.
func ImageEmbeddingsFrom(src Source, alphas [][]float64, opt Options) ([]*tensor.Tensor, error) {
	N := src.Len()
	if N == 0 {
		return nil, fmt.Errorf("alpha: no images")
	}
	M, D, err := CheckSource("embeddings", src)
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(alphas))
	for k, a := range alphas {
		if len(a) != N*M {
			return nil, fmt.Errorf("alpha: %d weights for %d images of %d patches", len(a), N, M)
		}
		out[k] = tensor.New(N, D)
	}
	workers := min(opt.workers(), N, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]float32, M*D)
			acc := make([]float64, D)
			for i := w; i < N; i += workers {
				if stopped(opt.Done) {
					errs[w] = fmt.Errorf("image embeddings: %w", ErrStopped)
					return
				}
				zi, err := src.Z(i, buf)
				if err != nil {
					errs[w] = fmt.Errorf("alpha: Z of image %d: %w", i, err)
					return
				}
				for k, alpha := range alphas {
					clear(acc)
					for m, a := range alpha[i*M : (i+1)*M] {
						if a == 0 {
							continue
						}
						for d, v := range zi[m*D : (m+1)*D] {
							acc[d] += a * float64(v)
						}
					}
					xi := out[k].Data[i*D : (i+1)*D]
					for d, v := range acc {
						xi[d] = float32(v)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
