package torchpt

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/internal/checkpointtest"
)

// TestLoadMatchesTorch compares every tensor of every fixture with the
// values torch read back, bit for bit: decoding is exact (fp16 and bf16
// widen exactly to float32), so no tolerance is needed.
func TestLoadMatchesTorch(t *testing.T) {
	exp := checkpointtest.ReadExpected(t, "testdata/expected.json")
	if len(exp.Files) < 10 {
		t.Fatalf("expected.json lists only %d files", len(exp.Files))
	}
	for file, tensors := range exp.Files {
		t.Run(file, func(t *testing.T) {
			sd, err := Load(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			checkpointtest.CheckStateDict(t, sd, tensors)
		})
	}
}

// TestRefused checks that hostile or broken files give an error naming
// the file and the problem, not a panic or a partial result.
func TestRefused(t *testing.T) {
	exp := checkpointtest.ReadExpected(t, "testdata/expected.json")
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
