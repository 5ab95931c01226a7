package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"
)

// progressEvery is how often a long step prints a progress line when
// stderr is not a terminal.
const progressEvery = 5 * time.Second

// lineProgress turns progress bars, which redraw one line with \r, into a
// plain line at most every interval (and the final line of each bar), for
// logs and pipes where \r redraws are noise.
type lineProgress struct {
	mu    sync.Mutex
	w     io.Writer
	every time.Duration
	now   func() time.Time
	last  time.Time
	cur   bytes.Buffer
}

func newLineProgress(w io.Writer, every time.Duration) *lineProgress {
	return &lineProgress{w: w, every: every, now: time.Now}
}

func (l *lineProgress) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range p {
		switch b {
		case '\r':
			if t := l.now(); t.Sub(l.last) >= l.every {
				if l.emit() {
					l.last = t
				}
			}
			l.cur.Reset()
		case '\n':
			if l.emit() {
				l.last = l.now()
			}
			l.cur.Reset()
		default:
			l.cur.WriteByte(b)
		}
	}
	return len(p), nil
}

// emit writes the current line, trimmed, if it has any text.
func (l *lineProgress) emit() bool {
	s := strings.TrimSpace(l.cur.String())
	if s == "" {
		return false
	}
	io.WriteString(l.w, s+"\n")
	return true
}
