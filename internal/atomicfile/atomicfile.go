// Package atomicfile writes files so that readers, and a run interrupted
// half-way, see either the old file or the whole new one, never a part.
//
// The data goes to a temporary file ".<name>.tmp-*" in the target's
// directory (so the final rename cannot cross file systems), is synced to
// disk, given mode 0644 and renamed over the target; on any error the
// temporary file is removed and the target is left as it was.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a file being written under a temporary name. Commit makes it the
// file at its target path; Discard throws it away.
type File struct {
	f    *os.File
	path string
	done bool
}

// Create starts writing the file at path. The caller must end with Commit,
// or Discard (which may be deferred: it does nothing after a Commit).
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{f: f, path: path}, nil
}

// Write appends p to the temporary file. Errors name the target path.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	if err != nil {
		err = fmt.Errorf("write %s: %w", f.path, err)
	}
	return n, err
}

// Commit syncs the temporary file, closes it and renames it to the target
// path. On error the temporary file is removed and the target is untouched.
func (f *File) Commit() (err error) {
	if f.done {
		return fmt.Errorf("write %s: %w", f.path, os.ErrClosed)
	}
	defer func() {
		if err != nil {
			f.Discard()
			err = fmt.Errorf("write %s: %w", f.path, err)
		}
	}()
	if err := f.f.Sync(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; give it os.WriteFile's usual mode.
	if err := f.f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.f.Name(), f.path); err != nil {
		return err
	}
	f.done = true
	return nil
}

// Discard closes and removes the temporary file, leaving the target as it
// was. It does nothing after Commit or a first Discard.
func (f *File) Discard() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.f.Name())
}

// Write writes the file at path with what fill writes to w, atomically.
// fill's error is returned wrapped with the path, and nothing is written.
func Write(path string, fill func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Discard()
	if err := fill(f.f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// WriteFile writes data to the file at path, atomically.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
