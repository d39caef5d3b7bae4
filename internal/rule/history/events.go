package history

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

// Events reads back what twitchd wrote for subject (and site unless
// empty) in [start, end): bouts, rests, twitches, cramps, symptoms,
// assessments and the per-recording summaries (measurement ingest), each
// as its pipeline event. Symptoms logged without a site are included.
// Events come in the order detectors emit them (see SortEmitted).
func (r *Reader) Events(ctx context.Context, subject, site string, start, end time.Time) ([]pipeline.Event, error) {
	var evs []pipeline.Event
	type reader struct {
		m  string
		fn func(w row) pipeline.Event
	}
	for _, rd := range []reader{
		{schema.Bout, boutEvent}, {schema.Rest, restEvent}, {schema.Twitch, twitchEvent}, {schema.Cramp, crampEvent},
		{schema.Assessment, assessmentEvent}, {schema.Ingest, summaryEvent},
	} {
		err := r.runRows(ctx, rd.m, r.from(rd.m, subject, site, start, end)+pivoted, func(w row) {
			evs = append(evs, rd.fn(w))
		})
		if err != nil {
			return nil, err
		}
	}
	syms, err := r.Symptoms(ctx, subject, site, start, end)
	if err != nil {
		return nil, err
	}
	for i := range syms {
		evs = append(evs, &syms[i])
	}
	SortEmitted(evs)
	return evs, nil
}

// Emitted returns when a detector emits ev: rule.EventEnd.
func Emitted(ev pipeline.Event) pipeline.Timestamp { return rule.EventEnd(ev) }

// SortEmitted orders evs as the detectors emit them: by Emitted, then by
// start, so replaying them through a rule.Engine sees what it saw live.
func SortEmitted(evs []pipeline.Event) {
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := Emitted(evs[i]), Emitted(evs[j])
		if a != b {
			return a < b
		}
		return evs[i].At() < evs[j].At()
	})
}

func boutEvent(w row) pipeline.Event {
	rec := w.FluxRecord
	return &pipeline.Bout{Start: ts(rec.Time()), End: end(rec), Tags: tags(rec), Sensor: str(rec, "sensor"),
		Intensity: str(rec, "intensity"), MeanENMO: num(rec, "mean_enmo_mg"), PeakENMO: num(rec, "peak_enmo_mg"),
		PeakAcc: num(rec, "peak_acc_g"), PeakRMS: num(rec, "peak_emg_rms_mv"), MeanRMS: num(rec, "mean_emg_rms_mv")}
}

func restEvent(w row) pipeline.Event {
	rec := w.FluxRecord
	return &pipeline.Rest{Start: ts(rec.Time()), End: end(rec), Tags: tags(rec), AfterExercise: num(rec, "after_exercise") != 0}
}

func twitchEvent(w row) pipeline.Event {
	rec := w.FluxRecord
	return &pipeline.Twitch{Start: ts(rec.Time()), End: end(rec), Tags: tags(rec), Sensor: str(rec, "sensor"),
		Channel: str(rec, "channel"), Phase: str(rec, "phase"), Peak: num(rec, "peak"), SNR: num(rec, "snr"),
		Potentials: int(num(rec, "potentials")), Confirmed: num(rec, "confirmed") != 0}
}

func crampEvent(w row) pipeline.Event {
	rec := w.FluxRecord
	return &pipeline.Cramp{Start: ts(rec.Time()), End: end(rec), Tags: tags(rec), Sensor: str(rec, "sensor"),
		Channel: str(rec, "channel"), Peak: num(rec, "peak"), MeanRMS: num(rec, "mean_rms")}
}

func summaryEvent(w row) pipeline.Event {
	rec, start := w.FluxRecord, w.shiftedTime()
	return &pipeline.Summary{Tags: tags(rec), File: str(rec, "file"), Format: str(rec, "format"),
		Start: start, End: start + pipeline.Timestamp(num(rec, "duration_s")*1e9), SkippedLines: int64(num(rec, "skipped_lines")),
		LostSamples: int64(num(rec, "lost_samples")), Bouts: int(num(rec, "bouts")),
		Twitches: int(num(rec, "twitches")), Cramps: int(num(rec, "cramps"))}
}

// assessmentColumns are the assessment's own columns; every other numeric
// column is a measure.
var assessmentColumns = map[string]bool{"status_level": true, "reason": true, "advice": true, "notice": true, "session": true}

func assessmentEvent(w row) pipeline.Event {
	rec := w.FluxRecord
	a := &pipeline.Assessment{Time: w.shiftedTime(), Tags: tags(rec), Status: str(rec, "status"),
		Reason: str(rec, "reason"), Notice: str(rec, "notice"), Measures: map[string]float64{}}
	if adv := str(rec, "advice"); adv != "" {
		a.Advice = strings.Split(adv, "; ")
	}
	for k, v := range rec.Values() {
		if strings.HasPrefix(k, "_") || k == "result" || k == "table" || assessmentColumns[k] {
			continue
		}
		switch x := v.(type) {
		case float64:
			a.Measures[strings.TrimPrefix(k, "m_")] = x
		case int64:
			a.Measures[strings.TrimPrefix(k, "m_")] = float64(x)
		}
	}
	return a
}
