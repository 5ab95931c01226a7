package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
)

func init() {
	registerBench(benchTarget{
		name:    "scale",
		summary: "time and peak RSS of a whole run against the number of images N (unsupervised, defaults)",
		run:     runBenchScale,
	})
}

func runBenchScale(args []string) error {
	fs := newFlags("bench scale", "[flags] [-- extra run flags]")
	data := fs.String("data", filepath.Join("..", "shared", "data", "neu"), "class-per-folder data set (or an MVTec category: its test/<type> folders) the N images are taken from, round-robin over the classes; \"synth\" draws a synthetic set big enough")
	sizes := fs.String("sizes", "100,300,1000,2000", "comma-separated N; sizes above the images available are skipped with a note")
	work := fs.String("work", "", "work folder (default: a temporary folder, removed at the end)")
	warm := fs.Bool("warm", false, "share one feature cache over the sizes (later sizes reuse the earlier sizes' embeddings); default: a fresh cache per size, so each time includes the features")
	if err := fs.Parse(args); err != nil {
		return err
	}
	extra := fs.Args() // passed to every run
	var ns []int
	for _, s := range splitList(*sizes) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			return fmt.Errorf("--sizes %q: %q is not a number of images >= 2", *sizes, s)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	dir := *work
	if dir == "" {
		d, err := os.MkdirTemp("", "anomclust-bench-scale-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := *data
	if src == "synth" {
		perType := (ns[len(ns)-1] + 4) / 5 // weave: 4 defect types + good
		src = filepath.Join(dir, "synth")
		fmt.Printf("drawing a synthetic set (%d test images per type) in %s\n", perType, src)
		if _, err := synth.Generate(context.Background(), src, synth.Options{Categories: 1, Train: 2, PerType: perType, Size: 224, Seed: 1}); err != nil {
			return err
		}
		src = filepath.Join(src, synth.CategoryNames(1)[0])
	}
	classes, err := benchClasses(src)
	if err != nil {
		return err
	}
	total := 0
	for _, c := range classes {
		total += len(c.files)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("bench scale: %s (%d classes, %d images); GOMAXPROCS=%d; %s; load average %s\n",
		src, len(classes), total, runtime.GOMAXPROCS(0), cpuName(), loadAverage())
	fmt.Println("each N: one `anomclust run --mode unsupervised` process (defaults unless given after --), its wall time and peak RSS (getrusage of the child)")
	fmt.Printf("%6s %9s %9s %9s %9s %9s %10s %9s %11s\n", "N", "wall s", "CPU s", "features", "scores", "rest", "peak RSS", "ms/image", "time/N vs 1st")
	var first float64
	var firstN int
	for _, n := range ns {
		if n > total {
			fmt.Printf("%6d skipped: %s has %d images\n", n, src, total)
			continue
		}
		set := filepath.Join(dir, fmt.Sprintf("n%d", n))
		if err := benchSubset(classes, n, set); err != nil {
			return err
		}
		cache := filepath.Join(dir, "cache")
		if !*warm {
			cache = filepath.Join(dir, fmt.Sprintf("cache%d", n))
		}
		out := filepath.Join(dir, fmt.Sprintf("out%d", n))
		cmdArgs := append([]string{"run", "--data", set, "--out", out, "--cache", cache, "--cache-max", "0", "--mode", "unsupervised"}, extra...)
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("run%d.log", n)))
		if err != nil {
			return err
		}
		cmd := exec.Command(self, cmdArgs...)
		cmd.Stdout, cmd.Stderr = logf, logf
		t0 := time.Now()
		err = cmd.Run()
		wall := time.Since(t0).Seconds()
		logf.Close()
		if err != nil {
			b, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("N=%d: %w\n%s", n, err, tail(string(b), 2000))
		}
		rss := childMaxRSS(cmd.ProcessState)
		run, err := rundir.ReadRun(out)
		if err != nil {
			return err
		}
		feat, sc := run.Stages["features"], run.Stages["scores"]
		perN := wall / float64(n)
		if first == 0 {
			first, firstN = perN, n
		}
		cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		fmt.Printf("%6d %9.1f %9.1f %9.1f %9.1f %9.1f %10s %9.1f %10.2fx\n", n, wall, cpu, feat, sc, wall-feat-sc,
			fmtRSS(rss), 1000*perN, perN/first)
		if !*warm {
			os.RemoveAll(cache)
		}
	}
	if firstN > 0 {
		fmt.Printf("time/N vs 1st: wall time per image relative to N=%d (1.00x everywhere = linear growth); CPU s is the child's user+system time, less sensitive to a shared machine than wall time\n", firstN)
	}
	return nil
}

// benchClass is one class folder's image files, sorted.
type benchClass struct {
	name  string
	files []string
}

// benchClasses lists the classes of a class-per-folder set, or of an MVTec
// category's test folder.
func benchClasses(dir string) ([]benchClass, error) {
	if st, err := os.Stat(filepath.Join(dir, "test")); err == nil && st.IsDir() {
		dir = filepath.Join(dir, "test")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	var out []benchClass
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		fs, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		c := benchClass{name: e.Name()}
		for _, f := range fs {
			ext := strings.ToLower(filepath.Ext(f.Name()))
			if !f.IsDir() && slices.Contains([]string{".png", ".jpg", ".jpeg", ".bmp"}, ext) {
				c.files = append(c.files, filepath.Join(dir, e.Name(), f.Name()))
			}
		}
		if len(c.files) > 0 {
			out = append(out, c)
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("--data %s: want a class-per-folder set with at least 2 classes of images", dir)
	}
	return out, nil
}

// benchSubset links n images, round-robin over the classes, into a new
// class-per-folder set at dir (the first n of a bigger subset: the sizes
// nest).
func benchSubset(classes []benchClass, n int, dir string) error {
	os.RemoveAll(dir)
	k := 0
	for round := 0; k < n; round++ {
		for _, c := range classes {
			if round >= len(c.files) || k >= n {
				continue
			}
			d := filepath.Join(dir, c.name)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			f := c.files[round]
			abs, _ := filepath.Abs(f)
			if err := os.Symlink(abs, filepath.Join(d, filepath.Base(f))); err != nil {
				return err
			}
			k++
		}
	}
	return nil
}

func fmtRSS(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

// cpuName is the model name of /proc/cpuinfo ("" elsewhere).
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// loadAverage is the first field of /proc/loadavg ("n/a" elsewhere).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "n/a"
	}
	return f[0]
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
