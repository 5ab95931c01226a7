package vit

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/tensor"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// loadTorch reads a torch.save'd state_dict of float32 tensors (other
// dtypes, e.g. num_batches_tracked, are skipped).
// TODO: switch to checkpoint's torch reader when it lands.
func loadTorch(t *testing.T, path string) checkpoint.StateDict {
	t.Helper()
	v, err := pytorch.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	od, ok := v.(*types.OrderedDict)
	if !ok {
		t.Fatalf("%s: top-level object is %T, want OrderedDict", path, v)
	}
	sd := checkpoint.StateDict{}
	for el := od.List.Front(); el != nil; el = el.Next() {
		e := el.Value.(*types.OrderedDictEntry)
		name := e.Key.(string)
		pt := e.Value.(*pytorch.Tensor)
		fs, ok := pt.Source.(*pytorch.FloatStorage)
		if !ok {
			continue
		}
		n := 1
		for _, s := range pt.Size {
			n *= s
		}
		data := make([]float32, n)
		idx := make([]int, len(pt.Size))
		for i := 0; i < n; i++ {
			off := pt.StorageOffset
			for d := range idx {
				off += idx[d] * pt.Stride[d]
			}
			data[i] = fs.Data[off]
			for d := len(idx) - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < pt.Size[d] {
					break
				}
				idx[d] = 0
			}
		}
		sd[name] = &checkpoint.Tensor{Name: name, DType: checkpoint.Float32, Shape: append([]int(nil), pt.Size...), Data: data}
	}
	return sd
}

// readNPY reads a little-endian float32 C-order .npy file (format 1.0).
func readNPY(t *testing.T, path string) (shape []int, data []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	header := string(b[10 : 10+hl])
	if !strings.Contains(header, "'<f4'") || strings.Contains(header, "'fortran_order': True") {
		t.Fatalf("%s: header %q: want C-order <f4", path, header)
	}
	m := regexp.MustCompile(`'shape': \(([^)]*)\)`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("%s: no shape in header %q", path, header)
	}
	for _, f := range strings.Split(m[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			v, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s: shape %q: %v", path, m[1], err)
			}
			shape = append(shape, v)
		}
	}
	raw := b[10+hl:]
	data = make([]float32, len(raw)/4)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	if len(data) != tensor.Numel(shape) {
		t.Fatalf("%s: %d values for shape %v", path, len(data), shape)
	}
	return shape, data
}

// nchwToNHWC converts PyTorch's (N, C, H, W) layout to channels-last.
func nchwToNHWC(shape []int, data []float32) *tensor.Tensor {
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	out := tensor.New(n, h, w, c)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					out.Data[((i*h+y)*w+x)*c+ch] = data[((i*c+ch)*h+y)*w+x]
				}
			}
		}
	}
	return out
}

// relMaxErr is max|got - want| / max|want|: the error relative to the
// scale of the map, so that near-zero entries do not dominate.
func relMaxErr(got, want []float32) (float64, error) {
	if len(got) != len(want) {
		return 0, fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	var num, den float64
	for i := range got {
		num = max(num, math.Abs(float64(got[i])-float64(want[i])))
		den = max(den, math.Abs(float64(want[i])))
	}
	return num / den, nil
}
