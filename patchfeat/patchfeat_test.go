package patchfeat

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// fixtureCase mirrors one entry of testdata/cases.json (see gen_patchfeat.py).
type fixtureCase struct {
	Name      string  `json:"name"`
	Layers    [][]int `json:"layers"` // (C, H, W) per layer
	PatchSize int     `json:"patchsize"`
	Pretrain  int     `json:"pretrain"`
	Target    int     `json:"target"`
	LayerNorm bool    `json:"layernorm"`
	Z         []int   `json:"z"`
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// TestGolden compares against torch running PatchCore's own steps
// (F.unfold, F.interpolate bilinear, F.adaptive_avg_pool1d, F.layer_norm) on
// random maps: uneven pooling bins, pooling up (pretrain > C*9, target >
// L*pretrain), an identity aggregate, non-square and larger later layers,
// patch sizes 1, 3 and 5, LayerNorm on and off.
//
// Tolerance |go - torch| <= 2e-6 * (1 + |torch|) (observed <= 2e-7): both sides are float32 and
// we pool before resizing (PatchCore resizes first), which reorders a handful
// of float32 additions of O(1) values: ~1e-7 relative per operation, a few
// operations deep. A wrong bin, window order, tap or weight is an O(0.1) error.
func TestGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []fixtureCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			data := readF32(t, filepath.Join("testdata", tc.Name+".f32"))
			var maps []*tensor.Tensor
			off := 0
			for _, s := range tc.Layers {
				c, h, w := s[0], s[1], s[2]
				maps = append(maps, tensor.From(data[off:off+h*w*c], h, w, c))
				off += h * w * c
			}
			want := data[off:]
			if len(want) != tc.Z[0]*tc.Z[1] {
				t.Fatalf("fixture has %d Z values, want %v", len(want), tc.Z)
			}
			for _, workers := range []int{1, 3} {
				z, err := PatchEmbeddings(maps, Options{PatchSize: tc.PatchSize, PretrainDim: tc.Pretrain,
					TargetDim: tc.Target, LayerNorm: tc.LayerNorm, Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				if z.Shape[0] != tc.Z[0] || z.Shape[1] != tc.Z[1] {
					t.Fatalf("shape %v, want %v", z.Shape, tc.Z)
				}
				var worst float64
				for i, v := range z.Data {
					d := math.Abs(float64(v)-float64(want[i])) / (1 + math.Abs(float64(want[i])))
					if d > worst {
						worst = d
					}
					if !(d <= 2e-6) { // a NaN fails too
						t.Fatalf("workers %d: Z[%d,%d] = %v, torch %v", workers, i/tc.Z[1], i%tc.Z[1], v, want[i])
					}
				}
				t.Logf("workers %d: max scaled error %.2g", workers, worst)
			}
		})
	}
}

func TestAdaptiveBins(t *testing.T) {
	// adaptive_avg_pool1d(5 -> 3): [0,2) [1,4) [3,5) (torch start/end_index).
	got := adaptiveBins(5, 3)
	want := []bin{{0, 2}, {1, 4}, {3, 5}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bins(5,3) = %v, want %v", got, want)
		}
	}
}

func TestMapsUnchangedAndErrors(t *testing.T) {
	m := tensor.New(4, 4, 2)
	for i := range m.Data {
		m.Data[i] = float32(i)
	}
	keep := append([]float32(nil), m.Data...)
	if _, err := PatchEmbeddings([]*tensor.Tensor{m}, Options{PretrainDim: 4, TargetDim: 4, LayerNorm: true}); err != nil {
		t.Fatal(err)
	}
	for i := range keep {
		if m.Data[i] != keep[i] {
			t.Fatal("PatchEmbeddings modified its input map")
		}
	}
	bad := []struct {
		name string
		maps []*tensor.Tensor
		opt  Options
	}{
		{"no maps", nil, Options{PretrainDim: 4, TargetDim: 4}},
		{"rank 2", []*tensor.Tensor{tensor.New(4, 4)}, Options{PretrainDim: 4, TargetDim: 4}},
		{"zero dim", []*tensor.Tensor{m}, Options{PretrainDim: 0, TargetDim: 4}},
		{"too small", []*tensor.Tensor{tensor.New(1, 1, 2)}, Options{PatchSize: 4, PretrainDim: 4, TargetDim: 4}},
	}
	for _, b := range bad {
		if _, err := PatchEmbeddings(b.maps, b.opt); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
}

// BenchmarkSeedViT is the seed preset's shape: ViT-B/8 blocks 10 and 11,
// two (28, 28, 768) maps, 2048 / 4096 (identity aggregate), LayerNorm on.
func BenchmarkSeedViT(b *testing.B) {
	maps := []*tensor.Tensor{tensor.New(28, 28, 768), tensor.New(28, 28, 768)}
	for _, m := range maps {
		for i := range m.Data {
			m.Data[i] = float32(i%97) * 0.01
		}
	}
	for b.Loop() {
		if _, err := PatchEmbeddings(maps, Options{PretrainDim: 2048, TargetDim: 4096, LayerNorm: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWideResNet is PatchCore's: layer2 (28, 28, 512) and layer3
// (14, 14, 1024), 1024 / 1024.
func BenchmarkWideResNet(b *testing.B) {
	maps := []*tensor.Tensor{tensor.New(28, 28, 512), tensor.New(14, 14, 1024)}
	for b.Loop() {
		if _, err := PatchEmbeddings(maps, Options{PretrainDim: 1024, TargetDim: 1024}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFinerLaterLayer: a later layer 4x finer than the first is block-averaged
// onto the first layer's grid. Reference from the package's own single-layer
// results: with TargetDim = L*PretrainDim the final pool is the identity, so
// each row of Z is [Z of the first layer alone, the mean of the finer layer's
// own Z over the 4x4 block of the row's cell].
func TestFinerLaterLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	coarse := tensor.New(4, 5, 3)
	fine := tensor.New(16, 20, 2)
	for _, m := range []*tensor.Tensor{coarse, fine} {
		for i := range m.Data {
			m.Data[i] = float32(rng.NormFloat64())
		}
	}
	const pre = 6
	one := func(m *tensor.Tensor) *tensor.Tensor {
		z, err := PatchEmbeddings([]*tensor.Tensor{m}, Options{PretrainDim: pre, TargetDim: pre})
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	zc, zf := one(coarse), one(fine)
	z, err := PatchEmbeddings([]*tensor.Tensor{coarse, fine}, Options{PretrainDim: pre, TargetDim: 2 * pre})
	if err != nil {
		t.Fatal(err)
	}
	if z.Shape[0] != 20 || z.Shape[1] != 2*pre {
		t.Fatalf("Z shape %v, want [20 %d]", z.Shape, 2*pre)
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 5; x++ {
			r := y*5 + x
			for c := 0; c < pre; c++ {
				if got, want := z.Data[r*2*pre+c], zc.Data[r*pre+c]; got != want {
					t.Fatalf("cell (%d,%d) first layer's part %d: %v, want %v", y, x, c, got, want)
				}
				var sum float64
				for dy := 0; dy < 4; dy++ {
					for dx := 0; dx < 4; dx++ {
						sum += float64(zf.Data[((4*y+dy)*20+4*x+dx)*pre+c])
					}
				}
				if got, want := float64(z.Data[r*2*pre+pre+c]), sum/16; math.Abs(got-want) > 1e-5 {
					t.Fatalf("cell (%d,%d) finer layer's part %d: %v, want the block mean %v", y, x, c, got, want)
				}
			}
		}
	}
}
