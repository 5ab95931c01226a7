package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/tensor"
)

func init() {
	registerBench(benchTarget{
		name:    "alpha",
		summary: "unsupervised patch scores (N images x M patches x D) vs a PyTorch torch.cdist loop",
		run:     runBenchAlpha,
	})
}

// benchAlphaPy is the straightforward PyTorch CPU loop the issue compares
// against: for each image i, torch.cdist against every other image j, the
// minimum over j's patches, the mean over j. It reads Z (raw little-endian
// float32, N x M x D) and times only the loop over the query images given;
// it writes their score rows (raw float32, len(rows) x M) and prints
// {"seconds": wall, "cpu": process CPU seconds, "pairs": ..., "torch":
// version} on stdout.
//
// argv: zpath N M D threads rows(comma-separated) outpath
const benchAlphaPy = `
import json, sys, time
import numpy as np
import torch

zpath, N, M, D, threads, rows, outpath = sys.argv[1:8]
N, M, D, threads = int(N), int(M), int(D), int(threads)
rows = [int(r) for r in rows.split(",")]
torch.set_num_threads(threads)
Z = torch.from_numpy(np.fromfile(zpath, dtype="<f4").reshape(N, M, D))
out = torch.zeros(len(rows), M)
pairs = 0
with torch.no_grad():
    t0, c0 = time.perf_counter(), time.process_time()
    for k, i in enumerate(rows):
        acc = torch.zeros(M)
        for j in range(N):
            if j == i:
                continue
            acc += torch.cdist(Z[i], Z[j]).min(dim=1).values
            pairs += 1
        out[k] = acc / (N - 1)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
out.numpy().astype("<f4").tofile(outpath)
print(json.dumps({"seconds": seconds, "cpu": cpu, "pairs": pairs, "torch": torch.__version__}))
`

func runBenchAlpha(args []string) error {
	fs := newFlags("bench alpha", "[flags]")
	n := fs.Int("n", 100, "number of images N")
	m := fs.Int("m", 784, "patches per image M (784 = 28x28)")
	d := fs.Int("d", 1024, "embedding dimension D")
	seed := fs.Uint64("seed", 1, "seed of the random Z and of the PyTorch sample")
	strategy := fs.String("strategy", "symmetric", "our pair strategy: symmetric or fused (see package alpha)")
	workers := fs.Int("workers", 0, "our pair workers (0 = GOMAXPROCS)")
	sample := fs.Int("pairs-sample", 100, "time PyTorch on about this many image pairs, taken as whole query images (each against all N-1 others), and extrapolate to all N(N-1) pairs; 0 = all pairs")
	python := pythonFlag(fs)
	threads := fs.Int("torch-threads", 2, "torch.set_num_threads for the reference loop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkBounds(bound{"--n", *n, 2, 10000}, bound{"--m", *m, 1, pipeline.MaxPatches}, bound{"--d", *d, 1, pipeline.MaxDim},
		bound{"--workers", *workers, 0, pipeline.MaxWorkers}); err != nil {
		return err
	}
	var st alpha.Strategy
	switch *strategy {
	case "symmetric":
		st = alpha.Symmetric
	case "fused":
		st = alpha.Fused
	default:
		return fmt.Errorf("unknown --strategy %q (symmetric or fused)", *strategy)
	}
	N, M, D := *n, *m, *d
	pairs := N * (N - 1)
	fmt.Printf("bench alpha: N=%d images, M=%d patches, D=%d; %d ordered image pairs = %.3g TFLOP as distance GEMMs; GOMAXPROCS=%d\n",
		N, M, D, pairs, 2*float64(M)*float64(M)*float64(D)*float64(pairs)/1e12, runtime.GOMAXPROCS(0))

	r := rand.New(rand.NewPCG(*seed, 0))
	z := make([]*tensor.Tensor, N)
	for i := range z {
		z[i] = tensor.New(M, D)
		for k := range z[i].Data {
			z[i].Data[k] = float32(r.NormFloat64())
		}
	}

	t0, c0 := time.Now(), cpuSeconds()
	s, err := alpha.Unsupervised(z, alpha.Options{Strategy: st, Workers: *workers})
	if err != nil {
		return err
	}
	goTime, goCPU := time.Since(t0), cpuSeconds()-c0
	fmt.Printf("anomclust alpha.Unsupervised (%s): %.2f s wall, %.2f s CPU (%.0f GFLOP/s wall, counting every ordered pair)\n",
		*strategy, goTime.Seconds(), goCPU, 2*float64(M)*float64(M)*float64(D)*float64(pairs)/goTime.Seconds()/1e9)

	if *python == "" {
		fmt.Println("PyTorch: skipped (--python \"\")")
		return nil
	}
	if err := exec.Command(*python, "-c", "import torch").Run(); err != nil {
		fmt.Printf("PyTorch: skipped (%s cannot import torch: %v)\n", *python, err)
		return nil
	}

	// Query images for PyTorch: whole rows, so that their scores can be
	// compared with ours, not just timed.
	q := N
	if *sample > 0 {
		q = min(N, (*sample+N-2)/(N-1))
	}
	rows := r.Perm(N)[:q]
	slices.Sort(rows)

	dir, err := os.MkdirTemp("", "anomclust-bench-alpha-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	zpath, outpath, pypath := filepath.Join(dir, "z.f32"), filepath.Join(dir, "s.f32"), filepath.Join(dir, "bench_alpha.py")
	if err := writeF32(zpath, z); err != nil {
		return err
	}
	if err := os.WriteFile(pypath, []byte(benchAlphaPy), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", pypath, err)
	}
	rowArg := make([]string, len(rows))
	for k, i := range rows {
		rowArg[k] = strconv.Itoa(i)
	}
	cmd := exec.Command(*python, pypath, zpath, strconv.Itoa(N), strconv.Itoa(M), strconv.Itoa(D),
		strconv.Itoa(*threads), strings.Join(rowArg, ","), outpath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	fmt.Printf("PyTorch: running the torch.cdist loop on %d query images x %d others = %d pairs...\n", q, N-1, q*(N-1))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("PyTorch reference (%s): %w\n%s", *python, err, stderr.String())
	}
	var res struct {
		Seconds float64 `json:"seconds"`
		CPU     float64 `json:"cpu"`
		Pairs   int     `json:"pairs"`
		Torch   string  `json:"torch"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return fmt.Errorf("PyTorch reference output %q: %w", stdout.String(), err)
	}
	scale := float64(pairs) / float64(res.Pairs)
	torchTime, torchCPU := res.Seconds*scale, res.CPU*scale
	if res.Pairs != pairs {
		fmt.Printf("PyTorch %s (torch.cdist loop, %d threads): %.2f s wall, %.2f s CPU measured on %d of %d pairs -> %.1f s wall, %.1f s CPU EXTRAPOLATED to all pairs\n",
			res.Torch, *threads, res.Seconds, res.CPU, res.Pairs, pairs, torchTime, torchCPU)
	} else {
		fmt.Printf("PyTorch %s (torch.cdist loop, %d threads): %.2f s wall, %.2f s CPU (all pairs)\n", res.Torch, *threads, torchTime, torchCPU)
	}
	// The machine is shared: wall time depends on what else runs at that
	// moment, so the CPU-time ratio is printed too.
	fmt.Printf("speed-up: %.1fx wall, %.1fx CPU time (PyTorch / anomclust)\n", torchTime/goTime.Seconds(), torchCPU/goCPU)

	ts, err := readF32(outpath, q*M)
	if err != nil {
		return err
	}
	var maxDiff, maxS float64
	for k, i := range rows {
		for mm, v := range s.Row(i) {
			maxDiff = max(maxDiff, math.Abs(v-float64(ts[k*M+mm])))
			maxS = max(maxS, math.Abs(v))
		}
	}
	fmt.Printf("check: max |s_anomclust - s_torch| = %.3g over %d x %d scores (max |s| = %.3g)\n", maxDiff, q, M, maxS)
	// Both sides use the GEMM form of the distance in float32; 1e-4
	// relative is far above their rounding and far below any real bug.
	if maxDiff > 1e-4*max(maxS, 1) {
		return fmt.Errorf("scores disagree with PyTorch: max difference %.3g", maxDiff)
	}
	return nil
}

// writeF32 writes the matrices one after the other as raw little-endian
// float32.
func writeF32(path string, z []*tensor.Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b [4]byte
	for _, t := range z {
		for _, v := range t.Data {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			w.Write(b[:])
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readF32 reads n raw little-endian float32 values.
func readF32(path string, n int) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 4*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d float32 values", path, len(b), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}
