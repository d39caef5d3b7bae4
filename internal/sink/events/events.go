// Package events writes the events contract: one JSON object per line.
package events

import (
	"bufio"
	"container/heap"
	"context"
	"fmt"
	"io"

	"github.com/twitchd/twitchd/pipeline"
)

// Writer is a pipeline.Sink that writes each event as one JSON line, in
// time order (by start). Detectors emit some events late, so the Writer
// holds events until a pipeline.Watermark passes them, and writes the rest
// on Flush. Epoch events (per-epoch features) are left out unless epochs
// is set; they are many and mostly of interest in InfluxDB.
type Writer struct {
	w      *bufio.Writer
	epochs bool
	n      int64
	held   queue
	seq    int64
	err    error
}

type heldEvent struct {
	ev  pipeline.Event
	seq int64
}

// queue is a min-heap of events by time, then arrival.
type queue []heldEvent

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if a, b := q[i].ev.At(), q[j].ev.At(); a != b {
		return a < b
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(heldEvent)) }
func (q *queue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// NewWriter returns a Writer on w. With epochs set, Epoch events are
// written too.
func NewWriter(w io.Writer, epochs bool) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), epochs: epochs}
}

// Write queues ev; a Watermark writes every queued event before it.
func (w *Writer) Write(ev pipeline.Event) error {
	switch ev.EventType() {
	case pipeline.TypeWatermark:
		return w.release(ev.At(), false)
	case pipeline.TypeEpoch:
		if !w.epochs {
			return nil
		}
	}
	w.seq++
	heap.Push(&w.held, heldEvent{ev: ev, seq: w.seq})
	return nil
}

// Held returns the number of events waiting for a watermark.
func (w *Writer) Held() int { return len(w.held) }

func (w *Writer) release(before pipeline.Timestamp, all bool) error {
	for len(w.held) > 0 && (all || w.held[0].ev.At() < before) {
		h := heap.Pop(&w.held).(heldEvent)
		if err := w.write(h.ev); err != nil && w.err == nil {
			w.err = err
		}
	}
	return w.err
}

func (w *Writer) write(ev pipeline.Event) error {
	b, err := pipeline.MarshalEvent(ev)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("events: write: %w", err)
	}
	w.n++
	return nil
}

// Flush writes every held event and flushes to the underlying writer.
func (w *Writer) Flush(ctx context.Context) error {
	if err := w.release(0, true); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("events: flush: %w", err)
	}
	return nil
}

// Count returns the number of events written.
func (w *Writer) Count() int64 { return w.n }

// Collector is a pipeline.Sink that keeps every event in memory, for
// tests and the evaluation suite.
type Collector struct {
	Events []pipeline.Event
}

// Write appends ev; watermarks are dropped.
func (c *Collector) Write(ev pipeline.Event) error {
	if ev.EventType() == pipeline.TypeWatermark {
		return nil
	}
	c.Events = append(c.Events, ev)
	return nil
}

// Flush does nothing.
func (c *Collector) Flush(context.Context) error { return nil }

// Of returns the collected events of one type, in order.
func (c *Collector) Of(typ string) []pipeline.Event {
	var out []pipeline.Event
	for _, e := range c.Events {
		if e.EventType() == typ {
			out = append(out, e)
		}
	}
	return out
}
