package torchpt

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzTorch feeds mutated checkpoints to Parse. Seeds are the real
// torch.save files of testdata (zip and legacy formats) and the pickle
// programs of the zip checkpoints on their own wrapped in plain.pt; Parse
// must return a state dict or an error, never panic, and never return
// tensors whose data disagree with their shapes.
//
//	go test ./checkpoint/torchpt -run '^$' -fuzz FuzzTorch -fuzztime 2m
func FuzzTorch(f *testing.F) {
	files, err := filepath.Glob("testdata/*.pt")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err != nil {
			return
		}
		total := 0
		for name, tt := range sd {
			n := 1
			for _, d := range tt.Shape {
				if d < 0 {
					t.Fatalf("%s: negative dimension in %v", name, tt.Shape)
				}
				n *= d
			}
			if len(tt.Data)+len(tt.Ints) != n {
				t.Fatalf("%s: shape %v but %d values", name, tt.Shape, len(tt.Data)+len(tt.Ints))
			}
			total += n
		}
		if total > len(data) {
			t.Fatalf("decoded %d elements from %d bytes", total, len(data))
		}
	})
}
