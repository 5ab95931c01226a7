package parallel

import (
	"sync"
	"testing"
)

// cover runs split over [0, n) and checks that every item is visited
// exactly once, in parts no longer than maxPart, and returns the number of
// calls.
func cover(t *testing.T, name string, n, maxPart int, split func(f func(lo, hi int))) int {
	t.Helper()
	seen := make([]int, n)
	var mu sync.Mutex
	calls := 0
	split(func(lo, hi int) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if lo < 0 || hi > n || lo > hi || hi-lo > maxPart {
			t.Errorf("%s: part [%d, %d) of [0, %d), longest allowed %d", name, lo, hi, n, maxPart)
			return
		}
		for i := lo; i < hi; i++ {
			seen[i]++
		}
	})
	for i, s := range seen {
		if s != 1 {
			t.Errorf("%s: item %d visited %d times", name, i, s)
			break
		}
	}
	return calls
}

func TestRange(t *testing.T) {
	for _, c := range []struct{ n, workers, calls int }{
		{0, 4, 1}, {1, 4, 1}, {10, 1, 1}, {10, 0, 1}, {10, 3, 3}, {3, 8, 3}, {1000, 7, 7},
	} {
		// Equal parts: none longer than ceil(n / parts).
		parts := max(min(c.workers, c.n), 1)
		longest := (c.n + parts - 1) / parts
		calls := cover(t, "Range", c.n, longest, func(f func(lo, hi int)) { Range(c.n, c.workers, f) })
		if calls != c.calls {
			t.Errorf("Range(%d, %d): %d calls, want %d", c.n, c.workers, calls, c.calls)
		}
	}
}

func TestChunks(t *testing.T) {
	for _, c := range []struct{ n, chunk, workers int }{
		{0, 4, 3}, {1, 4, 3}, {10, 3, 1}, {10, 3, 4}, {10, 0, 2}, {1000, 64, 7}, {5, 64, 2},
	} {
		longest := max(c.chunk, 1)
		if c.workers <= 1 {
			longest = c.n
		}
		cover(t, "Chunks", c.n, longest, func(f func(lo, hi int)) { Chunks(c.n, c.chunk, c.workers, f) })
	}
}
