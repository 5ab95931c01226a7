package main

import (
	"strings"
	"testing"
	"time"

	"github.com/schollz/progressbar/v3"
)

// TestLineProgress: \r redraws become one line per interval, plus the
// last state of each bar; blank redraws (bar clearing) are dropped.
func TestLineProgress(t *testing.T) {
	var out strings.Builder
	l := newLineProgress(&out, 5*time.Second)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	for i := 1; i <= 20; i++ {
		l.Write([]byte("\r" + strings.Repeat(" ", 10) + "\rwork " + string(rune('a'+i))))
		now = now.Add(time.Second)
	}
	l.Write([]byte("\n"))
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	// Lines are emitted at the \r after a state: states b (t=0, first),
	// g (t=5), l (t=10), q (t=15), then the final u at the newline.
	want := []string{"work b", "work g", "work l", "work q", "work u"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	// A real bar: its final state is printed once the bar finishes.
	out.Reset()
	l = newLineProgress(&out, time.Hour)
	bar := progressbar.NewOptions(10, progressbar.OptionSetWriter(l), progressbar.OptionSetDescription("wood features"),
		progressbar.OptionShowCount(), progressbar.OptionOnCompletion(func() { l.Write([]byte("\n")) }))
	for range 10 {
		bar.Add(1)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "wood features") || !strings.Contains(last, "(10/10") || strings.ContainsRune(out.String(), '\r') {
		t.Errorf("bar output %q", out.String())
	}
}
