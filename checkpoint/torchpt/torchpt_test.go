package torchpt

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/checkpoint"
)

// expectation is one tensor of testdata/expected.json, written by
// gen_checkpoints.py from what torch itself reads back.
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

func readExpected(t *testing.T) expectedFile {
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

// TestLoadMatchesTorch compares every tensor of every fixture with the
// values torch read back, bit for bit: decoding is exact (fp16 and bf16
// widen exactly to float32), so no tolerance is needed.
func TestLoadMatchesTorch(t *testing.T) {
	exp := readExpected(t)
	if len(exp.Files) < 10 {
		t.Fatalf("expected.json lists only %d files", len(exp.Files))
	}
	for file, tensors := range exp.Files {
		t.Run(file, func(t *testing.T) {
			sd, err := Load(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if len(sd) != len(tensors) {
				t.Errorf("got %d tensors %v, want %d", len(sd), keys(sd), len(tensors))
			}
			for name, want := range tensors {
				got, ok := sd[name]
				if !ok {
					t.Errorf("missing tensor %q (have %v)", name, keys(sd))
					continue
				}
				if got.Name != name {
					t.Errorf("tensor %q has Name %q", name, got.Name)
				}
				if string(got.DType) != want.DType {
					t.Errorf("%s: dtype %s, want %s", name, got.DType, want.DType)
				}
				if !slices.Equal(got.Shape, want.Shape) {
					t.Errorf("%s: shape %v, want %v", name, got.Shape, want.Shape)
				}
				if want.Bits != nil {
					if len(got.Data) != len(want.Bits) || got.Ints != nil {
						t.Errorf("%s: %d floats (ints %v), want %d", name, len(got.Data), got.Ints, len(want.Bits))
						continue
					}
					for i, b := range want.Bits {
						if math.Float32bits(got.Data[i]) != b {
							t.Errorf("%s[%d] = %v (%#x), want %v (%#x)", name, i, got.Data[i], math.Float32bits(got.Data[i]), math.Float32frombits(b), b)
							break
						}
					}
				} else if !slices.Equal(got.Ints, want.Ints) || got.Data != nil {
					t.Errorf("%s: ints %v, want %v", name, got.Ints, want.Ints)
				}
			}
		})
	}
}

// TestRefused checks that hostile or broken files give an error naming
// the file and the problem, not a panic or a partial result.
func TestRefused(t *testing.T) {
	exp := readExpected(t)
	for file, substr := range exp.Refused {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			sd, err := Load(path)
			if err == nil {
				t.Fatalf("loaded %d tensors, want an error", len(sd))
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), substr) {
				t.Errorf("error %q should name %s and contain %q", err, path, substr)
			}
		})
	}
}

// TestHostilePickles runs hand-written data.pkl programs through the zip
// reader: each must be refused with the stated reason.
func TestHostilePickles(t *testing.T) {
	plain, err := os.ReadFile("testdata/plain.pt")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, pkl, want string
	}{
		{"unknown opcode", "\x80\x02\xff.", "opcode 0xff"},
		{"text global", "\x80\x02cos\nsystem\n.", "global os.system"},
		{"stack global", "\x80\x04\x8c\x08builtins\x8c\x04eval\x93.", "global builtins.eval"},
		{"huge bytes", "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.", "claimed"},
		{"huge frame", "\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x10.", "frame"},
		{"odd setitems", "\x80\x02}(K\x01u.", "odd number"},
		{"stack underflow", "\x80\x02s.", "underflow"},
		{"missing memo", "\x80\x02h\x05.", "memo"},
		{"no stop", "\x80\x02}", "truncated"},
		{"not a dict", "\x80\x02K\x05.", "not a dict"},
		{"reduce non-callable", "\x80\x02K\x01)R.", "not a function"},
		{"bad persistent id", "\x80\x02X\x03\x00\x00\x00abcQ.", "not a storage"},
		{"copyreg reconstructor", "\x80\x02ccopy_reg\n_reconstructor\n.", "copy_reg._reconstructor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(replacePickle(t, plain, []byte(c.pkl)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestTruncations cuts a real checkpoint at every length: every prefix must
// give an error, never a panic.
func TestTruncations(t *testing.T) {
	for _, f := range []string{"plain.pt", "legacy.pt", "views_legacy.pt"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n++ {
			if _, err := Parse(data[:n]); err == nil {
				t.Errorf("%s cut to %d bytes loaded without error", f, n)
			}
		}
	}
}

func TestFloat16Conversion(t *testing.T) {
	// Reference values from IEEE 754 binary16.
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.9604645e-08,
		0x03ff: 6.0975552e-05, 0x0400: 6.1035156e-05, 0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	}
	for h, want := range cases {
		if got := checkpoint.Float16ToFloat32(h); got != want {
			t.Errorf("Float16ToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
	if got := checkpoint.Float16ToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("Float16ToFloat32(NaN) = %v", got)
	}
	if got := math.Float32bits(checkpoint.Float16ToFloat32(0x8000)); got != 0x80000000 {
		t.Errorf("negative zero -> %#x", got)
	}
}

func keys(sd checkpoint.StateDict) []string {
	var out []string
	for k := range sd {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
