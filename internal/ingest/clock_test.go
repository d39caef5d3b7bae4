package ingest

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/internal/testutil/standin"
	"github.com/twitchd/twitchd/pipeline"
)

// steppable is a host clock whose wall clock a test can step.
type steppable struct{ off atomic.Int64 }

func (c *steppable) now() serial.HostTime {
	t := serial.SystemClock()
	t.Wall += c.off.Load()
	return t
}

// TestRunClockStepped collects live from a stand-in on a pseudo-terminal
// while the host's wall clock is stepped forward three hours (as NTP does
// at boot on a board without a real-time clock), then back two seconds.
// The big step ends the first segment (its summary says by how much) and
// the second one follows the stepped clock; the small one is slewed out
// within the second segment. Within each segment the events are in time
// order, the second segment's epochs are three hours ahead of real time,
// and InfluxDB holds a point for every event, no two of them at one
// instant of one series.
func TestRunClockStepped(t *testing.T) {
	t.Parallel()
	srv := influxtest.Start(t)
	dir := t.TempDir()
	link := standin.Serve(t, dir, recording.Bundled(t, dir), device.Cyton)
	ev := filepath.Join(dir, "ev.jsonl")
	clock := &steppable{}
	cfg := liveConfig(link, device.Cyton, "step")
	cfg.Influx.URL, cfg.Influx.Bucket = srv.URL, srv.Bucket
	cfg.Spool.Root, cfg.Events, cfg.Epochs = filepath.Join(dir, "spool"), ev, true
	cfg.HostClock = clock.now
	fault(&cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	done := runAsync(rctx, cfg)
	const big, small = 3 * time.Hour, -2 * time.Second
	time.Sleep(8 * time.Second)
	clock.off.Store(int64(big))
	time.Sleep(8 * time.Second)
	clock.off.Store(int64(big + small))
	time.Sleep(4 * time.Second)
	stop()
	res := (<-done).check(t, "run")

	if len(res.Streams) != 2 {
		t.Fatalf("%d segments, want 2", len(res.Streams))
	}
	first, second := res.Streams[0].Summary, res.Streams[1].Summary
	if first.Segment != 1 || math.Abs(first.ClockStepS-big.Seconds()) > 0.01 || second.Segment != 2 || second.ClockStepS != 0 {
		t.Fatalf("summaries: segment %d step %g s, segment %d step %g s", first.Segment, first.ClockStepS, second.Segment, second.ClockStepS)
	}
	if first.Session == second.Session {
		t.Fatalf("both segments are session %s", first.Session)
	}
	if ds := res.Streams[1].Serial.Stream; ds.ClockSteps != 2 || ds.Segments != 2 {
		t.Fatalf("device stats %+v: want 2 steps, 2 segments", ds)
	}
	// Per segment (session), events in time order; the second is ahead.
	last := map[string]int64{}
	var newest int64
	for _, e := range recording.ReadEvents(t, ev) {
		ep, ok := e.(*pipeline.Epoch)
		if !ok {
			continue
		}
		if int64(ep.Start) < last[ep.Session+ep.Channel] {
			t.Fatalf("epoch of %s at %v before the one before", ep.Channel, ep.Start)
		}
		last[ep.Session+ep.Channel] = int64(ep.Start)
		if ep.Session == second.Session {
			newest = max(newest, int64(ep.End))
		}
	}
	if ahead := time.Unix(0, newest).Sub(time.Now()); ahead < big-15*time.Second || ahead > big {
		t.Fatalf("the second segment's newest epoch ends %v ahead of real time, want about %v", ahead, big)
	}
	// No two events give points at one instant of one series: not even
	// across the segments (the first was measured on the clock before it
	// was stepped).
	seen := map[string]bool{}
	for _, k := range eventPoints(t, ev) {
		if seen[k] {
			t.Fatalf("two events make the point %s", k)
		}
		seen[k] = true
	}
	want, got := expectedPoints(t, ev), storedPoints(t, srv, "step")
	if len(want) < 5 || !slices.Equal(got, want) {
		t.Fatalf("InfluxDB holds %s", diff(got, want))
	}
}
