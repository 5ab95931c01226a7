package resnet

import (
	"sync"

	"github.com/anomclust/anomclust/tensor"
)

// arena recycles the float buffers of one forward pass: a buffer released
// after its last use is handed to the next request of the same length, so
// a ResNet forward pass allocates each distinct activation size about
// twice instead of once per conv (and the memory needs no zeroing: every
// conv writes all of its output). Not safe for concurrent use; a nil
// *arena allocates fresh buffers and ignores releases (tests call convs
// without one).
type arena struct {
	free map[int][][]float32 // by length
}

func newArena() *arena { return &arena{free: map[int][][]float32{}} }

// floats returns a buffer of n floats with undefined contents.
func (a *arena) floats(n int) []float32 {
	if a != nil {
		if l := a.free[n]; len(l) > 0 {
			s := l[len(l)-1]
			a.free[n] = l[:len(l)-1]
			return s
		}
	}
	return make([]float32, n)
}

// tensor returns a tensor of the given shape on a buffer from floats.
func (a *arena) tensor(shape ...int) *tensor.Tensor {
	return tensor.From(a.floats(tensor.Numel(shape)), shape...)
}

// release gives s back for reuse; the caller must not touch it again.
func (a *arena) release(s []float32) {
	if a != nil {
		a.free[len(s)] = append(a.free[len(s)], s)
	}
}

// arenaPool keeps the arenas of a model between forward passes: one per
// concurrent ForwardBatch (usually one). Unlike a sync.Pool it is not
// emptied by the garbage collector, so the buffers are allocated once per
// batch shape, and the memory they hold stays bounded by the largest batch
// run at the same time.
type arenaPool struct {
	mu   sync.Mutex
	idle []*arena
}

func (p *arenaPool) get() *arena {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		a := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return a
	}
	return newArena()
}

func (p *arenaPool) put(a *arena) {
	p.mu.Lock()
	p.idle = append(p.idle, a)
	p.mu.Unlock()
}
