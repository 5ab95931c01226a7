package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
)

// This file is a minimal, bounds-checked FlatBuffers accessor: just what the
// TFLite schema needs (tables, scalars, strings, vectors of scalars and of
// tables). Every offset and length is checked against the buffer before it
// is used, so a hostile file yields an error and never an out-of-range
// slice. The generated google/flatbuffers Go code trusts its input and
// panics on bad offsets, which is why it is not used here.
//
// Wire format (flatbuffers.dev, "Internals"): a table starts with an int32
// soffset to its vtable (vtable = table - soffset); a vtable is uint16
// vtableSize, uint16 objectSize, then one uint16 per field: the field's
// offset from the table start, 0 when absent. Reference fields hold a
// uint32 offset relative to the field's own position. A vector (and a
// string) is a uint32 element count followed by the elements.

// reader holds the file bytes and the allocation budget of one parse.
type reader struct {
	buf []byte
	// budget is how many more bytes the parsed description may allocate;
	// it starts at len(buf)+budgetSlack so that a file whose offsets point
	// many times at the same table cannot make the parse allocate more than
	// its own size (plus a fixed allowance for tiny files).
	budget int
}

// budgetSlack is the fixed part of the allocation budget: the Go structs
// of a parsed tensor or operator are larger than their smallest encoding,
// which matters only for files of a few kilobytes.
const budgetSlack = 64 << 10

// table is a located, validated table: its position and its vtable.
type table struct {
	pos     int // start of the table (where its soffset is)
	vt      int // start of its vtable
	vtSize  int // bytes in the vtable
	objSize int // bytes in the table's inline part
}

// fbError is a problem found at a position of the buffer; the caller adds
// the schema path and the file name.
type fbError struct {
	msg string
}

func (e *fbError) Error() string { return e.msg }

func errf(format string, args ...any) error { return &fbError{fmt.Sprintf(format, args...)} }

// charge takes n bytes from the allocation budget.
func (r *reader) charge(n int) error {
	if n < 0 || n > r.budget {
		return errf("parsed description would allocate more than the file's %d bytes (+%d)", len(r.buf), budgetSlack)
	}
	r.budget -= n
	return nil
}

// in reports whether [off, off+n) lies inside the buffer, without overflow.
func (r *reader) in(off int, n uint64) bool {
	return off >= 0 && uint64(off) <= uint64(len(r.buf)) && n <= uint64(len(r.buf)-off)
}

func (r *reader) u16(off int) uint16 { return binary.LittleEndian.Uint16(r.buf[off:]) }
func (r *reader) u32(off int) uint32 { return binary.LittleEndian.Uint32(r.buf[off:]) }
func (r *reader) u64(off int) uint64 { return binary.LittleEndian.Uint64(r.buf[off:]) }

// tableAt validates the table that starts at pos.
func (r *reader) tableAt(pos int) (table, error) {
	if !r.in(pos, 4) {
		return table{}, errf("table offset %d is outside the file (%d bytes)", pos, len(r.buf))
	}
	vt := int64(pos) - int64(int32(r.u32(pos)))
	if vt < 0 || vt > int64(len(r.buf)) || !r.in(int(vt), 4) {
		return table{}, errf("vtable of the table at %d is at %d, outside the file (%d bytes)", pos, vt, len(r.buf))
	}
	t := table{pos: pos, vt: int(vt)}
	t.vtSize = int(r.u16(t.vt))
	t.objSize = int(r.u16(t.vt + 2))
	if t.vtSize < 4 || t.vtSize%2 != 0 || !r.in(t.vt, uint64(t.vtSize)) {
		return table{}, errf("vtable at %d has invalid size %d", t.vt, t.vtSize)
	}
	if t.objSize < 4 || !r.in(pos, uint64(t.objSize)) {
		return table{}, errf("table at %d has size %d, running past the end of the file (%d bytes)", pos, t.objSize, len(r.buf))
	}
	return t, nil
}

// field returns the absolute position of field id of t, checking that size
// bytes fit inside the table; ok is false when the field is absent.
func (r *reader) field(t table, id, size int) (pos int, ok bool, err error) {
	slot := 4 + 2*id
	if slot+2 > t.vtSize {
		return 0, false, nil
	}
	off := int(r.u16(t.vt + slot))
	if off == 0 {
		return 0, false, nil
	}
	if off < 4 || off+size > t.objSize {
		return 0, false, errf("field %d of the table at %d has offset %d outside the table's %d bytes", id, t.pos, off, t.objSize)
	}
	return t.pos + off, true, nil
}

func (r *reader) getU8(t table, id int, def uint8) (uint8, error) {
	p, ok, err := r.field(t, id, 1)
	if err != nil || !ok {
		return def, err
	}
	return r.buf[p], nil
}

func (r *reader) getI8(t table, id int, def int8) (int8, error) {
	v, err := r.getU8(t, id, uint8(def))
	return int8(v), err
}

func (r *reader) getBool(t table, id int) (bool, error) {
	v, err := r.getU8(t, id, 0)
	return v != 0, err
}

func (r *reader) getU32(t table, id int, def uint32) (uint32, error) {
	p, ok, err := r.field(t, id, 4)
	if err != nil || !ok {
		return def, err
	}
	return r.u32(p), nil
}

func (r *reader) getI32(t table, id int, def int32) (int32, error) {
	v, err := r.getU32(t, id, uint32(def))
	return int32(v), err
}

func (r *reader) getU64(t table, id int, def uint64) (uint64, error) {
	p, ok, err := r.field(t, id, 8)
	if err != nil || !ok {
		return def, err
	}
	return r.u64(p), nil
}

func (r *reader) getF32(t table, id int, def float32) (float32, error) {
	v, err := r.getU32(t, id, math.Float32bits(def))
	return math.Float32frombits(v), err
}

// ref follows the uoffset stored in field id; ok is false when absent.
func (r *reader) ref(t table, id int) (target int, ok bool, err error) {
	p, ok, err := r.field(t, id, 4)
	if err != nil || !ok {
		return 0, false, err
	}
	target64 := uint64(p) + uint64(r.u32(p))
	if target64 >= uint64(len(r.buf)) {
		return 0, false, errf("field %d of the table at %d points to %d, outside the file (%d bytes)", id, t.pos, target64, len(r.buf))
	}
	return int(target64), true, nil
}

// subtable returns the table referenced by field id.
func (r *reader) subtable(t table, id int) (table, bool, error) {
	p, ok, err := r.ref(t, id)
	if err != nil || !ok {
		return table{}, false, err
	}
	st, err := r.tableAt(p)
	return st, err == nil, err
}

// vector returns the start of the elements and the count of the vector
// referenced by field id, checking that count*elemSize bytes are present.
func (r *reader) vector(t table, id, elemSize int) (start, n int, err error) {
	p, ok, err := r.ref(t, id)
	if err != nil || !ok {
		return 0, 0, err
	}
	if !r.in(p, 4) {
		return 0, 0, errf("vector length at %d is outside the file (%d bytes)", p, len(r.buf))
	}
	count := uint64(r.u32(p))
	if !r.in(p+4, count*uint64(elemSize)) {
		return 0, 0, errf("vector at %d claims %d elements of %d bytes, more than the file's remaining %d bytes", p, count, elemSize, len(r.buf)-p-4)
	}
	return p + 4, int(count), nil
}

// bytesField returns the bytes of a [ubyte] vector, aliasing the buffer.
func (r *reader) bytesField(t table, id int) ([]byte, error) {
	start, n, err := r.vector(t, id, 1)
	if err != nil {
		return nil, err
	}
	return r.buf[start : start+n : start+n], nil
}

// str returns the string in field id (copied, charged to the budget).
func (r *reader) str(t table, id int) (string, error) {
	b, err := r.bytesField(t, id)
	if err != nil {
		return "", err
	}
	if err := r.charge(len(b)); err != nil {
		return "", err
	}
	return string(b), nil
}

// ints32 decodes an [int] vector into ints.
func (r *reader) ints32(t table, id int) ([]int, error) {
	start, n, err := r.vector(t, id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := r.charge(8 * n); err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i := range out {
		out[i] = int(int32(r.u32(start + 4*i)))
	}
	return out, nil
}

// floats32 decodes a [float] vector.
func (r *reader) floats32(t table, id int) ([]float32, error) {
	start, n, err := r.vector(t, id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := r.charge(4 * n); err != nil {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(r.u32(start + 4*i))
	}
	return out, nil
}

// ints64 decodes a [long] vector.
func (r *reader) ints64(t table, id int) ([]int64, error) {
	start, n, err := r.vector(t, id, 8)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := r.charge(8 * n); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(r.u64(start + 8*i))
	}
	return out, nil
}

// tables returns the tables of a [Table] vector in field id.
func (r *reader) tables(t table, id int) ([]table, error) {
	start, n, err := r.vector(t, id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := r.charge(32 * n); err != nil {
		return nil, err
	}
	out := make([]table, n)
	for i := range out {
		p := start + 4*i
		target := uint64(p) + uint64(r.u32(p))
		if target >= uint64(len(r.buf)) {
			return nil, errf("element %d of the vector at %d points to %d, outside the file (%d bytes)", i, start-4, target, len(r.buf))
		}
		if out[i], err = r.tableAt(int(target)); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return out, nil
}
