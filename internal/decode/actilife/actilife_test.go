package actilife

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/testutil/realdata"
	"github.com/twitchd/twitchd/internal/testutil/sourcetest"
	"github.com/twitchd/twitchd/pipeline"
)

// readAll decodes everything with batches of 7 frames so that batch
// boundaries are exercised.
func readAll(t testing.TB, src pipeline.Source) ([]pipeline.Frame, error) {
	return sourcetest.ReadAll(t, src, 7)
}

func openFile(t *testing.T, path string, strict bool) *Decoder {
	t.Helper()
	return sourcetest.Open(t, path, func(r io.Reader) (*Decoder, error) {
		return New(r, decode.Options{Name: path, Strict: strict})
	})
}

func TestRealActiGraph(t *testing.T) {
	path := realdata.Dir(t, "accel", "actigraph_neo_30hz.csv")
	d := openFile(t, path, true)
	h := d.Header()
	if h.RateHz != 30 || h.Serial != "NEO1C04110003" || h.DateFormat != "M/d/yyyy" || h.Device != "GT3X+" {
		t.Errorf("header = %+v", h)
	}
	start := time.Date(2021, 12, 20, 11, 55, 0, 0, time.UTC)
	if !h.Start.Equal(start) {
		t.Errorf("start = %v, want %v", h.Start, start)
	}
	m := d.Meta()
	if len(m.Channels) != 3 || m.Format != "actilife" {
		t.Fatalf("meta = %+v", m)
	}
	for i, c := range m.Channels {
		if c.Kind != pipeline.KindAcc || c.Unit != "g" || c.RateHz != 30 || c.Group != "acc" || c.Axis != "xyz"[i] {
			t.Errorf("channel %d = %+v", i, c)
		}
	}
	fr, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	// 18015 lines: 10 header lines, 1 column header, 18004 samples.
	if len(fr) != 18004 {
		t.Fatalf("%d frames, want 18004", len(fr))
	}
	checks := []struct {
		i int
		v [3]float64
	}{
		{0, [3]float64{-0.015, 0.029, -1.006}},
		{1, [3]float64{-0.012, 0.029, -1.012}},
		{5000, [3]float64{-0.009, 0.029, -1.012}}, // line 5012
		{18003, [3]float64{-0.094, 0.214, -1}},    // last line
	}
	for _, c := range checks {
		for k := range 3 {
			if fr[c.i].Values[k] != c.v[k] {
				t.Errorf("frame %d axis %d = %v, want %v", c.i, k, fr[c.i].Values[k], c.v[k])
			}
		}
		want := start.Add(time.Duration(math.Round(float64(c.i) * 1e9 / 30)))
		if got := time.Unix(0, fr[c.i].Time).UTC(); !got.Equal(want) {
			t.Errorf("frame %d time %v, want %v", c.i, got, want)
		}
	}
	if s := d.Stats(); s.Skipped != 0 || s.Frames != 18004 {
		t.Errorf("stats = %+v", s)
	}
}

func TestFixtures(t *testing.T) {
	t0 := time.Date(2021, 12, 31, 23, 59, 59, 0, time.UTC)
	t1 := time.Date(2020, 3, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		file    string
		times   []time.Time
		first   []float64
		last    []float64
		skipped int64
		lines   []int64
	}{
		{"nominal times, bad rows skipped, midnight crossed", "small.csv",
			[]time.Time{t0, t0.Add(100 * time.Millisecond), t0.Add(300 * time.Millisecond), t0.Add(400 * time.Millisecond)},
			[]float64{0, 0, 1}, []float64{0.001, 1, 1}, 2, []int64{14, 17}},
		{"timestamp column dd/MM/yyyy, backwards row skipped", "timestamp.csv",
			[]time.Time{t1, t1.Add(33 * time.Millisecond), t1.Add(67 * time.Millisecond), t1.Add(time.Second)},
			[]float64{0.1, 0.2, 0.3}, []float64{-1, -1, -1}, 1, []int64{15}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := openFile(t, filepath.Join("testdata", tc.file), false)
			fr, err := readAll(t, d)
			if err != nil {
				t.Fatal(err)
			}
			if len(fr) != len(tc.times) {
				t.Fatalf("%d frames, want %d", len(fr), len(tc.times))
			}
			for i, want := range tc.times {
				if got := time.Unix(0, fr[i].Time).UTC(); !got.Equal(want) {
					t.Errorf("frame %d at %v, want %v", i, got, want)
				}
			}
			for k := range 3 {
				if fr[0].Values[k] != tc.first[k] || fr[len(fr)-1].Values[k] != tc.last[k] {
					t.Errorf("axis %d: first %v last %v, want %v %v", k, fr[0].Values[k], fr[len(fr)-1].Values[k], tc.first[k], tc.last[k])
				}
			}
			st := d.Stats()
			if st.Skipped != tc.skipped || len(st.Examples) != len(tc.lines) {
				t.Fatalf("stats %+v, want %d skipped", st, tc.skipped)
			}
			for i, l := range tc.lines {
				if st.Examples[i].Line != l || !strings.Contains(st.Examples[i].Error(), tc.file) {
					t.Errorf("example %d = %v, want line %d", i, st.Examples[i], l)
				}
			}
		})
	}
}

func TestStrict(t *testing.T) {
	d := openFile(t, filepath.Join("testdata", "small.csv"), true)
	_, err := readAll(t, d)
	var le *pipeline.LineError
	if !errors.As(err, &le) || le.Line != 14 || !errors.Is(err, pipeline.ErrMalformed) {
		t.Fatalf("err = %v, want a LineError at line 14", err)
	}
	if !strings.Contains(err.Error(), "small.csv:14") || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("error %q does not say where and what", err)
	}
}

func TestBadHeaders(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "small.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "ends inside the header"},
		{"bad magic", "Accelerometer X,Accelerometer Y,Accelerometer Z\n1,2,3\n", "not an ActiLife CSV"},
		{"cut header", strings.Join(lines[:4], ""), ":4: file ends inside the header"},
		{"epoch export", strings.Replace(string(good), "Epoch Period (hh:mm:ss) 00:00:00", "Epoch Period (hh:mm:ss) 00:01:00", 1), "epoch (count) export"},
		{"no rate", strings.Replace(string(good), "at 10 Hz", "", 1), "no sample rate"},
		{"bad date", strings.Replace(string(good), "Start Date 12/31/2021", "Start Date 31/12/2021", 1), "does not match date format"},
		{"bad time", strings.Replace(string(good), "Start Time 23:59:59", "Start Time 25:00", 1), "start time"},
		{"no start", strings.Replace(string(good), "Start Date", "Begin Date", 1), "no Start Date"},
		{"bad columns", strings.Replace(string(good), "Accelerometer Z", "Temperature", 1), "lacks Accelerometer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(strings.NewReader(tc.in), decode.Options{Name: "f.csv"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.csv") {
				t.Fatalf("err = %v, want it to name f.csv and say %q", err, tc.want)
			}
		})
	}
}

func TestSniffAndRegistry(t *testing.T) {
	good, _ := os.ReadFile(filepath.Join("testdata", "small.csv"))
	if s := Sniff(good, "x.csv"); s <= 10 {
		t.Errorf("Sniff(ActiLife) = %d, want > 10", s)
	}
	if s := Sniff([]byte("a,b,c\n1,2,3\n"), "x.csv"); s != 0 {
		t.Errorf("Sniff(plain csv) = %d, want 0", s)
	}
	f, err := decode.Detect(good, "x.csv")
	if err != nil || f.Name != FormatName {
		t.Errorf("Detect = %v, %v", f.Name, err)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		s, f    string
		y, m, d int
		ok      bool
	}{
		{"12/20/2021", "M/d/yyyy", 2021, 12, 20, true},
		{"1/2/2021", "M/d/yyyy", 2021, 1, 2, true},
		{"20.12.2021", "dd.MM.yyyy", 2021, 12, 20, true},
		{"2021-12-20", "yyyy-MM-dd", 2021, 12, 20, true},
		{"13/20/2021", "M/d/yyyy", 0, 0, 0, false},
		{"12/20", "M/d/yyyy", 0, 0, 0, false},
		{"12-20-2021", "M/d/yyyy", 0, 0, 0, false},
	}
	for _, tc := range tests {
		y, m, d, ok := parseDate(tc.s, tc.f)
		if ok != tc.ok || (ok && (y != tc.y || m != tc.m || d != tc.d)) {
			t.Errorf("parseDate(%q, %q) = %d %d %d %v", tc.s, tc.f, y, m, d, ok)
		}
	}
}

func FuzzDecoder(f *testing.F) {
	for _, n := range []string{"small.csv", "timestamp.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := New(bytes.NewReader(data), decode.Options{Name: "fuzz"})
		if err != nil {
			return
		}
		sourcetest.Check(t, d, 16, 10000, sourcetest.Finite)
	})
}

func BenchmarkDecode(b *testing.B) {
	head, err := os.ReadFile(filepath.Join("testdata", "small.csv"))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	buf.Write(head[:bytes.Index(head, []byte("0.000,0.000,1.000"))])
	const n = 100000
	for i := range n {
		buf.WriteString([]string{"-0.015,0.029,-1.006\r\n", "0.125,-0.25,0.968\r\n", "1.203,-0.004,0.5\r\n"}[i%3])
	}
	data := buf.Bytes()
	sourcetest.Bench(b, data, n, pipeline.NewBatch(3, 1024), func(r io.Reader) (pipeline.Source, error) {
		return New(r, decode.Options{Name: "bench"})
	})
}

// TestOpenFileDetects opens a fixture through the registry, as the CLI
// does, without naming the format.
func TestOpenFileDetects(t *testing.T) {
	sourcetest.Detected(t, filepath.Join("testdata", "small.csv"), FormatName, 7)
}
