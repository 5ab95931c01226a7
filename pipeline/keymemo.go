package pipeline

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/anomclust/anomclust/featcache"
)

// keyMemo remembers the feature cache keys (content SHA-256) of the image
// files hashed in this run, each with the file's size and modification
// time when hashed: the pre-flight check hashes every image to look up
// its cache entry, and the embedding stage reuses that key instead of
// reading the file a second time, unless the file has changed since.
type keyMemo struct {
	mu   sync.Mutex
	keys map[string]memoKey
}

type memoKey struct {
	key   featcache.ImageKey
	size  int64
	mtime time.Time
}

// keyOf is featcache.KeyOf(path), from the memo while the file's size
// and modification time are unchanged.
func (m *keyMemo) keyOf(path string) (featcache.ImageKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return featcache.ImageKey{}, err
	}
	m.mu.Lock()
	e, ok := m.keys[path]
	m.mu.Unlock()
	if ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.key, nil
	}
	k, err := featcache.KeyOf(path)
	if err != nil {
		return k, err
	}
	m.mu.Lock()
	if m.keys == nil {
		m.keys = map[string]memoKey{}
	}
	m.keys[path] = memoKey{k, st.Size(), st.ModTime()}
	m.mu.Unlock()
	return k, nil
}

// cached reports whether the feature cache holds a valid Z of the image at
// path for the extractor's settings (entry read and checksummed in full,
// through buf, which it returns for reuse): the embedding stage will then
// read that Z and never decode the image.
func (x *extractor) cached(path string, buf []float32) (bool, []float32) {
	if x.cache == nil {
		return false, buf
	}
	k, err := x.memo.keyOf(path)
	if err != nil {
		return false, buf // the full check reports the unreadable file
	}
	z, _, cols, err := x.cache.GetInto(k, buf)
	if err != nil {
		if err != featcache.ErrMiss {
			// An entry that exists but is corrupt, truncated or stale:
			// GetInto removed it; say so, as the embedding stage would.
			x.logMu.Lock()
			fmt.Fprintf(x.log, "feature cache: %v; recomputing\n", err)
			x.logMu.Unlock()
		}
		return false, buf
	}
	return cols == x.opt.TargetDim, z
}
