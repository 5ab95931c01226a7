package weights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anomclust/anomclust/backbone/vit"
)

// server serves testdata/tiny_vit.pt (a real torch.save file) at /tiny_vit.pt
// and counts requests; the handler can be replaced per test.
type server struct {
	*httptest.Server
	body     []byte
	requests atomic.Int32
}

func newServer(t *testing.T, handler func(s *server, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	body, err := os.ReadFile("testdata/tiny_vit.pt")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if handler != nil {
			handler(s, w, r)
			return
		}
		if r.URL.Path != "/tiny_vit.pt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(s.body)))
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func testStore(t *testing.T) *Store {
	return &Store{
		CacheDir: t.TempDir(),
		Client:   &http.Client{},
		Verify:   func(path string, e Entry) error { return VerifyFile(path, e, true) },
	}
}

func entryFor(s *server) Entry {
	e := tinyViT()
	e.URL = s.URL + "/tiny_vit.pt"
	return e
}

// cacheFiles lists the cache directory, lock files left out.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".lock") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestDownloadOK(t *testing.T) {
	srv := newServer(t, nil)
	st := testStore(t)
	e := entryFor(srv)
	p, err := st.Resolve(context.Background(), e, "")
	if err != nil {
		t.Fatal(err)
	}
	if p != st.CachePath(e) {
		t.Errorf("path %s, want %s", p, st.CachePath(e))
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, srv.body) {
		t.Fatal("cached file differs from the served one")
	}
	// No official digest: the one seen is recorded, sha256sum style.
	side, err := os.ReadFile(p + ".sha256")
	if err != nil || string(side) != sha(srv.body)+"  tiny_vit.pt\n" {
		t.Errorf("sidecar %q, %v", side, err)
	}
	// A second resolve uses the cache, not the network.
	if _, err := st.Resolve(context.Background(), e, ""); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if files := cacheFiles(t, st.CacheDir); len(files) != 2 {
		t.Errorf("cache holds %v, want the file and its sidecar", files)
	}
	// The recorded digest is checked afterwards: corrupt the cached copy.
	if _, known, err := st.CheckFile(p, e); err != nil || !known {
		t.Errorf("CheckFile: known %v, %v", known, err)
	}
	os.WriteFile(p, append(got[:len(got)-1:len(got)-1], got[len(got)-1]^1), 0o644)
	if _, _, err := st.CheckFile(p, e); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("corrupted cache file: %v", err)
	}
}

func TestDownloadFailures(t *testing.T) {
	cases := []struct {
		name    string
		handler func(s *server, w http.ResponseWriter, r *http.Request)
		edit    func(e *Entry, body []byte)
		want    []string
	}{
		{name: "404", handler: func(s *server, w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			want: []string{"404", "/tiny_vit.pt", "copy it to", EnvWeightsPath}},
		{name: "truncated", handler: func(s *server, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(s.body)))
			w.Write(s.body[:len(s.body)/2])
		}, want: []string{"unexpected EOF", "copy it to"}},
		{name: "wrong checksum", edit: func(e *Entry, body []byte) { e.SHA256 = strings.Repeat("0", 64) },
			want: []string{"checksum mismatch", "deleted"}},
		{name: "wrong checksum prefix", edit: func(e *Entry, body []byte) { e.SHA256 = "deadbeef" },
			want: []string{"checksum mismatch", "deadbeef", "deleted"}},
		{name: "wrong size", edit: func(e *Entry, body []byte) { e.Size = int64(len(body)) + 1 },
			want: []string{"registry expects"}},
		{name: "not loadable", handler: func(s *server, w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>sign in to download</html>"))
		}, want: []string{"not a usable tiny_vit checkpoint", "deleted"}},
		{name: "wrong architecture", edit: func(e *Entry, body []byte) {
			c := e.Arch.(vit.Config)
			c.Dim = 16
			e.Arch = c
		},
			want: []string{"cls_token", "deleted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newServer(t, c.handler)
			st := testStore(t)
			e := entryFor(srv)
			if c.edit != nil {
				c.edit(&e, srv.body)
			}
			_, err := st.Resolve(context.Background(), e, "")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if files := cacheFiles(t, st.CacheDir); len(files) != 0 {
				t.Errorf("cache holds %v after a failed download", files)
			}
		})
	}
}

// TestOffline: nothing listens at the URL; the one error names the URL,
// the cache path and how to place the file by hand.
func TestOffline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	st := testStore(t)
	e := tinyViT()
	e.URL = "http://" + addr + "/tiny_vit.pt"
	_, err = st.Resolve(context.Background(), e, "")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, w := range []string{e.URL, st.CachePath(e), EnvWeightsPath, "--weights FILE", "connection refused"} {
		if !strings.Contains(msg, w) {
			t.Errorf("offline error %q lacks %q", msg, w)
		}
	}
}

// TestCancel: a body that stalls is abandoned when the context ends, and
// no partial file stays behind.
func TestCancel(t *testing.T) {
	srv := newServer(t, func(s *server, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(s.body)))
		w.Write(s.body[:100])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	st := testStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := st.Resolve(ctx, entryFor(srv), "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	if files := cacheFiles(t, st.CacheDir); len(files) != 0 {
		t.Errorf("cache holds %v after a cancelled download", files)
	}
}

// TestConcurrentPulls: several pulls of one file at once (separate Stores,
// so separate lock descriptors as in separate processes) download it once
// and all return the complete file.
func TestConcurrentPulls(t *testing.T) {
	srv := newServer(t, func(s *server, w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // keep the first download in flight
		w.Header().Set("Content-Length", strconv.Itoa(len(s.body)))
		w.Write(s.body)
	})
	dir := t.TempDir()
	e := entryFor(srv)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	paths := make([]string, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &Store{CacheDir: dir, Verify: func(p string, e Entry) error { return VerifyFile(p, e, true) }}
			paths[i], errs[i] = st.Download(context.Background(), e)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pull %d: %v", i, err)
		}
		got, _ := os.ReadFile(paths[i])
		if !bytes.Equal(got, srv.body) {
			t.Fatalf("pull %d: file differs", i)
		}
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	if files := cacheFiles(t, dir); len(files) != 2 {
		t.Errorf("cache holds %v", files)
	}
}

// TestResolutionOrder: --weights, then ANOMCLUST_WEIGHTS_PATH in order,
// then ANOMCLUST_CACHE, then the network.
func TestResolutionOrder(t *testing.T) {
	srv := newServer(t, nil)
	e := entryFor(srv)
	root := t.TempDir()
	d1, d2, cache := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "cache")
	for _, d := range []string{d1, d2, cache} {
		os.MkdirAll(d, 0o755)
	}
	t.Setenv(EnvWeightsPath, d1+string(filepath.ListSeparator)+d2)
	t.Setenv(EnvCache, cache)
	st, err := NewStore()
	if err != nil {
		t.Fatal(err)
	}
	st.Progress = nil
	if st.CacheDir != cache || len(st.SearchPath) != 2 || st.SearchPath[1] != d2 {
		t.Fatalf("store from env: %+v", st)
	}
	ctx := context.Background()
	resolve := func() string {
		t.Helper()
		p, err := st.Resolve(ctx, e, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Nothing anywhere: downloaded into the cache.
	if p := resolve(); p != filepath.Join(cache, e.FileName) || srv.requests.Load() != 1 {
		t.Fatalf("download: %s, %d requests", p, srv.requests.Load())
	}
	// In the second search dir: preferred to the cache.
	os.WriteFile(filepath.Join(d2, e.FileName), srv.body, 0o644)
	if p := resolve(); p != filepath.Join(d2, e.FileName) {
		t.Errorf("got %s, want the second search dir", p)
	}
	// In the first too: it wins.
	os.WriteFile(filepath.Join(d1, e.FileName), srv.body, 0o644)
	if p := resolve(); p != filepath.Join(d1, e.FileName) {
		t.Errorf("got %s, want the first search dir", p)
	}
	// An explicit file beats all.
	explicit := filepath.Join(root, "mine.pt")
	os.WriteFile(explicit, srv.body, 0o644)
	if p, err := st.Resolve(ctx, e, explicit); err != nil || p != explicit {
		t.Errorf("explicit: %s, %v", p, err)
	}
	if _, err := st.Resolve(ctx, e, filepath.Join(root, "missing.pt")); err == nil {
		t.Error("a missing explicit file was accepted")
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	// A file of the wrong size (registry size known) is an error, not skipped.
	e.Size = int64(len(srv.body)) + 5
	if _, err := st.Resolve(ctx, e, ""); err == nil || !strings.Contains(err.Error(), "different or incomplete") {
		t.Errorf("wrong size: %v", err)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(EnvCache, "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg-test")
	st, err := NewStore()
	if err != nil {
		t.Fatal(err)
	}
	if st.CacheDir != "/tmp/xdg-test/anomclust" {
		t.Errorf("cache %s", st.CacheDir)
	}
}
