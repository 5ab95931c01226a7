package featcache

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvCache names the environment variable of the cache root, shared with
// the weights store (weights.EnvCache): features live in <root>/features.
const EnvCache = "ANOMCLUST_CACHE"

// DefaultDir is the default feature cache folder:
// <$ANOMCLUST_CACHE, else the user cache dir/anomclust>/features.
func DefaultDir() (string, error) {
	base := os.Getenv(EnvCache)
	if base == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache directory (set %s or --cache): %w", EnvCache, err)
		}
		base = filepath.Join(d, "anomclust")
	}
	return filepath.Join(base, "features"), nil
}
