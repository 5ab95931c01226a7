package featcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"
	"unsafe"
)

// littleEndian reports whether float32s are stored little-endian in memory,
// so that an entry's payload can be read straight into a []float32.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// GetInto is Get reading the payload into buf when it has room (rows*cols
// floats), else into a new slice: no intermediate copy of the entry, for
// streaming many entries through a few buffers. It also marks the entry as
// used now (its modification time), which Prune's least-recently-used
// order follows. A bad entry is removed and reported as ErrMiss.
func (c *Cache) GetInto(k ImageKey, buf []float32) (z []float32, rows, cols int, err error) {
	p := c.path(k)
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, 0, ErrMiss
	}
	z, rows, cols, err = c.readInto(f, k, buf)
	f.Close()
	if err != nil {
		os.Remove(p)
		return nil, 0, 0, fmt.Errorf("%w: %s: %v", ErrMiss, p, err)
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // best effort: only the eviction order depends on it
	return z, rows, cols, nil
}

func (c *Cache) readInto(f *os.File, k ImageKey, buf []float32) ([]float32, int, int, error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return nil, 0, 0, errors.New("not a cache entry or truncated header")
	}
	if err := c.checkHeader(k, hdr[:]); err != nil {
		return nil, 0, 0, err
	}
	rows := int(binary.LittleEndian.Uint32(hdr[68:]))
	cols := int(binary.LittleEndian.Uint32(hdr[72:]))
	sum := binary.LittleEndian.Uint32(hdr[76:])
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	n := rows * cols
	if uint64(n)*4 != uint64(st.Size()-headerSize) {
		return nil, 0, 0, fmt.Errorf("payload is %d bytes, header says %dx%d floats", st.Size()-headerSize, rows, cols)
	}
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	z := buf[:n]
	if !littleEndian {
		b := make([]byte, 4*n)
		if _, err := io.ReadFull(f, b); err != nil {
			return nil, 0, 0, fmt.Errorf("truncated payload: %w", err)
		}
		if crc32.ChecksumIEEE(b) != sum {
			return nil, 0, 0, errors.New("checksum mismatch")
		}
		for i := range z {
			z[i] = float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return z, rows, cols, nil
	}
	var b []byte
	if n > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&z[0])), 4*n)
	}
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, 0, 0, fmt.Errorf("truncated payload: %w", err)
	}
	if crc32.ChecksumIEEE(b) != sum {
		return nil, 0, 0, errors.New("checksum mismatch")
	}
	return z, rows, cols, nil
}

// Has reports whether a valid entry exists for the image (read and checked
// in full, with the buffer buf reused when large enough).
func (c *Cache) Has(k ImageKey, buf []float32) (ok bool, rows, cols int) {
	_, rows, cols, err := c.GetInto(k, buf)
	return err == nil, rows, cols
}
