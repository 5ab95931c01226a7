package pipeline_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/weights"
)

// TestNetWithoutID: an Options.Net without NetID must not use the feature
// cache (two Nets of one Name would otherwise share entries: the second,
// with other weights, would get the first one's Z), and run.json says
// random only when NetRandom says so.
func TestNetWithoutID(t *testing.T) {
	o := fakeOptions(t, &poolNet{})
	o.NetID = ""
	o.Categories = []string{"wood"}
	o.Modes = []string{rundir.ModeAverage}
	var log bytes.Buffer
	o.Log = &log
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "feature cache not used") {
		t.Errorf("no note that the cache was refused:\n%s", log.String())
	}
	if b := res.Run.Backbone; b.Random || b.ID != "" || b.WeightsSHA256 != "" {
		t.Errorf("run.json backbone %+v: want not random, no id, no digest", b)
	}
	x1, _, err := npy.Read[float32](filepath.Join(rundir.ResultDir(o.Out, "wood", rundir.ModeAverage, 0), rundir.XFile))
	if err != nil {
		t.Fatal(err)
	}

	// Same name, other "weights", same cache folder: every Z recomputed.
	other := &poolNet{gain: 2}
	o.Net, o.NetRandom, o.Force = other, true, true
	res, err = pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if n := other.images.Load(); n != 12 {
		t.Errorf("second Net without NetID: %d images through it, want 12 (none from the cache)", n)
	}
	x2, _, err := npy.Read[float32](filepath.Join(rundir.ResultDir(o.Out, "wood", rundir.ModeAverage, 0), rundir.XFile))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(x1, x2) {
		t.Error("a Net with other weights gave the same X: Z shared through the cache")
	}
	if !res.Run.Backbone.Random {
		t.Error("NetRandom not recorded in run.json")
	}
}

// writeSafetensors writes the float32 tensors of sd as a safetensors file
// (8-byte little-endian header length, JSON header, raw data).
func writeSafetensors(t *testing.T, path string, sd checkpoint.StateDict) {
	t.Helper()
	names := make([]string, 0, len(sd))
	for n := range sd {
		names = append(names, n)
	}
	slices.Sort(names)
	header := map[string]any{}
	var body []byte
	for _, n := range names {
		x := sd[n]
		if x.DType != checkpoint.Float32 {
			t.Fatalf("%s: dtype %s, this helper writes float32 only", n, x.DType)
		}
		off := len(body)
		for _, v := range x.Data {
			body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
		}
		header[n] = map[string]any{"dtype": "F32", "shape": x.Shape, "data_offsets": []int{off, len(body)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), body...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWeightsFile runs the pipeline from a weights file: random ResNet-18
// weights given as an explicit --weights file whose SHA-256 differs from
// the registry's. The run accepts the explicit file with a warning,
// recording its digest, as long as `weights verify` would (every tensor of
// the architecture with its shape: a file holding only the stages up to
// layer2 is refused, naming the file and the backbone); the same file
// found on the weights search path under the registry's name is refused.
func TestWeightsFile(t *testing.T) {
	sd, err := zoo.RandomWeights("resnet18", 5)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e, err := weights.Lookup("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(t.TempDir(), "partial.safetensors")
	part := checkpoint.StateDict{}
	for n, v := range sd {
		if strings.HasPrefix(n, "conv1.") || strings.HasPrefix(n, "bn1.") ||
			strings.HasPrefix(n, "layer1.") || strings.HasPrefix(n, "layer2.") {
			part[n] = v
		}
	}
	writeSafetensors(t, partial, part)
	// The classifier, which the random weights leave out: weights verify
	// wants every tensor of the checkpoint.
	sd["fc.weight"] = &checkpoint.Tensor{Name: "fc.weight", DType: sd["conv1.weight"].DType, Shape: []int{1000, 512}, Data: make([]float32, 1000*512)}
	sd["fc.bias"] = &checkpoint.Tensor{Name: "fc.bias", DType: sd["conv1.weight"].DType, Shape: []int{1000}, Data: make([]float32, 1000)}
	file := filepath.Join(dir, e.FileName)
	writeSafetensors(t, file, sd)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])

	o := fakeOptions(t, nil)
	o.Net, o.NetID = nil, ""
	o.Backbone, o.Weights = "resnet18", file
	o.Store = &weights.Store{CacheDir: t.TempDir()}
	o.Layers = []string{"layer2"}
	o.PretrainDim, o.TargetDim = 32, 16
	o.Categories = []string{"wood"}
	o.Modes = []string{rundir.ModeAverage}
	var log bytes.Buffer
	o.Log = &log
	o.Weights = partial
	if _, err := pipeline.Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "weights verify resnet18 --weights "+partial) ||
		!strings.Contains(err.Error(), "missing tensor") {
		t.Errorf("a file weights verify refuses: %v", err)
	}
	o.Weights = file
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("explicit weights file: %v", err)
	}
	if !strings.Contains(log.String(), "warning") || !strings.Contains(log.String(), "checksum mismatch") {
		t.Errorf("no checksum warning in the log:\n%s", log.String())
	}
	if b := res.Run.Backbone; b.WeightsFile != file || b.WeightsSHA256 != digest || b.Random {
		t.Errorf("run.json backbone %+v, want file %s digest %s", b, file, digest)
	}
	if c := res.Run.Categories[0]; c.GridH != 8 || c.Dim != 16 {
		t.Errorf("category %+v: want an 8x8 grid (layer2 at 64 px), D = 16", c)
	}

	// Found on the search path, the same file must match the registry.
	o.Weights = ""
	o.Store = &weights.Store{SearchPath: []string{dir}, CacheDir: t.TempDir()}
	o.Out = filepath.Join(t.TempDir(), "out2")
	_, err = pipeline.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("registry-named file with another SHA-256 on the search path: %v, want a checksum error", err)
	}
	if _, err := os.Stat(filepath.Join(o.Out, rundir.RunFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("run.json written by a refused run (%v)", err)
	}
}

// TestWeightsWrongMobileNet: the MobileNet V1 file of ../shared given as
// --weights for mobilenet_v2 is refused before any image is read, naming
// the file and both backbones' check.
func TestWeightsWrongMobileNet(t *testing.T) {
	v1 := filepath.Join("..", "..", "shared", "weights", "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite")
	if _, err := os.Stat(v1); err != nil {
		t.Skipf("needs %s: %v", v1, err)
	}
	o := fakeOptions(t, nil)
	o.Net, o.NetID = nil, ""
	o.Backbone, o.Weights, o.Layers = "mobilenet_v2", v1, []string{"stride8"}
	o.Store = &weights.Store{CacheDir: t.TempDir()}
	_, err := pipeline.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "is not a mobilenet_v2 checkpoint") || !strings.Contains(err.Error(), v1) ||
		!strings.Contains(err.Error(), "constant tensors") {
		t.Errorf("MobileNet V1 file for mobilenet_v2: %v", err)
	}
}
