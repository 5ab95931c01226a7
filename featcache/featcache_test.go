package featcache

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRoundTripAndInvalidation(t *testing.T) {
	root := t.TempDir()
	c, err := Open(root, "backbone=a", "layers=x,y")
	if err != nil {
		t.Fatal(err)
	}
	k := KeyOfBytes([]byte("image one"))
	if _, _, _, err := c.Get(k); !errors.Is(err, ErrMiss) {
		t.Fatalf("empty cache: got %v, want miss", err)
	}
	z := []float32{1, 2, 3, 4, 5, -6.5}
	if err := c.Put(k, z, 2, 3); err != nil {
		t.Fatal(err)
	}
	got, r, cols, err := c.Get(k)
	if err != nil || r != 2 || cols != 3 {
		t.Fatalf("get: %v %d %d", err, r, cols)
	}
	for i := range z {
		if got[i] != z[i] {
			t.Fatalf("value %d: %v != %v", i, got[i], z[i])
		}
	}
	// Other settings: a different directory and fingerprint, so a miss.
	c2, _ := Open(root, "backbone=a", "layers=x")
	if _, _, _, err := c2.Get(k); !errors.Is(err, ErrMiss) {
		t.Fatalf("other settings: got %v, want miss", err)
	}
	// Another image: miss.
	if _, _, _, err := c.Get(KeyOfBytes([]byte("image two"))); !errors.Is(err, ErrMiss) {
		t.Fatalf("other image: got %v", err)
	}
	// Flip one payload byte: detected, removed, reported as a miss.
	p := c.path(k)
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 0x40
	os.WriteFile(p, b, 0o644)
	if _, _, _, err := c.Get(k); !errors.Is(err, ErrMiss) {
		t.Fatalf("corrupt entry: got %v, want miss", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("corrupt entry not removed: %v", err)
	}
	// Truncated entry.
	c.Put(k, z, 2, 3)
	b, _ = os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-4], 0o644)
	if _, _, _, err := c.Get(k); !errors.Is(err, ErrMiss) {
		t.Fatalf("truncated entry: got %v, want miss", err)
	}
	// An entry copied from another settings' directory (stale) is refused.
	c2.Put(k, z, 3, 2)
	b, _ = os.ReadFile(c2.path(k))
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, b, 0o644)
	if _, _, _, err := c.Get(k); !errors.Is(err, ErrMiss) {
		t.Fatalf("stale entry: got %v, want miss", err)
	}
}

func TestKeyOf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.png")
	os.WriteFile(p, []byte("abc"), 0o644)
	k, err := KeyOf(p)
	if err != nil || k != KeyOfBytes([]byte("abc")) {
		t.Fatalf("KeyOf: %v", err)
	}
	if _, err := KeyOf(p + ".missing"); err == nil {
		t.Fatal("missing file: no error")
	}
}
