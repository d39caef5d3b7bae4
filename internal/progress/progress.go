// Package progress shows how far a long piece of work has got, on one
// terminal line redrawn in place: percent done, rate and time left. It
// draws nothing when the output is not a terminal (a pipe, a file, a
// log), and nothing for work that ends within a second.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Defaults of Start.
const (
	// Delay is how long work runs before its progress is shown.
	Delay = time.Second
	// Every is how often the line is redrawn.
	Every = 250 * time.Millisecond
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && isTTY(f.Fd())
}

// Bar is one progress line. Its methods may be called from any goroutine.
type Bar struct {
	w     io.Writer
	label string
	pos   func() (done, total int64)
	now   func() time.Time
	start time.Time

	mu    sync.Mutex
	shown bool
}

// NewBar returns a Bar that writes to w, labelled, reading how far the
// work is from pos (done and total in bytes; total 0 when unknown), with
// the clock now.
func NewBar(w io.Writer, label string, pos func() (done, total int64), now func() time.Time) *Bar {
	return &Bar{w: w, label: label, pos: pos, now: now, start: now()}
}

// Draw redraws the line once Delay has passed since the start; it
// returns what it wrote (empty when nothing).
func (b *Bar) Draw() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	el := b.now().Sub(b.start)
	if el < Delay {
		return ""
	}
	done, total := b.pos()
	s := "\r" + Line(b.label, done, total, el) + "\x1b[K"
	if _, err := io.WriteString(b.w, s); err == nil {
		b.shown = true
	}
	return s
}

// Clear erases the line if it was drawn, so what follows starts on a
// clean line.
func (b *Bar) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown {
		_, _ = io.WriteString(b.w, "\r\x1b[K")
		b.shown = false
	}
}

// Line formats a progress line: label, percent, rate and time left (for
// a known total), or bytes done and rate.
func Line(label string, done, total int64, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	if total <= 0 {
		return fmt.Sprintf("%s  %s  %s/s", label, Bytes(done), Bytes(int64(rate)))
	}
	pct := 100 * float64(done) / float64(total)
	left := "--"
	if rate > 0 {
		left = clock(time.Duration(float64(total-done) / rate * float64(time.Second)))
	}
	return fmt.Sprintf("%s  %3.0f%%  %s of %s  %s/s  %s left", label, pct, Bytes(done), Bytes(total), Bytes(int64(rate)), left)
}

// Bytes formats n bytes with a binary prefix.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, units := float64(n)/unit, "KMGTPE"
	i := 0
	for f >= unit && i < len(units)-1 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Start shows the progress of pos on w, when w is a terminal, until the
// returned stop is called; stop erases the line. On anything else it
// does nothing and stop is a no-op.
func Start(w io.Writer, label string, pos func() (done, total int64)) (stop func()) {
	if !IsTerminal(w) {
		return func() {}
	}
	b := NewBar(w, label, pos, time.Now)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(Every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				b.Draw()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
			b.Clear()
		})
	}
}
