package openblas

import (
	"math"
	"testing"
)

// TestSgemm checks the binding on a 2x3·3x2 product with exact integer
// results (skipped when OpenBLAS is not installed).
func TestSgemm(t *testing.T) {
	l, err := Open()
	if err != nil {
		t.Skipf("no OpenBLAS here: %v", err)
	}
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 2, -1}
	c := make([]float32, 4)
	l.Sgemm(false, 2, 2, 3, a, 3, b, 2, c, 2, false)
	want := []float32{7, -1, 16, -1}
	for i := range c {
		if math.Abs(float64(c[i]-want[i])) != 0 {
			t.Fatalf("C = %v, want %v", c, want)
		}
	}
	bt := []float32{1, 0, 2, 0, 1, -1} // the same B, transposed (2x3)
	l.Sgemm(true, 2, 2, 3, a, 3, bt, 3, c, 2, true)
	for i := range c {
		if c[i] != 2*want[i] {
			t.Fatalf("C += A·Bᵀ = %v, want %v", c, want)
		}
	}
	t.Logf("%s: core %s, %d threads", l.Path, l.CoreName(), l.Threads())
}
