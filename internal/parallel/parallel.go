// Package parallel is the program's one parallel-for: it splits a range
// of independent work items [0, n) over goroutines, the ways the pipeline's
// stages and the numeric core need: Range in equal contiguous parts (items
// of equal cost), Chunks and Blocks handed out from a shared counter (items
// of unequal cost, or a machine shared with other jobs; Blocks also tells
// f which goroutine runs it, for per-goroutine scratch space), and Do, a
// fixed team of goroutines that share out the work themselves (gemm's
// guided schedule). All return when every call of f has returned.
package parallel

import (
	"sync"
	"sync/atomic"
)

// Range calls f(lo, hi) on up to workers contiguous parts of [0, n) of
// (nearly) equal size, concurrently; with workers <= 1 or n <= 1 it calls
// f(0, n) on the caller's goroutine.
func Range(n, workers int, f func(lo, hi int)) {
	workers = min(workers, n)
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for c := 0; c < workers; c++ {
		lo, hi := c*n/workers, (c+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// Chunks calls f(lo, hi) on the chunks [lo, lo+chunk) of [0, n) (the last
// one shorter), which workers goroutines take in order from a shared
// counter, so a slow item or core holds up one chunk, not a fixed share.
// With workers <= 1 it calls f(0, n) on the caller's goroutine.
func Chunks(n, chunk, workers int, f func(lo, hi int)) {
	if workers <= 1 {
		f(0, n)
		return
	}
	Blocks(n, chunk, workers, func(_, lo, hi int) { f(lo, hi) })
}

// Blocks calls f(w, lo, hi) for the blocks [lo, hi) of size block that
// cover [0, n), handing blocks out in order from a shared counter to at
// most workers goroutines (no more than there are blocks). w in
// [0, workers) identifies the goroutine, for per-goroutine scratch space:
// one goroutine never runs two blocks at once. With one worker (or one
// block) every block runs on the caller's goroutine, in order, as w = 0.
func Blocks(n, block, workers int, f func(w, lo, hi int)) {
	if n <= 0 {
		return
	}
	block = max(block, 1)
	nb := (n + block - 1) / block
	workers = min(workers, nb)
	if workers <= 1 {
		for lo := 0; lo < n; lo += block {
			f(0, lo, min(lo+block, n))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= nb {
					return
				}
				lo := b * block
				f(w, lo, min(lo+block, n))
			}
		}()
	}
	wg.Wait()
}

// Do runs f(0), ..., f(workers-1) concurrently, f(0) on the caller's
// goroutine, and waits for all of them: a team whose members share out
// the work themselves (e.g. from an atomic counter with a schedule of
// their own). With workers <= 1 it calls f(0) only.
func Do(workers int, f func(w int)) {
	if workers <= 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			f(w)
		}()
	}
	f(0)
	wg.Wait()
}
