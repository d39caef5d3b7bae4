package fleet

import (
	"math"
	"strings"
	"testing"
	"time"
)

const page = `# HELP twitchd_points_written_total Points InfluxDB acknowledged.
# TYPE twitchd_points_written_total counter
twitchd_points_written_total 40
twitchd_events_total{type="twitch"} 3
# TYPE twitchd_write_latency_seconds histogram
twitchd_write_latency_seconds_bucket{le="0.5"} 10
twitchd_write_latency_seconds_bucket{le="1"} 90
twitchd_write_latency_seconds_bucket{le="2"} 100
twitchd_write_latency_seconds_bucket{le="+Inf"} 100
twitchd_write_latency_seconds_sum 80.5
twitchd_write_latency_seconds_count 100
`

func TestParseMetricsAndQuantiles(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if m["twitchd_points_written_total"] != 40 || m[`twitchd_events_total{type="twitch"}`] != 3 || len(m) != 8 {
		t.Fatalf("parsed %v", m)
	}
	h, ok := m.Histogram("twitchd_write_latency_seconds")
	if !ok || len(h.Bounds) != 4 || !math.IsInf(h.Bounds[3], 1) || h.Total() != 100 {
		t.Fatalf("histogram %+v", h)
	}
	tests := []struct {
		q, want float64
	}{
		{0.05, 0.25}, // in the first bucket, from 0: half of 10
		{0.5, 0.75},  // rank 50 of (10, 90]: half way through 0.5..1
		{0.95, 1.5},  // rank 95 of (90, 100]: half way through 1..2
		{1, 2},
	}
	for _, tc := range tests {
		if got := h.Quantile(tc.q); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("q%g = %g, want %g", tc.q, got, tc.want)
		}
	}
	// Two scrapes: what the counters gained.
	later := Metrics{"twitchd_points_written_total": 55, `twitchd_write_latency_seconds_bucket{le="+Inf"}`: 130}
	d := later.Sub(m)
	if d["twitchd_points_written_total"] != 15 || d[`twitchd_write_latency_seconds_bucket{le="+Inf"}`] != 30 {
		t.Errorf("difference %v", d)
	}
	if _, err := ParseMetrics(strings.NewReader("novalue\n")); err == nil {
		t.Error("a line without a value parsed")
	}
	if q := (Histogram{}).Quantile(0.5); !math.IsNaN(q) {
		t.Errorf("empty histogram's median %g, want NaN", q)
	}
}

func TestProcParsers(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want time.Duration
		ok   bool
	}{
		{"plain", "1234 (twitchd) S 1 1234 1234 0 -1 4194560 1496 0 0 0 53 122 0 0 20 0 9 0 6017 1271676928 5412", 1750 * time.Millisecond, true},
		{"spaces and parentheses in the name", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 1 1", 100 * time.Millisecond, true},
		{"cut short", "7 (x) R 1 7", 0, false},
		{"no name", "garbage", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cpuOf([]byte(tc.stat))
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("cpuOf = %v, %v; want %v (ok %v)", got, err, tc.want, tc.ok)
			}
		})
	}
	rss, peak := memOf([]byte("Name:\ttwitchd\nVmHWM:\t   22696 kB\nVmRSS:\t   22528 kB\n"))
	if rss != 22528<<10 || peak != 22696<<10 {
		t.Errorf("memOf = %d, %d", rss, peak)
	}
	p, err := ReadProc(0)
	if err != nil || p.CPU < 0 || p.RSS <= 0 || p.Peak < p.RSS {
		t.Errorf("ReadProc(self) = %+v, %v", p, err)
	}
}
