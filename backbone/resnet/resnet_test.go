package resnet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/anomclust/anomclust/backbone/internal/backbonetest"
	"github.com/anomclust/anomclust/tensor"
)

// small returns the reduced configs of testdata/gen_resnet.py.
func small(kind BlockKind, blocks [4]int, wpg int) Config {
	return Config{Name: "small", Block: kind, Blocks: blocks, Planes: [4]int{4, 8, 16, 32}, WidthPerGroup: wpg}
}

// tolerance on backbonetest.RelMaxErr against PyTorch. Both sides compute in
// float32 with different summation orders (im2col GEMM vs mkldnn/THNN
// convolutions) and ours folds BN into the weights; each output is a sum of
// up to a few thousand products, so differences of a few ulps of the largest
// partial sums, ~1e-6 relative, accumulate over ~10-50 layers. 1e-4 leaves a
// margin of 10-100x while any real error (a wrong tap, a missing BN, a
// transposed kernel) is O(1).
const tolerance = 1e-4

func TestResNetMatchesTorchvision(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"wide_small", small(Bottleneck, [4]int{1, 2, 1, 1}, 128)},
		{"basic_small", small(Basic, [4]int{2, 1, 1, 1}, 64)},
	}
	for _, tc := range cases {
		for _, directConv := range []bool{false, true} {
			cfg := tc.cfg
			cfg.DirectConv = directConv
			t.Run(fmt.Sprintf("%s/direct=%v", tc.name, directConv), func(t *testing.T) {
				compareWithTorch(t, "testdata", tc.name, cfg, []string{"layer1", "layer2", "layer3", "layer4"})
			})
		}
	}
}

func compareWithTorch(t *testing.T, dir, name string, cfg Config, layers []string) {
	sd := backbonetest.LoadTorch(t, filepath.Join(dir, name+".pth"))
	m, err := New(cfg, sd)
	if err != nil {
		t.Fatal(err)
	}
	x := backbonetest.NCHWToNHWC(backbonetest.ReadNPY(t, filepath.Join(dir, name+"_input.npy")))
	// Each layer on its own too, so that stopping early is exercised.
	for _, req := range append([][]string{layers}, [][]string{{layers[0]}, {layers[len(layers)-1]}}...) {
		out, err := m.ForwardBatch(x, req)
		if err != nil {
			t.Fatal(err)
		}
		backbonetest.CheckLayers(t, dir, name, out, req, tolerance)
	}
}

// TestBackboneForward checks the per-image interface against the batch
// path, with images of two sizes in one call.
func TestBackboneForward(t *testing.T) {
	cfg := small(Bottleneck, [4]int{1, 1, 1, 1}, 128)
	m, err := New(cfg, RandomWeights(cfg, 1))
	if err != nil {
		t.Fatal(err)
	}
	b := m.Backbone()
	imgs := []*tensor.Tensor{randImage(1, 32, 40), randImage(2, 32, 40), randImage(3, 48, 32)}
	got, err := b.Forward(imgs, []string{"layer2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d results for 3 images", len(got))
	}
	for i, img := range imgs {
		one, err := m.ForwardBatch(img.Reshape(append([]int{1}, img.Shape...)...), []string{"layer2"})
		if err != nil {
			t.Fatal(err)
		}
		want := one["layer2"]
		if !slices.Equal(got[i]["layer2"].Shape, want.Shape[1:]) {
			t.Fatalf("image %d: shape %v, want %v", i, got[i]["layer2"].Shape, want.Shape[1:])
		}
		// Same GEMMs, possibly different row blocking: allow float noise.
		if e, _ := backbonetest.RelMaxErr(got[i]["layer2"].Data, want.Data); !(e <= 1e-6) { // written so that a NaN fails
			t.Errorf("image %d: batched result differs from single (%.3g)", i, e)
		}
	}
	if _, err := b.Forward(imgs, []string{"layer9"}); err == nil {
		t.Error("unknown layer accepted")
	}
	if _, err := b.Forward([]*tensor.Tensor{tensor.New(8, 8, 4)}, []string{"layer1"}); err == nil {
		t.Error("4-channel image accepted")
	}
}

func TestStages(t *testing.T) {
	cfg := small(Bottleneck, [4]int{1, 1, 1, 1}, 128)
	sd := RandomWeights(cfg, 1)
	for k := range sd {
		if strings.HasPrefix(k, "layer4.") {
			delete(sd, k) // a truncated model must not need them
		}
	}
	cfg.Stages = StagesFor([]string{"layer3", "layer2"})
	m, err := New(cfg, sd)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Layers(); !slices.Equal(got, []string{"maxpool", "layer1", "layer2", "layer3"}) {
		t.Errorf("Layers() = %v", got)
	}
	if _, err := m.ForwardBatch(tensor.New(1, 32, 32, 3), []string{"layer4"}); err == nil {
		t.Error("layer4 of a 3-stage model accepted")
	}
	full := small(Bottleneck, [4]int{1, 1, 1, 1}, 128)
	mf, err := New(full, RandomWeights(full, 1))
	if err != nil {
		t.Fatal(err)
	}
	x := randImage(4, 32, 32).Reshape(1, 32, 32, 3)
	a, _ := m.ForwardBatch(x, []string{"layer3"})
	b, _ := mf.ForwardBatch(x, []string{"layer3"})
	if !slices.Equal(a["layer3"].Data, b["layer3"].Data) {
		t.Error("truncated model computes a different layer3")
	}
	if StagesFor([]string{"maxpool"}) != 1 || StagesFor([]string{"blocks.1"}) != 4 {
		t.Error("StagesFor")
	}
}

func TestNewRejectsWrongCheckpoint(t *testing.T) {
	sd := RandomWeights(ResNet18(), 1)
	if _, err := New(ResNet50(), sd); err == nil {
		t.Error("resnet50 built from resnet18 weights")
	}
	delete(sd, "layer3.0.bn2.running_var")
	if _, err := New(ResNet18(), sd); err == nil {
		t.Error("missing running_var not reported")
	}
}

func randImage(seed uint64, h, w int) *tensor.Tensor {
	x := tensor.New(h, w, 3)
	s := seed*2654435761 + 1
	for i := range x.Data {
		s = s*6364136223846793005 + 1442695040888963407
		x.Data[i] = float32(int64(s>>40)%2000)/1000 - 1
	}
	return x
}

// TestFullWideResNet50 compares the real-size wide_resnet50_2 at 224 px with
// torchvision on random weights. Opt-in, it needs /usr/bin/python3 with
// torch and takes ~1 min:
//
//	ANOMCLUST_FULL_MODELS=1 go test ./backbone/resnet -run TestFull -v
func TestFullWideResNet50(t *testing.T) {
	if os.Getenv("ANOMCLUST_FULL_MODELS") == "" {
		t.Skip("set ANOMCLUST_FULL_MODELS=1 to compare full-size wide_resnet50_2 with torchvision")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("/usr/bin/python3 has no torch/torchvision: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", "testdata/gen_resnet.py", "--full", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen_resnet.py --full: %v\n%s", err, out)
	}
	compareWithTorch(t, dir, "wide_resnet50_2", WideResNet50_2(), []string{"layer1", "layer2", "layer3", "layer4"})
}

// TestForwardRecycling checks the arena that recycles activations: maps
// returned by one call are never overwritten by later calls (also when an
// intermediate stage is returned too), repeated calls on recycled buffers
// give bit-identical results, and concurrent calls (each with its own
// arena; run with -race) give the serial results.
func TestForwardRecycling(t *testing.T) {
	for _, direct := range []bool{false, true} {
		cfg := small(Bottleneck, [4]int{2, 1, 2, 1}, 128)
		cfg.DirectConv = direct
		m, err := New(cfg, RandomWeights(cfg, 1))
		if err != nil {
			t.Fatal(err)
		}
		layers := []string{"layer1", "layer2", "layer3"}
		inputs := []*tensor.Tensor{randImage(4, 32, 40), randImage(5, 32, 40), randImage(6, 24, 24)}
		batch := func(i int) *tensor.Tensor {
			return inputs[i].Reshape(append([]int{1}, inputs[i].Shape...)...)
		}
		first := make([]map[string]*tensor.Tensor, len(inputs))
		saved := make([]map[string][]float32, len(inputs))
		for i := range inputs {
			if first[i], err = m.ForwardBatch(batch(i), layers); err != nil {
				t.Fatal(err)
			}
			saved[i] = map[string][]float32{}
			for l, v := range first[i] {
				saved[i][l] = slices.Clone(v.Data)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < 3; r++ {
					i := (g + r) % len(inputs)
					out, err := m.ForwardBatch(batch(i), layers)
					if err != nil {
						errs <- err.Error()
						return
					}
					for _, l := range layers {
						if !slices.Equal(out[l].Data, saved[i][l]) {
							errs <- fmt.Sprintf("direct=%v input %d %s: a repeated call differs", direct, i, l)
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		for i := range inputs {
			for _, l := range layers {
				if !slices.Equal(first[i][l].Data, saved[i][l]) {
					t.Errorf("direct=%v input %d %s: a returned map was overwritten by later calls", direct, i, l)
				}
			}
		}
	}
}

// TestArenaBounded checks that the memory a model keeps between forward
// passes stays bounded: repeated calls of one shape hold the same buffers
// (a resnet18-like model asked for layer2 and layer3, where the max pool's
// map, made outside the arena, used to be added to it on every call), and
// a run of several shapes keeps at most maxIdleArenas arenas.
func TestArenaBounded(t *testing.T) {
	cfg := small(Basic, [4]int{2, 2, 2, 2}, 64)
	m, err := New(cfg, RandomWeights(cfg, 1))
	if err != nil {
		t.Fatal(err)
	}
	held := func() (floats, arenas int) {
		m.arenas.mu.Lock()
		defer m.arenas.mu.Unlock()
		for _, a := range m.arenas.idle {
			for _, l := range a.free {
				for _, s := range l {
					floats += len(s)
				}
			}
		}
		return floats, len(m.arenas.idle)
	}
	x := tensor.New(2, 64, 64, 3)
	for i := range x.Data {
		x.Data[i] = float32(i%11) / 11
	}
	var first int
	for call := 0; call < 6; call++ {
		if _, err := m.ForwardBatch(x, []string{"layer2", "layer3"}); err != nil {
			t.Fatal(err)
		}
		f, _ := held()
		if call == 0 {
			first = f
		} else if f != first {
			t.Fatalf("call %d: the model holds %d floats, %d after the first call", call, f, first)
		}
	}
	for call, n := range []int{1, 3, 2, 1, 3, 2, 4} {
		if _, err := m.ForwardBatch(tensor.New(n, 64, 64, 3), []string{"layer2"}); err != nil {
			t.Fatal(err)
		}
		if _, a := held(); a > maxIdleArenas {
			t.Fatalf("call %d (batch %d): %d idle arenas, want at most %d", call, n, a, maxIdleArenas)
		}
	}
}
