package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/rule/ruletest"
	"github.com/twitchd/twitchd/pipeline"
)

func TestMain(m *testing.M) { influxtest.Main(m) }

var day0 = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)

// record assesses one recording live (history from InfluxDB) and stores
// its events and assessments, as "twitchd replay" with InfluxDB would.
// With legacy, day 0 is stored in the schema before issue 12 (session a
// tag), as a database upgraded in place holds it.
func record(t *testing.T, srv *influxtest.Server, r *history.Reader, subject string, d int, sp ruletest.Spec, legacy bool) *pipeline.Assessment {
	t.Helper()
	out, a := ruletest.Assess(t, r, ruletest.Recording(subject, "calf_left", day0.AddDate(0, 0, d), sp))
	if legacy && d == 0 {
		ruletest.WriteLegacy(t, srv, out...)
	} else {
		ruletest.Write(t, srv, out...)
	}
	return a
}

// TestReport builds a report from what recordings stored, in today's
// schema and with the first day in the schema before issue 12.
func TestReport(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) { testReport(t, legacy) })
	}
}

func testReport(t *testing.T, legacy bool) {
	srv := influxtest.Shared(t)
	srv.Reset(t)
	r := history.NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	// p1: ceased on day 0, persistent after resuming on day 1 with a
	// cramp; weakness logged after the recording. p2 interleaved.
	record(t, srv, r, "p1", 0, ruletest.Spec{PeakRMS: 1, PerMin: 2, Resume: true}, legacy)
	record(t, srv, r, "p2", 0, ruletest.Spec{PeakRMS: 1, PerMin: 3, Resume: false}, legacy)
	live := record(t, srv, r, "p1", 1, ruletest.Spec{PeakRMS: 1, PerMin: 2, Resume: true, AfterPerMin: 2, Cramps: 1}, legacy)
	record(t, srv, r, "p2", 1, ruletest.Spec{PeakRMS: 1, PerMin: 3, Resume: true}, legacy)
	if live.Status != string(rule.StatusPersistentWithSymptoms) {
		t.Fatalf("live status %s (%s), want persistent_with_symptoms (cramp)", live.Status, live.Reason)
	}
	ruletest.Write(t, srv, &pipeline.Symptom{Time: pipeline.Timestamp(day0.AddDate(0, 0, 1).Add(3 * time.Hour).UnixNano()),
		Tags: pipeline.Tags{Subject: "p1"}, Symptom: rule.SymptomWeakness, Text: "stairs"})

	until := day0.AddDate(0, 0, 2)
	cfg := rule.DefaultConfig()
	cfg.HistoryTimeout = 2 * time.Minute // the test machine may be busy
	rep, err := Build(context.Background(), r, Options{Subject: "p1", Since: until.Add(-14 * rule.Day), Until: until,
		Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sites) != 1 || rep.Sites[0].Site != "calf_left" {
		t.Fatalf("sites %+v, want calf_left only", rep.Sites)
	}
	s := rep.Sites[0]
	if s.Status != string(rule.StatusPersistentWithSymptoms) || !strings.Contains(s.Reason, "logged weakness") ||
		!strings.Contains(s.Reason, "1 detected cramp") {
		t.Errorf("status %s (%s), want persistent_with_symptoms with the cramp and the logged weakness", s.Status, s.Reason)
	}
	if s.Stored == nil || s.Stored.Status != live.Status || s.Stored.Time != live.Time {
		t.Errorf("stored %+v, want the live final assessment %s at %s", s.Stored, live.Status, live.Time)
	}
	if len(s.Sessions) != 2 {
		t.Fatalf("%d sessions, want 2", len(s.Sessions))
	}
	want := []struct {
		status        string
		before, after float64
		twitches      int
		cramps        int
	}{
		{"ceased", 2, 0, 30, 0},
		{"persistent_with_symptoms", 2, 2, 60, 1},
	}
	for i, w := range want {
		x := s.Sessions[i]
		if x.Status != w.status || x.RateBefore == nil || *x.RateBefore != w.before || x.RateAfter == nil ||
			*x.RateAfter != w.after || x.Twitches != w.twitches || x.Cramps != w.cramps || x.Bouts != 2 || x.BoutMinutes != 40 ||
			x.End-x.Start != pipeline.Timestamp(70*time.Minute) {
			t.Errorf("session %d: %+v, want %+v", i, x, w)
		}
	}
	// How it evolved: day 0 post_exercise then ceased; day 1
	// post_exercise, then persistent with the cramp already seen.
	wantTL := []struct {
		status string
		final  bool
		day    int
		in     string // in the summary
	}{
		{"post_exercise", false, 0, "5 twitches at rest between 08:30 and 08:32"},
		{"ceased", false, 0, "twitching ceased once activity resumed 08:45–08:55"},
		{"ceased", true, 0, "twitching ceased once activity resumed"},
		{"post_exercise", false, 1, "twitches at rest between 08:30"},
		{"persistent_with_symptoms", false, 1, "twitching went on after activity resumed 08:45–08:55"},
		{"persistent_with_symptoms", true, 1, "20 twitches in 10.0 min of rest after it"},
	}
	if len(s.Timeline) != len(wantTL) {
		t.Fatalf("timeline %+v, want %d entries", s.Timeline, len(wantTL))
	}
	for i, w := range wantTL {
		e := s.Timeline[i]
		d := int(e.Time.Time().Sub(day0).Hours() / 24)
		if e.Status != w.status || e.Final != w.final || d != w.day || !strings.Contains(e.Summary, w.in) ||
			!strings.HasPrefix(e.Reason, e.Summary+"; ") {
			t.Errorf("timeline %d: %+v, want %s (final %v) on day %d with %q", i, e, w.status, w.final, w.day, w.in)
		}
		if i > 0 && e.Time < s.Timeline[i-1].Time {
			t.Errorf("timeline %d at %s before the previous entry", i, e.Time)
		}
	}
	if last := s.Timeline[len(s.Timeline)-1]; last.Reason != s.Reason {
		t.Errorf("the timeline ends with %q, the current status says %q", last.Reason, s.Reason)
	}
	if len(s.Advice) == 0 || s.Advice[0].ID != rule.AdviceMedicalAssistance || s.Advice[0].Why == "" {
		t.Errorf("advice %+v, want medical-assistance first, with its reason", s.Advice)
	}
	if len(rep.Symptoms) != 1 || rep.Symptoms[0].Text != "stairs" {
		t.Errorf("symptoms %+v", rep.Symptoms)
	}

	var txt bytes.Buffer
	if err := rep.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"twitchd report for p1", "calf_left", "status persistent_with_symptoms", "before/min",
		"potassium", "weakness", "not a medical device", "does not diagnose", "How the status evolved",
		"2026-10-01 09:10 ceased (end of recording)", "2026-10-02 08:57 persistent_with_symptoms"} {
		if !strings.Contains(strings.ToLower(strings.Join(strings.Fields(txt.String()), " ")), strings.ToLower(must)) {
			t.Errorf("text lacks %q:\n%s", must, txt.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Notice != rule.Notice || len(back.Sites) != 1 || back.Sites[0].Status != s.Status ||
		fmt.Sprint(back.Sites[0].Timeline) != fmt.Sprint(s.Timeline) {
		t.Errorf("JSON round trip lost data: %s", js.String())
	}

	// Nothing for someone unknown.
	rep, err = Build(context.Background(), r, Options{Subject: "nobody", Since: until.Add(-14 * rule.Day), Until: until,
		Config: cfg})
	if err != nil || len(rep.Sites) != 0 {
		t.Errorf("unknown subject: %+v, %v", rep, err)
	}
}

// TestPastCacheMatchesLoad: the history the report's cache answers for
// each recording's query is what the reader's own Load returns.
func TestPastCacheMatchesLoad(t *testing.T) {
	srv := influxtest.Shared(t)
	srv.Reset(t)
	r := history.NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	for d := 0; d < 4; d++ {
		record(t, srv, r, "p1", d, ruletest.Spec{PeakRMS: 1, PerMin: 2, Resume: d%2 == 0, AfterPerMin: 2, Cramps: d % 2}, false)
		record(t, srv, r, "p2", d, ruletest.Spec{PeakRMS: 1, PerMin: 3}, false)
	}
	ruletest.Write(t, srv, &pipeline.Symptom{Time: pipeline.Timestamp(day0.AddDate(0, 0, 1).Add(3 * time.Hour).UnixNano()),
		Tags: pipeline.Tags{Subject: "p1"}, Symptom: rule.SymptomWeakness, Text: "stairs"})
	cfg := rule.DefaultConfig()
	opts := Options{Subject: "p1", Since: day0.AddDate(0, 0, -1), Until: day0.AddDate(0, 0, 5), Config: cfg}
	c := newPastCache(r, opts, "calf_left")
	for d := 0; d < 5; d++ {
		at := day0.AddDate(0, 0, d).Add(10 * time.Minute)
		q := rule.Query{Subject: "p1", Site: "calf_left", ExcludeSession: ruletest.Session("p1", day0.AddDate(0, 0, d)),
			Start: at.Add(-cfg.Lookback()), End: at}
		want, err := r.For(cfg).Load(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Load(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		rule.SortPast(&want)
		rule.SortPast(&got)
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("day %d:\ncache %+v\nload  %+v", d, got, want)
		}
		if d > 1 && (len(want.Bouts) == 0 || len(want.Episodes) == 0 || len(want.Finals) == 0 || len(want.Cramps) == 0 || len(want.Symptoms) == 0) {
			t.Errorf("day %d: the history lacks something to compare: %+v", d, want)
		}
	}
}
