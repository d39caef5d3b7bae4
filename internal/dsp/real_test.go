package dsp

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/testutil/realdata"
)

// readColumn reads one numeric column (0-based, comma separated) of a text
// recording, skipping lines that start with any of the given prefixes.
// It is a minimal reader for these tests, not the project's decoder.
func readColumn(t *testing.T, path string, col int, skip ...string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("recording not available: %v", err)
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	line := 0
next:
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		for _, p := range skip {
			if strings.HasPrefix(text, p) {
				continue next
			}
		}
		fields := strings.Split(text, ",")
		if col >= len(fields) {
			t.Fatalf("%s:%d: %d fields, want column %d", path, line, len(fields), col)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(fields[col]), 64)
		if err != nil {
			t.Fatalf("%s:%d: column %d: %v", path, line, col, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func TestMainsDetectorRealRecordings(t *testing.T) {
	cases := []struct {
		name   string
		file   string
		col    int
		fs     float64
		skip   []string
		want   float64
		blocks int
	}{
		// OpenBCI GUI recording from the US: the notes say its EMG is visible after a 60 Hz notch.
		{"openbci_cyton_exg0", "openbci/OpenBCI-RAW-cyton-v6-jawclench.txt", 1, 250, []string{"%", "Sample"}, 60, 4},
		{"openbci_cyton_exg4", "openbci/OpenBCI-RAW-cyton-v6-jawclench.txt", 5, 250, []string{"%", "Sample"}, 60, 4},
		// A quiet BITalino baseline: its spectrum has no line at 50 or 60 Hz (ratios 1.3-1.6).
		{"biosppy_rest", "emg/biosppy_emg_rest.txt", 0, 1000, []string{"#"}, 0, 4},
		// Ganglion + MyoWare at 200 Hz: a moderate 50 Hz line (ratios 10-14 in 10 s blocks).
		{"ganglion_myoware_rest", "openbci/OpenBCI-RAW-ganglion-myoware-rest.txt", 1, 200, []string{"%"}, 50, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := readColumn(t, realdata.Dir(t, c.file), c.col, c.skip...)
			n := 2048
			d := NewMainsDetector(n, c.fs)
			for b := range c.blocks {
				start := b * len(x) / (c.blocks + 1)
				f, r := d.Detect(x[start:start+n], 5)
				t.Logf("block at %.1f s: %g Hz, ratio %.1f", float64(start)/c.fs, f, r)
				if f != c.want {
					t.Errorf("block at %.1f s: detected %g Hz (ratio %.1f), want %g", float64(start)/c.fs, f, r, c.want)
				}
			}
		})
	}
}
