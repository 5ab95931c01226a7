package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists the names in dir, to catch temporary files left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s holds %q, want %q", path, b, want)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	for _, content := range []string{"first", "second, longer"} { // create, then replace
		if err := WriteFile(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		checkFile(t, p, content)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only a.txt", names)
	}
}

// TestWriteFailure: a failing fill leaves the old file as it was and no
// temporary file, and its error comes back wrapped with the path.
func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	if err := WriteFile(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		io.WriteString(w, "half of the new")
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Errorf("err %v, want boom wrapped with the path", err)
	}
	checkFile(t, p, "old")
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only a.txt", names)
	}
}

// TestCreateCommitDiscard: nothing is visible under the target name before
// Commit; Discard after Commit keeps the file; Discard alone leaves nothing.
func TestCreateCommitDiscard(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.bin")
	f, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("target exists before Commit (stat: %v)", err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Discard()
	checkFile(t, p, "abc")
	if err := f.Commit(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Commit: %v, want os.ErrClosed", err)
	}

	q := filepath.Join(dir, "c.bin")
	g, err := Create(q)
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("never"))
	g.Discard()
	if names := entries(t, dir); len(names) != 1 || names[0] != "b.bin" {
		t.Errorf("after Discard the directory holds %v, want only b.bin", names)
	}
}

func TestMissingDirectory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "dir", "x")
	if err := WriteFile(p, nil); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("err %v, want an error naming %s", err, p)
	}
}
