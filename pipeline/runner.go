package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"
)

// Runner wires one Source through Processors and EventStages to Sinks.
//
// The source is read on its own goroutine into a bounded ring of Batches
// (Buffers of BatchSize frames each); processors and stages run on the
// calling goroutine; sinks are fed from a bounded event queue on a third.
// Memory is bounded by those sizes whatever the stream's length.
type Runner struct {
	Source     Source
	Processors []Processor
	Stages     []EventStage
	Sinks      []Sink

	// Subject, Site and Session fill the stream's Meta. An empty Session
	// is derived from the file name and the first frame's time, so
	// replaying the same recording again yields the same session.
	Subject, Site, Session string

	// Speed paces delivery: 0 is as fast as possible, 1 is real time,
	// N is N times real time.
	Speed float64
	// BatchSize is the number of frames per Batch (default 512).
	BatchSize int
	// Buffers is the number of Batches in flight (default 4).
	Buffers int
	// EventQueue bounds the events waiting for the sinks (default 4096).
	EventQueue int
	// FlushTimeout bounds the final Flush of every sink (default 2 min).
	FlushTimeout time.Duration
}

// Result reports one run.
type Result struct {
	Summary Summary
	Meta    Meta
	// SinkErrors counts Write and Flush errors from the sinks.
	SinkErrors int
	// FirstSinkError is the first of them, nil if none.
	FirstSinkError error
}

type batchMsg struct {
	b   *Batch
	err error
}

// Run processes the whole stream. When ctx is cancelled it stops reading,
// finishes what it has, closes open events, writes the summary, flushes the
// sinks and returns with Summary.Interrupted set and a nil error. It
// returns an error when the source fails (a strict decoder's first bad
// line, an I/O error) or a processor fails; the sinks are still flushed.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	bs, nb, nq := r.BatchSize, r.Buffers, r.EventQueue
	if bs <= 0 {
		bs = 512
	}
	if nb <= 0 {
		nb = 4
	}
	if nq <= 0 {
		nq = 4096
	}
	meta := r.Source.Meta()
	meta.Subject, meta.Site, meta.Session = r.Subject, r.Site, r.Session
	nch := len(meta.Channels)

	free := make(chan *Batch, nb)
	full := make(chan batchMsg, nb)
	for i := 0; i < nb; i++ {
		free <- NewBatch(nch, bs)
	}
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.read(readCtx, free, full)
	}()

	// Wait for the first batch so the session can be derived from it.
	first, ok := <-full
	if ok && first.err == nil && first.b.Len() > 0 && meta.Session == "" {
		meta.Session = DeriveSession(meta, first.b.Frames[0].Time)
	}

	res := Result{Meta: meta}
	events := make(chan Event, nq)
	var sinkWG sync.WaitGroup
	sinkWG.Add(1)
	go func() {
		defer sinkWG.Done()
		for ev := range events {
			for _, s := range r.Sinks {
				if err := s.Write(ev); err != nil {
					res.SinkErrors++
					if res.FirstSinkError == nil {
						res.FirstSinkError = err
					}
				}
			}
		}
	}()

	sum := Summary{
		Tags:   Tags{Subject: meta.Subject, Site: meta.Site, Session: meta.Session},
		File:   meta.File,
		Format: meta.Format,
	}
	counts := make([]int64, nch)
	// deliver passes an event through the stages, counts it and queues it.
	var deliver func(i int, ev Event)
	deliver = func(i int, ev Event) {
		if i < len(r.Stages) {
			r.Stages[i].Handle(ev, func(e Event) { deliver(i+1, e) })
			return
		}
		switch ev.EventType() {
		case TypeTwitch:
			sum.Twitches++
		case TypeBout:
			sum.Bouts++
		case TypeCramp:
			sum.Cramps++
		}
		events <- ev
	}
	emit := func(ev Event) { deliver(0, ev) }

	var runErr error
	for _, st := range r.Stages {
		if err := guard("stage Begin", func() error { return st.Begin(meta) }); err != nil && runErr == nil {
			runErr = fmt.Errorf("pipeline: begin stage: %w", err)
		}
	}
	for _, p := range r.Processors {
		if err := guard("processor Begin", func() error { return p.Begin(meta, emit) }); err != nil && runErr == nil {
			runErr = fmt.Errorf("pipeline: begin processor: %w", err)
		}
	}
	var firstT, lastT, lastMark int64
	seen := false
	msg := first
	for ok && runErr == nil {
		if msg.err != nil {
			if !errors.Is(msg.err, io.EOF) && !(ctx.Err() != nil && errors.Is(msg.err, ctx.Err())) {
				runErr = msg.err
			}
			break
		}
		b := msg.b
		if b.Len() > 0 {
			if !seen {
				firstT, seen = b.Frames[0].Time, true
			}
			lastT = b.Frames[b.Len()-1].Time
			for fi := range b.Frames {
				for ci, v := range b.Frames[fi].Values {
					if v == v {
						counts[ci]++
					}
				}
			}
			for _, p := range r.Processors {
				if err := guard("processor", func() error { return p.Process(b) }); err != nil {
					runErr = fmt.Errorf("pipeline: process: %w", err)
					break
				}
			}
			if w := r.watermark(lastT); w > lastMark {
				lastMark = w
				emit(&Watermark{Time: Timestamp(w)})
			}
		}
		free <- b
		msg, ok = <-full
	}
	stopRead()
	// Drain so the reader can exit, recycling batches.
	go func() {
		for m := range full {
			if m.b != nil {
				select {
				case free <- m.b:
				default:
				}
			}
		}
	}()
	wg.Wait()

	for _, p := range r.Processors {
		if err := guard("processor End", func() error { return p.End(lastT) }); err != nil && runErr == nil {
			runErr = fmt.Errorf("pipeline: end processor: %w", err)
		}
	}
	var endStages func(i int)
	endStages = func(i int) {
		if i >= len(r.Stages) {
			return
		}
		err := guard("stage End", func() error {
			r.Stages[i].End(Timestamp(lastT), func(e Event) { deliver(i+1, e) })
			return nil
		})
		if err != nil && runErr == nil {
			runErr = err
		}
		endStages(i + 1)
	}
	endStages(0)

	st := r.Source.Stats()
	sum.Start, sum.End = Timestamp(firstT), Timestamp(lastT)
	sum.SkippedLines, sum.LostSamples = st.Skipped, st.Lost
	for _, e := range st.Examples {
		sum.SkippedExamples = append(sum.SkippedExamples, e.Error())
	}
	for i, c := range meta.Channels {
		sum.Channels = append(sum.Channels, ChannelSummary{
			Name: c.Name, Kind: c.Kind.String(), Unit: c.Unit, RateHz: c.RateHz, Samples: counts[i],
		})
	}
	sum.Interrupted = ctx.Err() != nil
	if runErr == nil && seen {
		events <- &sum
	}
	close(events)
	sinkWG.Wait()

	to := r.FlushTimeout
	if to <= 0 {
		to = 2 * time.Minute
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), to)
	defer cancel()
	for _, s := range r.Sinks {
		if err := s.Flush(fctx); err != nil {
			res.SinkErrors++
			if res.FirstSinkError == nil {
				res.FirstSinkError = err
			}
		}
	}
	res.Summary = sum
	if runErr == nil && !seen && ctx.Err() == nil {
		runErr = fmt.Errorf("pipeline: %s: no samples", meta.File)
	}
	return res, runErr
}

// guard runs f and turns a panic in it into an error, so a bug in one
// stage ends the run with a message (and the sinks still flushed) instead
// of a crash that loses what was queued.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pipeline: panic in %s: %v", what, r)
		}
	}()
	return f()
}

// watermark returns the time before which no processor will emit an
// event any more: the earliest pending start, or the last frame's time.
func (r *Runner) watermark(last int64) int64 {
	w := last
	for _, p := range r.Processors {
		if wm, ok := p.(Watermarker); ok {
			if t, pending := wm.Watermark(); pending && t < w {
				w = t
			}
		}
	}
	return w
}

// read fills batches until the source ends, fails, or ctx is done.
func (r *Runner) read(ctx context.Context, free <-chan *Batch, full chan<- batchMsg) {
	defer close(full)
	var wallStart time.Time
	var t0 int64
	started := false
	for {
		var b *Batch
		select {
		case b = <-free:
		case <-ctx.Done():
			full <- batchMsg{err: ctx.Err()}
			return
		}
		err := r.Source.Next(ctx, b)
		if b.Len() > 0 && r.Speed > 0 {
			ft := b.Frames[0].Time
			if !started {
				wallStart, t0, started = time.Now(), ft, true
			}
			due := wallStart.Add(time.Duration(float64(ft-t0) / r.Speed))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
		}
		if b.Len() > 0 || err == nil {
			full <- batchMsg{b: b}
		}
		if err != nil {
			if b.Len() == 0 {
				full <- batchMsg{b: b, err: err}
			} else {
				full <- batchMsg{err: err}
			}
			return
		}
		if ctx.Err() != nil {
			full <- batchMsg{err: ctx.Err()}
			return
		}
	}
}

// DeriveSession returns a stable session identifier for a recording: the
// UTC time of its first frame and a short hash of its file name, e.g.
// "20261125T100000Z-3fa2c1". The same file replayed again gets the same
// identifier, so its points overwrite rather than duplicate in InfluxDB.
func DeriveSession(m Meta, firstFrame int64) string {
	h := sha256.Sum256([]byte(filepath.Base(m.File) + "\x00" + m.Subject + "\x00" + m.Site))
	return time.Unix(0, firstFrame).UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(h[:3])
}
