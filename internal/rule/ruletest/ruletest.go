// Package ruletest builds recordings of detector events for tests of the
// persistence rule and of what reads it back: a bout, rest with twitching
// seen by both sensors, optionally resumed activity and more rest, in the
// order the detectors emit them.
package ruletest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/pipeline"
)

// Spec describes one recording: a vigorous 30-min bout (strength proxy
// PeakRMS, PeakAcc 2 g), 15 min of rest with PerMin twitches a minute,
// then, if Resume, 10 min of moderate activity and 15 min of rest with
// AfterPerMin twitches a minute. Cramps adds that many 20-s cramps in the
// first rest. AtRest replaces all that by 45 min of rest without any
// bout, with PerMin twitches a minute throughout.
type Spec struct {
	PeakRMS     float64
	PerMin      float64
	Resume      bool
	AfterPerMin float64
	Cramps      int
	AtRest      bool
}

// Session returns the session tag Recording uses.
func Session(subject string, start time.Time) string {
	return subject + "-" + start.UTC().Format("20060102T1504")
}

// Recording returns the events of one recording of subject at site
// starting at start, each twitch reported by the EMG and (overlapping) by
// the accelerometer, in emission order.
func Recording(subject, site string, start time.Time, sp Spec) []pipeline.Event {
	tags := pipeline.Tags{Subject: subject, Site: site, Session: Session(subject, start)}
	at := func(m float64) pipeline.Timestamp {
		return pipeline.Timestamp(start.Add(time.Duration(m * float64(time.Minute))).UnixNano())
	}
	var evs []pipeline.Event
	twitch := func(a, b, rate float64, phase string) {
		if rate <= 0 {
			return
		}
		for m := a + 0.5/rate; m < b; m += 1 / rate {
			for _, s := range []string{"emg", "acc"} {
				evs = append(evs, &pipeline.Twitch{Start: at(m), End: at(m) + 40e6, Tags: tags, Sensor: s, Channel: s,
					Phase: phase, Peak: 0.1, SNR: 6})
			}
		}
	}
	if sp.AtRest {
		twitch(0, 45, sp.PerMin, pipeline.PhaseRest)
		for m := 0.0; m < 45; m += 5 {
			evs = append(evs, &pipeline.Rest{Start: at(m), End: at(m + 5), Tags: tags})
		}
		sortEmitted(evs)
		return evs
	}
	evs = append(evs, &pipeline.Bout{Start: at(0), End: at(30), Tags: tags, Sensor: "acc+emg",
		Intensity: pipeline.IntensityVigorous, PeakRMS: sp.PeakRMS, PeakAcc: 2})
	twitch(30, 45, sp.PerMin, pipeline.PhasePostExercise)
	for i := 0; i < sp.Cramps; i++ {
		m := 31 + float64(i)
		evs = append(evs, &pipeline.Cramp{Start: at(m), End: at(m + 1.0/3), Tags: tags, Sensor: "emg", Channel: "emg", Peak: 1, MeanRMS: 0.4})
	}
	evs = append(evs, &pipeline.Rest{Start: at(30), End: at(45), Tags: tags, AfterExercise: true})
	if sp.Resume {
		evs = append(evs, &pipeline.Bout{Start: at(45), End: at(55), Tags: tags, Sensor: "acc", Intensity: pipeline.IntensityModerate})
		twitch(55, 70, sp.AfterPerMin, pipeline.PhasePostExercise)
		evs = append(evs, &pipeline.Rest{Start: at(55), End: at(70), Tags: tags, AfterExercise: true})
	}
	sortEmitted(evs)
	return evs
}

func sortEmitted(evs []pipeline.Event) {
	sort.SliceStable(evs, func(i, j int) bool { return rule.EventEnd(evs[i]) < rule.EventEnd(evs[j]) })
}

// Write stores evs in srv with the InfluxDB sink's schema, in one
// request (watermarks, which have no schema, are left out).
func Write(t testing.TB, srv *influxtest.Server, evs ...pipeline.Event) {
	t.Helper()
	writePoints(t, srv, "", points(t, evs))
}

// WriteLegacy stores evs in srv as twitchd wrote them before issue 12:
// the recording in a "session" tag of every point instead of a field, and
// assessment and ingest points at their own times (no
// schema.SessionShift). The readers must read this schema too.
func WriteLegacy(t testing.TB, srv *influxtest.Server, evs ...pipeline.Event) {
	t.Helper()
	pts := points(t, evs)
	for i, p := range pts {
		tags := map[string]string{}
		for _, tg := range p.TagList() {
			tags[tg.Key] = tg.Value
		}
		fields := map[string]any{}
		for _, f := range p.FieldList() {
			fields[f.Key] = f.Value
		}
		tm := p.Time()
		if sess, ok := fields[schema.FieldSession].(string); ok {
			delete(fields, schema.FieldSession)
			tags[schema.TagSession] = sess
			if m := p.Name(); m == schema.Assessment || m == schema.Ingest {
				tm = tm.Add(-time.Duration(schema.SessionShift(sess)))
			}
		}
		pts[i] = write.NewPoint(p.Name(), tags, fields, tm)
	}
	writePoints(t, srv, "legacy ", pts)
}

// points returns the sink's points of evs, watermarks left out.
func points(t testing.TB, evs []pipeline.Event) []*write.Point {
	t.Helper()
	var all []*write.Point
	for _, ev := range evs {
		if ev.EventType() == pipeline.TypeWatermark {
			continue
		}
		pts, err := influx.Points(ev)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, pts...)
	}
	return all
}

// writePoints writes pts to srv in one request.
func writePoints(t testing.TB, srv *influxtest.Server, what string, pts []*write.Point) {
	t.Helper()
	if err := srv.Client().WriteAPIBlocking(srv.Org, srv.Bucket).WritePoint(context.Background(), pts...); err != nil {
		t.Fatalf("write %d %spoints: %v", len(pts), what, err)
	}
}

// Watermarked returns evs (in emission order) with a pipeline.Watermark
// after each, as the pipeline.Runner sends them: the earliest start of any
// event still to come, never later than the latest end so far.
func Watermarked(evs []pipeline.Event) []pipeline.Event {
	out := make([]pipeline.Event, 0, 2*len(evs))
	var mark, seen pipeline.Timestamp
	for i, ev := range evs {
		out = append(out, ev)
		seen = max(seen, rule.EventEnd(ev))
		w := seen
		for _, later := range evs[i+1:] {
			w = min(w, later.At())
		}
		if w > mark {
			mark = w
			out = append(out, &pipeline.Watermark{Time: w})
		}
	}
	return out
}

// Assess runs evs (with watermarks, see Watermarked; then extra) through a fresh Engine with the default
// configuration reading hist, as one recording, and returns everything it
// emitted and the final assessment. It fails the test when the history
// could not be read.
func Assess(t testing.TB, hist rule.History, evs []pipeline.Event, extra ...pipeline.Event) ([]pipeline.Event, *pipeline.Assessment) {
	t.Helper()
	tags, _ := rule.EventTags(evs[0])
	cfg := rule.DefaultConfig()
	cfg.HistoryTimeout = 2 * time.Minute // the test machine may be busy
	e := rule.New(context.Background(), cfg, hist, nil)
	if err := e.Begin(pipeline.Meta{Subject: tags.Subject, Site: tags.Site, Session: tags.Session}); err != nil {
		t.Fatal(err)
	}
	var out []pipeline.Event
	emit := func(ev pipeline.Event) {
		if ev.EventType() != pipeline.TypeWatermark {
			out = append(out, ev)
		}
	}
	for _, ev := range Watermarked(evs) {
		e.Handle(ev, emit)
	}
	for _, ev := range extra {
		e.Handle(ev, emit)
	}
	e.End(rule.EventEnd(evs[len(evs)-1]), emit)
	last := out[len(out)-1].(*pipeline.Assessment)
	if last.Measures[rule.MeasureHistoryOK] != 1 {
		t.Fatalf("history not read: %s", last.Reason)
	}
	return out, last
}
