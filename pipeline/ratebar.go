package pipeline

import (
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// rateAfter and rateMinItems: an image bar shows its rate (img/s) only
// once this much time has passed since the bar started and this many
// images are done; before, the rate would rest on microseconds (the first
// frame once printed 332986 img/s).
const (
	rateAfter    = time.Second
	rateMinItems = 2
)

// imgBar is a progress bar of images whose rate appears only once it can
// be estimated (rateAfter, rateMinItems). Its methods may be called from
// several goroutines.
type imgBar struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	now   func() time.Time
	start time.Time
	done  int
	rate  bool // the bar shows its rate
}

func newImgBar(bar *progressbar.ProgressBar, now func() time.Time) *imgBar {
	bar.StartWithoutRender() // the rate counts from now, not from the first Add
	return &imgBar{bar: bar, now: now, start: now()}
}

// Add counts n more images done.
func (b *imgBar) Add(n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if !b.rate && b.done >= rateMinItems && b.now().Sub(b.start) >= rateAfter {
		progressbar.OptionShowIts()(b.bar) // under b.mu: every use of bar goes through b
		b.rate = true
	}
	return b.bar.Add(n)
}

// Finish fills the bar.
func (b *imgBar) Finish() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bar.Finish()
}
