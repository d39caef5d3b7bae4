package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/pipeline"
)

// faultFlags make a lost server show in the spool within about a second
// and the spool go out again within 200 ms of the server's return.
var faultFlags = []string{"--influx-retry-time", "1s", "--spool-interval", "200ms"}

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
		if r["_measurement"] == "assessment" {
			if r["_field"] == "history_ok" {
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
		return "activity", e.Start
	case *pipeline.Summary:
		return "ingest", e.Start
	case *pipeline.Watermark:
		return "", 0
	}
	return ev.EventType(), ev.At()
}

// expectedPoints returns "measurement time sensor channel" for every
// event of an events file (written with --epochs), without duplicates.
func expectedPoints(t *testing.T, path string) []string {
	t.Helper()
	set := map[string]bool{}
	for _, ev := range readEvents(t, path) {
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
		set[pointKey(m, int64(ts), f["sensor"], f["channel"])] = true
	}
	return sortedKeys(set)
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
	for _, r := range srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0) |> filter(fn: (r) => r.subject == %q)`, srv.Bucket, subject)) {
		set[pointKey(r["_measurement"].(string), r["_time"].(time.Time).UnixNano(), r["sensor"], r["channel"])] = true
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

// TestReplayInfluxKilledMidway replays the bundled session once into a
// reference database undisturbed, then again at 20 times real time while
// influxd is killed (SIGKILL) for several seconds and restarted: the
// batches that fail go to the spool, which is sent when the server is
// back, and the database ends up holding exactly the reference's points.
func TestReplayInfluxKilledMidway(t *testing.T) {
	srv := influxtest.Start(t)
	srv.Exec(t, "CREATE DATABASE ref")
	dir := t.TempDir()
	csv := bundled(t, dir)
	t.Setenv("INFLUX_TOKEN", "")
	args := func(bucket string, extra ...string) []string {
		a := []string{"replay", "-subject", "ft", "-site", "calf_left", "--influx-url", srv.URL, "--influx-bucket", bucket,
			"--spool-dir", filepath.Join(dir, "spool")}
		a = append(a, faultFlags...)
		return append(append(a, extra...), csv)
	}
	if code, _, stderr := run(t, args("ref/autogen")...); code != 0 {
		t.Fatalf("reference replay: exit %d\n%s", code, stderr)
	}
	want := dump(t, srv, "ref/autogen")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		var o bytes.Buffer
		done <- runMain(ctx, args(srv.Bucket, "--speed", "20"), &o, &stderr)
	}()
	time.Sleep(2 * time.Second)
	srv.Kill(t)
	time.Sleep(4 * time.Second)
	srv.Restart(t)
	if code := <-done; code != 0 {
		t.Fatalf("disturbed replay: exit %d\n%s", code, stderr.String())
	}
	out := stderr.String()
	spooled, resent := number(t, out, " points spooled"), number(t, out, " sent again")
	if spooled == 0 || resent < spooled || number(t, out, " waiting in ") != 0 || !strings.Contains(out, " 0 failed") {
		t.Fatalf("the outage did not go through the spool (spooled %d, sent again %d):\n%s", spooled, resent, out)
	}
	got := dump(t, srv, srv.Bucket)
	if !slices.Equal(got, want) {
		t.Fatalf("after the outage InfluxDB holds %s\n%s", diff(got, want), out)
	}
	t.Logf("%d points spooled during the outage, %d sent again; %d field values identical to the undisturbed run", spooled, resent, len(want))
}

// TestRunInfluxKilledMidway collects live from a Cyton stand-in on a
// pseudo-terminal while influxd is killed and restarted; /healthz says
// so during the outage and recovers after it; afterwards InfluxDB holds
// a point for every event of the events file, and no other.
func TestRunInfluxKilledMidway(t *testing.T) {
	srv := influxtest.Start(t)
	t.Setenv("INFLUX_TOKEN", "")
	addr := freeAddr(t)
	dir := t.TempDir()
	link := standIn(t, dir, device.Cyton)
	ev := filepath.Join(dir, "ev.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		var o bytes.Buffer
		args := append([]string{"run", "--port", link, "--protocol", "openbci-cyton", "--subject", "live", "--site", "calf",
			"--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--spool-dir", filepath.Join(dir, "spool"), "--events", ev, "--epochs",
			"--listen", addr}, faultFlags...)
		done <- runMain(rctx, args, &o, &stderr)
	}()
	start := time.Now()
	before := waitHealth(t, addr, "200 ok", 3*time.Second)
	srv.Kill(t)
	during := waitHealth(t, addr, "503 unhealthy: influxdb: write failing", 4*time.Second)
	time.Sleep(time.Until(start.Add(8 * time.Second)))
	srv.Restart(t)
	after := waitHealth(t, addr, "200 ok", 5*time.Second)
	time.Sleep(time.Until(start.Add(16 * time.Second)))
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr.String())
	}
	out := stderr.String()
	if number(t, out, " points spooled") == 0 || number(t, out, " waiting in ") != 0 {
		t.Fatalf("the outage did not go through the spool:\n%s", out)
	}
	want, got := expectedPoints(t, ev), storedPoints(t, srv, "live")
	if len(want) < 5 || !slices.Equal(got, want) {
		t.Fatalf("InfluxDB holds %s\n%s", diff(got, want), out)
	}
	if !before || !during || !after {
		t.Fatalf("/healthz: healthy before the outage %v, unhealthy during it %v, healthy after it %v", before, during, after)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHealth polls /healthz at addr until its status and body start with
// want or d has passed, and reports whether they did.
func waitHealth(t *testing.T, addr, want string, d time.Duration) bool {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	last := ""
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get("http://" + addr + "/healthz")
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		if strings.HasPrefix(last, want) {
			return true
		}
	}
	t.Logf("/healthz: waited %v for %q, last %q", d, want, last)
	return false
}

// TestRunSIGTERMThenNextStartSends runs the twitchd binary (this test
// binary acting as it) against a stopped influxd, sends it SIGTERM in the
// middle: it exits 0 with the summary written and every point spooled.
// "twitchd spool -send" after the server is back sends them, and
// InfluxDB then holds a point for every event.
func TestRunSIGTERMThenNextStartSends(t *testing.T) {
	srv := influxtest.Start(t)
	srv.Stop(t)
	dir := t.TempDir()
	link := standIn(t, dir, device.BITalino)
	ev := filepath.Join(dir, "ev.jsonl")
	spoolDir := filepath.Join(dir, "spool")
	cmd := exec.Command(os.Args[0], append([]string{"run", "--port", link, "--protocol", "bitalino", "--subject", "term",
		"--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--spool-dir", spoolDir, "--events", ev, "--epochs"}, faultFlags...)...)
	cmd.Env = append(os.Environ(), "TWITCHD_TEST_MAIN=1", "INFLUX_TOKEN=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
			t.Fatalf("twitchd run after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("twitchd run did not exit within 60 s of SIGTERM:\n%s", stderr.String())
	}
	took := time.Since(sent)
	out := stderr.String()
	interrupted := false
	for _, e := range readEvents(t, ev) {
		if sum, ok := e.(*pipeline.Summary); ok {
			interrupted = sum.Interrupted
		}
	}
	if !interrupted {
		t.Fatalf("no interrupted summary in the events file:\n%s", out)
	}
	spooled := number(t, out, " points spooled")
	if spooled == 0 || number(t, out, " waiting in ") != spooled || !strings.Contains(out, "0 failed, 0 dropped") {
		t.Fatalf("not every point was spooled:\n%s", out)
	}

	srv.Restart(t)
	code, stdout, serr := run(t, "spool", "-send", "--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--spool-dir", spoolDir)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("sent %d points: %d written, 0 rejected, 0 back in the spool; 0 left", spooled, spooled)) {
		t.Fatalf("spool -send: exit %d\n%s%s", code, stdout, serr)
	}
	want, got := expectedPoints(t, ev), storedPoints(t, srv, "term")
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

// TestRunKill9LossWindow runs the twitchd binary live with InfluxDB
// unreachable, kills it with SIGKILL, and reads the spool it left: the
// spool opens cleanly (a torn tail would be cut and counted) and its
// newest activity epoch ends within a bounded time of the kill. That time
// is the kill -9 loss window during an outage: the epoch still open in
// the detectors, plus the sink's FlushInterval (1 s) and the retry time
// (1 s here, --influx-retry-time, 10 s by default) before a batch is
// spooled.
func TestRunKill9LossWindow(t *testing.T) {
	dir := t.TempDir()
	link := standIn(t, dir, device.Cyton)
	url, root := deadURL(t), filepath.Join(dir, "spool")
	cmd := exec.Command(os.Args[0], append([]string{"run", "--port", link, "--protocol", "openbci-cyton", "--subject", "k9",
		"--influx-url", url, "--spool-dir", root}, faultFlags...)...)
	cmd.Env = append(os.Environ(), "TWITCHD_TEST_MAIN=1", "INFLUX_TOKEN=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(12 * time.Second)
	killed := time.Now()
	cmd.Process.Kill()
	cmd.Wait()

	sp, err := spool.Open(spool.Config{Dir: influxconn.Settings{URL: url, Bucket: "twitchd/autogen"}.SpoolDir(root)})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	got := &linesOf{}
	if err := (&spool.Drainer{Spool: sp, Target: got}).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	var newest int64
	for _, l := range got.lines {
		if !strings.HasPrefix(l, "activity,") {
			continue
		}
		ts, err := strconv.ParseInt(l[strings.LastIndexByte(l, ' ')+1:], 10, 64)
		if err != nil {
			t.Fatalf("spooled line %q: %v", l, err)
		}
		newest = max(newest, ts+int64(5*time.Second)) // the epoch's end
	}
	if newest == 0 {
		t.Fatalf("no activity epoch in the spool (%d lines, torn tails %d):\n%s", len(got.lines), sp.Stats().TornTails, stderr.String())
	}
	window := killed.Sub(time.Unix(0, newest))
	t.Logf("kill -9: %d points in the spool, %d torn tails; newest spooled epoch ended %v before the kill",
		len(got.lines), sp.Stats().TornTails, window.Round(time.Millisecond))
	// An epoch lasts 5 s; flush 1 s and retry 1 s follow; 3 s slack for a loaded machine.
	if window > 10*time.Second {
		t.Fatalf("the newest spooled epoch ended %v before the kill", window)
	}
}

// replug serves dev on a fresh pseudo-terminal behind link and returns a
// function that unplugs it: the stand-in stops, both ends close and the
// link goes away, as when a USB adapter is pulled.
func replug(t *testing.T, dev *device.Device, link string) (unplug func()) {
	t.Helper()
	leader, follower, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := serial.MakeRaw(follower); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(follower.Name(), link); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dev.Serve(ctx, leader) }()
	var once sync.Once
	unplug = func() {
		once.Do(func() {
			os.Remove(link)
			cancel()
			leader.Close()
			follower.Close()
			// A write blocked on a pty nobody reads is not interrupted by
			// Close; do not hang the test on it.
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Log("stand-in still blocked in a write after unplugging")
			}
		})
	}
	t.Cleanup(unplug)
	return unplug
}

// TestRunPtyReplugged pulls the serial device (closes the pseudo-terminal
// and removes its link) in the middle of a live run with InfluxDB, plugs
// it in again on a new pseudo-terminal four seconds later, and checks
// that the run reconnects, goes on collecting, and InfluxDB holds a point
// for every event. (Plugged in again within the serial source's 2 s idle
// check, the run keeps reading the dead terminal: see the report.)
func TestRunPtyReplugged(t *testing.T) {
	srv := influxtest.Start(t)
	t.Setenv("INFLUX_TOKEN", "")
	dir := t.TempDir()
	src, err := decode.OpenFile(bundled(t, dir), "", decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dev, err := device.NewDevice(src, device.Options{Protocol: device.Cyton, Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ttyUSB0")
	unplug := replug(t, dev, link)
	ev := filepath.Join(dir, "ev.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		var o bytes.Buffer
		done <- runMain(rctx, append([]string{"run", "--port", link, "--protocol", "openbci-cyton", "--subject", "plug",
			"--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--spool-dir", filepath.Join(dir, "spool"), "--events", ev, "--epochs"},
			faultFlags...), &o, &stderr)
	}()
	time.Sleep(4 * time.Second)
	unplug()
	time.Sleep(4 * time.Second)
	replug(t, dev, link)
	time.Sleep(8 * time.Second)
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr.String())
	}
	out := stderr.String()
	if number(t, out, " connections") != 2 || number(t, out, " losses") != 1 || !strings.Contains(out, "0 failed, 0 dropped") {
		t.Fatalf("no reconnection, or points lost:\n%s", out)
	}
	var last int64
	for _, e := range readEvents(t, ev) {
		if ep, ok := e.(*pipeline.Epoch); ok {
			last = max(last, int64(ep.Start))
		}
	}
	if since := time.Since(time.Unix(0, last)); since > 9*time.Second {
		t.Fatalf("no epoch after the device came back (newest began %v ago):\n%s", since.Round(time.Millisecond), out)
	}
	want, got := expectedPoints(t, ev), storedPoints(t, srv, "plug")
	if len(want) < 5 || !slices.Equal(got, want) {
		t.Fatalf("InfluxDB holds %s\n%s", diff(got, want), out)
	}
}
