package mobilenet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// refMaps is the synthetic graph's feature maps (conv, dw, pw, add) for an
// h x w input, evaluated directly (refConv) at that size.
func (s *synthetic) refMaps(img []float32, h, w int) map[string][]float32 {
	conv, ch, cw := refConv(img, h, w, 3, 3, 3, 4, 2, true,
		func(ky, kx, ci, co int) float32 { return s.convW[((co*3+ky)*3+kx)*3+ci] }, s.convB)
	clamp(conv, 6)
	dw, _, _ := refConv(conv, ch, cw, 4, 3, 3, 8, 1, true, func(ky, kx, ci, co int) float32 {
		if co/2 != ci {
			return 0
		}
		return s.dwW[(ky*3+kx)*8+co]
	}, s.dwB)
	clamp(dw, math.Inf(1))
	pw, _, _ := refConv(dw, ch, cw, 8, 1, 1, 8, 1, false, func(_, _, ci, co int) float32 { return s.pwW[co*8+ci] }, nil)
	sum := make([]float32, len(pw))
	for i := range pw {
		sum[i] = pw[i] + dw[i]
	}
	clamp(sum, 6)
	return map[string][]float32{"Net/conv": conv, "Net/dw": dw, "Net/pw": pw, "Net/add": sum}
}

// TestSyntheticOtherSizes: the graph's file says 10x10, but the feature
// maps follow the input: at other (also odd and non-square) sizes every
// map has the SAME-padding shape ceil(in/2) and the values of a direct
// evaluation at that size (tolerance as TestSyntheticGraph's).
func TestSyntheticOtherSizes(t *testing.T) {
	s := newSynthetic(t)
	b, err := New("synthetic", s.m)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	layers := []string{"Net/conv", "Net/dw", "Net/pw", "Net/add", "stride2"}
	for _, sz := range [][2]int{{10, 10}, {13, 13}, {16, 16}, {9, 14}, {32, 24}} {
		h, w := sz[0], sz[1]
		img := tensor.New(h, w, 3)
		for i := range img.Data {
			img.Data[i] = float32(rng.IntN(256)-128) / 128
		}
		out, err := b.Forward([]*tensor.Tensor{img}, layers)
		if err != nil {
			t.Fatalf("%dx%d: %v", h, w, err)
		}
		ref := s.refMaps(img.Data, h, w)
		ref["stride2"] = ref["Net/add"]
		for _, l := range layers {
			got := out[0][l]
			if want := []int{(h + 1) / 2, (w + 1) / 2, 8}; l != "Net/conv" && !slices.Equal(got.Shape, want) {
				t.Errorf("%dx%d %s: shape %v, want %v", h, w, l, got.Shape, want)
			}
			tol := 1e-5 * math.Max(maxAbs32(ref[l]), 1)
			if e := maxDiff32(got.Data, ref[l]); !(e <= tol) || len(got.Data) != len(ref[l]) {
				t.Errorf("%dx%d %s: max error %.3g > %.3g (%d values, want %d)", h, w, l, e, tol, len(got.Data), len(ref[l]))
			}
		}
	}
	if st, _ := b.Stride("stride2"); st != 2 {
		t.Errorf("Stride(stride2) = %d, want 2 (from the file's shapes, independent of the input)", st)
	}
}

// TestRealOtherSizes: the shared MobileNets run at 320, 576 and 640 px
// (their files say 224): the stride-s taps are size/s a side, and the maps
// are the same function of the pixels at every size. A 640 image and its
// 576 crop at offset (32, 32) (a multiple of the total stride 32, and
// every stage's input even in both, so TensorFlow's SAME padding is
// aligned) give the same stride8/stride16 values at positions whose
// receptive field lies inside the crop (192 px from the crop's border; at
// 128 px V2's stride16 tap differs by 3e-4 of its peak: its receptive
// field is wider). Tolerance 1e-4 of the map's largest value: the runs
// could differ by float32 summation order in GEMM blocks of different
// shapes (measured: 0, bit-identical); a padding or shape slip gives
// errors of the order of the values.
func TestRealOtherSizes(t *testing.T) {
	for _, name := range []string{"mobilenet_v2", "mobilenet_v1"} {
		t.Run(name, func(t *testing.T) {
			b := load(t, name)
			rng := rand.New(rand.NewPCG(7, 8))
			big := tensor.New(640, 640, 3)
			// Smooth random image (a blurred noise field), so the maps
			// are not dominated by pixel noise.
			for y := 0; y < 640; y++ {
				for x := 0; x < 640; x++ {
					for c := 0; c < 3; c++ {
						v := math.Sin(float64(x)/17+float64(c)) * math.Cos(float64(y)/23-float64(c))
						big.Data[(y*640+x)*3+c] = float32(0.8*v + 0.2*(rng.Float64()*2-1))
					}
				}
			}
			const off, side = 32, 576
			crop := tensor.New(side, side, 3)
			for y := 0; y < side; y++ {
				copy(crop.Data[y*side*3:(y+1)*side*3], big.Data[((y+off)*640+off)*3:])
			}
			layers := []string{"stride8", "stride16"}
			out, err := b.Forward([]*tensor.Tensor{big, crop, tensor.New(320, 320, 3)}, layers)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range layers {
				st, _ := b.Stride(l)
				for k, size := range []int{640, side, 320} {
					if got := out[k][l].Shape; got[0] != size/st || got[1] != size/st {
						t.Errorf("%s at %d: shape %v, want %d x %d", l, size, got, size/st, size/st)
					}
				}
				gb, gc := out[0][l], out[1][l]
				nb, nc, ch := gb.Shape[1], gc.Shape[1], gb.Shape[2]
				margin, shift := 192/st, off/st
				var worst, peak float64
				for y := margin; y < nc-margin; y++ {
					for x := margin; x < nc-margin; x++ {
						for c := 0; c < ch; c++ {
							u := float64(gc.Data[(y*nc+x)*ch+c])
							v := float64(gb.Data[((y+shift)*nb+x+shift)*ch+c])
							worst = max(worst, math.Abs(u-v))
							peak = max(peak, math.Abs(v))
						}
					}
				}
				if tol := 1e-4 * peak; !(worst <= tol) || peak == 0 {
					t.Errorf("%s: crop vs whole image, max difference %.3g > %.3g (peak %.3g)", l, worst, tol, peak)
				}
				t.Log(fmt.Sprintf("%s: crop vs whole, max difference %.3g (peak %.3g)", l, worst, peak))
			}
		})
	}
}
