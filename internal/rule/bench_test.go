package rule

import (
	"context"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// BenchmarkHandle measures the engine per event on a recording-like
// stream: bouts, rests and twitches at rest seen by both sensors.
func BenchmarkHandle(b *testing.B) {
	evs := emitted(bout(0, 30, "vigorous"), rest(30, 45), twitches(30, 45, 6, "emg"), twitches(30, 45, 6, "acc"),
		bout(45, 55, "moderate"), rest(55, 70), twitches(55, 70, 1, "emg"))
	e := New(context.Background(), DefaultConfig(), nil, nil)
	emit := func(pipeline.Event) {}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if err := e.Begin(pipeline.Meta{Subject: "p1", Site: "calf_left", Session: "s1"}); err != nil {
			b.Fatal(err)
		}
		for _, ev := range evs {
			e.Handle(ev, emit)
		}
		e.End(at(70), emit)
		n += len(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}
