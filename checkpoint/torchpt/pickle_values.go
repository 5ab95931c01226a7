package torchpt

import (
	"encoding/binary"
	"math"
)

// Opcodes that build plain Python values: None, bools, ints, floats,
// str and bytes, tuples, lists and dicts.

func (u *unpickler) constant(op byte) error {
	switch op {
	case opNone:
		u.push(nil)
	case opNewTrue:
		u.push(true)
	default: // opNewFalse
		u.push(false)
	}
	return nil
}

// integer pushes BININT (int32), BININT1 (uint8), BININT2 (uint16) or
// LONG1 (up to 8 bytes; longer ones do not fit an int64 and are refused).
func (u *unpickler) integer(op byte) error {
	switch op {
	case opBinInt:
		v, err := u.u32()
		if err != nil {
			return err
		}
		u.push(int64(int32(v)))
	case opBinInt1:
		v, err := u.u8()
		if err != nil {
			return err
		}
		u.push(int64(v))
	case opBinInt2:
		b, err := u.take(2)
		if err != nil {
			return err
		}
		u.push(int64(binary.LittleEndian.Uint16(b)))
	default: // opLong1
		n, err := u.u8()
		if err != nil {
			return err
		}
		if n > 8 {
			return u.errorf("LONG1 of %d bytes does not fit in int64", n)
		}
		b, err := u.take(uint64(n))
		if err != nil {
			return err
		}
		u.push(decodeLong(b))
	}
	return nil
}

// binFloat pushes BINFLOAT, a big-endian float64.
func (u *unpickler) binFloat(byte) error {
	b, err := u.take(8)
	if err != nil {
		return err
	}
	u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	return nil
}

// str pushes a length-prefixed string: bytes for the *BINBYTES* opcodes,
// a Go string for the py2 BINSTRING kinds and the BINUNICODE kinds. The
// length is checked against the bytes left before anything is allocated.
func (u *unpickler) str(op byte) error {
	var n uint64
	var err error
	switch op {
	case opShortBinBytes, opShortBinString, opShortBinUnicode:
		var b byte
		b, err = u.u8()
		n = uint64(b)
	case opBinBytes, opBinString, opBinUnicode:
		var v uint32
		v, err = u.u32()
		n = uint64(v)
	default: // opBinBytes8, opBinUnicode8
		n, err = u.u64()
	}
	if err != nil {
		return err
	}
	bytesType := op == opShortBinBytes || op == opBinBytes || op == opBinBytes8
	return u.pushString(n, bytesType)
}

// tuple builds () (EMPTY_TUPLE), a tuple of the items since the mark
// (TUPLE) or of the top 1, 2, 3 items (TUPLE1..3).
func (u *unpickler) tuple(op byte) error {
	switch op {
	case opEmptyTuple:
		u.push(tuple{})
	case opTuple:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(tuple(items))
	default: // opTuple1, opTuple2, opTuple3
		n := int(op-opTuple1) + 1
		if len(u.stack) < n {
			return u.errorf("stack underflow")
		}
		t := make(tuple, n)
		copy(t, u.stack[len(u.stack)-n:])
		u.stack = u.stack[:len(u.stack)-n]
		u.push(t)
	}
	return nil
}

// list builds [] (EMPTY_LIST) or a list of the items since the mark (LIST).
func (u *unpickler) list(op byte) error {
	if op == opEmptyList {
		u.push(&list{})
		return nil
	}
	items, err := u.popMark()
	if err != nil {
		return err
	}
	u.push(&list{items: items})
	return nil
}

func (u *unpickler) appendOp(byte) error {
	v, err := u.pop()
	if err != nil {
		return err
	}
	l, err := u.top()
	if err != nil {
		return err
	}
	ll, ok := l.(*list)
	if !ok {
		return u.errorf("APPEND to a %T", l)
	}
	ll.items = append(ll.items, v)
	return nil
}

func (u *unpickler) appends(byte) error {
	items, err := u.popMark()
	if err != nil {
		return err
	}
	l, err := u.top()
	if err != nil {
		return err
	}
	ll, ok := l.(*list)
	if !ok {
		return u.errorf("APPENDS to a %T", l)
	}
	ll.items = append(ll.items, items...)
	return nil
}

// dict builds {} (EMPTY_DICT) or a dict of the pairs since the mark (DICT).
func (u *unpickler) dict(op byte) error {
	if op == opEmptyDict {
		u.push(newDict())
		return nil
	}
	items, err := u.popMark()
	if err != nil {
		return err
	}
	d := newDict()
	if err := u.setItems(d, items); err != nil {
		return err
	}
	u.push(d)
	return nil
}

func (u *unpickler) setItem(byte) error {
	v, err := u.pop()
	if err != nil {
		return err
	}
	k, err := u.pop()
	if err != nil {
		return err
	}
	d, err := u.topDict("SETITEM")
	if err != nil {
		return err
	}
	d.set(k, v)
	return nil
}

func (u *unpickler) setItemsOp(byte) error {
	items, err := u.popMark()
	if err != nil {
		return err
	}
	d, err := u.topDict("SETITEMS")
	if err != nil {
		return err
	}
	return u.setItems(d, items)
}
