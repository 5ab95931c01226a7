package torchpt

// Opcodes that act on the pickle machine itself: the protocol header,
// frames, the stack, marks and the memo.

func (u *unpickler) proto(byte) error {
	p, err := u.u8()
	if err != nil {
		return err
	}
	if p > 5 {
		return u.errorf("unsupported pickle protocol %d", p)
	}
	return nil
}

// frame checks FRAME's length, a hint only: the frame's opcodes follow
// inline.
func (u *unpickler) frame(byte) error {
	n, err := u.u64()
	if err != nil {
		return err
	}
	if n > uint64(len(u.buf)-u.pos) {
		return u.errorf("truncated: frame of %d bytes, %d left", n, len(u.buf)-u.pos)
	}
	return nil
}

func (u *unpickler) mark(byte) error {
	u.marks = append(u.marks, u.stack)
	u.stack = nil
	return nil
}

func (u *unpickler) popOp(byte) error {
	_, err := u.pop()
	return err
}

func (u *unpickler) popMarkOp(byte) error {
	_, err := u.popMark()
	return err
}

func (u *unpickler) dup(byte) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

// put stores the top of the stack in the memo: BINPUT, LONG_BINPUT at the
// index given, MEMOIZE at the next free one.
func (u *unpickler) put(op byte) error {
	var i uint32
	switch op {
	case opBinPut:
		b, err := u.u8()
		if err != nil {
			return err
		}
		i = uint32(b)
	case opLongBinPut:
		v, err := u.u32()
		if err != nil {
			return err
		}
		i = v
	default: // opMemoize
		i = uint32(len(u.memo))
	}
	return u.memoPut(i)
}

// get pushes a memo entry (BINGET, LONG_BINGET).
func (u *unpickler) get(op byte) error {
	var i uint32
	if op == opBinGet {
		b, err := u.u8()
		if err != nil {
			return err
		}
		i = uint32(b)
	} else {
		v, err := u.u32()
		if err != nil {
			return err
		}
		i = v
	}
	return u.memoGet(i)
}
