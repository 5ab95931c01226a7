package tensor

import (
	"math"
	"testing"
)

// ulpDiff is the distance in float32 units in the last place between a
// float32 result and the exactly rounded float64 reference.
func ulpDiff(got float32, want float64) float64 {
	w := float32(want)
	if got == w {
		return 0
	}
	ulp := math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1))) - float32(math.Abs(float64(w)))
	return math.Abs(float64(got)-want) / float64(ulp)
}

// TestErf32 sweeps [-5, 5]. erf32 must stay within 1.5e-7 absolute of
// math.Erf (2.5 ulp of 1) and within 2 ulp for |x| < 2, where GELU is not
// already dominated by x or 0: measured 9.5e-8 and 1.6 ulp.
func TestErf32(t *testing.T) {
	worstAbs, worstULP := 0.0, 0.0
	for i := -500000; i <= 500000; i++ {
		x := float32(i) * 1e-5
		want := math.Erf(float64(x))
		got := erf32(x)
		worstAbs = max(worstAbs, math.Abs(float64(got)-want))
		if math.Abs(float64(x)) < 2 {
			worstULP = max(worstULP, ulpDiff(got, want))
		}
	}
	t.Logf("erf32: worst %.3g absolute, %.2f ulp for |x| < 2", worstAbs, worstULP)
	if !(worstAbs <= 1.5e-7 && worstULP <= 2) { // a NaN fails too
		t.Errorf("erf32 error %.3g absolute, %.2f ulp; want <= 1.5e-7 and <= 2 ulp", worstAbs, worstULP)
	}
}

// TestExp32 sweeps the softmax range [-87, 0] plus a little above 0; the
// bound of 2 ulp keeps softmax within float32 rounding of the exact value.
func TestExp32(t *testing.T) {
	worst, at := 0.0, float32(0)
	for i := -870000; i <= 20000; i++ {
		x := float32(i) * 1e-4
		if d := ulpDiff(exp32(x), math.Exp(float64(x))); d > worst || math.IsNaN(d) {
			worst, at = d, x
		}
	}
	t.Logf("exp32: worst %.2f ulp at %g", worst, at)
	if !(worst <= 2) { // a NaN fails too
		t.Errorf("exp32 error %.2f ulp at x=%g, want <= 2", worst, at)
	}
	if exp32(-100) != 0 {
		t.Errorf("exp32(-100) = %g, want 0 (flushed)", exp32(-100))
	}
}
