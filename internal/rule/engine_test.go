package rule

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// at returns the time min minutes after t0.
func at(min float64) pipeline.Timestamp {
	return pipeline.Timestamp(t0.Add(time.Duration(min * float64(time.Minute))).UnixNano())
}

// day returns the time d days and m minutes after t0.
func day(d int, m float64) pipeline.Timestamp { return at(float64(d)*24*60 + m) }

func tagsOf(subject string) pipeline.Tags {
	return pipeline.Tags{Subject: subject, Site: "calf_left", Session: "s1"}
}

func bout(a, b float64, intensity string) *pipeline.Bout {
	return &pipeline.Bout{Start: at(a), End: at(b), Tags: tagsOf("p1"), Sensor: "acc+emg", Intensity: intensity}
}

func rest(a, b float64) *pipeline.Rest {
	return &pipeline.Rest{Start: at(a), End: at(b), Tags: tagsOf("p1"), AfterExercise: true}
}

// twitches spreads perMin twitches a minute over [a, b), starting half an
// interval in, seen by the given sensor.
func twitches(a, b, perMin float64, sensor string) []pipeline.Event {
	var out []pipeline.Event
	step := 1 / perMin
	for m := a + step/2; m < b; m += step {
		out = append(out, &pipeline.Twitch{Start: at(m), End: at(m) + 30e6, Tags: tagsOf("p1"),
			Sensor: sensor, Channel: sensor, Phase: pipeline.PhasePostExercise, Peak: 0.1, SNR: 8})
	}
	return out
}

// phased sets the phase of every twitch in evs.
func phased(phase string, evs []pipeline.Event) []pipeline.Event {
	for _, ev := range evs {
		if tw, ok := ev.(*pipeline.Twitch); ok {
			tw.Phase = phase
		}
	}
	return evs
}

func cramp(a, b float64) *pipeline.Cramp {
	return &pipeline.Cramp{Start: at(a), End: at(b), Tags: tagsOf("p1"), Sensor: "emg", Channel: "emg"}
}

func symptom(m float64, name string) *pipeline.Symptom {
	return &pipeline.Symptom{Time: at(m), Tags: pipeline.Tags{Subject: "p1"}, Symptom: name}
}

func flatten(parts []any) []pipeline.Event {
	var evs []pipeline.Event
	for _, p := range parts {
		switch v := p.(type) {
		case pipeline.Event:
			evs = append(evs, v)
		case []pipeline.Event:
			evs = append(evs, v...)
		}
	}
	return evs
}

// emitted orders events as detectors emit them: when they end.
func emitted(parts ...any) []pipeline.Event {
	evs := flatten(parts)
	sort.SliceStable(evs, func(i, j int) bool { return EventEnd(evs[i]) < EventEnd(evs[j]) })
	return evs
}

// arriving keeps the order given: for events a detector emits late.
func arriving(parts ...any) []pipeline.Event { return flatten(parts) }

// newEngine begins a stream of p1 at calf_left.
func newEngine(t testing.TB, cfg Config, hist History) *Engine {
	t.Helper()
	e := New(context.Background(), cfg, hist, nil)
	if err := e.Begin(pipeline.Meta{Subject: "p1", Site: "calf_left", Session: "s1"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// run hands evs to a fresh Engine without watermarks (so everything is
// processed at End) and returns every assessment.
func run(t *testing.T, cfg Config, hist History, evs []pipeline.Event, last float64) []*pipeline.Assessment {
	t.Helper()
	e := newEngine(t, cfg, hist)
	var out []*pipeline.Assessment
	forwarded := 0
	emit := func(ev pipeline.Event) {
		if a, ok := ev.(*pipeline.Assessment); ok {
			out = append(out, a)
			return
		}
		forwarded++
	}
	for _, ev := range evs {
		e.Handle(ev, emit)
	}
	e.End(at(last), emit)
	if forwarded != len(evs) {
		t.Fatalf("forwarded %d of %d events", forwarded, len(evs))
	}
	return out
}

// runLive hands evs to a fresh Engine in the order given, each followed
// by a watermark as the Runner sends them: the earliest start of any
// event still to come (the detectors' promise), the last event's end at
// the end. It checks that every assessment is emitted before the
// watermark that allowed it is forwarded, and not after that watermark.
func runLive(t *testing.T, cfg Config, hist History, evs []pipeline.Event, last float64) []*pipeline.Assessment {
	t.Helper()
	e := newEngine(t, cfg, hist)
	var out []*pipeline.Assessment
	var mark pipeline.Timestamp
	emit := func(ev pipeline.Event) {
		switch v := ev.(type) {
		case *pipeline.Assessment:
			if v.Time > mark {
				t.Errorf("assessment at %s emitted under watermark %s", v.Time, mark)
			}
			out = append(out, v)
		case *pipeline.Watermark:
			if v.Time != mark {
				t.Errorf("watermark %s forwarded, want %s", v.Time, mark)
			}
		}
	}
	var seen pipeline.Timestamp // the latest end so far: the stream's clock
	for i, ev := range evs {
		e.Handle(ev, emit)
		if _, ok := ev.(*pipeline.Symptom); ok {
			continue // a person's note, not from the detectors
		}
		seen = max(seen, EventEnd(ev))
		w := seen
		for _, later := range evs[i+1:] {
			if _, ok := later.(*pipeline.Symptom); !ok {
				w = min(w, later.At())
			}
		}
		if w > mark {
			mark = w
			e.Handle(&pipeline.Watermark{Time: w}, emit)
		}
	}
	mark = max(mark, at(last))
	e.End(at(last), emit)
	if e.Pending() != 0 {
		t.Errorf("%d events still pending after End", e.Pending())
	}
	return out
}

func final(t *testing.T, as []*pipeline.Assessment, subject string) *pipeline.Assessment {
	t.Helper()
	for i := len(as) - 1; i >= 0; i-- {
		if as[i].Subject == subject {
			return as[i]
		}
	}
	t.Fatalf("no assessment for %s", subject)
	return nil
}

type failingHistory struct{}

func (failingHistory) Load(context.Context, Query) (Past, error) {
	return Past{}, errors.New("connection refused")
}

// histWith returns a MemoryHistory of p1 at calf_left filled by fill.
func histWith(fill func(h *MemoryHistory)) *MemoryHistory {
	h := &MemoryHistory{}
	fill(h)
	return h
}

const (
	V = pipeline.IntensityVigorous
	M = pipeline.IntensityModerate
	L = pipeline.IntensityLight
)

type engineCase struct {
	name     string
	hist     History
	evs      []pipeline.Event // in arrival order
	last     float64
	status   Status
	reason   []string           // substrings of the final reason
	measures map[string]float64 // exact values expected
	changes  []Status           // statuses of the assessments emitted on change, in order
	never    []Status           // statuses no assessment may have
}

// engineCases are the rule's statuses and transitions, each named.
func engineCases() []engineCase {
	ep := func(h *MemoryHistory, session string, t pipeline.Timestamp) {
		h.AddEpisode("p1", "calf_left", PastEpisode{Time: t, Session: session})
	}
	daysHist := histWith(func(h *MemoryHistory) {
		ep(h, "d1", day(-1, 40))
		ep(h, "d3", day(-3, 40))
	})
	ceasedHist := histWith(func(h *MemoryHistory) {
		ep(h, "d1", day(-1, 40))
		ep(h, "d3", day(-3, 40))
		h.AddFinal("p1", "calf_left", PastFinal{Time: day(-3, 70), Session: "d3", Status: StatusCeased})
	})
	atRestDays := histWith(func(h *MemoryHistory) {
		ep(h, "d1", day(-1, 300))
		ep(h, "d2", day(-2, 300))
		h.AddFinal("p1", "calf_left", PastFinal{Time: day(-1, 320), Session: "d1", Status: StatusAtRest})
	})
	oldBout := histWith(func(h *MemoryHistory) {
		h.AddBout("p1", "calf_left", PastBout{Start: at(-9 * 60), End: at(-8 * 60), Intensity: V})
	})
	recentBout := histWith(func(h *MemoryHistory) {
		h.AddBout("p1", "calf_left", PastBout{Start: at(-60), End: at(-20), Intensity: V, Session: "other"})
	})
	otherSiteBout := histWith(func(h *MemoryHistory) {
		h.AddBout("p1", "wrist_left", PastBout{Start: at(-60), End: at(-20), Intensity: M, Session: "watch"})
	})
	morning := histWith(func(h *MemoryHistory) { // twitching at rest 06:00-07:30, no activity
		for m := -180.0; m <= -90; m += 5 {
			ep(h, "morning", at(m))
		}
	})
	lastNight := histWith(func(h *MemoryHistory) { // at rest until 21:00 the day before
		for m := -780.0; m <= -720; m += 5 {
			ep(h, "night", at(m))
		}
	})
	weakHist := histWith(func(h *MemoryHistory) {
		for d := 1; d <= 4; d++ {
			h.AddBout("p1", "calf_left", PastBout{Start: day(-d, 0), End: day(-d, 30), Intensity: V, PeakRMS: 1.0, PeakAcc: 2.0})
		}
	})
	symptomHist := histWith(func(h *MemoryHistory) {
		h.AddSymptom(pipeline.Symptom{Time: day(-5, 0), Tags: pipeline.Tags{Subject: "p1"}, Symptom: SymptomClumsiness})
	})
	otherHist := histWith(func(h *MemoryHistory) {
		h.AddSymptom(pipeline.Symptom{Time: day(-5, 0), Tags: pipeline.Tags{Subject: "p1"}, Symptom: SymptomOther})
	})
	oldSymptom := histWith(func(h *MemoryHistory) {
		h.AddSymptom(pipeline.Symptom{Time: day(-20, 0), Tags: pipeline.Tags{Subject: "p1"}, Symptom: SymptomWeakness})
	})

	weakBout := bout(0, 30, V)
	weakBout.PeakRMS, weakBout.PeakAcc = 0.6, 1.9
	strongBout := bout(0, 30, V)
	strongBout.PeakRMS, strongBout.PeakAcc = 0.95, 2.1

	// The usual shape: exercise, 15 min rest with twitching, 10 min of
	// resumed activity, then rest with or without twitching.
	ceasing := func() []pipeline.Event {
		return emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70))
	}
	persisting := func() []pipeline.Event {
		return emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70),
			twitches(55, 70, 2, "emg"))
	}
	atRest := func() []pipeline.Event {
		return emitted(rest(0, 20), phased(pipeline.PhaseRest, twitches(0, 20, 2, "emg")))
	}
	rateNeverSeen := []Status{StatusAtRest, StatusPersistent, StatusPersistentWithSymptoms}

	return []engineCase{
		// none
		{
			name: "none: too few twitches", evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 0.2, "emg")), last: 45,
			status: StatusNone, reason: []string{"no twitch episode (3 twitches at rest, 0 during activity"},
			measures: map[string]float64{MeasureTwitches: 3, MeasureEpisodes: 0, MeasureBouts: 1},
		},
		{
			name: "none: emg and acc see the same twitches once",
			evs:  emitted(bout(0, 30, V), rest(30, 45), twitches(30, 40, 0.8, "emg"), twitches(30, 40, 0.8, "acc")), last: 45,
			status: StatusNone, measures: map[string]float64{MeasureTwitches: 8, MeasureEpisodes: 0},
		},
		{
			name: "none: twitches inside a bout count as activity whatever their phase",
			evs:  emitted(bout(0, 30, L), phased(pipeline.PhaseRest, twitches(5, 25, 2, "emg")), rest(30, 40)), last: 40,
			status: StatusNone, measures: map[string]float64{MeasureTwitches: 0, MeasureActiveTwitches: 40},
		},
		// post_exercise
		{
			name: "post_exercise: ends before activity resumes", evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")), last: 45,
			status: StatusPostExercise,
			reason: []string{"30 twitches at rest between 09:30 and 09:44 (2.0/min), beginning 0 min after activity ended at 09:30",
				"the recording ended before activity resumed", "keep watching"},
			measures: map[string]float64{MeasureTwitches: 30, MeasureEpisodes: 1, MeasureDays: 1, MeasureHoursSinceBout: 0.25,
				MeasureSpellTwitches: 30, MeasureSpellMinutes: 14.5, MeasureActivityBefore: 0.25 / 60},
			changes: []Status{StatusPostExercise},
		},
		{
			name: "post_exercise: a warm-up walk (light bout) then twitching",
			evs:  emitted(bout(0, 8, L), rest(8, 30), phased(pipeline.PhaseRest, twitches(10, 30, 1.5, "emg"))), last: 30,
			status: StatusPostExercise, reason: []string{"beginning 2 min after activity ended at 09:08"},
			never: []Status{StatusAtRest, StatusPersistent},
		},
		{
			name: "post_exercise: exercise in another recording shortly before", hist: recentBout,
			evs: atRest(), last: 20,
			status: StatusPostExercise, measures: map[string]float64{MeasureHoursSinceBout: 40.0 / 60, MeasureBouts: 0},
		},
		{
			name: "post_exercise: exercise recorded at another site shortly before", hist: otherSiteBout,
			evs: atRest(), last: 20, status: StatusPostExercise,
		},
		{
			name: "post_exercise: resumed only briefly",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 47, L), rest(47, 60),
				twitches(47, 60, 2, "emg")), last: 60,
			status: StatusPostExercise, reason: []string{"resumed only briefly (1 bout(s), the longest 2.0 min; 5 min needed)"},
			measures: map[string]float64{MeasureBriefResumes: 1},
		},
		{
			name: "post_exercise: recording ends too soon after resuming",
			evs:  emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 56)), last: 56,
			status: StatusPostExercise, reason: []string{"activity resumed 09:45–09:55 (10.0 min), but the recording ended after 1.0 min of rest after it (3 min needed to judge)"},
			measures: map[string]float64{MeasureRestAfter: 1},
		},
		{
			name: "post_exercise: a few stray twitches after resuming are too thin to call persistent",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(35, 45, 1, "emg"), bout(45, 55, M), rest(55, 70),
				twitches(55, 65, 0.3, "emg")), last: 70,
			status: StatusPostExercise, reason: []string{"13 twitches at rest between 09:35 and 10:03 (0.7/min)", "the rate fell, but not clearly: 3 twitches in 10.0 min of rest (0.30/min) vs 1.00/min before (ceased needs at most 0.25/min), and no episode followed"},
			measures: map[string]float64{MeasureTwitchesAfter: 3, MeasureEpisodeAfter: 0},
			never:    rateNeverSeen,
		},
		{
			name: "post_exercise: the rate after stayed up, but too few twitches for an episode",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(35, 45, 1, "emg"), bout(45, 55, M), rest(55, 58),
				twitches(55, 58, 4.0/3, "emg"), rest(70, 80)), last: 80,
			status: StatusPostExercise, reason: []string{"too few twitches followed to judge: 4 in 3.0 min of rest (1.33/min; ceased needs at most 0.25/min) and no episode"},
			measures: map[string]float64{MeasureRestAfter: 3, MeasureTwitchesAfter: 4, MeasureEpisodeAfter: 0},
			never:    rateNeverSeen,
		},
		{
			name: "post_exercise: a gap in the data after resuming is not rest",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 57),
				twitches(55, 57, 2, "emg"), rest(70, 80)), last: 80,
			status: StatusPostExercise, reason: []string{"but only 2.0 min of rest followed within 10 min (3 min needed to judge)"},
			measures: map[string]float64{MeasureRestAfter: 2, MeasureRateAfter: 2},
			never:    rateNeverSeen,
		},
		{
			name: "post_exercise: a logged symptom does not raise twitching after exercise",
			evs:  emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), symptom(35, SymptomWeakness)), last: 45,
			status: StatusPostExercise, reason: []string{"also logged weakness (after exercise these are common"},
		},
		// ceased
		{
			name: "ceased: resumed and ceased", evs: ceasing(), last: 70,
			status: StatusCeased,
			reason: []string{"twitching ceased once activity resumed 09:45–09:55 (10.0 min): 0 twitches in 10.0 min of rest after it (0.00/min) vs 2.00/min in 10.0 min before (ceased at or below 0.50/min); a good sign"},
			measures: map[string]float64{MeasureRateBefore: 2, MeasureRateAfter: 0, MeasureRestBefore: 10, MeasureRestAfter: 10,
				MeasureResumedMin: 10, MeasureDays: 0},
			changes: []Status{StatusPostExercise, StatusCeased},
		},
		{
			name: "ceased: resumed with a couple of stray twitches",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70),
				twitches(55, 65, 0.2, "emg")), last: 70,
			status: StatusCeased, measures: map[string]float64{MeasureRateAfter: 0.2, MeasureTwitchesAfter: 2},
			never: rateNeverSeen,
		},
		{
			name: "ceased: a brief resume then a real one",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 47, L), rest(47, 50),
				twitches(47, 50, 2, "emg"), bout(50, 60, M), rest(60, 75)), last: 75,
			status: StatusCeased, measures: map[string]float64{MeasureBriefResumes: 1, MeasureRestBefore: 8},
		},
		{
			name: "ceased: judged at the end with a short but sufficient rest",
			evs:  emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 59)), last: 59,
			status: StatusCeased, measures: map[string]float64{MeasureRestAfter: 4},
		},
		{
			name: "ceased: two resumed bouts close together are judged by the rest after both",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 57),
				twitches(55, 57, 2, "emg"), bout(57, 65, M), rest(65, 80)), last: 80,
			status: StatusCeased, measures: map[string]float64{MeasureResumedMin: 18, MeasureRestAfter: 10},
		},
		{
			name: "ceased: at_rest, then a walk, and the twitching stopped",
			evs:  emitted(rest(0, 20), phased(pipeline.PhaseRest, twitches(0, 20, 2, "emg")), bout(20, 30, L), rest(30, 45)), last: 45,
			status: StatusCeased, changes: []Status{StatusAtRest, StatusCeased},
		},
		{
			name: "ceased: with a cramp stays ceased", evs: emitted(ceasing(), cramp(40, 40.5)), last: 70,
			status: StatusCeased, measures: map[string]float64{MeasureCramps: 1},
		},
		// at_rest
		{
			name: "at_rest: a first episode with no activity before it", evs: atRest(), last: 20,
			status:   StatusAtRest,
			reason:   []string{"40 twitches at rest between 09:00 and 09:19 (2.0/min); no exercise or other activity recorded in the 6 h before it; watch whether it recurs"},
			measures: map[string]float64{MeasureSpellTwitches: 40, MeasureDays: 1},
			changes:  []Status{StatusAtRest},
		},
		{
			name: "at_rest: the last exercise long before", hist: oldBout, evs: atRest(), last: 20,
			status: StatusAtRest, reason: []string{"(the last ended 8.0 h before, at 01:00)"},
			measures: map[string]float64{MeasureActivityBefore: (480 + 0.25) / 60},
		},
		{
			name: "at_rest: a detected cramp does not raise it", evs: emitted(atRest(), cramp(10, 10.5)), last: 20,
			status: StatusAtRest, reason: []string{"also 1 detected cramp(s) (at rest only a logged symptom raises the status)"},
			measures: map[string]float64{MeasureCramps: 1},
		},
		{
			name: "at_rest: a walk and twitching went on: the time criteria decide",
			evs: emitted(rest(0, 20), phased(pipeline.PhaseRest, twitches(0, 20, 2, "emg")), bout(20, 30, L), rest(30, 45),
				phased(pipeline.PhaseRest, twitches(30, 45, 2, "emg"))), last: 45,
			status: StatusAtRest, reason: []string{"twitching went on after it (20 twitches in 10.0 min of rest, 2.00/min, vs 2.00/min before)"},
			changes: []Status{StatusAtRest},
		},
		{
			name: "at_rest: an earlier recording more than EpisodeGap before is a recurrence, not continuation", hist: lastNight,
			evs: atRest(), last: 20, status: StatusAtRest, measures: map[string]float64{MeasureDays: 2},
		},
		{
			name: "at_rest: twitching 6 h apart with a quiet spell between is not continuing",
			evs: emitted(rest(0, 400), phased(pipeline.PhaseRest, twitches(0, 20, 2, "emg")),
				phased(pipeline.PhaseRest, twitches(380, 400, 2, "emg"))), last: 400,
			status: StatusAtRest, measures: map[string]float64{MeasureEpisodes: 2, MeasureSpellTwitches: 40},
			reason: []string{"40 twitches at rest between 15:20 and 15:39 (2.0/min)", "an earlier spell in this recording 09:00–09:19"},
		},
		// persistent
		{
			name: "persistent: resumed and persisted with an episode after", evs: persisting(), last: 70,
			status: StatusPersistent,
			reason: []string{"twitching went on after activity resumed 09:45–09:55 (10.0 min): 20 twitches in 10.0 min of rest after it (2.00/min; an episode from 09:55 to 10:04) vs 2.00/min before (ceased needs at most 0.50/min)"},
			// Decided early (the window after already held too many
			// twitches), the rate after is refined over the whole window.
			measures: map[string]float64{MeasureRateBefore: 2, MeasureRateAfter: 2, MeasureRestAfter: 10,
				MeasureTwitches: 60, MeasureEpisodes: 2, MeasureTwitchesAfter: 20, MeasureEpisodeAfter: 1},
			changes: []Status{StatusPostExercise, StatusPersistent},
		},
		{
			name: "persistent: twitching continues at rest for hours after exercise",
			evs:  emitted(bout(0, 30, V), rest(30, 450), twitches(30, 450, 1.2, "emg")), last: 450,
			status: StatusPersistent, reason: []string{"twitching at rest continued 6.0 h after activity ended at 09:30 (episodes from 09:30 to 15:30; limit 6 h)"},
			changes: []Status{StatusPostExercise, StatusPersistent},
		},
		{
			name: "persistent: at_rest continuing for more than 6 h",
			evs:  emitted(rest(0, 420), phased(pipeline.PhaseRest, twitches(0, 420, 1.2, "emg"))), last: 420,
			status: StatusPersistent, reason: []string{"twitching at rest continued 6.0 h with no activity recorded before or in between (episodes from 09:00 to 15:01; limit 6 h)"},
			changes:  []Status{StatusAtRest, StatusPersistent},
			measures: map[string]float64{MeasureHoursTwitching: 503 / 1.2 / 60},
		},
		{
			name: "persistent: at_rest continuing from an earlier recording", hist: morning,
			evs: emitted(rest(0, 240), phased(pipeline.PhaseRest, twitches(0, 240, 1.2, "emg"))), last: 240,
			status: StatusPersistent, reason: []string{"episodes from 06:00 (an earlier recording) to 12:00"},
			changes: []Status{StatusAtRest, StatusPersistent},
		},
		{
			name: "persistent: at_rest on 3 days", hist: atRestDays, evs: atRest(), last: 20,
			status: StatusPersistent, reason: []string{"did not cease on 3 days within 14 days (2026-10-31, 2026-11-01, 2026-11-02; limit 3)"},
			measures: map[string]float64{MeasureDays: 3}, changes: []Status{StatusPersistent},
		},
		{
			name: "persistent: episodes after exercise on three days", hist: daysHist,
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")), last: 45,
			status: StatusPersistent, reason: []string{"did not cease on 3 days"},
			measures: map[string]float64{MeasureDays: 3},
		},
		{
			name: "post_exercise: a recording whose twitching ceased does not count its day", hist: ceasedHist,
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")), last: 45,
			status: StatusPostExercise, measures: map[string]float64{MeasureDays: 2},
		},
		// persistent_with_symptoms
		{
			name: "persistent_with_symptoms: at_rest with a logged weakness",
			evs:  emitted(atRest(), symptom(5, SymptomWeakness)), last: 20,
			status: StatusPersistentWithSymptoms, reason: []string{"40 twitches at rest", "together with logged weakness"},
			changes: []Status{StatusAtRest, StatusPersistentWithSymptoms},
		},
		{
			name: "persistent_with_symptoms: persistent with a detected cramp", evs: emitted(persisting(), cramp(40, 40.5)), last: 70,
			status: StatusPersistentWithSymptoms, reason: []string{"1 detected cramp"},
			measures: map[string]float64{MeasureCramps: 1},
		},
		{
			name: "persistent_with_symptoms: a symptom logged during the recording",
			evs:  emitted(persisting(), symptom(35, SymptomWeakness)), last: 70,
			status: StatusPersistentWithSymptoms, reason: []string{"logged weakness"},
			measures: map[string]float64{MeasureSymptoms: 1},
		},
		{
			name: "persistent_with_symptoms: every accompanying symptom is named, also those after the status was raised",
			evs:  append(emitted(persisting(), cramp(40, 40.5)), symptom(80, SymptomClumsiness)), last: 70,
			status: StatusPersistentWithSymptoms, reason: []string{"together with logged clumsiness, 1 detected cramp(s)"},
			changes: []Status{StatusPostExercise, StatusPersistentWithSymptoms},
		},
		{
			name: "persistent_with_symptoms: a symptom logged days before", hist: symptomHist, evs: persisting(), last: 70,
			status: StatusPersistentWithSymptoms, reason: []string{"logged clumsiness"},
		},
		{
			name: "persistent: symptom 'other' does not raise", hist: otherHist, evs: persisting(), last: 70,
			status: StatusPersistent, measures: map[string]float64{MeasureSymptoms: 0},
		},
		{
			name: "persistent: a symptom older than the lookback does not raise", hist: oldSymptom, evs: persisting(), last: 70,
			status: StatusPersistent,
		},
		{
			name: "persistent_with_symptoms: persistent with a weakness trend", hist: weakHist,
			evs:  emitted(weakBout, rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70), twitches(55, 70, 2, "emg")),
			last: 70, status: StatusPersistentWithSymptoms, reason: []string{"weakness trend (strength proxy at 60%"},
			measures: map[string]float64{MeasureStrengthRatio: 0.6},
		},
		{
			name: "persistent: strength within the baseline does not raise", hist: weakHist,
			evs:  emitted(strongBout, rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70), twitches(55, 70, 2, "emg")),
			last: 70, status: StatusPersistent, measures: map[string]float64{MeasureStrengthRatio: 0.95},
		},
		// timing
		{
			// A warm-up walk the detector reports late (it waited to see
			// whether the walk went on): its twitches arrive first, but
			// the watermark stays at the walk's start until it arrives.
			name: "timing: twitches arriving before the bout that precedes them",
			evs: arriving(rest(10, 20), phased(pipeline.PhasePostExercise, twitches(10, 20, 2, "emg")),
				bout(0, 10, L), rest(20, 30)), last: 30,
			status: StatusPostExercise, never: []Status{StatusAtRest, StatusPersistent, StatusPersistentWithSymptoms},
			changes: []Status{StatusPostExercise},
		},
		{
			name: "history unavailable", hist: failingHistory{}, evs: ceasing(), last: 70,
			status: StatusCeased, reason: []string{"history unavailable"}, measures: map[string]float64{MeasureHistoryOK: 0},
		},
	}
}

// TestEngineStatuses runs every case twice: all events handed over
// before End (processed there), and live, each event followed by a
// watermark as the Runner sends them. Both must give the same
// assessments, since an assessment carries the time its evidence
// sufficed, not the time a watermark came.
func TestEngineStatuses(t *testing.T) {
	for _, tc := range engineCases() {
		t.Run(tc.name, func(t *testing.T) {
			as := run(t, DefaultConfig(), tc.hist, tc.evs, tc.last)
			checkCase(t, tc, as)
			live := runLive(t, DefaultConfig(), tc.hist, tc.evs, tc.last)
			if a, b := describe(as), describe(live); a != b {
				t.Errorf("live assessments differ from those at End:\nend:  %s\nlive: %s", a, b)
			}
		})
	}
}

func checkCase(t *testing.T, tc engineCase, as []*pipeline.Assessment) {
	t.Helper()
	got := final(t, as, "p1")
	if Status(got.Status) != tc.status {
		t.Fatalf("status %s (%s), want %s", got.Status, got.Reason, tc.status)
	}
	for _, r := range tc.reason {
		if !strings.Contains(got.Reason, r) {
			t.Errorf("reason %q does not contain %q", got.Reason, r)
		}
	}
	for k, want := range tc.measures {
		v, ok := got.Measures[k]
		if !ok || math.Abs(v-want) > 1e-9 {
			t.Errorf("measure %s = %v (present %v), want %v", k, v, ok, want)
		}
	}
	if tc.changes != nil {
		var ch []Status
		for _, a := range as[:len(as)-1] {
			ch = append(ch, Status(a.Status))
		}
		if fmt.Sprint(ch) != fmt.Sprint(tc.changes) {
			t.Errorf("assessments on change %v, want %v", ch, tc.changes)
		}
	}
	for _, a := range as {
		for _, n := range tc.never {
			if Status(a.Status) == n {
				t.Errorf("assessment at %s is %s (%s)", a.Time, a.Status, a.Reason)
			}
		}
		if a.Notice != Notice {
			t.Errorf("notice %q", a.Notice)
		}
		checkWording(t, a.Reason)
		for _, adv := range a.Advice {
			checkWording(t, adv)
		}
		medical := false
		for _, adv := range a.Advice {
			medical = medical || strings.HasPrefix(adv, AdviceMedicalOpinion+":") || strings.HasPrefix(adv, AdviceMedicalAssistance+":")
		}
		if medical != Status(a.Status).Persistent() {
			t.Errorf("%s with advice %q: medical items go with persistent* only", a.Status, a.Advice)
		}
		for k, v := range a.Measures {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("measure %s = %v", k, v)
			}
		}
	}
	if got.Time != at(tc.last) {
		t.Errorf("final assessment at %s, want %s", got.Time, at(tc.last))
	}
}

// describe lists assessments by time, status and reason.
func describe(as []*pipeline.Assessment) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "[%s %s %q] ", a.Time, a.Status, a.Reason)
	}
	return b.String()
}

// TestEngineSubjectsInterleaved feeds two people's events through one
// stream: each gets its own state and its own assessments.
func TestEngineSubjectsInterleaved(t *testing.T) {
	retag := func(evs []pipeline.Event, subject string) []pipeline.Event {
		for _, ev := range evs {
			switch v := ev.(type) {
			case *pipeline.Bout:
				v.Subject = subject
			case *pipeline.Rest:
				v.Subject = subject
			case *pipeline.Twitch:
				v.Subject = subject
			}
		}
		return evs
	}
	a := retag(emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70)), "alice")
	b := retag(emitted(bout(1, 31, V), rest(31, 46), twitches(31, 46, 3, "emg"), bout(46, 56, M), rest(56, 70),
		twitches(56, 70, 3, "emg")), "bob")
	for name, runner := range map[string]func(*testing.T, Config, History, []pipeline.Event, float64) []*pipeline.Assessment{
		"end": run, "live": runLive,
	} {
		t.Run(name, func(t *testing.T) {
			as := runner(t, DefaultConfig(), nil, emitted(a, b), 70)
			if s := final(t, as, "alice").Status; s != string(StatusCeased) {
				t.Errorf("alice %s, want ceased", s)
			}
			if s := final(t, as, "bob").Status; s != string(StatusPersistent) {
				t.Errorf("bob %s, want persistent", s)
			}
			if r := final(t, as, "bob").Measures[MeasureRateBefore]; r != 3 {
				t.Errorf("bob's rate before %v, want 3 (alice's twitches must not mix in)", r)
			}
			// The stream's own subject (p1) had no events: it gets a final
			// assessment only when nothing else did, so here there is none.
			for _, x := range as {
				if x.Subject == "p1" {
					t.Errorf("unexpected assessment for the stream's subject: %+v", x)
				}
			}
		})
	}
}

// TestEngineWatermark: events wait for the watermark; a watermark past
// the window after resuming gives the verdict while the rest goes on,
// before any later event, and before the watermark is forwarded.
func TestEngineWatermark(t *testing.T) {
	e := newEngine(t, DefaultConfig(), nil)
	var got []pipeline.Event
	emit := func(ev pipeline.Event) {
		switch ev.(type) {
		case *pipeline.Assessment, *pipeline.Watermark:
			got = append(got, ev)
		}
	}
	statuses := func() []string {
		var s []string
		for _, ev := range got {
			if a, ok := ev.(*pipeline.Assessment); ok {
				s = append(s, a.Status)
			}
		}
		return s
	}
	for _, ev := range emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")) {
		e.Handle(ev, emit)
	}
	if len(got) != 0 || e.Pending() != 32 {
		t.Fatalf("before any watermark: %d emitted, %d pending; want nothing emitted, 32 pending", len(got), e.Pending())
	}
	e.Handle(&pipeline.Watermark{Time: at(31)}, emit)
	if s := statuses(); len(s) != 0 {
		t.Fatalf("watermark at 09:31 (before the 5th twitch): %v", s)
	}
	e.Handle(&pipeline.Watermark{Time: at(45)}, emit)
	if s := statuses(); len(s) != 1 || s[0] != string(StatusPostExercise) || got[len(got)-1].EventType() != pipeline.TypeWatermark {
		t.Fatalf("watermark at 09:45: %v, want post_exercise then the watermark", s)
	}
	if a := got[len(got)-2].(*pipeline.Assessment); a.Time != at(32.25) {
		t.Errorf("post_exercise at %s, want at the 5th twitch (09:32:15)", a.Time)
	}
	for _, ev := range emitted(bout(45, 55, M), rest(55, 60), rest(60, 65)) {
		e.Handle(ev, emit)
	}
	e.Handle(&pipeline.Watermark{Time: at(60)}, emit)
	if s := statuses(); len(s) != 1 {
		t.Fatalf("before the window passed: %v", s)
	}
	e.Handle(&pipeline.Watermark{Time: at(66)}, emit)
	s := statuses()
	if len(s) != 2 || s[1] != string(StatusCeased) {
		t.Fatalf("after the window passed: %v", s)
	}
	a := got[len(got)-2].(*pipeline.Assessment)
	if a.Time != at(65) || a.Measures[MeasureRestAfter] != 10 || e.Pending() != 0 {
		t.Errorf("ceased at %s over %v min of rest (%d pending), want at 10:05 over 10", a.Time, a.Measures[MeasureRestAfter], e.Pending())
	}
}

// TestEngineMaxPending: a stream whose watermark never comes does not
// hold more than MaxPending events.
func TestEngineMaxPending(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPending = 10
	e := newEngine(t, cfg, nil)
	var as []*pipeline.Assessment
	emit := func(ev pipeline.Event) {
		if a, ok := ev.(*pipeline.Assessment); ok {
			as = append(as, a)
		}
	}
	for _, ev := range emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")) {
		e.Handle(ev, emit)
		if e.Pending() > cfg.MaxPending {
			t.Fatalf("%d pending, limit %d", e.Pending(), cfg.MaxPending)
		}
	}
	e.End(at(45), emit)
	if len(as) != 2 || as[1].Status != string(StatusPostExercise) {
		t.Errorf("assessments %s, want post_exercise", describe(as))
	}
}

// TestEngineEmptyStream gives the stream's subject a final "none".
func TestEngineEmptyStream(t *testing.T) {
	as := run(t, DefaultConfig(), nil, nil, 10)
	if len(as) != 1 || as[0].Status != string(StatusNone) || as[0].Subject != "p1" || as[0].Site != "calf_left" {
		t.Fatalf("got %+v, want one none assessment for p1/calf_left", as)
	}
}

// TestEngineDeterministic replays the same events twice.
func TestEngineDeterministic(t *testing.T) {
	evs := emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70))
	a := run(t, DefaultConfig(), nil, evs, 70)
	b := run(t, DefaultConfig(), nil, evs, 70)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d assessments", len(a), len(b))
	}
	for i := range a {
		ja, _ := pipeline.MarshalEvent(a[i])
		jb, _ := pipeline.MarshalEvent(b[i])
		if string(ja) != string(jb) {
			t.Errorf("assessment %d differs:\n%s\n%s", i, ja, jb)
		}
	}
}

// TestEngineHistoryQuery checks what the engine asks the history for.
func TestEngineHistoryQuery(t *testing.T) {
	rec := &recordingHistory{}
	run(t, DefaultConfig(), rec, emitted(bout(0, 30, V)), 30)
	if len(rec.qs) != 1 {
		t.Fatalf("%d queries, want 1", len(rec.qs))
	}
	q := rec.qs[0]
	want := Query{Subject: "p1", Site: "calf_left", ExcludeSession: "s1", Start: t0.Add(-28 * Day), End: t0}
	if !q.Start.Equal(want.Start) || !q.End.Equal(want.End) || q.Subject != want.Subject || q.Site != want.Site ||
		q.ExcludeSession != want.ExcludeSession {
		t.Errorf("query %+v, want %+v", q, want)
	}
}

type recordingHistory struct{ qs []Query }

func (r *recordingHistory) Load(_ context.Context, q Query) (Past, error) {
	r.qs = append(r.qs, q)
	return Past{}, nil
}

func TestShortReason(t *testing.T) {
	cases := []struct{ in, want string }{
		{"7 twitches at rest between 10:02 and 10:09 (1.0/min); no exercise", "7 twitches at rest between 10:02 and 10:09 (1.0/min)"},
		{"a; b", "a"},
		{"went on (2.00/min; an episode from 09:55 to 10:04) vs 2.00/min; together with", "went on (2.00/min; an episode from 09:55 to 10:04) vs 2.00/min"},
		{"no status: here; x", "no status: here"},
		{"plain", "plain"},
	}
	for _, c := range cases {
		if got := ShortReason(c.in); got != c.want {
			t.Errorf("ShortReason(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"zero twitches", func(c *Config) { c.EpisodeTwitches = 0 }, false},
		{"fraction of one", func(c *Config) { c.CeasedFraction = 1 }, false},
		{"rest after longer than the window", func(c *Config) { c.MinRestAfter = c.RateWindow + time.Second }, false},
		{"strength fraction zero", func(c *Config) { c.StrengthFraction = 0 }, false},
		{"streak of one", func(c *Config) { c.TrainingStreak = 1 }, false},
		{"negative lookback", func(c *Config) { c.SymptomLookback = -time.Hour }, false},
		{"gap shorter than an episode", func(c *Config) { c.EpisodeGap = time.Minute }, false},
		{"nothing may wait", func(c *Config) { c.MaxPending = 0 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
			e := New(context.Background(), c, nil, nil)
			if berr := e.Begin(pipeline.Meta{}); (berr == nil) != tc.ok {
				t.Errorf("Begin() = %v, want ok=%v", berr, tc.ok)
			}
		})
	}
}

// ctxHistory fails like a Flux query when its context is done, and
// otherwise finds nothing (and notes whether the read had a deadline).
type ctxHistory struct{ deadline bool }

func (h *ctxHistory) Load(ctx context.Context, q Query) (Past, error) {
	if err := ctx.Err(); err != nil {
		return Past{}, err
	}
	_, h.deadline = ctx.Deadline()
	return Past{}, nil
}

// TestEngineHistoryWhenStopping: a run stopped (its context cancelled)
// before its first assessment still reads the person's history for the
// final one, with a bounded wait, instead of assessing the recording
// alone.
func TestEngineHistoryWhenStopping(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := &ctxHistory{}
	e := New(ctx, DefaultConfig(), h, nil)
	if err := e.Begin(pipeline.Meta{Subject: "p1", Site: "calf_left", Session: "s1"}); err != nil {
		t.Fatal(err)
	}
	var out []*pipeline.Assessment
	evs := emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70))
	for _, ev := range evs {
		e.Handle(ev, func(pipeline.Event) {})
	}
	e.End(at(70), func(ev pipeline.Event) {
		if a, ok := ev.(*pipeline.Assessment); ok {
			out = append(out, a)
		}
	})
	if len(out) == 0 {
		t.Fatal("no assessment")
	}
	last := out[len(out)-1]
	if strings.Contains(last.Reason, "history unavailable") || last.Measures[MeasureHistoryOK] != 1 {
		t.Errorf("stopping run assessed without history: %s (%v)", last.Reason, last.Measures)
	}
	if !h.deadline {
		t.Error("the history read of a stopping run has no deadline")
	}
}
