package loadgen

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxsetup"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

func TestMain(m *testing.M) { influxtest.Main(m) }

// load sets up the retention policies and writes spec into srv.
func load(t testing.TB, srv *influxtest.Server, spec Spec) Counts {
	t.Helper()
	ctx := context.Background()
	conn, err := influxconn.Open(influxconn.Settings{URL: srv.URL, Org: srv.Org, Bucket: srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := influxsetup.Setup(ctx, conn, influxsetup.Options{Database: influxtest.Database}, io.Discard); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(srv.URL, influxtest.Database, "", 2)
	c, err := Generate(ctx, spec, w.Write)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return c
}

// TestHistoryReadFindsOwnHistory writes 3 subjects x 10 days and checks
// that the history read at the start of a recording, and the report's
// read, find subject 1's own history, all of it within the lookbacks,
// and nothing of the others'.
func TestHistoryReadFindsOwnHistory(t *testing.T) {
	srv := influxtest.Shared(t)
	spec := Spec{From: 0, To: 3, Days: 10, RawDays: 3}.withDefaults()
	c := load(t, srv, spec)
	if c.Events == 0 || c.Raw == 0 || c.Hourly == 0 {
		t.Fatalf("counts %+v: want events, raw and hourly activity", c)
	}
	const who = 1
	own := map[string]bool{}
	for d := 0; d < spec.Days; d++ {
		own[spec.Session(who, d)] = true
	}
	cfg := rule.DefaultConfig()
	r := history.NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket).For(cfg)
	p, err := r.Load(context.Background(), rule.Query{Subject: Subject(who), Site: spec.Site,
		Start: spec.End.Add(-cfg.Lookback()), End: spec.End})
	if err != nil {
		t.Fatal(err)
	}
	// Every day: 2 bouts, 3 five-minute windows of 5 or more twitches (on
	// both channels, counted once), one last assessment; a cramp on day 3,
	// a symptom note on day 5.
	if len(p.Bouts) != 2*spec.Days || len(p.Episodes) != 3*spec.Days || len(p.Finals) != spec.Days ||
		len(p.Cramps) != 1 || len(p.Symptoms) != 1 {
		t.Errorf("%d bouts, %d episode windows, %d finals, %d cramps, %d symptoms; want %d, %d, %d, 1, 1",
			len(p.Bouts), len(p.Episodes), len(p.Finals), len(p.Cramps), len(p.Symptoms), 2*spec.Days, 3*spec.Days, spec.Days)
	}
	for _, b := range p.Bouts {
		if !own[b.Session] {
			t.Errorf("bout of session %s, not subject %d's", b.Session, who)
		}
	}
	for _, e := range p.Episodes {
		if !own[e.Session] {
			t.Errorf("episode of session %s, not subject %d's", e.Session, who)
		}
	}
	for _, f := range p.Finals {
		d := -1
		for k := 0; k < spec.Days; k++ {
			if spec.Session(who, k) == f.Session {
				d = k
			}
		}
		if d < 0 {
			t.Errorf("final of session %s, not subject %d's", f.Session, who)
			continue
		}
		end := pipeline.Timestamp(spec.SessionStart(who, d).Add(time.Duration(spec.SessionMinutes) * time.Minute).UnixNano())
		if f.Time != end {
			t.Errorf("final of %s at %v, want the end of the recording %v", f.Session, f.Time, end)
		}
	}
	if s := p.Symptoms; len(s) == 1 && s[0].Subject != Subject(who) {
		t.Errorf("symptom of %s", s[0].Subject)
	}

	evs, err := r.Events(context.Background(), Subject(who), spec.Site, spec.End.AddDate(0, 0, -spec.Days), spec.End)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for d := 0; d < spec.Days; d++ {
		e, _ := spec.Recording(who, d)
		want += len(e)
	}
	if len(evs) != want {
		t.Errorf("report's read: %d events, generated %d", len(evs), want)
	}
	for _, ev := range evs {
		var subj string
		switch x := ev.(type) {
		case *pipeline.Twitch:
			subj = x.Subject
		case *pipeline.Assessment:
			subj = x.Subject
		case *pipeline.Summary:
			subj = x.Subject
		case *pipeline.Symptom:
			subj = x.Subject
		default:
			continue
		}
		if subj != Subject(who) {
			t.Fatalf("event of %s in %s's history", subj, Subject(who))
		}
	}

	// Activity: raw epochs for the last RawDays, hourly points for all.
	raw := srv.Query(t, `from(bucket: "twitchd/`+schema.RPActivityRaw+`") |> range(start: -100d)
  |> filter(fn: (r) => r._measurement == "activity" and r.subject == "`+Subject(who)+`" and r._field == "duration_s") |> group() |> count()`)
	hourly := srv.Query(t, `from(bucket: "twitchd/`+schema.RPActivityHourly+`") |> range(start: -100d)
  |> filter(fn: (r) => r._measurement == "activity" and r.subject == "`+Subject(who)+`" and r._field == "duration_s") |> group() |> count()`)
	perDay := int64(spec.SessionMinutes * 12 * 2)
	if len(raw) != 1 || raw[0]["_value"] != perDay*int64(spec.RawDays) {
		t.Errorf("raw activity %v, want %d points", raw, perDay*int64(spec.RawDays))
	}
	if len(hourly) != 1 || hourly[0]["_value"] != int64(2*spec.Days) {
		t.Errorf("hourly activity %v, want %d points", hourly, 2*spec.Days)
	}
}

// TestSeriesDoNotGrowWithSessions: 3 subjects x 20 days make the same
// number of series as 3 subjects x 10 days (every session adds points, no
// series, once every kind of event has been seen).
func TestSeriesDoNotGrowWithSessions(t *testing.T) {
	srv := influxtest.Shared(t)
	conn, err := influxconn.Open(influxconn.Settings{URL: srv.URL, Org: srv.Org, Bucket: srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var counts []int64
	for _, days := range []int{10, 20} {
		srv.Reset(t)
		load(t, srv, Spec{From: 0, To: 3, Days: days, RawDays: 1})
		n, err := SeriesCardinality(context.Background(), conn, influxtest.Database)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, n)
	}
	if counts[0] != counts[1] || counts[0] == 0 {
		t.Errorf("series after 10 days %d, after 20 days %d: want the same", counts[0], counts[1])
	}
}
