package rule_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/pipeline"
)

// ExampleEngine feeds the rule what the detectors report on a morning at
// rest: twitching at about one a minute with no exercise recorded before
// it (at_rest: not persistence, watch whether it recurs), then a 10-min
// walk after which the twitching stopped (ceased). Events wait for the
// watermark; assessments come when the status changes and at the end.
func ExampleEngine() {
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	at := func(min float64) pipeline.Timestamp {
		return pipeline.Timestamp(start.Add(time.Duration(min * float64(time.Minute))).UnixNano())
	}
	tags := pipeline.Tags{Subject: "ann", Site: "calf_left", Session: "s1"}
	e := rule.New(context.Background(), rule.DefaultConfig(), nil, nil)
	if err := e.Begin(pipeline.Meta{Subject: "ann", Site: "calf_left", Session: "s1"}); err != nil {
		panic(err)
	}
	show := func(ev pipeline.Event) {
		if a, ok := ev.(*pipeline.Assessment); ok {
			fmt.Printf("%s %s: %s\n", a.Time.Time().Format("15:04:05"), a.Status, a.Reason)
		}
	}
	twitch := func(m float64) *pipeline.Twitch {
		return &pipeline.Twitch{Start: at(m), End: at(m) + 40e6, Tags: tags, Sensor: "emg", Channel: "emg", Phase: pipeline.PhaseRest}
	}
	rest := func(a, b float64) *pipeline.Rest { return &pipeline.Rest{Start: at(a), End: at(b), Tags: tags} }
	// In the order the detectors emit them: each event when it is final,
	// rest in settled pieces, a watermark when the stream is settled.
	for _, ev := range []pipeline.Event{
		twitch(2.5), twitch(3.5), twitch(4.5), rest(0, 5), &pipeline.Watermark{Time: at(5)},
		twitch(5.5), twitch(6.5), twitch(7.5), twitch(8.5), rest(5, 10), &pipeline.Watermark{Time: at(10)},
		&pipeline.Bout{Start: at(10), End: at(20), Tags: tags, Sensor: "acc", Intensity: pipeline.IntensityLight},
		&pipeline.Watermark{Time: at(20)},
		rest(20, 25), rest(25, 30), &pipeline.Watermark{Time: at(30)},
		rest(30, 35), &pipeline.Watermark{Time: at(35)},
	} {
		e.Handle(ev, show)
	}
	e.End(at(35), show)
	// Output:
	// 10:06:30 at_rest: 5 twitches at rest between 10:02 and 10:06 (1.0/min); no exercise or other activity recorded in the 6 h before it; watch whether it recurs
	// 10:30:00 ceased: twitching ceased once activity resumed 10:10–10:20 (10.0 min): 0 twitches in 10.0 min of rest after it (0.00/min) vs 0.70/min in 10.0 min before (ceased at or below 0.25/min); a good sign
	// 10:35:00 ceased: twitching ceased once activity resumed 10:10–10:20 (10.0 min): 0 twitches in 10.0 min of rest after it (0.00/min) vs 0.70/min in 10.0 min before (ceased at or below 0.25/min); a good sign
}
