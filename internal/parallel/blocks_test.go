package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestBlocks(t *testing.T) {
	for _, c := range []struct{ n, block, workers int }{
		{0, 4, 3}, {1, 4, 3}, {10, 3, 1}, {10, 3, 4}, {10, 0, 2}, {1000, 64, 7}, {5, 64, 2}, {100, 1, 3},
	} {
		nb := (c.n + max(c.block, 1) - 1) / max(c.block, 1)
		team := max(min(c.workers, nb), 1)
		var busy [16]atomic.Bool
		calls := cover(t, "Blocks", c.n, max(c.block, 1), func(f func(lo, hi int)) {
			Blocks(c.n, c.block, c.workers, func(w, lo, hi int) {
				if w < 0 || w >= team {
					t.Errorf("Blocks(%d, %d, %d): worker %d, want [0, %d)", c.n, c.block, c.workers, w, team)
					return
				}
				if busy[w].Swap(true) {
					t.Errorf("worker %d runs two blocks at once", w)
				}
				f(lo, hi)
				busy[w].Store(false)
			})
		})
		if calls != nb {
			t.Errorf("Blocks(%d, %d, %d): %d calls, want one per block (%d)", c.n, c.block, c.workers, calls, nb)
		}
	}
}

func TestDo(t *testing.T) {
	for _, workers := range []int{-1, 0, 1, 2, 5} {
		var mu sync.Mutex
		seen := map[int]int{}
		Do(workers, func(w int) {
			mu.Lock()
			seen[w]++
			mu.Unlock()
		})
		want := max(workers, 1)
		if len(seen) != want {
			t.Errorf("Do(%d): workers %v, want 0..%d once each", workers, seen, want-1)
		}
		for w := range want {
			if seen[w] != 1 {
				t.Errorf("Do(%d): f(%d) called %d times", workers, w, seen[w])
			}
		}
	}
}
