package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/anomclust/anomclust/internal/atomicfile"
)

// Writer streams an array whose shape is known up front to a .npy file, so
// that arrays larger than memory (e.g. the feature maps of a whole data
// set) can be written a batch at a time. The header goes first; Write
// appends values in C order; Close checks that the shape is filled and puts
// the file in place atomically, like Write. Memory use is one buffer.
type Writer[T Elem] struct {
	f     *atomicfile.File
	bw    *bufio.Writer
	path  string
	shape []int
	left  int // values still expected
	buf   []byte
}

// Create starts writing a .npy file of the given shape at path. End with
// Close, or with Discard (which may be deferred: it does nothing after
// Close).
func Create[T Elem](path string, shape ...int) (*Writer[T], error) {
	n, err := numel(shape)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := &Writer[T]{f: f, bw: bufio.NewWriterSize(f, 1<<20), path: path, shape: append([]int(nil), shape...), left: n}
	if _, err := w.bw.Write(header(descrOf[T](), shape)); err != nil {
		f.Discard()
		return nil, err
	}
	return w, nil
}

// Write appends data, the next values of the array in C order. Writing
// more values than the shape holds is an error.
func (w *Writer[T]) Write(data []T) error {
	if len(data) > w.left {
		return fmt.Errorf("write %s: %d values given, only %d left of shape %v", w.path, len(data), w.left, w.shape)
	}
	var err error
	w.buf, err = writeLE(w.bw, w.buf, data)
	if err != nil {
		return err // atomicfile's errors name the path
	}
	w.left -= len(data)
	return nil
}

// Close finishes the file and renames it into place. If values are
// missing, nothing is written and the error says how many.
func (w *Writer[T]) Close() error {
	if w.left != 0 {
		w.f.Discard()
		return fmt.Errorf("write %s: %d values of shape %v missing", w.path, w.left, w.shape)
	}
	if err := w.bw.Flush(); err != nil {
		w.f.Discard()
		return err
	}
	return w.f.Commit()
}

// Discard abandons the file: nothing is written at the path. It does
// nothing after Close.
func (w *Writer[T]) Discard() { w.f.Discard() }

// Reader streams the values of a .npy file in C order, a slice at a time,
// for arrays too large to load at once (Read loads whole files).
type Reader[T Elem] struct {
	f      *os.File
	r      *bufio.Reader
	path   string
	header *Header
	left   int // values not yet read
	buf    []byte
}

// Open opens a .npy file whose dtype must be T's and checks its header
// and size, leaving the reader at the first value.
func Open[T Elem](path string) (*Reader[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read npy: %w", err)
	}
	r := &Reader[T]{f: f, r: bufio.NewReaderSize(f, 1<<20), path: path}
	if err := r.start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return r, nil
}

func (r *Reader[T]) start() error {
	h, err := ReadHeaderFrom(r.r)
	if err != nil {
		return err
	}
	if want := descrOf[T](); h.Descr != want {
		return fmt.Errorf("dtype %s, want %s", h.Descr, want)
	}
	n, _ := numel(h.Shape) // validated by ReadHeaderFrom
	st, err := r.f.Stat()
	if err != nil {
		return err
	}
	if want := int64(h.DataOffset + n*itemSize(h.Descr)); st.Size() != want {
		return fmt.Errorf("file is %d bytes, header (dtype %s, shape %v) needs %d: truncated or corrupt", st.Size(), h.Descr, h.Shape, want)
	}
	r.header, r.left = h, n
	return nil
}

// Header is the file's header.
func (r *Reader[T]) Header() *Header { return r.header }

// Read fills dst with the next len(dst) values. Once all values have been
// read it returns io.EOF; asking for more values than are left is an error.
func (r *Reader[T]) Read(dst []T) error {
	if r.left == 0 {
		return io.EOF
	}
	if len(dst) > r.left {
		return fmt.Errorf("read %s: %d values asked, %d left", r.path, len(dst), r.left)
	}
	size := len(dst) * itemSize(r.header.Descr)
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	if _, err := io.ReadFull(r.r, r.buf[:size]); err != nil {
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	decodeInto(dst, r.buf)
	r.left -= len(dst)
	return nil
}

// Close closes the file.
func (r *Reader[T]) Close() error { return r.f.Close() }

// maxHeader bounds the header length ReadHeaderFrom accepts, so that a
// corrupt length field cannot make it allocate gigabytes; numpy's own
// headers are a few hundred bytes.
const maxHeader = 1 << 20

// ReadHeaderFrom reads a .npy header from r and checks it as ParseHeader
// does, leaving r at the first value. Unlike ReadHeader it cannot check the
// data's size against the header.
func ReadHeaderFrom(r io.Reader) (*Header, error) {
	b := make([]byte, 12)
	if _, err := io.ReadFull(r, b[:10]); err != nil {
		return nil, fmt.Errorf("not a .npy file: %w", err)
	}
	if string(b[:len(magic)]) != magic {
		return nil, errors.New("not a .npy file (bad magic)")
	}
	var hlen, pre int
	switch b[6] {
	case 1:
		hlen, pre = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if _, err := io.ReadFull(r, b[10:12]); err != nil {
			return nil, fmt.Errorf("truncated .npy header: %w", err)
		}
		hlen, pre = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d", b[6], b[7])
	}
	if hlen > maxHeader {
		return nil, fmt.Errorf(".npy header of %d bytes (more than %d)", hlen, maxHeader)
	}
	b = append(b[:pre], make([]byte, hlen)...)
	if _, err := io.ReadFull(r, b[pre:]); err != nil {
		return nil, fmt.Errorf("truncated .npy header: %w", err)
	}
	return ParseHeader(b)
}
