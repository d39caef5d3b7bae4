package openbci

import (
	"bytes"
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
	"github.com/twitchd/twitchd/internal/testutil/realdata"
	"github.com/twitchd/twitchd/internal/testutil/sourcetest"
	"github.com/twitchd/twitchd/pipeline"
)

// readAll decodes everything with batches of 5 frames so that batch
// boundaries are exercised.
func readAll(t testing.TB, src pipeline.Source) ([]pipeline.Frame, error) {
	return sourcetest.ReadAll(t, src, 5)
}

func openFile(t *testing.T, path string, opts decode.Options) *Decoder {
	t.Helper()
	opts.Name = path
	return sourcetest.Open(t, path, func(r io.Reader) (*Decoder, error) { return New(r, opts) })
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func ms(v int64) int64 { return v * 1e6 }

func TestRealCytonV5V6(t *testing.T) {
	dir := realdata.Dir(t, "openbci")
	var all [2][]pipeline.Frame
	for i, name := range []string{"OpenBCI-RAW-cyton-v6-jawclench.txt", "OpenBCI-RAW-cyton-v5-jawclench.txt"} {
		d := openFile(t, filepath.Join(dir, name), decode.Options{Strict: true})
		h := d.Header()
		wantLayout := []Layout{LayoutV6, LayoutV5}[i]
		if h.Layout != wantLayout || h.Channels != 8 || h.RateHz != 250 || h.Board != "OpenBCI_GUI$BoardCytonSerial" {
			t.Errorf("%s: header %+v", name, h)
		}
		m := d.Meta()
		if len(m.Channels) != 11 {
			t.Fatalf("%s: %d channels", name, len(m.Channels))
		}
		if c := m.Channels[0]; c.Name != "EXG Channel 0" || c.Kind != pipeline.KindEMG || c.Unit != "mV" || c.SourceUnit != "uV" || c.RateHz != 250 {
			t.Errorf("%s: channel 0 = %+v", name, c)
		}
		if c := m.Channels[10]; c.Name != "Accel Channel 2" || c.Kind != pipeline.KindAcc || c.Unit != "g" || c.RateHz != 25 || c.Axis != 'z' || c.Group != "accel" {
			t.Errorf("%s: channel 10 = %+v", name, c)
		}
		fr, err := readAll(t, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(fr) != 22490 {
			t.Fatalf("%s: %d frames, want 22490", name, len(fr))
		}
		t0 := ms(1557936053329)
		checks := []struct {
			i   int
			exg [2]float64 // channels 0 and 7, mV
			acc []float64  // nil: no sample on this row
		}{
			{0, [2]float64{61.37936, 1.74011}, []float64{0.040, 0.420, 0.238}},
			{1, [2]float64{60.97346, 2.11870}, nil},
			{7, [2]float64{61.76925, 1.82368}, []float64{0.032, 0.626, 0.376}},
			{17, [2]float64{math.NaN(), math.NaN()}, []float64{0.020, 0.732, 0.444}},
			{9999, [2]float64{62.14625, -3.81734}, nil},
		}
		for _, c := range checks {
			f := fr[c.i]
			if want := t0 + int64(c.i)*4e6; f.Time != want {
				t.Errorf("%s: frame %d at %d, want %d", name, c.i, f.Time, want)
			}
			if !math.IsNaN(c.exg[0]) && (!near(f.Values[0], c.exg[0]) || !near(f.Values[7], c.exg[1])) {
				t.Errorf("%s: frame %d exg %v %v, want %v", name, c.i, f.Values[0], f.Values[7], c.exg)
			}
			for k := range 3 {
				got := f.Values[8+k]
				if c.acc == nil && !math.IsNaN(got) || c.acc != nil && got != c.acc[k] {
					t.Errorf("%s: frame %d accel %d = %v, want %v", name, c.i, k, got, c.acc)
				}
			}
		}
		if last := fr[len(fr)-1].Time; last != t0+22489*4e6 {
			t.Errorf("%s: last frame at %d", name, last)
		}
		accN := 0
		for _, f := range fr {
			if !math.IsNaN(f.Values[8]) {
				accN++
			}
		}
		// 2230 rows where the triple changes, plus one for each of the 11
		// gaps of 20-21 rows where a still device read the same twice.
		if accN != 2241 {
			t.Errorf("%s: %d accelerometer samples, want 2230..2260 (22490 rows / 10)", name, accN)
		}
		if st := d.Stats(); st.Skipped != 0 || st.Lost != 0 || st.Frames != 22490 {
			t.Errorf("%s: stats %+v", name, st)
		}
		all[i] = fr
	}
	// v5 and v6 are the same recording: every frame must agree.
	for i := range all[0] {
		a, b := all[0][i], all[1][i]
		if a.Time != b.Time {
			t.Fatalf("frame %d: v6 at %d, v5 at %d", i, a.Time, b.Time)
		}
		for k := range a.Values {
			if a.Values[k] != b.Values[k] && !(math.IsNaN(a.Values[k]) && math.IsNaN(b.Values[k])) {
				t.Fatalf("frame %d value %d: v6 %v, v5 %v", i, k, a.Values[k], b.Values[k])
			}
		}
	}
}

func TestRealGanglionLegacy(t *testing.T) {
	dir := realdata.Dir(t, "openbci")
	day := time.Date(2019, 5, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		file   string
		rows   int
		clock  time.Duration
		check  int
		values [2]float64
	}{
		{"OpenBCI-RAW-ganglion-myoware-rest.txt", 6414, 10*time.Hour + 30*time.Minute + 31035*time.Millisecond, 3000, [2]float64{-0.06035, 0.13826}},
		{"OpenBCI-RAW-ganglion-myoware-task.txt", 26957, 12*time.Hour + 5*time.Minute + 34893*time.Millisecond, 0, [2]float64{0.00315, 0.04502}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := openFile(t, filepath.Join(dir, tc.file), decode.Options{Strict: true, Start: day})
			if h := d.Header(); h.Layout != LayoutLegacy || h.Channels != 4 || h.RateHz != 200 {
				t.Errorf("header %+v", h)
			}
			fr, err := readAll(t, d)
			if err != nil {
				t.Fatal(err)
			}
			if len(fr) != tc.rows {
				t.Fatalf("%d frames, want %d", len(fr), tc.rows)
			}
			start := day.Add(tc.clock).UnixNano()
			f := fr[tc.check]
			if want := start + int64(tc.check)*5e6; f.Time != want {
				t.Errorf("frame %d at %v, want %v", tc.check, time.Unix(0, f.Time).UTC(), time.Unix(0, want).UTC())
			}
			if !near(f.Values[0], tc.values[0]) || !near(f.Values[1], tc.values[1]) {
				t.Errorf("frame %d = %v, want %v", tc.check, f.Values[:2], tc.values)
			}
			for _, f := range fr {
				if !math.IsNaN(f.Values[4]) {
					t.Fatalf("accelerometer sample %v delivered; the Ganglion's accelerometer was off (all zeros)", f.Values[4:])
				}
			}
			if st := d.Stats(); st.Lost != 0 || st.Skipped != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestFixtureV6(t *testing.T) {
	d := openFile(t, filepath.Join("testdata", "v6_small.txt"), decode.Options{})
	fr, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	t0 := int64(1700000000) * 1e9
	nan := math.NaN()
	want := []struct {
		t   int64
		exg [2]float64
		acc [3]float64
	}{
		{t0, [2]float64{0.010, -0.020}, [3]float64{0.1, 0.2, 0.9}},
		{t0 + 4e6, [2]float64{0.011, -0.021}, [3]float64{nan, nan, nan}},
		{t0 + 8e6, [2]float64{0.012, -0.022}, [3]float64{nan, nan, nan}},
		{t0 + 20e6, [2]float64{0.015, -0.025}, [3]float64{0.1, 0.2, 1.0}}, // 2 lost before
		{t0 + 28e6, [2]float64{0.017, -0.027}, [3]float64{nan, nan, nan}}, // after a bad row
		{t0 + 5e9, [2]float64{0.018, -0.028}, [3]float64{nan, nan, nan}},  // re-anchored after a pause
		{t0 + 5e9 + 4e6, [2]float64{0.019, -0.029}, [3]float64{nan, nan, nan}},
	}
	if len(fr) != len(want) {
		t.Fatalf("%d frames, want %d", len(fr), len(want))
	}
	for i, w := range want {
		f := fr[i]
		if f.Time != w.t {
			t.Errorf("frame %d at %d, want %d", i, f.Time, w.t)
		}
		for k := range 2 {
			if !near(f.Values[k], w.exg[k]) {
				t.Errorf("frame %d exg %d = %v, want %v", i, k, f.Values[k], w.exg[k])
			}
		}
		for k := range 3 {
			if g := f.Values[2+k]; g != w.acc[k] && !(math.IsNaN(g) && math.IsNaN(w.acc[k])) {
				t.Errorf("frame %d acc %d = %v, want %v", i, k, g, w.acc[k])
			}
		}
	}
	st := d.Stats()
	if st.Lost != 2 || st.Skipped != 1 || st.Examples[0].Line != 10 || !strings.Contains(st.Examples[0].Reason, `"abc" is not a number`) {
		t.Errorf("stats %+v", st)
	}
}

func TestFixtureLegacy(t *testing.T) {
	tests := []struct {
		name  string
		start time.Time
		t0    int64
	}{
		{"date only: date plus the file's clock", time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 3, 10, 23, 59, 59, 990e6, time.UTC).UnixNano()},
		{"full start time used as given", time.Date(2024, 3, 10, 8, 0, 0, 0, time.UTC),
			time.Date(2024, 3, 10, 8, 0, 0, 0, time.UTC).UnixNano()},
		{"no start: 1970-01-01", time.Time{}, (86399*1000 + 990) * 1e6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := openFile(t, filepath.Join("testdata", "legacy_small.txt"), decode.Options{Start: tc.start})
			fr, err := readAll(t, d)
			if err != nil {
				t.Fatal(err)
			}
			offs := []int64{0, 5, 10, 15, 35} // ms; index 4 row was bad, 3 lost
			if len(fr) != len(offs) {
				t.Fatalf("%d frames, want %d", len(fr), len(offs))
			}
			for i, o := range offs {
				if fr[i].Time != tc.t0+o*1e6 {
					t.Errorf("frame %d at %v, want +%d ms", i, time.Unix(0, fr[i].Time).UTC(), o)
				}
			}
			if fr[2].Values[0] != -0.001 || fr[4].Values[0] != 0.10025 {
				t.Errorf("values %v %v", fr[2].Values, fr[4].Values)
			}
			st := d.Stats()
			if st.Lost != 1 || st.Skipped != 2 || st.Examples[0].Line != 11 || st.Examples[1].Line != 12 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestStrict(t *testing.T) {
	d := openFile(t, filepath.Join("testdata", "v6_small.txt"), decode.Options{Strict: true})
	_, err := readAll(t, d)
	var le *pipeline.LineError
	if !errors.As(err, &le) || le.Line != 10 || !strings.Contains(err.Error(), "v6_small.txt:10") {
		t.Fatalf("err = %v, want a LineError at v6_small.txt:10", err)
	}
}

func TestBadHeaders(t *testing.T) {
	v6, _ := os.ReadFile(filepath.Join("testdata", "v6_small.txt"))
	tests := []struct{ name, in, want string }{
		{"empty", "", "not an OpenBCI GUI file"},
		{"not openbci", "time,x\n1,2\n", "not an OpenBCI GUI file"},
		{"bad first line", "%Something else\n", "first line"},
		{"bad rate", strings.Replace(string(v6), "250 Hz", "fast Hz", 1), "bad sample rate"},
		{"no rate", strings.Replace(string(v6), "%Sample Rate = 250 Hz\n", "", 1), "no %Sample Rate"},
		{"bad channel count", strings.Replace(string(v6), "channels = 2", "channels = x", 1), "bad number of channels"},
		{"no EXG columns", strings.ReplaceAll(string(v6), "EXG Channel", "Foo"), "no EXG Channel"},
		{"no timestamp column", strings.Replace(string(v6), ", Timestamp,", ", Stamp,", 1), "no Timestamp"},
		{"legacy without rows", "%OpenBCI Raw EEG Data\n%\n%Sample Rate = 200.0 Hz\n%First Column = SampleIndex\n", "no data rows"},
		{"legacy too few fields", "%OpenBCI Raw EEG Data\n%Sample Rate = 200.0 Hz\n%First Column = SampleIndex\n0, 1, 2\n", "legacy row has 3 fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(strings.NewReader(tc.in), decode.Options{Name: "f.txt"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.txt") {
				t.Fatalf("err = %v, want it to name f.txt and say %q", err, tc.want)
			}
		})
	}
}

func TestTruncated(t *testing.T) {
	v6, _ := os.ReadFile(filepath.Join("testdata", "v6_small.txt"))
	cut := v6[:len(v6)-40] // last row cut inside its timestamp field
	d, err := New(bytes.NewReader(cut), decode.Options{Name: "cut.txt"})
	if err != nil {
		t.Fatal(err)
	}
	fr, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr) != 6 || d.Stats().Skipped != 2 {
		t.Errorf("%d frames, stats %+v; want 6 frames and the cut row skipped", len(fr), d.Stats())
	}
}

func TestSniffAndDetect(t *testing.T) {
	for _, n := range []string{"v6_small.txt", "legacy_small.txt"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		if s := Sniff(b, n); s != 50 {
			t.Errorf("Sniff(%s) = %d, want 50", n, s)
		}
		if f, err := decode.Detect(b, n); err != nil || f.Name != FormatName {
			t.Errorf("Detect(%s) = %q, %v", n, f.Name, err)
		}
	}
	if Sniff([]byte("0, 1, 2\n"), "x.txt") != 0 {
		t.Error("Sniff accepted a headerless file")
	}
}

func FuzzDecoder(f *testing.F) {
	for _, n := range []string{"v6_small.txt", "legacy_small.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("%OpenBCI Raw EEG Data\n%Number of channels = 2\n%Sample Rate = 250 Hz\n%Board = x\n0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\n1, 2, 3, 0.1, 0.2, 0.3, 1557936053329, 12:00:53.329\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := New(bytes.NewReader(data), decode.Options{Name: "fuzz", Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return
		}
		// NaN marks the accelerometer's missing samples; EMG is never NaN.
		sourcetest.Check(t, d, 16, 10000, func(i int, v float64) bool {
			return !math.IsInf(v, 0) && (!math.IsNaN(v) || d.Meta().Channels[i].Kind == pipeline.KindAcc)
		})
	})
}

func BenchmarkDecode(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("%OpenBCI Raw EXG Data\n%Number of channels = 8\n%Sample Rate = 250 Hz\n%Board = OpenBCI_GUI$BoardCytonSerial\n")
	buf.WriteString("Sample Index, EXG Channel 0, EXG Channel 1, EXG Channel 2, EXG Channel 3, EXG Channel 4, EXG Channel 5, EXG Channel 6, EXG Channel 7, Accel Channel 0, Accel Channel 1, Accel Channel 2, Not Used, Digital Channel 0 (D11), Digital Channel 1 (D12), Digital Channel 2 (D13), Digital Channel 3 (D17), Not Used, Digital Channel 4 (D18), Analog Channel 0, Analog Channel 1, Analog Channel 2, Timestamp, Marker Channel, Timestamp (Formatted)\n")
	const n = 50000
	for i := range n {
		acc := "0.040, 0.420, 0.238"
		if i/10%2 == 1 {
			acc = "0.032, 0.626, 0.376"
		}
		buf.WriteString(strings.Join([]string{
			strconv.Itoa(i % 256), "61379.36", "49492.89", "-16597.06", "-21309.75", "6703.91", "-3284.86", "7223.10", "1740.11", acc,
			"0,0,0,0,0,0,0,0,0,0", strconv.Itoa(1557936053329 + i*4), "0", "12:00:53.329"}, ", "))
		buf.WriteString("\r\n")
	}
	data := buf.Bytes()
	sourcetest.Bench(b, data, n, pipeline.NewBatch(11, 1024), func(r io.Reader) (pipeline.Source, error) {
		return New(r, decode.Options{Name: "bench"})
	})
}

// TestOpenFileDetects opens a fixture through the registry, as the CLI
// does, without naming the format.
func TestOpenFileDetects(t *testing.T) {
	sourcetest.Detected(t, filepath.Join("testdata", "v6_small.txt"), FormatName, 5)
}
