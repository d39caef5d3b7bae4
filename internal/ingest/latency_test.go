package ingest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/simulate/device"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/internal/testutil/standin"
)

// TestRunLatencyToInfluxDB runs a live ingest from a Cyton stand-in in
// real time with a real influxd, polls InfluxDB for the activity epochs
// as they appear, and logs how long after an epoch's last sample arrived
// (its end time: sample timestamps follow the host clock at arrival) the
// epoch was queryable. That covers decoding, the detectors (an epoch
// closes when the first sample after it arrives), the sink's batching
// (1 s flush interval) and the write. It asserts that epochs reach
// InfluxDB while the run is live, nothing about time. It takes about 20 s,
// so it runs only with TWITCHD_LATENCY=1.
func TestRunLatencyToInfluxDB(t *testing.T) {
	t.Parallel()
	if os.Getenv("TWITCHD_LATENCY") == "" {
		t.Skip("set TWITCHD_LATENCY=1 for this 20 s real-time run with influxd")
	}
	srv := influxtest.Start(t)
	dir := t.TempDir()
	cfg := liveConfig(standin.Serve(t, dir, recording.Bundled(t, dir), device.Cyton), device.Cyton, "lat")
	cfg.Site, cfg.Events = "calf", filepath.Join(dir, "ev.jsonl")
	cfg.Influx.URL, cfg.Influx.Bucket = srv.URL, srv.Bucket
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	done := runAsync(rctx, cfg)
	seen := map[time.Time]bool{}
	var lat []time.Duration
	q := `from(bucket: "` + srv.Bucket + `") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "activity" and r._field == "duration_s" and r.subject == "lat")`
	deadline := time.Now().Add(18 * time.Second)
	for len(lat) < 2 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		now := time.Now()
		for _, r := range srv.Query(t, q) {
			ts, ok1 := r["_time"].(time.Time)
			d, ok2 := r["_value"].(float64)
			if !ok1 || !ok2 || seen[ts] {
				continue
			}
			seen[ts] = true
			lat = append(lat, now.Sub(ts.Add(time.Duration(d*float64(time.Second)))))
		}
	}
	stop()
	(<-done).check(t, "run")
	if len(lat) == 0 {
		t.Fatal("no activity epoch reached InfluxDB")
	}
	slices.Sort(lat)
	t.Logf("epoch end -> queryable in InfluxDB, %d epoch points: min %v, median %v, max %v (poll every 250 ms)",
		len(lat), lat[0], lat[len(lat)/2], lat[len(lat)-1])
}
