package runstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStores runs the same checks on a local folder, a file:// URL and an
// in-memory bucket with a prefix.
func TestStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, loc := range []string{filepath.Join(dir, "plain", "run"), "file://" + filepath.ToSlash(filepath.Join(dir, "url")), "mem://bucket/runs/r1"} {
		t.Run(loc, func(t *testing.T) {
			s, err := Open(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Read(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("missing key: %v, want fs.ErrNotExist", err)
			}
			want := map[string]string{"a/1.bin": "one", "a/2.bin": "two", "b.json": "{}"}
			for k, v := range want {
				if err := s.Write(ctx, k, []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
			for k, v := range want {
				b, err := s.Read(ctx, k)
				if err != nil || string(b) != v {
					t.Fatalf("Read(%s) = %q, %v; want %q", k, b, err, v)
				}
			}
			keys, err := s.List(ctx, "a/")
			if err != nil || !slices.Equal(keys, []string{"a/1.bin", "a/2.bin"}) {
				t.Fatalf("List(a/) = %v, %v", keys, err)
			}
			if ok, err := s.Exists(ctx, "b.json"); !ok || err != nil {
				t.Fatalf("Exists(b.json) = %v, %v", ok, err)
			}
			if err := s.Delete(ctx, "b.json"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := s.Exists(ctx, "b.json"); ok {
				t.Fatal("b.json still there after Delete")
			}
			if s.LocalDir() != "" {
				// The local store keeps plain files (no metadata sidecars).
				b, err := os.ReadFile(filepath.Join(s.LocalDir(), "a", "1.bin"))
				if err != nil || string(b) != "one" {
					t.Fatalf("local file: %q, %v", b, err)
				}
				ents, _ := os.ReadDir(filepath.Join(s.LocalDir(), "a"))
				if len(ents) != 2 {
					t.Fatalf("local folder holds %d entries, want 2 (no sidecars or temp files)", len(ents))
				}
			}
		})
	}
	// Two stores on one bucket with different prefixes do not see each other.
	a, _ := Open(ctx, "mem://shared/a")
	if err := a.Write(ctx, "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	b, _ := Open(ctx, "mem://shared/b")
	if ok, _ := b.Exists(ctx, "k"); ok {
		t.Fatal("mem://shared/b sees mem://shared/a's key")
	}
	// A mem:// bucket outlives its stores: a later Open of it sees the key.
	a.Close()
	a2, _ := Open(ctx, "mem://shared/a")
	if v, err := a2.Read(ctx, "k"); err != nil || string(v) != "x" {
		t.Fatalf("mem://shared/a reopened: %q, %v", v, err)
	}
	if _, err := Open(ctx, "s3://bucket/run?region=eu-west-1"); !cloudDrivers && (err == nil || !strings.Contains(err.Error(), "-tags cloud")) {
		t.Fatalf("s3 without the cloud drivers: %v, want a hint to build with -tags cloud", err)
	}
	if !IsURL("s3://b/p") || IsURL("C:/data") || IsURL("runs/r1") {
		t.Fatal("IsURL")
	}
}
