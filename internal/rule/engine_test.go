package rule

import (
	"context"
	"errors"
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

func cramp(a, b float64) *pipeline.Cramp {
	return &pipeline.Cramp{Start: at(a), End: at(b), Tags: tagsOf("p1"), Sensor: "emg", Channel: "emg"}
}

func symptom(m float64, name string) *pipeline.Symptom {
	return &pipeline.Symptom{Time: at(m), Tags: pipeline.Tags{Subject: "p1"}, Symptom: name}
}

// emitted orders events as detectors emit them: when they end.
func emitted(parts ...any) []pipeline.Event {
	var evs []pipeline.Event
	for _, p := range parts {
		switch v := p.(type) {
		case pipeline.Event:
			evs = append(evs, v)
		case []pipeline.Event:
			evs = append(evs, v...)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return EventEnd(evs[i]) < EventEnd(evs[j]) })
	return evs
}

// run replays evs through a fresh Engine and returns every assessment.
func run(t *testing.T, cfg Config, hist History, evs []pipeline.Event, last float64) []*pipeline.Assessment {
	t.Helper()
	e := New(context.Background(), cfg, hist, nil)
	if err := e.Begin(pipeline.Meta{Subject: "p1", Site: "calf_left", Session: "s1"}); err != nil {
		t.Fatal(err)
	}
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

func TestEngineStatuses(t *testing.T) {
	const V, M, L = pipeline.IntensityVigorous, pipeline.IntensityModerate, pipeline.IntensityLight
	day := func(d int, m float64) pipeline.Timestamp { return at(float64(d)*24*60 + m) }
	weakHist := &MemoryHistory{}
	for d := 1; d <= 4; d++ {
		weakHist.AddBout("p1", "calf_left", PastBout{Start: day(-d, 0), End: day(-d, 30), Intensity: V, PeakRMS: 1.0, PeakAcc: 2.0})
	}
	daysHist := &MemoryHistory{}
	daysHist.AddEpisode("p1", "calf_left", day(-1, 40))
	daysHist.AddEpisode("p1", "calf_left", day(-3, 40))
	ceasedHist := &MemoryHistory{}
	ceasedHist.AddEpisode("p1", "calf_left", day(-1, 40))
	ceasedHist.AddEpisode("p1", "calf_left", day(-3, 40))
	ceasedHist.AddCeased("p1", "calf_left", day(-3, 70))
	oldBout := &MemoryHistory{}
	oldBout.AddBout("p1", "calf_left", PastBout{Start: at(-9 * 60), End: at(-8 * 60), Intensity: V})
	recentBout := &MemoryHistory{}
	recentBout.AddBout("p1", "calf_left", PastBout{Start: at(-60), End: at(-20), Intensity: V, Session: "other"})
	symptomHist := &MemoryHistory{}
	symptomHist.AddSymptom(pipeline.Symptom{Time: day(-5, 0), Tags: pipeline.Tags{Subject: "p1"}, Symptom: SymptomClumsiness})
	otherHist := &MemoryHistory{}
	otherHist.AddSymptom(pipeline.Symptom{Time: day(-5, 0), Tags: pipeline.Tags{Subject: "p1"}, Symptom: SymptomOther})
	oldSymptom := &MemoryHistory{}
	oldSymptom.AddSymptom(pipeline.Symptom{Time: day(-20, 0), Tags: pipeline.Tags{Subject: "p1"}, Symptom: SymptomWeakness})

	weakBout := bout(0, 30, V)
	weakBout.PeakRMS, weakBout.PeakAcc = 0.6, 1.9
	strongBout := bout(0, 30, V)
	strongBout.PeakRMS, strongBout.PeakAcc = 0.95, 2.1

	// The usual shape: exercise, 15 min rest with twitching, 10 min of
	// resumed activity, then rest with or without twitching.
	ceasing := emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70))
	persisting := emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70),
		twitches(55, 70, 2, "emg"))

	cases := []struct {
		name     string
		hist     History
		evs      []pipeline.Event
		last     float64
		status   Status
		reason   string             // substring of the final reason
		measures map[string]float64 // exact values expected
		changes  []Status           // statuses of the assessments emitted on change, in order
	}{
		{
			name: "no twitching", evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 0.2, "emg")), last: 45,
			status: StatusNone, reason: "no twitch episode",
			measures: map[string]float64{MeasureTwitches: 3, MeasureEpisodes: 0, MeasureBouts: 1},
		},
		{
			name: "ends before activity resumes", evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")), last: 45,
			status: StatusPostExercise, reason: "ended before activity resumed",
			measures: map[string]float64{MeasureTwitches: 30, MeasureEpisodes: 1, MeasureDays: 1, MeasureHoursSinceBout: 0.25},
			changes:  []Status{StatusPostExercise},
		},
		{
			name: "ceased after resuming", evs: ceasing, last: 70,
			status: StatusCeased, reason: "ceased once activity resumed",
			measures: map[string]float64{MeasureRateBefore: 2, MeasureRateAfter: 0, MeasureRestBefore: 10, MeasureRestAfter: 10,
				MeasureResumedMin: 10, MeasureDays: 0},
			changes: []Status{StatusPostExercise, StatusCeased},
		},
		{
			name: "persistent after resuming", evs: persisting, last: 70,
			status: StatusPersistent, reason: "went on after activity resumed: 2.00/min at rest after it vs 2.00/min before",
			// Decided early (the window after already held too many
			// twitches), the rate after is refined over the whole window.
			measures: map[string]float64{MeasureRateBefore: 2, MeasureRateAfter: 2, MeasureRestAfter: 10,
				MeasureTwitches: 60, MeasureEpisodes: 2},
			changes: []Status{StatusPostExercise, StatusPersistent},
		},
		{
			name: "a stray twitch after resuming still ceased",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70),
				twitches(55, 65, 0.2, "emg")), last: 70,
			status: StatusCeased, measures: map[string]float64{MeasureRateAfter: 0.2},
		},
		{
			name: "resumed only briefly",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 47, L), rest(47, 60),
				twitches(47, 60, 2, "emg")), last: 60,
			status: StatusPostExercise, reason: "resumed only briefly",
			measures: map[string]float64{MeasureBriefResumes: 1},
		},
		{
			name: "brief resume then a real one",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 47, L), rest(47, 50),
				twitches(47, 50, 2, "emg"), bout(50, 60, M), rest(60, 75)), last: 75,
			status: StatusCeased, measures: map[string]float64{MeasureBriefResumes: 1, MeasureRestBefore: 8},
		},
		{
			name: "recording ends soon after resuming",
			evs:  emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 56)), last: 56,
			status: StatusPostExercise, reason: "ended after 1.0 min of rest",
		},
		{
			name: "judged at the end with a short but sufficient rest",
			evs:  emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 59)), last: 59,
			status: StatusCeased, measures: map[string]float64{MeasureRestAfter: 4},
		},
		{
			name: "twitching with no exercise before it", evs: emitted(rest(0, 20), twitches(0, 20, 2, "emg")), last: 20,
			status: StatusPersistent, reason: "no exercise bout",
		},
		{
			name: "exercise in another recording shortly before", hist: recentBout,
			evs: emitted(rest(0, 20), twitches(0, 20, 2, "emg")), last: 20,
			status: StatusPostExercise, measures: map[string]float64{MeasureHoursSinceBout: 40.0 / 60, MeasureBouts: 0},
		},
		{
			name: "twitching long after the last exercise", hist: oldBout,
			evs: emitted(rest(0, 20), twitches(0, 20, 2, "emg")), last: 20,
			status: StatusPersistent, reason: "after the last exercise bout (limit 6h0m0s)",
		},
		{
			name: "twitching continues at rest for hours after exercise",
			evs:  emitted(bout(0, 30, V), rest(30, 450), twitches(30, 450, 1.2, "emg")), last: 450,
			status: StatusPersistent, reason: "continued 6.0 h after the last exercise bout",
			changes: []Status{StatusPostExercise, StatusPersistent},
		},
		{
			name: "persistent with a detected cramp", evs: emitted(persisting, cramp(40, 40.5)), last: 70,
			status: StatusPersistentWithSymptoms, reason: "1 detected cramp",
			measures: map[string]float64{MeasureCramps: 1},
		},
		{
			name: "persistent with a symptom logged during the recording",
			evs:  emitted(persisting, symptom(35, SymptomWeakness)), last: 70,
			status: StatusPersistentWithSymptoms, reason: "logged weakness",
			measures: map[string]float64{MeasureSymptoms: 1},
		},
		{
			name: "every accompanying symptom is named, also those after the status was raised",
			evs:  append(emitted(persisting, cramp(40, 40.5)), symptom(80, SymptomClumsiness)), last: 70,
			status: StatusPersistentWithSymptoms, reason: "together with logged clumsiness, 1 detected cramp(s)",
			changes: []Status{StatusPostExercise, StatusPersistentWithSymptoms},
		},
		{
			name: "persistent with a symptom logged days before", hist: symptomHist, evs: persisting, last: 70,
			status: StatusPersistentWithSymptoms, reason: "logged clumsiness",
		},
		{
			name: "symptom 'other' does not raise", hist: otherHist, evs: persisting, last: 70,
			status: StatusPersistent, measures: map[string]float64{MeasureSymptoms: 0},
		},
		{
			name: "symptom older than the lookback does not raise", hist: oldSymptom, evs: persisting, last: 70,
			status: StatusPersistent,
		},
		{
			name: "ceased with a cramp stays ceased", evs: emitted(ceasing, cramp(40, 40.5)), last: 70,
			status: StatusCeased, measures: map[string]float64{MeasureCramps: 1},
		},
		{
			name: "persistent with a weakness trend", hist: weakHist,
			evs:  emitted(weakBout, rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70), twitches(55, 70, 2, "emg")),
			last: 70, status: StatusPersistentWithSymptoms, reason: "weakness trend (strength proxy at 60%",
			measures: map[string]float64{MeasureStrengthRatio: 0.6},
		},
		{
			name: "strength within the baseline does not raise", hist: weakHist,
			evs:  emitted(strongBout, rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70), twitches(55, 70, 2, "emg")),
			last: 70, status: StatusPersistent, measures: map[string]float64{MeasureStrengthRatio: 0.95},
		},
		{
			name: "episodes on three days", hist: daysHist,
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")), last: 45,
			status: StatusPersistent, reason: "did not cease on 3 days",
			measures: map[string]float64{MeasureDays: 3},
		},
		{
			name: "a day whose episode ceased does not count", hist: ceasedHist,
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg")), last: 45,
			status: StatusPostExercise, measures: map[string]float64{MeasureDays: 2},
		},
		{
			name: "emg and acc see the same twitches once",
			evs:  emitted(bout(0, 30, V), rest(30, 45), twitches(30, 40, 0.8, "emg"), twitches(30, 40, 0.8, "acc")), last: 45,
			status: StatusNone, measures: map[string]float64{MeasureTwitches: 8, MeasureEpisodes: 0},
		},
		{
			name: "a gap after resuming does not dilute the rate after",
			evs: emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 57),
				twitches(55, 57, 2, "emg"), rest(70, 80)), last: 80,
			status: StatusPersistent, measures: map[string]float64{MeasureRestAfter: 2, MeasureRateAfter: 2},
		},
		{
			name: "history unavailable", hist: failingHistory{}, evs: ceasing, last: 70,
			status: StatusCeased, reason: "history unavailable", measures: map[string]float64{MeasureHistoryOK: 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			as := run(t, DefaultConfig(), tc.hist, tc.evs, tc.last)
			got := final(t, as, "p1")
			if Status(got.Status) != tc.status {
				t.Fatalf("status %s (%s), want %s", got.Status, got.Reason, tc.status)
			}
			if !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", got.Reason, tc.reason)
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
				if strings.Join(statusStrings(ch), ",") != strings.Join(statusStrings(tc.changes), ",") {
					t.Errorf("assessments on change %v, want %v", ch, tc.changes)
				}
			}
			if got.Notice != Notice {
				t.Errorf("notice %q", got.Notice)
			}
			if got.Time != at(tc.last) {
				t.Errorf("final assessment at %s, want %s", got.Time, at(tc.last))
			}
		})
	}
}

func statusStrings(s []Status) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
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
	const V, M = pipeline.IntensityVigorous, pipeline.IntensityModerate
	a := retag(emitted(bout(0, 30, V), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, M), rest(55, 70)), "alice")
	b := retag(emitted(bout(1, 31, V), rest(31, 46), twitches(31, 46, 3, "emg"), bout(46, 56, M), rest(56, 70),
		twitches(56, 70, 3, "emg")), "bob")
	as := run(t, DefaultConfig(), nil, emitted(a, b), 70)
	if s := final(t, as, "alice").Status; s != string(StatusCeased) {
		t.Errorf("alice %s, want ceased", s)
	}
	if s := final(t, as, "bob").Status; s != string(StatusPersistent) {
		t.Errorf("bob %s, want persistent", s)
	}
	if r := final(t, as, "bob").Measures[MeasureRateBefore]; r != 3 {
		t.Errorf("bob's rate before %v, want 3 (alice's twitches must not mix in)", r)
	}
	// The stream's own subject (p1) had no events: it still gets a final
	// assessment only when nothing else did, so here there is none.
	for _, x := range as {
		if x.Subject == "p1" {
			t.Errorf("unexpected assessment for the stream's subject: %+v", x)
		}
	}
}

// TestEngineWatermark: a watermark past the window after resuming gives
// the verdict while the rest goes on, before any later event.
func TestEngineWatermark(t *testing.T) {
	e := New(context.Background(), DefaultConfig(), nil, nil)
	if err := e.Begin(pipeline.Meta{Subject: "p1", Site: "calf_left", Session: "s1"}); err != nil {
		t.Fatal(err)
	}
	var got []*pipeline.Assessment
	emit := func(ev pipeline.Event) {
		if a, ok := ev.(*pipeline.Assessment); ok {
			got = append(got, a)
		}
	}
	for _, ev := range emitted(bout(0, 30, "vigorous"), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, "moderate")) {
		e.Handle(ev, emit)
	}
	e.Handle(&pipeline.Watermark{Time: at(60)}, emit)
	if len(got) != 1 || got[0].Status != string(StatusPostExercise) {
		t.Fatalf("before the window passed: %v", got)
	}
	e.Handle(&pipeline.Watermark{Time: at(65)}, emit)
	if len(got) != 2 || got[1].Status != string(StatusCeased) || got[1].Time != at(65) ||
		got[1].Measures[MeasureRestAfter] != 10 {
		t.Fatalf("after the window passed: %+v", got[len(got)-1])
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
	evs := emitted(bout(0, 30, "vigorous"), rest(30, 45), twitches(30, 45, 2, "emg"), bout(45, 55, "moderate"), rest(55, 70))
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
	run(t, DefaultConfig(), rec, emitted(bout(0, 30, "vigorous")), 30)
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
