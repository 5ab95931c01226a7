// Package safetensors reads safetensors files (huggingface/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the end of the header) plus an optional "__metadata__" map of
// strings, then the tensors' little-endian bytes.
//
// The file is memory-mapped. float32 tensors whose data are 4-byte aligned
// are returned without a copy, as views of the mapping (which is private
// and copy-on-write, so writing to them is safe and stays in memory);
// other types are converted to float32 (F16, BF16, F64) or int64.
//
// The header is validated strictly before any tensor is touched: offsets
// inside the file, sizes equal to dtype size times the shape's element
// count, no two tensors overlapping.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"unsafe"

	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/internal/mmapfile"
)

// maxHeader is the largest header accepted, as in the reference
// implementation (safetensors/src/tensor.rs MAX_HEADER_SIZE).
const maxHeader = 100 << 20

// dtypes maps the safetensors dtype names this reader decodes to the
// checkpoint type and element size in bytes.
var dtypes = map[string]struct {
	dtype checkpoint.DType
	size  int
}{
	"F32":  {checkpoint.Float32, 4},
	"F16":  {checkpoint.Float16, 2},
	"BF16": {checkpoint.BFloat16, 2},
	"F64":  {checkpoint.Float64, 8},
	"I64":  {checkpoint.Int64, 8},
	"I32":  {checkpoint.Int32, 4},
	"I16":  {checkpoint.Int16, 2},
	"I8":   {checkpoint.Int8, 1},
	"U8":   {checkpoint.UInt8, 1},
	"BOOL": {checkpoint.Bool, 1},
}

// Sniff reports whether head, the first bytes of a file (at least 9),
// looks like a safetensors file: a plausible header length followed by '{'.
func Sniff(head []byte) bool {
	if len(head) < 9 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n <= maxHeader && head[8] == '{'
}

// File is an open safetensors file. Tensors' float32 data may alias the
// mapping: they are valid until Close.
type File struct {
	Tensors  checkpoint.StateDict
	Metadata map[string]string
	m        *mmapfile.File
}

// Open maps and parses the safetensors file at path.
func Open(path string) (f *File, err error) {
	m, err := mmapfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read safetensors: %w", err)
	}
	// Parse does not panic on bad input; SetPanicOnFault turns a SIGBUS
	// (the file truncated while mapped) into a panic recovered here.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read safetensors %s: malformed file (%v)", path, r)
		}
		if err != nil {
			m.Close()
			f = nil
		}
	}()
	sd, meta, err := Parse(m.Data)
	if err != nil {
		return nil, fmt.Errorf("read safetensors %s: %w", path, err)
	}
	return &File{Tensors: sd, Metadata: meta, m: m}, nil
}

// Close unmaps the file; its tensors' Data must not be used afterwards.
func (f *File) Close() error { return f.m.Close() }

// Load reads the tensors of the safetensors file at path. The mapping is
// never unmapped, so the zero-copy tensors stay valid for the life of the
// process; use Open and Close to release it.
func Load(path string) (checkpoint.StateDict, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return f.Tensors, nil
}

// headerEntry is one tensor's description in the JSON header.
type headerEntry struct {
	DType       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// Parse reads a safetensors file held in data. Aligned float32 tensors
// alias data; everything else is copied.
func Parse(data []byte) (checkpoint.StateDict, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("file too short (%d bytes) for a safetensors header", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n, maxHeader)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("header claims %d bytes but the file has %d after the length", n, len(data)-8)
	}
	header := data[8 : 8+n]
	body := data[8+n:]
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, errors.New("header is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, nil, fmt.Errorf("header JSON: %w", err)
	}
	var meta map[string]string
	type span struct {
		name       string
		begin, end uint64
		dtype      checkpoint.DType
		shape      []int
	}
	var spans []span
	sd := make(checkpoint.StateDict, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("header __metadata__ is not a map of strings: %w", err)
			}
			continue
		}
		var e headerEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: header entry: %w", name, err)
		}
		dt, ok := dtypes[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: dtype %q is not supported", name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets has %d values, want 2", name, len(e.DataOffsets))
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin > end || end > uint64(len(body)) {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d data bytes", name, begin, end, len(body))
		}
		// The element count may not exceed the byte span, which bounds
		// it (and every allocation below) by the file's size.
		numel := uint64(1)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d != 0 && numel > (end-begin)/d && numel != 0 {
				return nil, nil, fmt.Errorf("tensor %q: shape %v needs more than its %d bytes", name, e.Shape, end-begin)
			}
			numel *= d
			shape[i] = int(d)
		}
		if numel*uint64(dt.size) != end-begin {
			return nil, nil, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, data_offsets give %d", name, e.Shape, e.DType, numel*uint64(dt.size), end-begin)
		}
		spans = append(spans, span{name, begin, end, dt.dtype, shape})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].name < spans[j].name
	})
	for i := 1; i < len(spans); i++ {
		p, c := spans[i-1], spans[i]
		if c.begin < p.end && c.begin != c.end && p.begin != p.end {
			return nil, nil, fmt.Errorf("tensors %q [%d, %d] and %q [%d, %d] overlap", p.name, p.begin, p.end, c.name, c.begin, c.end)
		}
	}
	// Only now, with the spans disjoint, is anything allocated: the total
	// is then bounded by the file's size (times 4 for one-byte types).
	for _, sp := range spans {
		sd[sp.name] = decode(sp.name, sp.dtype, sp.shape, body[sp.begin:sp.end])
	}
	return sd, meta, nil
}

// decode makes the tensor for b, the little-endian bytes of a tensor of
// the given type and shape (len(b) already checked against the shape).
func decode(name string, dt checkpoint.DType, shape []int, b []byte) *checkpoint.Tensor {
	t := &checkpoint.Tensor{Name: name, DType: dt, Shape: shape}
	le := binary.LittleEndian
	switch dt {
	case checkpoint.Float32:
		n := len(b) / 4
		if n > 0 && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
			// Zero copy: amd64 and arm64 are little-endian like the file.
			t.Data = unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
			return t
		}
		t.Data = make([]float32, n)
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case checkpoint.Float16, checkpoint.BFloat16:
		t.Data = make([]float32, len(b)/2)
		conv := checkpoint.Float16ToFloat32
		if dt == checkpoint.BFloat16 {
			conv = checkpoint.BFloat16ToFloat32
		}
		for i := range t.Data {
			t.Data[i] = conv(le.Uint16(b[2*i:]))
		}
	case checkpoint.Float64:
		t.Data = make([]float32, len(b)/8)
		for i := range t.Data {
			t.Data[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case checkpoint.Int64:
		t.Ints = make([]int64, len(b)/8)
		for i := range t.Ints {
			t.Ints[i] = int64(le.Uint64(b[8*i:]))
		}
	case checkpoint.Int32:
		t.Ints = make([]int64, len(b)/4)
		for i := range t.Ints {
			t.Ints[i] = int64(int32(le.Uint32(b[4*i:])))
		}
	case checkpoint.Int16:
		t.Ints = make([]int64, len(b)/2)
		for i := range t.Ints {
			t.Ints[i] = int64(int16(le.Uint16(b[2*i:])))
		}
	case checkpoint.Int8:
		t.Ints = make([]int64, len(b))
		for i := range t.Ints {
			t.Ints[i] = int64(int8(b[i]))
		}
	default: // U8, BOOL
		t.Ints = make([]int64, len(b))
		for i := range t.Ints {
			t.Ints[i] = int64(b[i])
		}
	}
	return t
}
