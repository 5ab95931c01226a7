package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/anomclust/anomclust/tensor"
)

// AlphaConfig is one Alpha measurement.
type AlphaConfig struct {
	N, M, D      int            // images, patches per image, embedding dimension
	Seed         uint64         // seed of the random Z and of the PyTorch sample
	Strategy     alpha.Strategy // our pair strategy
	StrategyName string         // its name, as printed
	Workers      int            // our pair workers (0 = GOMAXPROCS)
	// PairsSample times PyTorch on about this many image pairs, taken as
	// whole query images, and extrapolates to all N(N-1) pairs; 0 = all.
	PairsSample  int
	Python       string // interpreter with torch; "" skips the reference
	TorchThreads int    // torch.set_num_threads for the reference loop
}

// Alpha times alpha.Unsupervised on a random N x M x D problem, then the
// PyTorch torch.cdist loop (py/bench_alpha.py) on a sample of whole query
// images, and writes both times, their wall and CPU-time ratios and the
// largest score difference to w. It fails when the scores disagree with
// PyTorch by more than 1e-4 relative.
func Alpha(w io.Writer, c AlphaConfig) error {
	N, M, D := c.N, c.M, c.D
	pairs := N * (N - 1)
	fmt.Fprintf(w, "bench alpha: N=%d images, M=%d patches, D=%d; %d ordered image pairs = %.3g TFLOP as distance GEMMs; GOMAXPROCS=%d\n",
		N, M, D, pairs, 2*float64(M)*float64(M)*float64(D)*float64(pairs)/1e12, runtime.GOMAXPROCS(0))

	r := rand.New(rand.NewPCG(c.Seed, 0))
	z := make([]*tensor.Tensor, N)
	for i := range z {
		z[i] = tensor.New(M, D)
		for k := range z[i].Data {
			z[i].Data[k] = float32(r.NormFloat64())
		}
	}

	t0, c0 := time.Now(), cpuSeconds()
	s, err := alpha.Unsupervised(z, alpha.Options{Strategy: c.Strategy, Workers: c.Workers})
	if err != nil {
		return err
	}
	goTime, goCPU := time.Since(t0), cpuSeconds()-c0
	fmt.Fprintf(w, "anomclust alpha.Unsupervised (%s): %.2f s wall, %.2f s CPU (%.0f GFLOP/s wall, counting every ordered pair)\n",
		c.StrategyName, goTime.Seconds(), goCPU, 2*float64(M)*float64(M)*float64(D)*float64(pairs)/goTime.Seconds()/1e9)

	if c.Python == "" {
		fmt.Fprintln(w, "PyTorch: skipped (--python \"\")")
		return nil
	}
	if err := exec.Command(c.Python, "-c", "import torch").Run(); err != nil {
		fmt.Fprintf(w, "PyTorch: skipped (%s cannot import torch: %v)\n", c.Python, err)
		return nil
	}

	// Query images for PyTorch: whole rows, so that their scores can be
	// compared with ours, not just timed.
	q := N
	if c.PairsSample > 0 {
		q = min(N, (c.PairsSample+N-2)/(N-1))
	}
	rows := r.Perm(N)[:q]
	slices.Sort(rows)

	fmt.Fprintf(w, "PyTorch: running the torch.cdist loop on %d query images x %d others = %d pairs...\n", q, N-1, q*(N-1))
	res, ts, err := alphaTorch(c, z, rows)
	if err != nil {
		return err
	}
	scale := float64(pairs) / float64(res.Pairs)
	torchTime, torchCPU := res.Seconds*scale, res.CPU*scale
	if res.Pairs != pairs {
		fmt.Fprintf(w, "PyTorch %s (torch.cdist loop, %d threads): %.2f s wall, %.2f s CPU measured on %d of %d pairs -> %.1f s wall, %.1f s CPU EXTRAPOLATED to all pairs\n",
			res.Torch, c.TorchThreads, res.Seconds, res.CPU, res.Pairs, pairs, torchTime, torchCPU)
	} else {
		fmt.Fprintf(w, "PyTorch %s (torch.cdist loop, %d threads): %.2f s wall, %.2f s CPU (all pairs)\n", res.Torch, c.TorchThreads, torchTime, torchCPU)
	}
	// The machine is shared: wall time depends on what else runs at that
	// moment, so the CPU-time ratio is printed too.
	fmt.Fprintf(w, "speed-up: %.1fx wall, %.1fx CPU time (PyTorch / anomclust)\n", torchTime/goTime.Seconds(), torchCPU/goCPU)

	var maxDiff, maxS float64
	for k, i := range rows {
		for mm, v := range s.Row(i) {
			maxDiff = max(maxDiff, math.Abs(v-float64(ts[k*M+mm])))
			maxS = max(maxS, math.Abs(v))
		}
	}
	fmt.Fprintf(w, "check: max |s_anomclust - s_torch| = %.3g over %d x %d scores (max |s| = %.3g)\n", maxDiff, q, M, maxS)
	// Both sides use the GEMM form of the distance in float32; 1e-4
	// relative is far above their rounding and far below any real bug.
	if !(maxDiff <= 1e-4*max(maxS, 1)) {
		return fmt.Errorf("scores disagree with PyTorch: max difference %.3g", maxDiff)
	}
	return nil
}

// torchAlpha is what py/bench_alpha.py prints.
type torchAlpha struct {
	Seconds float64 `json:"seconds"`
	CPU     float64 `json:"cpu"`
	Pairs   int     `json:"pairs"`
	Torch   string  `json:"torch"`
}

// alphaTorch runs py/bench_alpha.py on z for the query images rows and
// returns its timing and its score rows (len(rows) x M).
func alphaTorch(c AlphaConfig, z []*tensor.Tensor, rows []int) (torchAlpha, []float32, error) {
	var res torchAlpha
	dir, err := os.MkdirTemp("", "anomclust-bench-alpha-")
	if err != nil {
		return res, nil, err
	}
	defer os.RemoveAll(dir)
	zpath, outpath, pypath := filepath.Join(dir, "z.f32"), filepath.Join(dir, "s.f32"), filepath.Join(dir, "bench_alpha.py")
	if err := writeF32(zpath, z); err != nil {
		return res, nil, err
	}
	if err := os.WriteFile(pypath, alphaPy, 0o644); err != nil {
		return res, nil, fmt.Errorf("write %s: %w", pypath, err)
	}
	rowArg := make([]string, len(rows))
	for k, i := range rows {
		rowArg[k] = strconv.Itoa(i)
	}
	cmd := exec.Command(c.Python, pypath, zpath, strconv.Itoa(c.N), strconv.Itoa(c.M), strconv.Itoa(c.D),
		strconv.Itoa(c.TorchThreads), strings.Join(rowArg, ","), outpath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return res, nil, fmt.Errorf("PyTorch reference (%s): %w\n%s", c.Python, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, nil, fmt.Errorf("PyTorch reference output %q: %w", stdout.String(), err)
	}
	ts, err := readF32(outpath, len(rows)*c.M)
	return res, ts, err
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
