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
	"github.com/anomclust/anomclust/checkpoint/torchpt"
	"github.com/anomclust/anomclust/tensor"
)

// loadTorch reads a torch.save'd state_dict with the project's reader.
func loadTorch(t *testing.T, path string) checkpoint.StateDict {
	t.Helper()
	sd, err := torchpt.Load(path)
	if err != nil {
		t.Fatal(err)
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
