package npy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWriterMatchesWrite: an array streamed in uneven pieces (an empty one
// included) gives the same bytes as Write of the whole array, which
// TestWriteMatchesNumpy ties to numpy.save.
func TestWriterMatchesWrite(t *testing.T) {
	dir := t.TempDir()
	shape := []int{5, 3, 4}
	data := make([]float32, 60)
	for i := range data {
		data[i] = float32(i)*0.25 - 3
	}
	whole := filepath.Join(dir, "whole.npy")
	if err := Write(whole, data, shape...); err != nil {
		t.Fatal(err)
	}
	streamed := filepath.Join(dir, "streamed.npy")
	w, err := Create[float32](streamed, shape...)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Discard()
	lo := 0
	for _, n := range []int{7, 0, 33, 20} {
		if err := w.Write(data[lo : lo+n]); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(streamed); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s visible before Close (stat: %v)", streamed, err)
		}
		lo += n
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(whole)
	b, _ := os.ReadFile(streamed)
	if !bytes.Equal(a, b) {
		t.Errorf("streamed file (%d bytes) differs from Write's (%d bytes)", len(b), len(a))
	}
}

// TestWriterErrors: too many values is refused, too few makes Close fail
// and write nothing, and Discard leaves an existing file as it was; no
// temporary file is left in any case.
func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.npy")
	w, err := Create[int64](p, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int64{1, 2, 3, 4, 5}); err == nil || !strings.Contains(err.Error(), "only 4 left") {
		t.Errorf("5 values into (2, 2): err %v", err)
	}
	if err := w.Write([]int64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "1 values of shape [2 2] missing") || !strings.Contains(err.Error(), p) {
		t.Errorf("Close with a value missing: err %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("incomplete array written (stat: %v)", err)
	}

	if err := Write(p, []int64{9}, 1); err != nil {
		t.Fatal(err)
	}
	w, err = Create[int64](p, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]int64{1})
	w.Discard()
	if got, _, err := Read[int64](p); err != nil || !slices.Equal(got, []int64{9}) {
		t.Errorf("after Discard: %v %v, want the old [9]", got, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %v, want only x.npy", ents)
	}
	if _, err := Create[float32](filepath.Join(dir, "y.npy"), 2, -1); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative dimension: err %v", err)
	}
}

// TestReader reads numpy's files (testdata/gen_npy.py) in pieces and must
// see what Read sees, then io.EOF.
func TestReader(t *testing.T) {
	for _, name := range []string{"f4_2x3.npy", "f4_v2.npy", "f4_scalar.npy"} {
		want, shape, err := Read[float32]("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open[float32]("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Header().Shape, shape) {
			t.Errorf("%s: shape %v, want %v", name, r.Header().Shape, shape)
		}
		var got []float32
		for {
			v := make([]float32, min(2, len(want)-len(got)))
			err := r.Read(v)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got = append(got, v...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: streamed %v, want %v", name, got, want)
		}
		r.Close()
	}

	r, err := Open[float32]("testdata/f4_2x3.npy")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Read(make([]float32, 7)); err == nil || !strings.Contains(err.Error(), "7 values asked, 6 left") {
		t.Errorf("reading past the end: err %v", err)
	}
}

// TestReaderRejects: Open refuses what Read refuses, naming the file.
func TestReaderRejects(t *testing.T) {
	for name, want := range map[string]string{
		"fortran.npy":   "fortran_order is True",
		"bigendian.npy": "big-endian",
		"truncated.npy": "truncated or corrupt",
		"extra.npy":     "truncated or corrupt",
		"f8_4.npy":      "dtype <f8, want <f4",
		"missing.npy":   "no such file",
	} {
		r, err := Open[float32]("testdata/" + name)
		if err == nil {
			r.Close()
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want it to name the file and contain %q", name, err, want)
		}
	}
}

// TestReadHeaderFrom: the header read from a stream equals ReadHeader's,
// and the stream is left exactly at the first value.
func TestReadHeaderFrom(t *testing.T) {
	for _, name := range []string{"f4_2x3.npy", "f4_v2.npy", "i8_2x2x2.npy", "f8_0x3.npy"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ReadHeader("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		r := bytes.NewReader(b)
		got, err := ReadHeaderFrom(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Descr != want.Descr || !slices.Equal(got.Shape, want.Shape) || got.Major != want.Major || got.DataOffset != want.DataOffset {
			t.Errorf("%s: header %+v, want %+v", name, got, want)
		}
		if pos := len(b) - r.Len(); pos != want.DataOffset {
			t.Errorf("%s: stream left at byte %d, want %d", name, pos, want.DataOffset)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"PK\x03\x04 not npy at all", "bad magic"},
		{"\x93NUMPY\x01\x00", "not a .npy file"},
		{"\x93NUMPY\x02\x00\xff\xff\xff\x7f", "more than"},
		{"\x93NUMPY\x01\x00\x40\x00{'descr'", "truncated .npy header"},
		{"\x93NUMPY\x09\x00\x40\x00", "unsupported .npy format version 9.0"},
	} {
		if _, err := ReadHeaderFrom(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadHeaderFrom(%q): err %v, want %q", c.in, err, c.want)
		}
	}
}
