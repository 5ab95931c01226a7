package featcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/anomclust/anomclust/internal/atomicfile"
)

// ScoreDir is the folder of the score cache under a feature cache root.
const ScoreDir = "scores"

// scoreMagic starts every score entry; the digit is the format version.
const scoreMagic = "ACS1"

// scoreHeader: magic(4) key(32) rows(4) cols(4) crc(4)
const scoreHeader = 4 + 32 + 4 + 4 + 4

// ScoreKey identifies one set of patch scores: the hash of everything that
// changes them (see ScoreKeyOf).
type ScoreKey [32]byte

// ScoreKeyOf hashes the parts in order, each length-prefixed so that no
// two lists hash alike. The caller lists every input of the scores: the
// feature settings' fingerprint, the image keys of the queries and of the
// whole reference set or bank, the mode and every approximation setting.
func ScoreKeyOf(parts ...[]byte) ScoreKey {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	var k ScoreKey
	copy(k[:], h.Sum(nil))
	return k
}

// Keys concatenates image keys, for ScoreKeyOf.
func Keys(ks []ImageKey) []byte {
	b := make([]byte, 0, 32*len(ks))
	for _, k := range ks {
		b = append(b, k[:]...)
	}
	return b
}

// ScoreCache stores patch scores (rows x cols float64) by ScoreKey, like
// Cache stores Z: atomic writes, a checksum, bad entries reported as misses
// and removed.
type ScoreCache struct{ dir string }

// OpenScores returns the score cache under a feature cache root.
func OpenScores(root string) (*ScoreCache, error) {
	d := filepath.Join(root, ScoreDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("score cache: %w", err)
	}
	return &ScoreCache{dir: d}, nil
}

func (c *ScoreCache) path(k ScoreKey) string {
	return filepath.Join(c.dir, hex.EncodeToString(k[:])+".s")
}

// Get returns the scores stored under k, or ErrMiss (wrapped with the
// reason when an entry existed but was bad).
func (c *ScoreCache) Get(k ScoreKey) (s []float64, rows, cols int, err error) {
	p := c.path(k)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, 0, 0, ErrMiss
	}
	s, rows, cols, err = decodeScores(k, b)
	if err != nil {
		os.Remove(p)
		return nil, 0, 0, fmt.Errorf("%w: %s: %v", ErrMiss, p, err)
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // least-recently-used order (Prune)
	return s, rows, cols, nil
}

func decodeScores(k ScoreKey, b []byte) ([]float64, int, int, error) {
	if len(b) < scoreHeader || string(b[:4]) != scoreMagic {
		return nil, 0, 0, errors.New("not a score entry or truncated header")
	}
	if !bytes.Equal(b[4:36], k[:]) {
		return nil, 0, 0, errors.New("entry belongs to other scores")
	}
	rows := int(binary.LittleEndian.Uint32(b[36:]))
	cols := int(binary.LittleEndian.Uint32(b[40:]))
	sum := binary.LittleEndian.Uint32(b[44:])
	payload := b[scoreHeader:]
	if uint64(rows)*uint64(cols)*8 != uint64(len(payload)) {
		return nil, 0, 0, fmt.Errorf("payload is %d bytes, header says %dx%d float64s", len(payload), rows, cols)
	}
	if crc32.ChecksumIEEE(payload) != sum {
		return nil, 0, 0, errors.New("checksum mismatch")
	}
	s := make([]float64, rows*cols)
	for i := range s {
		s[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
	}
	return s, rows, cols, nil
}

// Put stores the scores (rows x cols) under k atomically.
func (c *ScoreCache) Put(k ScoreKey, s []float64, rows, cols int) error {
	if len(s) != rows*cols {
		return fmt.Errorf("score cache: %d values for %dx%d", len(s), rows, cols)
	}
	buf := make([]byte, scoreHeader+8*len(s))
	copy(buf, scoreMagic)
	copy(buf[4:], k[:])
	binary.LittleEndian.PutUint32(buf[36:], uint32(rows))
	binary.LittleEndian.PutUint32(buf[40:], uint32(cols))
	payload := buf[scoreHeader:]
	for i, v := range s {
		binary.LittleEndian.PutUint64(payload[8*i:], math.Float64bits(v))
	}
	binary.LittleEndian.PutUint32(buf[44:], crc32.ChecksumIEEE(payload))
	if err := atomicfile.WriteFile(c.path(k), buf); err != nil {
		return fmt.Errorf("score cache: %w", err)
	}
	return nil
}
