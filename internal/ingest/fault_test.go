package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/internal/testutil/standin"
	"github.com/twitchd/twitchd/pipeline"
)

// fault makes the spool go out again within 200 ms of the server's
// return. (A lost server shows in the spool within a flush interval
// anyway: the sink's circuit sends batches there at once.)
func fault(cfg *Config) {
	cfg.Spool.Interval = 200 * time.Millisecond
}

// historyNote is what the persistence rule adds to an assessment's
// reason when it could not read the person's history from InfluxDB, as
// happens when the server is down at that moment.
const historyNote = " (history unavailable: assessed on this recording alone)"

// dump returns every point of bucket, one sorted string per field value
// with its measurement, tags and time. An assessment's history_ok field
// and the historyNote of its reason are left out: whether the rule could
// read the history depends on when the server was down, by design.
func dump(t *testing.T, srv *influxtest.Server, bucket string) []string {
	t.Helper()
	rows := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0) |> drop(columns: ["_start", "_stop"])`, bucket))
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		if r["_measurement"] == schema.Assessment {
			if r["_field"] == rule.MeasureHistoryOK {
				continue
			}
			if v, ok := r["_value"].(string); ok {
				r["_value"] = strings.TrimSuffix(v, historyNote)
			}
		}
		keys := make([]string, 0, len(r))
		for k := range r {
			if k != "result" && k != "table" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%v ", k, r[k])
		}
		out = append(out, b.String())
	}
	sort.Strings(out)
	return out
}

// measurementOf maps an event type to its InfluxDB measurement and the
// time of its point.
func measurementOf(ev pipeline.Event) (string, pipeline.Timestamp) {
	switch e := ev.(type) {
	case *pipeline.Epoch:
		return schema.Activity, e.Start
	case *pipeline.Summary:
		return schema.Ingest, e.Start
	case *pipeline.Watermark:
		return "", 0
	}
	return ev.EventType(), ev.At()
}

// expectedPoints returns "measurement time sensor channel" for every
// event of an events file (written with epochs), without duplicates.
func expectedPoints(t *testing.T, path string) []string {
	t.Helper()
	set := map[string]bool{}
	for _, k := range eventPoints(t, path) {
		set[k] = true
	}
	return sortedKeys(set)
}

// eventPoints returns "measurement time sensor channel" for each event
// of an events file that makes a point, in the file's order.
func eventPoints(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, ev := range recording.ReadEvents(t, path) {
		m, ts := measurementOf(ev)
		if m == "" {
			continue
		}
		b, err := pipeline.MarshalEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if m == schema.Assessment || m == schema.Ingest {
			// Stored a session-derived shift late (schema.SessionShift).
			session, _ := f[schema.FieldSession].(string)
			ts += pipeline.Timestamp(schema.SessionShift(session))
		}
		out = append(out, pointKey(m, int64(ts), f[schema.TagSensor], f[schema.TagChannel]))
	}
	return out
}

func pointKey(m string, ts int64, sensor, channel any) string {
	str := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return ""
	}
	return fmt.Sprintf("%s %d %s %s", m, ts, str(sensor), str(channel))
}

// storedPoints returns "measurement time sensor channel" for every point
// of subject in the server's bucket, without duplicates.
func storedPoints(t *testing.T, srv *influxtest.Server, subject string) []string {
	t.Helper()
	set := map[string]bool{}
	for _, r := range srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0, stop: 2200-01-01T00:00:00Z) |> filter(fn: (r) => r.subject == %q)`, srv.Bucket, subject)) {
		set[pointKey(r["_measurement"].(string), r["_time"].(time.Time).UnixNano(), r[schema.TagSensor], r[schema.TagChannel])] = true
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// diff describes how got differs from want, at most a few lines.
func diff(got, want []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d points, want %d", len(got), len(want))
	n := 0
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok && n < 5 {
			fmt.Fprintf(&b, "\n  missing %s", w)
			n++
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok && n < 10 {
			fmt.Fprintf(&b, "\n  extra   %s", g)
			n++
		}
	}
	return b.String()
}

// liveConfig returns a Config collecting from a stand-in at link.
func liveConfig(link, protocol, subject string) Config {
	cfg := Defaults()
	cfg.Device = &serial.Device{Port: link, Protocol: protocol}
	cfg.Subject = subject
	return cfg
}

// runAsync runs cfg until ctx is cancelled and returns its outcome on a
// channel.
func runAsync(ctx context.Context, cfg Config) <-chan outcome {
	done := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, cfg)
		done <- outcome{res, err}
	}()
	return done
}

type outcome struct {
	res *Result
	err error
}

// check fails t unless the run ended without error, no point lost.
func (o outcome) check(t *testing.T, what string) *Result {
	t.Helper()
	if o.err != nil || o.res.Failed() > 0 || o.res.LostError() != nil {
		t.Fatalf("%s: %v; %+v", what, o.err, o.res)
	}
	return o.res
}

// TestReplayInfluxKilledMidway replays the bundled session once into a
// reference database undisturbed, then again at 20 times real time while
// influxd is killed (SIGKILL) for several seconds and restarted: the
// batches that fail go to the spool, which is sent when the server is
// back, and the database ends up holding exactly the reference's points.
func TestReplayInfluxKilledMidway(t *testing.T) {
	t.Parallel()
	srv := influxtest.Start(t)
	srv.Exec(t, "CREATE DATABASE ref")
	dir := t.TempDir()
	csv := recording.Bundled(t, dir)
	config := func(bucket string) Config {
		cfg := replayConfig(csv)
		cfg.Subject, cfg.Site = "ft", "calf_left"
		cfg.Influx.URL, cfg.Influx.Bucket = srv.URL, bucket
		cfg.Spool.Root = filepath.Join(dir, "spool")
		// On a loaded machine influxd may take a while to start again:
		// the end of the replay waits for it rather than leave the spool.
		cfg.Spool.ServerWait = time.Minute
		fault(&cfg)
		return cfg
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	(<-runAsync(ctx, config("ref/autogen"))).check(t, "reference replay")
	want := dump(t, srv, "ref/autogen")

	cfg := config(srv.Bucket)
	cfg.Speed = 20
	done := runAsync(ctx, cfg)
	time.Sleep(2 * time.Second)
	srv.Kill(t)
	time.Sleep(4 * time.Second)
	srv.Restart(t)
	res := (<-done).check(t, "disturbed replay")
	sp := res.Spool
	if sp.Spooled == 0 || sp.Resent < sp.Spooled || sp.Pending != 0 || res.Influx.Failed != 0 {
		t.Fatalf("the outage did not go through the spool: %+v, %+v", sp, res.Influx)
	}
	got := dump(t, srv, srv.Bucket)
	if !slices.Equal(got, want) {
		t.Fatalf("after the outage InfluxDB holds %s", diff(got, want))
	}
	t.Logf("%d points spooled during the outage, %d sent again; %d field values identical to the undisturbed run", sp.Spooled, sp.Resent, len(want))
}

// TestRunInfluxKilledMidway collects live from a Cyton stand-in on a
// pseudo-terminal while influxd is killed and restarted; /healthz says
// so during the outage and recovers after it; afterwards InfluxDB holds
// a point for every event of the events file, and no other.
func TestRunInfluxKilledMidway(t *testing.T) {
	t.Parallel()
	srv := influxtest.Start(t)
	addr := freeAddr(t)
	dir := t.TempDir()
	link := standin.Serve(t, dir, recording.Bundled(t, dir), device.Cyton)
	ev := filepath.Join(dir, "ev.jsonl")
	cfg := liveConfig(link, device.Cyton, "live")
	cfg.Site = "calf"
	cfg.Influx.URL, cfg.Influx.Bucket = srv.URL, srv.Bucket
	cfg.Spool.Root, cfg.Events, cfg.Epochs, cfg.Health.Addr = filepath.Join(dir, "spool"), ev, true, addr
	fault(&cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	done := runAsync(rctx, cfg)
	// The windows are generous for a loaded machine: what matters is
	// the order healthy, unhealthy, healthy.
	before := waitHealth(t, addr, "200 ok", 10*time.Second)
	srv.Kill(t)
	killed := time.Now()
	during := waitHealth(t, addr, "503 unhealthy: influxdb: write failing", 10*time.Second)
	time.Sleep(time.Until(killed.Add(5 * time.Second)))
	srv.Restart(t)
	back := time.Now()
	after := waitHealth(t, addr, "200 ok", 15*time.Second)
	time.Sleep(time.Until(back.Add(8 * time.Second)))
	stop()
	res := (<-done).check(t, "run")
	if res.Spool.Spooled == 0 || res.Spool.Pending != 0 {
		t.Fatalf("the outage did not go through the spool: %+v", res.Spool)
	}
	want, got := expectedPoints(t, ev), storedPoints(t, srv, "live")
	if len(want) < 5 || !slices.Equal(got, want) {
		t.Fatalf("InfluxDB holds %s", diff(got, want))
	}
	if !before || !during || !after {
		t.Fatalf("/healthz: healthy before the outage %v, unhealthy during it %v, healthy after it %v", before, during, after)
	}
}

// waitHealth polls /healthz at addr until its status and body start with
// want or d has passed, and reports whether they did.
func waitHealth(t *testing.T, addr, want string, d time.Duration) bool {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	last := ""
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, body := get(c, "http://"+addr+"/healthz")
		last = fmt.Sprintf("%d %s", code, body)
		if strings.HasPrefix(last, want) {
			return true
		}
	}
	t.Logf("/healthz: waited %v for %q, last %q", d, want, last)
	return false
}

// childEnv, when set in the environment of the test binary, makes it a
// child process doing one live run (see child); its value is the
// childConfig as JSON.
const childEnv = "TWITCHD_INGEST_CHILD"

// childConfig is what a child process runs, and where it writes its
// Result (as JSON) when it ends.
type childConfig struct {
	Port, Protocol, Subject string
	URL, Bucket             string
	SpoolRoot, Events       string
	Result                  string
	// Speed, when set, makes the host clock run that many times faster
	// than real time from Wall0 on (for a stand-in as fast), stepped by
	// Step once StepAt of it has passed (the soak test).
	Speed        float64
	Wall0        int64
	StepAt, Step time.Duration
	// Epoch, when set, is the detectors' activity epoch (seconds).
	Epoch float64
}

// childResult is what the parent needs of the child's Result.
type childResult struct {
	Spool           SpoolReport
	Failed, Dropped int64
	Influx          influx.Stats
	Segments        []childSegment
	Serial          SerialStats
}

// childSegment is what one segment of the child's live stream gave.
type childSegment struct {
	Samples, Lost int64 // of the first channel: frames
	Segment       int
	ClockStepS    float64
	Session       string
}

// child runs the live ingest of the childConfig in the environment until
// SIGINT or SIGTERM, as "twitchd run" does, and returns the exit status.
func child() int {
	var cc childConfig
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &cc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := liveConfig(cc.Port, cc.Protocol, cc.Subject)
	cfg.Influx.URL, cfg.Influx.Bucket, cfg.Spool.Root, cfg.Events, cfg.Epochs = cc.URL, cc.Bucket, cc.SpoolRoot, cc.Events, true
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	fault(&cfg)
	if cc.Epoch > 0 {
		cfg.Detect.Epoch = cc.Epoch
	}
	if cc.Speed > 0 {
		cfg.HostClock = fastClock(cc.Speed, cc.Wall0, cc.StepAt, cc.Step)
		// Delays of the machine count Speed times over on this clock.
		cfg.LiveClock = &serial.Clock{GapAfter: time.Duration(cc.Speed) * serial.DefaultGapAfter,
			TimeConstant: time.Duration(cc.Speed) * serial.DefaultTimeConstant}
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := childResult{Spool: *res.Spool, Failed: res.Influx.Failed, Dropped: res.Influx.Dropped, Influx: *res.Influx}
	out.Influx.Errors, out.Influx.LastFailureErr, out.Influx.ConfigErr = nil, nil, nil
	for _, sr := range res.Streams {
		seg := childSegment{Lost: sr.Summary.LostSamples, Segment: sr.Summary.Segment, ClockStepS: sr.Summary.ClockStepS, Session: sr.Summary.Session}
		if len(sr.Summary.Channels) > 0 {
			seg.Samples = sr.Summary.Channels[0].Samples
		}
		out.Segments = append(out.Segments, seg)
		if sr.Serial != nil {
			out.Serial = *sr.Serial
		}
	}
	b, _ := json.Marshal(out)
	if err := os.WriteFile(cc.Result, b, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts the test binary as a child doing cc.
func startChild(t *testing.T, cc childConfig) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	b, _ := json.Marshal(cc)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// TestRunSIGTERMThenNextStartSends runs a live ingest in a child process
// against a stopped influxd and sends it SIGTERM in the middle: it exits
// 0 with the summary written and every point spooled. Sending the spool
// after the server is back (as "twitchd spool -send" does) sends them,
// and InfluxDB then holds a point for every event.
func TestRunSIGTERMThenNextStartSends(t *testing.T) {
	t.Parallel()
	srv := influxtest.Start(t)
	srv.Stop(t)
	dir := t.TempDir()
	cc := childConfig{Port: standin.Serve(t, dir, recording.Bundled(t, dir), device.BITalino), Protocol: device.BITalino,
		Subject: "term", URL: srv.URL, Bucket: srv.Bucket, SpoolRoot: filepath.Join(dir, "spool"),
		Events: filepath.Join(dir, "ev.jsonl"), Result: filepath.Join(dir, "result.json")}
	cmd, stderr := startChild(t, cc)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	time.Sleep(7 * time.Second)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("child after SIGTERM: %v\n%s", err, stderr)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child did not exit within 60 s of SIGTERM:\n%s", stderr)
	}
	took := time.Since(sent)
	interrupted := false
	for _, e := range recording.ReadEvents(t, cc.Events) {
		if sum, ok := e.(*pipeline.Summary); ok {
			interrupted = sum.Interrupted
		}
	}
	if !interrupted {
		t.Fatalf("no interrupted summary in the events file:\n%s", stderr)
	}
	var res childResult
	raw, err := os.ReadFile(cc.Result)
	if err != nil || json.Unmarshal(raw, &res) != nil {
		t.Fatalf("result: %v %s", err, raw)
	}
	spooled := res.Spool.Spooled
	if spooled == 0 || res.Spool.Pending != spooled || res.Failed+res.Dropped != 0 {
		t.Fatalf("not every point was spooled: %+v", res)
	}

	srv.Restart(t)
	b, err := OpenBacklog(influxconn.Settings{URL: srv.URL, Bucket: srv.Bucket}, Spool{Root: cc.SpoolRoot}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.Send(context.Background())
	b.Close()
	if err != nil || s != (Sent{Resent: spooled, Written: spooled}) {
		t.Fatalf("send: %+v, %v; want all %d written", s, err, spooled)
	}
	want, got := expectedPoints(t, cc.Events), storedPoints(t, srv, "term")
	if len(want) < 5 || !slices.Equal(got, want) {
		t.Fatalf("InfluxDB holds %s", diff(got, want))
	}
	t.Logf("exit 0 %v after SIGTERM with %d points spooled; all sent by the next start", took.Round(time.Millisecond), spooled)
}

// linesOf collects spooled lines for the kill -9 test.
type linesOf struct{ lines []string }

func (l *linesOf) WriteLines(b []byte) error {
	l.lines = append(l.lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	return nil
}

func (l *linesOf) Flush(context.Context) error { return nil }

// TestRunKill9LossWindow runs a live ingest in a child process with
// InfluxDB unreachable and the default retry time, kills it with
// SIGKILL, and reads the spool it left: the spool opens cleanly (a torn
// tail would be cut and counted) and the newest activity epoch in it
// ended shortly before the kill. That is the kill -9 loss window during
// an outage: the sink's circuit sends each batch to the spool at its
// first failed write, so what is lost is the last FlushInterval (1 s) of
// points, whatever the retry time.
//
// The child's activity epochs last a second (5 s by default), so that
// the spool tells the window within a second: the epoch after the newest
// spooled one, if it ended before the kill, was lost (the window is at
// least kill - its end), and the newest spooled one was not (the window
// is at most kill - its end).
func TestRunKill9LossWindow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cc := childConfig{Port: standin.Serve(t, dir, recording.Bundled(t, dir), device.Cyton), Protocol: device.Cyton,
		Subject: "k9", URL: deadURL(t), Bucket: influxconn.DefaultBucket, SpoolRoot: filepath.Join(dir, "spool"),
		Result: filepath.Join(dir, "result.json"), Epoch: 1}
	cmd, stderr := startChild(t, cc)
	time.Sleep(14 * time.Second)
	killed := time.Now()
	cmd.Process.Kill()
	cmd.Wait()

	sp, err := spool.Open(spool.Config{Dir: influxconn.Settings{URL: cc.URL, Bucket: cc.Bucket}.SpoolDir(cc.SpoolRoot)})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	got := &linesOf{}
	if err := (&spool.Drainer{Spool: sp, Target: got}).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	epoch := time.Duration(cc.Epoch * float64(time.Second))
	var newest int64
	for _, l := range got.lines {
		if !strings.HasPrefix(l, "activity,") {
			continue
		}
		ts, err := strconv.ParseInt(l[strings.LastIndexByte(l, ' ')+1:], 10, 64)
		if err != nil {
			t.Fatalf("spooled line %q: %v", l, err)
		}
		newest = max(newest, ts+int64(epoch)) // the epoch's end
	}
	if newest == 0 {
		t.Fatalf("no activity epoch in the spool (%d lines, torn tails %d):\n%s", len(got.lines), sp.Stats().TornTails, stderr)
	}
	atMost := killed.Sub(time.Unix(0, newest))
	atLeast := max(atMost-epoch, 0)
	t.Logf("kill -9: %d points in the spool, %d torn tails; newest spooled epoch ended %v before the kill: lost at least %v, at most %v of data",
		len(got.lines), sp.Stats().TornTails, atMost.Round(time.Millisecond), atLeast.Round(time.Millisecond), atMost.Round(time.Millisecond))
	// Flush 1 s, the epoch's own second, and 2 s slack for a loaded machine.
	if atLeast > 3*time.Second || atMost > 4*time.Second {
		t.Fatalf("the newest spooled epoch ended %v before the kill: the loss window is more than the flush interval", atMost)
	}
}

// TestRunPtyReplugged pulls the serial device (closes the pseudo-terminal
// and removes its link) in the middle of a live run with InfluxDB, plugs
// it in again on a new pseudo-terminal four seconds later, and checks
// that the run reconnects, goes on collecting, and InfluxDB holds a point
// for every event.
func TestRunPtyReplugged(t *testing.T) {
	t.Parallel()
	srv := influxtest.Start(t)
	dir := t.TempDir()
	dev := standin.New(t, recording.Bundled(t, dir), device.Cyton)
	link := filepath.Join(dir, "ttyUSB0")
	unplug := standin.Plug(t, dev, link)
	ev := filepath.Join(dir, "ev.jsonl")
	cfg := liveConfig(link, device.Cyton, "plug")
	cfg.Influx.URL, cfg.Influx.Bucket = srv.URL, srv.Bucket
	cfg.Spool.Root, cfg.Events, cfg.Epochs = filepath.Join(dir, "spool"), ev, true
	fault(&cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	done := runAsync(rctx, cfg)
	time.Sleep(4 * time.Second)
	unplug()
	time.Sleep(4 * time.Second)
	standin.Plug(t, dev, link)
	time.Sleep(8 * time.Second)
	stop()
	res := (<-done).check(t, "run")
	if c := res.Streams[0].Serial.Conn; c.Connects != 2 || c.Losses != 1 {
		t.Fatalf("no reconnection: %+v", c)
	}
	var last int64
	for _, e := range recording.ReadEvents(t, ev) {
		if ep, ok := e.(*pipeline.Epoch); ok {
			last = max(last, int64(ep.Start))
		}
	}
	if since := time.Since(time.Unix(0, last)); since > 9*time.Second {
		t.Fatalf("no epoch after the device came back (newest began %v ago)", since.Round(time.Millisecond))
	}
	want, got := expectedPoints(t, ev), storedPoints(t, srv, "plug")
	if len(want) < 5 || !slices.Equal(got, want) {
		t.Fatalf("InfluxDB holds %s", diff(got, want))
	}
}
