package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/realdata"
)

// TestEvalRealAndHybridUsage checks the flag errors of eval -real and
// eval -hybrid.
func TestEvalRealAndHybridUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"both", []string{"eval", "-real", dir, "-hybrid", dir}, 2, "give one of"},
		{"real with a suite", []string{"eval", "-real", dir, "-suite", "short"}, 2, "give one of"},
		{"not the folder", []string{"eval", "-real", dir}, 1, "not the real-recordings folder"},
		{"hybrid not the folder", []string{"eval", "-hybrid", dir}, 1, "no PROVENANCE.md"},
		{"no draws", []string{"eval", "-hybrid", dir, "-draws", "0"}, 2, "-draws must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.contains) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.contains)
			}
		})
	}
}

// TestEvalReal runs `twitchd eval -real` on the real recordings: a row
// for every catalogued file, and exit 1 exactly when the table reports a
// recording ending persistent.
func TestEvalReal(t *testing.T) {
	if testing.Short() {
		t.Skip("replays every real recording")
	}
	dir, err := realdata.Root()
	if errors.Is(err, realdata.ErrAbsent) {
		t.Skipf("skipped: %v", err)
	}
	code, stdout, stderr := run(t, "eval", "-real", dir)
	for _, r := range realdata.All() {
		if !strings.Contains(stdout, r.Path) {
			t.Errorf("no row for %s:\n%s", r.Path, stdout)
		}
	}
	clean := strings.Contains(stdout, "\n0 of ")
	if (code == 0) != clean || (code != 0 && !strings.Contains(stderr, "end persistent")) {
		t.Errorf("exit %d, stderr %q, for the table:\n%s", code, stderr, stdout)
	}
	t.Logf("exit %d:\n%s", code, stdout)
}
