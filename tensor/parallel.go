package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// numWorkers is how many goroutines a parallel operation uses.
func numWorkers() int { return runtime.GOMAXPROCS(0) }

// forBlocks calls f(worker, lo, hi) for the blocks [lo, hi) of size block
// that cover [0, n), handing blocks out dynamically to at most workers
// goroutines (the machine is shared, so static splits would wait on the
// slowest core). worker is in [0, workers) and identifies per-goroutine
// scratch space; one goroutine never runs two blocks at once.
func forBlocks(n, block, workers int, f func(worker, lo, hi int)) {
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
	for id := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= nb {
					return
				}
				lo := b * block
				f(id, lo, min(lo+block, n))
			}
		}()
	}
	wg.Wait()
}

// blockFor picks a block size for n items of the given cost each so that
// every worker gets a few blocks (for balance) but no block is trivially small.
func blockFor(n, minBlock, workers int) int {
	b := (n + 4*workers - 1) / (4 * workers)
	return max(b, minBlock)
}
