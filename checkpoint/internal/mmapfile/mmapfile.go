// Package mmapfile maps a whole file into memory for the checkpoint readers,
// so that a multi-hundred-megabyte checkpoint is parsed without first being
// copied into the Go heap.
package mmapfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// File is a read-only view of a file's bytes. The mapping is private and
// copy-on-write (MAP_PRIVATE with PROT_WRITE), so a caller that modifies a
// slice of Data (say, folding BatchNorm into conv weights in place) changes
// its own copy of the page, never the file, and never faults.
//
// If another process truncates the file while it is mapped, touching the
// lost pages raises SIGBUS; readers guard their parsing with
// debug.SetPanicOnFault so that this becomes an error.
type File struct {
	Data   []byte
	mapped bool
}

// Open maps path. An empty file gives an empty Data and no mapping.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	size := st.Size()
	if size == 0 {
		return &File{}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%s: %d bytes is too large to map", path, size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	return &File{Data: data, mapped: true}, nil
}

// Close unmaps the file. Slices of Data must not be used afterwards.
func (m *File) Close() error {
	if !m.mapped {
		return nil
	}
	m.mapped = false
	d := m.Data
	m.Data = nil
	return unix.Munmap(d)
}
