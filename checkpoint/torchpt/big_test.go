package torchpt

import (
	"os"
	"testing"
)

// BenchmarkLoadBig loads the checkpoint named by ANOMCLUST_BIG_CHECKPOINT
// (e.g. torchvision's wide_resnet50_2 state dict, 276 MB), skipped when
// unset:
//
//	ANOMCLUST_BIG_CHECKPOINT=/tmp/wrn_zip.pth go test ./checkpoint/torchpt -run '^$' -bench LoadBig -benchtime 3x
func BenchmarkLoadBig(b *testing.B) {
	path := os.Getenv("ANOMCLUST_BIG_CHECKPOINT")
	if path == "" {
		b.Skip("ANOMCLUST_BIG_CHECKPOINT not set")
	}
	for b.Loop() {
		sd, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(sd) == 0 {
			b.Fatal("empty state dict")
		}
	}
}
