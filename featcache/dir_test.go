package featcache

import (
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/weights"
)

func TestDefaultDir(t *testing.T) {
	if EnvCache != weights.EnvCache {
		t.Fatalf("featcache.EnvCache %q != weights.EnvCache %q: the two stores must share one root", EnvCache, weights.EnvCache)
	}
	root := t.TempDir()
	t.Setenv(EnvCache, root)
	d, err := DefaultDir()
	if err != nil || d != filepath.Join(root, "features") {
		t.Fatalf("DefaultDir() = %q, %v; want %q", d, err, filepath.Join(root, "features"))
	}
}
