// Package torchpt reads PyTorch checkpoints written by torch.save: the zip
// format (torch >= 1.6: <dir>/data.pkl plus one <dir>/data/<key> entry per
// storage) and the older "legacy" stream format (magic pickle, protocol,
// sys_info, data pickle, storage keys, raw storages), as
// torch/serialization.py writes them.
//
// The pickle is run by a restricted unpickler that knows only the globals a
// checkpoint needs (see pickle.go); any other global is refused by name.
// Tensors are decoded to dense row-major checkpoint.Tensor values, with
// storage offsets, strides and shared storages applied, after checking
// that every view fits inside its storage.
package torchpt

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/internal/mmapfile"
)

// legacyMagic is how the legacy format begins: pickle protocol 2 of the
// integer 0x1950a86a20f9469cfc6c (torch/serialization.py MAGIC_NUMBER) as
// a 10-byte LONG1, then STOP.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e}

// Sniff reports whether head (the first bytes of a file, at least 15 for a
// certain answer) starts like a torch.save file: a zip archive or the
// legacy magic number.
func Sniff(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, legacyMagic)
}

// stateDictKeys are the keys under which training scripts nest the state
// dict, in the order they are preferred: DINO's full checkpoints hold both
// "teacher" and "student", and the teacher is the model DINO evaluates.
var stateDictKeys = []string{"teacher", "state_dict", "model", "model_state_dict", "student", "module"}

// Load reads the state dict of the checkpoint at path. When the file holds
// a dict of several things (a training checkpoint), the state dict is taken
// from the first of "teacher", "state_dict", "model", "model_state_dict",
// "student", "module" that is a dict of tensors. A "module." prefix
// (DistributedDataParallel) is stripped from every key, and when keys carry
// a "backbone." prefix (DINO's MultiCropWrapper) only those are kept,
// without the prefix: the projection head is not part of the backbone.
func Load(path string) (sd checkpoint.StateDict, err error) {
	m, err := mmapfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read PyTorch checkpoint: %w", err)
	}
	defer m.Close()
	// Parse is written not to panic; this is the last line of defence, and
	// SetPanicOnFault turns a SIGBUS from a file truncated under the mapping
	// into a recoverable panic.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("read PyTorch checkpoint %s: malformed file (%v)", path, r)
		}
	}()
	sd, err = Parse(m.Data)
	if err != nil {
		return nil, fmt.Errorf("read PyTorch checkpoint %s: %w", path, err)
	}
	return sd, nil
}

// Parse reads a torch.save checkpoint held in memory (see Load). The
// returned tensors do not alias data.
func Parse(data []byte) (checkpoint.StateDict, error) {
	var (
		root any
		err  error
	)
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		root, err = parseZip(data)
	case bytes.HasPrefix(data, legacyMagic):
		root, err = parseLegacy(data)
	case len(data) < len(legacyMagic):
		return nil, fmt.Errorf("file too short (%d bytes) to be a torch.save checkpoint", len(data))
	default:
		return nil, errors.New("not a torch.save checkpoint: neither a zip archive nor the legacy pickle magic")
	}
	if err != nil {
		return nil, err
	}
	d, err := selectStateDict(root)
	if err != nil {
		return nil, err
	}
	// Every decoded element takes at least one byte of the file, unless
	// views overlap; cap the total so that crafted shapes (a huge tensor
	// over a stride-0 storage) cannot make us allocate more than that.
	budget := int64(len(data))
	sd := make(checkpoint.StateDict, len(d.keys))
	for i, k := range d.keys {
		name := k.(string) // selectStateDict checked
		t, err := d.vals[i].(*tensorRef).decode(name, &budget)
		if err != nil {
			return nil, err
		}
		sd[name] = t
	}
	return sd, nil
}

// storage is one torch storage: its element kind and its bytes (nil until
// a legacy file's storage section is read).
type storage struct {
	key   string
	kind  storageKind
	numel int64
	data  []byte
}

// storageRef is what a persistent id resolves to: a storage, or for the
// legacy format possibly a view of one (offset and numel in elements).
type storageRef struct {
	root   *storage
	offset int64
	numel  int64
}

// tensorRef is a tensor as _rebuild_tensor_v2 describes it; the data are
// only decoded for the tensors of the selected state dict.
type tensorRef struct {
	st     *storageRef
	offset int64
	size   []int64
	stride []int64
}

// maxRank bounds a tensor's number of dimensions (PyTorch allows 64).
const maxRank = 64

func int64s(v any, what string) ([]int64, error) {
	t, ok := v.(tuple)
	if !ok {
		return nil, fmt.Errorf("tensor %s is a %T, not a tuple", what, v)
	}
	if len(t) > maxRank {
		return nil, fmt.Errorf("tensor %s has %d dimensions", what, len(t))
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok || n < 0 {
			return nil, fmt.Errorf("tensor %s %v is not a tuple of non-negative integers", what, t)
		}
		out[i] = n
	}
	return out, nil
}

func newTensorRef(st, offset, size, stride any) (*tensorRef, error) {
	s, ok := st.(*storageRef)
	if !ok {
		return nil, fmt.Errorf("tensor storage is a %T, not a storage", st)
	}
	off, ok := offset.(int64)
	if !ok || off < 0 {
		return nil, fmt.Errorf("tensor storage offset %v is not a non-negative integer", offset)
	}
	sz, err := int64s(size, "size")
	if err != nil {
		return nil, err
	}
	sd, err := int64s(stride, "stride")
	if err != nil {
		return nil, err
	}
	if len(sz) != len(sd) {
		return nil, fmt.Errorf("tensor size %v and stride %v differ in length", sz, sd)
	}
	return &tensorRef{st: s, offset: off, size: sz, stride: sd}, nil
}

// decode copies the tensor's elements, in row-major order of its size, out
// of its storage, after checking that the furthest element it addresses,
// offset + sum((size[i]-1)*stride[i]), lies inside the storage. budget is
// the number of elements still allowed to be allocated.
func (t *tensorRef) decode(name string, budget *int64) (*checkpoint.Tensor, error) {
	st := t.st
	kind := st.root.kind
	shape := make([]int, len(t.size))
	numel := int64(1)
	last := t.offset
	empty := slices.Contains(t.size, 0)
	for i, n := range t.size {
		shape[i] = int(n)
		if empty {
			numel = 0
			continue
		}
		if n > *budget/numel {
			return nil, fmt.Errorf("tensor %q: shape %v has more elements than the file has bytes", name, t.size)
		}
		numel *= n
		// (n-1)*stride must stay below the storage size; testing it by
		// division keeps the sum (at most maxRank terms below st.numel)
		// from overflowing.
		if n > 1 && t.stride[i] > 0 {
			if t.stride[i] > (st.numel-1)/(n-1) {
				return nil, fmt.Errorf("tensor %q: shape %v with stride %v does not fit its storage of %d elements", name, t.size, t.stride, st.numel)
			}
			last += (n - 1) * t.stride[i]
		}
	}
	if numel > 0 && t.offset >= st.numel {
		return nil, fmt.Errorf("tensor %q: storage offset %d is past its storage of %d elements", name, t.offset, st.numel)
	}
	if numel > 0 && last >= st.numel {
		return nil, fmt.Errorf("tensor %q: shape %v, stride %v and offset %d address element %d of a storage of %d elements",
			name, t.size, t.stride, t.offset, last, st.numel)
	}
	if numel > *budget {
		return nil, fmt.Errorf("tensor %q: shape %v has more elements than the file has bytes", name, t.size)
	}
	*budget -= numel
	src := st.root.data[st.offset*int64(kind.size):]
	out := &checkpoint.Tensor{Name: name, DType: checkpoint.DType(kind.dtype), Shape: shape}
	if out.DType.IsFloat() {
		out.Data = make([]float32, numel)
	} else {
		out.Ints = make([]int64, numel)
	}
	if numel == 0 {
		return out, nil
	}
	// Walk the rows (all dimensions but the last) with an odometer, copying
	// each row with its stride; a scalar is one row of one element.
	rank := len(t.size)
	rowLen, rowStride := int64(1), int64(1)
	if rank > 0 {
		rowLen, rowStride = t.size[rank-1], t.stride[rank-1]
	}
	idx := make([]int64, rank)
	base := t.offset
	for dst := int64(0); dst < numel; dst += rowLen {
		decodeRow(out, dst, src, kind, base, rowStride, rowLen)
		// Advance the odometer over dimensions rank-2 .. 0.
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			base += t.stride[d]
			if idx[d] < t.size[d] {
				break
			}
			base -= idx[d] * t.stride[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// decodeRow converts n elements of src, starting at element start with the
// given element stride, to out's Data or Ints from index dst on. Bytes are
// little-endian, as torch.save writes them on every platform it supports.
func decodeRow(out *checkpoint.Tensor, dst int64, src []byte, kind storageKind, start, stride, n int64) {
	le := binary.LittleEndian
	switch kind.dtype {
	case "float32":
		d := out.Data[dst : dst+n]
		for i := range d {
			d[i] = math.Float32frombits(le.Uint32(src[(start+int64(i)*stride)*4:]))
		}
	case "float64":
		d := out.Data[dst : dst+n]
		for i := range d {
			d[i] = float32(math.Float64frombits(le.Uint64(src[(start+int64(i)*stride)*8:])))
		}
	case "float16":
		d := out.Data[dst : dst+n]
		for i := range d {
			d[i] = checkpoint.Float16ToFloat32(le.Uint16(src[(start+int64(i)*stride)*2:]))
		}
	case "bfloat16":
		d := out.Data[dst : dst+n]
		for i := range d {
			d[i] = checkpoint.BFloat16ToFloat32(le.Uint16(src[(start+int64(i)*stride)*2:]))
		}
	case "int64":
		d := out.Ints[dst : dst+n]
		for i := range d {
			d[i] = int64(le.Uint64(src[(start+int64(i)*stride)*8:]))
		}
	case "int32":
		d := out.Ints[dst : dst+n]
		for i := range d {
			d[i] = int64(int32(le.Uint32(src[(start+int64(i)*stride)*4:])))
		}
	case "int16":
		d := out.Ints[dst : dst+n]
		for i := range d {
			d[i] = int64(int16(le.Uint16(src[(start+int64(i)*stride)*2:])))
		}
	case "int8":
		d := out.Ints[dst : dst+n]
		for i := range d {
			d[i] = int64(int8(src[start+int64(i)*stride]))
		}
	case "uint8", "bool":
		d := out.Ints[dst : dst+n]
		for i := range d {
			d[i] = int64(src[start+int64(i)*stride])
		}
	}
}

// selectStateDict finds the dict of tensors in a checkpoint's root object
// and strips the DDP and DINO prefixes from its keys.
func selectStateDict(root any) (*dict, error) {
	d, ok := root.(*dict)
	if !ok {
		return nil, fmt.Errorf("checkpoint holds a %s, not a dict of tensors", pyType(root))
	}
	if !isTensorDict(d) {
		found := false
		for _, k := range stateDictKeys {
			if v, ok := d.get(k); ok {
				if sub, ok := v.(*dict); ok && isTensorDict(sub) {
					d, found = sub, true
					break
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("checkpoint is a dict with keys %s and none of them (nor the dict itself) is a state dict of tensors", keyList(d))
		}
	}
	return stripPrefixes(d), nil
}

// isTensorDict reports whether d is a non-empty dict from strings to tensors.
func isTensorDict(d *dict) bool {
	if len(d.keys) == 0 {
		return false
	}
	for i, k := range d.keys {
		if _, ok := k.(string); !ok {
			return false
		}
		if _, ok := d.vals[i].(*tensorRef); !ok {
			return false
		}
	}
	return true
}

// stripPrefixes removes "module." when every key has it (DDP), then keeps
// only the "backbone." keys, unprefixed, when there are any (DINO), the
// way DINO's utils.load_pretrained_weights does.
func stripPrefixes(d *dict) *dict {
	for _, p := range []string{"module.", "backbone."} {
		n := 0
		for _, k := range d.keys {
			if strings.HasPrefix(k.(string), p) {
				n++
			}
		}
		if n == 0 || (p == "module." && n != len(d.keys)) {
			continue
		}
		out := newDict()
		for i, k := range d.keys {
			if s := k.(string); strings.HasPrefix(s, p) {
				out.set(strings.TrimPrefix(s, p), d.vals[i])
			}
		}
		d = out
	}
	return d
}

func keyList(d *dict) string {
	var ks []string
	for _, k := range d.keys {
		if s, ok := k.(string); ok {
			ks = append(ks, printable(s))
		} else {
			ks = append(ks, pyType(k))
		}
		if len(ks) == 10 {
			ks = append(ks, "...")
			break
		}
	}
	return "[" + strings.Join(ks, " ") + "]"
}

func pyType(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case *dict:
		return "dict"
	case *list:
		return "list"
	case tuple:
		return "tuple"
	case *tensorRef:
		return "tensor"
	case string:
		return "str"
	case int64:
		return "int"
	case global:
		return v.String()
	}
	return fmt.Sprintf("%T", v)
}

// storagePID parses the persistent id torch.save writes for a storage,
// ('storage', storage_type, key, location, numel, ...), with at least n
// fields (5 in zip checkpoints; 6 in legacy ones, the last the view
// metadata).
func storagePID(pid any, n int) (t tuple, kind storageKind, key string, numel int64, err error) {
	t, ok := pid.(tuple)
	if !ok || len(t) < n || t[0] != "storage" {
		return nil, storageKind{}, "", 0, fmt.Errorf("persistent id %s is not a storage", pyType(pid))
	}
	if kind, err = storageKindOf(t[1]); err != nil {
		return nil, storageKind{}, "", 0, err
	}
	key, ok1 := t[2].(string)
	numel, ok2 := t[4].(int64)
	if !ok1 || !ok2 || numel < 0 {
		return nil, storageKind{}, "", 0, errors.New("persistent id has a bad storage key or size")
	}
	return t, kind, key, numel, nil
}

// storageKindOf checks that a persistent id names a torch.*Storage class.
func storageKindOf(v any) (storageKind, error) {
	g, ok := v.(global)
	if !ok || g.module != "torch" {
		return storageKind{}, fmt.Errorf("storage type is %s, not a torch storage class", pyType(v))
	}
	k, ok := storageClasses[g.name]
	if !ok {
		return storageKind{}, fmt.Errorf("storage type %s is not supported", g)
	}
	return k, nil
}

// parseZip reads the zip format (torch/serialization.py _save with
// _use_new_zipfile_serialization): the archive's single top directory
// (named after the file when saved, "archive" in newer torch) holds
// data.pkl, whose persistent ids ('storage', StorageClass, key, location,
// numel) name the entries data/<key>.
func parseZip(data []byte) (any, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("zip archive: %w", err)
	}
	var pkl *zip.File
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[f.Name] = f
		if dir, ok := strings.CutSuffix(f.Name, "/data.pkl"); ok && dir != "" && !strings.Contains(dir, "/") {
			if pkl != nil {
				return nil, fmt.Errorf("zip archive has two data.pkl (%s, %s)", pkl.Name, f.Name)
			}
			pkl = f
		}
	}
	if pkl == nil {
		for name := range files {
			if strings.HasSuffix(name, "/constants.pkl") || strings.Contains(name, "/code/") {
				return nil, errors.New("this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the model's state_dict() with torch.save instead")
			}
		}
		return nil, errors.New("zip archive has no <dir>/data.pkl: not a torch.save checkpoint")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo, ok := files[prefix+"byteorder"]; ok {
		b, err := entryBytes(bo, data)
		if err != nil {
			return nil, err
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("checkpoint byte order is %q; only little-endian is supported", printable(string(b)))
		}
	}
	pklData, err := entryBytes(pkl, data)
	if err != nil {
		return nil, err
	}
	storages := map[string]*storage{}
	u := &unpickler{buf: pklData}
	u.persistentLoad = func(pid any) (any, error) {
		_, kind, key, numel, err := storagePID(pid, 5)
		if err != nil {
			return nil, err
		}
		if s, ok := storages[key]; ok {
			if s.kind != kind {
				return nil, fmt.Errorf("storage %s is used with two element types", printable(key))
			}
			return &storageRef{root: s, numel: s.numel}, nil
		}
		f, ok := files[prefix+"data/"+key]
		if !ok {
			return nil, fmt.Errorf("storage %s has no entry %sdata/%s in the archive", printable(key), prefix, printable(key))
		}
		b, err := entryBytes(f, data)
		if err != nil {
			return nil, err
		}
		if numel > int64(len(b))/int64(kind.size) {
			return nil, fmt.Errorf("storage %s claims %d elements of %d bytes but its entry has %d bytes", printable(key), numel, kind.size, len(b))
		}
		s := &storage{key: key, kind: kind, numel: numel, data: b}
		storages[key] = s
		return &storageRef{root: s, numel: numel}, nil
	}
	root, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	return root, nil
}

// entryBytes returns a zip entry's contents: a slice of data for a stored
// entry (torch.save never compresses), else the inflated bytes, which may
// not exceed the archive's size.
func entryBytes(f *zip.File, data []byte) ([]byte, error) {
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("zip entry %s: %w", printable(f.Name), err)
		}
		n := f.CompressedSize64
		if off < 0 || off > int64(len(data)) || n > uint64(int64(len(data))-off) {
			return nil, fmt.Errorf("zip entry %s claims %d bytes at offset %d, past the end of the %d-byte file", printable(f.Name), n, off, len(data))
		}
		if f.UncompressedSize64 != n {
			return nil, fmt.Errorf("zip entry %s is stored but its sizes differ (%d, %d)", printable(f.Name), n, f.UncompressedSize64)
		}
		return data[off : off+int64(n)], nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", printable(f.Name), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(len(data))+1))
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", printable(f.Name), err)
	}
	if len(b) > len(data) {
		return nil, fmt.Errorf("zip entry %s inflates to more than the file's size", printable(f.Name))
	}
	return b, nil
}

// parseLegacy reads the pre-1.6 format (torch/serialization.py
// _legacy_save): five pickles in a row (magic, protocol version 1001,
// sys_info, the object with persistent ids ('storage', StorageClass, key,
// location, numel, view_metadata), the sorted storage keys), then each
// storage as an int64 element count followed by its raw bytes.
func parseLegacy(data []byte) (any, error) {
	pos := len(legacyMagic)
	next := func(what string, pl func(any) (any, error)) (any, error) {
		u := &unpickler{buf: data, pos: pos, persistentLoad: pl}
		v, err := u.load()
		if err != nil {
			return nil, fmt.Errorf("legacy %s pickle: %w", what, err)
		}
		pos = u.pos
		return v, nil
	}
	v, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if v != int64(1001) {
		return nil, fmt.Errorf("legacy protocol version %v, want 1001", v)
	}
	sys, err := next("sys_info", nil)
	if err != nil {
		return nil, err
	}
	if sd, ok := sys.(*dict); ok {
		if le, ok := sd.get("little_endian"); ok && le != true {
			return nil, errors.New("checkpoint was written on a big-endian machine; not supported")
		}
	}
	storages := map[string]*storage{}
	root, err := next("data", func(pid any) (any, error) {
		t, kind, key, numel, err := storagePID(pid, 6)
		if err != nil {
			return nil, err
		}
		if numel > int64(len(data)) {
			return nil, errors.New("persistent id has a bad storage key or size")
		}
		s, ok := storages[key]
		if !ok {
			s = &storage{key: key, kind: kind, numel: numel}
			storages[key] = s
		} else if s.kind != kind {
			return nil, fmt.Errorf("storage %s is used with two element types", printable(key))
		}
		ref := &storageRef{root: s, numel: s.numel}
		if view, ok := t[5].(tuple); ok {
			// view_metadata = (view_key, offset, view_size), in elements.
			if len(view) != 3 {
				return nil, errors.New("bad storage view metadata")
			}
			off, ok1 := view[1].(int64)
			n, ok2 := view[2].(int64)
			if !ok1 || !ok2 || off < 0 || n < 0 || off > numel || n > numel-off {
				return nil, fmt.Errorf("storage view %v does not fit storage %s of %d elements", view, printable(key), numel)
			}
			ref.offset, ref.numel = off, n
		}
		return ref, nil
	})
	if err != nil {
		return nil, err
	}
	keysV, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	keys, ok := keysV.(*list)
	if !ok {
		return nil, errors.New("legacy storage key list is not a list")
	}
	for _, kv := range keys.items {
		key, ok := kv.(string)
		if !ok {
			return nil, errors.New("legacy storage key is not a string")
		}
		s, ok := storages[key]
		if !ok || s.data != nil {
			return nil, fmt.Errorf("legacy storage key %s is unknown or repeated", printable(key))
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("legacy storage %s: truncated", printable(key))
		}
		n := int64(binary.LittleEndian.Uint64(data[pos:]))
		pos += 8
		if n != s.numel {
			return nil, fmt.Errorf("legacy storage %s has %d elements, its pickle said %d", printable(key), n, s.numel)
		}
		nb := n * int64(s.kind.size)
		if nb > int64(len(data)-pos) {
			return nil, fmt.Errorf("legacy storage %s: %d bytes claimed, %d left in the file", printable(key), nb, len(data)-pos)
		}
		s.data = data[pos : pos+int(nb)]
		pos += int(nb)
	}
	for _, s := range sortedStorages(storages) {
		if s.data == nil {
			return nil, fmt.Errorf("legacy storage %s is used but not in the file", printable(s.key))
		}
	}
	return root, nil
}

func sortedStorages(m map[string]*storage) []*storage {
	out := make([]*storage, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
