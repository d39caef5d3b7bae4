package ingest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/pipeline"
)

// TestWriteTextSegmentEnd: a live segment ended by a host clock step says so,
// with the step's sign, and how to correct its times.
func TestWriteTextSegmentEnd(t *testing.T) {
	for _, c := range []struct {
		step float64
		want string
	}{
		{10800, "segment 1 ended when the host clock stepped by +3h0m0s: its times were measured on the clock before the step (add +3h0m0s to correct them)"},
		{-86400, "segment 1 ended when the host clock stepped by -24h0m0s"},
	} {
		var b bytes.Buffer
		StreamResult{Result: pipeline.Result{Summary: pipeline.Summary{File: "/dev/ttyUSB0", Segment: 1, ClockStepS: c.step}}}.WriteText(&b, false)
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("summary:\n%s\nwant %q", b.String(), c.want)
		}
	}
}

// TestWriteTotals checks the closing lines of replay and run, which the
// fault tests no longer parse (they read the Result).
func TestWriteTotals(t *testing.T) {
	var b bytes.Buffer
	(&Result{
		Influx: &influx.Stats{Written: 90, Rejected: 1, Failed: 2, Dropped: 3, Retries: 4},
		Spool:  &SpoolReport{Dir: "/s/abc", Spooled: 7, Stats: spool.Stats{Resent: 5, Refused: 2, Pending: 2}},
	}).WriteTotals(&b)
	want := "influxdb: 90 points written, 6 failed (1 rejected, 2 given up, 3 dropped), 4 retries\n" +
		"spool: 7 points spooled, 5 sent again, 2 refused (full), 2 waiting in /s/abc\n"
	if b.String() != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	(&Result{}).WriteTotals(&b)
	if b.Len() != 0 {
		t.Fatalf("without InfluxDB: %q", b.String())
	}
}
