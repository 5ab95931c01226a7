package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/anomclust/anomclust/checkpoint/internal/checkpointtest"
)

// TestLoadMatchesWriter compares every tensor with the values the writer
// (gen_safetensors.py, numpy) stored, bit for bit: decoding is exact.
func TestLoadMatchesWriter(t *testing.T) {
	exp := checkpointtest.ReadExpected(t, "testdata/expected.json")
	for file, tensors := range exp.Files {
		t.Run(file, func(t *testing.T) {
			f, err := Open(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Metadata["format"] != "pt" {
				t.Errorf("metadata %v, want format=pt", f.Metadata)
			}
			checkpointtest.CheckStateDict(t, f.Tensors, tensors)
		})
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
	exp := checkpointtest.ReadExpected(t, "testdata/expected.json")
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
	checkpointtest.AddFiles(f, "testdata/*.safetensors")
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, _, err := Parse(data)
		if err != nil {
			return
		}
		total := checkpointtest.CheckShapes(t, sd)
		if total > len(data) {
			t.Fatalf("%d elements from %d bytes", total, len(data))
		}
	})
}
