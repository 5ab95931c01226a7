package weights

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anomclust/anomclust/internal/atomicfile"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Environment variables that say where weight files are.
const (
	// EnvWeightsPath is a colon-separated list of directories searched for
	// an entry's FileName before the cache.
	EnvWeightsPath = "ANOMCLUST_WEIGHTS_PATH"
	// EnvCache is the download cache directory (default
	// os.UserCacheDir()/anomclust, e.g. ~/.cache/anomclust).
	EnvCache = "ANOMCLUST_CACHE"
)

// Store finds weight files and downloads missing ones into its cache.
// The zero value is not usable; NewStore fills it from the environment.
type Store struct {
	SearchPath []string     // directories searched for Entry.FileName, in order
	CacheDir   string       // where downloads go
	Client     *http.Client // HTTP client for downloads
	// Progress receives a progress bar during downloads; nil for none.
	Progress io.Writer
	// Verify checks that a downloaded file is a usable checkpoint of e
	// before it is moved into the cache; nil skips the check. NewStore
	// sets it to VerifyFile, non-strict.
	Verify func(path string, e Entry) error
}

// NewStore returns a Store configured from ANOMCLUST_WEIGHTS_PATH and
// ANOMCLUST_CACHE, with a progress bar on stderr when stderr is a terminal.
func NewStore() (*Store, error) {
	s := &Store{
		Client: http.DefaultClient,
		Verify: func(path string, e Entry) error { return VerifyFile(path, e, false) },
	}
	for _, d := range filepath.SplitList(os.Getenv(EnvWeightsPath)) {
		if d != "" {
			s.SearchPath = append(s.SearchPath, d)
		}
	}
	s.CacheDir = os.Getenv(EnvCache)
	if s.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory (set %s): %w", EnvCache, err)
		}
		s.CacheDir = filepath.Join(base, "anomclust")
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		s.Progress = os.Stderr
	}
	return s, nil
}

// CachePath is where e's file lives in the cache.
func (s *Store) CachePath(e Entry) string { return filepath.Join(s.CacheDir, e.FileName) }

// sidecarPath holds the SHA-256 recorded on the first download of a file
// whose official digest is not known, in sha256sum format.
func (s *Store) sidecarPath(e Entry) string { return s.CachePath(e) + ".sha256" }

// Find looks for e's file without downloading: in the directories of
// SearchPath, then in the cache. It returns the path and where it was found
// ("search path" or "cache"), or an error wrapping os.ErrNotExist.
// A file whose size differs from the registry's is an error, not a miss.
func (s *Store) Find(e Entry) (path, where string, err error) {
	for _, d := range s.SearchPath {
		p := filepath.Join(d, e.FileName)
		if ok, err := s.present(p, e); err != nil {
			return "", "", err
		} else if ok {
			return p, "search path", nil
		}
	}
	p := s.CachePath(e)
	if ok, err := s.present(p, e); err != nil {
		return "", "", err
	} else if ok {
		return p, "cache", nil
	}
	return "", "", fmt.Errorf("%s: %s not found in %s nor in the cache %s: %w",
		e.Name, e.FileName, s.searchPathString(), s.CacheDir, os.ErrNotExist)
}

func (s *Store) searchPathString() string {
	if len(s.SearchPath) == 0 {
		return EnvWeightsPath + " (unset)"
	}
	return EnvWeightsPath + " (" + strings.Join(s.SearchPath, ":") + ")"
}

// present reports whether p is a regular file, checking its size against
// the registry's when known.
func (s *Store) present(p string, e Entry) (bool, error) {
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return false, fmt.Errorf("%s is not a regular file", p)
	}
	if e.Size > 0 && st.Size() != e.Size {
		return false, fmt.Errorf("%s has %d bytes but %s's file has %d: a different or incomplete file; delete it or run `anomclust weights pull %s`",
			p, st.Size(), e.Name, e.Size, e.Name)
	}
	return true, nil
}

// Resolve returns the path of e's weights: explicit when not empty (it must
// exist), else the first of Find's places, else a fresh download into the
// cache (see Download).
func (s *Store) Resolve(ctx context.Context, e Entry, explicit string) (string, error) {
	if explicit != "" {
		st, err := os.Stat(explicit)
		if err != nil {
			return "", fmt.Errorf("weights file for %s: %w", e.Name, err)
		}
		if !st.Mode().IsRegular() {
			return "", fmt.Errorf("weights file %s for %s is not a regular file", explicit, e.Name)
		}
		return explicit, nil
	}
	p, _, err := s.Find(e)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return s.Download(ctx, e)
}

// Download fetches e's file into the cache and returns its path. The bytes
// go to a temporary file in the cache directory, which is checked (size,
// SHA-256 or its prefix when known, else the digest recorded on an earlier
// download, and the Verify hook) and only then renamed into place, so the
// cache never holds a partial file. Concurrent downloads of one file, from
// goroutines or processes, are serialised by an flock on <file>.lock; the
// later ones find the file in place and return it.
func (s *Store) Download(ctx context.Context, e Entry) (path string, err error) {
	final := s.CachePath(e)
	defer func() {
		if err != nil && ctx.Err() == nil && !errors.Is(err, errChecksum) && !errors.Is(err, errVerify) {
			err = fmt.Errorf("%w\nWithout network access, download %s elsewhere and copy it to %s, or into a directory listed in %s, or pass --weights FILE.",
				err, e.URL, final, EnvWeightsPath)
		}
	}()
	if e.URL == "" {
		return "", fmt.Errorf("%s has no download URL", e.Name)
	}
	if err := os.MkdirAll(s.CacheDir, 0o755); err != nil {
		return "", fmt.Errorf("create cache %s: %w", s.CacheDir, err)
	}
	unlock, err := lockFile(ctx, final+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have finished while we waited for the lock.
	if ok, err := s.present(final, e); err != nil {
		return "", err
	} else if ok {
		return final, nil
	}
	tmp, sum, err := s.fetch(ctx, e)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := s.checkDigest(e, sum); err != nil {
		return "", fmt.Errorf("%w; the downloaded file was deleted", err)
	}
	if s.Verify != nil {
		if err := s.Verify(tmp, e); err != nil {
			return "", fmt.Errorf("%w: %s from %s is not a usable %s checkpoint (%v); the downloaded file was deleted", errVerify, e.FileName, e.URL, e.Name, err)
		}
	}
	if e.SHA256 == "" || len(e.SHA256) < 64 {
		if err := atomicfile.WriteFile(s.sidecarPath(e), []byte(sum+"  "+e.FileName+"\n")); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("move download into the cache: %w", err)
	}
	return final, nil
}

var (
	errChecksum = errors.New("checksum mismatch")
	errVerify   = errors.New("verification failed")
)

// fetch downloads e.URL to a new temporary file beside the cache entry and
// returns its name and SHA-256 (hex). On error nothing is left behind.
func (s *Store) fetch(ctx context.Context, e Entry) (tmpName, sum string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL, nil)
	if err != nil {
		return "", "", fmt.Errorf("download %s: %w", e.URL, err)
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("download %s: %w", e.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("download %s: server answered %s", e.URL, resp.Status)
	}
	if e.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != e.Size {
		return "", "", fmt.Errorf("download %s: server offers %d bytes, the registry expects %d", e.URL, resp.ContentLength, e.Size)
	}
	f, err := os.CreateTemp(s.CacheDir, e.FileName+".part-*")
	if err != nil {
		return "", "", fmt.Errorf("download %s: %w", e.URL, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	var w io.Writer = io.MultiWriter(f, h)
	if s.Progress != nil {
		total := resp.ContentLength
		if total < 0 && e.Size > 0 {
			total = e.Size
		}
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(s.Progress),
			progressbar.OptionSetDescription(e.FileName),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(s.Progress) }),
		)
		defer bar.Close()
		w = io.MultiWriter(w, bar)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	n, err := io.Copy(bw, resp.Body)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return "", "", fmt.Errorf("download %s: after %d bytes: %w", e.URL, n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", "", fmt.Errorf("download %s: got %d of %d bytes", e.URL, n, resp.ContentLength)
	}
	if e.Size > 0 && n != e.Size {
		return "", "", fmt.Errorf("download %s: got %d bytes, the registry expects %d", e.URL, n, e.Size)
	}
	if err := f.Sync(); err != nil {
		return "", "", fmt.Errorf("download %s: %w", e.URL, err)
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("download %s: %w", e.URL, err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// expectedDigest returns the SHA-256 (or prefix) e's file must have: the
// registry's, else the one recorded in the cache on an earlier download,
// else "".
func (s *Store) expectedDigest(e Entry) (digest, source string, err error) {
	if e.SHA256 != "" && len(e.SHA256) == 64 {
		return strings.ToLower(e.SHA256), "the registry", nil
	}
	b, err := os.ReadFile(s.sidecarPath(e))
	if err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			return f[0], s.sidecarPath(e), nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	if e.SHA256 != "" {
		return strings.ToLower(e.SHA256), "the registry (prefix)", nil
	}
	return "", "", nil
}

// checkDigest compares sum (hex) with what e's file must have.
func (s *Store) checkDigest(e Entry, sum string) error {
	want, source, err := s.expectedDigest(e)
	if err != nil {
		return err
	}
	// A registry prefix must also match a recorded full digest.
	if e.SHA256 != "" && !strings.HasPrefix(sum, strings.ToLower(e.SHA256)) {
		reg := e.SHA256
		if len(reg) < 64 {
			reg = "one starting with " + reg
		}
		return fmt.Errorf("%w for %s: SHA-256 %s, the registry expects %s", errChecksum, e.FileName, sum, reg)
	}
	if want != "" && !strings.HasPrefix(sum, want) {
		return fmt.Errorf("%w for %s: SHA-256 %s, %s records %s", errChecksum, e.FileName, sum, source, want)
	}
	return nil
}

// CheckFile hashes the file at path and compares the digest with e's
// (registry or recorded). It returns the digest and whether there was
// anything to compare it with.
func (s *Store) CheckFile(path string, e Entry) (sum string, known bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", false, fmt.Errorf("hash %s: %w", path, err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	want, _, err := s.expectedDigest(e)
	if err != nil {
		return sum, false, err
	}
	if err := s.checkDigest(e, sum); err != nil {
		return sum, true, fmt.Errorf("%s: %w", path, err)
	}
	return sum, want != "", nil
}

// lockFile takes an exclusive flock on path (created if needed), polling
// so that ctx can cancel the wait. The lock is released by the returned
// function, or by the kernel if the process dies.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another download of %s: %w", strings.TrimSuffix(path, ".lock"), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
