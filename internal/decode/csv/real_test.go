package csv

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/testutil/realdata"
	"github.com/twitchd/twitchd/pipeline"
)

// TestRealRecordings reads the public recordings that are in this format
// (the PLUX biceps CSVs) and checks that the header-less BioSPPy file is
// refused with a clear message without --columns (TestRealHeaderless
// reads it with them).
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

// TestRealHeaderless reads the public recordings without a header row
// with the --columns, --map and rates they need (internal/realdata
// catalogues them): the count of samples, the rate (from the BioSPPy
// comment where there is one), the unit after the transfer function.
func TestRealHeaderless(t *testing.T) {
	plux := map[string]decode.Mapping{"emg_raw_adc": {Kind: pipeline.KindEMG, Unit: "mV", Scale: 3.0 / 4096, Offset: -1.5}}
	bit12, err := decode.ParseMapping("emg:bitalino12")
	if err != nil {
		t.Fatal(err)
	}
	myo, err := decode.ParseMapping("emg:uV,scale=10")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		file     string
		opts     decode.Options
		frames   int
		rate     float64
		channels int
		lo, hi   float64 // every value within, in the canonical unit
	}{
		{"biosppy emg rest: rate from the comment, bitalino12", "emg/biosppy_emg_rest.txt",
			decode.Options{Columns: []string{"emg"}, Map: map[string]decode.Mapping{"emg": bit12}}, 100000, 1000, 1, -1.64, 1.64},
		{"biosppy emg bursts", "emg/biosppy_emg_bursts.txt",
			decode.Options{Columns: []string{"emg"}, Map: map[string]decode.Mapping{"emg": bit12}}, 63880, 1000, 1, -1.64, 1.64},
		{"biosppy acc in g", "accel/biosppy_acc.txt",
			decode.Options{Columns: []string{"acc_x", "acc_y", "acc_z"}}, 2000, 100, 3, -4, 4},
		{"axivity export with its time column", "accel/axivity_ax3_testfile_export.csv",
			decode.Options{Columns: []string{"unix_time", "x", "y", "z"}}, 17399, 0, 3, -8, 8},
		{"myo fist, label dropped", "emg/myo_fist_labelled.txt",
			decode.Options{Rate: 200, Columns: []string{"emg_1", "emg_2", "emg_3", "emg_4", "emg_5", "emg_6", "emg_7", "emg_8", "label"},
				Map: map[string]decode.Mapping{"emg_*": myo}}, 12058, 200, 8, -1.28, 1.28},
		{"plux fatigue through the transfer function", "emg/plux_biceps_fatigue.csv",
			decode.Options{Rate: 1000, Map: plux}, 126900, 1000, 1, -1.5, 1.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := realdata.Dir(t, tc.file)
			tc.opts.Name, tc.opts.Start = tc.file, start
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rd, got, err := readAll(t, f, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ch := rd.Meta().Channels
			if len(ch) != tc.channels || len(got) != tc.frames || rd.Stats().Skipped != 0 {
				t.Fatalf("%d channels, %d frames, %d skipped; want %d, %d, 0", len(ch), len(got), rd.Stats().Skipped, tc.channels, tc.frames)
			}
			if tc.rate > 0 && ch[0].RateHz != tc.rate {
				t.Errorf("rate %v, want %v", ch[0].RateHz, tc.rate)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, fr := range got {
				for _, v := range fr.vals {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			if lo < tc.lo || hi > tc.hi || hi-lo < (tc.hi-tc.lo)/1000 {
				t.Errorf("values span %v..%v, want a signal within %v..%v", lo, hi, tc.lo, tc.hi)
			}
			t.Logf("%d frames in %d channels at %.4g Hz, %s values %.4g..%.4g", len(got), len(ch), ch[0].RateHz, ch[0].Unit, lo, hi)
		})
	}
}
