package tensor

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks at the sizes the backbones run (224-pixel input):
//
//	go test -run '^$' -bench . -benchtime 3x ./tensor
//
// GFLOP/s counts 2 flops per multiply-add of the convolution or product.

func randTensor(rng *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

func benchConv(b *testing.B, spec ConvSpec, h, w int) { benchConvPath(b, spec, h, w, false) }

func benchConvPath(b *testing.B, spec ConvSpec, h, w int, forceGo bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	spec.normalise()
	wt := randTensor(rng, spec.OutC*spec.InC/spec.Groups*spec.KH*spec.KW).Data
	conv, err := NewConv2d(spec, wt, nil)
	if err != nil {
		b.Fatal(err)
	}
	conv.forceGo = forceGo
	x := randTensor(rng, h, w, spec.InC)
	oh, ow := conv.OutputSize(h, w)
	flops := 2 * float64(oh*ow*spec.OutC*spec.InC/spec.Groups*spec.KH*spec.KW)
	b.ResetTimer()
	for range b.N {
		conv.Forward(x)
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// ResNet layer1 3x3 conv.
func BenchmarkConv3x3_56x56x64(b *testing.B) {
	benchConv(b, ConvSpec{InC: 64, OutC: 64, KH: 3, KW: 3, Pad: 1}, 56, 56)
}

// WideResNet layer1 bottleneck 1x1 reduce.
func BenchmarkConv1x1_56x56x256to128(b *testing.B) {
	benchConv(b, ConvSpec{InC: 256, OutC: 128, KH: 1, KW: 1}, 56, 56)
}

// ResNet stem.
func BenchmarkConv7x7s2_224x224x3(b *testing.B) {
	benchConv(b, ConvSpec{InC: 3, OutC: 64, KH: 7, KW: 7, Stride: 2, Pad: 3}, 224, 224)
}

// MobileNet V2 first depthwise block.
func BenchmarkDepthwise3x3_112x112x32(b *testing.B) {
	benchConv(b, ConvSpec{InC: 32, OutC: 32, KH: 3, KW: 3, Pad: 1, Groups: 32}, 112, 112)
}

// The same with the Go loop instead of the AVX-512 kernel.
func BenchmarkDepthwise3x3_112x112x32Go(b *testing.B) {
	benchConvPath(b, ConvSpec{InC: 32, OutC: 32, KH: 3, KW: 3, Pad: 1, Groups: 32}, 112, 112, true)
}

// ViT-B/8 at 224: 785 tokens, 12 heads of 64.
func BenchmarkAttentionViTB8(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const t, c, heads = 785, 768, 12
	qkv := randTensor(rng, t, 3*c)
	flops := 2 * 2 * float64(t*t*c) // Q·Kᵀ and ·V over all heads
	b.ResetTimer()
	for range b.N {
		Attention(qkv, heads)
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// The softmax part alone of ViT-B/8 attention (12 heads of 785x785).
func BenchmarkSoftmaxViTB8(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 12*785, 785)
	b.ResetTimer()
	for range b.N {
		Softmax(x)
	}
}

// The MLP activation of one ViT-B/8 block.
func BenchmarkGELUViTB8(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 785, 3072)
	b.ResetTimer()
	for range b.N {
		GELU(x)
	}
}

func BenchmarkLayerNormViTB8(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 785, 768)
	ln, _ := NewLayerNorm(randTensor(rng, 768).Data, randTensor(rng, 768).Data, 1e-6)
	b.ResetTimer()
	for range b.N {
		ln.Forward(x)
	}
}

// The qkv projection of one ViT-B/8 block.
func BenchmarkLinearViTB8qkv(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	l, _ := NewLinear(3*768, 768, randTensor(rng, 3*768*768).Data, nil)
	x := randTensor(rng, 785, 768)
	b.ResetTimer()
	for range b.N {
		l.Forward(x)
	}
	b.ReportMetric(2*785*768*3*768*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// The Go twins of the element-wise kernels, for the assembly's speed-up.
func BenchmarkGELUGo(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 785*3072)
	b.ResetTimer()
	for range b.N {
		geluGo(x.Data)
	}
}

func BenchmarkSoftmaxRowsGo(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 785, 785)
	b.ResetTimer()
	for range b.N {
		for r := 0; r < 785; r++ {
			softmaxRowGo(x.Data[r*785:(r+1)*785], 0.125)
		}
	}
}

func BenchmarkSoftmaxRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 785, 785)
	b.ResetTimer()
	for range b.N {
		for r := 0; r < 785; r++ {
			softmaxRow(x.Data[r*785:(r+1)*785], 0.125)
		}
	}
}

func benchLayerNormRows(b *testing.B, asm bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randTensor(rng, 785, 768), New(785, 768)
	w, bias := randTensor(rng, 768).Data, randTensor(rng, 768).Data
	b.ResetTimer()
	for range b.N {
		for r := 0; r < 785; r++ {
			layerNormRow(y.Data[r*768:(r+1)*768], x.Data[r*768:(r+1)*768], w, bias, 1e-6, asm)
		}
	}
}

// One ViT-B/8 LayerNorm on one goroutine, assembly and Go twin.
func BenchmarkLayerNormRows(b *testing.B)   { benchLayerNormRows(b, true) }
func BenchmarkLayerNormRowsGo(b *testing.B) { benchLayerNormRows(b, false) }

// WideResNet layer1 conv3 (1x1, 128 -> 256) on a batch of 8, followed by
// ReLU: fused (Conv2d.Act) and as a separate pass.
func benchConvReLU(b *testing.B, fused bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	conv, err := NewConv2d(ConvSpec{InC: 128, OutC: 256, KH: 1, KW: 1}, randTensor(rng, 256*128).Data, nil)
	if err != nil {
		b.Fatal(err)
	}
	x := randTensor(rng, 8, 56, 56, 128)
	if fused {
		conv.Act = ActReLU
	}
	b.ResetTimer()
	for range b.N {
		y := conv.Forward(x)
		if !fused {
			ReLU(y)
		}
	}
	b.ReportMetric(2*8*56*56*128*256*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv1x1ReLUFused(b *testing.B)    { benchConvReLU(b, true) }
func BenchmarkConv1x1ReLUSeparate(b *testing.B) { benchConvReLU(b, false) }
