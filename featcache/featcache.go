// Package featcache stores the patch embeddings Z of each image on disk so
// that a second run with other tau values, weighting modes or clustering
// settings does no backbone work.
//
// An entry is keyed by the SHA-256 of the image file's bytes and by a
// fingerprint of every setting that changes Z (backbone, weights file,
// layers, image size, resize, patch size, dimensions, LayerNorm quirk, code
// version). Each entry file carries its own key and a checksum of its
// payload: a truncated, corrupt or stale entry is detected on read, reported
// as a miss, and recomputed by the caller; it is never used.
package featcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/anomclust/anomclust/internal/atomicfile"
)

// magic starts every entry file; the digit is the format version.
const magic = "ACZ1"

// Cache is a directory of Z entries for one settings fingerprint.
type Cache struct {
	dir         string
	fingerprint [32]byte
}

// Open returns the cache under root for the given settings. settings must
// list every value that changes Z, in a fixed order (e.g. "backbone=x",
// "layers=a,b"); they are hashed into the entries' key.
func Open(root string, settings ...string) (*Cache, error) {
	h := sha256.New()
	for _, s := range settings {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	c := &Cache{}
	copy(c.fingerprint[:], h.Sum(nil))
	c.dir = filepath.Join(root, hex.EncodeToString(c.fingerprint[:8]))
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	return c, nil
}

// Dir is the directory holding this settings' entries.
func (c *Cache) Dir() string { return c.dir }

// ImageKey is the SHA-256 of an image file's contents.
type ImageKey [32]byte

// KeyOf hashes the file at path.
func KeyOf(path string) (ImageKey, error) {
	var k ImageKey
	f, err := os.Open(path)
	if err != nil {
		return k, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return k, fmt.Errorf("hash %s: %w", path, err)
	}
	copy(k[:], h.Sum(nil))
	return k, nil
}

// KeyOfBytes hashes image bytes already in memory.
func KeyOfBytes(b []byte) ImageKey { return sha256.Sum256(b) }

func (c *Cache) path(k ImageKey) string {
	s := hex.EncodeToString(k[:])
	return filepath.Join(c.dir, s[:2], s+".z")
}

// header layout: magic(4) fingerprint(32) imagekey(32) rows(4) cols(4) crc(4)
const headerSize = 4 + 32 + 32 + 4 + 4 + 4

// ErrMiss reports that no valid entry exists; the caller computes Z.
var ErrMiss = errors.New("feature cache miss")

// Get returns Z (rows x cols, row-major) for the image, or ErrMiss when the
// entry is absent, truncated, corrupt or written for other settings. A bad
// entry is removed so that it is rewritten.
func (c *Cache) Get(k ImageKey) (z []float32, rows, cols int, err error) {
	p := c.path(k)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, 0, 0, ErrMiss
	}
	z, rows, cols, err = c.decode(k, b)
	if err != nil {
		os.Remove(p)
		return nil, 0, 0, fmt.Errorf("%w: %s: %v", ErrMiss, p, err)
	}
	return z, rows, cols, nil
}

// checkHeader checks an entry's header (at least headerSize bytes) against
// the cache's settings and the image key.
func (c *Cache) checkHeader(k ImageKey, b []byte) error {
	if len(b) < headerSize || string(b[:4]) != magic {
		return errors.New("not a cache entry or truncated header")
	}
	if !bytes.Equal(b[4:36], c.fingerprint[:]) {
		return errors.New("entry was written for other settings")
	}
	if !bytes.Equal(b[36:68], k[:]) {
		return errors.New("entry belongs to another image")
	}
	return nil
}

func (c *Cache) decode(k ImageKey, b []byte) ([]float32, int, int, error) {
	if err := c.checkHeader(k, b); err != nil {
		return nil, 0, 0, err
	}
	rows := int(binary.LittleEndian.Uint32(b[68:]))
	cols := int(binary.LittleEndian.Uint32(b[72:]))
	sum := binary.LittleEndian.Uint32(b[76:])
	payload := b[headerSize:]
	if uint64(rows)*uint64(cols)*4 != uint64(len(payload)) {
		return nil, 0, 0, fmt.Errorf("payload is %d bytes, header says %dx%d floats", len(payload), rows, cols)
	}
	if crc32.ChecksumIEEE(payload) != sum {
		return nil, 0, 0, errors.New("checksum mismatch")
	}
	z := make([]float32, rows*cols)
	for i := range z {
		z[i] = float32frombits(binary.LittleEndian.Uint32(payload[4*i:]))
	}
	return z, rows, cols, nil
}

var float32frombits = math.Float32frombits

// Fingerprint is the hash of the settings the cache was opened with.
func (c *Cache) Fingerprint() [32]byte { return c.fingerprint }

// Put stores Z (rows x cols) for the image atomically (package atomicfile),
// so readers never see half an entry.
func (c *Cache) Put(k ImageKey, z []float32, rows, cols int) error {
	if len(z) != rows*cols {
		return fmt.Errorf("feature cache: %d values for %dx%d", len(z), rows, cols)
	}
	p := c.path(k)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("feature cache: %w", err)
	}
	buf := make([]byte, headerSize+4*len(z))
	copy(buf, magic)
	copy(buf[4:], c.fingerprint[:])
	copy(buf[36:], k[:])
	binary.LittleEndian.PutUint32(buf[68:], uint32(rows))
	binary.LittleEndian.PutUint32(buf[72:], uint32(cols))
	payload := buf[headerSize:]
	for i, v := range z {
		binary.LittleEndian.PutUint32(payload[4*i:], math.Float32bits(v))
	}
	binary.LittleEndian.PutUint32(buf[76:], crc32.ChecksumIEEE(payload))
	if err := atomicfile.WriteFile(p, buf); err != nil {
		return fmt.Errorf("feature cache: %w", err)
	}
	return nil
}
