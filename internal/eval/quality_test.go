package eval

import (
	"bytes"
	"context"
	"testing"
)

// TestShortSuiteClearsBars is the detectors' quality gate: it generates
// the short suite's scenarios, runs them through the whole pipeline and
// fails when any bar of the detection issue is missed (EMG F1 >= 0.95 and
// acc F1 >= 0.90 per scenario, at most one false alarm per hour of rest,
// every cramp and none invented, bouts found with their intensity).
func TestShortSuiteClearsBars(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every short-suite scenario through the detectors")
	}
	rs, err := RunSuite(context.Background(), Suite("short"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if ms := SuiteMisses(rs); len(ms) > 0 {
		var buf bytes.Buffer
		WriteTable(&buf, rs, ms)
		t.Errorf("%d bars missed:\n%s", len(ms), buf.String())
	}
}
