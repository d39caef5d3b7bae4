package csv

import (
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// mapping parses a --map value or fails the test.
func mapping(t *testing.T, spec string) decode.Mapping {
	t.Helper()
	m, err := decode.ParseMapping(spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHeaderless reads files without a header row through
// Options.Columns: BioSPPy's one raw value per line with its rate in a
// comment, GGIR's exported unix_time,x,y,z, a Myo-style dump whose label
// column is ignored and whose EMG columns are mapped by a pattern, and
// the separators and line endings the header path accepts.
func TestHeaderless(t *testing.T) {
	ms := int64(1e6)
	cases := []struct {
		name  string
		input string
		opts  decode.Options
		chans []chanWant
		want  []frame
	}{
		{"biosppy: rate from the comment, plux12 counts",
			"# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n# Resolution:= 12\n# Labels:= EMG\n2048\n4095\n0.0\n",
			decode.Options{Columns: []string{"emg"}, Start: start, Map: map[string]decode.Mapping{"emg": mapping(t, "emg:plux12")}},
			[]chanWant{{name: "emg", unit: "mV", src: "adc", kind: pipeline.KindEMG, rate: 1000}},
			[]frame{{start.UnixNano(), []float64{0}}, {start.UnixNano() + ms, []float64{4095*3.0/4096 - 1.5}}, {start.UnixNano() + 2*ms, []float64{-1.5}}}},
		{"--rate overrides the comment",
			"# Sampling Rate (Hz):= 1000.00\n1\n2\n",
			decode.Options{Columns: []string{"emg (uV)"}, Start: start, Rate: 500},
			[]chanWant{{name: "emg (uV)", unit: "mV", src: "uv", kind: pipeline.KindEMG, rate: 500}},
			[]frame{{start.UnixNano(), []float64{0.001}}, {start.UnixNano() + 2*ms, []float64{0.002}}}},
		{"time column, CRLF",
			"1700000000.00,0.5,-0.25,1\r\n1700000000.01,0.5,-0.25,1.25\r\n",
			decode.Options{Columns: []string{"unix_time", "x", "y", "z"}},
			[]chanWant{{"x", "g", "g", pipeline.KindAcc, 'x', "acc", 100}, {"y", "g", "g", pipeline.KindAcc, 'y', "acc", 100}, {"z", "g", "g", pipeline.KindAcc, 'z', "acc", 100}},
			[]frame{{epoch(0), []float64{0.5, -0.25, 1}}, {epoch(10), []float64{0.5, -0.25, 1.25}}}},
		{"myo: label ignored, pattern map with a scale",
			"-3,-1,0\r\n5,2,7\r\n",
			decode.Options{Columns: []string{"emg_1", "emg_2", "label"}, Rate: 200, Start: start,
				Map: map[string]decode.Mapping{"emg_*": mapping(t, "emg:uV,scale=10")}},
			[]chanWant{{name: "emg_1", unit: "mV", src: "adc", kind: pipeline.KindEMG, rate: 200}, {name: "emg_2", unit: "mV", src: "adc", kind: pipeline.KindEMG, rate: 200}},
			[]frame{{start.UnixNano(), []float64{-0.03, -0.01}}, {start.UnixNano() + 5*ms, []float64{0.05, 0.02}}}},
		{"tabs and a trailing tab",
			"# fs: 100\n0.1\t0.2\t0.3\t\n",
			decode.Options{Columns: []string{"acc_x", "acc_y", "acc_z"}, Start: start},
			[]chanWant{{"acc_x", "g", "g", pipeline.KindAcc, 'x', "acc", 100}, {"acc_y", "g", "g", pipeline.KindAcc, 'y', "acc", 100}, {"acc_z", "g", "g", pipeline.KindAcc, 'z', "acc", 100}},
			[]frame{{start.UnixNano(), []float64{0.1, 0.2, 0.3}}}},
		{"semicolons with decimal commas",
			"% Sample Rate = 250 Hz\n0,5;1,5\n",
			decode.Options{Columns: []string{"emg", "emg_2"}, Start: start},
			[]chanWant{{name: "emg", unit: "mV", src: "mV", kind: pipeline.KindEMG, rate: 250}, {name: "emg_2", unit: "mV", src: "mV", kind: pipeline.KindEMG, rate: 250}},
			[]frame{{start.UnixNano(), []float64{0.5, 1.5}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Name = "h.txt"
			rd, got, err := readAll(t, strings.NewReader(tc.input), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ch := rd.Meta().Channels
			if len(ch) != len(tc.chans) {
				t.Fatalf("channels %+v, want %d", ch, len(tc.chans))
			}
			for i, w := range tc.chans {
				c := ch[i]
				if c.Name != w.name || c.Unit != w.unit || c.SourceUnit != w.src || c.Kind != w.kind ||
					c.Axis != w.axis || c.Group != w.group || math.Abs(c.RateHz-w.rate) > 1e-9 {
					t.Errorf("channel %d = %+v, want %+v", i, c, w)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d frames %v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i].t != tc.want[i].t || !sameValues(got[i].vals, tc.want[i].vals) {
					t.Errorf("frame %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
			if n := rd.Stats().Skipped; n != 0 {
				t.Errorf("%d lines skipped: %v", n, rd.Stats().Examples)
			}
		})
	}
}

// TestHeaderlessErrors checks that misuse of --columns is refused with
// the file and line and what to do.
func TestHeaderlessErrors(t *testing.T) {
	cols := func(c ...string) decode.Options { return decode.Options{Columns: c, Rate: 100, Start: start} }
	cases := []struct {
		name, input string
		opts        decode.Options
		is          error
		want        []string
	}{
		{"a header row with --columns", "# note\ntime,emg\n1,2\n", cols("time", "emg"), nil,
			[]string{"h.txt:2", `("time", "emg") looks like a header row`, "drop --columns"}},
		{"too many fields", "\n1,2,3\n", cols("emg", "emg_2"), nil,
			[]string{"h.txt:2", "--columns names 2 columns", "3 at \",\"", "1 at spaces"}},
		{"too few fields", "1\n", cols("emg", "emg_2"), nil,
			[]string{"h.txt:1", "does not split into 2 fields"}},
		{"a bad first cell", "1,abc\n", cols("emg", "emg_2"), nil,
			[]string{"h.txt:1", "field 2 (emg_2): not a number", `"abc"`}},
		{"no name twitchd reads", "1,2\n", cols("foo", "bar"), ErrNoColumn,
			[]string{"h.txt:1", `--columns names none twitchd reads ("foo", "bar")`, "--map"}},
		{"duplicate name", "1,2\n", cols("emg", "EMG"), nil, []string{`--columns names "EMG" twice`}},
		{"empty name", "1,2\n", cols("emg", " "), nil, []string{"name 2 of 2 is empty"}},
		{"no rate", "1\n", decode.Options{Columns: []string{"emg"}, Start: start}, ErrNeedRate,
			[]string{"h.txt", "give --rate HZ"}},
		{"a rate comment out of range", "# Sampling Rate (Hz):= 0\n1\n", decode.Options{Columns: []string{"emg"}, Start: start}, ErrNeedRate,
			[]string{"give --rate HZ"}},
		{"a pattern matching nothing", "1\n", decode.Options{Columns: []string{"emg"}, Rate: 1, Start: start,
			Map: map[string]decode.Mapping{"acc_*": mapping(t, "acc:g")}}, nil,
			[]string{`--map names column "acc_*"`}},
		{"too many names", "1\n", cols(strings.Split(strings.Repeat("x,", MaxColumns+1), ",")...), nil,
			[]string{"more than the 1024"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Name = "h.txt"
			_, _, err := readAll(t, strings.NewReader(tc.input), tc.opts)
			checkError(t, err, tc.is, tc.want)
		})
	}
}

// TestHeaderlessBadLines checks that malformed rows after the first are
// skipped and counted with their own line numbers (the first data row is
// read twice, once to choose the separator), or stop a strict read.
func TestHeaderlessBadLines(t *testing.T) {
	input := "# Sampling Rate (Hz):= 10\n1,2\n3\nx,4\n5,6\n"
	for _, strict := range []bool{false, true} {
		opts := decode.Options{Name: "h.txt", Columns: []string{"emg", "emg_2"}, Start: start, Strict: strict}
		rd, got, err := readAll(t, strings.NewReader(input), opts)
		var le *pipeline.LineError
		if strict {
			if !errors.As(err, &le) || le.Line != 3 || len(got) != 1 {
				t.Errorf("strict: err %v, %d frames; want line 3 after 1 frame", err, len(got))
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		st := rd.Stats()
		if len(got) != 2 || st.Skipped != 2 || st.Examples[0].Line != 3 || st.Examples[1].Line != 4 ||
			!strings.Contains(st.Examples[1].Reason, "field 1 (emg): not a number") {
			t.Errorf("%d frames, skipped %d: %v", len(got), st.Skipped, st.Examples)
		}
		if got[1].t != start.UnixNano()+3e8 { // row index 3 at 10 Hz: bad rows keep their slot
			t.Errorf("last frame at %d", got[1].t-start.UnixNano())
		}
	}
}

// TestCommentRate lists the comment forms that state a rate and some
// that do not.
func TestCommentRate(t *testing.T) {
	cases := map[string]float64{
		"# Sampling Rate (Hz):= 1000.00": 1000,
		"% Sample Rate = 250 Hz":         250,
		"%Sample Rate = 200.0 Hz":        200,
		"# fs: 100":                      100,
		"# sampling_rate=2000":           2000,
		"# Sampling Frequency [Hz]: 512": 512,
		"# Resolution:= 12":              0,
		"# Sampling Rate (Hz):= fast":    0,
		"# Sampling Rate (Hz):= -5":      0,
		"# Sampling Rate (Hz):= NaN":     0,
		"# Sampling Rate (Hz):= 1e9":     0,
		"# sampling rate 1000 Hz":        0, // free text is not parsed
		"#":                              0,
	}
	for line, want := range cases {
		if got := commentRate([]byte(line)); got != want {
			t.Errorf("commentRate(%q) = %v, want %v", line, got, want)
		}
	}
}

// TestColumnsOnlyForText checks that OpenFile refuses --columns for a
// format that does not read them instead of ignoring them.
func TestColumnsOnlyForText(t *testing.T) {
	decode.Register(decode.Format{Name: "test-no-columns", Sniff: func([]byte, string) int { return 0 },
		Open: func(io.Reader, decode.Options) (pipeline.Source, error) { return nil, errors.New("not reached") }})
	_, err := decode.OpenFile(filepath.Join("testdata", "binary.edf"), "test-no-columns", decode.Options{Columns: []string{"emg"}})
	if err == nil || !strings.Contains(err.Error(), "--columns") || !strings.Contains(err.Error(), "format test-no-columns") {
		t.Errorf("err = %v", err)
	}
	// csv reads them, also when detection falls back to it
	f, err := decode.OpenFile(filepath.Join("testdata", "no_header.txt"), "", decode.Options{Columns: []string{"acc_x", "acc_y", "acc_z"}, Rate: 100, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
