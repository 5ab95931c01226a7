package resnet

import (
	"sync"

	"github.com/anomclust/anomclust/tensor"
)

// arena recycles the float buffers of one forward pass: a buffer released
// after its last use is handed to the next request of the same length, so
// a ResNet forward pass allocates each distinct activation size about
// twice instead of once per conv (and the memory needs no zeroing: every
// conv writes all of its output). It only takes back buffers it handed
// out, so a map made elsewhere (the max pool's) cannot pile up in it. Not
// safe for concurrent use; a nil *arena allocates fresh buffers and
// ignores releases (tests call convs without one).
type arena struct {
	key   [3]int                // the input batch shape (N, H, W) it serves
	free  map[int][][]float32   // by length
	owned map[*float32]struct{} // first elements of the buffers it made
}

func newArena(key [3]int) *arena {
	return &arena{key: key, free: map[int][][]float32{}, owned: map[*float32]struct{}{}}
}

// floats returns a buffer of n > 0 floats with undefined contents.
func (a *arena) floats(n int) []float32 {
	if a == nil {
		return make([]float32, n)
	}
	if l := a.free[n]; len(l) > 0 {
		s := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		return s
	}
	s := make([]float32, n)
	a.owned[&s[0]] = struct{}{}
	return s
}

// tensor returns a tensor of the given shape on a buffer from floats.
func (a *arena) tensor(shape ...int) *tensor.Tensor {
	return tensor.From(a.floats(tensor.Numel(shape)), shape...)
}

// release gives s back for reuse if the arena made it; the caller must not
// touch it again.
func (a *arena) release(s []float32) {
	if a == nil || len(s) == 0 {
		return
	}
	if _, ok := a.owned[&s[0]]; ok {
		a.free[len(s)] = append(a.free[len(s)], s)
	}
}

// maxIdleArenas is how many arenas a model keeps between forward passes:
// one for the usual batch shape and one for another (the last, partial
// batch of a run, images of a second size), so that the memory a model
// holds stays bounded whatever sequence of shapes it sees.
const maxIdleArenas = 2

// arenaPool keeps the arenas of a model between forward passes, the most
// recently used last. Unlike a sync.Pool it is not emptied by the garbage
// collector, so buffers are allocated once per batch shape; each arena
// serves one input shape, and at most maxIdleArenas are kept.
type arenaPool struct {
	mu   sync.Mutex
	idle []*arena
}

// get returns an idle arena for input batches of shape key, or a new one.
func (p *arenaPool) get(key [3]int) *arena {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.idle) - 1; i >= 0; i-- {
		if a := p.idle[i]; a.key == key {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return a
		}
	}
	return newArena(key)
}

// put returns a to the pool, dropping the least recently used arena beyond
// maxIdleArenas.
func (p *arenaPool) put(a *arena) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, a)
	if len(p.idle) > maxIdleArenas {
		p.idle = append(p.idle[:0], p.idle[len(p.idle)-maxIdleArenas:]...)
	}
}
