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
	// BatchSize is the number of frames per Batch (default 2048: fewer
	// hand-overs between the reading goroutine and the detectors; a live
	// source returns a batch early when it has nothing more for now).
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
	// Events counts the events the sinks were given, by type (the
	// summary and watermarks left out).
	Events map[string]int
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
//
// The steps, in order: start reading, derive the session from the first
// frame, start the sinks, begin the stages and processors, process every
// batch, stop reading, end the processors and stages, summarise, and
// close and flush the sinks.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	bs, nb, nq := orDefault(r.BatchSize, 2048), orDefault(r.Buffers, 4), orDefault(r.EventQueue, 4096)
	s := r.newStream(ctx)
	rd := r.startReading(ctx, len(s.meta.Channels), bs, nb)
	first, ok := <-rd.full
	if ok && first.err == nil && first.b.Len() > 0 && s.meta.Session == "" {
		s.meta.Session = DeriveSession(s.meta, first.b.Frames[0].Time)
	}
	s.startSinks(nq)
	s.begin()
	s.consume(rd, first, ok)
	rd.stop()
	s.end()
	s.summarise()
	s.closeSinks()
	s.flush(r.FlushTimeout)
	return s.result()
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// stream is the state of one Run.
type stream struct {
	r    *Runner
	ctx  context.Context
	meta Meta
	res  Result
	sum  Summary
	// samples counts the samples (values that are not NoSample) of each channel.
	samples []int64
	// events queues events for the sinks' goroutine; sinksDone ends with it.
	events    chan Event
	sinksDone sync.WaitGroup
	// err is the first error of the run; once set no batch is processed.
	err error
	// first and last are the times of the first and last frame; seen
	// says whether there was one. mark is the last watermark sent.
	first, last, mark int64
	seen              bool
}

func (r *Runner) newStream(ctx context.Context) *stream {
	meta := r.Source.Meta()
	meta.Subject, meta.Site, meta.Session = r.Subject, r.Site, r.Session
	return &stream{r: r, ctx: ctx, meta: meta, samples: make([]int64, len(meta.Channels)),
		res: Result{Events: map[string]int{}}}
}

// fail keeps err as the run's error unless it has one already.
func (s *stream) fail(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

// startSinks starts the goroutine that writes queued events to every
// sink, counting their errors. It fills in the summary's tags, now that
// the session is known.
func (s *stream) startSinks(queue int) {
	s.res.Meta = s.meta
	s.sum = Summary{
		Tags:   Tags{Subject: s.meta.Subject, Site: s.meta.Site, Session: s.meta.Session},
		File:   s.meta.File,
		Format: s.meta.Format,
	}
	s.events = make(chan Event, queue)
	s.sinksDone.Add(1)
	go func() {
		defer s.sinksDone.Done()
		for ev := range s.events {
			for _, k := range s.r.Sinks {
				s.res.sinkError(k.Write(ev))
			}
		}
	}()
}

// sinkError counts err (nil is no error) and keeps the first.
func (res *Result) sinkError(err error) {
	if err == nil {
		return
	}
	res.SinkErrors++
	if res.FirstSinkError == nil {
		res.FirstSinkError = err
	}
}

// deliver passes ev through the stages from the i-th on, then counts it
// and queues it for the sinks.
func (s *stream) deliver(i int, ev Event) {
	if i < len(s.r.Stages) {
		s.r.Stages[i].Handle(ev, func(e Event) { s.deliver(i+1, e) })
		return
	}
	if t := ev.EventType(); t != TypeWatermark {
		s.res.Events[t]++
	}
	s.sum.Count(ev)
	s.events <- ev
}

// emit is the Emit of the processors: the start of the stages.
func (s *stream) emit(ev Event) { s.deliver(0, ev) }

// begin calls Begin on every stage, then every processor.
func (s *stream) begin() {
	for _, st := range s.r.Stages {
		if err := guard("stage Begin", func() error { return st.Begin(s.meta) }); err != nil {
			s.fail(fmt.Errorf("pipeline: begin stage: %w", err))
		}
	}
	for _, p := range s.r.Processors {
		if err := guard("processor Begin", func() error { return p.Begin(s.meta, s.emit) }); err != nil {
			s.fail(fmt.Errorf("pipeline: begin processor: %w", err))
		}
	}
}

// consume processes msg and every batch after it until the stream ends,
// fails, or a processor fails.
func (s *stream) consume(rd *reading, msg batchMsg, ok bool) {
	for ok && s.err == nil {
		if msg.err != nil {
			if !errors.Is(msg.err, io.EOF) && !errors.Is(msg.err, ErrEndOfSegment) && !(s.ctx.Err() != nil && errors.Is(msg.err, s.ctx.Err())) {
				s.fail(msg.err)
			}
			return
		}
		if msg.b.Len() > 0 {
			s.process(msg.b)
		}
		rd.free <- msg.b
		msg, ok = <-rd.full
	}
}

// process counts one non-empty batch's samples, hands it to every
// processor and sends a watermark when it moved on.
func (s *stream) process(b *Batch) {
	if !s.seen {
		s.first, s.seen = b.Frames[0].Time, true
	}
	s.last = b.Frames[b.Len()-1].Time
	countSamples(s.samples, b)
	for _, p := range s.r.Processors {
		if err := guard("processor", func() error { return p.Process(b) }); err != nil {
			s.fail(fmt.Errorf("pipeline: process: %w", err))
			break
		}
	}
	if w := s.r.watermark(s.last); w > s.mark {
		s.mark = w
		s.emit(&Watermark{Time: Timestamp(w)})
	}
}

// countSamples adds the samples of b to counts, one per channel: every
// value that is not NoSample.
func countSamples(counts []int64, b *Batch) {
	for fi := range b.Frames {
		for ci, v := range b.Frames[fi].Values {
			if v == v {
				counts[ci]++
			}
		}
	}
}

// end calls End on every processor, then on every stage in order, each
// stage's closing events passing through the stages after it.
func (s *stream) end() {
	for _, p := range s.r.Processors {
		if err := guard("processor End", func() error { return p.End(s.last) }); err != nil {
			s.fail(fmt.Errorf("pipeline: end processor: %w", err))
		}
	}
	for i, st := range s.r.Stages {
		s.fail(guard("stage End", func() error {
			st.End(Timestamp(s.last), func(e Event) { s.deliver(i+1, e) })
			return nil
		}))
	}
}

// summarise completes the summary from the source's counts and the
// samples seen; it is queued for the sinks when the run succeeded.
func (s *stream) summarise() {
	st := s.r.Source.Stats()
	s.sum.Start, s.sum.End = Timestamp(s.first), Timestamp(s.last)
	s.sum.SkippedLines, s.sum.LostSamples = st.Skipped, st.Lost
	s.sum.Segment, s.sum.ClockStepS = st.Segment, time.Duration(st.ClockStep).Seconds()
	for _, e := range st.Examples {
		s.sum.SkippedExamples = append(s.sum.SkippedExamples, e.Error())
	}
	for i, c := range s.meta.Channels {
		s.sum.Channels = append(s.sum.Channels, ChannelSummary{
			Name: c.Name, Kind: c.Kind.String(), Unit: c.Unit, RateHz: c.RateHz, Samples: s.samples[i],
		})
	}
	s.sum.Interrupted = s.ctx.Err() != nil
	if s.err == nil && s.seen {
		s.events <- &s.sum
	}
}

// closeSinks waits until the sinks have taken every queued event.
func (s *stream) closeSinks() {
	close(s.events)
	s.sinksDone.Wait()
}

// flush flushes every sink, for at most timeout (default 2 min) even
// when the run's context is cancelled.
func (s *stream) flush(timeout time.Duration) {
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), timeout)
	defer cancel()
	for _, k := range s.r.Sinks {
		s.res.sinkError(k.Flush(ctx))
	}
}

// result returns the run's result and error: a stream without a single
// sample that was not stopped is an error.
func (s *stream) result() (Result, error) {
	s.res.Summary = s.sum
	if s.err == nil && !s.seen && s.ctx.Err() == nil {
		s.err = fmt.Errorf("pipeline: %s: no samples", s.meta.File)
	}
	return s.res, s.err
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

// reading is the source's goroutine and the batches it passes: full
// batches (or the error that ended the stream) come on full and go back
// on free.
type reading struct {
	free   chan *Batch
	full   chan batchMsg
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startReading allocates n batches of size frames of channels values
// and starts reading the source into them.
func (r *Runner) startReading(ctx context.Context, channels, size, n int) *reading {
	rd := &reading{free: make(chan *Batch, n), full: make(chan batchMsg, n)}
	for i := 0; i < n; i++ {
		rd.free <- NewBatch(channels, size)
	}
	var readCtx context.Context
	readCtx, rd.cancel = context.WithCancel(ctx)
	rd.done.Add(1)
	go func() {
		defer rd.done.Done()
		r.read(readCtx, rd.free, rd.full)
	}()
	return rd
}

// stop ends the reading goroutine and waits for it, recycling the
// batches it still sends.
func (rd *reading) stop() {
	rd.cancel()
	go func() {
		for m := range rd.full {
			if m.b != nil {
				select {
				case rd.free <- m.b:
				default:
				}
			}
		}
	}()
	rd.done.Wait()
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
