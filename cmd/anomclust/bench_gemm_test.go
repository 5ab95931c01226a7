package main

import (
	"os"
	"testing"
)

func TestParseShape(t *testing.T) {
	if sh, err := parseShape("785x2304x768"); err != nil || sh != [3]int{785, 2304, 768} {
		t.Fatalf("parseShape = %v, %v", sh, err)
	}
	for _, bad := range []string{"", "1x2", "1x2x0", "axbxc", "1x2x3x4"} {
		if _, err := parseShape(bad); err == nil {
			t.Errorf("parseShape(%q) accepted", bad)
		}
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median odd = %g, want 3", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %g, want 2.5", m)
	}
}

// TestBenchTargetsRun runs both targets on tiny shapes (OpenBLAS optional).
func TestBenchTargetsRun(t *testing.T) {
	if v, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok {
		// Pretend the re-exec already happened: a test must not exec.
		t.Setenv(coreTypeWasEnv, v)
	}
	if err := runBenchGemm([]string{"-shapes", "20x30x40", "-threads", "1,2", "-reps", "1"}); err != nil {
		t.Fatalf("bench gemm: %v", err)
	}
	if err := runBenchNN([]string{"-m", "30", "-n", "40", "-d", "16", "-reps", "1"}); err != nil {
		t.Fatalf("bench nn: %v", err)
	}
	if err := runBenchGemm([]string{"-clock", "sundial"}); err == nil {
		t.Fatal("bench gemm accepted -clock sundial")
	}
}
