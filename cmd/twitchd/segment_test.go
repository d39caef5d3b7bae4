package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/pipeline"
)

// TestPrintSegmentEnd: a live segment ended by a host clock step says so,
// with the step's sign, and how to correct its times.
func TestPrintSegmentEnd(t *testing.T) {
	for _, c := range []struct {
		step float64
		want string
	}{
		{10800, "segment 1 ended when the host clock stepped by +3h0m0s: its times were measured on the clock before the step (add +3h0m0s to correct them)"},
		{-86400, "segment 1 ended when the host clock stepped by -24h0m0s"},
	} {
		var b bytes.Buffer
		printSummary(&b, ingest.StreamResult{Result: pipeline.Result{Summary: pipeline.Summary{File: "/dev/ttyUSB0", Segment: 1, ClockStepS: c.step}}}, false)
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("summary:\n%s\nwant %q", b.String(), c.want)
		}
	}
}
