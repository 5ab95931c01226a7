//go:build unix

package alpha

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCoresetScale times Coreset and CoresetBlocked at 10% on synthetic
// banks of IMAGES x 784 patches x 1024 dimensions. Long: set
// ANOMCLUST_CORESET_SCALE to the comma-separated image counts (e.g.
// "70,300"); ANOMCLUST_CORESET_SCALE_EXACT_MAX (default 100) caps the
// image counts the sequential search is also timed at.
func TestCoresetScale(t *testing.T) {
	env := os.Getenv("ANOMCLUST_CORESET_SCALE")
	if env == "" {
		t.Skip("set ANOMCLUST_CORESET_SCALE=70,300 (images of 784 x 1024 patches) to time the coreset searches")
	}
	exactMax := 100
	if v, err := strconv.Atoi(os.Getenv("ANOMCLUST_CORESET_SCALE_EXACT_MAX")); err == nil {
		exactMax = v
	}
	const m, d = 784, 1024
	for _, f := range strings.Split(env, ",") {
		imgs, err := strconv.Atoi(f)
		if err != nil || imgs < 1 {
			t.Fatalf("ANOMCLUST_CORESET_SCALE: %q is not an image count", f)
		}
		n := imgs * m
		// Patch-like rows: a shared low-rank part plus noise.
		r := rand.New(rand.NewPCG(uint64(imgs), 2))
		const rank = 16
		basis := make([]float32, rank*d)
		for i := range basis {
			basis[i] = float32(r.NormFloat64())
		}
		x := make([]float32, n*d)
		for i := range n {
			var c [rank]float32
			for j := range c {
				c[j] = float32(r.NormFloat64())
			}
			row := x[i*d : (i+1)*d]
			for j := range row {
				v := float32(r.NormFloat64()) * 0.5
				for q := range rank {
					v += c[q] * basis[q*d+j]
				}
				row[j] = v
			}
		}
		t0 := time.Now()
		proj, k, starts, num, err := coresetInput(x, n, d, 0.1, 1)
		if err != nil {
			t.Fatal(err)
		}
		tp := time.Since(t0)
		t0, c0 := time.Now(), cpuTime()
		fast := greedyCoresetBlocked(proj, n, k, starts, num, 2, blockCandidates)
		tf, cf := time.Since(t0), cpuTime()-c0
		line := "images " + f + ": " + strconv.Itoa(n) + " rows -> " + strconv.Itoa(num) + "; projection " + tp.Round(time.Millisecond).String() +
			"; blocked greedy " + tf.Round(time.Millisecond).String() + " (CPU " + cf.Round(time.Millisecond).String() + ")"
		if imgs <= exactMax {
			t0, c0 = time.Now(), cpuTime()
			exact := greedyCoreset(proj, n, k, starts, num, 2)
			te, ce := time.Since(t0), cpuTime()-c0
			same := 0
			for i := range exact {
				if exact[i] != fast[i] {
					break
				}
				same++
			}
			es, fs := slices.Clone(exact), slices.Clone(fast)
			slices.Sort(es)
			slices.Sort(fs)
			common := 0
			for i, j := 0, 0; i < len(es) && j < len(fs); {
				switch {
				case es[i] == fs[j]:
					common++
					i++
					j++
				case es[i] < fs[j]:
					i++
				default:
					j++
				}
			}
			line += "; sequential greedy " + te.Round(time.Millisecond).String() + " (CPU " + ce.Round(time.Millisecond).String() + "; wall " +
				strconv.FormatFloat(te.Seconds()/tf.Seconds(), 'f', 1, 64) + "x, CPU " + strconv.FormatFloat(ce.Seconds()/cf.Seconds(), 'f', 1, 64) + "x); same first " + strconv.Itoa(same) + " selections, " + strconv.Itoa(common) + " rows in common"
		}
		t.Log(line)
	}
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
