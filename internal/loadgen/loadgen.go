// Package loadgen writes realistic twitchd history straight into InfluxDB
// as line protocol, for measuring how the history read, the report and
// the dashboards scale with the number of people and the length of their
// history (make history-bench), without running the detectors.
//
// Every subject records one session a day at one site: a vigorous bout
// with both sensors, twitches at rest after it seen by EMG and confirmed
// by the accelerometer, a moderate bout, rests, assessments as the rule
// makes them during and at the end of the recording, a cramp every tenth
// day, a symptom note every fourteenth, the file's ingest point, and the
// activity epochs. Events and raw epochs are encoded by the InfluxDB
// sink's own encoder (internal/sink/influx), so the points are exactly
// what `twitchd replay` writes. Every day has what the continuous query
// of `twitchd influx setup` makes: one hourly point per channel and hour
// recorded (schema.RPActivityHourly); the last RawDays days also still
// have their raw epochs (one point per 5-s epoch and channel, in
// schema.RPActivityRaw), which the raw retention has dropped for older
// days.
//
// A subject's history depends only on its index and the Spec, never on
// how many subjects there are: subject 0 has the same history whether S
// is 10 or 1000, which is what comparing read times across S needs.
package loadgen

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/pipeline"
)

// Spec describes the history to generate.
type Spec struct {
	// Subjects [From, To) are generated (To-From people).
	From, To int
	// Days of history per subject, ending at End (a UTC midnight: the
	// last day is the one before End).
	Days int
	End  time.Time
	// RawDays: the last RawDays days have raw activity epochs; older ones
	// hourly points. Default 7.
	RawDays int
	// Twitches per session (each seen by EMG and by the accelerometer,
	// so twice as many points). Default 20.
	Twitches int
	// SessionMinutes is the length of a recording (default 60: 30 min of
	// vigorous exercise, 15 of rest with twitching, 10 moderate, 5 rest).
	SessionMinutes int
	// Site of every recording (default calf_left).
	Site string
}

func (s Spec) withDefaults() Spec {
	if s.RawDays == 0 {
		s.RawDays = 7
	}
	if s.Twitches == 0 {
		s.Twitches = 20
	}
	if s.SessionMinutes < 60 {
		s.SessionMinutes = 60
	}
	if s.Site == "" {
		s.Site = "calf_left"
	}
	if s.End.IsZero() {
		s.End = time.Now().UTC().Truncate(24 * time.Hour)
	}
	return s
}

// Subject names subject i.
func Subject(i int) string { return fmt.Sprintf("s%04d", i) }

// SessionStart is when subject i records on day d (0: the first day),
// at the top of an hour between 06:00 and 17:00 UTC.
func (s Spec) SessionStart(i, d int) time.Time {
	s = s.withDefaults()
	day := s.End.AddDate(0, 0, d-s.Days)
	return day.Add(time.Duration(6+(i*7+d)%12) * time.Hour)
}

// Session names subject i's recording of day d.
func (s Spec) Session(i, d int) string {
	return s.SessionStart(i, d).Format("20060102T150405Z") + "-" + Subject(i)
}

// Output receives lines for a retention policy ("autogen" for events,
// schema.RPActivityRaw, schema.RPActivityHourly).
type Output func(ctx context.Context, rp string, lines []byte) error

// Counts are the points generated.
type Counts struct {
	Events, Raw, Hourly int64
}

// flushAt is the buffer size at which lines are handed to Output.
const flushAt = 1 << 20

// Generate writes the history of Spec through out, subject by subject
// and day by day.
func Generate(ctx context.Context, spec Spec, out Output) (Counts, error) {
	spec = spec.withDefaults()
	var c Counts
	bufs := map[string][]byte{}
	emit := func(rp string, force bool) error {
		b := bufs[rp]
		if len(b) == 0 || (!force && len(b) < flushAt) {
			return nil
		}
		if err := out(ctx, rp, b); err != nil {
			return err
		}
		bufs[rp] = b[:0]
		return nil
	}
	add := func(rp string, ev pipeline.Event) error {
		var n int
		var err error
		bufs[rp], n, err = influx.AppendLines(bufs[rp], ev)
		if err != nil {
			return err
		}
		if rp == "autogen" {
			c.Events += int64(n)
		} else {
			c.Raw += int64(n)
		}
		return emit(rp, false)
	}
	for i := spec.From; i < spec.To; i++ {
		for d := 0; d < spec.Days; d++ {
			if err := ctx.Err(); err != nil {
				return c, err
			}
			evs, epochs := spec.Recording(i, d)
			for _, ev := range evs {
				if err := add("autogen", ev); err != nil {
					return c, err
				}
			}
			if d >= spec.Days-spec.RawDays {
				for _, ep := range epochs {
					if err := add(schema.RPActivityRaw, ep); err != nil {
						return c, err
					}
				}
			}
			b, n := appendHourly(bufs[schema.RPActivityHourly], epochs)
			bufs[schema.RPActivityHourly] = b
			c.Hourly += int64(n)
			if err := emit(schema.RPActivityHourly, false); err != nil {
				return c, err
			}
		}
	}
	for rp := range bufs {
		if err := emit(rp, true); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Recording returns subject i's events of day d (in no particular order)
// and its activity epochs.
func (s Spec) Recording(i, d int) ([]pipeline.Event, []*pipeline.Epoch) {
	s = s.withDefaults()
	t0 := s.SessionStart(i, d)
	tags := pipeline.Tags{Subject: Subject(i), Site: s.Site, Session: s.Session(i, d)}
	at := func(m float64) pipeline.Timestamp {
		return pipeline.Timestamp(t0.Add(time.Duration(m * float64(time.Minute))).UnixNano())
	}
	// A little variation from subject and day, deterministic.
	v := func(k int) float64 { return float64((i*31+d*17+k*7)%100) / 100 }
	evs := []pipeline.Event{
		&pipeline.Bout{Start: at(0), End: at(30), Tags: tags, Sensor: "acc+emg", Intensity: pipeline.IntensityVigorous,
			MeanENMO: 300 + 100*v(1), PeakENMO: 900 + 200*v(2), PeakAcc: 2 + v(3), PeakRMS: 0.8 + 0.4*v(4), MeanRMS: 0.3 + 0.1*v(5)},
		&pipeline.Rest{Start: at(30), End: at(45), Tags: tags, AfterExercise: true},
		&pipeline.Bout{Start: at(45), End: at(55), Tags: tags, Sensor: "acc", Intensity: pipeline.IntensityModerate,
			MeanENMO: 150 + 50*v(6), PeakENMO: 400 + 100*v(7), PeakAcc: 1 + v(8)},
		&pipeline.Rest{Start: at(55), End: at(float64(s.SessionMinutes)), Tags: tags, AfterExercise: true},
	}
	for k := 0; k < s.Twitches; k++ {
		m := 30 + 15*(float64(k)+0.5)/float64(s.Twitches)
		evs = append(evs,
			&pipeline.Twitch{Start: at(m), End: at(m) + 40e6, Tags: tags, Sensor: "emg", Channel: "emg", Phase: pipeline.PhasePostExercise,
				Peak: 0.05 + 0.1*v(10+k), SNR: 6 + 4*v(11+k), Potentials: 1 + k%3},
			&pipeline.Twitch{Start: at(m) + 5e6, End: at(m) + 45e6, Tags: tags, Sensor: "acc", Channel: "acc", Phase: pipeline.PhasePostExercise,
				Peak: 0.01 + 0.02*v(12+k), SNR: 4 + 2*v(13+k), Potentials: 1, Confirmed: true})
	}
	if d%10 == 3 {
		evs = append(evs, &pipeline.Cramp{Start: at(35), End: at(35.4), Tags: tags, Sensor: "emg", Channel: "emg", Peak: 1.2, MeanRMS: 0.5})
	}
	if d%14 == 5 {
		evs = append(evs, &pipeline.Symptom{Time: at(120), Tags: pipeline.Tags{Subject: Subject(i)}, Symptom: "cramps", Text: "night cramp"})
	}
	final := pipeline.StatusCeased
	if d%5 == 0 {
		final = pipeline.StatusPostExercise
	}
	measures := map[string]float64{"twitches": float64(s.Twitches), "bouts": 2, "rate_after_per_min": 0.2, "rest_after_min": 5}
	evs = append(evs,
		&pipeline.Assessment{Time: at(45), Tags: tags, Status: string(pipeline.StatusPostExercise), Reason: "twitches at rest after exercise",
			Advice: []string{"keep-watching: resume light activity"}, Notice: "not a medical device", Measures: measures},
		&pipeline.Assessment{Time: at(float64(s.SessionMinutes)), Tags: tags, Status: string(final), Reason: "end of recording",
			Advice: []string{"keep-watching: resume light activity"}, Notice: "not a medical device", Measures: measures},
		&pipeline.Summary{Tags: tags, File: Subject(i) + "-" + strconv.Itoa(d) + ".edf", Format: "edf", Start: at(0), End: at(float64(s.SessionMinutes)),
			Channels: []pipeline.ChannelSummary{{Name: "emg", Samples: int64(s.SessionMinutes) * 60_000}, {Name: "acc_x", Samples: int64(s.SessionMinutes) * 6000}},
			Bouts:    2, Twitches: 2 * s.Twitches})
	n := s.SessionMinutes * 12
	epochs := make([]*pipeline.Epoch, 0, 2*n)
	for k := 0; k < n; k++ {
		st := at(float64(k) / 12)
		en := st + 5e9
		m := float64(k) / 12
		enmo, intensity := 5+3*math.Sin(float64(k)), pipeline.IntensitySedentary
		switch {
		case m < 30:
			enmo, intensity = 350+50*math.Sin(float64(k)), pipeline.IntensityVigorous
		case m >= 45 && m < 55:
			enmo, intensity = 150+20*math.Sin(float64(k)), pipeline.IntensityModerate
		}
		epochs = append(epochs,
			&pipeline.Epoch{Start: st, End: en, Tags: tags, Sensor: "acc", Channel: "acc", ENMO: enmo, Noise: 0.8, Intensity: intensity},
			&pipeline.Epoch{Start: st, End: en, Tags: tags, Sensor: "emg", Channel: "emg", RMS: enmo / 1000, Noise: 0.004})
	}
	return evs, epochs
}

// appendHourly appends the hourly points the continuous query makes of
// epochs (internal/influxsetup.Downsample): per hour and channel, the
// means under the raw names, the maxima with _max, the seconds.
func appendHourly(dst []byte, epochs []*pipeline.Epoch) ([]byte, int) {
	type key struct {
		hour   int64
		sensor string
	}
	type agg struct {
		ep                         *pipeline.Epoch
		n                          int
		v, vmax, noise, dur, level float64
	}
	aggs := map[key]*agg{}
	var order []key
	for _, e := range epochs {
		k := key{int64(e.Start) / int64(time.Hour) * int64(time.Hour), e.Sensor}
		a := aggs[k]
		if a == nil {
			a = &agg{ep: e, vmax: math.Inf(-1), level: -1}
			aggs[k] = a
			order = append(order, k)
		}
		x := e.RMS
		if e.Sensor == "acc" {
			x = e.ENMO
		}
		a.n++
		a.v += x
		a.vmax = math.Max(a.vmax, x)
		a.noise += e.Noise
		a.dur += float64(e.End-e.Start) / 1e9
		if l := map[string]float64{pipeline.IntensitySedentary: 0, pipeline.IntensityLight: 1, pipeline.IntensityModerate: 2,
			pipeline.IntensityVigorous: 3}; e.Intensity != "" {
			a.level = math.Max(a.level, l[e.Intensity])
		}
	}
	for _, k := range order {
		a := aggs[k]
		mean, mx := schema.FieldRMS, schema.FieldRMSMax
		if k.sensor == "acc" {
			mean, mx = schema.FieldENMO, schema.FieldENMOMax
		}
		dst = fmt.Appendf(dst, "%s,%s=%s,%s=%s,%s=%s,%s=%s %s=%g,%s=%g,%s=%g,%s=%g",
			schema.Activity, schema.TagChannel, k.sensor, schema.TagSensor, k.sensor, schema.TagSite, a.ep.Site, schema.TagSubject, a.ep.Subject,
			mean, a.v/float64(a.n), mx, a.vmax, schema.FieldNoise, a.noise/float64(a.n), schema.FieldDuration, a.dur)
		if a.level >= 0 {
			dst = fmt.Appendf(dst, ",%s=%g", schema.FieldIntensityLevelMax, a.level)
		}
		dst = fmt.Appendf(dst, " %d\n", k.hour)
	}
	return dst, len(order)
}
