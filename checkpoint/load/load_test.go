package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSniffAndLoad(t *testing.T) {
	cases := []struct {
		path   string
		format Format
		tensor string // a tensor Load must return
	}{
		{"../torchpt/testdata/plain.pt", Torch, "w"},
		{"../torchpt/testdata/legacy.pt", Torch, "w"},
		{"../torchpt/testdata/dino_full.pt", Torch, "cls_token"},
		{"../safetensors/testdata/model.safetensors", Safetensors, "weight"},
	}
	for _, c := range cases {
		f, err := Sniff(c.path)
		if err != nil || f != c.format {
			t.Errorf("Sniff(%s) = %q, %v; want %q", c.path, f, err, c.format)
		}
		sd, err := Load(c.path)
		if err != nil {
			t.Errorf("Load(%s): %v", c.path, err)
			continue
		}
		if _, ok := sd[c.tensor]; !ok {
			t.Errorf("Load(%s) has no %q", c.path, c.tensor)
		}
	}
}

func TestSniffTFLite(t *testing.T) {
	p := "../../../shared/weights/mobilenet_v2_1.0_224_quant.tflite"
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared weights absent: %v", err)
	}
	if f, err := Sniff(p); err != nil || f != TFLite {
		t.Errorf("Sniff(%s) = %q, %v", p, f, err)
	}
	sd, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	// MobileNet V2 has 52 convolutions (one kernel and one bias each) and
	// the classifier; a loose lower bound catches an empty or partial read.
	if len(sd) < 100 {
		t.Errorf("Load(%s) gave %d tensors, want over 100", p, len(sd))
	}
}

func TestUnknownFormat(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "", "text": "hello, this is not a checkpoint"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not a checkpoint") {
			t.Errorf("Load(%s) error %v, want one naming the file and saying it is not a checkpoint", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.pt")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
