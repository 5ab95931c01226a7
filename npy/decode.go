package npy

import "fmt"

// Decode parses a whole .npy file held in memory (as Read does a file on
// disk) whose dtype must be T's, and returns its elements in C order and
// its shape. The elements go into buf when it has room (len(buf) >= the
// number of elements), else into a new slice.
func Decode[T Elem](b []byte, buf []T) ([]T, []int, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, nil, err
	}
	if want := descrOf[T](); h.Descr != want {
		return nil, nil, fmt.Errorf("dtype %s, want %s", h.Descr, want)
	}
	n, _ := numel(h.Shape) // validated by ParseHeader
	if want := h.DataOffset + n*itemSize(h.Descr); len(b) != want {
		return nil, nil, fmt.Errorf("%d bytes, header (dtype %s, shape %v) needs %d: truncated or corrupt", len(b), h.Descr, h.Shape, want)
	}
	out := buf
	if len(out) < n {
		out = make([]T, n)
	}
	out = out[:n]
	decodeInto(out, b[h.DataOffset:])
	return out, h.Shape, nil
}
