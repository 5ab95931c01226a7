package bench

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/resnet"
	"github.com/anomclust/anomclust/backbone/vit"
	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/internal/fmapeak"
	"github.com/anomclust/anomclust/tensor"
)

// BackboneConfig is one Backbone measurement.
type BackboneConfig struct {
	Name   string   // zoo backbone name
	Layers []string // layers to extract; nil = the backbone's default layers
	Size   int      // input height and width, pixels
	Batch  int      // images per forward pass
	Images int      // images timed per round (after one warm-up batch)
	Rounds int      // Go/PyTorch alternations; medians are reported
	Python string   // interpreter with torch; "" skips PyTorch
	// Threads is PyTorch's thread count (Go uses GOMAXPROCS).
	Threads int
}

// Backbone times batch feature extraction of c.Name with random weights of
// the full-size architecture (no download needed), then the same model and
// layers in PyTorch (py/bench_backbone.py) when c.Python has torch,
// alternating c.Rounds times, and writes the rates, their share of the
// measured FMA peak, the medians and their ratio to w.
func Backbone(w io.Writer, c BackboneConfig) error {
	name, layerList := c.Name, c.Layers
	arch, err := zoo.Lookup(name)
	if err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if len(layerList) == 0 {
		layerList = arch.DefaultLayers
	}
	sd, err := zoo.RandomWeights(name, 1)
	if err != nil {
		return err
	}
	bb, err := zoo.New(name, sd, layerList...)
	if err != nil {
		return err
	}
	sd = nil
	rng := rand.New(rand.NewPCG(1, 2))
	imgs := make([]*tensor.Tensor, c.Batch)
	for i := range imgs {
		imgs[i] = tensor.New(c.Size, c.Size, 3)
		for j := range imgs[i].Data {
			imgs[i].Data[j] = float32(rng.NormFloat64())
		}
	}
	runtime.GC()
	// Restart the peak-RSS count (Linux clear_refs "5") so that it shows
	// what the forward passes need, not the random state dict, which is
	// garbage by now.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	fmt.Fprintf(w, "model built, RSS %s\n", rss("VmRSS:"))
	fmt.Fprintf(w, "backbone %s, layers %s, %d px, batch %d, %d images, GOMAXPROCS %d, random weights\n",
		name, strings.Join(layerList, ","), c.Size, c.Batch, c.Images, runtime.GOMAXPROCS(0))
	var cost backbone.Cost
	if cs, ok := bb.(backbone.Coster); ok {
		if cost, err = cs.Cost(c.Size, c.Size, layerList); err != nil {
			return err
		}
		fmt.Fprintf(w, "arithmetic per image: %.2f GFLOP as PyTorch computes it, %.2f GFLOP as executed here\n",
			cost.Reference/1e9, cost.Executed/1e9)
	}
	if _, err := bb.Forward(imgs, layerList); err != nil { // warm-up
		return err
	}
	// The FMA peak is measured before every round; the best is reported
	// (a hardware constant: a disturbed measurement can only be lower).
	peaks := map[int]fmapeak.Result{}
	measurePeak := func(threads int) {
		p := fmapeak.Measure(threads, 200*time.Millisecond)
		if p.GFLOPS > peaks[threads].GFLOPS {
			peaks[threads] = p
		}
	}
	// share describes a rate of images/s doing flops per image as GFLOP/s
	// and as a share of the FMA peak of threads threads.
	share := func(rate, flops float64, threads int) string {
		if flops == 0 {
			return ""
		}
		g := rate * flops / 1e9
		return fmt.Sprintf(" = %6.1f GFLOP/s (%3.0f%% of FMA peak)", g, 100*g/peaks[threads].GFLOPS)
	}
	goThreads := runtime.GOMAXPROCS(0)
	var goRates, torchRates []float64
	torchOK := c.Python != ""
	for r := 0; r < max(c.Rounds, 1); r++ {
		measurePeak(goThreads)
		if torchOK && c.Threads != goThreads {
			measurePeak(c.Threads)
		}
		start := time.Now()
		done := 0
		for done < c.Images {
			k := min(c.Batch, c.Images-done)
			if _, err := bb.Forward(imgs[:k], layerList); err != nil {
				return err
			}
			done += k
		}
		goRate := float64(done) / time.Since(start).Seconds()
		goRates = append(goRates, goRate)
		fmt.Fprintf(w, "round %d  go:      %7.2f images/s%s   (peak RSS %s)\n", r+1, goRate, share(goRate, cost.Executed, goThreads), rss("VmHWM:"))
		if !torchOK {
			continue
		}
		torchRate, err := torchBackboneRate(c.Python, name, layerList, c.Size, c.Batch, c.Images, c.Threads)
		if err != nil {
			fmt.Fprintf(w, "pytorch: not measured (%v)\n", err)
			torchOK = false
			continue
		}
		torchRates = append(torchRates, torchRate)
		fmt.Fprintf(w, "round %d  pytorch: %7.2f images/s%s   (torch %d threads)   ratio %.2fx\n",
			r+1, torchRate, share(torchRate, cost.Reference, c.Threads), c.Threads, goRate/torchRate)
	}
	p := peaks[goThreads]
	fmt.Fprintf(w, "FMA peak: %.1f GFLOP/s (%s loop on %d threads, best of %d)\n", p.GFLOPS, p.ISA, p.Threads, max(c.Rounds, 1))
	goMed := median(goRates)
	fmt.Fprintf(w, "median   go:      %7.2f images/s%s\n", goMed, share(goMed, cost.Executed, goThreads))
	if len(torchRates) > 0 {
		tMed := median(torchRates)
		fmt.Fprintf(w, "median   pytorch: %7.2f images/s%s\n", tMed, share(tMed, cost.Reference, c.Threads))
		fmt.Fprintf(w, "ratio go/pytorch (medians): %.2fx\n", goMed/tMed)
		if cost.Executed > 0 {
			// What a target ratio asks of this CPU: the Go arithmetic of
			// twice PyTorch's rate as a share of the FMA peak.
			g := 2 * tMed * cost.Executed / 1e9
			fmt.Fprintf(w, "2x pytorch = %.2f images/s would need %.1f GFLOP/s of Go arithmetic (%.0f%% of FMA peak)\n",
				2*tMed, g, 100*g/p.GFLOPS)
		}
	}
	return nil
}

// rss returns a field of /proc/self/status (VmRSS: resident set, VmHWM:
// its peak), or "?" off Linux.
func rss(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// torchBackboneRate runs py/bench_backbone.py and parses its images/s.
func torchBackboneRate(python, name string, layers []string, size, batch, images, threads int) (float64, error) {
	if _, err := exec.LookPath(python); err != nil {
		return 0, fmt.Errorf("--python %s: %w", python, err)
	}
	a, _ := zoo.Lookup(name)
	spec := ""
	switch c := a.Entry.Arch.(type) {
	case resnet.Config:
		spec = "resnet " + name
	case vit.Config:
		spec = fmt.Sprintf("vit %d %d %d %d %d %d %t", c.Patch, c.Dim, c.Depth, c.Heads, c.ImgSize, c.Registers, c.LayerScale)
	default:
		return 0, fmt.Errorf("no PyTorch benchmark for %s", a.Entry.Arch)
	}
	cmd := exec.Command(python, "-c", backbonePy, spec, strings.Join(layers, ","),
		strconv.Itoa(size), strconv.Itoa(batch), strconv.Itoa(images), strconv.Itoa(threads))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return 0, fmt.Errorf("python: %v: %s", err, msg)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "IMAGES_PER_S "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("python printed no rate: %q", out)
}
