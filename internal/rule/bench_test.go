package rule

import (
	"context"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// watermarked interleaves evs (in emission order) with watermarks as the
// Runner sends them: the earliest start still to come.
func watermarked(evs []pipeline.Event) []pipeline.Event {
	out := make([]pipeline.Event, 0, 2*len(evs))
	suffix := make([]pipeline.Timestamp, len(evs)+1)
	suffix[len(evs)] = EventEnd(evs[len(evs)-1])
	for i := len(evs) - 1; i >= 0; i-- {
		suffix[i] = min(suffix[i+1], evs[i].At())
	}
	var mark pipeline.Timestamp
	for i, ev := range evs {
		out = append(out, ev)
		if w := suffix[i+1]; w > mark {
			mark = w
			out = append(out, &pipeline.Watermark{Time: w})
		}
	}
	return out
}

func benchEngine(b *testing.B, evs []pipeline.Event, last pipeline.Timestamp) {
	stream := watermarked(evs)
	e := New(context.Background(), DefaultConfig(), nil, nil)
	emit := func(pipeline.Event) {}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if err := e.Begin(pipeline.Meta{Subject: "p1", Site: "calf_left", Session: "s1"}); err != nil {
			b.Fatal(err)
		}
		for _, ev := range stream {
			e.Handle(ev, emit)
		}
		e.End(last, emit)
		n += len(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkHandle measures the engine per event on a recording-like
// stream, with watermarks: bouts, rests and twitches at rest seen by both
// sensors, a resumed bout and the rest after it.
func BenchmarkHandle(b *testing.B) {
	evs := emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 6, "emg"), twitches(30, 45, 6, "acc"),
		bout(45, 55, M), rest(55, 70), twitches(55, 70, 1, "emg"))
	benchEngine(b, evs, at(70))
}

// BenchmarkHandleDay is a whole day at rest with twitching (at_rest, then
// persistent after 6 h), rest reported in 5-min pieces: the cost per
// event must not grow with the length of the stream.
func BenchmarkHandleDay(b *testing.B) {
	parts := []any{twitches(0, 24*60, 2, "emg"), twitches(0, 24*60, 2, "acc")}
	for m := 0.0; m < 24*60; m += 5 {
		parts = append(parts, rest(m, m+5))
	}
	benchEngine(b, emitted(parts...), at(24*60))
}
