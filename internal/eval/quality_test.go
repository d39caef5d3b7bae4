package eval

import (
	"bytes"
	"context"
	"os"
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

// TestFamiliesGate is issue 9's gate: it runs the short families suite
// (every family, two variants each, each replayed with both sensors, EMG
// only and acc only) and fails when a bar is missed on a held-out family
// (FamilyBars: EMG F1 >= 0.95, acc F1 >= 0.90 on jerks >= 6x the noise,
// <= 1 false alarm per hour of rest, the expected status in every case).
// Tune families' misses are logged, not failed: they are for tuning.
// It runs only with TWITCHD_FAMILIES_GATE=1 until the detectors of
// issue 9 are merged; then it becomes part of make test.
func TestFamiliesGate(t *testing.T) {
	if os.Getenv("TWITCHD_FAMILIES_GATE") != "1" {
		t.Skip("set TWITCHD_FAMILIES_GATE=1 to run the held-out families gate (issue 9)")
	}
	rs, err := RunSuite(context.Background(), Suite(SuiteFamiliesShort), "")
	if err != nil {
		t.Fatal(err)
	}
	ms := FamilyBars(rs)
	var buf bytes.Buffer
	WriteFamilyTable(&buf, rs, ms)
	if held := HeldOutMisses(ms); len(held) > 0 {
		t.Errorf("%d bars missed on held-out families:\n%s", len(held), buf.String())
	} else {
		t.Logf("held-out families clear every bar (%d misses on tune families):\n%s", len(ms), buf.String())
	}
}
