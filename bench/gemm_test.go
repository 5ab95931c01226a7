package bench

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGEMMReport runs the GEMM bench on a small shape and checks what it
// reports: the CPU line, a rate row with the FMA loop's rate, and a share
// row whose percentages are the rates divided by that peak.
func TestGEMMReport(t *testing.T) {
	var out bytes.Buffer
	if err := GEMM(&out, GEMMConfig{Shapes: []string{"64x48x40"}, Threads: []string{"1"}, Reps: 2, Stat: "best", Clock: "wall"}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "CPU: ") || !strings.Contains(s, "GEMM kernel ") || !strings.Contains(s, "FMA peak, best") {
		t.Fatalf("report lacks the CPU, kernel or peak line:\n%s", s)
	}
	var rates, shares []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "64x48x40 ") {
			if strings.Contains(l, "%") {
				shares = strings.Fields(l)
			} else {
				rates = strings.Fields(l)
			}
		}
	}
	if len(rates) < 5 || len(shares) < 5 {
		t.Fatalf("no rate or share row:\n%s", s)
	}
	peak, err := strconv.ParseFloat(rates[len(rates)-1], 64)
	if err != nil || !(peak > 0) {
		t.Fatalf("peak column %q:\n%s", rates[len(rates)-1], s)
	}
	for i := 2; i < 5; i++ { // nn, nt, packed
		r, _ := strconv.ParseFloat(rates[i], 64)
		p, _ := strconv.ParseFloat(strings.TrimSuffix(shares[i], "%"), 64)
		// The table prints rates to 0.1 and shares to 1%: allow for both.
		want := 100 * r / peak
		tol := 0.5 + want*(0.05/r+0.05/peak) + 1e-9
		if !(p >= want-tol && p <= want+tol) {
			t.Errorf("share column %d = %v%%, want 100*%v/%v = %.0f%%\n%s", i, p, r, peak, want, s)
		}
	}
	if !regexp.MustCompile(`load average \S+ at start`).MatchString(s) {
		t.Errorf("no load average:\n%s", s)
	}
}

// TestSettle checks settle's rule on simulated clocks: it returns after
// the first 5 ms window in which the process used under 0.5 ms of CPU, and
// gives up after half a second of busy windows. (A real spinning goroutine
// gets too little CPU on a loaded machine for a reliable test.)
func TestSettle(t *testing.T) {
	for _, c := range []struct {
		busy    int // windows with 2 ms of CPU before the process idles
		windows int // windows settle must wait
	}{{0, 1}, {1, 2}, {7, 8}, {1000, 100}} {
		var cpu float64
		var clock time.Time
		w := 0
		settleWith(func() float64 { return cpu }, func(d time.Duration) {
			if w < c.busy {
				cpu += 2e-3
			}
			w++
			clock = clock.Add(d)
		}, func() time.Time { return clock })
		if w != c.windows {
			t.Errorf("%d busy windows: settle waited %d windows, want %d", c.busy, w, c.windows)
		}
	}
	t0 := time.Now()
	settle()
	if el := time.Since(t0); !(el < 600*time.Millisecond) {
		t.Errorf("settle took %v, more than its bound", el)
	}
}
