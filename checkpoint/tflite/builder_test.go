package tflite

import (
	"encoding/binary"
	"math"
)

// A tiny FlatBuffer writer for the tests: enough to hand-build TFLite
// models, including malformed ones. Objects are laid out parent first,
// children after (uoffsets must point forward); each table is preceded by
// its own vtable.

// fbTable is a table: field id -> value (fbScalar, fbString, fbVector,
// fbTables or fbTable).
type fbTable map[int]any

// fbScalar is an inline scalar field, little-endian bytes.
type fbScalar []byte

// fbString is a string field.
type fbString string

// fbVector is a vector of scalars: the raw element bytes and the element count.
type fbVector struct {
	raw []byte
	n   int
}

// fbTables is a vector of tables.
type fbTables []fbTable

func u8(v uint8) fbScalar { return fbScalar{v} }
func i32(v int32) fbScalar {
	return binary.LittleEndian.AppendUint32(nil, uint32(v))
}
func f32(v float32) fbScalar { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)) }

func ints(v ...int32) fbVector {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return fbVector{b, len(v)}
}
func floats(v ...float32) fbVector {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return fbVector{b, len(v)}
}
func longs(v ...int64) fbVector {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return fbVector{b, len(v)}
}
func bytesVec(b ...byte) fbVector { return fbVector{b, len(b)} }

type fbWriter struct{ buf []byte }

func (w *fbWriter) align(n int) {
	for len(w.buf)%n != 0 {
		w.buf = append(w.buf, 0)
	}
}

// patch stores at slot the uoffset to target.
func (w *fbWriter) patch(slot, target int) {
	binary.LittleEndian.PutUint32(w.buf[slot:], uint32(target-slot))
}

func (w *fbWriter) write(v any) int {
	switch v := v.(type) {
	case fbString:
		w.align(4)
		p := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		w.buf = append(w.buf, v...)
		w.buf = append(w.buf, 0)
		return p
	case fbVector:
		w.align(8)
		w.buf = append(w.buf, 0, 0, 0, 0) // so the elements are 8-aligned
		p := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(v.n))
		w.buf = append(w.buf, v.raw...)
		return p
	case fbTables:
		w.align(4)
		p := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		slots := len(w.buf)
		w.buf = append(w.buf, make([]byte, 4*len(v))...)
		for i, t := range v {
			w.patch(slots+4*i, w.write(t))
		}
		return p
	case fbTable:
		maxID := -1
		for id := range v {
			maxID = max(maxID, id)
		}
		// Inline layout: soffset, then each field in id order (4 bytes for
		// references, the scalar's size otherwise, 8-byte scalars unaligned
		// for simplicity: the reader does not care).
		offs := make([]int, maxID+1)
		size := 4
		for id := 0; id <= maxID; id++ {
			f, ok := v[id]
			if !ok {
				continue
			}
			offs[id] = size
			if s, isScalar := f.(fbScalar); isScalar {
				size += len(s)
			} else {
				size += 4
			}
		}
		w.align(2)
		vt := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(4+2*(maxID+1)))
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(size))
		for id := 0; id <= maxID; id++ {
			w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(offs[id]))
		}
		w.align(4)
		p := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(int32(p-vt)))
		type ref struct {
			slot int
			val  any
		}
		var refs []ref
		for id := 0; id <= maxID; id++ {
			f, ok := v[id]
			if !ok {
				continue
			}
			if s, isScalar := f.(fbScalar); isScalar {
				w.buf = append(w.buf, s...)
			} else {
				refs = append(refs, ref{len(w.buf), f})
				w.buf = append(w.buf, 0, 0, 0, 0)
			}
		}
		for _, r := range refs {
			w.patch(r.slot, w.write(r.val))
		}
		return p
	}
	panic("fbWriter: unknown value")
}

// buildModel serialises root as a TFLite file (root offset, "TFL3", root).
func buildModel(root fbTable) []byte {
	w := &fbWriter{buf: make([]byte, 8)}
	copy(w.buf[4:], fileIdentifier)
	binary.LittleEndian.PutUint32(w.buf, uint32(w.write(root)))
	return w.buf
}

// tinyModel is a hand-built model exercising what MobileNet files do not:
// int8 weights quantised per channel along dimension 0 with distinct zero
// points, old-style operator codes (deprecated_builtin_code only) and a
// new-style one (code 150 does not fit the byte, which holds the
// placeholder 127), an inline-options RESHAPE and optional input -1.
func tinyModel() fbTable {
	quantIn := fbTable{quantScale: floats(1.0 / 128), quantZeroPoint: longs(128)}
	quantW := fbTable{quantScale: floats(0.5, 0.25), quantZeroPoint: longs(0, -2), quantDimension: i32(0)}
	quantB := fbTable{quantScale: floats(0.125), quantZeroPoint: longs(0)}
	return fbTable{
		modelVersion:     i32(3),
		modelDescription: fbString("tiny"),
		modelOperatorCodes: fbTables{
			{opcodeDeprecatedBuiltin: u8(3)},                            // CONV_2D, old style
			{opcodeDeprecatedBuiltin: u8(114), opcodeVersion: i32(2)},   // QUANTIZE, old style
			{opcodeDeprecatedBuiltin: u8(22)},                           // RESHAPE
			{opcodeDeprecatedBuiltin: u8(127), opcodeBuiltin: i32(150)}, // code > 127, new style
		},
		modelBuffers: fbTables{
			{}, // sentinel
			{bufferData: bytesVec(1, 2, 3, 0xff, 0x80, 0x7f)},          // int8 weights (2,1,1,3)
			{bufferData: bytesVec(8, 0, 0, 0, 0xf8, 0xff, 0xff, 0xff)}, // int32 bias 8, -8
			{bufferData: bytesVec(0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0)},    // float32 1, -2
		},
		modelSubgraphs: fbTables{{
			subgraphName: fbString("main"),
			subgraphTensors: fbTables{
				{tensorName: fbString("input"), tensorShape: ints(1, 2, 2, 3), tensorType: u8(uint8(UInt8)), tensorQuantization: quantIn},
				{tensorName: fbString("w"), tensorShape: ints(2, 1, 1, 3), tensorType: u8(uint8(Int8)), tensorBuffer: i32(1), tensorQuantization: quantW},
				{tensorName: fbString("b"), tensorShape: ints(2), tensorType: u8(uint8(Int32)), tensorBuffer: i32(2), tensorQuantization: quantB},
				{tensorName: fbString("out"), tensorShape: ints(1, 2, 2, 2), tensorType: u8(uint8(Float32))},
				{tensorName: fbString("f"), tensorShape: ints(2), tensorType: u8(uint8(Float32)), tensorBuffer: i32(3)},
				{tensorName: fbString("flat"), tensorShape: ints(1, 8), tensorType: u8(uint8(Float32))},
			},
			subgraphInputs:  ints(0),
			subgraphOutputs: ints(5),
			subgraphOperators: fbTables{
				{operatorOpcodeIndex: i32(0), operatorInputs: ints(0, 1, 2), operatorOutputs: ints(3),
					operatorOptionsType:    u8(optConv2D),
					operatorBuiltinOptions: fbTable{0: u8(uint8(Valid)), 1: i32(2), 2: i32(3), 3: u8(uint8(ActRelu6)), 5: i32(2)}},
				{operatorOpcodeIndex: i32(1), operatorInputs: ints(3, -1), operatorOutputs: ints(3)},
				{operatorOpcodeIndex: i32(2), operatorInputs: ints(3), operatorOutputs: ints(5),
					operatorOptionsType: u8(optReshape), operatorBuiltinOptions: fbTable{0: ints(1, 8)}},
			},
		}},
	}
}
