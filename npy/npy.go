// Package npy reads and writes NumPy .npy files (format versions 1.0, 2.0
// and 3.0 on reading; 1.0, or 2.0 when the header needs it, on writing), so
// that outputs such as X.npy and alpha.npy load directly with numpy.load.
//
// Supported element types are little-endian float32 ('<f4'), float64
// ('<f8'), int32 ('<i4') and int64 ('<i8') in C (row-major) order. Writes are
// atomic: the file is written under a temporary name in the same directory
// and renamed into place, so an interrupted run never leaves a half-written
// file. Reads validate the whole header against the file size. Write and
// Read handle whole arrays; Create and Open stream arrays larger than
// memory a slice at a time.
//
// The format is numpy/lib/format.py's: the magic "\x93NUMPY", a version
// (major, minor), a little-endian header length (uint16 in 1.0, uint32 in
// 2.0/3.0), and a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
// spaces and a newline so the data starts at a multiple of 64 bytes.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/internal/atomicfile"
)

// Elem is an element type a .npy file can hold here.
type Elem interface {
	float32 | float64 | int32 | int64
}

// Header is the parsed header of a .npy file.
type Header struct {
	Major, Minor int    // format version
	Descr        string // dtype descriptor, e.g. "<f4"
	FortranOrder bool
	Shape        []int
	DataOffset   int // byte offset of the first element
}

// Array is the contents of a .npy file whose element type is known only at
// run time (see ReadAny). Data is a []float32, []float64, []int32 or []int64.
type Array struct {
	Shape []int
	Descr string
	Data  any
}

const magic = "\x93NUMPY"

// descrOf is the dtype descriptor of T.
func descrOf[T Elem]() string {
	var z T
	switch any(z).(type) {
	case float32:
		return "<f4"
	case float64:
		return "<f8"
	case int32:
		return "<i4"
	default:
		return "<i8"
	}
}

// itemSize is the size in bytes of one element of a supported descriptor.
func itemSize(descr string) int {
	switch descr {
	case "<f4", "<i4":
		return 4
	case "<f8", "<i8":
		return 8
	}
	return 0
}

// Write stores data with the given shape (C order) in a .npy file at path,
// atomically (temporary file in the same directory, then rename). The
// product of shape must equal len(data); an empty shape is a 0-d array of
// one element.
func Write[T Elem](path string, data []T, shape ...int) error {
	n, err := numel(shape)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if n != len(data) {
		return fmt.Errorf("write %s: shape %v holds %d values, data has %d", path, shape, n, len(data))
	}
	return atomicfile.Write(path, func(w io.Writer) error { return Encode(w, data, shape...) })
}

// Encode writes data with the given shape in .npy format to w (no
// atomicity; see Write). The header is byte-identical to numpy.save's.
func Encode[T Elem](w io.Writer, data []T, shape ...int) error {
	n, err := numel(shape)
	if err != nil {
		return err
	}
	if n != len(data) {
		return fmt.Errorf("shape %v holds %d values, data has %d", shape, n, len(data))
	}
	if _, err := w.Write(header(descrOf[T](), shape)); err != nil {
		return err
	}
	_, err = writeLE(w, nil, data)
	return err
}

// writeLE writes data to w as little-endian bytes, converting through buf
// (grown as needed and returned for reuse) in chunks: one type switch per
// chunk, not per element.
func writeLE[T Elem](w io.Writer, buf []byte, data []T) ([]byte, error) {
	const chunk = 8192
	for lo := 0; lo < len(data); lo += chunk {
		buf = appendLE(buf[:0], data[lo:min(lo+chunk, len(data))])
		if _, err := w.Write(buf); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// appendLE appends the little-endian bytes of data to dst.
func appendLE[T Elem](dst []byte, data []T) []byte {
	switch v := any(data).(type) {
	case []float32:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
		}
	case []float64:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
		}
	case []int32:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(x))
		}
	case []int64:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint64(dst, uint64(x))
		}
	}
	return dst
}

// header builds magic, version, length and the padded dict, as
// numpy.lib.format._wrap_header does: version 1.0 unless the header is too
// long for its uint16 length, total length a multiple of 64.
func header(descr string, shape []int) []byte {
	var sb strings.Builder
	sb.WriteString("{'descr': '")
	sb.WriteString(descr)
	sb.WriteString("', 'fortran_order': False, 'shape': (")
	for i, s := range shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(s))
	}
	if len(shape) == 1 {
		sb.WriteString(",")
	}
	sb.WriteString("), }")
	dict := sb.String()
	for _, v := range []struct{ major, lenBytes int }{{1, 2}, {2, 4}} {
		pre := len(magic) + 2 + v.lenBytes
		total := pre + len(dict) + 1 // + '\n'
		pad := (64 - total%64) % 64
		hlen := len(dict) + pad + 1
		if v.major == 1 && hlen > math.MaxUint16 {
			continue
		}
		out := make([]byte, 0, pre+hlen)
		out = append(out, magic...)
		out = append(out, byte(v.major), 0)
		if v.lenBytes == 2 {
			out = binary.LittleEndian.AppendUint16(out, uint16(hlen))
		} else {
			out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
		}
		out = append(out, dict...)
		out = append(out, bytes.Repeat([]byte{' '}, pad)...)
		return append(out, '\n')
	}
	panic("unreachable")
}

// Read loads a .npy file whose dtype must be T's (e.g. '<f4' for float32)
// and returns its elements in C order and its shape.
func Read[T Elem](path string) ([]T, []int, error) {
	b, h, err := load(path)
	if err != nil {
		return nil, nil, err
	}
	if want := descrOf[T](); h.Descr != want {
		return nil, nil, fmt.Errorf("read %s: dtype %s, want %s", path, h.Descr, want)
	}
	return decode[T](b[h.DataOffset:]), h.Shape, nil
}

// ReadAny loads a .npy file of any supported dtype.
func ReadAny(path string) (*Array, error) {
	b, h, err := load(path)
	if err != nil {
		return nil, err
	}
	a := &Array{Shape: h.Shape, Descr: h.Descr}
	body := b[h.DataOffset:]
	switch h.Descr {
	case "<f4":
		a.Data = decode[float32](body)
	case "<f8":
		a.Data = decode[float64](body)
	case "<i4":
		a.Data = decode[int32](body)
	case "<i8":
		a.Data = decode[int64](body)
	}
	return a, nil
}

// ReadHeader parses and validates the header of a .npy file (and checks the
// file size against it) without decoding the data.
func ReadHeader(path string) (*Header, error) {
	_, h, err := load(path)
	return h, err
}

// load reads the file and validates its header and size.
func load(path string) ([]byte, *Header, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read npy: %w", err)
	}
	h, err := ParseHeader(b)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	n, _ := numel(h.Shape) // validated by ParseHeader
	if want := h.DataOffset + n*itemSize(h.Descr); len(b) != want {
		return nil, nil, fmt.Errorf("read %s: file is %d bytes, header (dtype %s, shape %v) needs %d: truncated or corrupt",
			path, len(b), h.Descr, h.Shape, want)
	}
	return b, h, nil
}

// ParseHeader parses the header at the start of b (at least the whole
// header must be present) and checks it describes a supported array:
// a known version, dtype '<f4', '<f8', '<i4' or '<i8', C order, and
// non-negative dimensions.
func ParseHeader(b []byte) (*Header, error) {
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return nil, errors.New("not a .npy file (bad magic)")
	}
	h := &Header{Major: int(b[6]), Minor: int(b[7])}
	var hlen, pre int
	switch h.Major {
	case 1:
		pre = 10
		hlen = int(binary.LittleEndian.Uint16(b[8:10]))
	case 2, 3:
		if len(b) < 12 {
			return nil, errors.New("truncated header")
		}
		pre = 12
		hlen = int(binary.LittleEndian.Uint32(b[8:12]))
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d", h.Major, h.Minor)
	}
	if h.Minor != 0 {
		return nil, fmt.Errorf("unsupported .npy format version %d.%d", h.Major, h.Minor)
	}
	if hlen > len(b)-pre {
		return nil, fmt.Errorf("header length %d runs past the end of the file", hlen)
	}
	h.DataOffset = pre + hlen
	text := string(b[pre:h.DataOffset])
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("header does not end with a newline")
	}
	if err := parseDict(text, h); err != nil {
		return nil, fmt.Errorf("header %q: %w", strings.TrimSpace(text), err)
	}
	switch {
	case h.Descr == ">f4" || h.Descr == ">f8" || h.Descr == ">i4" || h.Descr == ">i8":
		return nil, fmt.Errorf("dtype %s is big-endian; only little-endian is supported (np.save(a.astype(a.dtype.newbyteorder('<'))))", h.Descr)
	case itemSize(h.Descr) == 0:
		return nil, fmt.Errorf("unsupported dtype %s (supported: <f4, <f8, <i4, <i8)", h.Descr)
	case h.FortranOrder:
		return nil, errors.New("fortran_order is True; only C order is supported (save np.ascontiguousarray(a))")
	}
	if _, err := numel(h.Shape); err != nil {
		return nil, err
	}
	return h, nil
}

// parseDict parses numpy's header dict literal: keys 'descr' (a string),
// 'fortran_order' (True/False) and 'shape' (a tuple of ints), each exactly once.
func parseDict(s string, h *Header) error {
	p := &dictParser{s: s}
	if !p.accept('{') {
		return errors.New("not a dict")
	}
	seen := map[string]bool{}
	for {
		if p.accept('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if seen[key] {
			return fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if !p.accept(':') {
			return fmt.Errorf("missing ':' after %q", key)
		}
		switch key {
		case "descr":
			if h.Descr, err = p.str(); err != nil {
				return fmt.Errorf("descr: %w", err)
			}
		case "fortran_order":
			if h.FortranOrder, err = p.boolean(); err != nil {
				return fmt.Errorf("fortran_order: %w", err)
			}
		case "shape":
			if h.Shape, err = p.tuple(); err != nil {
				return fmt.Errorf("shape: %w", err)
			}
		default:
			return fmt.Errorf("unexpected key %q", key)
		}
		if !p.accept(',') {
			if !p.accept('}') {
				return errors.New("expected ',' or '}'")
			}
			break
		}
	}
	if strings.TrimSpace(p.s[p.i:]) != "" {
		return errors.New("trailing characters after the dict")
	}
	if len(seen) != 3 {
		return errors.New("keys must be exactly descr, fortran_order and shape")
	}
	return nil
}

type dictParser struct {
	s string
	i int
}

func (p *dictParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *dictParser) accept(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dictParser) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", errors.New("expected a string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *dictParser) boolean() (bool, error) {
	p.skip()
	for _, w := range []struct {
		word string
		v    bool
	}{{"True", true}, {"False", false}} {
		if strings.HasPrefix(p.s[p.i:], w.word) {
			p.i += len(w.word)
			return w.v, nil
		}
	}
	return false, errors.New("expected True or False")
}

func (p *dictParser) tuple() ([]int, error) {
	if !p.accept('(') {
		return nil, errors.New("expected a tuple")
	}
	shape := []int{}
	for {
		if p.accept(')') {
			return shape, nil
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, fmt.Errorf("bad dimension at %q", p.s[p.i:min(j+1, len(p.s))])
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2 long suffix
			p.i++
		}
		shape = append(shape, v)
		if !p.accept(',') {
			if !p.accept(')') {
				return nil, errors.New("expected ',' or ')'")
			}
			return shape, nil
		}
	}
}

// numel is the product of shape, checking for negative dimensions and
// overflow (an empty shape is a 0-d array: one element).
func numel(shape []int) (int, error) {
	n := 1
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if s != 0 && n > math.MaxInt/8/s {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= s
	}
	return n, nil
}

// decode converts little-endian bytes to elements of T.
func decode[T Elem](b []byte) []T {
	out := make([]T, len(b)/itemSize(descrOf[T]()))
	decodeInto(out, b)
	return out
}

// decodeInto converts the little-endian bytes b (at least len(dst)
// elements' worth) into dst.
func decodeInto[T Elem](dst []T, b []byte) {
	switch v := any(dst).(type) {
	case []float32:
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case []float64:
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case []int32:
		for i := range v {
			v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case []int64:
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
}
