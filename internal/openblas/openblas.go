// Package openblas loads OpenBLAS's cblas_sgemm at run time with
// github.com/ebitengine/purego (dlopen, no cgo), for the speed comparisons of
// `anomclust bench gemm`. OpenBLAS is never required: Open reports an error
// when no library is found and callers carry on without it.
package openblas

import (
	"errors"
	"fmt"

	"github.com/ebitengine/purego"
)

// candidates are tried in order; the first is the Debian libopenblas0-pthread
// soname, found through the loader's search path.
var candidates = []string{
	"libopenblas.so.0",
	"/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
	"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
	"libopenblas.so",
}

// CBLAS enum values (cblas.h).
const (
	rowMajor = 101
	noTrans  = 111
	trans    = 112
)

// Lib is a loaded OpenBLAS.
type Lib struct {
	// Path is the library file that was loaded.
	Path       string
	sgemm      func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	setThreads func(n int32)
	getThreads func() int32
	corename   func() string
}

// Open loads OpenBLAS from the first candidate path that dlopen accepts.
// The OPENBLAS_CORETYPE environment variable is read by OpenBLAS when it is
// loaded, so set or unset it before calling Open.
func Open() (*Lib, error) {
	var errs []error
	for _, p := range candidates {
		h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			errs = append(errs, fmt.Errorf("dlopen %s: %w", p, err))
			continue
		}
		l := &Lib{Path: p}
		for name, fn := range map[string]any{
			"cblas_sgemm":              &l.sgemm,
			"openblas_set_num_threads": &l.setThreads,
			"openblas_get_num_threads": &l.getThreads,
			"openblas_get_corename":    &l.corename,
		} {
			if _, err := purego.Dlsym(h, name); err != nil {
				return nil, fmt.Errorf("%s: no symbol %s: %w", p, name, err)
			}
			purego.RegisterLibFunc(fn, h, name)
		}
		return l, nil
	}
	return nil, fmt.Errorf("OpenBLAS not found: %w", errors.Join(errs...))
}

// SetThreads sets the number of threads OpenBLAS uses.
func (l *Lib) SetThreads(n int) { l.setThreads(int32(n)) }

// Threads is the number of threads OpenBLAS uses.
func (l *Lib) Threads() int { return int(l.getThreads()) }

// CoreName is the kernel family OpenBLAS selected for this CPU (e.g.
// "Cooperlake", or "Haswell" when OPENBLAS_CORETYPE forces it).
func (l *Lib) CoreName() string { return l.corename() }

// Sgemm computes C = A·B (transB false; B k x n) or C = A·Bᵀ (transB true;
// B n x k), row-major, with the same arguments as gemm.MatMul (accumulate
// is beta = 1). Slices must be long enough for their shapes.
func (l *Lib) Sgemm(transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	tb := int32(noTrans)
	if transB {
		tb = trans
	}
	var beta float32
	if accumulate {
		beta = 1
	}
	l.sgemm(rowMajor, noTrans, tb, int32(m), int32(n), int32(k), 1, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
}
