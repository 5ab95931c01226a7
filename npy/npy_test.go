package npy

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadNumpyFiles reads files written by numpy (testdata/gen_npy.py) and
// checks every value exactly (the formulas are exact in the stored dtype).
func TestReadNumpyFiles(t *testing.T) {
	f := func(i int) float64 { return float64(i)*0.5 - 1 }
	checkF32 := func(name string, shape []int, want func(int) float64) {
		t.Helper()
		data, gotShape, err := Read[float32]("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotShape, shape) || len(data) != max(1, prod(shape)) && prod(shape) != 0 {
			t.Fatalf("%s: shape %v len %d, want %v", name, gotShape, len(data), shape)
		}
		for i, v := range data {
			if v != float32(want(i)) {
				t.Fatalf("%s[%d] = %v, want %v", name, i, v, want(i))
			}
		}
	}
	checkF32("f4_2x3.npy", []int{2, 3}, f)
	checkF32("f4_v2.npy", []int{3}, f)
	checkF32("f4_scalar.npy", []int{}, func(int) float64 { return 2.5 })

	f8, shape, err := Read[float64]("testdata/f8_4.npy")
	if err != nil || !slices.Equal(shape, []int{4}) {
		t.Fatalf("f8_4: %v %v", shape, err)
	}
	for i, v := range f8 {
		if v != float64(i)/3 {
			t.Fatalf("f8_4[%d] = %v", i, v)
		}
	}
	i8, shape, err := Read[int64]("testdata/i8_2x2x2.npy")
	if err != nil || !slices.Equal(shape, []int{2, 2, 2}) || len(i8) != 8 {
		t.Fatalf("i8: %v %v", shape, err)
	}
	for i, v := range i8 {
		if v != int64(i)-3 {
			t.Fatalf("i8[%d] = %v", i, v)
		}
	}
	i4, shape, err := Read[int32]("testdata/i4_5.npy")
	if err != nil || !slices.Equal(shape, []int{5}) {
		t.Fatalf("i4: %v %v", shape, err)
	}
	for i, v := range i4 {
		if v != int32(i*1000-2) {
			t.Fatalf("i4[%d] = %v", i, v)
		}
	}
	empty, shape, err := Read[float64]("testdata/f8_0x3.npy")
	if err != nil || !slices.Equal(shape, []int{0, 3}) || len(empty) != 0 {
		t.Fatalf("f8_0x3: %v %v %v", empty, shape, err)
	}
	a, err := ReadAny("testdata/i4_5.npy")
	if err != nil || a.Descr != "<i4" || !slices.Equal(a.Data.([]int32), i4) {
		t.Fatalf("ReadAny: %+v %v", a, err)
	}
}

// TestRejects: each invalid file must fail with an error naming the file and
// the problem.
func TestRejects(t *testing.T) {
	for name, want := range map[string]string{
		"fortran.npy":   "fortran_order is True",
		"bigendian.npy": "big-endian",
		"u1.npy":        "unsupported dtype |u1",
		"truncated.npy": "truncated or corrupt",
		"extra.npy":     "truncated or corrupt",
		"missing.npy":   "no such file",
	} {
		_, _, err := Read[float32]("testdata/" + name)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want it to name the file and contain %q", name, err, want)
		}
	}
	if _, _, err := Read[float64]("testdata/f4_2x3.npy"); err == nil || !strings.Contains(err.Error(), "dtype <f4, want <f8") {
		t.Errorf("dtype mismatch: %v", err)
	}
	for _, hdr := range []string{
		"{'descr': '<f4', 'shape': (2,), }",                                  // missing key
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1, }",  // extra key
		"{'descr': '<f4', 'fortran_order': Fals, 'shape': (2,), }",           // bad bool
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }",       // negative
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing", // junk
	} {
		b := append([]byte(magic), 1, 0, byte(len(hdr)+1), 0)
		b = append(append(b, hdr...), '\n')
		if _, err := ParseHeader(b); err == nil {
			t.Errorf("ParseHeader(%q) accepted", hdr)
		}
	}
	if _, err := ParseHeader([]byte("PK\x03\x04 not npy")); err == nil || !strings.Contains(err.Error(), "bad magic") {
		t.Errorf("bad magic: %v", err)
	}
}

// TestWriteMatchesNumpy: Go's Write produces byte-identical files to
// numpy.save for the same arrays (header text, padding and data).
func TestWriteMatchesNumpy(t *testing.T) {
	dir := t.TempDir()
	f := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)*0.5 - 1
		}
		return v
	}
	f32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	writes := map[string]func(string) error{
		"f4_2x3.npy":    func(p string) error { return Write(p, f32(f(6)), 2, 3) },
		"f4_scalar.npy": func(p string) error { return Write(p, []float32{2.5}) },
		"f8_0x3.npy":    func(p string) error { return Write(p, []float64{}, 0, 3) },
		"i8_2x2x2.npy":  func(p string) error { return Write(p, []int64{-3, -2, -1, 0, 1, 2, 3, 4}, 2, 2, 2) },
		"i4_5.npy":      func(p string) error { return Write(p, []int32{-2, 998, 1998, 2998, 3998}, 5) },
	}
	for name, write := range writes {
		p := filepath.Join(dir, name)
		if err := write(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := os.ReadFile(p)
		want, _ := os.ReadFile("testdata/" + name)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Go wrote\n%q\nnumpy wrote\n%q", name, got, want)
		}
	}
}

// TestRoundTrip writes and reads back every element type, including values
// that need all bits (NaN payload aside), and a header that needs format 2.0.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f32 := []float32{0, -0, 1.5, math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(-1)), 1e-3}
	roundTrip(t, filepath.Join(dir, "a.npy"), f32, []int{7})
	roundTrip(t, filepath.Join(dir, "b.npy"), []float64{math.Pi, -1e300, 5e-324, 0, 1, 2}, []int{2, 1, 3})
	roundTrip(t, filepath.Join(dir, "c.npy"), []int64{math.MinInt64, math.MaxInt64, 0, -1}, []int{4, 1})
	roundTrip(t, filepath.Join(dir, "d.npy"), []int32{math.MinInt32, math.MaxInt32}, []int{2})
	// 30000 dimensions of size 1: the header (~90 kB) exceeds 65535 bytes -> v2.0.
	big := make([]int, 30000)
	for i := range big {
		big[i] = 1
	}
	p := filepath.Join(dir, "big.npy")
	roundTrip(t, p, []float32{42}, big)
	h, err := ReadHeader(p)
	if err != nil {
		t.Fatal(err)
	}
	if h.Major != 2 || h.DataOffset%64 != 0 || len(h.Shape) != 30000 {
		t.Fatalf("big header: version %d, offset %d, %d dims", h.Major, h.DataOffset, len(h.Shape))
	}
	if err := Write(filepath.Join(dir, "bad.npy"), []float32{1, 2, 3}, 2, 2); err == nil || !strings.Contains(err.Error(), "holds 4 values, data has 3") {
		t.Errorf("shape mismatch: %v", err)
	}
}

func roundTrip[T Elem](t *testing.T, path string, data []T, shape []int) {
	t.Helper()
	if err := Write(path, data, shape...); err != nil {
		t.Fatal(err)
	}
	got, gotShape, err := Read[T](path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotShape, shape) || len(got) != len(data) {
		t.Fatalf("%s: shape %v len %d, want %v len %d", path, gotShape, len(got), shape, len(data))
	}
	for i := range data {
		if got[i] != data[i] && !(got[i] != got[i] && data[i] != data[i]) {
			t.Fatalf("%s[%d] = %v, want %v", path, i, got[i], data[i])
		}
	}
}

// TestAtomicWrite: overwriting leaves no temporary files behind, a failed
// write (missing directory) leaves nothing, and the mode is 0644.
func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.npy")
	for i := range 3 {
		if err := Write(p, []float64{float64(i)}, 1); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "x.npy" {
		t.Fatalf("directory holds %v, want only x.npy", entries)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if v, _, _ := Read[float64](p); v[0] != 2 {
		t.Errorf("value %v, want the last write (2)", v)
	}
	if err := Write(filepath.Join(dir, "nope", "y.npy"), []float64{1}, 1); err == nil || !strings.Contains(err.Error(), "y.npy") {
		t.Errorf("missing dir: %v", err)
	}
}

// TestNumpyLoadsGoFiles asks numpy itself to load files written by Write.
// It needs /usr/bin/python3 with numpy and is skipped without it.
func TestNumpyLoadsGoFiles(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3: numpy interop not checked")
	}
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("python3 has no numpy: numpy interop not checked")
	}
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "x.npy"), []float32{1, 2, 3, 4, 5, 6.5}, 3, 2); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "z.npy"), []int64{7, -8}, 2); err != nil {
		t.Fatal(err)
	}
	script := `import numpy as np, sys
x = np.load(sys.argv[1] + "/x.npy"); z = np.load(sys.argv[1] + "/z.npy")
assert x.dtype == np.float32 and x.shape == (3, 2) and x[2, 1] == 6.5 and x.sum() == 21.5, x
assert z.dtype == np.int64 and z.tolist() == [7, -8], z
print("ok")`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("numpy could not load Go's files: %v\n%s", err, out)
	}
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

// FuzzParseHeader: arbitrary bytes must give a header or an error, never a
// panic, and an accepted header must describe a supported array.
//
//	go test -run '^$' -fuzz FuzzParseHeader -fuzztime 30s ./npy
func FuzzParseHeader(f *testing.F) {
	for _, name := range []string{"f4_2x3.npy", "f4_v2.npy", "f4_scalar.npy", "fortran.npy", "u1.npy"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if itemSize(h.Descr) == 0 || h.FortranOrder || h.DataOffset > len(b) {
			t.Fatalf("accepted unsupported header %+v", h)
		}
		if _, err := numel(h.Shape); err != nil {
			t.Fatalf("accepted bad shape %v", h.Shape)
		}
	})
}

// TestDecode round-trips Encode through Decode, into a buffer and not,
// and refuses a truncated array and another dtype.
func TestDecode(t *testing.T) {
	var b bytes.Buffer
	want := []float64{1, -2.5, 3e-300, 4, 5, 6}
	if err := Encode(&b, want, 2, 3); err != nil {
		t.Fatal(err)
	}
	buf := make([]float64, 10)
	got, shape, err := Decode(b.Bytes(), buf)
	if err != nil || !slices.Equal(got, want) || !slices.Equal(shape, []int{2, 3}) || &got[0] != &buf[0] {
		t.Fatalf("Decode into buf: %v %v %v", got, shape, err)
	}
	if got, _, err = Decode[float64](b.Bytes(), nil); err != nil || !slices.Equal(got, want) {
		t.Fatalf("Decode: %v %v", got, err)
	}
	if _, _, err := Decode[float64](b.Bytes()[:b.Len()-1], nil); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: %v", err)
	}
	if _, _, err := Decode[float32](b.Bytes(), nil); err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Errorf("other dtype: %v", err)
	}
}
