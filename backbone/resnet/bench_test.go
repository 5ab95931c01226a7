package resnet

import (
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// BenchmarkWideResNet50Layer3 is PatchCore's extraction (layer2 and
// layer3) on a batch of 8 images at 224 px, random weights.
//
//	go test ./backbone/resnet -run - -bench WideResNet50 -benchtime 3x
func BenchmarkWideResNet50Layer3(b *testing.B) {
	for _, direct := range []bool{false, true} {
		b.Run(map[bool]string{false: "winograd", true: "direct"}[direct], func(b *testing.B) {
			benchWide(b, direct)
		})
	}
}

func benchWide(b *testing.B, direct bool) {
	cfg := WideResNet50_2()
	cfg.DirectConv = direct
	m, err := New(cfg, RandomWeights(cfg, 1))
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.New(8, 224, 224, 3)
	for i := range x.Data {
		x.Data[i] = float32(i%17) / 17
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.ForwardBatch(x, []string{"layer2", "layer3"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(8*b.N)/b.Elapsed().Seconds(), "images/s")
}
