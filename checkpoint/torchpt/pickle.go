package torchpt

import (
	"encoding/binary"
	"fmt"
	"math"
)

// This file is a restricted unpickler: the subset of Python's pickle
// machine (Lib/pickle.py, _Unpickler.load_*) that torch.save output uses,
// over an in-memory buffer. It differs from pickle.Unpickler (and from
// github.com/nlpodyssey/gopickle, which this project tried first) in three
// ways that matter for untrusted files:
//   - only the globals in allowedGlobals can be named; any other GLOBAL or
//     STACK_GLOBAL is an error naming it (gopickle accepts every global as
//     a GenericClass, and copy_reg._reconstructor/__builtin__.object even
//     before its FindClass hook is consulted);
//   - every length in the stream is checked against the bytes left before
//     anything is allocated, so a pickle never allocates more than its own
//     size (gopickle allocates the claimed length of BINBYTES8 and FRAME);
//   - malformed streams (odd SETITEMS, a stack underflow, a bad memo index,
//     opcode 0xff) are errors, not panics.
// Opcodes outside the supported set are errors naming the opcode.

// Python values are represented as: nil (None), bool, int64, float64,
// string (str), []byte (bytes), tuple, *list, *dict, global (a whitelisted
// class or function), *object (an inert instance, argparse.Namespace),
// and the torch-specific *storageRef and *tensorRef.

type tuple []any

type list struct{ items []any }

// dict is a Python dict or OrderedDict: insertion-ordered entries. String
// keys (the only kind a state dict has) are indexed so that a later SETITEM
// replaces an earlier one, as in Python; other keys are only appended,
// which is enough because nothing looks them up.
type dict struct {
	keys  []any
	vals  []any
	index map[string]int
}

func newDict() *dict { return &dict{index: map[string]int{}} }

func (d *dict) set(k, v any) {
	if s, ok := k.(string); ok {
		if i, ok := d.index[s]; ok {
			d.vals[i] = v
			return
		}
		d.index[s] = len(d.keys)
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

func (d *dict) get(k string) (any, bool) {
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// global is a module-qualified Python name that passed the whitelist.
type global struct{ module, name string }

func (g global) String() string { return g.module + "." + g.name }

// object is an instance of a whitelisted plain class (argparse.Namespace),
// kept as its class and its BUILD state; it has no behaviour.
type object struct {
	class global
	state any
}

// storageKind describes a torch.*Storage class: the element type and size
// of the bytes of a storage.
type storageKind struct {
	dtype string // checkpoint.DType value
	size  int    // bytes per element
}

// storageClasses are the legacy typed-storage classes torch.save names in
// its persistent ids (torch/storage.py _LegacyStorage subclasses).
var storageClasses = map[string]storageKind{
	"FloatStorage":    {"float32", 4},
	"DoubleStorage":   {"float64", 8},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
}

// allowedGlobals is every callable or class a checkpoint may name, besides
// the torch.*Storage classes. argparse.Namespace is here because DINO's
// full training checkpoints (main_dino.py save_dict) store the run's
// arguments under "args"; it loads as an inert *object and is never used.
var allowedGlobals = map[string]bool{
	"torch._utils._rebuild_tensor":               true,
	"torch._utils._rebuild_tensor_v2":            true,
	"torch._utils._rebuild_parameter":            true,
	"torch._utils._rebuild_parameter_with_state": true,
	"collections.OrderedDict":                    true,
	"argparse.Namespace":                         true,
}

func findGlobal(module, name string) (any, error) {
	g := global{module, name}
	if module == "torch" {
		if _, ok := storageClasses[name]; ok {
			return g, nil
		}
	}
	if allowedGlobals[g.String()] {
		return g, nil
	}
	return nil, fmt.Errorf("pickle names the global %s, which a checkpoint does not need: refused", printable(g.String()))
}

// unpickler runs one pickle program over buf[pos:].
type unpickler struct {
	buf   []byte
	pos   int
	stack []any
	marks [][]any // saved stacks, one per MARK (pickle.py's metastack)
	memo  map[uint32]any
	// persistentLoad resolves a BINPERSID id (the storage tuple).
	persistentLoad func(pid any) (any, error)
}

// errorf reports a malformed pickle at the current offset.
func (u *unpickler) errorf(format string, args ...any) error {
	return fmt.Errorf("pickle offset %d: %s", u.pos, fmt.Sprintf(format, args...))
}

func (u *unpickler) take(n uint64) ([]byte, error) {
	if n > uint64(len(u.buf)-u.pos) {
		return nil, u.errorf("truncated: %d bytes claimed, %d left", n, len(u.buf)-u.pos)
	}
	b := u.buf[u.pos : u.pos+int(n)]
	u.pos += int(n)
	return b, nil
}

func (u *unpickler) u8() (byte, error) {
	b, err := u.take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (u *unpickler) u32() (uint32, error) {
	b, err := u.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (u *unpickler) u64() (uint64, error) {
	b, err := u.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// line reads a newline-terminated argument (GLOBAL's module and name).
func (u *unpickler) line() (string, error) {
	for i := u.pos; i < len(u.buf); i++ {
		if u.buf[i] == '\n' {
			s := string(u.buf[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", u.errorf("truncated: unterminated line")
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 {
		return nil, u.errorf("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 {
		return nil, u.errorf("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark returns the items pushed since the last MARK and restores the
// stack below it.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errorf("no MARK on the stack")
	}
	items := u.stack
	u.stack = u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	return items, nil
}

func (u *unpickler) memoPut(i uint32) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

func (u *unpickler) memoGet(i uint32) error {
	v, ok := u.memo[i]
	if !ok {
		return u.errorf("memo index %d not defined", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) pushString(n uint64, bytesType bool) error {
	b, err := u.take(n)
	if err != nil {
		return err
	}
	if bytesType {
		u.push(append([]byte(nil), b...))
	} else {
		u.push(string(b))
	}
	return nil
}

// decodeLong decodes a LONG1 little-endian two's-complement integer of at
// most 8 bytes.
func decodeLong(b []byte) int64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if len(b) > 0 && len(b) < 8 && b[len(b)-1]&0x80 != 0 {
		v |= ^uint64(0) << (8 * len(b)) // sign-extend
	}
	return int64(v)
}

// load runs the pickle program from u.pos to its STOP and returns the
// value it built.
func (u *unpickler) load() (any, error) {
	if u.memo == nil {
		u.memo = map[uint32]any{}
	}
	for {
		op, err := u.u8()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x80: // PROTO
			p, err := u.u8()
			if err != nil {
				return nil, err
			}
			if p > 5 {
				return nil, u.errorf("unsupported pickle protocol %d", p)
			}
		case 0x95: // FRAME: a length hint only; the frame's opcodes follow inline.
			n, err := u.u64()
			if err != nil {
				return nil, err
			}
			if n > uint64(len(u.buf)-u.pos) {
				return nil, u.errorf("truncated: frame of %d bytes, %d left", n, len(u.buf)-u.pos)
			}
		case '.': // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		case '(': // MARK
			u.marks = append(u.marks, u.stack)
			u.stack = nil
		case '0': // POP
			if _, err := u.pop(); err != nil {
				return nil, err
			}
		case '1': // POP_MARK
			if _, err := u.popMark(); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := u.top()
			if err != nil {
				return nil, err
			}
			u.push(v)
		case 'N':
			u.push(nil)
		case 0x88:
			u.push(true)
		case 0x89:
			u.push(false)
		case 'J': // BININT
			v, err := u.u32()
			if err != nil {
				return nil, err
			}
			u.push(int64(int32(v)))
		case 'K': // BININT1
			v, err := u.u8()
			if err != nil {
				return nil, err
			}
			u.push(int64(v))
		case 'M': // BININT2
			b, err := u.take(2)
			if err != nil {
				return nil, err
			}
			u.push(int64(binary.LittleEndian.Uint16(b)))
		case 0x8a: // LONG1
			n, err := u.u8()
			if err != nil {
				return nil, err
			}
			if n > 8 {
				return nil, u.errorf("LONG1 of %d bytes does not fit in int64", n)
			}
			b, err := u.take(uint64(n))
			if err != nil {
				return nil, err
			}
			u.push(decodeLong(b))
		case 'G': // BINFLOAT, big-endian
			b, err := u.take(8)
			if err != nil {
				return nil, err
			}
			u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'C': // SHORT_BINBYTES
			n, err := u.u8()
			if err != nil {
				return nil, err
			}
			if err := u.pushString(uint64(n), true); err != nil {
				return nil, err
			}
		case 'B': // BINBYTES
			n, err := u.u32()
			if err != nil {
				return nil, err
			}
			if err := u.pushString(uint64(n), true); err != nil {
				return nil, err
			}
		case 0x8e: // BINBYTES8
			n, err := u.u64()
			if err != nil {
				return nil, err
			}
			if err := u.pushString(n, true); err != nil {
				return nil, err
			}
		case 'U', 0x8c: // SHORT_BINSTRING, SHORT_BINUNICODE
			n, err := u.u8()
			if err != nil {
				return nil, err
			}
			if err := u.pushString(uint64(n), false); err != nil {
				return nil, err
			}
		case 'T', 'X': // BINSTRING, BINUNICODE
			n, err := u.u32()
			if err != nil {
				return nil, err
			}
			if err := u.pushString(uint64(n), false); err != nil {
				return nil, err
			}
		case 0x8d: // BINUNICODE8
			n, err := u.u64()
			if err != nil {
				return nil, err
			}
			if err := u.pushString(n, false); err != nil {
				return nil, err
			}
		case ')':
			u.push(tuple{})
		case 't': // TUPLE
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(tuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			if len(u.stack) < n {
				return nil, u.errorf("stack underflow")
			}
			t := make(tuple, n)
			copy(t, u.stack[len(u.stack)-n:])
			u.stack = u.stack[:len(u.stack)-n]
			u.push(t)
		case ']':
			u.push(&list{})
		case 'l': // LIST
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(&list{items: items})
		case '}':
			u.push(newDict())
		case 'd': // DICT
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			d := newDict()
			if err := u.setItems(d, items); err != nil {
				return nil, err
			}
			u.push(d)
		case 'a': // APPEND
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			l, err := u.top()
			if err != nil {
				return nil, err
			}
			ll, ok := l.(*list)
			if !ok {
				return nil, u.errorf("APPEND to a %T", l)
			}
			ll.items = append(ll.items, v)
		case 'e': // APPENDS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			l, err := u.top()
			if err != nil {
				return nil, err
			}
			ll, ok := l.(*list)
			if !ok {
				return nil, u.errorf("APPENDS to a %T", l)
			}
			ll.items = append(ll.items, items...)
		case 's': // SETITEM
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			k, err := u.pop()
			if err != nil {
				return nil, err
			}
			d, err := u.topDict("SETITEM")
			if err != nil {
				return nil, err
			}
			d.set(k, v)
		case 'u': // SETITEMS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			d, err := u.topDict("SETITEMS")
			if err != nil {
				return nil, err
			}
			if err := u.setItems(d, items); err != nil {
				return nil, err
			}
		case 'q': // BINPUT
			i, err := u.u8()
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(uint32(i)); err != nil {
				return nil, err
			}
		case 'r': // LONG_BINPUT
			i, err := u.u32()
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(i); err != nil {
				return nil, err
			}
		case 0x94: // MEMOIZE
			if err := u.memoPut(uint32(len(u.memo))); err != nil {
				return nil, err
			}
		case 'h': // BINGET
			i, err := u.u8()
			if err != nil {
				return nil, err
			}
			if err := u.memoGet(uint32(i)); err != nil {
				return nil, err
			}
		case 'j': // LONG_BINGET
			i, err := u.u32()
			if err != nil {
				return nil, err
			}
			if err := u.memoGet(i); err != nil {
				return nil, err
			}
		case 'c': // GLOBAL
			module, err := u.line()
			if err != nil {
				return nil, err
			}
			name, err := u.line()
			if err != nil {
				return nil, err
			}
			g, err := findGlobal(module, name)
			if err != nil {
				return nil, err
			}
			u.push(g)
		case 0x93: // STACK_GLOBAL
			name, err := u.pop()
			if err != nil {
				return nil, err
			}
			module, err := u.pop()
			if err != nil {
				return nil, err
			}
			ms, ok1 := module.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return nil, u.errorf("STACK_GLOBAL with non-string names")
			}
			g, err := findGlobal(ms, ns)
			if err != nil {
				return nil, err
			}
			u.push(g)
		case 'Q': // BINPERSID
			pid, err := u.pop()
			if err != nil {
				return nil, err
			}
			if u.persistentLoad == nil {
				return nil, u.errorf("persistent id in a pickle that may not have one")
			}
			v, err := u.persistentLoad(pid)
			if err != nil {
				return nil, err
			}
			u.push(v)
		case 'R': // REDUCE
			args, err := u.pop()
			if err != nil {
				return nil, err
			}
			fn, err := u.pop()
			if err != nil {
				return nil, err
			}
			t, ok := args.(tuple)
			if !ok {
				return nil, u.errorf("REDUCE arguments are a %T, not a tuple", args)
			}
			v, err := u.call(fn, t)
			if err != nil {
				return nil, err
			}
			u.push(v)
		case 0x81: // NEWOBJ: cls.__new__(cls, *args)
			args, err := u.pop()
			if err != nil {
				return nil, err
			}
			cls, err := u.pop()
			if err != nil {
				return nil, err
			}
			g, ok := cls.(global)
			if _, isTuple := args.(tuple); !ok || !isTuple {
				return nil, u.errorf("NEWOBJ on a %T", cls)
			}
			switch g.String() {
			case "argparse.Namespace":
				u.push(&object{class: g})
			case "collections.OrderedDict":
				u.push(newDict())
			default:
				return nil, u.errorf("NEWOBJ of %s is not supported", g)
			}
		case 'b': // BUILD: set the state of the object below
			state, err := u.pop()
			if err != nil {
				return nil, err
			}
			obj, err := u.top()
			if err != nil {
				return nil, err
			}
			switch o := obj.(type) {
			case *object:
				o.state = state
			case *dict:
				// OrderedDict.__reduce__ carries the instance __dict__ as
				// state: a state dict's _metadata (module versions). Not needed.
			case *tensorRef:
				// Tensor attributes set after _rebuild_tensor (rare); ignored.
			default:
				return nil, u.errorf("BUILD on a %T", obj)
			}
		default:
			return nil, u.errorf("unsupported pickle opcode 0x%02x", op)
		}
	}
}

func (u *unpickler) topDict(op string) (*dict, error) {
	v, err := u.top()
	if err != nil {
		return nil, err
	}
	d, ok := v.(*dict)
	if !ok {
		return nil, u.errorf("%s on a %T", op, v)
	}
	return d, nil
}

func (u *unpickler) setItems(d *dict, items []any) error {
	if len(items)%2 != 0 {
		return u.errorf("odd number of items (%d) for a dict", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		d.set(items[i], items[i+1])
	}
	return nil
}

// call applies a whitelisted global to its arguments (REDUCE).
func (u *unpickler) call(fn any, args tuple) (any, error) {
	g, ok := fn.(global)
	if !ok {
		return nil, u.errorf("REDUCE on a %T, not a function", fn)
	}
	switch g.String() {
	case "collections.OrderedDict":
		d := newDict()
		if len(args) == 1 {
			// OrderedDict(iterable of pairs)
			l, ok := args[0].(*list)
			if !ok {
				return nil, u.errorf("OrderedDict(%T) is not supported", args[0])
			}
			for _, it := range l.items {
				kv, ok := it.(tuple)
				if !ok || len(kv) != 2 {
					return nil, u.errorf("OrderedDict item is not a pair")
				}
				d.set(kv[0], kv[1])
			}
		} else if len(args) != 0 {
			return nil, u.errorf("OrderedDict with %d arguments", len(args))
		}
		return d, nil
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		// _rebuild_tensor_v2(storage, storage_offset, size, stride,
		// requires_grad, backward_hooks[, metadata]); _rebuild_tensor has
		// the first four.
		if len(args) < 4 {
			return nil, u.errorf("%s with %d arguments", g, len(args))
		}
		return newTensorRef(args[0], args[1], args[2], args[3])
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		// _rebuild_parameter(data, requires_grad, backward_hooks): the
		// Parameter is its data for our purposes.
		if len(args) < 1 {
			return nil, u.errorf("%s without arguments", g)
		}
		t, ok := args[0].(*tensorRef)
		if !ok {
			return nil, u.errorf("%s of a %T, not a tensor", g, args[0])
		}
		return t, nil
	}
	return nil, u.errorf("calling %s is not supported", g)
}

// printable quotes s for an error message when it has unprintable bytes.
func printable(s string) string {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
