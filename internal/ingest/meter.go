package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twitchd/twitchd/internal/metrics"
	"github.com/twitchd/twitchd/pipeline"
)

// StaleAfter is how long a stream may deliver nothing before /healthz
// reports it as not reading.
const StaleAfter = 5 * time.Second

// meter counts what one run read and produced, for /metrics and
// /healthz. It is a pipeline.Sink (counting events by type) and wraps
// sources (counting samples).
type meter struct {
	samples, skipped, lost atomic.Int64
	lastRead               atomic.Int64 // Unix ns of the last frame read
	reading                atomic.Bool

	mu     sync.Mutex
	events map[string]int64
}

func newMeter() *meter { return &meter{events: map[string]int64{}} }

// Write counts ev by type (watermarks are internal and left out).
func (m *meter) Write(ev pipeline.Event) error {
	t := ev.EventType()
	if t == pipeline.TypeWatermark {
		return nil
	}
	m.mu.Lock()
	m.events[t]++
	m.mu.Unlock()
	return nil
}

// Flush does nothing.
func (m *meter) Flush(context.Context) error { return nil }

// Check is the reading part of /healthz: a frame within StaleAfter, once
// the first has come.
func (m *meter) Check() error {
	if !m.reading.Load() {
		return errors.New("not reading yet")
	}
	last := m.lastRead.Load()
	if last == 0 {
		return errors.New("no sample read yet")
	}
	if age := time.Since(time.Unix(0, last)); age > StaleAfter {
		return fmt.Errorf("no sample for %v", age.Round(time.Second))
	}
	return nil
}

// Collect implements metrics.Collector.
func (m *meter) Collect(w *metrics.Writer) {
	w.Counter("twitchd_samples_read_total", "Samples read from the sources (all channels).", float64(m.samples.Load()))
	w.Counter("twitchd_lines_skipped_total", "Malformed lines, records or frames skipped.", float64(m.skipped.Load()))
	w.Counter("twitchd_samples_lost_total", "Samples a device reported but never delivered.", float64(m.lost.Load()))
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range []string{pipeline.TypeTwitch, pipeline.TypeBout, pipeline.TypeRest, pipeline.TypeCramp,
		pipeline.TypeEpoch, pipeline.TypeAssessment, pipeline.TypeSummary} {
		w.Counter("twitchd_events_total", "Events produced, by type.", float64(m.events[t]), "type", t)
	}
}

// source wraps src so that every Next counts samples and copies the
// source's skip and loss counts.
func (m *meter) source(src pipeline.Source) pipeline.Source {
	return &countingSource{Source: src, m: m}
}

// countingSource counts what its Source delivers. Next and Stats are
// called from the Runner's reading goroutine, as the Source contract
// says; the counters it feeds are atomic.
type countingSource struct {
	pipeline.Source
	m             *meter
	skipped, lost int64 // the source's counts last seen
}

// Next reads a batch and counts its samples (values that are not NaN).
// A panic in the decoder (a bug) becomes an error naming it, so that the
// run ends with a message, its summary and every point flushed or
// spooled, instead of a crash.
func (c *countingSource) Next(ctx context.Context, b *pipeline.Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b.Reset()
			err = &PanicError{What: c.Meta().Format + " decoder", Value: r, Stack: debug.Stack()}
		}
	}()
	c.m.reading.Store(true)
	err = c.Source.Next(ctx, b)
	var n int64
	for i := range b.Frames {
		for _, v := range b.Frames[i].Values {
			if !pipeline.IsNoSample(v) {
				n++
			}
		}
	}
	if n > 0 {
		c.m.samples.Add(n)
		c.m.lastRead.Store(time.Now().UnixNano())
	}
	st := c.Source.Stats()
	c.m.skipped.Add(st.Skipped - c.skipped)
	c.m.lost.Add(st.Lost - c.lost)
	c.skipped, c.lost = st.Skipped, st.Lost
	return err
}

// PanicError reports a panic in a decoder, turned into an error.
type PanicError struct {
	What  string
	Value any
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error in the %s (please report it with the input): %v", e.What, e.Value)
}

// logPanic logs the stack of a panic behind err, at debug level.
func logPanic(log *slog.Logger, err error) {
	var pe *PanicError
	if errors.As(err, &pe) {
		log.Debug("panic", "in", pe.What, "stack", string(pe.Stack))
	}
}
