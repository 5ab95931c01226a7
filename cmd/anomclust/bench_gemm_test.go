package main

import (
	"os"
	"testing"
)

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
