package torchpt

import (
	"encoding/binary"
	"fmt"
)

// This file and pickle_*.go are a restricted unpickler: the subset of Python's pickle
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
