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

// BenchmarkWinogradTransforms times one F(4x4, 3x3) tile's input and
// output transforms over 256 channels, the Go twins and each assembly
// level this CPU has:
//
//	go test ./backbone/resnet -run - -bench WinogradTransforms
func BenchmarkWinogradTransforms(b *testing.B) {
	const c, stride = 256, 256
	var d [36][]float32
	var p [36]*float32
	for k := range d {
		d[k] = make([]float32, c)
		for i := range d[k] {
			d[k][i] = float32(i%13) / 13
		}
		p[k] = &d[k][0]
	}
	v := make([]float32, 36*stride)
	bias := make([]float32, c)
	var dst [16][]float32
	var pd [16]*float32
	for k := range dst {
		dst[k] = make([]float32, c)
		pd[k] = &dst[k][0]
	}
	var scratch [36 * 16]float32
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			input4Transform(&d, v, stride, c)
			output4Transform(v, stride, &dst, bias, true)
		}
	})
	for _, k := range winoLevels() {
		b.Run(k.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				k.input4(&p, &v[0], stride, c, &scratch)
				k.output4(&v[0], stride, &pd, &bias[0], c, true, &scratch)
			}
		})
	}
}
