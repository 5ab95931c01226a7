package pipeline

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestImgBarRate: an image bar prints no rate (img/s, img/min, img/hr)
// before rateAfter has passed and rateMinItems images are done, and prints
// one after.
func TestImgBarRate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		n     int
		adds  []int           // images per Add
		after []time.Duration // clock at each Add, from the start
		want  []bool          // a rate in the output after each Add
	}{
		{"first frame at once", 3, []int{1, 2}, []time.Duration{0, 2 * time.Second}, []bool{false, true}},
		{"one image, late", 1, []int{1}, []time.Duration{2 * time.Second}, []bool{false}},
		{"all at once, early", 2, []int{2}, []time.Duration{rateAfter / 2}, []bool{false}},
		{"two images, late", 2, []int{2}, []time.Duration{rateAfter}, []bool{true}},
	} {
		var buf bytes.Buffer
		now := t0
		b := newBarClock(&buf, tc.n, "features", func() time.Time { return now })
		for i, n := range tc.adds {
			now = t0.Add(tc.after[i])
			buf.Reset()
			if err := b.Add(n); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "img/"); got != tc.want[i] {
				t.Errorf("%s: Add %d printed %q: rate shown %v, want %v", tc.name, i, buf.String(), got, tc.want[i])
			}
			if buf.Len() == 0 {
				t.Errorf("%s: Add %d printed nothing", tc.name, i)
			}
		}
		b.Finish()
	}
}
