package pipeline

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// These tests check the Runner's steps one by one; pipeline_test.go runs
// them together.

func TestCountSamples(t *testing.T) {
	b := NewBatch(3, 4)
	copy(b.Append(0), []float64{1, NoSample, 0})
	copy(b.Append(1), []float64{NoSample, NoSample, -1})
	copy(b.Append(2), []float64{math.Inf(1), 2, 0})
	counts := []int64{10, 0, 0}
	countSamples(counts, b)
	if want := []int64{12, 1, 3}; counts[0] != want[0] || counts[1] != want[1] || counts[2] != want[2] {
		t.Fatalf("counts %v, want %v (NoSample is no sample; every other value is)", counts, want)
	}
}

func TestSummaryCount(t *testing.T) {
	var s Summary
	for _, ev := range []Event{&Twitch{}, &Twitch{}, &Bout{}, &Cramp{}, &Rest{}, &Epoch{}, &Assessment{}, &Watermark{}} {
		s.Count(ev)
	}
	if s.Twitches != 2 || s.Bouts != 1 || s.Cramps != 1 {
		t.Fatalf("counted %d twitches, %d bouts, %d cramps; want 2, 1, 1", s.Twitches, s.Bouts, s.Cramps)
	}
}

// tagger is a stage that renames events passing it and adds one of its
// own at End.
type tagger struct {
	name string
	seen []string
}

func (g *tagger) Begin(Meta) error { return nil }
func (g *tagger) Handle(ev Event, emit Emit) {
	tw := ev.(*Twitch)
	g.seen = append(g.seen, tw.Channel)
	tw.Channel += ">" + g.name
	emit(tw)
}
func (g *tagger) End(last Timestamp, emit Emit) { emit(&Twitch{Start: last, Channel: "end:" + g.name}) }

type sinkFunc struct {
	write func(Event) error
	flush func(context.Context) error
}

func (f sinkFunc) Write(ev Event) error            { return f.write(ev) }
func (f sinkFunc) Flush(ctx context.Context) error { return f.flush(ctx) }

// testStream returns a stream of r with its sinks started.
func testStream(ctx context.Context, r *Runner) *stream {
	if r.Source == nil {
		r.Source = emptySource{}
	}
	s := r.newStream(ctx)
	s.startSinks(16)
	return s
}

type emptySource struct{}

func (emptySource) Meta() Meta                         { return Meta{File: "none"} }
func (emptySource) Next(context.Context, *Batch) error { return nil }
func (emptySource) Stats() SourceStats                 { return SourceStats{} }

func TestStagesInOrderAndEndCascades(t *testing.T) {
	a, b := &tagger{name: "a"}, &tagger{name: "b"}
	var got []string
	sink := sinkFunc{write: func(ev Event) error { got = append(got, ev.(*Twitch).Channel); return nil },
		flush: func(context.Context) error { return nil }}
	s := testStream(context.Background(), &Runner{Stages: []EventStage{a, b}, Sinks: []Sink{sink}})
	s.emit(&Twitch{Channel: "x"})
	s.end()
	s.closeSinks()
	want := "x>a>b|end:a>b|end:b"
	if strings.Join(got, "|") != want {
		t.Fatalf("sinks got %q, want %q: every event passes every stage in order, and a stage's End passes only the stages after it", strings.Join(got, "|"), want)
	}
	if s.res.Events[TypeTwitch] != 3 || s.sum.Twitches != 3 {
		t.Fatalf("counted %v and %d twitches, want 3", s.res.Events, s.sum.Twitches)
	}
}

func TestWatermarksAreNotCounted(t *testing.T) {
	s := testStream(context.Background(), &Runner{})
	s.emit(&Watermark{Time: 5})
	s.emit(&Bout{})
	s.closeSinks()
	if len(s.res.Events) != 1 || s.res.Events[TypeBout] != 1 {
		t.Fatalf("events %v, want only the bout", s.res.Events)
	}
}

func TestFlushCountsSinkErrorsAndOutlivesCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	boom := errors.New("boom")
	var deadline time.Time
	sinks := []Sink{
		sinkFunc{write: func(Event) error { return boom }, flush: func(ctx context.Context) error {
			if ctx.Err() != nil {
				t.Error("flush context already done: the run's cancellation must not cut the final flush short")
			}
			deadline, _ = ctx.Deadline()
			return nil
		}},
		sinkFunc{write: func(Event) error { return nil }, flush: func(context.Context) error { return errors.New("flush failed") }},
	}
	s := testStream(ctx, &Runner{Sinks: sinks})
	s.emit(&Bout{})
	s.closeSinks()
	s.flush(time.Minute)
	if s.res.SinkErrors != 2 || !errors.Is(s.res.FirstSinkError, boom) {
		t.Fatalf("sink errors %d, first %v; want 2 and the write error first", s.res.SinkErrors, s.res.FirstSinkError)
	}
	if left := time.Until(deadline); left < 50*time.Second || left > time.Minute {
		t.Fatalf("flush deadline %v away, want the timeout given (1 min)", left)
	}
}

func TestResultNoSamples(t *testing.T) {
	s := testStream(context.Background(), &Runner{})
	s.summarise()
	s.closeSinks()
	if _, err := s.result(); err == nil || !strings.Contains(err.Error(), "none: no samples") {
		t.Fatalf("err %v, want no samples named by file", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s = testStream(ctx, &Runner{})
	s.summarise()
	s.closeSinks()
	if res, err := s.result(); err != nil || !res.Summary.Interrupted {
		t.Fatalf("stopped before the first sample: err %v, interrupted %v; want no error and interrupted", err, res.Summary.Interrupted)
	}
}

func TestSummaryOnlyAfterSuccess(t *testing.T) {
	var got []Event
	sink := sinkFunc{write: func(ev Event) error { got = append(got, ev); return nil }, flush: func(context.Context) error { return nil }}
	s := testStream(context.Background(), &Runner{Sinks: []Sink{sink}})
	b := NewBatch(0, 1)
	b.Append(7)
	s.process(b)
	s.fail(errors.New("source failed"))
	s.summarise()
	s.closeSinks()
	for _, ev := range got {
		if ev.EventType() == TypeSummary {
			t.Fatal("a failed run wrote a summary")
		}
	}
	if s.sum.Start != 7 || s.sum.End != 7 {
		t.Fatalf("summary %v..%v, want the frame's time", s.sum.Start, s.sum.End)
	}
}
