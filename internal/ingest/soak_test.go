package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/internal/testutil/standin"
	"github.com/twitchd/twitchd/pipeline"
)

// fastClock returns a host clock that runs speed times faster than real
// time from now on, its wall clock starting at wall0 and stepped by step
// once stepAt of it has passed.
func fastClock(speed float64, wall0 int64, stepAt, step time.Duration) serial.HostClock {
	start := serial.SystemClock()
	return func() serial.HostTime {
		now := serial.SystemClock()
		sim := int64(float64(now.Mono-start.Mono) * speed)
		t := serial.HostTime{Wall: wall0 + sim, Mono: start.Mono + sim}
		if step != 0 && time.Duration(sim) >= stepAt {
			t.Wall += int64(step)
		}
		return t
	}
}

// loopSource plays a recording again and again, its times running on,
// until it has played for a given time: a day of data from a few minutes
// of it, in bounded memory.
type loopSource struct {
	path       string
	length     int64 // ns to play
	src        pipeline.Source
	offset     int64 // added to the current pass's times
	first      int64 // the first frame's time, as played
	lastRaw    int64 // the last frame's time in the file
	passFirst  int64 // the current pass's first frame in the file
	begun, end bool
}

func newLoop(t testing.TB, path string, length time.Duration) *loopSource {
	t.Helper()
	src, err := decode.OpenFile(path, "", decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := &loopSource{path: path, length: int64(length), src: src}
	t.Cleanup(func() { l.src.(io.Closer).Close() })
	return l
}

func (l *loopSource) Meta() pipeline.Meta         { return l.src.Meta() }
func (l *loopSource) Stats() pipeline.SourceStats { return pipeline.SourceStats{} }
func (l *loopSource) Next(ctx context.Context, b *pipeline.Batch) error {
	if l.end {
		b.Reset()
		return io.EOF
	}
	for {
		err := l.src.Next(ctx, b)
		if b.Len() > 0 {
			if !l.begun {
				l.first, l.passFirst, l.begun = b.Frames[0].Time, b.Frames[0].Time, true
			}
			l.lastRaw = b.Frames[b.Len()-1].Time
			for i := range b.Frames {
				b.Frames[i].Time += l.offset
			}
			l.end = b.Frames[b.Len()-1].Time-l.first >= l.length
			return nil
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		// Again from the start, 1 ms after the last frame.
		l.src.(io.Closer).Close()
		if l.src, err = decode.OpenFile(l.path, "", decode.Options{}); err != nil {
			return err
		}
		l.offset += l.lastRaw - l.passFirst + int64(time.Millisecond)
	}
}

// envOr reads a number from the environment.
func envOr(t *testing.T, name string, def float64) float64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}

// rss returns the resident memory of process pid in MiB (VmRSS), and its
// peak (VmHWM).
func rss(pid int) (now, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseFloat(f[1], 64)
			if f[0] == "VmRSS:" {
				now = kb / 1024
			} else {
				peak = kb / 1024
			}
		}
	}
	return now, peak
}

// TestSoak is a long live session at high speed: a Cyton stand-in on a
// pseudo-terminal plays the bundled session again and again, faster than
// real time, into a child process doing "twitchd run" against a real
// influxd, whose host clock runs as fast. influxd is restarted every
// simulated hour (every fourth time killed), the device is unplugged for
// ten minutes every few hours and the host clock is stepped forward once.
// At the end: memory stayed flat, every sample the device played is
// read or counted as lost, every point is in InfluxDB or counted, and
// InfluxDB holds a point for every event of the events file.
//
// make test runs 45 simulated minutes at 120 times real time (about 25
// s); make soak runs TWITCHD_SOAK_HOURS=24 TWITCHD_SOAK_SPEED=60.
//
// The clock counts the samples a gap stood for from arrival times, so
// its count is an estimate: at N times real time every millisecond of
// delivery delay on the machine is N of them, a quarter sample at 1x
// and 30 samples at 120x. The check allows 40 ms of such delay per gap.
// The stand-in never drops frames because it or its host is late (only
// while unplugged): the gap threshold runs N times faster too (a
// second of real time), and losses shorter than that would otherwise be
// counted only modulo the Cyton's 8-bit counter, which they are not at
// real time (256 samples take 1.02 s, more than the threshold).
func TestSoak(t *testing.T) {
	hours := envOr(t, "TWITCHD_SOAK_HOURS", 0.75)
	speed := envOr(t, "TWITCHD_SOAK_SPEED", 120)
	simHour := time.Duration(float64(time.Hour) / speed) // real time
	length := time.Duration(hours * float64(time.Hour))
	restartEvery, unplugEvery := time.Hour, 5*time.Hour
	if hours < 6 {
		restartEvery, unplugEvery = 20*time.Minute, 25*time.Minute
	}
	const unplugFor, step = 10 * time.Minute, 3 * time.Hour
	stepAt := time.Duration(0.6 * float64(length))
	t.Logf("soak: %.1f h of data at %g times real time (%v), influxd restarted every %v, unplugged every %v for %v, clock stepped %v at %v",
		hours, speed, time.Duration(float64(length)/speed).Round(time.Second), restartEvery, unplugEvery, unplugFor, step, stepAt)

	srv := influxtest.Start(t)
	dir := t.TempDir()
	dev := standin.NewSource(t, newLoop(t, recording.Bundled(t, dir), length), device.Cyton, speed)
	link := filepath.Join(dir, "ttyUSB0")
	unplug := standin.Plug(t, dev, link)
	cc := childConfig{Port: link, Protocol: device.Cyton, Subject: "soak", URL: srv.URL, Bucket: srv.Bucket,
		SpoolRoot: filepath.Join(dir, "spool"), Events: filepath.Join(dir, "ev.jsonl"), Result: filepath.Join(dir, "result.json"),
		Speed: speed, Wall0: time.Now().Add(-length - step).UnixNano(), StepAt: stepAt, Step: step}
	cmd, stderr := startChild(t, cc)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	start := time.Now()
	sim := func() time.Duration { return time.Duration(float64(time.Since(start)) * speed) }

	// influxd is restarted on its own goroutine: a start takes seconds of
	// real time, which must not hold up the unplugs.
	restart := make(chan bool, 64)
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		for kill := range restart {
			if kill {
				srv.Kill(t)
			}
			srv.Restart(t)
		}
	}()
	var rssAt []string
	var rssStart, rssEnd, peak float64
	restarts, kills, unplugs := 0, 0, 0
	nextRestart, nextUnplug, nextRSS := restartEvery, unplugEvery, time.Hour/4
	var replug time.Duration // when the device goes back in, 0: it is in
	for sim() < length+10*time.Minute {
		select {
		case err := <-exited:
			t.Fatalf("the child exited early: %v\n%s", err, stderr)
		case <-time.After(simHour / 240):
		}
		now := sim()
		if now >= nextRSS {
			r, p := rss(cmd.Process.Pid)
			if rssStart == 0 {
				rssStart = r
			}
			rssEnd, peak = r, p
			rssAt = append(rssAt, fmt.Sprintf("%.2fh %.1f", now.Hours(), r))
			nextRSS += time.Hour
		}
		if now >= nextRestart && now < length {
			nextRestart += restartEvery
			restarts++
			kill := restarts%4 == 0
			if kill {
				kills++
			}
			restart <- kill
		}
		if replug == 0 && now >= nextUnplug && now < length-unplugFor {
			nextUnplug += unplugEvery
			unplugs++
			unplug()
			replug = now + unplugFor
		}
		if replug != 0 && now >= replug {
			unplug, replug = standin.Plug(t, dev, link), 0
		}
	}
	close(restart)
	<-restarted
	rssEnd, peak = rss(cmd.Process.Pid)
	rssAt = append(rssAt, fmt.Sprintf("end %.1f", rssEnd))
	realTime := time.Since(start)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("child after SIGTERM: %v\n%s", err, stderr)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("child did not exit within 2 min of SIGTERM:\n%s", stderr)
	}
	unplug()
	var res childResult
	raw, err := os.ReadFile(cc.Result)
	if err != nil || json.Unmarshal(raw, &res) != nil {
		t.Fatalf("result: %v %s\n%s", err, raw, stderr)
	}

	// Samples: every frame the device played (or dropped while unplugged)
	// was read or is counted as lost.
	var read, lost int64
	for _, s := range res.Segments {
		read += s.Samples
		lost += s.Lost
	}
	// The samples a running device would have taken: played, dropped
	// while unplugged or overdue, and not taken while the host had
	// stopped it (the start handshake after each reconnection).
	played := dev.Frames + dev.Dropped + dev.Unsampled
	unaccounted := played - read - lost
	// Points: every one written, or counted.
	want, got := expectedPoints(t, cc.Events), soakStored(t, srv, "soak")
	t.Logf("soak: %.1f simulated hours in %v; RSS %.1f MiB at 0.25 h, %.1f MiB at the end, peak %.1f MiB (at each hour: %s)",
		hours, realTime.Round(time.Second), rssStart, rssEnd, peak, strings.Join(rssAt, ", "))
	t.Logf("soak: %d influxd restarts (%d of them kills), %d unplugs (%d device losses seen, %d connections); %d segments %+v",
		restarts, kills, unplugs, res.Serial.Conn.Losses, res.Serial.Conn.Connects, len(res.Segments), res.Segments)
	t.Logf("soak: samples due %d (%d dropped by the device while unplugged, %d not taken while stopped by the host), read %d, counted lost %d in %d gaps, unaccounted %d",
		played, dev.Dropped, dev.Unsampled, read, lost, res.Serial.Stream.ClockGaps, unaccounted)
	t.Logf("soak: points %d (%d written, %d lost: %d rejected, %d failed, %d dropped), %d spooled and %d sent again, %d left; %d events with a point, InfluxDB holds %d",
		res.Influx.Points, res.Influx.Written, res.Influx.Lost(), res.Influx.Rejected, res.Influx.Failed, res.Influx.Dropped,
		res.Spool.Spooled, res.Spool.Resent, res.Spool.Pending, len(want), len(got))

	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "gap in the stream") || strings.Contains(l, "clock stepped") || strings.Contains(l, "device lost") ||
			strings.Contains(l, "level=ERROR") {
			t.Logf("child: %s", l)
		}
	}
	if len(res.Segments) != 2 || math.Abs(res.Segments[0].ClockStepS-step.Seconds()) > 1 {
		t.Errorf("segments %+v: want two, the first ended by a step of %v", res.Segments, step)
	}
	if res.Serial.Conn.Losses != int64(unplugs) || res.Serial.Conn.Connects != int64(unplugs+1) {
		t.Errorf("the device was unplugged %d times; the connection saw %+v", unplugs, res.Serial.Conn)
	}
	// Each gap's lost count is an estimate from arrival times (see
	// above). No sample may be lost beyond what is counted; the count may
	// be larger: a stall of the machine beyond the gap threshold looks
	// like a gap (it is reported).
	gaps := res.Serial.Stream.ClockGaps
	if tol := int64(float64(gaps+1) * speed * 250 * 0.040); unaccounted > tol {
		t.Errorf("%d samples played but neither read nor counted as lost (tolerance %d)", unaccounted, tol)
	}
	if res.Influx.Lost() != 0 || res.Spool.Pending != 0 || res.Spool.Spooled == 0 {
		t.Errorf("points lost %d, left in the spool %d, spooled %d: want none lost, none left, the outages spooled",
			res.Influx.Lost(), res.Spool.Pending, res.Spool.Spooled)
	}
	if len(want) < 100 || !slices.Equal(got, want) {
		t.Errorf("InfluxDB holds %s", diff(got, want))
	}
	if rssEnd > 1.5*rssStart+16 {
		t.Errorf("memory grew from %.1f MiB to %.1f MiB", rssStart, rssEnd)
	}
}

// soakStored is storedPoints for a large bucket: one field per point.
func soakStored(t *testing.T, srv *influxtest.Server, subject string) []string {
	t.Helper()
	set := map[string]bool{}
	q := fmt.Sprintf(`from(bucket: %q) |> range(start: 0, stop: 2200-01-01T00:00:00Z) |> filter(fn: (r) => r.subject == %q and (r._field == "duration_s" or r._field == "status_level"))`,
		srv.Bucket, subject)
	for _, r := range srv.Query(t, q) {
		set[pointKey(r["_measurement"].(string), r["_time"].(time.Time).UnixNano(), r["sensor"], r["channel"])] = true
	}
	return sortedKeys(set)
}
