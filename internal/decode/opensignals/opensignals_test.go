package opensignals

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

// readAll decodes everything with batches of 3 frames so that batch
// boundaries are exercised.
func readAll(t testing.TB, src pipeline.Source) ([]pipeline.Frame, error) {
	return sourcetest.ReadAll(t, src, 3)
}

func openFile(t *testing.T, path string, opts decode.Options, cfg Config) *Decoder {
	t.Helper()
	opts.Name = path
	return sourcetest.Open(t, path, func(r io.Reader) (*Decoder, error) { return New(r, opts, cfg) })
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRealPLUXAccelerometer(t *testing.T) {
	d := openFile(t, realdata.Dir(t, "accel", "plux_cacc_opensignals.txt"), decode.Options{Strict: true}, Config{})
	devs := d.Devices()
	if len(devs) != 1 || devs[0].MAC != "00:07:80:3B:46:61" || devs[0].Device != "channeller" || devs[0].RateHz != 1000 {
		t.Fatalf("devices %+v", devs)
	}
	start := time.Date(2017, 1, 20, 11, 23, 41, 963e6, time.UTC)
	if !devs[0].Start.Equal(start) {
		t.Errorf("start %v, want %v", devs[0].Start, start)
	}
	m := d.Meta()
	if len(m.Channels) != 3 {
		t.Fatalf("channels %+v", m.Channels)
	}
	for i, c := range m.Channels {
		want := []string{"PORT4_CHN1", "PORT6_CHN1", "PORT7_CHN1"}[i]
		if c.Name != want || c.Kind != pipeline.KindAcc || c.Unit != "g" || c.RateHz != 1000 || c.Axis != "xyz"[i] || c.Group != "acc" {
			t.Errorf("channel %d = %+v", i, c)
		}
	}
	fr, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr) != 30450 {
		t.Fatalf("%d frames, want 30450", len(fr))
	}
	// g = 2·(ADC − 28000)/(38000 − 28000) − 1 at 16 bits.
	g := func(adc float64) float64 { return 2*(adc-28000)/10000 - 1 }
	checks := []struct {
		i   int
		adc [3]float64
	}{
		{0, [3]float64{31058, 28831, 35856}},
		{10000, [3]float64{27932, 34463, 26284}},
		{30449, [3]float64{32772, 27735, 34288}},
	}
	for _, c := range checks {
		if want := start.UnixNano() + int64(c.i)*1e6; fr[c.i].Time != want {
			t.Errorf("frame %d at %d, want %d", c.i, fr[c.i].Time, want)
		}
		for k := range 3 {
			if !near(fr[c.i].Values[k], g(c.adc[k])) {
				t.Errorf("frame %d axis %d = %v, want %v", c.i, k, fr[c.i].Values[k], g(c.adc[k]))
			}
		}
	}
	// At rest at the start and end the magnitude is close to 1 g.
	for _, i := range []int{0, 30449} {
		v := fr[i].Values
		if mag := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]); mag < 0.9 || mag > 1.15 {
			t.Errorf("frame %d: |a| = %.3f g, want about 1", i, mag)
		}
	}
	if st := d.Stats(); st.Lost != 0 || st.Skipped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestFixtureBITalino(t *testing.T) {
	d := openFile(t, filepath.Join("testdata", "bitalino.txt"), decode.Options{}, Config{})
	m := d.Meta()
	if len(m.Channels) != 3 || m.Channels[0].Kind != pipeline.KindEMG || m.Channels[1].Kind != pipeline.KindAcc || m.Channels[2].Kind != pipeline.KindOther || m.Channels[1].Axis != 'x' {
		t.Fatalf("channels %+v", m.Channels)
	}
	fr, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	emg := func(adc float64) float64 { return (adc/1024 - 0.5) * 3.3 / 1009 * 1000 }
	acc := func(adc float64) float64 { return 2*(adc-400)/(608-400) - 1 }
	start := time.Date(2020, 2, 29, 23, 59, 59, 999e6, time.UTC).UnixNano()
	want := []struct {
		k        int64
		emg, acc float64
		raw      float64
	}{
		{0, 512, 504, 100}, {1, 1023, 608, 101}, {2, 0, 400, 102}, {3, 256, 504, 103},
		{5, 768, 504, 105}, {8, 768, 504, 108}, // row k=4 bad; nSeq 2 -> 5 lost 2
	}
	if len(fr) != len(want) {
		t.Fatalf("%d frames, want %d", len(fr), len(want))
	}
	for i, w := range want {
		f := fr[i]
		if f.Time != start+w.k*1e6 {
			t.Errorf("frame %d at %v, want k=%d", i, time.Unix(0, f.Time).UTC(), w.k)
		}
		if !near(f.Values[0], emg(w.emg)) || !near(f.Values[1], acc(w.acc)) || f.Values[2] != w.raw {
			t.Errorf("frame %d = %v, want %v %v %v", i, f.Values, emg(w.emg), acc(w.acc), w.raw)
		}
	}
	if f := fr[0].Values[0]; f != 0 {
		t.Errorf("EMG at mid-scale = %v, want 0", f)
	}
	st := d.Stats()
	if st.Lost != 2 || st.Skipped != 2 || st.Examples[0].Line != 8 || st.Examples[1].Line != 11 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(st.Examples[0].Error(), `"25x6" is not an integer`) || !strings.Contains(st.Examples[1].Error(), "7 columns, want 8") {
		t.Errorf("examples %v", st.Examples)
	}
}

func TestCalibrationOverride(t *testing.T) {
	d := openFile(t, filepath.Join("testdata", "bitalino.txt"), decode.Options{}, Config{ACC: &Calibration{Cmin: 500, Cmax: 700}})
	fr, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*(608.0-500)/200 - 1; !near(fr[1].Values[1], want) {
		t.Errorf("calibrated ACC = %v, want %v", fr[1].Values[1], want)
	}
}

func TestFixtureTwoDevices(t *testing.T) {
	d := openFile(t, filepath.Join("testdata", "two_devices.txt"), decode.Options{Strict: true}, Config{})
	m := d.Meta()
	names := []string{"00:07:80:3B:46:61 CH1", "00:07:80:3B:46:62 CH1", "00:07:80:3B:46:62 CH2", "00:07:80:3B:46:62 CH3"}
	if len(m.Channels) != 4 {
		t.Fatalf("channels %+v", m.Channels)
	}
	for i, c := range m.Channels {
		if c.Name != names[i] {
			t.Errorf("channel %d named %q, want %q", i, c.Name, names[i])
		}
	}
	if m.Channels[3].Group != "00:07:80:3B:46:62 acc" || m.Channels[3].Axis != 'z' {
		t.Errorf("channel 3 = %+v", m.Channels[3])
	}
	fr, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr) != 3 {
		t.Fatalf("%d frames", len(fr))
	}
	// PLUX EMG mV = ADC·3/2^16 − 1.5; PLUX ACC at 12 bits scales ADC by 16.
	wantEMG := []float64{0, 65535*3.0/65536 - 1.5, -1.5}
	for i := range fr {
		if !near(fr[i].Values[0], wantEMG[i]) {
			t.Errorf("frame %d EMG %v, want %v", i, fr[i].Values[0], wantEMG[i])
		}
		if !near(fr[i].Values[1], -1) || !near(fr[i].Values[2], 1) || !near(fr[i].Values[3], 2*(2062*16-28000)/10000.0-1) {
			t.Errorf("frame %d ACC %v", i, fr[i].Values[1:])
		}
		if want := time.Date(2021, 6, 1, 10, 0, 0, 0, time.UTC).UnixNano() + int64(i)*10e6; fr[i].Time != want {
			t.Errorf("frame %d at %d, want %d", i, fr[i].Time, want)
		}
	}
}

func TestBadHeaders(t *testing.T) {
	good, _ := os.ReadFile(filepath.Join("testdata", "bitalino.txt"))
	lines := strings.SplitAfter(string(good), "\n")
	head := lines[0] + lines[1]
	tests := []struct{ name, in, want string }{
		{"empty", "", "not an OpenSignals text file"},
		{"bad magic", "# Something\n", "not an OpenSignals text file"},
		{"cut after line 1", lines[0], "ends before the JSON"},
		{"cut inside JSON", lines[0] + lines[1][:200], "header JSON"},
		{"no end of header", head + "1\t2\n", "EndOfHeader"},
		{"bad json", lines[0] + "# {\"a\": [}\n# EndOfHeader\n", "header JSON"},
		{"no devices", lines[0] + "# {}\n# EndOfHeader\n", "names no device"},
		{"bad rate", strings.Replace(string(good), `"sampling rate": 1000`, `"sampling rate": 0`, 1), "bad sampling rate"},
		{"bad date", strings.Replace(string(good), `"2020-2-29"`, `"2020-13-29"`, 1), "bad date/time"},
		{"bad resolution", strings.Replace(string(good), `[4, 1, 1, 1, 1, 10, 10, 10]`, `[4, 1, 1, 1, 1, 10, 10, 0]`, 1), "no valid resolution"},
		{"mixed rates", strings.Replace(func() string { b, _ := os.ReadFile(filepath.Join("testdata", "two_devices.txt")); return string(b) }(), `"sampling rate": 100, "label": ["CH1", "CH2"`, `"sampling rate": 200, "label": ["CH1", "CH2"`, 1), "mixing rates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(strings.NewReader(tc.in), decode.Options{Name: "f.txt"}, Config{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.txt") {
				t.Fatalf("err = %v, want it to name f.txt and say %q", err, tc.want)
			}
		})
	}
}

func TestStrict(t *testing.T) {
	d := openFile(t, filepath.Join("testdata", "bitalino.txt"), decode.Options{Strict: true}, Config{})
	_, err := readAll(t, d)
	var le *pipeline.LineError
	if !errors.As(err, &le) || le.Line != 8 {
		t.Fatalf("err = %v, want a LineError at line 8", err)
	}
}

func TestSniffAndDetect(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "bitalino.txt"))
	if s := Sniff(b, "x.txt"); s != 50 {
		t.Errorf("Sniff = %d", s)
	}
	if f, err := decode.Detect(b, "x.txt"); err != nil || f.Name != FormatName {
		t.Errorf("Detect = %q %v", f.Name, err)
	}
	if Sniff([]byte("# header\n1\t2\n"), "x.txt") != 0 {
		t.Error("Sniff accepted a plain file")
	}
}

func FuzzDecoder(f *testing.F) {
	for _, n := range []string{"bitalino.txt", "two_devices.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := New(bytes.NewReader(data), decode.Options{Name: "fuzz"}, Config{})
		if err != nil {
			return
		}
		sourcetest.Check(t, d, 16, 10000, sourcetest.Finite)
	})
}

func BenchmarkDecode(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "bitalino.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	lines := strings.SplitAfter(string(src), "\n")
	buf.WriteString(lines[0] + lines[1] + lines[2])
	const n = 100000
	for i := range n {
		buf.WriteString(strings.Join([]string{itoa(i % 16), "0", "0", "0", "0", itoa(400 + i%300), itoa(500 + i%17), itoa(i % 1024)}, "\t"))
		buf.WriteString("\t\n")
	}
	data := buf.Bytes()
	sourcetest.Bench(b, data, n, pipeline.NewBatch(3, 1024), func(r io.Reader) (pipeline.Source, error) {
		return New(r, decode.Options{Name: "bench"}, Config{})
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestOpenFileDetects opens a fixture through the registry, as the CLI
// does, without naming the format.
func TestOpenFileDetects(t *testing.T) {
	sourcetest.Detected(t, filepath.Join("testdata", "bitalino.txt"), FormatName, 3)
}
