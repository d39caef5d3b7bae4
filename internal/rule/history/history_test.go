package history

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/ruletest"
	"github.com/twitchd/twitchd/pipeline"
)

func TestMain(m *testing.M) { influxtest.Main(m) }

// day0 is the first day of the test histories, 08:00 UTC.
var day0 = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)

// at returns the time d days and m minutes after day0.
func at(d int, m float64) pipeline.Timestamp {
	return pipeline.Timestamp(day0.AddDate(0, 0, d).Add(time.Duration(m * float64(time.Minute))).UnixNano())
}

func tg(subject, session string) pipeline.Tags {
	return pipeline.Tags{Subject: subject, Site: "calf_left", Session: session}
}

func session(subject string, d int, peakRMS, perMin float64, resume bool, afterPerMin float64) []pipeline.Event {
	return ruletest.Recording(subject, "calf_left", day0.AddDate(0, 0, d),
		ruletest.Spec{PeakRMS: peakRMS, PerMin: perMin, Resume: resume, AfterPerMin: afterPerMin})
}

func write(t *testing.T, srv *influxtest.Server, evs ...pipeline.Event) {
	ruletest.Write(t, srv, evs...)
}

func assess(t *testing.T, r *Reader, evs []pipeline.Event, extra ...pipeline.Event) ([]pipeline.Event, *pipeline.Assessment) {
	return ruletest.Assess(t, r, evs, extra...)
}

// TestMultiDayThroughInflux records several days for two people
// interleaved in one database, each day assessed with the history the
// previous days left in InfluxDB.
func TestMultiDayThroughInflux(t *testing.T) {
	srv := influxtest.Shared(t)
	r := NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	steps := []struct {
		name    string
		subject string
		day     int
		evs     []pipeline.Event
		extra   []pipeline.Event // e.g. a symptom logged during the recording
		want    rule.Status
		days    float64
	}{
		// Day 0: both exercise and twitch; neither resumes (p1) / p2 resumes and it ceases.
		{"p1 day 0", "p1", 0, session("p1", 0, 1.0, 2, false, 0), nil, rule.StatusPostExercise, 1},
		{"p2 day 0", "p2", 0, session("p2", 0, 1.0, 2, true, 0), nil, rule.StatusCeased, 0},
		// A gap of a day with no data at all.
		{"p1 day 2", "p1", 2, session("p1", 2, 1.0, 2, false, 0), nil, rule.StatusPostExercise, 2},
		{"p2 day 2", "p2", 2, session("p2", 2, 1.0, 2, true, 0), nil, rule.StatusCeased, 0},
		// Day 3: p1's third day with an episode that did not cease.
		{"p1 day 3", "p1", 3, session("p1", 3, 1.0, 2, false, 0), nil, rule.StatusPersistent, 3},
		{"p2 day 3", "p2", 3, session("p2", 3, 1.0, 2, true, 0), nil, rule.StatusCeased, 0},
		// Day 4: p2's twitching goes on after resuming; weaker bout
		// against a baseline of three at 1.0 -> with a weakness trend.
		{"p2 day 4", "p2", 4, session("p2", 4, 0.7, 2, true, 2), nil, rule.StatusPersistentWithSymptoms, 1},
	}
	for _, st := range steps {
		out, got := assess(t, r, st.evs, st.extra...)
		if rule.Status(got.Status) != st.want {
			t.Fatalf("%s: status %s (%s), want %s", st.name, got.Status, got.Reason, st.want)
		}
		if got.Measures[rule.MeasureDays] != st.days {
			t.Errorf("%s: %v days with episodes, want %v", st.name, got.Measures[rule.MeasureDays], st.days)
		}
		if got.Measures[rule.MeasureTwitches] != 30+30*boolf(st.want == rule.StatusPersistentWithSymptoms) {
			t.Errorf("%s: %v twitches: EMG and accelerometer must count once", st.name, got.Measures[rule.MeasureTwitches])
		}
		write(t, srv, out...)
	}
	// Day 5: p1 logs weakness with "twitchd note" (no site) before a
	// recording; the history carries it into persistent_with_symptoms.
	write(t, srv, &pipeline.Symptom{Time: at(5, -60), Tags: pipeline.Tags{Subject: "p1"}, Symptom: rule.SymptomWeakness, Text: "stairs"})
	_, got := assess(t, r, session("p1", 5, 1.0, 2, false, 0))
	if got.Status != string(rule.StatusPersistentWithSymptoms) || !strings.Contains(got.Reason, "logged weakness") {
		t.Errorf("p1 day 5: %s (%s), want persistent_with_symptoms with logged weakness", got.Status, got.Reason)
	}
	// p2's strength ratio is against its own baseline only.
	_, got = assess(t, r, session("p2", 6, 1.0, 2, true, 0))
	if got.Status != string(rule.StatusCeased) || math.Abs(got.Measures[rule.MeasureStrengthRatio]-1) > 1e-9 {
		t.Errorf("p2 day 6: %s ratio %v, want ceased with ratio 1 (median of 1,1,1,0.7)", got.Status, got.Measures[rule.MeasureStrengthRatio])
	}
}

// TestAtRestThroughInflux assesses recordings of twitching at rest (no
// bout anywhere) with the history InfluxDB holds: a first episode is
// at_rest; a spell that goes on through recordings less than EpisodeGap
// apart becomes persistent once it spans PersistAfter; at_rest on three
// days is persistent; a bout recorded at another site shortly before
// makes twitching post_exercise.
func TestAtRestThroughInflux(t *testing.T) {
	srv := influxtest.Shared(t)
	r := NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	rec := func(subject string, start time.Time) []pipeline.Event {
		return ruletest.Recording(subject, "calf_left", start, ruletest.Spec{PerMin: 1.2, AtRest: true})
	}
	steps := []struct {
		name    string
		evs     []pipeline.Event
		want    rule.Status
		reason  string
		changes []rule.Status
	}{
		// p3: 45-min recordings every 90 min from 10:00; the spell goes
		// on through them and passes 6 h in the one starting 16:00.
		{"p3 10:00", rec("p3", day0.Add(2*time.Hour)), rule.StatusAtRest, "no exercise or other activity recorded in the 6 h before it", []rule.Status{rule.StatusAtRest}},
		{"p3 11:30", rec("p3", day0.Add(210*time.Minute)), rule.StatusAtRest, "it continues twitching recorded from 10:0", nil},
		{"p3 13:00", rec("p3", day0.Add(5*time.Hour)), rule.StatusAtRest, "", nil},
		{"p3 14:30", rec("p3", day0.Add(390*time.Minute)), rule.StatusAtRest, "", nil},
		{"p3 16:00", rec("p3", day0.Add(8*time.Hour)), rule.StatusPersistent, "twitching at rest continued 6.1 h with no activity recorded before or in between (episodes from 10:00 (an earlier recording) to 16:03", []rule.Status{rule.StatusPersistent}},
		// p4: once a day at rest.
		{"p4 day 0", rec("p4", day0), rule.StatusAtRest, "", nil},
		{"p4 day 1", rec("p4", day0.AddDate(0, 0, 1)), rule.StatusAtRest, "", nil},
		{"p4 day 2", rec("p4", day0.AddDate(0, 0, 2)), rule.StatusPersistent, "did not cease on 3 days", []rule.Status{rule.StatusPersistent}},
	}
	for _, st := range steps {
		out, got := assess(t, r, st.evs)
		if rule.Status(got.Status) != st.want || !strings.Contains(got.Reason, st.reason) {
			t.Fatalf("%s: %s (%s), want %s with %q", st.name, got.Status, got.Reason, st.want, st.reason)
		}
		if st.changes != nil {
			var ch []rule.Status
			for _, ev := range out[:len(out)-1] {
				if a, ok := ev.(*pipeline.Assessment); ok {
					ch = append(ch, rule.Status(a.Status))
				}
			}
			if fmt.Sprint(ch) != fmt.Sprint(st.changes) {
				t.Errorf("%s: assessments on change %v, want %v", st.name, ch, st.changes)
			}
		}
		write(t, srv, out...)
	}
	// p5: a walk recorded by a wrist device 40 min before.
	write(t, srv, &pipeline.Bout{Start: at(0, 0), End: at(0, 20), Tags: pipeline.Tags{Subject: "p5", Site: "wrist_left", Session: "watch"},
		Sensor: "acc", Intensity: pipeline.IntensityLight})
	_, got := assess(t, r, rec("p5", day0.Add(time.Hour)))
	if got.Status != string(rule.StatusPostExercise) || !strings.Contains(got.Reason, "after activity ended at 08:20") {
		t.Errorf("p5: %s (%s), want post_exercise after the walk at another site", got.Status, got.Reason)
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestLoad checks every list Load returns against what was written.
func TestLoad(t *testing.T) {
	srv := influxtest.Shared(t)
	r := NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	write(t, srv, session("p1", 0, 1.0, 2, false, 0)...)
	write(t, srv, session("p1", 1, 0.9, 0.5, true, 0)...) // 0.5/min: no episode
	write(t, srv, session("p2", 1, 5.0, 3, true, 0)...)   // someone else, same day
	write(t, srv, session("p1", 2, 0.8, 2, true, 0)...)   // to be excluded as the current session
	write(t, srv,
		&pipeline.Cramp{Start: at(0, 40), End: at(0, 40.3), Tags: tg("p1", "p1-1001"), Sensor: "emg", Channel: "emg", Peak: 1},
		&pipeline.Cramp{Start: at(1, 40), End: at(1, 40.3), Tags: tg("p2", "p2-1002"), Sensor: "emg", Channel: "emg", Peak: 1},
		&pipeline.Assessment{Time: at(1, 60), Tags: tg("p1", "p1-1002"), Status: "post_exercise", Reason: "x", Notice: rule.Notice},
		&pipeline.Assessment{Time: at(1, 70), Tags: tg("p1", "p1-1002"), Status: "ceased", Reason: "x", Notice: rule.Notice},
		&pipeline.Assessment{Time: at(0, 33), Tags: tg("p1", "p1-1001"), Status: "persistent", Reason: "x", Notice: rule.Notice},
		&pipeline.Assessment{Time: at(0, 45), Tags: tg("p1", "p1-1001"), Status: "post_exercise", Reason: "x", Notice: rule.Notice},
		&pipeline.Bout{Start: at(1, 200), End: at(1, 230), Tags: pipeline.Tags{Subject: "p1", Site: "wrist_left", Session: "w"},
			Sensor: "acc", Intensity: pipeline.IntensityLight},
		&pipeline.Symptom{Time: at(1, 100), Tags: pipeline.Tags{Subject: "p1"}, Symptom: "cramps", Text: `night "cramp"`},
		&pipeline.Symptom{Time: at(1, 101), Tags: pipeline.Tags{Subject: "p1", Site: "forearm_right"}, Symptom: "weakness"},
		&pipeline.Symptom{Time: at(1, 102), Tags: pipeline.Tags{Subject: "p2"}, Symptom: "weakness"},
	)
	p, err := r.Load(context.Background(), rule.Query{Subject: "p1", Site: "calf_left", ExcludeSession: ruletest.Session("p1", day0.AddDate(0, 0, 2)),
		Start: day0.AddDate(0, 0, -1), End: day0.AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Bouts) < 3 || p.Bouts[0].PeakRMS != 1.0 || p.Bouts[1].PeakRMS != 0.9 || p.Bouts[2].Intensity != "moderate" {
		t.Errorf("bouts %+v, want p1's three of days 0 and 1", p.Bouts)
	}
	if len(p.Bouts) > 0 && (p.Bouts[0].End-p.Bouts[0].Start != pipeline.Timestamp(30*time.Minute) || p.Bouts[0].Session != ruletest.Session("p1", day0)) {
		t.Errorf("bout 0 %+v: want 30 min in the day-0 session", p.Bouts[0])
	}
	if len(p.Bouts) != 4 || p.Bouts[3].Site != "wrist_left" || p.Bouts[0].Site != "calf_left" {
		t.Errorf("bouts %+v, want the wrist bout too (activity at any site)", p.Bouts)
	}
	// Day 0: 30 twitches per sensor in 15 min, 5-min windows of 10 each: 3
	// windows per sensor channel, 3 once the same windows of the other
	// sensor are merged; day 1 has none.
	if len(p.Episodes) != 3 {
		t.Errorf("%d episode windows, want 3: %v", len(p.Episodes), p.Episodes)
	}
	for _, e := range p.Episodes {
		if e.Time < at(0, 30) || e.Time >= at(0, 45) || e.Session != ruletest.Session("p1", day0) {
			t.Errorf("episode window %+v outside day 0's rest", e)
		}
	}
	want := []rule.PastFinal{
		{Time: at(0, 45), Session: "p1-1001", Status: rule.StatusPostExercise},
		{Time: at(1, 70), Session: "p1-1002", Status: rule.StatusCeased},
	}
	if fmt.Sprint(p.Finals) != fmt.Sprint(want) {
		t.Errorf("finals %+v, want the last assessment of each recording: %+v", p.Finals, want)
	}
	if len(p.Cramps) != 1 || p.Cramps[0] != at(0, 40) {
		t.Errorf("cramps %v, want p1's one", p.Cramps)
	}
	if len(p.Symptoms) != 1 || p.Symptoms[0].Symptom != "cramps" || p.Symptoms[0].Text != `night "cramp"` {
		t.Errorf("symptoms %+v, want p1's site-less cramps only", p.Symptoms)
	}
}

// TestEventsRoundTrip writes events with the sink's schema and reads
// them back as the same events.
func TestEventsRoundTrip(t *testing.T) {
	srv := influxtest.Shared(t)
	r := NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	in := session("p1", 0, 1.25, 1, true, 0)
	a := &pipeline.Assessment{Time: at(0, 70), Tags: tg("p1", "p1-1001"), Status: "ceased", Reason: "why",
		Advice: []string{"a: b (c)", "d: e (f)"}, Notice: rule.Notice, Measures: map[string]float64{"twitches": 15, "time": 3}}
	sum := &pipeline.Summary{Tags: tg("p1", "p1-1001"), File: "x.csv", Format: "csv", Start: at(0, 0), End: at(0, 70),
		Bouts: 2, Twitches: 30, Channels: []pipeline.ChannelSummary{{Name: "emg", Samples: 1000}}}
	write(t, srv, append(append([]pipeline.Event{}, in...), a, sum)...)
	got, err := r.Events(context.Background(), "p1", "calf_left", day0.AddDate(0, 0, -1), day0.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in)+2 {
		t.Fatalf("%d events, want %d", len(got), len(in)+2)
	}
	var twitches, bouts, rests int
	for _, ev := range got {
		switch v := ev.(type) {
		case *pipeline.Twitch:
			twitches++
			if v.End-v.Start != 40e6 || v.Phase != pipeline.PhasePostExercise || v.Session != ruletest.Session("p1", day0) {
				t.Errorf("twitch %+v", v)
			}
		case *pipeline.Bout:
			bouts++
			if v.Intensity == pipeline.IntensityVigorous && (v.PeakRMS != 1.25 || v.PeakAcc != 2) {
				t.Errorf("bout %+v lost its strength proxies", v)
			}
		case *pipeline.Rest:
			rests++
		case *pipeline.Assessment:
			if v.Status != "ceased" || len(v.Advice) != 2 || v.Advice[1] != "d: e (f)" || v.Measures["twitches"] != 15 ||
				v.Measures["time"] != 3 || v.Notice != rule.Notice {
				t.Errorf("assessment %+v", v)
			}
		case *pipeline.Summary:
			if v.File != "x.csv" || v.End != at(0, 70) || v.Twitches != 30 {
				t.Errorf("summary %+v", v)
			}
		}
	}
	if twitches != 30 || bouts != 2 || rests != 2 {
		t.Errorf("%d twitches, %d bouts, %d rests; want 30, 2, 2", twitches, bouts, rests)
	}
	for i := 1; i < len(got); i++ {
		if Emitted(got[i]) < Emitted(got[i-1]) {
			t.Fatalf("event %d out of emission order", i)
		}
	}
}

// TestLegacySchema reads a history whose older recordings were written
// in the schema before issue 12 (session a tag on every point) and whose
// newer ones in today's (session a field): Load and Events see both, with
// their sessions, and leave out the recording being assessed in either.
func TestLegacySchema(t *testing.T) {
	srv := influxtest.Shared(t)
	r := NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	day := func(d int) string { return ruletest.Session("p1", day0.AddDate(0, 0, d)) }
	ruletest.WriteLegacy(t, srv, session("p1", 0, 1.0, 2, false, 0)...)
	ruletest.WriteLegacy(t, srv, session("p2", 0, 1.0, 2, false, 0)...) // someone else
	ruletest.WriteLegacy(t, srv,
		&pipeline.Assessment{Time: at(0, 45), Tags: tg("p1", day(0)), Status: "post_exercise", Reason: "x", Notice: rule.Notice},
		&pipeline.Cramp{Start: at(0, 40), End: at(0, 40.3), Tags: tg("p1", day(0)), Sensor: "emg", Channel: "emg", Peak: 1},
		&pipeline.Summary{Tags: tg("p1", day(0)), File: "old.csv", Format: "csv", Start: at(0, 0), End: at(0, 45)})
	write(t, srv, session("p1", 1, 0.9, 2, false, 0)...)
	write(t, srv,
		&pipeline.Assessment{Time: at(1, 45), Tags: tg("p1", day(1)), Status: "persistent", Reason: "x", Notice: rule.Notice},
		&pipeline.Summary{Tags: tg("p1", day(1)), File: "new.csv", Format: "csv", Start: at(1, 0), End: at(1, 45)})
	if n := srv.Query(t, `import "influxdata/influxdb/v1"
v1.tagKeys(bucket: "twitchd/autogen", predicate: (r) => r._measurement == "twitch", start: -100y)
  |> filter(fn: (r) => r._value == "session")`); len(n) != 1 {
		t.Fatalf("no session tag on the legacy twitches: %v", n)
	}
	for _, tc := range []struct {
		name                            string
		exclude                         string
		bouts, episodes, finals, cramps int
		sessions                        []string
	}{
		{"both schemas", "", 2, 6, 2, 1, []string{day(0), day(1)}},
		{"legacy session excluded", day(0), 1, 3, 1, 0, []string{day(1)}},
		{"new session excluded", day(1), 1, 3, 1, 1, []string{day(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Load(context.Background(), rule.Query{Subject: "p1", Site: "calf_left", ExcludeSession: tc.exclude,
				Start: day0.AddDate(0, 0, -1), End: day0.AddDate(0, 0, 3)})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, b := range p.Bouts {
				seen[b.Session] = true
			}
			for _, e := range p.Episodes {
				seen[e.Session] = true
			}
			for _, f := range p.Finals {
				seen[f.Session] = true
			}
			if len(p.Bouts) != tc.bouts || len(p.Episodes) != tc.episodes || len(p.Finals) != tc.finals || len(p.Cramps) != tc.cramps {
				t.Errorf("%d bouts, %d episode windows, %d finals, %d cramps; want %d, %d, %d, %d\n%+v",
					len(p.Bouts), len(p.Episodes), len(p.Finals), len(p.Cramps), tc.bouts, tc.episodes, tc.finals, tc.cramps, p)
			}
			if len(seen) != len(tc.sessions) {
				t.Errorf("sessions %v, want %v", seen, tc.sessions)
			}
			for _, s := range tc.sessions {
				if !seen[s] {
					t.Errorf("session %s missing: %v", s, seen)
				}
			}
		})
	}
	evs, err := r.Events(context.Background(), "p1", "calf_left", day0.AddDate(0, 0, -1), day0.AddDate(0, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]map[string]int{}
	for _, ev := range evs {
		var sess string
		switch v := ev.(type) {
		case *pipeline.Twitch:
			sess = v.Session
		case *pipeline.Assessment:
			sess = v.Session
			if v.Session == day(0) && v.Time != at(0, 45) || v.Session == day(1) && v.Time != at(1, 45) {
				t.Errorf("assessment %+v at the wrong time", v)
			}
		case *pipeline.Summary:
			sess = v.Session
		default:
			continue
		}
		if per[sess] == nil {
			per[sess] = map[string]int{}
		}
		per[sess][ev.EventType()]++
	}
	for _, s := range []string{day(0), day(1)} {
		if c := per[s]; c[pipeline.TypeTwitch] != 60 || c[pipeline.TypeAssessment] != 1 || c[pipeline.TypeSummary] != 1 {
			t.Errorf("session %s: events %v, want 60 twitches, an assessment and a summary", s, c)
		}
	}
	if len(per) != 2 {
		t.Errorf("events of sessions %v, want p1's two", per)
	}

	// The README's migration: with only old-schema points in the
	// database, dropping the series with a session tag empties it (with
	// new points in the same shard InfluxDB refuses: "fields not supported
	// in WHERE clause during deletion"), and replaying writes the new ones.
	srv.Reset(t)
	ruletest.WriteLegacy(t, srv, session("p1", 0, 1.0, 2, false, 0)...)
	conn, err := influxconn.Open(influxconn.Settings{URL: srv.URL, Bucket: srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.InfluxQL(context.Background(), influxtest.Database, `DROP SERIES FROM /.*/ WHERE "session" =~ /./`); err != nil {
		t.Fatal(err)
	}
	q := rule.Query{Subject: "p1", Site: "calf_left", Start: day0.AddDate(0, 0, -1), End: day0.AddDate(0, 0, 3)}
	if p, err := r.Load(context.Background(), q); err != nil || len(p.Bouts) != 0 {
		t.Fatalf("after dropping the old series: %+v, %v; want nothing", p, err)
	}
	write(t, srv, session("p1", 0, 1.0, 2, false, 0)...)
	if p, err := r.Load(context.Background(), q); err != nil || len(p.Bouts) != 1 || p.Bouts[0].Session != day(0) {
		t.Errorf("after replaying: %+v, %v; want the recording again", p, err)
	}
}

func TestFluxString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"p1", `"p1"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"${x}", `"\${x}"`},
	}
	for _, c := range cases {
		if got := fluxString(c.in); got != c.want {
			t.Errorf("fluxString(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// BenchmarkLoad reads the history the rule asks for at the start of a
// recording, from a real influxd holding four weeks of daily recordings
// (a bout, 15 min of twitching seen by two sensors, a resumed bout, rest;
// about 200 points each) and their assessments.
func BenchmarkLoad(b *testing.B) {
	srv := influxtest.Shared(b)
	r := NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	for d := 0; d < 28; d++ {
		evs := session("pb", d, 1.0, 2, true, float64(d%2))
		out, _ := ruletest.Assess(b, r, evs)
		ruletest.Write(b, srv, out...)
	}
	q := rule.Query{Subject: "pb", Site: "calf_left", Start: day0.AddDate(0, 0, 28-28), End: day0.AddDate(0, 0, 28)}
	b.ResetTimer()
	var p rule.Past
	for b.Loop() {
		var err error
		if p, err = r.Load(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Bouts)), "bouts")
	b.ReportMetric(float64(len(p.Episodes)), "episodes")
	b.ReportMetric(float64(len(p.Finals)), "finals")
}
