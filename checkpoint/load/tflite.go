package load

import (
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/tflite"
)

// loadTFLite reads a TFLite flatbuffer's constant tensors (weights
// dequantised to float32) through package tflite.
func loadTFLite(path string) (checkpoint.StateDict, error) {
	m, err := tflite.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return m.StateDict()
}
