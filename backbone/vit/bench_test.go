package vit

import (
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// BenchmarkViTB8 is the seed's DINO ViT-B/8 extraction (blocks.10 and
// blocks.11) on a batch of 4 images at 224 px, random weights.
//
//	go test ./backbone/vit -run - -bench ViTB8 -benchtime 2x
func BenchmarkViTB8(b *testing.B) {
	cfg := DINO("dino_vitb8", true, 8)
	m, err := New(cfg, RandomWeights(cfg, 1))
	if err != nil {
		b.Fatal(err)
	}
	const n = 4
	x := tensor.New(n, 224, 224, 3)
	for i := range x.Data {
		x.Data[i] = float32(i%17) / 17
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.ForwardBatch(x, []string{"blocks.10", "blocks.11"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}
