package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAssignFlagsAfterImages: flags may follow the image files, as the
// usage line `--run OUT IMAGES... [--out CSV]` shows; before, --out was
// taken for an image ("image --out: no such file"). The run folder here
// does not exist, so the error must name it, not --out.
func TestAssignFlagsAfterImages(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "a.png")
	if err := os.WriteFile(img, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "norun")
	err := runAssign([]string{"--run", missing, img, "--out", filepath.Join(dir, "o.csv"), "--cache", "none"})
	if err == nil || strings.Contains(err.Error(), "--out") || !strings.Contains(err.Error(), missing) {
		t.Errorf("assign with --out after the images: %v, want an error about the run folder %s", err, missing)
	}
}
