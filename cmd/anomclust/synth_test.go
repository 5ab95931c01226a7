package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSynthCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	args := []string{"synth", "--out", dir, "--categories", "1", "--train", "1", "--per-type", "1", "--size", "64"}
	var out, errb bytes.Buffer
	if code := runMain(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, p := range []string{"weave/train/good/000.png", "weave/test/good/000.png", "weave/test/hole/000.png", "weave/ground_truth/hole/000_mask.png", "synth.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	if code := runMain([]string{"synth"}, &out, &errb); code != 2 {
		t.Errorf("missing --out: exit %d, want 2", code)
	}
	errb.Reset()
	if code := runMain(append(args, "--seed", "5"), &out, &errb); code != 1 {
		t.Errorf("existing folder, other settings: exit %d, want 1", code)
	}
	if want := "anomclust synth: " + dir + " holds a synthetic set made with other settings"; !strings.HasPrefix(errb.String(), want) {
		t.Errorf("stderr %q, want it to start %q", errb.String(), want)
	}
}
