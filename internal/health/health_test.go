package health

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/metrics"
)

func TestCheckAddr(t *testing.T) {
	cases := []struct {
		name     string
		addr     string
		allowAny bool
		ok       bool
	}{
		{"ipv4 loopback", "127.0.0.1:9464", false, true},
		{"other 127 address", "127.0.0.2:9464", false, true},
		{"ipv6 loopback", "[::1]:9464", false, true},
		{"localhost", "localhost:9464", false, true},
		{"all interfaces", ":9464", false, false},
		{"unspecified", "0.0.0.0:9464", false, false},
		{"lan address", "192.168.1.5:9464", false, false},
		{"host name", "example.org:9464", false, false},
		{"all interfaces allowed", ":9464", true, true},
		{"no port", "127.0.0.1", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAddr(c.addr, c.allowAny)
			if (err == nil) != c.ok {
				t.Fatalf("CheckAddr(%q, %v) = %v", c.addr, c.allowAny, err)
			}
		})
	}
	if _, err := Listen(Config{Addr: "0.0.0.0:0"}); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Listen on 0.0.0.0: %v", err)
	}
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestServeOverHTTP(t *testing.T) {
	var failing atomic.Bool
	var n atomic.Int64
	srv, err := Listen(Config{
		Addr: "127.0.0.1:0",
		Check: func() error {
			if failing.Load() {
				return errors.New("influxdb: last write failed")
			}
			return nil
		},
		Metrics: metrics.Func(func(w *metrics.Writer) {
			w.Counter("twitchd_samples_read_total", "Samples read.", float64(n.Load()))
			w.Counter("twitchd_events_total", "Events by type.", 3, "type", "twitch")
			w.Counter("twitchd_events_total", "Events by type.", 1, "type", `odd"type\`)
			w.Gauge("twitchd_spool_bytes", "Bytes in the spool.\nSecond line.", math.Inf(1))
			w.Summary("twitchd_write_latency_seconds", "Write latency.", 1.5, 4)
			w.Histogram("twitchd_ack_seconds", "Ack latency.", []float64{0.1, 1}, []int64{1, 2, 3}, 9.5, "sink", "a")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	base := "http://" + srv.Addr()

	n.Store(42)
	code, ctype, body := get(t, base+"/metrics")
	want := `# HELP twitchd_samples_read_total Samples read.
# TYPE twitchd_samples_read_total counter
twitchd_samples_read_total 42
# HELP twitchd_events_total Events by type.
# TYPE twitchd_events_total counter
twitchd_events_total{type="twitch"} 3
twitchd_events_total{type="odd\"type\\"} 1
# HELP twitchd_spool_bytes Bytes in the spool.\nSecond line.
# TYPE twitchd_spool_bytes gauge
twitchd_spool_bytes +Inf
# HELP twitchd_write_latency_seconds Write latency.
# TYPE twitchd_write_latency_seconds summary
twitchd_write_latency_seconds_sum 1.5
twitchd_write_latency_seconds_count 4
# HELP twitchd_ack_seconds Ack latency.
# TYPE twitchd_ack_seconds histogram
twitchd_ack_seconds_bucket{sink="a",le="0.1"} 1
twitchd_ack_seconds_bucket{sink="a",le="1"} 3
twitchd_ack_seconds_bucket{sink="a",le="+Inf"} 6
twitchd_ack_seconds_sum{sink="a"} 9.5
twitchd_ack_seconds_count{sink="a"} 6
`
	if code != 200 || ctype != "text/plain; version=0.0.4; charset=utf-8" || body != want {
		t.Fatalf("/metrics: %d %q\n%s\nwant:\n%s", code, ctype, body, want)
	}

	cases := []struct {
		name    string
		failing bool
		code    int
		body    string
	}{
		{"healthy", false, 200, "ok\n"},
		{"unhealthy", true, 503, "unhealthy: influxdb: last write failed\n"},
		{"healthy again", false, 200, "ok\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failing.Store(c.failing)
			code, _, body := get(t, base+"/healthz")
			if code != c.code || body != c.body {
				t.Fatalf("/healthz: %d %q, want %d %q", code, body, c.code, c.body)
			}
		})
	}
	if code, _, _ := get(t, base+"/other"); code != 404 {
		t.Fatalf("/other: %d", code)
	}
}
