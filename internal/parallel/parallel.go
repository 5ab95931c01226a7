// Package parallel splits a range of independent work items [0, n) over
// goroutines, the two ways the pipeline's stages need: Range in equal
// contiguous parts (items of equal cost), Chunks handed out from a shared
// counter (items of unequal cost, or a machine shared with other jobs).
// Both return when every call of f has returned.
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
	chunk = max(chunk, 1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				f(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}
