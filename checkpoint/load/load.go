// Package load opens a weights file of any format the checkpoint readers
// know, telling them apart by their first bytes. It is separate from
// package checkpoint because the readers import checkpoint for its types.
package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/safetensors"
	"github.com/anomclust/anomclust/checkpoint/torchpt"
)

// Format is a checkpoint file format.
type Format string

const (
	Torch       Format = "torch"       // torch.save, zip or legacy (package torchpt)
	Safetensors Format = "safetensors" // package safetensors
	TFLite      Format = "tflite"      // TFLite flatbuffer (file identifier "TFL3")
)

// Sniff tells the format of the file at path from its first bytes.
func Sniff(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return sniff(path, head[:n])
}

func sniff(path string, head []byte) (Format, error) {
	switch {
	case torchpt.Sniff(head):
		return Torch, nil
	case safetensors.Sniff(head):
		return Safetensors, nil
	case len(head) >= 8 && bytes.Equal(head[4:8], []byte("TFL3")):
		return TFLite, nil
	}
	return "", fmt.Errorf("%s is not a checkpoint this program reads (%d bytes; want a torch.save zip or legacy file, safetensors or TFLite)", path, len(head))
}

// Load reads the tensors of the checkpoint at path, whatever its format:
// torch.save files through torchpt.Load (which also picks the state dict
// out of a training checkpoint and strips DDP/DINO key prefixes),
// safetensors through safetensors.Load (zero-copy, mapped for the life of
// the process).
func Load(path string) (checkpoint.StateDict, error) {
	format, err := Sniff(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case Torch:
		return torchpt.Load(path)
	case Safetensors:
		return safetensors.Load(path)
	}
	return loadTFLite(path)
}
