package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/resnet"
	"github.com/anomclust/anomclust/backbone/vit"
	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/internal/fmapeak"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/tensor"
)

func init() {
	registerBench(benchTarget{name: "backbone", summary: "images/s of a backbone's feature extraction, vs PyTorch", run: runBenchBackbone})
}

// runBenchBackbone times batch feature extraction with random weights of the
// full-size architecture (no download needed), then the same model and
// layers in PyTorch (--python, torch.set_num_threads(threads)) when
// torch is installed, and prints both rates and their ratio.
func runBenchBackbone(args []string) error {
	fs := newFlags("bench backbone", "NAME [--batch 8] [--images 32] [--layers L1,L2] [--size 224] [--rounds 1] [--no-torch]")
	batch := fs.Int("batch", 8, "images per forward pass")
	images := fs.Int("images", 32, "images timed (after one warm-up batch)")
	layers := fs.String("layers", "", "layers to extract; default: the deepest of the method's default layers for this backbone, e.g. layer3 or blocks.11")
	size := fs.Int("size", 224, "input height and width, pixels")
	noTorch := fs.Bool("no-torch", false, "skip the PyTorch measurement (as --python \"\")")
	python := pythonFlag(fs)
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "PyTorch threads (Go uses GOMAXPROCS)")
	rounds := fs.Int("rounds", 1, "alternate Go and PyTorch measurements this many times and report medians (the machine is shared: alternating evens out load changes)")
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) == 0 {
			return usageError(fs, "a backbone NAME is required")
		}
		fs.Usage()
		return flag.ErrHelp
	}
	if strings.HasPrefix(args[0], "-") {
		return usageError(fs, "the backbone NAME comes first, then the flags")
	}
	name := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := checkBounds(bound{"--batch", *batch, 1, pipeline.MaxBatch}, bound{"--images", *images, 1, 100000},
		bound{"--size", *size, 32, pipeline.MaxImageSize}, bound{"--rounds", *rounds, 1, 100}, bound{"--threads", *threads, 1, 1024}); err != nil {
		return err
	}
	arch, err := zoo.Lookup(name)
	if err != nil {
		return err
	}
	layerList := splitList(*layers)
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
	imgs := make([]*tensor.Tensor, *batch)
	for i := range imgs {
		imgs[i] = tensor.New(*size, *size, 3)
		for j := range imgs[i].Data {
			imgs[i].Data[j] = float32(rng.NormFloat64())
		}
	}
	runtime.GC()
	// Restart the peak-RSS count (Linux clear_refs "5") so that it shows
	// what the forward passes need, not the random state dict, which is
	// garbage by now.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	fmt.Printf("model built, RSS %s\n", rss("VmRSS:"))
	fmt.Printf("backbone %s, layers %s, %d px, batch %d, %d images, GOMAXPROCS %d, random weights\n",
		name, strings.Join(layerList, ","), *size, *batch, *images, runtime.GOMAXPROCS(0))
	var cost backbone.Cost
	if c, ok := bb.(backbone.Coster); ok {
		if cost, err = c.Cost(*size, *size, layerList); err != nil {
			return err
		}
		fmt.Printf("arithmetic per image: %.2f GFLOP as PyTorch computes it, %.2f GFLOP as executed here\n",
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
	torchOK := !*noTorch && *python != ""
	for r := 0; r < max(*rounds, 1); r++ {
		measurePeak(goThreads)
		if torchOK && *threads != goThreads {
			measurePeak(*threads)
		}
		start := time.Now()
		done := 0
		for done < *images {
			k := min(*batch, *images-done)
			if _, err := bb.Forward(imgs[:k], layerList); err != nil {
				return err
			}
			done += k
		}
		goRate := float64(done) / time.Since(start).Seconds()
		goRates = append(goRates, goRate)
		fmt.Printf("round %d  go:      %7.2f images/s%s   (peak RSS %s)\n", r+1, goRate, share(goRate, cost.Executed, goThreads), rss("VmHWM:"))
		if !torchOK {
			continue
		}
		torchRate, err := torchBackboneRate(*python, name, layerList, *size, *batch, *images, *threads)
		if err != nil {
			fmt.Printf("pytorch: not measured (%v)\n", err)
			torchOK = false
			continue
		}
		torchRates = append(torchRates, torchRate)
		fmt.Printf("round %d  pytorch: %7.2f images/s%s   (torch %d threads)   ratio %.2fx\n",
			r+1, torchRate, share(torchRate, cost.Reference, *threads), *threads, goRate/torchRate)
	}
	p := peaks[goThreads]
	fmt.Printf("FMA peak: %.1f GFLOP/s (%s loop on %d threads, best of %d)\n", p.GFLOPS, p.ISA, p.Threads, max(*rounds, 1))
	goMed := medianRate(goRates)
	fmt.Printf("median   go:      %7.2f images/s%s\n", goMed, share(goMed, cost.Executed, goThreads))
	if len(torchRates) > 0 {
		tMed := medianRate(torchRates)
		fmt.Printf("median   pytorch: %7.2f images/s%s\n", tMed, share(tMed, cost.Reference, *threads))
		fmt.Printf("ratio go/pytorch (medians): %.2fx\n", goMed/tMed)
		if cost.Executed > 0 {
			// What a target ratio asks of this CPU: the Go arithmetic of
			// twice PyTorch's rate as a share of the FMA peak.
			g := 2 * tMed * cost.Executed / 1e9
			fmt.Printf("2x pytorch = %.2f images/s would need %.1f GFLOP/s of Go arithmetic (%.0f%% of FMA peak)\n",
				2*tMed, g, 100*g/p.GFLOPS)
		}
	}
	return nil
}

// medianRate is the median of xs (xs not empty).
func medianRate(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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

// torchBackboneRate runs torchBenchScript and parses its images/s.
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
	cmd := exec.Command(python, "-c", torchBenchScript, spec, strings.Join(layers, ","),
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

// torchBenchScript builds the same architecture in PyTorch with random
// weights (torchvision's ResNets; a DINO/DINOv2 ViT written as DINO's
// vision_transformer.py), runs it in eval mode under torch.no_grad up to the
// deepest requested layer, and prints IMAGES_PER_S.
// argv: spec layers size batch images threads.
const torchBenchScript = `
import sys, time, math
import torch, torch.nn as nn
spec, layers, size, batch, images, threads = sys.argv[1].split(), sys.argv[2].split(","), *map(int, sys.argv[3:7])
torch.set_num_threads(threads)
torch.manual_seed(0)
if spec[0] == "resnet":
    import torchvision
    m = getattr(torchvision.models, spec[1])()
    order = ["maxpool", "layer1", "layer2", "layer3", "layer4"]
    last = max(order.index(l) for l in layers)
    def run(x):
        out = {}
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        for i, n in enumerate(order[1:last + 1], 1):
            x = getattr(m, n)(x)
            if n in layers: out[n] = x
        return out
else:
    patch, dim, depth, heads, img, regs = map(int, spec[1:7])
    ls = spec[7] == "true"
    class Attn(nn.Module):
        def __init__(s):
            super().__init__(); s.qkv = nn.Linear(dim, 3 * dim); s.proj = nn.Linear(dim, dim)
        def forward(s, x):
            B, N, C = x.shape
            qkv = s.qkv(x).reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            a = ((q @ k.transpose(-2, -1)) * (C // heads) ** -0.5).softmax(dim=-1)
            return s.proj((a @ v).transpose(1, 2).reshape(B, N, C))
    class Block(nn.Module):
        def __init__(s):
            super().__init__()
            s.norm1 = nn.LayerNorm(dim, eps=1e-6); s.attn = Attn(); s.norm2 = nn.LayerNorm(dim, eps=1e-6)
            s.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
            s.g1 = nn.Parameter(torch.ones(dim)) if ls else None
            s.g2 = nn.Parameter(torch.ones(dim)) if ls else None
        def forward(s, x):
            y = s.attn(s.norm1(x)); x = x + (y * s.g1 if ls else y)
            y = s.mlp(s.norm2(x)); return x + (y * s.g2 if ls else y)
    M = img // patch
    proj = nn.Conv2d(3, dim, patch, patch)
    cls = torch.randn(1, 1, dim); pos = torch.randn(1, 1 + M * M, dim); reg = torch.randn(1, regs, dim)
    blocks = nn.ModuleList([Block() for _ in range(depth)]); norm = nn.LayerNorm(dim, eps=1e-6)
    idx = [depth if l == "norm" else int(l.split(".")[1]) for l in layers]
    last = max(idx)
    def run(x):
        B, _, h, w = x.shape
        t = proj(x).flatten(2).transpose(1, 2)
        t = torch.cat((cls.expand(B, -1, -1), t), dim=1)
        gh, gw = h // patch, w // patch
        if gh * gw != M * M:
            pp = nn.functional.interpolate(pos[:, 1:].reshape(1, M, M, dim).permute(0, 3, 1, 2),
                                           scale_factor=((gh + 0.1) / M, (gw + 0.1) / M), mode="bicubic")
            p = torch.cat((pos[:, :1], pp.permute(0, 2, 3, 1).reshape(1, -1, dim)), dim=1)
        else:
            p = pos
        t = t + p
        if regs: t = torch.cat((t[:, :1], reg.expand(B, -1, -1), t[:, 1:]), dim=1)
        out = {}
        for i, b in enumerate(blocks[:min(last + 1, depth)]):
            t = b(t)
            if i in idx: out["blocks.%d" % i] = t[:, 1 + regs:]
        if last == depth: out["norm"] = norm(t)[:, 1 + regs:]
        return out
    for mod in (proj, blocks, norm): mod.eval()
if spec[0] == "resnet": m.eval()
x = torch.randn(batch, 3, size, size)
with torch.no_grad():
    run(x)
    t0 = time.time(); done = 0
    while done < images:
        k = min(batch, images - done); run(x[:k]); done += k
    print("IMAGES_PER_S %.4f" % (done / (time.time() - t0)))
`
