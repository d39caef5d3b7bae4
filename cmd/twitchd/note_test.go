package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/rule/report"
	"github.com/twitchd/twitchd/internal/rule/ruletest"
)

func TestNoteEvent(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name                               string
		subject, site, symptom, text, when string
		wantErr                            string
		wantTime                           time.Time
	}{
		{name: "now", subject: "p1", symptom: "weakness", wantTime: now},
		{name: "given time and site", subject: "p1", site: "calf_left", symptom: "cramps", text: "at night",
			when: "2026-11-24T22:10:00+01:00", wantTime: time.Date(2026, 11, 24, 21, 10, 0, 0, time.UTC)},
		{name: "no subject", symptom: "weakness", wantErr: "--subject is required"},
		{name: "unknown symptom", subject: "p1", symptom: "tired", wantErr: `--symptom "tired": want one of weakness, clumsiness, cramps, other`},
		{name: "bad time", subject: "p1", symptom: "other", when: "yesterday", wantErr: `--time "yesterday"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := noteEvent(tc.subject, tc.site, tc.symptom, tc.text, tc.when, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Time.Time().Equal(tc.wantTime) || ev.Subject != tc.subject || ev.Site != tc.site ||
				ev.Symptom != tc.symptom || ev.Text != tc.text {
				t.Errorf("event %+v", ev)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"14d", 14 * 24 * time.Hour, true},
		{"36h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0d", 0, false},
		{"-3d", 0, false},
		{"two weeks", 0, false},
	}
	for _, c := range cases {
		got, err := parseSince(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSince(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestNoteAndReport logs a symptom with "twitchd note" after a recording
// was assessed live, then reads "twitchd report" back, as JSON and text,
// from a real influxd.
func TestNoteAndReport(t *testing.T) {
	srv := influxtest.Start(t)
	t.Setenv("INFLUX_URL", "")
	t.Setenv("INFLUX_TOKEN", "")
	r := history.NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	day0 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	out, live := ruletest.Assess(t, r, ruletest.Recording("p1", "calf_left", day0,
		ruletest.Spec{PeakRMS: 1, PerMin: 2, Resume: true, AfterPerMin: 2}))
	ruletest.Write(t, srv, out...)
	if live.Status != string(rule.StatusPersistent) {
		t.Fatalf("live status %s, want persistent", live.Status)
	}
	flags := []string{"--influx-url", srv.URL, "--influx-bucket", srv.Bucket}
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := runMain(context.Background(), append(args, flags...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	if code, _, stderr := run("note", "--subject", "p1", "--symptom", "tired"); code != 2 || !strings.Contains(stderr, "want one of") {
		t.Errorf("bad symptom: exit %d, stderr %q; want 2 and the accepted list", code, stderr)
	}
	code, stdout, stderr := run("note", "--subject", "p1", "--symptom", "clumsiness", "--text", "dropped a cup",
		"--time", "2026-10-01T12:00:00Z")
	if code != 0 || !strings.Contains(stdout, "noted clumsiness for p1") {
		t.Fatalf("note: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	rows := srv.Query(t, `from(bucket: "`+srv.Bucket+`") |> range(start: 0) |> filter(fn: (r) => r._measurement == "symptom")`)
	if len(rows) != 2 { // count and text
		t.Errorf("symptom points: %v, want the fields count and text", rows)
	}

	code, stdout, stderr = run("report", "--subject", "p1", "--until", "2026-10-02T00:00:00Z", "--json")
	if code != 0 {
		t.Fatalf("report: exit %d, stderr %q", code, stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, stdout)
	}
	if len(rep.Sites) != 1 || rep.Sites[0].Status != string(rule.StatusPersistentWithSymptoms) ||
		!strings.Contains(rep.Sites[0].Reason, "logged clumsiness") || rep.Notice != rule.Notice {
		t.Errorf("report %+v, want calf_left persistent_with_symptoms with the logged clumsiness", rep)
	}
	if len(rep.Symptoms) != 1 || rep.Symptoms[0].Text != "dropped a cup" {
		t.Errorf("symptoms %+v", rep.Symptoms)
	}
	code, stdout, _ = run("report", "--subject", "p1", "--site", "calf_left", "--until", "2026-10-02T00:00:00Z")
	flat := strings.Join(strings.Fields(stdout), " ")
	for _, must := range []string{"status persistent_with_symptoms", "stored persistent", "consider seeking medical assistance",
		"does not diagnose"} {
		if code != 0 || !strings.Contains(flat, must) {
			t.Errorf("text report (exit %d) lacks %q:\n%s", code, must, stdout)
		}
	}
	if code, _, stderr := run("report", "--since", "14d"); code != 2 || !strings.Contains(stderr, "--subject is required") {
		t.Errorf("report without subject: exit %d, %q", code, stderr)
	}
}
