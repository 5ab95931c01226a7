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

// TestSettle checks that settle returns promptly on an idle process and
// waits while another goroutine keeps a core busy (as OpenBLAS's spinning
// worker threads do), giving up after its half-second bound.
func TestSettle(t *testing.T) {
	t0 := time.Now()
	settle()
	if el := time.Since(t0); !(el < 400*time.Millisecond) {
		t.Errorf("settle on an idle process took %v", el)
	}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	t0 = time.Now()
	settle()
	el := time.Since(t0)
	close(stop)
	if !(el >= 450*time.Millisecond) {
		t.Errorf("settle returned after %v while a goroutine spun", el)
	}
}
