package influx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	lp "github.com/influxdata/line-protocol"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/metrics"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

func TestMain(m *testing.M) { influxtest.Main(m) }

// fastConfig is a Config for srv with retry settings short enough for tests.
func fastConfig(srv *influxtest.Server) *Config {
	return NewConfig(srv.URL, srv.Bucket).SetOrg(srv.Org).
		SetFlushInterval(50*time.Millisecond).
		SetBackoff(20*time.Millisecond, 200*time.Millisecond).
		SetMaxRetryTime(30 * time.Second).
		SetHTTPTimeout(5 * time.Second)
}

func newSink(t testing.TB, cfg *Config) *Sink {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func flush(t testing.TB, s *Sink) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return s.Flush(ctx)
}

func writeAll(t testing.TB, s *Sink, evs []pipeline.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := s.Write(ev); err != nil {
			t.Fatalf("Write %s: %v", ev.EventType(), err)
		}
	}
}

// stored is a point as read back: measurement, tags, time and fields.
type stored struct {
	key    string // measurement, sorted tags, time
	fields map[string]any
}

// expected parses line protocol with the line-protocol module's parser
// (independent of our encoder) into points keyed like fetch's.
func expected(t testing.TB, lines []byte) map[string]map[string]any {
	t.Helper()
	ms, err := lp.NewParser(lp.NewMetricHandler()).Parse(lines)
	if err != nil {
		t.Fatalf("parse our own lines: %v\n%s", err, lines)
	}
	out := map[string]map[string]any{}
	for _, m := range ms {
		tags := map[string]string{}
		for _, tg := range m.TagList() {
			tags[tg.Key] = tg.Value
		}
		fields := map[string]any{}
		for _, f := range m.FieldList() {
			fields[f.Key] = f.Value
		}
		out[pointKey(m.Name(), tags, m.Time())] = fields
	}
	return out
}

func pointKey(measurement string, tags map[string]string, ts time.Time) string {
	var kv []string
	for k, v := range tags {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return fmt.Sprintf("%s,%s @%d", measurement, strings.Join(kv, ","), ts.UnixNano())
}

// fetch reads every point of the database back with Flux through the
// client's QueryAPI, optionally restricted to one measurement.
func fetch(t testing.TB, srv *influxtest.Server, measurement string) map[string]map[string]any {
	t.Helper()
	q := `from(bucket: "twitchd/autogen") |> range(start: 1970-01-01T00:00:00Z, stop: 2100-01-01T00:00:00Z)`
	if measurement != "" {
		q += fmt.Sprintf(` |> filter(fn: (r) => r._measurement == %q)`, measurement)
	}
	out := map[string]map[string]any{}
	for _, r := range srv.Query(t, q) {
		tags := map[string]string{}
		for k, v := range r {
			switch k {
			case "_measurement", "_field", "_value", "_time", "_start", "_stop", "result", "table":
				continue
			}
			if s, ok := v.(string); ok && s != "" {
				tags[k] = s
			}
		}
		key := pointKey(r["_measurement"].(string), tags, r["_time"].(time.Time))
		if out[key] == nil {
			out[key] = map[string]any{}
		}
		out[key][r["_field"].(string)] = r["_value"]
	}
	return out
}

func encodeAll(t testing.TB, evs []pipeline.Event) []byte {
	t.Helper()
	var lines []byte
	for _, ev := range evs {
		var err error
		if lines, _, err = AppendLines(lines, ev); err != nil {
			t.Fatal(err)
		}
	}
	return lines
}

// comparePoints reports every difference between the points wanted and got.
func comparePoints(t testing.TB, got, want map[string]map[string]any) {
	t.Helper()
	for key, wf := range want {
		gf, ok := got[key]
		if !ok {
			t.Errorf("missing point %s", key)
			continue
		}
		for f, wv := range wf {
			if gv, ok := gf[f]; !ok || gv != wv {
				t.Errorf("%s: field %s = %T(%v), want %T(%v)", key, f, gv, gv, wv, wv)
			}
		}
		for f, gv := range gf {
			if _, ok := wf[f]; !ok {
				t.Errorf("%s: unexpected field %s = %v", key, f, gv)
			}
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected point %s", key)
		}
	}
}

func checkStats(t testing.TB, st Stats, written, rejected, failed, dropped, overflowed int64) {
	t.Helper()
	if st.Written != written || st.Rejected != rejected || st.Failed != failed || st.Dropped != dropped || st.Overflowed != overflowed {
		t.Errorf("stats %v\nwant %d written, %d rejected, %d failed, %d dropped, %d overflowed",
			st, written, rejected, failed, dropped, overflowed)
	}
	if sum := st.Written + st.Rejected + st.Failed + st.Dropped + st.Overflowed + st.Queued; sum != st.Points {
		t.Errorf("stats do not add up: %d points but %d accounted for: %v", st.Points, sum, st)
	}
}

// oddIDs has tag values that need every escape line protocol has.
var oddIDs = pipeline.Tags{Subject: `Dr. "A", B=C`, Site: `calf left\`, Session: "séance 2, take=3"}

// TestRoundTrip writes every event type for two subjects, reads the
// points back with Flux and compares tags, fields, types and timestamps
// to the nanosecond.
func TestRoundTrip(t *testing.T) {
	srv := influxtest.Shared(t)
	s := newSink(t, fastConfig(srv))
	evs := append(sampleEvents(ids, t0), sampleEvents(oddIDs, t0+3_600_000_000_007)...)
	writeAll(t, s, evs)
	if err := flush(t, s); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	checkStats(t, s.Stats(), int64(len(evs)), 0, 0, 0, 0)
	checkLatencyHist(t, s)
	want := expected(t, encodeAll(t, evs))
	if len(want) != len(evs) {
		t.Fatalf("%d events encode to %d distinct points", len(evs), len(want))
	}
	comparePoints(t, fetch(t, srv, ""), want)

	// The tags read back are the event's own, escapes undone (but for the
	// trailing backslash line protocol cannot carry).
	recs := srv.Query(t, `from(bucket: "twitchd/autogen") |> range(start: 0, stop: 2100-01-01T00:00:00Z)
		|> filter(fn: (r) => r._measurement == "rest" and r._field == "session" and r._value == "séance 2, take=3")`)
	if len(recs) == 0 {
		t.Fatalf("no rest point for session %q", oddIDs.Session)
	}
	if r := recs[0]; r["subject"] != oddIDs.Subject || r["site"] != "calf left/" {
		t.Errorf("tags read back: subject %q site %q, want %q and %q", r["subject"], r["site"], oddIDs.Subject, "calf left/")
	}
}

// checkLatencyHist checks that the latency histogram counts every
// written point once, that its highest bucket holds the longest latency,
// and that /metrics shows it cumulated.
func checkLatencyHist(t testing.TB, s *Sink) {
	t.Helper()
	st := s.Stats()
	var n int64
	top := -1
	for i, c := range st.LatencyHist {
		n += c
		if c > 0 {
			top = i
		}
	}
	if n != st.Written || st.LatencyCount != st.Written {
		t.Errorf("latency histogram holds %d points, count %d; %d written", n, st.LatencyCount, st.Written)
	}
	if top < 0 || sort.SearchFloat64s(LatencyBuckets[:], st.LatencyMax.Seconds()) != top {
		t.Errorf("latency max %v, yet the highest bucket in use is %d of %v: %v", st.LatencyMax, top, LatencyBuckets, st.LatencyHist)
	}
	var b strings.Builder
	w := metrics.NewWriter(&b)
	s.Collect(w)
	w.Flush()
	if want := fmt.Sprintf("twitchd_write_latency_seconds_bucket{le=\"+Inf\"} %d\n", st.Written); !strings.Contains(b.String(), want) {
		t.Errorf("/metrics lacks %q:\n%s", want, b.String())
	}
}

// TestSessionsDoNotOverwrite writes the same events as two recordings of
// the same subject and site (an EMG and an accelerometer file of the
// same hour, say) whose summaries and assessments fall at the same
// nanosecond: the session is a field now, not a tag, and the session's
// shift (schema.SessionShift) keeps the two recordings' ingest and
// assessment points apart, while the series stay those of the subject.
func TestSessionsDoNotOverwrite(t *testing.T) {
	srv := influxtest.Shared(t)
	other := ids
	other.Session = "20261125T100000Z-77aa01"
	var evs []pipeline.Event
	for _, tags := range []pipeline.Tags{ids, other} {
		evs = append(evs,
			&pipeline.Assessment{Time: t0, Tags: tags, Status: "none", Reason: "r"},
			&pipeline.Summary{Tags: tags, File: "f.csv", Format: "csv", Start: t0, End: t0 + 60e9})
	}
	s := newSink(t, fastConfig(srv))
	writeAll(t, s, evs)
	if err := flush(t, s); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for _, m := range []string{schema.Assessment, schema.Ingest} {
		recs := srv.Query(t, `from(bucket: "twitchd/autogen") |> range(start: 0, stop: 2100-01-01T00:00:00Z)
		|> filter(fn: (r) => r._measurement == "`+m+`" and r._field == "session")`)
		got := map[string]bool{}
		for _, r := range recs {
			got[fmt.Sprint(r["_value"])] = true
			if _, tagged := r["session"]; tagged {
				t.Errorf("%s: a session tag: %v", m, r)
			}
		}
		if !got[ids.Session] || !got[other.Session] || len(recs) != 2 {
			t.Errorf("%s: sessions read back %v, want both %q and %q", m, got, ids.Session, other.Session)
		}
	}
}

// TestActivityBucket sends the activity points to their own retention
// policy and everything else to the bucket, through the same batches; a
// field type conflict in the events' bucket is still counted exactly.
func TestActivityBucket(t *testing.T) {
	srv := influxtest.Shared(t)
	srv.Exec(t, "CREATE RETENTION POLICY activity_raw ON twitchd DURATION INF REPLICATION 1")
	// twitch.peak becomes a string: the two twitches are rejected.
	if code, body := srv.WriteRaw(t, fmt.Sprintf("twitch,subject=other peak=\"high\" %d\n", t0)); code != 204 {
		t.Fatalf("raw write: %d %s", code, body)
	}
	s := newSink(t, fastConfig(srv).SetActivityBucket("twitchd/activity_raw"))
	evs := sampleEvents(ids, t0)
	writeAll(t, s, evs)
	_ = flush(t, s)
	var acts, twitches int
	for _, ev := range evs {
		switch ev.EventType() {
		case pipeline.TypeEpoch:
			acts++
		case pipeline.TypeTwitch:
			twitches++
		}
	}
	if acts == 0 || twitches == 0 {
		t.Fatalf("sample events without activity (%d) or twitches (%d)", acts, twitches)
	}
	checkStats(t, s.Stats(), int64(len(evs)-twitches), int64(twitches), 0, 0, 0)
	count := func(bucket, m string) int {
		return len(srv.Query(t, `from(bucket: "`+bucket+`") |> range(start: 1970-01-01T00:00:00Z, stop: 2100-01-01T00:00:00Z)
		|> filter(fn: (r) => r._measurement == "`+m+`" and r._field == "duration_s" and r.subject == "s1")`))
	}
	if n := count("twitchd/activity_raw", schema.Activity); n != acts {
		t.Errorf("%d activity points in activity_raw, want %d", n, acts)
	}
	if n := count("twitchd/autogen", schema.Activity); n != 0 {
		t.Errorf("%d activity points in autogen, want none", n)
	}
	if n := count("twitchd/autogen", schema.Bout); n == 0 {
		t.Errorf("no bout in autogen")
	}
	if n := count("twitchd/activity_raw", schema.Bout); n != 0 {
		t.Errorf("%d bouts in activity_raw, want none", n)
	}
}

// TestReplayIsIdempotent writes the same events twice, through two sinks
// as two runs would, and expects the same points.
func TestReplayIsIdempotent(t *testing.T) {
	srv := influxtest.Shared(t)
	evs := sampleEvents(ids, t0)
	var counts []int
	for run := 0; run < 2; run++ {
		s := newSink(t, fastConfig(srv))
		writeAll(t, s, evs)
		if err := flush(t, s); err != nil {
			t.Fatalf("run %d: Flush: %v", run, err)
		}
		got := fetch(t, srv, "")
		comparePoints(t, got, expected(t, encodeAll(t, evs)))
		n := 0
		for _, f := range got {
			n += len(f)
		}
		counts = append(counts, n)
	}
	if counts[0] != counts[1] {
		t.Errorf("field values after one run %d, after two %d", counts[0], counts[1])
	}
}

// TestFieldTypeConflictCounted makes twitch.peak a string with a raw
// write, then writes the sample events: the two twitches are rejected
// (a partial write with dropped=2) and everything else lands.
func TestFieldTypeConflictCounted(t *testing.T) {
	srv := influxtest.Shared(t)
	if code, body := srv.WriteRaw(t, fmt.Sprintf("twitch,subject=other peak=\"high\" %d\n", t0)); code != 204 {
		t.Fatalf("raw write: %d %s", code, body)
	}
	s := newSink(t, fastConfig(srv))
	evs := sampleEvents(ids, t0)
	writeAll(t, s, evs)
	err := flush(t, s)
	var loss *LossError
	if !errors.As(err, &loss) || loss.Rejected != 2 || loss.Failed != 0 || loss.Dropped != 0 {
		t.Fatalf("Flush = %v, want a LossError with 2 rejected", err)
	}
	if !strings.Contains(err.Error(), "field type conflict") {
		t.Errorf("loss error %q does not say why", err)
	}
	st := s.Stats()
	checkStats(t, st, int64(len(evs)-2), 2, 0, 0, 0)
	if len(st.Errors) == 0 || !strings.Contains(st.Errors[0].Error(), "rejected 2 of") {
		t.Errorf("Stats.Errors = %v, want the partial write", st.Errors)
	}
	var good []pipeline.Event
	for _, ev := range evs {
		if ev.EventType() != pipeline.TypeTwitch {
			good = append(good, ev)
		}
	}
	got := fetch(t, srv, "")
	for k := range got {
		if strings.HasPrefix(k, "twitch,") { // the raw point
			delete(got, k)
		}
	}
	comparePoints(t, got, expected(t, encodeAll(t, good)))
	// The next Flush reports nothing new.
	if err := flush(t, s); err != nil {
		t.Errorf("second Flush: %v, want nil", err)
	}
}

// TestUnparseableLinesIsolated injects bad lines among good ones through
// WriteLines: bisection isolates them, the good points land, and the bad
// ones are counted and named.
func TestUnparseableLinesIsolated(t *testing.T) {
	tests := []struct {
		name     string
		before   int // good lines before the bad ones
		bad      []string
		after    int
		maxReqs  int64 // requests allowed, to show the search is a bisection
		rejected int64
	}{
		{"one bad line in the middle", 20, []string{"twitch,subject=x peak=\n"}, 11, 14, 1},
		{"bad line first", 0, []string{"no fields here 1\n"}, 30, 14, 1},
		{"bad lines only", 0, []string{"a\n", "b b\n", "c=1\n"}, 0, 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := influxtest.Shared(t)
			s := newSink(t, fastConfig(srv).SetBatchSize(1000))
			var good, all []byte
			line := func(i int) []byte {
				return fmt.Appendf(nil, "activity,subject=s%d enmo_mg=%d %d\n", i, i, int64(t0)+int64(i))
			}
			for i := 0; i < tc.before; i++ {
				good = append(good, line(i)...)
			}
			all = append(all, good...)
			for _, b := range tc.bad {
				all = append(all, b...)
			}
			for i := tc.before; i < tc.before+tc.after; i++ {
				good = append(good, line(i)...)
				all = append(all, line(i)...)
			}
			if err := s.WriteLines(all); err != nil {
				t.Fatal(err)
			}
			err := flush(t, s)
			var loss *LossError
			if !errors.As(err, &loss) || loss.Rejected != tc.rejected {
				t.Fatalf("Flush = %v, want %d rejected", err, tc.rejected)
			}
			st := s.Stats()
			checkStats(t, st, int64(tc.before+tc.after), tc.rejected, 0, 0, 0)
			if st.Requests > tc.maxReqs {
				t.Errorf("%d requests, want at most %d", st.Requests, tc.maxReqs)
			}
			if len(st.Errors) == 0 || !strings.Contains(st.Errors[0].Error(), "unable to parse") {
				t.Errorf("errors %v, want the parse error", st.Errors)
			}
			if len(tc.bad) == 1 && !strings.Contains(st.Errors[0].Error(), strings.TrimSpace(strconvQuote(tc.bad[0]))) {
				t.Errorf("error %q does not name the bad line %q", st.Errors[0], tc.bad[0])
			}
			if len(good) > 0 {
				comparePoints(t, fetch(t, srv, "activity"), expected(t, good))
			}
		})
	}
}

func strconvQuote(line string) string { return fmt.Sprintf("%q", strings.TrimSuffix(line, "\n")) }

// TestOutage stops the server, writes to two sinks, and restarts it: the
// sink whose MaxRetryTime ends during the outage gives its points up as
// failed and says so; the other delivers all of them once the server is
// back. Write returns while the server is down in both.
func TestOutage(t *testing.T) {
	srv := influxtest.Shared(t)
	patient := newSink(t, fastConfig(srv).SetMaxRetryTime(60*time.Second).SetMaxRetries(10_000))
	impatient := newSink(t, fastConfig(srv).SetMaxRetryTime(300*time.Millisecond))
	evs := sampleEvents(ids, t0)

	srv.Stop(t)
	writeAll(t, patient, evs) // returns although nothing can be written
	writeAll(t, impatient, evs)

	err := flush(t, impatient)
	var loss *LossError
	if !errors.As(err, &loss) || loss.Failed != int64(len(evs)) {
		t.Fatalf("impatient Flush = %v, want %d failed", err, len(evs))
	}
	if want := fmt.Sprintf("%d points not written", len(evs)); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	checkStats(t, impatient.Stats(), 0, 0, int64(len(evs)), 0, 0)
	if err := impatient.Check(); err == nil || !strings.Contains(err.Error(), "write failing since") {
		t.Errorf("Check during the outage: %v, want write failing", err)
	}

	waitFor(t, "a failed attempt", func() bool { return patient.Stats().Retries > 0 })
	srv.Restart(t)
	if err := flush(t, patient); err != nil {
		t.Fatalf("patient Flush after restart: %v", err)
	}
	st := patient.Stats()
	checkStats(t, st, int64(len(evs)), 0, 0, 0, 0)
	if st.Retries == 0 {
		t.Errorf("no retries counted: %v", st)
	}
	if err := patient.Check(); err != nil {
		t.Errorf("Check after the server came back: %v", err)
	}
	var b bytes.Buffer
	w := metrics.NewWriter(&b)
	patient.Collect(w)
	w.Flush()
	if want := fmt.Sprintf("twitchd_points_written_total %d\n", len(evs)); !strings.Contains(b.String(), want) {
		t.Errorf("metrics lack %q:\n%s", want, b.String())
	}
	comparePoints(t, fetch(t, srv, ""), expected(t, encodeAll(t, evs)))
}

// TestStalledServer pauses influxd so requests hang: they time out and
// are retried, Write keeps returning, and everything lands on resume.
func TestStalledServer(t *testing.T) {
	srv := influxtest.Shared(t)
	s := newSink(t, fastConfig(srv).SetHTTPTimeout(200*time.Millisecond))
	evs := sampleEvents(ids, t0)
	srv.Pause(t)
	writeAll(t, s, evs)
	waitFor(t, "a request to time out", func() bool { return s.Stats().Retries > 0 })
	writeAll(t, s, evs) // still returns, the writer being stuck
	srv.Resume(t)
	if err := flush(t, s); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	checkStats(t, s.Stats(), int64(2*len(evs)), 0, 0, 0, 0)
	comparePoints(t, fetch(t, srv, ""), expected(t, encodeAll(t, evs)))
}

// waitFor polls cond until it holds; it fails the test after a minute, a
// bound on a hang rather than a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// spool is an Overflow that keeps what it is given.
type spool struct {
	mu      sync.Mutex
	lines   map[Reason][]byte
	n       map[Reason]int
	refuse  bool
	reasons []Reason
}

func (sp *spool) Overflow(r Reason, lines []byte, n int) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.refuse {
		return errors.New("spool full")
	}
	if sp.lines == nil {
		sp.lines, sp.n = map[Reason][]byte{}, map[Reason]int{}
	}
	sp.lines[r] = append(sp.lines[r], lines...)
	sp.n[r] += n
	return nil
}

// silent returns the URL of a server that accepts connections and never
// answers, so that the writer keeps its first batch in flight and the
// queue stays as filled.
func silent(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + l.Addr().String()
}

// TestQueueFull fills a queue of 10 points while the server does not
// answer the first request:
// the 5 points after it go to the overflow (or are dropped without one),
// and Close hands the queued 10 over as well.
func TestQueueFull(t *testing.T) {
	evs := make([]pipeline.Event, 15)
	for i := range evs {
		evs[i] = &pipeline.Epoch{Start: t0 + pipeline.Timestamp(i), End: t0 + pipeline.Timestamp(i) + 1, Tags: ids,
			Sensor: "acc", Channel: "acc", ENMO: float64(i)}
	}
	cfg := func(o Overflow) *Config {
		return NewConfig(silent(t), "twitchd/autogen").SetQueueSize(10).SetBatchSize(10).
			SetBackoff(time.Hour, time.Hour).SetMaxRetryTime(2 * time.Hour).SetOverflow(o)
	}
	t.Run("overflow takes them", func(t *testing.T) {
		sp := &spool{}
		s := newSink(t, cfg(sp))
		writeAll(t, s, evs) // no error: the overflow took the 5
		checkStats(t, s.Stats(), 0, 0, 0, 0, 5)
		if got, want := string(sp.lines[ReasonQueueFull]), string(encodeAll(t, evs[10:])); got != want {
			t.Errorf("overflow got\n%s\nwant\n%s", got, want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want the flush deadline", err)
		}
		checkStats(t, s.Stats(), 0, 0, 0, 0, 15)
		if got, want := string(sp.lines[ReasonClosed]), string(encodeAll(t, evs[:10])); got != want {
			t.Errorf("overflow on close got\n%s\nwant\n%s", got, want)
		}
		if err := s.Write(evs[0]); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after Close = %v, want ErrClosed", err)
		}
	})
	t.Run("no overflow", func(t *testing.T) {
		s := newSink(t, cfg(nil))
		writeAll(t, s, evs[:10])
		for _, ev := range evs[10:] {
			if err := s.Write(ev); !errors.Is(err, ErrQueueFull) {
				t.Errorf("Write on a full queue = %v, want ErrQueueFull", err)
			}
		}
		checkStats(t, s.Stats(), 0, 0, 0, 5, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.Close(ctx)
		var loss *LossError
		if !errors.As(err, &loss) || loss.Dropped != 5 || loss.Failed != 10 {
			t.Errorf("Close = %v, want 5 dropped and 10 failed", err)
		}
		checkStats(t, s.Stats(), 0, 0, 10, 5, 0)
	})
	t.Run("overflow refuses", func(t *testing.T) {
		s := newSink(t, cfg(&spool{refuse: true}))
		writeAll(t, s, evs[:10])
		err := s.Write(evs[10])
		if !errors.Is(err, ErrQueueFull) || !strings.Contains(err.Error(), "spool full") {
			t.Errorf("Write = %v, want ErrQueueFull and the overflow's refusal", err)
		}
		checkStats(t, s.Stats(), 0, 0, 0, 1, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = s.Close(ctx)
		checkStats(t, s.Stats(), 0, 0, 10, 1, 0)
	})
}

// TestMissingDatabaseGivesUp writes to a database that does not exist:
// the server refuses the request (404), which is not retried.
func TestMissingDatabaseGivesUp(t *testing.T) {
	srv := influxtest.Shared(t)
	sp := &spool{}
	s := newSink(t, fastConfig(srv).SetBucket("nosuchdb/autogen").SetOverflow(sp))
	evs := sampleEvents(ids, t0)
	writeAll(t, s, evs)
	if err := flush(t, s); err != nil {
		t.Fatalf("Flush = %v, want nil (the overflow took the points)", err)
	}
	st := s.Stats()
	checkStats(t, st, 0, 0, 0, 0, int64(len(evs)))
	if st.Retries != 0 || sp.n[ReasonGaveUp] != len(evs) {
		t.Errorf("retries %d, overflow %v; want no retry and %d points given up", st.Retries, sp.n, len(evs))
	}
}

func TestNewNeedsURLAndBucket(t *testing.T) {
	for _, c := range []*Config{NewConfig("", "b"), NewConfig("http://x", "")} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}
