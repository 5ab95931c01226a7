package backbone_test

import (
	"encoding/gob"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/internal/backbonetest"
	"github.com/anomclust/anomclust/backbone/mobilenet"
	"github.com/anomclust/anomclust/backbone/vit"
	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/gemm"
	"github.com/anomclust/anomclust/internal/isa"
	"github.com/anomclust/anomclust/patchfeat"
	"github.com/anomclust/anomclust/tensor"
)

// isaChildEnv, when set, makes TestISALevels the child: it runs the small
// models at the level ANOMCLUST_ISA chose and writes its outputs to the
// file the variable names.
const isaChildEnv = "ANOMCLUST_ISA_TEST_OUT"

// isaTolerance bounds RelMaxErr (max|got - want| / max|want|) of every
// output at a level against the same output at level go, except the patch
// scores. The levels run the same arithmetic in another order and rounding:
// FMA or separate multiply and add, other GEMM tiles and blockings, Winograd
// transforms and exp/erf/GELU polynomials within a few ulp of the Go twins.
// Each such step is within a few eps (2⁻²⁴ ≈ 6e-8) of the exact result
// relative to the sums' magnitude (about sqrt(k)·eps for k ≤ 2304 terms),
// and the deepest map goes through about a dozen layers. Measured on Zen 3
// (avx2 vs go): at most 5e-6 (ResNet-18 layer3), 1e-6 for Z and X; a wrong
// kernel (a missing term, a wrong lane or tile edge) gives 1e-2 or more.
const isaTolerance = 1e-4

// isaScoreTolerance is the bound for the patch scores and alpha. A score is
// a distance computed as sqrt(||a||² + ||b||² - 2a·b) (gemm's nearest-
// neighbour contract): its squared value carries an error of about
// 2·D·eps·(||a||² + ||b||²), i.e. relative to the distance d amplified by
// (||a||² + ||b||²)/d², which is large for the strongly correlated patches
// of a random-weight network. Measured here: up to 5e-5 (scores, alpha),
// against errors of order 1 when a dot product loses one of its D terms.
const isaScoreTolerance = 1e-3

// TestISALevels runs small models end to end (random-weight ResNet-18 to
// layer3 and a tiny ViT, MobileNet v2 when ../shared/weights has it, then
// the PatchCore patch features, the unsupervised and semi-supervised patch
// scores, alpha and the image embeddings, plus a plain GEMM and
// nearest-neighbour search) once per instruction-set level this CPU and
// build support, each in a child process with ANOMCLUST_ISA set (kernels
// are chosen at start-up), and compares every output with level go's.
func TestISALevels(t *testing.T) {
	if out := os.Getenv(isaChildEnv); out != "" {
		res, err := runSmallModels()
		if err != nil {
			t.Fatal(err)
		}
		if err := writeGob(out, res); err != nil {
			t.Fatal(err)
		}
		return
	}
	levels := isa.Supported()
	if len(levels) < 2 {
		t.Skipf("only level go on this CPU and build (%s): nothing to compare", isa.Describe())
	}
	dir := t.TempDir()
	got := map[isa.Level]*isaOutputs{}
	for _, l := range levels {
		path := filepath.Join(dir, l.String()+".gob")
		if err := runChild(t, l, path); err != nil {
			t.Fatalf("level %s: %v", l, err)
		}
		var res isaOutputs
		if err := readGob(path, &res); err != nil {
			t.Fatalf("level %s: %v", l, err)
		}
		if res.Level != l.String() {
			t.Fatalf("child asked for level %s ran at %s", l, res.Level)
		}
		got[l] = &res
	}
	ref := got[isa.Go]
	if len(ref.Names) == 0 {
		t.Fatal("level go produced no outputs")
	}
	for _, note := range ref.Notes {
		t.Log(note)
	}
	for _, l := range levels[1:] {
		res := got[l]
		if !slices.Equal(res.Names, ref.Names) {
			t.Fatalf("level %s outputs %v, level go %v", l, res.Names, ref.Names)
		}
		worst, worstName := 0.0, "all bit-identical"
		for _, name := range ref.Names {
			e, err := backbonetest.RelMaxErr(res.Values[name], ref.Values[name])
			if err != nil {
				t.Fatalf("level %s %s: %v", l, name, err)
			}
			tol := isaTolerance
			if strings.HasPrefix(name, "alpha/") && name != "alpha/X" {
				tol = isaScoreTolerance
			}
			if !(e <= tol) { // a NaN fails too
				t.Errorf("level %s %s: relative max error %.3g vs level go, tolerance %g", l, name, e, tol)
			}
			t.Logf("level %s %s: %.3g", l, name, e)
			if !(e <= worst) {
				worst, worstName = e, name
			}
		}
		t.Logf("level %s vs go: %d outputs, worst relative max error %.3g (%s)", l, len(ref.Names), worst, worstName)
	}
}

// isaOutputs is what a child writes: the level it ran at and its outputs by
// name (Names sorted), with notes on the parts it could not run.
type isaOutputs struct {
	Level  string
	Names  []string
	Values map[string][]float32
	Notes  []string
}

func (o *isaOutputs) add(name string, v []float32) {
	o.Names = append(o.Names, name)
	o.Values[name] = slices.Clone(v)
}

func (o *isaOutputs) add64(name string, v []float64) {
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	o.add(name, f)
}

// runChild runs this test binary's TestISALevels at level l, writing to
// path. Under qemu-user without binfmt_misc the binary cannot exec itself
// (ENOEXEC); it is then run through qemu-<arch> when that is on the PATH.
func runChild(t *testing.T, l isa.Level, path string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-test.run=^TestISALevels$"}
	env := append(os.Environ(), isa.EnvVar+"="+l.String(), isaChildEnv+"="+path)
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil && len(out) > 0 {
			return fmt.Errorf("%s: %w\n%s", filepath.Base(name), err, out)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		return nil
	}
	err = run(exe, args...)
	if errors.Is(err, syscall.ENOEXEC) {
		qemu := "qemu-" + map[string]string{"arm64": "aarch64", "amd64": "x86_64"}[runtime.GOARCH]
		if q, lerr := exec.LookPath(qemu); lerr == nil {
			t.Logf("level %s: the test binary cannot exec itself (%v); running it through %s", l, err, q)
			return run(q, append([]string{exe}, args...)...)
		}
	}
	return err
}

// runSmallModels is the child's work; everything is seeded, so the levels
// see the same inputs and weights.
func runSmallModels() (*isaOutputs, error) {
	res := &isaOutputs{Level: isa.Active().String(), Values: map[string][]float32{}}
	rng := rand.New(rand.NewPCG(31, 32))
	images := func(n, size int, scale float32) []*tensor.Tensor {
		imgs := make([]*tensor.Tensor, n)
		for i := range imgs {
			imgs[i] = tensor.New(size, size, 3)
			for j := range imgs[i].Data {
				imgs[i].Data[j] = (2*rng.Float32() - 1) * scale
			}
		}
		return imgs
	}
	pf := patchfeat.Options{PretrainDim: 64, TargetDim: 32, Workers: 2}
	var zs [][]*tensor.Tensor // Z per model, for the scores

	// ResNet-18 (3x3 convs: Winograd; 1x1 and strided: GEMM, epilogues).
	sd, err := zoo.RandomWeights("resnet18", 41)
	if err != nil {
		return nil, err
	}
	rn, err := zoo.New("resnet18", sd, "layer3")
	if err != nil {
		return nil, err
	}
	z, err := forwardAndEmbed(res, "resnet18", rn, images(3, 64, 2), []string{"layer2", "layer3"}, pf)
	if err != nil {
		return nil, err
	}
	zs = append(zs, z)

	// A tiny ViT (LayerNorm, attention softmax, GELU; C a multiple of 16
	// so that the vector paths run).
	cfg := vit.Config{Name: "vit-tiny", Patch: 8, Dim: 96, Depth: 2, Heads: 6, MLPRatio: 4, Eps: 1e-6,
		ImgSize: 64, Preprocess: backbone.ImageNet()}
	vm, err := vit.New(cfg, vit.RandomWeights(cfg, 43))
	if err != nil {
		return nil, err
	}
	z, err = forwardAndEmbed(res, "vit-tiny", vm.Backbone(), images(3, 64, 2), []string{"blocks.0", "blocks.1"}, pf)
	if err != nil {
		return nil, err
	}
	zs = append(zs, z)

	// MobileNet v2 (int8 TFLite graph, depthwise convs), when present.
	mpath := filepath.Join("..", "..", "shared", "weights", "mobilenet_v2_1.0_224_quant.tflite")
	if _, err := os.Stat(mpath); err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("mobilenet_v2 not compared: %v", err))
	} else {
		mn, err := mobilenet.Load(mpath)
		if err != nil {
			return nil, err
		}
		if _, err := forwardAndEmbed(res, "mobilenet_v2", mn, images(2, 96, 1), []string{"stride8", "stride16"}, pf); err != nil {
			return nil, err
		}
	}

	// Patch scores, alpha and X on the ResNet's Z; the ViT's Z as a bank.
	zr, zv := zs[0], zs[1]
	for _, st := range []alpha.Strategy{alpha.Symmetric, alpha.Fused} {
		s, err := alpha.Unsupervised(zr, alpha.Options{Strategy: st})
		if err != nil {
			return nil, err
		}
		res.add64(fmt.Sprintf("alpha/unsupervised-%d", st), s.S)
		if st == alpha.Symmetric {
			a, err := alpha.Alpha(s, 1)
			if err != nil {
				return nil, err
			}
			res.add64("alpha/alpha", a)
			x, err := alpha.ImageEmbeddings(zr, a)
			if err != nil {
				return nil, err
			}
			res.add("alpha/X", x.Data)
		}
	}
	s, err := alpha.SemiSupervised(zv[:1], zv[1:], alpha.Options{})
	if err != nil {
		return nil, err
	}
	res.add64("alpha/semisupervised", s.S)

	// The GEMM and the nearest-neighbour search directly, at sizes with
	// partial tiles and a multi-block k.
	const m, n, k = 37, 53, 700
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = 2*rng.Float32() - 1
	}
	for i := range b {
		b[i] = 2*rng.Float32() - 1
	}
	c := make([]float32, m*n)
	gemm.MatMul(m, n, k, a, k, b, n, c, n, false)
	res.add("gemm/matmul", c)
	dist := make([]float32, m)
	gemm.NearestDistances(m, n, k, a, b, dist, nil) // B read as n x k
	res.add("gemm/nearest", dist)

	slices.Sort(res.Names)
	return res, nil
}

// forwardAndEmbed runs net on imgs, records the taps and each image's
// patch embeddings Z under name/..., and returns the Z.
func forwardAndEmbed(res *isaOutputs, name string, net backbone.Backbone, imgs []*tensor.Tensor, taps []string, pf patchfeat.Options) ([]*tensor.Tensor, error) {
	out, err := net.Forward(imgs, taps)
	if err != nil {
		return nil, err
	}
	var zs []*tensor.Tensor
	for _, tap := range taps {
		var all []float32
		for _, o := range out {
			all = append(all, o[tap].Data...)
		}
		res.add(name+"/"+tap, all)
	}
	var all []float32
	for _, o := range out {
		maps := make([]*tensor.Tensor, len(taps))
		for i, tap := range taps {
			maps[i] = o[tap]
		}
		z, err := patchfeat.PatchEmbeddings(maps, pf)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		zs = append(zs, z)
		all = append(all, z.Data...)
	}
	res.add(name+"/Z", all)
	return zs, nil
}

func writeGob(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(v); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func readGob(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := gob.NewDecoder(f).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
