package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestProcessCounts: busy work adds CPU time, at most the wall time it took
// per running thread; sleeping adds (almost) none.
func TestProcessCounts(t *testing.T) {
	c0, ok := Process()
	if !ok {
		t.Skip("no process CPU time on " + runtime.GOOS)
	}
	w0 := time.Now()
	x := 1.0
	for time.Since(w0) < 50*time.Millisecond {
		for range 10000 {
			x = x*1.0000001 + 1e-9
		}
	}
	wall := time.Since(w0)
	c1, _ := Process()
	if busy := c1 - c0; busy <= 0 || busy > wall*time.Duration(runtime.GOMAXPROCS(0))+10*time.Millisecond {
		t.Errorf("50 ms of busy loop (x %g): CPU %v over wall %v", x, busy, wall)
	}
	time.Sleep(50 * time.Millisecond)
	c2, _ := Process()
	if idle := c2 - c1; idle > 25*time.Millisecond {
		t.Errorf("a 50 ms sleep used %v of CPU", idle)
	}
}
