package csv

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/testutil/realdata"
	"github.com/twitchd/twitchd/pipeline"
)

// TestRealRecordings reads the public recordings that are in this format
// (the PLUX biceps CSVs) and checks that the header-less BioSPPy file is
// refused with a clear message.
func TestRealRecordings(t *testing.T) {
	cases := []struct {
		name   string
		file   string
		opts   decode.Options
		frames int
		max    float64 // ADC full scale
	}{
		{"plux fatigue, raw counts recognised", "emg/plux_biceps_fatigue.csv", decode.Options{Rate: 1000, Start: start}, 126900, 4095},
		{"plux bursts, raw counts recognised", "emg/plux_biceps_bursts.csv", decode.Options{Rate: 1000, Start: start}, 28519, 65535},
		{"plux fatigue, mapped to other", "emg/plux_biceps_fatigue.csv", decode.Options{Rate: 1000, Start: start,
			Map: map[string]decode.Mapping{"emg_raw_adc": {Kind: pipeline.KindOther, Unit: "adc"}}}, 126900, 4095},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := realdata.Dir(t, tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if s := Sniff(data[:min(len(data), decode.SniffSize)], path); s != 10 {
				t.Errorf("Sniff = %d, want 10", s)
			}
			tc.opts.Name = tc.file
			rd, got, err := readAll(t, strings.NewReader(string(data)), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ch := rd.Meta().Channels
			if len(ch) != 1 || ch[0].Kind != pipeline.KindOther || ch[0].Unit != "adc" || ch[0].RateHz != 1000 {
				t.Errorf("channels %+v", ch)
			}
			if len(got) != tc.frames || rd.Stats().Skipped != 0 {
				t.Errorf("%d frames, %d skipped; want %d, 0", len(got), rd.Stats().Skipped, tc.frames)
			}
			lo, hi := tc.max, 0.0
			for i, f := range got {
				v := f.vals[0]
				lo, hi = min(lo, v), max(hi, v)
				if f.t != start.UnixNano()+int64(i)*1e6 {
					t.Fatalf("frame %d at %d", i, f.t)
				}
			}
			if lo < 0 || hi > tc.max || hi-lo < tc.max/10 {
				t.Errorf("values span %v..%v, want a real signal within 0..%v", lo, hi, tc.max)
			}
			t.Logf("%d frames at 1000 Hz, raw counts %v..%v", len(got), lo, hi)
		})
	}
	t.Run("biosppy acc has no header row", func(t *testing.T) {
		path := realdata.Dir(t, "accel", "biosppy_acc.txt")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if s := Sniff(data, path); s != 0 {
			t.Errorf("Sniff = %d, want 0", s)
		}
		_, _, err = readAll(t, strings.NewReader(string(data)), decode.Options{Name: "biosppy_acc.txt", Rate: 100, Start: start})
		if !errors.Is(err, ErrNoColumn) || !strings.Contains(err.Error(), "biosppy_acc.txt:6: ") ||
			!strings.Contains(err.Error(), "looks like data, not a header") {
			t.Errorf("err = %v", err)
		}
	})
}
