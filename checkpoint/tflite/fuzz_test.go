package tflite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// tinyPath is the committed hand-built model (buildModel(tinyModel())),
// a seed of FuzzTFLite. Regenerate with ANOMCLUST_UPDATE_TESTDATA=1 go test -run TestTinyFile.
var tinyPath = filepath.Join("testdata", "tiny.tflite")

// TestTinyFile keeps testdata/tiny.tflite equal to what the builder makes.
func TestTinyFile(t *testing.T) {
	want := buildModel(tinyModel())
	if os.Getenv("ANOMCLUST_UPDATE_TESTDATA") != "" {
		if err := os.WriteFile(tinyPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(tinyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: regenerate with ANOMCLUST_UPDATE_TESTDATA=1", tinyPath)
	}
}

// FuzzTFLite feeds arbitrary bytes to Parse and, when they parse, to
// Float32 and StateDict: none may panic, and a parsed model must satisfy
// the invariants the backbones rely on. Seeds: the hand-built model, its
// truncations and single-byte corruptions, and the shared MobileNet files
// when ../shared is present (they are not committed). Run longer with
// go test -fuzz FuzzTFLite -fuzztime 2m ./checkpoint/tflite/
func FuzzTFLite(f *testing.F) {
	tiny := buildModel(tinyModel())
	committed, _ := filepath.Glob(filepath.Join("testdata", "*.tflite"))
	for _, p := range committed {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, n := range []int{0, 7, 8, 12, len(tiny) / 3, len(tiny) / 2, len(tiny) - 1} {
		f.Add(tiny[:n])
	}
	for _, pos := range []int{0, 1, 9, 40, 100, 200, 400} {
		c := append([]byte{}, tiny...)
		if pos < len(c) {
			c[pos] ^= 0xff
			f.Add(c)
		}
	}
	for _, name := range []string{v1File, v2File} {
		if data, err := os.ReadFile(filepath.Join(sharedWeights, name)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.tflite")
		if err != nil {
			return
		}
		for si := range m.Subgraphs {
			sg := &m.Subgraphs[si]
			for _, op := range sg.Operators {
				if op.OpcodeIndex < 0 || op.OpcodeIndex >= len(m.OperatorCodes) {
					t.Fatalf("opcode index %d of %d", op.OpcodeIndex, len(m.OperatorCodes))
				}
				for _, x := range append(append([]int{}, op.Inputs...), op.Outputs...) {
					if x < -1 || x >= len(sg.Tensors) {
						t.Fatalf("operator tensor index %d of %d", x, len(sg.Tensors))
					}
				}
			}
			for ti := range sg.Tensors {
				tn := &sg.Tensors[ti]
				if tn.Buffer < 0 || tn.Buffer >= len(m.Buffers) {
					t.Fatalf("buffer index %d of %d", tn.Buffer, len(m.Buffers))
				}
				if v, err := m.Float32(tn); err == nil && len(v)*tn.Type.Size() != len(m.Buffers[tn.Buffer]) {
					t.Fatalf("tensor %q: %d values from %d bytes", tn.Name, len(v), len(m.Buffers[tn.Buffer]))
				}
			}
		}
		_, _ = m.StateDict()
	})
}
