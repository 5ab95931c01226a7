package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/weights"
)

// TestWeightsCommand checks the exit codes of `anomclust weights`: usage
// errors 2, a wrong-shape checkpoint 1, the shared MobileNet files 0.
func TestWeightsCommand(t *testing.T) {
	t.Setenv(weights.EnvCache, t.TempDir())
	t.Setenv(weights.EnvWeightsPath, "")
	tiny := filepath.Join("..", "..", "weights", "testdata", "tiny_vit.pt")
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"weights"}, 2},
		{[]string{"weights", "frobnicate"}, 2},
		{[]string{"weights", "list"}, 0},
		{[]string{"weights", "verify", "dino_vits16", "--weights", tiny}, 1},
		{[]string{"weights", "verify", "--weights", tiny}, 2},
		{[]string{"weights", "verify", "no_such_backbone"}, 1},
		{[]string{"weights", "verify"}, 1}, // nothing present
	}
	shared := filepath.Join("..", "..", "..", "shared", "weights")
	if _, err := os.Stat(shared); err == nil {
		cases = append(cases,
			struct {
				args []string
				want int
			}{[]string{"weights", "verify", "mobilenet_v2", "--weights", filepath.Join(shared, "mobilenet_v2_1.0_224_quant.tflite")}, 0})
	}
	for _, c := range cases {
		if got := runMainQuiet(t, c.args); got != c.want {
			t.Errorf("anomclust %v: exit %d, want %d", c.args, got, c.want)
		}
	}
	if _, err := os.Stat(shared); err == nil {
		t.Setenv(weights.EnvWeightsPath, shared)
		if got := runMainQuiet(t, []string{"weights", "verify"}); got != 0 {
			t.Errorf("verify of the shared MobileNets: exit %d", got)
		}
	}
}

// runMainQuiet runs the CLI with stdout and stderr discarded.
func runMainQuiet(t *testing.T, args []string) int {
	t.Helper()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = devnull, devnull
	defer func() { os.Stdout, os.Stderr = oldOut, oldErr }()
	return runMain(args, io.Discard, io.Discard)
}
