package csv

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// frame is a copy of a pipeline.Frame that outlives its batch.
type frame struct {
	t    int64
	vals []float64
}

// readAll decodes everything from r with a small batch so that batch
// boundaries are exercised.
func readAll(t testing.TB, r io.Reader, opts decode.Options) (*Reader, []frame, error) {
	t.Helper()
	rd, err := New(r, opts)
	if err != nil {
		return nil, nil, err
	}
	b := pipeline.NewBatch(len(rd.Meta().Channels), 3)
	var out []frame
	for {
		err := rd.Next(context.Background(), b)
		for _, f := range b.Frames {
			out = append(out, frame{f.Time, append([]float64(nil), f.Values...)})
		}
		if errors.Is(err, io.EOF) {
			if b.Len() != 0 {
				t.Fatalf("io.EOF with %d frames in the batch", b.Len())
			}
			return rd, out, nil
		}
		if err != nil {
			return rd, out, err
		}
	}
}

func readFile(t testing.TB, name string, opts decode.Options) (*Reader, []frame, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if opts.Name == "" {
		opts.Name = name
	}
	return readAll(t, f, opts)
}

// epoch is Unix ns for 1700000000 s plus ms milliseconds.
func epoch(ms float64) int64 { return 1700000000*int64(time.Second) + int64(math.Round(ms*1e6)) }

var nan = math.NaN()

var start = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// sameValues compares with NaN equal to NaN and a relative tolerance for
// values that went through a unit conversion.
func sameValues(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(w) || math.IsNaN(g) {
			if math.IsNaN(w) != math.IsNaN(g) {
				return false
			}
			continue
		}
		if math.Abs(g-w) > 1e-12*math.Max(1, math.Abs(w)) {
			return false
		}
	}
	return true
}

type chanWant struct {
	name, unit, src string
	kind            pipeline.Kind
	axis            byte
	group           string
	rate            float64
}

func TestFixtures(t *testing.T) {
	acc := func(name, group string, axis byte, rate float64) chanWant {
		return chanWant{name, "g", "g", pipeline.KindAcc, axis, group, rate}
	}
	emg := func(name string, rate float64) chanWant {
		return chanWant{name, "mV", "mV", pipeline.KindEMG, 0, "", rate}
	}
	cases := []struct {
		name   string
		file   string
		opts   decode.Options
		chans  []chanWant
		frames []frame
	}{
		{
			name: "comma, epoch seconds, comments and blank lines",
			file: "comma_epoch_s.csv",
			chans: []chanWant{acc("acc_x", "acc", 'x', 1000), acc("acc_y", "acc", 'y', 1000),
				acc("acc_z", "acc", 'z', 1000), emg("emg", 1000)},
			frames: []frame{
				{1700000000000000000, []float64{0.01, -0.02, 1, 0.5}},
				{1700000000001000000, []float64{0.02, -0.03, 0.99, -0.25}},
				{1700000000002000000, []float64{0.03, -0.04, 0.98, 1e-3}},
			},
		},
		{
			name: "semicolon, epoch milliseconds with a fraction",
			file: "semicolon_ms.csv",
			chans: []chanWant{acc("ax", "a", 'x', 100), acc("ay", "a", 'y', 100),
				acc("az", "a", 'z', 100)},
			frames: []frame{
				{1700000000000000000, []float64{0.1, 0.2, 0.3}},
				{1700000000010500000, []float64{0.4, 0.5, 0.6}},
				{1700000000020000000, []float64{-1, -2, -3}},
			},
		},
		{
			name: "tab, epoch microseconds, trailing tab",
			file: "tab_us.tsv",
			chans: []chanWant{acc("accel_x", "accel", 'x', 4000), acc("accel_y", "accel", 'y', 4000),
				acc("accel_z", "accel", 'z', 4000)},
			frames: []frame{
				{1700000000000000000, []float64{1, 2, 3}},
				{1700000000000250000, []float64{4, 5, 6}},
				{1700000000000500000, []float64{7, 8, 9}},
			},
		},
		{
			name: "space runs, seconds from the start",
			file: "space_relative.txt",
			opts: decode.Options{Start: start},
			chans: []chanWant{acc("x", "acc", 'x', 100), acc("y", "acc", 'y', 100),
				acc("z", "acc", 'z', 100), emg("emg_1", 100)},
			frames: []frame{
				{start.UnixNano(), []float64{0.5, -0.5, 1, 0.1}},
				{start.UnixNano() + 10e6, []float64{0.6, -0.6, 1.5, 0.2}},
				{start.UnixNano() + 20e6, []float64{0.7, -0.7, 2, 0.3}},
			},
		},
		{
			name: "CRLF, capitalised names",
			file: "crlf.csv",
			chans: []chanWant{acc("Accelerometer_X", "accelerometer", 'x', 4),
				acc("Accelerometer_Y", "accelerometer", 'y', 4), acc("Accelerometer_Z", "accelerometer", 'z', 4)},
			frames: []frame{
				{1700000000500000000, []float64{0.25, 0.5, 0.75}},
				{1700000000750000000, []float64{1, 2, 3}},
			},
		},
		{
			name:  "trailing separator in header and rows",
			file:  "trailing_sep.csv",
			chans: []chanWant{emg("emg_calf", 1000)},
			frames: []frame{
				{epoch(0), []float64{0.1}},
				{epoch(1), []float64{0.2}},
				{epoch(2), []float64{0.3}},
			},
		},
		{
			name: "no time column, rate and start given",
			file: "no_time.csv",
			opts: decode.Options{Rate: 3, Start: start},
			chans: []chanWant{acc("acc_x", "acc", 'x', 3), acc("acc_y", "acc", 'y', 3),
				acc("acc_z", "acc", 'z', 3)},
			frames: []frame{
				{start.UnixNano(), []float64{0.1, 0.2, 0.3}},
				{start.UnixNano() + 333333333, []float64{0.4, 0.5, 0.6}},
				{start.UnixNano() + 666666667, []float64{0.7, 0.8, 0.9}},
			},
		},
		{
			name: "units in the header",
			file: "units.csv",
			chans: []chanWant{
				{"acc_x[mg]", "g", "mg", pipeline.KindAcc, 'x', "acc", 0},
				{"acc_y_ms2", "g", "ms2", pipeline.KindAcc, 'y', "acc", 0},
				{"acc_z (g)", "g", "g", pipeline.KindAcc, 'z', "acc", 0},
				{"emg (uV)", "mV", "uv", pipeline.KindEMG, 0, "", 0},
				{"emg_v", "mV", "v", pipeline.KindEMG, 0, "", 0},
				{"emg_raw_adc", "adc", "adc", pipeline.KindOther, 0, "", 0},
			},
			frames: []frame{{1700000000000000000, []float64{1.5, 1, 2, 0.25, 2, 2048}}},
		},
		{
			name: "map overrides with unit conversion",
			file: "mapped.csv",
			opts: decode.Options{Map: map[string]decode.Mapping{
				"wrist_x":   {Kind: pipeline.KindAcc, Unit: "mg"},
				"wrist_y":   {Kind: pipeline.KindAcc, Unit: "m/s2"},
				"wrist_z":   {Kind: pipeline.KindAcc, Unit: "g"},
				"muscle":    {Kind: pipeline.KindEMG, Unit: "V"},
				"skin temp": {Kind: pipeline.KindOther, Unit: "°C"},
			}},
			chans: []chanWant{
				{"wrist_x", "g", "mg", pipeline.KindAcc, 'x', "wrist", 1},
				{"wrist_y", "g", "m/s2", pipeline.KindAcc, 'y', "wrist", 1},
				{"wrist_z", "g", "g", pipeline.KindAcc, 'z', "wrist", 1},
				{"muscle", "mV", "V", pipeline.KindEMG, 0, "", 1},
				{"skin temp", "°C", "°C", pipeline.KindOther, 0, "", 1},
			},
			frames: []frame{
				{1700000000000000000, []float64{1, 2, 0.5, 3, 31.5}},
				{1700000001000000000, []float64{-0.5, -1, 0.25, -1, 31.25}},
			},
		},
		{
			name: "semicolon with decimal commas",
			file: "decimal_comma.csv",
			chans: []chanWant{{"EMG (mV)", "mV", "mv", pipeline.KindEMG, 0, "", 4},
				acc("acc_x", "acc", 'x', 4)},
			frames: []frame{
				{1700000000250000000, []float64{0.5, -1.25}},
				{1700000000500000000, []float64{1, 2}},
			},
		},
		{
			name: "map keys: any case, and a name without its unit",
			file: "decimal_comma.csv",
			opts: decode.Options{Map: map[string]decode.Mapping{
				"EMG":   {Kind: pipeline.KindEMG, Unit: "uV"},
				"Acc_X": {Kind: pipeline.KindOther, Unit: "raw"},
			}},
			chans: []chanWant{{"EMG (mV)", "mV", "uV", pipeline.KindEMG, 0, "", 4},
				{"acc_x", "raw", "raw", pipeline.KindOther, 0, "", 4}},
			frames: []frame{
				{1700000000250000000, []float64{0.0005, -1.25}},
				{1700000000500000000, []float64{0.001, 2}},
			},
		},
		{
			name:  "time column with a named unit, relative",
			file:  "time_ms_named.csv",
			opts:  decode.Options{Start: start},
			chans: []chanWant{emg("emg", 1/1.25e-3)},
			frames: []frame{
				{start.UnixNano(), []float64{1}},
				{start.UnixNano() + 1e6, []float64{2}},
				{start.UnixNano() + 2.5e6, []float64{3}},
			},
		},
		{
			name:  "epoch nanoseconds",
			file:  "epoch_ns.csv",
			chans: []chanWant{emg("emg", 1e9)},
			frames: []frame{
				{1700000000000000001, []float64{1}},
				{1700000000000000002, []float64{2}},
			},
		},
		{
			name: "mixed rates with empty cells",
			file: "mixed_rate.csv",
			chans: []chanWant{emg("emg", 100), acc("acc_x", "acc", 'x', 20),
				acc("acc_y", "acc", 'y', 20), acc("acc_z", "acc", 'z', 20)},
			frames: mixedWant(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rd, got, err := readFile(t, tc.file, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			meta := rd.Meta()
			if meta.Format != "csv" || meta.File != tc.file {
				t.Errorf("meta format %q file %q", meta.Format, meta.File)
			}
			if len(meta.Channels) != len(tc.chans) {
				t.Fatalf("%d channels %+v, want %d", len(meta.Channels), meta.Channels, len(tc.chans))
			}
			for i, w := range tc.chans {
				c := meta.Channels[i]
				if c.Name != w.name || c.Unit != w.unit || c.SourceUnit != w.src || c.Kind != w.kind ||
					c.Axis != w.axis || c.Group != w.group || math.Abs(c.RateHz-w.rate) > 1e-9*w.rate {
					t.Errorf("channel %d = %+v, want %+v", i, c, w)
				}
			}
			if len(got) != len(tc.frames) {
				t.Fatalf("%d frames, want %d: %v", len(got), len(tc.frames), got)
			}
			for i, w := range tc.frames {
				if got[i].t != w.t || !sameValues(got[i].vals, w.vals) {
					t.Errorf("frame %d = %d %v, want %d %v", i, got[i].t, got[i].vals, w.t, w.vals)
				}
			}
			st := rd.Stats()
			if st.Skipped != 0 || st.Frames != int64(len(tc.frames)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// mixedWant is what testdata/mixed_rate.csv holds: EMG every 10 ms, the
// accelerometer every 50 ms.
func mixedWant() []frame {
	var fs []frame
	for i := range 21 {
		v := []float64{0.01 * float64(i), nan, nan, nan}
		if i%5 == 0 {
			v[1], v[2], v[3] = float64(i)/100, 0, 1
		}
		fs = append(fs, frame{epoch(float64(10 * i)), v})
	}
	return fs
}

func TestMalformed(t *testing.T) {
	type ex struct {
		line   int64
		reason string
	}
	cases := []struct {
		name    string
		file    string
		frames  []int64
		skipped int64
		want    []ex
	}{
		{
			name:    "values",
			file:    "malformed_values.csv",
			frames:  []int64{epoch(0), epoch(6), epoch(7)},
			skipped: 5,
			want: []ex{
				{3, "3 fields, header has 4"},
				{5, "5 fields, header has 4"},
				{6, `field 3 (acc_y): not a number: "abc"`},
				{7, `field 2 (acc_x): not a finite number: "NaN"`},
				{9, `field 3 (acc_y): not a finite number: "-Inf"`},
			},
		},
		{
			name:    "time",
			file:    "malformed_time.csv",
			frames:  []int64{epoch(10), epoch(10), epoch(11)},
			skipped: 5,
			want: []ex{
				{3, "time goes backwards by 9ms"},
				{4, "no values: every data cell is empty"},
				{5, "field 1 (time): empty time"},
				{6, `field 1 (time): time is not a number: "x17"`},
				{7, `field 1 (time): time out of range: "1e17"`},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rd, got, err := readFile(t, tc.file, decode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var times []int64
			for _, f := range got {
				times = append(times, f.t)
			}
			if !equalInts(times, tc.frames) {
				t.Errorf("frame times %v, want %v", times, tc.frames)
			}
			st := rd.Stats()
			if st.Skipped != tc.skipped || st.Frames != int64(len(tc.frames)) {
				t.Errorf("skipped %d frames %d, want %d %d", st.Skipped, st.Frames, tc.skipped, len(tc.frames))
			}
			if len(st.Examples) != len(tc.want) {
				t.Fatalf("%d examples, want %d: %v", len(st.Examples), len(tc.want), st.Examples)
			}
			for i, w := range tc.want {
				e := st.Examples[i]
				if e.File != tc.file || e.Line != w.line || e.Offset != -1 || e.Reason != w.reason {
					t.Errorf("example %d = %s:%d offset %d %q, want line %d %q",
						i, e.File, e.Line, e.Offset, e.Reason, w.line, w.reason)
				}
			}
		})
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStrict(t *testing.T) {
	cases := []struct {
		name   string
		file   string
		frames int
		line   int64
		reason string
	}{
		{"bad field count", "malformed_values.csv", 1, 3, "3 fields, header has 4"},
		{"time backwards", "malformed_time.csv", 1, 3, "time goes backwards by 9ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := readFile(t, tc.file, decode.Options{Strict: true})
			var le *pipeline.LineError
			if !errors.As(err, &le) || !errors.Is(err, pipeline.ErrMalformed) {
				t.Fatalf("err = %v, want a *pipeline.LineError", err)
			}
			if le.Line != tc.line || le.Reason != tc.reason || le.File != tc.file {
				t.Errorf("error %+v, want line %d %q", le, tc.line, tc.reason)
			}
			if len(got) != tc.frames {
				t.Errorf("%d frames before the error, want %d", len(got), tc.frames)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct {
		name string
		file string
		opts decode.Options
		is   error
		want []string // substrings of the message
	}{
		{"empty file", "empty.csv", decode.Options{}, nil, []string{"empty.csv", "empty input"}},
		{"only comments", "only_comments.csv", decode.Options{}, nil,
			[]string{"only_comments.csv", "no header row", "5 lines"}},
		{"no usable column", "no_usable.csv", decode.Options{}, ErrNoColumn,
			[]string{"no_usable.csv:2", `"time", "foo", "bar baz"`, "--map time=emg:uV"}},
		{"no header", "no_header.txt", decode.Options{}, ErrNoColumn,
			[]string{"no_header.txt:1", "looks like data, not a header"}},
		{"data with a clock column, no header", "no_header_clock.txt", decode.Options{}, ErrNoColumn,
			[]string{"no_header_clock.txt:2", "looks like data, not a header"}},
		{"binary file", "binary.edf", decode.Options{}, nil,
			[]string{"binary.edf:1", "not text"}},
		{"missing rate", "no_time.csv", decode.Options{Start: start}, ErrNeedRate,
			[]string{"no_time.csv", "no time column: give --rate HZ"}},
		{"missing start without time", "no_time.csv", decode.Options{Rate: 100}, ErrNoStart,
			[]string{"no_time.csv", "give --start"}},
		{"missing start with relative times", "space_relative.txt", decode.Options{}, ErrNeedStart,
			[]string{"space_relative.txt:3", "time column holds seconds from the start: give --start RFC3339"}},
		{"map names a missing column", "no_time.csv",
			decode.Options{Rate: 1, Start: start, Map: map[string]decode.Mapping{"emg_x": {Kind: pipeline.KindEMG}}},
			nil, []string{`--map names column "emg_x"`, `"acc_x", "acc_y", "acc_z"`}},
		{"map key is a prefix, not a unit-less name", "trailing_sep.csv",
			decode.Options{Map: map[string]decode.Mapping{"emg": {Kind: pipeline.KindEMG}}},
			nil, []string{`--map names column "emg"`, `"time", "emg_calf"`}},
		{"map with a bad unit", "mapped.csv",
			decode.Options{Map: map[string]decode.Mapping{"muscle": {Kind: pipeline.KindEMG, Unit: "furlong"}}},
			nil, []string{"mapped.csv:1", `"muscle"`, "unknown EMG unit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readFile(t, tc.file, tc.opts)
			checkError(t, err, tc.is, tc.want)
		})
	}
}

// checkError fails t unless err is set, is target (when not nil) and
// mentions every string of want.
func checkError(t *testing.T, err, target error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %v is not %v", err, target)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

// failingReader returns some bytes and then an error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadFailure(t *testing.T) {
	boom := errors.New("device unplugged")
	t.Run("in the header", func(t *testing.T) {
		_, err := New(&failingReader{[]byte("time,em"), boom}, decode.Options{Name: "port"})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "port") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("in the rows", func(t *testing.T) {
		rows := "emg\n1\n2\n"
		rd, got, err := readAll(t, &failingReader{[]byte(rows), boom},
			decode.Options{Name: "port", Rate: 10, Start: start})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "port:4") {
			t.Errorf("err = %v", err)
		}
		if errors.Is(err, pipeline.ErrMalformed) {
			t.Error("a read failure must not look like bad data")
		}
		if len(got) != 2 || rd == nil {
			t.Errorf("%d frames before the failure, want 2", len(got))
		}
	})
}

func TestLongLine(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("time,emg\n1700000000,1\n1700000000.5,")
	in.WriteString(strings.Repeat("7", MaxLine+10))
	in.WriteString("\n1700000001,")
	in.WriteString(strings.Repeat("0", 100<<10)) // long but allowed: 100 KiB
	in.WriteString("2\n1700000002,3")            // no final newline
	for _, strict := range []bool{false, true} {
		rd, got, err := readAll(t, bytes.NewReader(in.Bytes()), decode.Options{Name: "long", Strict: strict})
		if strict {
			var le *pipeline.LineError
			if !errors.As(err, &le) || le.Line != 3 || le.Reason != "line longer than 1048576 bytes" {
				t.Errorf("strict: err = %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := []frame{{1700000000e9, []float64{1}}, {1700000001e9, []float64{2}}, {1700000002e9, []float64{3}}}
		if len(got) != 3 {
			t.Fatalf("frames %v", got)
		}
		for i := range want {
			if got[i].t != want[i].t || got[i].vals[0] != want[i].vals[0] {
				t.Errorf("frame %d = %v, want %v", i, got[i], want[i])
			}
		}
		st := rd.Stats()
		if st.Skipped != 1 || st.Examples[0].Line != 3 {
			t.Errorf("stats %+v", st)
		}
	}
}

func TestTimePrecision(t *testing.T) {
	cases := []struct {
		cell string
		want int64
	}{
		{"1700000000.001", 1700000000001000000},
		{"1700000000.123456789", 1700000000123456789},
		{"1700000000.1234567894", 1700000000123456789},
		{"1700000000.1234567895", 1700000000123456790},
		{"1700000000.9999999999", 1700000001000000000},
		{"1700000000", 1700000000000000000},
		{"1700000000000.000001", 1700000000000000001},     // ms
		{"1700000000000001.5", 1700000000000001500},       // µs
		{"1700000000000.0000004995", 1700000000000000000}, // ms: 0.4995 ns rounds down
		{"1700000000000.0000005", 1700000000000000001},
		{"1.7e9", 1700000000000000000},
	}
	for _, tc := range cases {
		t.Run(tc.cell, func(t *testing.T) {
			in := "t,emg\n" + tc.cell + ",1\n"
			_, got, err := readAll(t, strings.NewReader(in), decode.Options{Name: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].t != tc.want {
				t.Errorf("got %v, want %d", got, tc.want)
			}
		})
	}
}

func TestHeaderAliases(t *testing.T) {
	cases := []struct {
		header string
		role   role
		kind   pipeline.Kind
		group  string
		axis   byte
		unit   string // source unit
	}{
		{"time", roleTime, 0, "", 0, ""},
		{"Timestamp", roleTime, 0, "", 0, ""},
		{"T", roleTime, 0, "", 0, ""},
		{"unix_time", roleTime, 0, "", 0, ""},
		{"time (s)", roleTime, 0, "", 0, ""},
		{"Timestamp (Formatted)", roleIgnore, 0, "", 0, ""},
		{"acc_x", roleChannel, pipeline.KindAcc, "acc", 'x', "g"},
		{"ACC_Y", roleChannel, pipeline.KindAcc, "acc", 'y', "g"},
		{"ax", roleChannel, pipeline.KindAcc, "a", 'x', "g"},
		{"az", roleChannel, pipeline.KindAcc, "a", 'z', "g"},
		{"accel_y", roleChannel, pipeline.KindAcc, "accel", 'y', "g"},
		{"accelerometer_z", roleChannel, pipeline.KindAcc, "accelerometer", 'z', "g"},
		{"Accelerometer X", roleChannel, pipeline.KindAcc, "accelerometer", 'x', "g"},
		{"accx", roleChannel, pipeline.KindAcc, "acc", 'x', "g"},
		{"acc2_x", roleChannel, pipeline.KindAcc, "acc2", 'x', "g"},
		{"x", roleChannel, pipeline.KindAcc, "acc", 'x', "g"},
		{" z ", roleChannel, pipeline.KindAcc, "acc", 'z', "g"},
		{"acc_x[mg]", roleChannel, pipeline.KindAcc, "acc", 'x', "mg"},
		{"acc_x (m/s^2)", roleChannel, pipeline.KindAcc, "acc", 'x', "m/s^2"},
		{"acc_x_ms2", roleChannel, pipeline.KindAcc, "acc", 'x', "ms2"},
		{"emg", roleChannel, pipeline.KindEMG, "", 0, "mV"},
		{"EMG_1", roleChannel, pipeline.KindEMG, "", 0, "mV"},
		{"emg_calf", roleChannel, pipeline.KindEMG, "", 0, "mV"},
		{"emg2", roleChannel, pipeline.KindEMG, "", 0, "mV"},
		{"emg_uv", roleChannel, pipeline.KindEMG, "", 0, "uv"},
		{"emg (µV)", roleChannel, pipeline.KindEMG, "", 0, "µv"},
		{"emg_raw_adc", roleChannel, pipeline.KindOther, "", 0, "adc"},
		{"emgx", roleIgnore, 0, "", 0, ""},
		{"max", roleIgnore, 0, "", 0, ""},
		{"index", roleIgnore, 0, "", 0, ""},
		{"xyz", roleIgnore, 0, "", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.header, func(t *testing.T) {
			c, err := classify(strings.TrimSpace(tc.header), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.role != tc.role || c.ch.Kind != tc.kind || c.ch.Group != tc.group ||
				c.ch.Axis != tc.axis || c.ch.SourceUnit != tc.unit {
				t.Errorf("got role %d %+v", c.role, c.ch)
			}
		})
	}
	t.Run("unknown bracket unit is an error", func(t *testing.T) {
		if _, err := classify("emg (furlong)", nil); err == nil || !strings.Contains(err.Error(), "furlong") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSeparatorDetection(t *testing.T) {
	cases := []struct {
		header string
		sep    byte
		n      int
	}{
		{"time,acc_x,acc_y,acc_z", ',', 4},
		{"time;acc_x;acc_y", ';', 3},
		{"time\tacc_x\tacc_y\t", '\t', 3},
		{"time  acc_x   acc_y", ' ', 3},
		{"Accelerometer X,Accelerometer Y,Accelerometer Z", ',', 3},
		{"time, emg, acc_x", ',', 3},
		{"emg_raw_adc", ',', 1},
		{"Sample Index, EXG Channel 0, Timestamp, emg", ',', 4},
		{"Sample Index, EXG Channel 0, Timestamp, Marker Channel, Timestamp (Formatted)", ',', 5},
		{"a b c", ' ', 3},
	}
	for _, tc := range cases {
		t.Run(tc.header, func(t *testing.T) {
			sep, cols, err := parseHeader([]byte(tc.header), nil)
			if err != nil || sep != tc.sep || len(cols) != tc.n {
				t.Errorf("sep %q %d columns err %v, want %q %d", sep, len(cols), err, tc.sep, tc.n)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name string
		head string
		want int
	}{
		{"header after comments", "# c\n%x\n\ntime,acc_x,acc_y,acc_z\n1,2,3,4\n", 10},
		{"emg only", "emg\n1\n", 10},
		{"byte order mark", "\xEF\xBB\xBFtime;emg\n", 10},
		{"time only", "time,foo\n1,2\n", 0},
		{"numbers", "1,2,3\n4,5,6\n", 0},
		{"binary", "time,emg\x00\x01", 0},
		{"openbci gui", "%OpenBCI Raw EXG Data\nSample Index, EXG Channel 0, Accel Channel 0, Timestamp\n", 0},
		{"empty", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff([]byte(tc.head), "f.csv"); got != tc.want {
				t.Errorf("Sniff = %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("Open returns a nil Source on error", func(t *testing.T) {
		src, err := Open(strings.NewReader(""), decode.Options{Name: "e"})
		if err == nil || src != nil {
			t.Errorf("Open = %v, %v", src, err)
		}
	})
	t.Run("registered", func(t *testing.T) {
		f, err := decode.Lookup("csv")
		if err != nil || f.Sniff == nil || f.Open == nil {
			t.Fatalf("Lookup: %v", err)
		}
		got, err := decode.Detect([]byte("time,emg\n1700000000,1\n"), "x.csv")
		if err != nil || got.Name != "csv" {
			t.Errorf("Detect = %q, %v", got.Name, err)
		}
	})
}

func TestContextCancelled(t *testing.T) {
	rd, err := New(strings.NewReader("time,emg\n1700000000,1\n"), decode.Options{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := pipeline.NewBatch(1, 4)
	if err := rd.Next(ctx, b); !errors.Is(err, context.Canceled) || b.Len() != 0 {
		t.Errorf("Next = %v with %d frames", err, b.Len())
	}
	if err := rd.Next(context.Background(), b); err != nil || b.Len() != 1 {
		t.Errorf("after cancel: Next = %v with %d frames", err, b.Len())
	}
}

func TestReadAheadLimits(t *testing.T) {
	rd, err := New(newGenerator(30000), decode.Options{Name: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	// 1 kHz: the row 10 s after the first ends the read-ahead.
	if len(rd.bufT) != 10001 {
		t.Errorf("read ahead %d rows, want 10001", len(rd.bufT))
	}
	for _, c := range rd.Meta().Channels {
		if c.RateHz != 1000 {
			t.Errorf("%s: rate %v, want 1000", c.Name, c.RateHz)
		}
	}
	rd, err = New(newMixedGenerator(30000), decode.Options{Name: "mixed"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{50, 50, 50, 1000} {
		if c := rd.Meta().Channels[i]; c.RateHz != want {
			t.Errorf("mixed %s: rate %v, want %v", c.Name, c.RateHz, want)
		}
	}
	var in strings.Builder
	in.WriteString("time,emg\n")
	for i := range ReadAheadLines + 50 {
		in.WriteString(strconv.FormatInt(1700000000000000+int64(i)*10, 10) + ",1\n") // µs, 100 kHz
	}
	rd, err = New(strings.NewReader(in.String()), decode.Options{Name: "fast"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.bufT) != ReadAheadLines || rd.Meta().Channels[0].RateHz != 100000 {
		t.Errorf("read ahead %d rows at %v Hz, want %d at 100 kHz", len(rd.bufT), rd.Meta().Channels[0].RateHz, ReadAheadLines)
	}
}

// TestOpenFile goes the way the CLI does: detect the format from the
// file's head, then decode.
func TestOpenFile(t *testing.T) {
	f, err := decode.OpenFile(filepath.Join("testdata", "comma_epoch_s.csv"), "", decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Format != "csv" || len(f.Meta().Channels) != 4 {
		t.Fatalf("format %q meta %+v", f.Format, f.Meta())
	}
	b := pipeline.NewBatch(4, 16)
	if err := f.Next(context.Background(), b); err != nil || b.Len() != 3 {
		t.Fatalf("Next = %v, %d frames", err, b.Len())
	}
	if err := f.Next(context.Background(), b); !errors.Is(err, io.EOF) {
		t.Errorf("second Next = %v, want io.EOF", err)
	}
}
