package tensor

import (
	"runtime"

	"github.com/anomclust/anomclust/internal/parallel"
)

// numWorkers is how many goroutines a parallel operation uses.
func numWorkers() int { return runtime.GOMAXPROCS(0) }

// forBlocks calls f(worker, lo, hi) for the blocks [lo, hi) of size block
// that cover [0, n), handing blocks out dynamically to at most workers
// goroutines (the machine is shared, so static splits would wait on the
// slowest core): parallel.Blocks. worker is in [0, workers) and identifies
// per-goroutine scratch space.
func forBlocks(n, block, workers int, f func(worker, lo, hi int)) {
	parallel.Blocks(n, block, workers, f)
}

// blockFor picks a block size for n items of the given cost each so that
// every worker gets a few blocks (for balance) but no block is trivially small.
func blockFor(n, minBlock, workers int) int {
	b := (n + 4*workers - 1) / (4 * workers)
	return max(b, minBlock)
}
