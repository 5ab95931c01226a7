package gemm

import (
	"sync"
	"testing"
	"time"
)

// TestForRowShares checks that every row tile is computed exactly once, in
// chunks of at most maxTiles by workers w < t, that an even run takes each
// share in the fewest chunks (each chunk streams all of B), and that a
// worker held up in its first chunk has the rest of its share taken over.
func TestForRowShares(t *testing.T) {
	for _, c := range []struct{ t, tiles, maxTiles int }{
		{2, 131, 35}, {2, 1, 35}, {2, 2, 1}, {3, 10, 4}, {2, 7, 100}, {4, 3, 2}, {2, 0, 5}, {5, 1000, 26}, {2, 9, 0},
	} {
		var mu sync.Mutex
		seen := make([]int, c.tiles)
		chunks := 0
		forRowShares(c.t, c.tiles, c.maxTiles, func(w, t0, t1 int) {
			mu.Lock()
			defer mu.Unlock()
			chunks++
			if w < 0 || w >= c.t || t0 >= t1 || t1-t0 > max(c.maxTiles, 1) || t0 < 0 || t1 > c.tiles {
				t.Errorf("%+v: worker %d got tiles [%d, %d)", c, w, t0, t1)
				return
			}
			for i := t0; i < t1; i++ {
				seen[i]++
			}
		})
		for i, n := range seen {
			if n != 1 {
				t.Errorf("%+v: tile %d computed %d times", c, i, n)
			}
		}
		if c.tiles > 0 && chunks < ceilDiv(c.tiles, max(c.maxTiles, 1)) {
			t.Errorf("%+v: %d chunks, fewer than possible", c, chunks)
		}
	}
	// Worker 1 sleeps in its first chunk: worker 0 must take over the rest
	// of share 1 ([65, 131) of 131 tiles), which is 66 tiles in chunks of
	// at most 10, so the rest is still unclaimed when worker 0 finishes.
	var mu sync.Mutex
	by, times := make([]int, 131), make([]int, 131)
	forRowShares(2, 131, 10, func(w, t0, t1 int) {
		if w == 1 && t0 == 65 {
			time.Sleep(200 * time.Millisecond)
		}
		mu.Lock()
		for i := t0; i < t1; i++ {
			by[i] = w
			times[i]++
		}
		mu.Unlock()
	})
	for i, n := range times {
		if n != 1 {
			t.Errorf("slow worker: tile %d computed %d times", i, n)
		}
	}
	taken := 0
	for i := 65; i < 131; i++ {
		if by[i] == 0 {
			taken++
		}
	}
	if taken < 40 {
		t.Errorf("worker 0 took %d of the 56 tiles left in the slow worker's share, want most of them", taken)
	}
	// Even split: 131 tiles, 2 workers, chunks of at most 35: 65 = 33+32
	// and 66 = 33+33, four chunks in all.
	chunks := 0
	forRowShares(2, 131, 35, func(w, t0, t1 int) {
		mu.Lock()
		chunks++
		mu.Unlock()
	})
	if chunks < 4 {
		t.Errorf("131 tiles on 2 workers in chunks of 35: %d chunks, want at least 4", chunks)
	}
}
