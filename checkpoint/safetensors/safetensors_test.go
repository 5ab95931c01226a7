package safetensors

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

type expectation struct {
	DType string   `json:"dtype"`
	Shape []int    `json:"shape"`
	Bits  []uint32 `json:"bits"`
	Ints  []int64  `json:"ints"`
}

type expectedFile struct {
	Files   map[string]map[string]expectation `json:"files"`
	Refused map[string]string                 `json:"refused"`
}

func readExpected(t testing.TB) expectedFile {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expectedFile
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestLoadMatchesWriter compares every tensor with the values the writer
// (gen_safetensors.py, numpy) stored, bit for bit: decoding is exact.
func TestLoadMatchesWriter(t *testing.T) {
	exp := readExpected(t)
	for file, tensors := range exp.Files {
		f, err := Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if f.Metadata["format"] != "pt" {
			t.Errorf("%s: metadata %v, want format=pt", file, f.Metadata)
		}
		if len(f.Tensors) != len(tensors) {
			t.Errorf("%s: %d tensors, want %d", file, len(f.Tensors), len(tensors))
		}
		for name, want := range tensors {
			got, ok := f.Tensors[name]
			if !ok {
				t.Errorf("%s: missing %q", file, name)
				continue
			}
			if string(got.DType) != want.DType || !slices.Equal(got.Shape, want.Shape) || got.Name != name {
				t.Errorf("%s: %q is %s %v, want %s %v", file, name, got.DType, got.Shape, want.DType, want.Shape)
			}
			if want.Bits != nil {
				if len(got.Data) != len(want.Bits) {
					t.Errorf("%s: %d floats, want %d", name, len(got.Data), len(want.Bits))
					continue
				}
				for i, b := range want.Bits {
					if math.Float32bits(got.Data[i]) != b {
						t.Errorf("%s[%d] = %#x, want %#x", name, i, math.Float32bits(got.Data[i]), b)
						break
					}
				}
			} else if !slices.Equal(got.Ints, want.Ints) {
				t.Errorf("%s: ints %v, want %v", name, got.Ints, want.Ints)
			}
		}
		f.Close()
	}
}

// TestZeroCopy checks that an aligned float32 tensor is a view of the
// mapping, an unaligned one a copy, and that writing to the view does not
// reach the file (private mapping).
func TestZeroCopy(t *testing.T) {
	path := "testdata/model.safetensors"
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inMap := func(p *float32) bool {
		a := uintptr(unsafe.Pointer(p))
		lo := uintptr(unsafe.Pointer(&f.m.Data[0]))
		return a >= lo && a < lo+uintptr(len(f.m.Data))
	}
	if !inMap(&f.Tensors["weight"].Data[0]) {
		t.Error("aligned F32 tensor was copied, want a view of the mapping")
	}
	if inMap(&f.Tensors["unaligned"].Data[0]) {
		t.Error("unaligned F32 tensor aliases the mapping")
	}
	f.Tensors["weight"].Data[0] = 12345
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("writing a tensor changed the file")
	}
}

func TestRefused(t *testing.T) {
	exp := readExpected(t)
	if len(exp.Refused) < 5 {
		t.Fatalf("only %d refused fixtures", len(exp.Refused))
	}
	for file, substr := range exp.Refused {
		path := filepath.Join("testdata", file)
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), substr) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", file, err, substr)
		}
	}
}

// TestTruncations: every prefix of a real file is an error (the data of
// the last tensors is missing), never a panic.
func TestTruncations(t *testing.T) {
	data, err := os.ReadFile("testdata/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n++ {
		if _, _, err := Parse(slices.Clone(data[:n])); err == nil {
			t.Errorf("cut to %d bytes: loaded without error", n)
		}
	}
}

func TestSniff(t *testing.T) {
	data, err := os.ReadFile("testdata/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if !Sniff(data) {
		t.Error("Sniff(model.safetensors) = false")
	}
	for _, bad := range []string{"PK\x03\x04xxxxxxxxx", "\x80\x02\x8a\x0a", "TFL3TFL3TFL3"} {
		if Sniff([]byte(bad)) {
			t.Errorf("Sniff(%q) = true", bad)
		}
	}
}

// FuzzSafetensors feeds mutated files to Parse; it must return tensors
// consistent with their shapes or an error, and never panic.
//
//	go test ./checkpoint/safetensors -run '^$' -fuzz FuzzSafetensors -fuzztime 2m
func FuzzSafetensors(f *testing.F) {
	files, err := filepath.Glob("testdata/*.safetensors")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, _, err := Parse(data)
		if err != nil {
			return
		}
		total := 0
		for name, tt := range sd {
			n := 1
			for _, d := range tt.Shape {
				n *= d
			}
			if len(tt.Data)+len(tt.Ints) != n {
				t.Fatalf("%s: shape %v but %d values", name, tt.Shape, len(tt.Data)+len(tt.Ints))
			}
			total += n
		}
		if total > len(data) {
			t.Fatalf("%d elements from %d bytes", total, len(data))
		}
	})
}
