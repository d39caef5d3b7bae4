package openbci

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textline"
	"github.com/twitchd/twitchd/pipeline"
)

const v6Head = "%OpenBCI Raw EXG Data\n%Sample Rate = 250 Hz\n%Board = OpenBCI_GUI$BoardCytonSerial\n"

// v6Columns is a v6 column header with n EXG channels and extra other
// columns.
func v6Columns(n, extra int) string {
	f := []string{"Sample Index"}
	for i := range n {
		f = append(f, fmt.Sprintf("EXG Channel %d", i))
	}
	for i := range extra {
		f = append(f, fmt.Sprintf("Other %d", i))
	}
	return strings.Join(append(f, "Timestamp"), ", ") + "\n"
}

// legacyRow is a legacy data row with n channels.
func legacyRow(n int) string {
	return "0" + strings.Repeat(", 1.0", n) + ", 0.0, 0.0, 0.0, 23:59:59.990\n"
}

func TestSizeLimits(t *testing.T) {
	legacyHead := "%OpenBCI Raw EEG Data\n%\n%Sample Rate = 200.0 Hz\n%First Column = SampleIndex\n"
	cases := []struct {
		name  string
		in    string
		want  string // "" accepted
		line  int64
		chans int
	}{
		{"header line too long", "%OpenBCI Raw EXG Data\n%Board = " + strings.Repeat("x", textline.BufferSize) + "\n", "header: line longer than 64 KiB", 2, 0},
		{"too many header lines", "%OpenBCI Raw EXG Data\n" + strings.Repeat("%\n", MaxHeaderLines), "more than 64 header lines", 65, 0},
		{"too many channels declared", "%OpenBCI Raw EXG Data\n%Number of channels = 257\n", "257 channels, more than the 256", 2, 0},
		{"column header too long", v6Head + "Sample Index, " + strings.Repeat("y", textline.BufferSize) + "\n", "column header: line longer than 64 KiB", 4, 0},
		{"too many columns", v6Head + v6Columns(8, MaxColumns), "1034 columns, more than the 1024", 4, 0},
		{"too many EXG columns", v6Head + v6Columns(MaxChannels+1, 0), "257 EXG Channel columns, more than the 256", 4, 0},
		{"legacy row too wide", legacyHead + legacyRow(MaxChannels+1), "legacy row has 257 channels, more than the 256", 5, 0},
		{"at the limits", v6Head + v6Columns(MaxChannels, MaxColumns-MaxChannels-2) + "0" + strings.Repeat(", 2.5", MaxColumns-2) + ", 1700000000.000\n", "", 0, MaxChannels},
		{"legacy at the channel limit", legacyHead + legacyRow(MaxChannels), "", 0, MaxChannels},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(strings.NewReader(tc.in), decode.Options{Name: "o.txt"})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := d.Header().Channels; n != tc.chans {
					t.Fatalf("%d channels, want %d", n, tc.chans)
				}
				frames, err := readAll(t, d)
				if err != nil || len(frames) != 1 || d.Stats().Skipped != 0 {
					t.Fatalf("one row at the limits: %d frames, %v, stats %+v", len(frames), err, d.Stats())
				}
				return
			}
			var le *pipeline.LineError
			if !errors.As(err, &le) || le.File != "o.txt" || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q at o.txt:%d", err, tc.want, tc.line)
			}
		})
	}
}
