package main

import (
	"os/exec"
	"testing"
)

// TestBenchAlphaSmall runs `bench alpha` on a tiny problem. With the
// PyTorch reference available it also exercises the comparison, which
// fails the command when the scores disagree.
func TestBenchAlphaSmall(t *testing.T) {
	if err := runBenchAlpha([]string{"--n", "3", "--m", "10", "--d", "8", "--python", ""}); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skipf("no /usr/bin/python3 with torch: %v", err)
	}
	if err := runBenchAlpha([]string{"--n", "4", "--m", "30", "--d", "20", "--pairs-sample", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := runBenchAlpha([]string{"--n", "2", "--strategy", "nope"}); err == nil {
		t.Error("unknown strategy accepted")
	}
}
