package alpha

import (
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

func stopTestZ(n, m, d int, seed uint64) []*tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	z := make([]*tensor.Tensor, n)
	for i := range z {
		z[i] = tensor.New(m, d)
		for k := range z[i].Data {
			z[i].Data[k] = r.Float32()
		}
	}
	return z
}

// TestProgressTotalsAndStop checks the hooks the pipeline uses for its progress
// bar and Ctrl-C: every unit of work is reported exactly once with the right
// total, and a closed Done channel stops the computation with ErrStopped.
func TestProgressTotalsAndStop(t *testing.T) {
	z := stopTestZ(5, 6, 4, 1)
	for _, strat := range []Strategy{Symmetric, Fused} {
		var done, total atomic.Int64
		opt := Options{Strategy: strat, Progress: func(n, tot int) { done.Add(int64(n)); total.Store(int64(tot)) }}
		if _, err := Unsupervised(z, opt); err != nil {
			t.Fatal(err)
		}
		want := int64(5 * 4 / 2) // unordered pairs
		if strat == Fused {
			want = 5 * 4 // ordered pairs
		}
		if done.Load() != want || total.Load() != want {
			t.Errorf("strategy %d: progress %d of %d, want %d of %d", strat, done.Load(), total.Load(), want, want)
		}
		closed := make(chan struct{})
		close(closed)
		if _, err := Unsupervised(z, Options{Strategy: strat, Done: closed}); !errors.Is(err, ErrStopped) {
			t.Errorf("strategy %d: closed Done gave %v, want ErrStopped", strat, err)
		}
	}
	var done atomic.Int64
	bank := stopTestZ(3, 6, 4, 2)
	if _, err := SemiSupervised(z[:2], bank, Options{Workers: 2, Progress: func(n, tot int) {
		done.Add(int64(n))
		if tot != 2*3 {
			t.Errorf("semi total %d, want 6 (2 test images x 3 bank blocks)", tot)
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if done.Load() != 6 {
		t.Errorf("semi progress %d, want 6", done.Load())
	}
	closed := make(chan struct{})
	close(closed)
	if _, err := SemiSupervised(z[:2], bank, Options{Done: closed}); !errors.Is(err, ErrStopped) {
		t.Errorf("semi: closed Done gave %v, want ErrStopped", err)
	}
}
