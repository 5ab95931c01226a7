package torchpt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/checkpoint/internal/checkpointtest"
)

// FuzzTorch feeds mutated checkpoints to Parse. Seeds are the real
// torch.save files of testdata (zip and legacy formats) and the pickle
// programs of the zip checkpoints on their own wrapped in plain.pt; Parse
// must return a state dict or an error, never panic, and never return
// tensors whose data disagree with their shapes.
//
//	go test ./checkpoint/torchpt -run '^$' -fuzz FuzzTorch -fuzztime 2m
func FuzzTorch(f *testing.F) {
	checkpointtest.AddFiles(f, "testdata/*.pt")
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err != nil {
			return
		}
		total := checkpointtest.CheckShapes(t, sd)
		if total > len(data) {
			t.Fatalf("decoded %d elements from %d bytes", total, len(data))
		}
	})
}

// FuzzTorchPickle mutates only data.pkl of the zip checkpoints (the zip
// layer is hard for a byte mutator to get through), wrapping each input
// into plain.pt's archive, whose storages stay valid. Seeds are the
// data.pkl of every zip fixture, so storages named by a seed that plain.pt
// lacks are refused, which the fuzzer also exercises.
//
//	go test ./checkpoint/torchpt -run '^$' -fuzz FuzzTorchPickle -fuzztime 2m
func FuzzTorchPickle(f *testing.F) {
	plain, err := os.ReadFile("testdata/plain.pt")
	if err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.pt")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if pkl := dataPickle(b); pkl != nil {
			f.Add(pkl)
		}
	}
	f.Fuzz(func(t *testing.T, pkl []byte) {
		data := replacePickle(t, plain, pkl)
		sd, err := Parse(data)
		if err != nil {
			return
		}
		checkpointtest.CheckShapes(t, sd)
	})
}
