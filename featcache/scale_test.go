package featcache

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestGetInto(t *testing.T) {
	c, err := Open(t.TempDir(), "s")
	if err != nil {
		t.Fatal(err)
	}
	k := KeyOfBytes([]byte("img"))
	z := []float32{1, -2, 3.5, 4, 5, 6}
	if err := c.Put(k, z, 3, 2); err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 8)
	got, r, cols, err := c.GetInto(k, buf)
	if err != nil || r != 3 || cols != 2 || !slices.Equal(got, z) {
		t.Fatalf("GetInto: %v %v %d %d", got, err, r, cols)
	}
	if &got[0] != &buf[0] {
		t.Errorf("GetInto did not use the buffer given")
	}
	if got, _, _, err := c.GetInto(k, nil); err != nil || !slices.Equal(got, z) {
		t.Fatalf("GetInto without buffer: %v %v", got, err)
	}
	// A flipped payload byte: a miss naming the reason, and the entry goes.
	p := c.path(k)
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	os.WriteFile(p, b, 0o644)
	if _, _, _, err := c.GetInto(k, buf); !errors.Is(err, ErrMiss) || err == ErrMiss {
		t.Fatalf("corrupt entry: got %v, want a wrapped miss", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("corrupt entry not removed")
	}
}

func TestScoreCache(t *testing.T) {
	root := t.TempDir()
	c, err := OpenScores(root)
	if err != nil {
		t.Fatal(err)
	}
	k := ScoreKeyOf([]byte("a"), []byte("bc"))
	if k == ScoreKeyOf([]byte("ab"), []byte("c")) {
		t.Fatal("parts are not length-prefixed")
	}
	if _, _, _, err := c.Get(k); err != ErrMiss {
		t.Fatalf("empty: %v", err)
	}
	s := []float64{0.5, 1, 2, 3.25}
	if err := c.Put(k, s, 2, 2); err != nil {
		t.Fatal(err)
	}
	got, r, cols, err := c.Get(k)
	if err != nil || r != 2 || cols != 2 || !slices.Equal(got, s) {
		t.Fatalf("Get: %v %v", got, err)
	}
	// An entry renamed to another key is refused.
	k2 := ScoreKeyOf([]byte("other"))
	os.Rename(c.path(k), c.path(k2))
	if _, _, _, err := c.Get(k2); !errors.Is(err, ErrMiss) || err == ErrMiss {
		t.Fatalf("entry under another key: %v", err)
	}
}

func TestPrune(t *testing.T) {
	root := t.TempDir()
	c, _ := Open(root, "s")
	sc, _ := OpenScores(root)
	z := make([]float32, 250) // 1,000 bytes of payload
	base := time.Now().Add(-time.Hour)
	var keys []ImageKey
	for i := range 4 {
		k := KeyOfBytes([]byte{byte(i)})
		keys = append(keys, k)
		c.Put(k, z, 10, 25)
		tm := base.Add(time.Duration(i) * time.Minute)
		os.Chtimes(c.path(k), tm, tm)
	}
	sk := ScoreKeyOf([]byte("s"))
	sc.Put(sk, make([]float64, 10), 2, 5)
	os.Chtimes(sc.path(sk), base.Add(-time.Minute), base.Add(-time.Minute)) // the oldest
	// Using entry 0 makes it the most recent.
	if _, _, _, err := c.GetInto(keys[0], nil); err != nil {
		t.Fatal(err)
	}
	groups, total, err := DiskUsage(root)
	if err != nil || total.Files != 5 || len(groups) != 2 || groups[ScoreDir].Files != 1 {
		t.Fatalf("DiskUsage: %v %+v %v", groups, total, err)
	}
	entry := int64(headerSize + 1000)
	// Room for 2 Z entries: the score entry, then entries 1 and 2 go.
	removed, remaining, err := Prune(root, 2*entry, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if removed.Files != 3 || remaining.Files != 2 || remaining.Bytes != 2*entry {
		t.Fatalf("removed %+v, remaining %+v", removed, remaining)
	}
	for i, want := range []bool{true, false, false, true} {
		_, err := os.Stat(c.path(keys[i]))
		if (err == nil) != want {
			t.Errorf("entry %d kept = %v, want %v", i, err == nil, want)
		}
	}
	// Entries used at or after keep stay, whatever the cap.
	_, remaining, _ = Prune(root, 0, base.Add(-time.Hour))
	if remaining.Files != 2 {
		t.Errorf("entries in use were removed: %+v remain", remaining)
	}
	_, remaining, _ = Prune(root, 0, time.Now().Add(time.Hour))
	if remaining.Files != 0 {
		t.Errorf("cap 0: %+v remain", remaining)
	}
	if _, _, err := DiskUsage(filepath.Join(root, "absent")); err != nil {
		t.Errorf("missing root: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"20G": 20 << 30, "1.5GB": 3 << 29, "500M": 500 << 20, "800MiB": 800 << 20, "4096": 4096, "2k": 2048} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "abc", "-1G", "1 G", "NaN"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) accepted", s)
		}
	}
}
