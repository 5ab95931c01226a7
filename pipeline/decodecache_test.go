package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// TestCheckSkipsCachedDecode: the pre-flight check decodes every image in
// full on a first run, none on a re-run whose features are all cached
// (header only), and again those whose cache entry does not hold for
// them: a changed file (new content hash), a corrupt entry, other
// settings. Unreadable images that are not cached are still all listed.
func TestCheckSkipsCachedDecode(t *testing.T) {
	flat, _, _ := flatCopy(t)
	pngs, _ := filepath.Glob(filepath.Join(flat, "*.png"))
	n := int64(len(pngs))
	o := fakeOptions(t, &poolNet{})
	o.Data, o.K, o.Modes = flat, 2, []string{rundir.ModeAverage}
	out := t.TempDir()
	run := func(name string) (int64, string, error) {
		t.Helper()
		var log bytes.Buffer
		o.Out, o.Log = filepath.Join(out, name), &log
		before := pipeline.FullDecodes.Load()
		_, err := pipeline.Run(context.Background(), o)
		return pipeline.FullDecodes.Load() - before, log.String(), err
	}
	if full, _, err := run("first"); err != nil || full != n {
		t.Fatalf("first run: %d of %d images decoded in full (%v)", full, n, err)
	}
	full, log, err := run("again")
	if err != nil || full != 0 || !strings.Contains(log, "with cached features: header only") {
		t.Fatalf("re-run: %d images decoded in full, want 0 (%v); log:\n%s", full, err, log)
	}

	// One image changed (cut in its pixel data: a new content hash, so
	// not cached), one new unreadable file, one cache entry corrupted.
	whole, err := os.ReadFile(pngs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pngs[0], whole[:len(whole)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flat, "zz_text.png"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(o.Cache, "*", "*", "*.z"))
	if len(entries) < int(n) {
		t.Fatalf("%d cache entries for %d images", len(entries), n)
	}
	b, _ := os.ReadFile(entries[0])
	b[len(b)-1] ^= 0x40
	os.WriteFile(entries[0], b, 0o644)
	full, _, err = run("changed")
	if err == nil || !strings.Contains(err.Error(), "2 unreadable images") || !strings.Contains(err.Error(), filepath.Base(pngs[0])) ||
		!strings.Contains(err.Error(), "zz_text.png") {
		t.Fatalf("changed files: %v", err)
	}
	// The cut image, the text file (its header fails before the full
	// decode, so it is not counted) and the image of the corrupt entry.
	if full != 2 {
		t.Errorf("after a change: %d images decoded in full, want 2 (the cut one, the corrupt entry's)", full)
	}
	os.WriteFile(pngs[0], whole, 0o644)
	os.Remove(filepath.Join(flat, "zz_text.png"))

	// Other settings: nothing cached for them.
	o.TargetDim = 12
	if full, _, err := run("other"); err != nil || full != n {
		t.Errorf("other settings: %d of %d images decoded in full (%v)", full, n, err)
	}
	o.Cache = ""
	if full, _, err := run("nocache"); err != nil || full != n {
		t.Errorf("no cache: %d of %d images decoded in full (%v)", full, n, err)
	}
}
