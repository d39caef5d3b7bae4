package pipeline_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// sliceSource delivers n frames of one channel at 1 kHz, then fails with
// err (io.EOF for a clean end). It is a test double for the Runner's unit
// tests; real decoders are tested against real files in their packages.
type sliceSource struct {
	n, next  int
	err      error
	cancel   func() // called after cancelAt frames
	cancelAt int
	stats    pipeline.SourceStats
}

func (s *sliceSource) Meta() pipeline.Meta {
	return pipeline.Meta{File: "mem", Format: "test", Channels: []pipeline.Channel{{Name: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: 1000}}}
}

func (s *sliceSource) Next(ctx context.Context, b *pipeline.Batch) error {
	b.Reset()
	for !b.Full() && s.next < s.n {
		if s.cancel != nil && s.next == s.cancelAt {
			s.cancel()
			return nil
		}
		v := b.Append(1_700_000_000e9 + int64(s.next)*1e6)
		v[0] = float64(s.next)
		s.next++
		s.stats.Frames++
	}
	if b.Len() == 0 {
		return s.err
	}
	return nil
}

func (s *sliceSource) Stats() pipeline.SourceStats { return s.stats }

// recorder is a Processor that checks frames arrive complete and in
// order, emits a late event and reports a watermark.
type recorder struct {
	t       *testing.T
	emit    pipeline.Emit
	frames  int
	lastVal float64
	ended   bool
}

func (r *recorder) Begin(m pipeline.Meta, emit pipeline.Emit) error {
	r.emit = emit
	r.lastVal = -1
	return nil
}
func (r *recorder) Process(b *pipeline.Batch) error {
	for _, f := range b.Frames {
		if f.Values[0] != r.lastVal+1 {
			r.t.Errorf("frame value %g after %g: lost or reordered", f.Values[0], r.lastVal)
		}
		r.lastVal = f.Values[0]
		r.frames++
		if r.frames == 1500 {
			// A twitch found late: it started at frame 1000.
			r.emit(&pipeline.Twitch{Start: 1_700_000_001e9, End: 1_700_000_001e9 + 20e6, Sensor: "emg"})
		}
	}
	return nil
}
func (r *recorder) End(last int64) error { r.ended = true; return nil }

// Watermark holds everything after frame 900 until frame 1500 is seen.
func (r *recorder) Watermark() (int64, bool) {
	if r.frames < 1500 {
		return 1_700_000_000e9 + 900e6, true
	}
	return 0, false
}

type collect struct{ evs []pipeline.Event }

func (c *collect) Write(ev pipeline.Event) error   { c.evs = append(c.evs, ev); return nil }
func (c *collect) Flush(ctx context.Context) error { return nil }

func TestRunnerDeliversEverything(t *testing.T) {
	src := &sliceSource{n: 5000, err: io.EOF}
	rec := &recorder{t: t}
	sink := &collect{}
	r := &pipeline.Runner{Source: src, Processors: []pipeline.Processor{rec}, Sinks: []pipeline.Sink{sink}, Subject: "s", BatchSize: 64, Buffers: 2}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rec.frames != 5000 || !rec.ended {
		t.Fatalf("processor saw %d frames (ended %v), want 5000", rec.frames, rec.ended)
	}
	s := res.Summary
	if s.Channels[0].Samples != 5000 || s.Twitches != 1 || s.Interrupted || s.Session == "" {
		t.Errorf("summary %+v", s)
	}
	var marks []pipeline.Timestamp
	sawTwitch := false
	for _, ev := range sink.evs {
		switch e := ev.(type) {
		case *pipeline.Watermark:
			if !sawTwitch && e.Time > 1_700_000_001e9 {
				t.Errorf("watermark %s passed the late twitch before it was emitted", e.Time)
			}
			marks = append(marks, e.Time)
		case *pipeline.Twitch:
			sawTwitch = true
		}
	}
	for i := 1; i < len(marks); i++ {
		if marks[i] <= marks[i-1] {
			t.Errorf("watermarks not increasing: %v", marks)
		}
	}
	if _, ok := sink.evs[len(sink.evs)-1].(*pipeline.Summary); !ok {
		t.Errorf("last event %T, want the summary", sink.evs[len(sink.evs)-1])
	}
}

func TestRunnerCancelWritesSummary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := &sliceSource{n: 100000, err: io.EOF, cancel: cancel, cancelAt: 3000}
	sink := &collect{}
	r := &pipeline.Runner{Source: src, Processors: []pipeline.Processor{&recorder{t: t}}, Sinks: []pipeline.Sink{sink}, BatchSize: 100}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("cancelled run returned %v, want nil", err)
	}
	if !res.Summary.Interrupted || res.Summary.Channels[0].Samples != 3000 {
		t.Errorf("summary %+v, want interrupted after 3000 samples", res.Summary)
	}
}

func TestRunnerSourceError(t *testing.T) {
	bad := &pipeline.LineError{File: "f.csv", Line: 7, Offset: -1, Reason: "not a number"}
	src := &sliceSource{n: 10, err: bad}
	res, err := (&pipeline.Runner{Source: src, Sinks: []pipeline.Sink{&collect{}}}).Run(context.Background())
	if !errors.Is(err, pipeline.ErrMalformed) || !strings.Contains(err.Error(), "f.csv:7: not a number") {
		t.Fatalf("err = %v, want the line error", err)
	}
	if res.Summary.Channels[0].Samples != 10 {
		t.Errorf("samples before the error: %d, want 10", res.Summary.Channels[0].Samples)
	}
}

func TestEventRoundTrip(t *testing.T) {
	evs := []pipeline.Event{
		&pipeline.Twitch{Start: 1_700_000_000_123_456_789, End: 1_700_000_000_223_456_789, Tags: pipeline.Tags{Subject: "a", Site: "calf"}, Sensor: "emg", Channel: "emg", Peak: 0.25, Phase: pipeline.PhaseRest},
		&pipeline.Bout{Start: 1, End: 2, Intensity: pipeline.IntensityVigorous},
		&pipeline.Cramp{Start: 3, End: 4, Channel: "emg"},
		&pipeline.Assessment{Time: 5, Status: "ceased", Advice: []string{"x"}, Notice: "n"},
		&pipeline.Summary{File: "f", Start: 6, End: 7, Channels: []pipeline.ChannelSummary{{Name: "emg", Kind: "emg", Unit: "mV", RateHz: 1000, Samples: 9}}},
	}
	for _, ev := range evs {
		b, err := pipeline.MarshalEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), `{"type":"`+ev.EventType()+`",`) {
			t.Errorf("%s does not start with its type", b)
		}
		back, err := pipeline.UnmarshalEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := pipeline.MarshalEvent(back)
		if string(b) != string(b2) {
			t.Errorf("round trip changed the event:\n%s\n%s", b, b2)
		}
	}
	b, _ := pipeline.MarshalEvent(evs[0])
	if !strings.Contains(string(b), `"start":"2023-11-14T22:13:20.123456789Z"`) {
		t.Errorf("timestamp not RFC 3339 with nanoseconds: %s", b)
	}
	if _, err := pipeline.UnmarshalEvent([]byte(`{"type":"nope"}`)); err == nil {
		t.Error("unknown type accepted")
	}
}

// panicker is a Processor with a bug.
type panicker struct{ after int }

func (p *panicker) Begin(pipeline.Meta, pipeline.Emit) error { return nil }
func (p *panicker) Process(b *pipeline.Batch) error {
	p.after -= b.Len()
	if p.after < 0 {
		var m map[string]int
		m["boom"]++ // nil map write
	}
	return nil
}
func (p *panicker) End(int64) error { return nil }

func TestRunnerTurnsPanicsIntoErrors(t *testing.T) {
	sink := &collect{}
	r := &pipeline.Runner{Source: &sliceSource{n: 5000, err: io.EOF}, Processors: []pipeline.Processor{&panicker{after: 1000}}, Sinks: []pipeline.Sink{sink}, BatchSize: 100}
	_, err := r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "panic in processor") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
}
