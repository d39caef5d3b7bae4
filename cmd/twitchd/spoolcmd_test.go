package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/pipeline"
)

// TestSpoolCommand leaves two points in the spool of a real influxd's
// URL and bucket, shows them with "twitchd spool" and sends them with
// "twitchd spool -send".
func TestSpoolCommand(t *testing.T) {
	srv := influxtest.Shared(t)
	t.Setenv("INFLUX_URL", "")
	t.Setenv("INFLUX_TOKEN", "")
	root := filepath.Join(t.TempDir(), "spool")
	dir := influxconn.Settings{URL: srv.URL, Bucket: srv.Bucket}.SpoolDir(root)
	sp, err := spool.Open(spool.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var lines []byte
	for i := range 2 {
		ev := &pipeline.Symptom{Time: pipeline.Timestamp(time.Date(2026, 11, 25, 12, i, 0, 0, time.UTC).UnixNano()),
			Tags: pipeline.Tags{Subject: "sp"}, Symptom: "other"}
		lines, _, err = influx.AppendLines(lines, ev)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Append(lines, 2); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	flags := []string{"--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--spool-dir", root}
	if code, _, stderr := run(t, "spool"); code != 2 || !strings.Contains(stderr, "--influx-url (or INFLUX_URL) and --spool-dir are needed") {
		t.Fatalf("spool without a URL: exit %d, %q", code, stderr)
	}
	code, stdout, stderr := run(t, append([]string{"spool"}, flags...)...)
	if code != 0 || !strings.HasPrefix(stdout, dir+": 2 points, ") {
		t.Fatalf("spool: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, append([]string{"spool", "-send"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "sent 2 points: 2 written, 0 rejected, 0 back in the spool; 0 left\n") {
		t.Fatalf("spool -send: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	rows := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0) |> filter(fn: (r) => r.subject == "sp" and r._field == "count")`, srv.Bucket))
	if len(rows) != 2 {
		t.Fatalf("InfluxDB holds %d of the 2 spooled points", len(rows))
	}
}
