package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
)

// ScaleConfig is one Scale measurement.
type ScaleConfig struct {
	// Data is a class-per-folder set (or an MVTec category: its
	// test/<type> folders) the N images are taken from, round-robin over
	// the classes; "synth" draws a synthetic set big enough.
	Data  string
	Sizes []int  // the N measured (>= 2 each); sizes above the images available are skipped with a note
	Work  string // work folder; "" = a temporary folder, removed at the end
	// Warm shares one feature cache over the sizes; otherwise each size
	// gets a fresh cache, so that its time includes the features.
	Warm  bool
	Extra []string // flags added to every `run`
	Exe   string   // the anomclust binary that runs each size
}

// Scale runs `Exe run --mode unsupervised` once per size on nested subsets
// of c.Data, each in its own process, and writes a table of its wall and
// CPU time, stage times, peak RSS and time per image relative to the first
// size to w.
func Scale(w io.Writer, c ScaleConfig) error {
	ns := slices.Sorted(slices.Values(c.Sizes))
	dir := c.Work
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
	src := c.Data
	if src == "synth" {
		if len(ns) == 0 {
			return fmt.Errorf("bench scale: no sizes to draw a synthetic set for")
		}
		perType := (ns[len(ns)-1] + 4) / 5 // weave: 4 defect types + good
		src = filepath.Join(dir, "synth")
		fmt.Fprintf(w, "drawing a synthetic set (%d test images per type) in %s\n", perType, src)
		if _, err := synth.Generate(context.Background(), src, synth.Options{Categories: 1, Train: 2, PerType: perType, Size: 224, Seed: 1}); err != nil {
			return err
		}
		src = filepath.Join(src, synth.CategoryNames(1)[0])
	}
	classes, err := scaleClasses(src)
	if err != nil {
		return err
	}
	total := 0
	for _, cl := range classes {
		total += len(cl.files)
	}
	fmt.Fprintf(w, "bench scale: %s (%d classes, %d images); GOMAXPROCS=%d; %s; load average %s\n",
		src, len(classes), total, runtime.GOMAXPROCS(0), cpuName(), loadAverage())
	fmt.Fprintln(w, "each N: one `anomclust run --mode unsupervised` process (defaults unless given after --), its wall time and peak RSS (getrusage of the child)")
	fmt.Fprintf(w, "%6s %9s %9s %9s %9s %9s %10s %9s %11s\n", "N", "wall s", "CPU s", "features", "scores", "rest", "peak RSS", "ms/image", "time/N vs 1st")
	var first float64
	var firstN int
	for _, n := range ns {
		if n > total {
			fmt.Fprintf(w, "%6d skipped: %s has %d images\n", n, src, total)
			continue
		}
		set := filepath.Join(dir, fmt.Sprintf("n%d", n))
		if err := scaleSubset(classes, n, set); err != nil {
			return err
		}
		cache := filepath.Join(dir, "cache")
		if !c.Warm {
			cache = filepath.Join(dir, fmt.Sprintf("cache%d", n))
		}
		out := filepath.Join(dir, fmt.Sprintf("out%d", n))
		cmdArgs := append([]string{"run", "--data", set, "--out", out, "--cache", cache, "--cache-max", "0", "--mode", "unsupervised"}, c.Extra...)
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("run%d.log", n)))
		if err != nil {
			return err
		}
		cmd := exec.Command(c.Exe, cmdArgs...)
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
		fmt.Fprintf(w, "%6d %9.1f %9.1f %9.1f %9.1f %9.1f %10s %9.1f %10.2fx\n", n, wall, cpu, feat, sc, wall-feat-sc,
			fmtRSS(rss), 1000*perN, perN/first)
		if !c.Warm {
			os.RemoveAll(cache)
		}
	}
	if firstN > 0 {
		fmt.Fprintf(w, "time/N vs 1st: wall time per image relative to N=%d (1.00x everywhere = linear growth); CPU s is the child's user+system time, less sensitive to a shared machine than wall time\n", firstN)
	}
	return nil
}

// scaleClass is one class folder's image files, sorted.
type scaleClass struct {
	name  string
	files []string
}

// scaleClasses lists the classes of a class-per-folder set, or of an MVTec
// category's test folder.
func scaleClasses(dir string) ([]scaleClass, error) {
	if st, err := os.Stat(filepath.Join(dir, "test")); err == nil && st.IsDir() {
		dir = filepath.Join(dir, "test")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	var out []scaleClass
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		fs, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		c := scaleClass{name: e.Name()}
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
func scaleSubset(classes []scaleClass, n int, dir string) error {
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
