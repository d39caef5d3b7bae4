package edf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/testutil/realdata"
	"github.com/twitchd/twitchd/internal/testutil/sourcetest"
	"github.com/twitchd/twitchd/pipeline"
)

var update = flag.Bool("update", false, "rewrite the hand-built fixtures in testdata/")

// readAll decodes everything with batches of 7 frames so that batch
// boundaries are exercised.
func readAll(t testing.TB, src pipeline.Source) ([]pipeline.Frame, error) {
	return sourcetest.ReadAll(t, src, 7)
}

func openPath(t *testing.T, path string, opts decode.Options) *Reader {
	t.Helper()
	opts.Name = path
	return sourcetest.Open(t, path, func(r io.Reader) (*Reader, error) { return NewReader(r, opts) })
}

// readCSV reads the reference text files: a header row, then rows of
// comma-separated fields (no quoting is used in them).
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	head := strings.Split(lines[0], ",")
	var out []map[string]string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != len(head) {
			t.Fatalf("%s: row %q has %d fields, want %d", path, l, len(f), len(head))
		}
		m := map[string]string{}
		for i, h := range head {
			m[h] = f[i]
		}
		out = append(out, m)
	}
	return out
}

func TestRealHeaders(t *testing.T) {
	dir := realdata.Dir(t, "edf")
	for _, name := range []string{"edfreader_edfPlusC", "edfreader_bdfPlusC"} {
		t.Run(name, func(t *testing.T) {
			ext := ".edf"
			if strings.Contains(name, "bdf") {
				ext = ".bdf"
			}
			r := openPath(t, filepath.Join(dir, name+ext), decode.Options{Strict: true})
			h := r.Header()
			want := readCSV(t, filepath.Join(dir, name+"_header.txt"))[0]
			version := strings.TrimSpace(want["Version"])
			if h.BDF {
				version = strings.TrimPrefix(version, ".") // 0xFF printed as '.'
			}
			data := 0
			for _, s := range h.Signals {
				if !s.IsAnnotations() {
					data++
				}
			}
			got := map[string]string{
				"Version": h.Version, "Subject": h.Patient, "Recording": h.Recording,
				"Startdate": h.StartDate, "Startime": h.StartTime, "Bytes": strconv.Itoa(h.HeaderBytes),
				"Reserved": h.Reserved, "NumRec": strconv.FormatInt(h.Records, 10),
				"Duration": strconv.FormatFloat(float64(h.RecordDuration)/1e9, 'f', -1, 64), "NumSig": strconv.Itoa(data),
			}
			for k, w := range want {
				w = strings.TrimSpace(w)
				if k == "Version" {
					w = version
				}
				if got[k] != w {
					t.Errorf("%s = %q, want %q", k, got[k], w)
				}
			}
			wantStart := map[bool]time.Time{false: time.Date(2009, 12, 10, 12, 44, 2, 0, time.UTC), true: time.Date(2009, 12, 10, 12, 45, 54, 0, time.UTC)}[h.BDF]
			if !h.Start.Equal(wantStart) {
				t.Errorf("start %v, want %v", h.Start, wantStart)
			}
			if !h.Plus() || h.Discontinuous() {
				t.Errorf("Plus %v Discontinuous %v, want EDF+C", h.Plus(), h.Discontinuous())
			}
		})
	}
}

func TestRealSignalHeaders(t *testing.T) {
	dir := realdata.Dir(t, "edf")
	r := openPath(t, filepath.Join(dir, "edfreader_edfPlusC.edf"), decode.Options{})
	rows := readCSV(t, filepath.Join(dir, "edfreader_edfPlusC_signals.txt"))
	h := r.Header()
	if len(rows) != 11 {
		t.Fatalf("%d reference rows", len(rows))
	}
	for i, w := range rows {
		s := h.Signals[i]
		got := map[string]string{
			"Signal": strconv.Itoa(i + 1), "Label": s.Label, "Transducer": s.Transducer, "Units": s.PhysDim,
			"Min": fmt.Sprintf("%f", s.PhysMin), "Max": fmt.Sprintf("%f", s.PhysMax),
			"Dmin": strconv.FormatInt(s.DigMin, 10), "Dmax": strconv.FormatInt(s.DigMax, 10),
			"PreFilter": s.Prefilter, "Smp/Rec": strconv.Itoa(s.SamplesPerRecord), "Reserved": s.Reserved,
		}
		for k, v := range w {
			if got[k] != strings.TrimSpace(v) {
				t.Errorf("signal %d %s = %q, want %q", i+1, k, got[k], strings.TrimSpace(v))
			}
		}
		c := r.Meta().Channels[i]
		if c.Name != s.Label || c.RateHz != 200 || c.Kind != pipeline.KindOther || c.Unit != "uV" {
			t.Errorf("channel %d = %+v", i, c)
		}
	}
}

// TestRealSignalValues checks the test generator's sine waves: 100 µV
// sines sampled at 200 Hz, x[j] = 100·sin(2π·f·(j+1)/200), to within one
// quantisation step (2000 µV / 65535 for EDF, 2000 / 2^24 for BDF).
func TestRealSignalValues(t *testing.T) {
	dir := realdata.Dir(t, "edf")
	for _, tc := range []struct {
		file string
		step float64
	}{{"edfreader_edfPlusC.edf", 2000.0 / 65535}, {"edfreader_bdfPlusC.bdf", 2000.0 / (1 << 24)}} {
		t.Run(tc.file, func(t *testing.T) {
			r := openPath(t, filepath.Join(dir, tc.file), decode.Options{Strict: true})
			fr, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(fr) != 4000 {
				t.Fatalf("%d frames, want 20 records × 200", len(fr))
			}
			start := r.Header().Start.UnixNano()
			freqs := map[int]float64{5: 1, 6: 8, 7: 8.5, 8: 15, 9: 17, 10: 50}
			maxDiff := 0.0
			for j, f := range fr {
				if want := start + int64(j)*5e6; f.Time != want {
					t.Fatalf("frame %d at %d, want %d", j, f.Time, want)
				}
				for ch, hz := range freqs {
					want := 100 * math.Sin(2*math.Pi*hz*float64(j+1)/200)
					maxDiff = math.Max(maxDiff, math.Abs(f.Values[ch]-want))
				}
				if sq := math.Abs(f.Values[0]); math.Abs(sq-100) > 2*tc.step {
					t.Fatalf("squarewave frame %d = %v, want ±100", j, f.Values[0])
				}
			}
			// The generator's own rounding can be off by one step, and an
			// asymmetric digital range puts zero half a step off: 1.5 steps.
			t.Logf("max |sine − reference| = %.3g µV (step %.3g)", maxDiff, tc.step)
			if maxDiff > 1.5*tc.step {
				t.Errorf("max difference %g µV exceeds 1.5 steps of %g", maxDiff, tc.step)
			}
			anns := r.Annotations()
			if len(anns) != 2 || anns[0].Text != "RECORD START" || anns[0].Onset != 0 || anns[1].Text != "REC STOP" || anns[1].Onset != 600e9 {
				t.Errorf("annotations %+v", anns)
			}
		})
	}
}

func TestRealAnnotations(t *testing.T) {
	dir := realdata.Dir(t, "edf")
	r := openPath(t, filepath.Join(dir, "edfreader_edfAnnonC.edf"), decode.Options{Strict: true})
	fr, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	// 12 records of 0.1 s with 3000 and 2000 samples: 4000 distinct
	// instants per record (1000 shared), starting at the first TAL, +0.7 s.
	if len(fr) != 48000 {
		t.Fatalf("%d frames, want 48000", len(fr))
	}
	start := r.Header().Start.UnixNano()
	if fr[0].Time != start+700e6 || fr[4000].Time != start+800e6 {
		t.Errorf("record starts at %d and %d, want +0.7 s and +0.8 s", fr[0].Time-start, fr[4000].Time-start)
	}
	if !math.IsNaN(fr[1].Values[1]) || math.IsNaN(fr[1].Values[0]) || !math.IsNaN(fr[2].Values[0]) || fr[1].Time != fr[0].Time+33333 {
		t.Errorf("mixed-rate pattern wrong: %+v %+v", fr[1], fr[2])
	}
	rows := readCSV(t, filepath.Join(dir, "edfreader_edfAnnonC_annotations.txt"))
	anns := r.Annotations()
	if len(anns) != len(rows) {
		t.Fatalf("%d annotations, want %d: %+v", len(anns), len(rows), anns)
	}
	for i, w := range rows {
		onset, _ := parseDecimalNs(w["Onset"])
		a := anns[i]
		if a.Onset != onset || a.Text != w["Annotation"] {
			t.Errorf("annotation %d = %+v, want %v", i, a, w)
		}
		if w["Duration"] == "" && a.HasDuration || w["Duration"] != "" && (!a.HasDuration || formatSeconds(a.Duration) != w["Duration"]) {
			t.Errorf("annotation %d duration %+v, want %q", i, a, w["Duration"])
		}
	}
}

func TestRealBIDSEMG(t *testing.T) {
	path := realdata.Dir(t, "edf", "bids_holdweight_emg.edf")
	r := openPath(t, path, decode.Options{Strict: true})
	m := r.Meta()
	if len(m.Channels) != 1 || m.Channels[0].Name != "EMG1" || m.Channels[0].Kind != pipeline.KindEMG || m.Channels[0].Unit != "mV" || m.Channels[0].SourceUnit != "uV" || m.Channels[0].RateHz != 2000 {
		t.Fatalf("channels %+v", m.Channels)
	}
	fr, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr) != 2000 {
		t.Fatalf("%d frames", len(fr))
	}
	// First three raw samples 78, 318, -234; pmin/pmax ±1.12696 µV.
	for i, raw := range []float64{78, 318, -234} {
		want := ((raw+32768)*(2*1.12696)/65535 - 1.12696) / 1000
		if math.Abs(fr[i].Values[0]-want) > 1e-15 {
			t.Errorf("sample %d = %v mV, want %v", i, fr[i].Values[0], want)
		}
	}
	if st := time.Unix(0, fr[0].Time).UTC(); !st.Equal(time.Date(2025, 9, 29, 17, 18, 23, 0, time.UTC)) {
		t.Errorf("start %v", st)
	}
}

// sigSpec and buildFile assemble EDF/BDF bytes by hand, independently of
// Writer, for the fixtures.
type sigSpec struct {
	label, dim string
	pmin, pmax string
	dmin, dmax int64
	spr        int
}

func pad(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }

func buildFile(bdf bool, reserved string, nrec int, dur, date, clock, recording string, sigs []sigSpec, records [][][]int64) []byte {
	var b bytes.Buffer
	if bdf {
		b.WriteString("\xffBIOSEMI")
	} else {
		b.WriteString(pad("0", 8))
	}
	b.WriteString(pad("X X X X", 80) + pad(recording, 80) + date + clock)
	b.WriteString(pad(strconv.Itoa(256*(len(sigs)+1)), 8) + pad(reserved, 44) + pad(strconv.Itoa(nrec), 8) + pad(dur, 8) + pad(strconv.Itoa(len(sigs)), 4))
	for _, f := range []func(s sigSpec) string{
		func(s sigSpec) string { return pad(s.label, 16) },
		func(s sigSpec) string { return pad("", 80) },
		func(s sigSpec) string { return pad(s.dim, 8) },
		func(s sigSpec) string { return pad(s.pmin, 8) },
		func(s sigSpec) string { return pad(s.pmax, 8) },
		func(s sigSpec) string { return pad(strconv.FormatInt(s.dmin, 10), 8) },
		func(s sigSpec) string { return pad(strconv.FormatInt(s.dmax, 10), 8) },
		func(s sigSpec) string { return pad("", 80) },
		func(s sigSpec) string { return pad(strconv.Itoa(s.spr), 8) },
		func(s sigSpec) string { return pad("", 32) },
	} {
		for _, s := range sigs {
			b.WriteString(f(s))
		}
	}
	for _, rec := range records {
		for _, sig := range rec {
			for _, v := range sig {
				if bdf {
					b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16)})
				} else {
					b.Write(binary.LittleEndian.AppendUint16(nil, uint16(int16(v))))
				}
			}
		}
	}
	return b.Bytes()
}

// tal packs annotation text into n samples of size bytes.
func tal(s string, n, size int) []int64 {
	raw := make([]byte, n*size)
	copy(raw, s)
	out := make([]int64, n)
	for i := range out {
		var v int64
		for k := size - 1; k >= 0; k-- {
			v = v<<8 | int64(raw[i*size+k])
		}
		out[i] = v
	}
	return out
}

// fixtures returns the hand-built test files by name.
func fixtures() map[string][]byte {
	mixed := buildFile(false, "", 2, "0.5", "31.12.99", "23.59.59", "a plain EDF",
		[]sigSpec{
			{"EMG left", "uV", "-1000", "1000", -1000, 1000, 4},
			{"Acc X", "g", "-8", "8", -32768, 32767, 2},
			{"Temp", "degC", "0", "50", 0, 500, 1},
		},
		[][][]int64{
			{{100, -200, 300, -400}, {-32768, 32767}, {365}},
			{{1, 2, 3, 4}, {0, 16384}, {366}},
		})
	gaps := buildFile(true, "BDF+D", 4, "1", "01.01.84", "00.00.00", "Startdate 01-JAN-2084 X X X",
		[]sigSpec{
			{"EMG", "uV", "-8388608", "8388607", -8388608, 8388607, 2},
			{"BDF Annotations", "", "-1", "1", -8388608, 8388607, 10},
		},
		[][][]int64{
			{{-1000, 8388607}, tal("+0\x14\x14\x00", 10, 3)},
			{{-8388608, 0}, tal("+5\x14\x14\x00+5.5\x150.25\x14Twitch\x14\x00", 10, 3)},
			{{7, 7}, tal("+3\x14\x14\x00", 10, 3)}, // goes backwards: skipped
			{{-5, 5}, tal("+6\x14\x14\x00", 10, 3)},
		})
	return map[string][]byte{"mixed.edf": mixed, "gaps.bdf": gaps}
}

func TestFixturesAreHandBuilt(t *testing.T) {
	for name, want := range fixtures() {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what buildFile makes; run go test -run TestFixturesAreHandBuilt -update", name)
		}
	}
}

func TestFixtureMixedRates(t *testing.T) {
	r := openPath(t, filepath.Join("testdata", "mixed.edf"), decode.Options{Strict: true})
	m := r.Meta()
	want := []pipeline.Channel{
		{Name: "EMG left", Kind: pipeline.KindEMG, Unit: "mV", SourceUnit: "uV", RateHz: 8},
		{Name: "Acc X", Kind: pipeline.KindAcc, Unit: "g", SourceUnit: "g", RateHz: 4, Axis: 'x', Group: "Acc"},
		{Name: "Temp", Kind: pipeline.KindOther, Unit: "degC", SourceUnit: "degC", RateHz: 2},
	}
	for i, w := range want {
		if m.Channels[i] != w {
			t.Errorf("channel %d = %+v, want %+v", i, m.Channels[i], w)
		}
	}
	fr, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC).UnixNano()
	n := math.NaN()
	wantF := []pipeline.Frame{
		{Time: t0, Values: []float64{0.1, -8, 36.5}},
		{Time: t0 + 125e6, Values: []float64{-0.2, n, n}},
		{Time: t0 + 250e6, Values: []float64{0.3, 8, n}},
		{Time: t0 + 375e6, Values: []float64{-0.4, n, n}},
		{Time: t0 + 500e6, Values: []float64{0.001, 16.0/65535*32768 - 8, 36.6}},
		{Time: t0 + 625e6, Values: []float64{0.002, n, n}},
		{Time: t0 + 750e6, Values: []float64{0.003, 16.0/65535*(16384+32768) - 8, n}},
		{Time: t0 + 875e6, Values: []float64{0.004, n, n}},
	}
	if len(fr) != len(wantF) {
		t.Fatalf("%d frames, want %d", len(fr), len(wantF))
	}
	for i, w := range wantF {
		if fr[i].Time != w.Time {
			t.Errorf("frame %d at %d, want %d", i, fr[i].Time, w.Time)
		}
		for k, v := range w.Values {
			g := fr[i].Values[k]
			if math.IsNaN(v) != math.IsNaN(g) || !math.IsNaN(v) && math.Abs(g-v) > 1e-9 {
				t.Errorf("frame %d value %d = %v, want %v", i, k, g, v)
			}
		}
	}
}

func TestMapOverride(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "mixed.edf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, decode.Options{Name: "mixed.edf", Map: map[string]decode.Mapping{"emg left": {Kind: pipeline.KindAcc, Unit: "mg"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Meta().Channels[0]; c.Kind != pipeline.KindAcc || c.Unit != "g" {
		t.Errorf("channel %+v", c)
	}
	fr, err := readAll(t, r)
	if err != nil || math.Abs(fr[0].Values[0]-0.1) > 1e-12 {
		t.Errorf("first value %v (err %v), want 100 mg = 0.1 g", fr[0].Values[0], err)
	}
	_, err = NewReader(bytes.NewReader(fixtures()["mixed.edf"]), decode.Options{Name: "mixed.edf", Map: map[string]decode.Mapping{"emg left": {Kind: pipeline.KindEMG, Unit: "furlong"}}})
	if err == nil || !strings.Contains(err.Error(), "unknown EMG unit") {
		t.Errorf("err = %v, want unknown EMG unit", err)
	}
}

func TestFixtureDiscontinuousBDF(t *testing.T) {
	r := openPath(t, filepath.Join("testdata", "gaps.bdf"), decode.Options{})
	h := r.Header()
	if !h.BDF || !h.Discontinuous() || !h.Start.Equal(time.Date(2084, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("header %+v", h)
	}
	fr, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	t0 := h.Start.UnixNano()
	want := []pipeline.Frame{
		{Time: t0, Values: []float64{-1}}, {Time: t0 + 500e6, Values: []float64{8388.607}},
		{Time: t0 + 5e9, Values: []float64{-8388.608}}, {Time: t0 + 5500e6, Values: []float64{0}},
		{Time: t0 + 6e9, Values: []float64{-0.005}}, {Time: t0 + 6500e6, Values: []float64{0.005}},
	}
	if len(fr) != len(want) {
		t.Fatalf("%d frames, want %d: %+v", len(fr), len(want), fr)
	}
	for i, w := range want {
		if fr[i].Time != w.Time || math.Abs(fr[i].Values[0]-w.Values[0]) > 1e-12 {
			t.Errorf("frame %d = %+v, want %+v", i, fr[i], w)
		}
	}
	st := r.Stats()
	recBytes := int64(2*3 + 10*3)
	if st.Skipped != 1 || st.Examples[0].Offset != 3*256+2*recBytes || !strings.Contains(st.Examples[0].Reason, "before the previous record ends") {
		t.Errorf("stats %+v", st)
	}
	anns := r.Annotations()
	if len(anns) != 1 || anns[0] != (Annotation{Onset: 5500e6, Duration: 250e6, HasDuration: true, Text: "Twitch"}) {
		t.Errorf("annotations %+v", anns)
	}
}

func TestParseStartYears(t *testing.T) {
	tests := []struct {
		date, recording string
		year            int
	}{
		{"01.01.85", "", 1985}, {"01.01.99", "", 1999}, {"01.01.00", "", 2000},
		{"01.01.84", "", 2084}, {"01.01.69", "", 2069}, // time.Parse's 06 would say 1969
		{"01.01.69", "Startdate 01-JAN-1969 X X X", 1969},
		{"02.01.69", "Startdate 01-JAN-1969 X X X", 2069}, // disagreeing Startdate is ignored
	}
	for _, tc := range tests {
		st, err := parseStart(tc.date, "00.00.00", tc.recording)
		if err != nil || st.Year() != tc.year {
			t.Errorf("parseStart(%q, %q) = %v, %v; want year %d", tc.date, tc.recording, st, err, tc.year)
		}
	}
}

func TestCorruptAndTruncated(t *testing.T) {
	mixed := fixtures()["mixed.edf"]
	set := func(off int, s string) []byte {
		b := bytes.Clone(mixed)
		copy(b[off:], s)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "byte 0: header: file ends inside the 256-byte fixed header"},
		{"cut fixed header", mixed[:100], "byte 100: header: file ends inside the 256-byte fixed header"},
		{"cut signal headers", mixed[:300], "byte 300: header: file ends inside the signal headers"},
		{"bad version", set(0, "1       "), "byte 0: header: version"},
		{"bad date", set(168, "32.13.99"), "byte 168: header: start date"},
		{"bad header size", set(184, "12x     "), "byte 184: header: header size"},
		{"header size mismatch", set(184, "512     "), "does not match 3 signals"},
		{"bad record count", set(236, "many    "), "byte 236: header: number of records"},
		{"bad duration", set(244, "abc     "), "byte 244: header: record duration"},
		{"bad signal count", set(252, "x   "), "byte 252: header: number of signals"},
		{"bad physical min", set(256+3*16+3*80+3*8, "low     "), "signal 1 (EMG left): physical minimum"},
		{"bad digital max", set(256+3*16+3*80+3*8*4, "9x      "), "signal 1 (EMG left): digital maximum"},
		{"inverted digital range", set(256+3*16+3*80+3*8*4, "-2000   "), "digital maximum -2000 is not above"},
		{"bad samples per record", set(256+3*16+3*80+3*8*5+3*80, "-4      "), "samples per record"},
		{"non-ASCII", set(20, "\x01"), "byte 20: header: byte 0x01"},
		{"EDF+ without annotations", set(192, "EDF+C"), "has no annotation signal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.in), decode.Options{Name: "f.edf"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "f.edf") {
				t.Fatalf("err = %v, want it to start with f.edf and say %q", err, tc.want)
			}
		})
	}
	// Records: the header ends at 1024, each record is 14 bytes.
	recTests := []struct {
		name   string
		in     []byte
		frames int
		reason string
	}{
		{"record cut in the middle", mixed[:1024+14+5], 4, "byte 1038: record 2 cut short: 5 of 14 bytes"},
		{"records missing", mixed[:1024+14], 4, "byte 1038: file ends after 1 of the 2 records"},
	}
	for _, tc := range recTests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in), decode.Options{Name: "f.edf"})
			if err != nil {
				t.Fatal(err)
			}
			fr, err := readAll(t, r)
			if err != nil || len(fr) != tc.frames {
				t.Fatalf("%d frames, err %v", len(fr), err)
			}
			st := r.Stats()
			if st.Skipped != 1 || !strings.Contains(st.Examples[0].Error(), tc.reason) {
				t.Errorf("stats %+v, want %q", st, tc.reason)
			}
			r, _ = NewReader(bytes.NewReader(tc.in), decode.Options{Name: "f.edf", Strict: true})
			_, err = readAll(t, r)
			var le *pipeline.LineError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("strict: err = %v, want %q", err, tc.reason)
			}
		})
	}
}

func TestSniffAndDetect(t *testing.T) {
	for name, b := range fixtures() {
		if Sniff(b, name) != 50 {
			t.Errorf("Sniff(%s) = %d", name, Sniff(b, name))
		}
		if f, err := decode.Detect(b, name); err != nil || f.Name != FormatName {
			t.Errorf("Detect(%s) = %q, %v", name, f.Name, err)
		}
	}
	if Sniff([]byte("0,1,2\n3,4,5\n"), "x.csv") != 0 {
		t.Error("Sniff accepted a CSV starting with 0")
	}
}

func writerHeader() WriterHeader {
	return WriterHeader{
		Start:          time.Date(2026, 11, 25, 10, 0, 0, 250e6, time.UTC),
		RecordDuration: time.Second,
		Signals: []WriterSignal{
			{Label: "EMG calf", Kind: pipeline.KindEMG, Unit: "mV", RateHz: 1000, PhysMin: -5, PhysMax: 5},
			{Label: "ACC X", Kind: pipeline.KindAcc, Unit: "g", RateHz: 100, PhysMin: -8, PhysMax: 8},
			{Label: "ACC Y", Kind: pipeline.KindAcc, Unit: "g", RateHz: 100, PhysMin: -8, PhysMax: 8},
			{Label: "ACC Z", Kind: pipeline.KindAcc, Unit: "g", RateHz: 100, PhysMin: -8, PhysMax: 8},
		},
	}
}

// writeSignals writes 2.5 s: EMG every ms, ACC every 10 ms.
func writeSignals(t *testing.T, w *Writer, start int64) []pipeline.Frame {
	var in []pipeline.Frame
	for j := range 2500 {
		v := []float64{2 * math.Sin(float64(j)/7), math.NaN(), math.NaN(), math.NaN()}
		if j%10 == 0 {
			v[1], v[2], v[3] = math.Cos(float64(j)/100), -0.5, 1+float64(j)/10000
		}
		f := pipeline.Frame{Time: start + int64(j)*1e6, Values: v}
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
		in = append(in, f)
	}
	return in
}

func TestWriterRoundTrip(t *testing.T) {
	for _, seek := range []bool{false, true} {
		t.Run(fmt.Sprintf("seekable=%v", seek), func(t *testing.T) {
			h := writerHeader()
			var out io.Writer
			var buf bytes.Buffer
			var file *os.File
			if seek {
				f, err := os.Create(filepath.Join(t.TempDir(), "out.edf"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				file, out = f, f
			} else {
				out = &buf
			}
			w, err := NewWriter(out, h)
			if err != nil {
				t.Fatal(err)
			}
			start := h.Start.UnixNano()
			in := writeSignals(t, w, start)
			if err := w.Annotate(pipeline.Timestamp(start+2200e6), 300*time.Millisecond, "twitch"); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			if seek {
				data, _ = os.ReadFile(file.Name())
			}
			r, err := NewReader(bytes.NewReader(data), decode.Options{Name: "rt.edf", Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			hd := r.Header()
			wantRecords := map[bool]int64{false: -1, true: 3}[seek]
			if hd.Records != wantRecords || hd.Reserved != "EDF+C" || !hd.Start.Equal(h.Start.Truncate(time.Second)) || hd.Recording != "Startdate 25-NOV-2026 X X twitchd" {
				t.Errorf("header %+v", hd)
			}
			m := r.Meta()
			if m.Channels[0].Kind != pipeline.KindEMG || m.Channels[0].RateHz != 1000 || m.Channels[3].Axis != 'z' || m.Channels[3].Group != "ACC" {
				t.Errorf("channels %+v", m.Channels)
			}
			got, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3000 { // 3 records, the last padded
				t.Fatalf("%d frames, want 3000", len(got))
			}
			maxErr := [2]float64{}
			for i, f := range in {
				g := got[i]
				if g.Time != f.Time {
					t.Fatalf("frame %d at %d, want %d", i, g.Time, f.Time)
				}
				for k, v := range f.Values {
					if math.IsNaN(v) != math.IsNaN(g.Values[k]) {
						t.Fatalf("frame %d value %d: NaN pattern %v vs %v", i, k, g.Values[k], v)
					}
					if !math.IsNaN(v) {
						maxErr[min(k, 1)] = math.Max(maxErr[min(k, 1)], math.Abs(g.Values[k]-v))
					}
				}
			}
			// Half a quantisation step: 10/65535/2 mV and 16/65535/2 g.
			if maxErr[0] > 10.0/65535/2+1e-12 || maxErr[1] > 16.0/65535/2+1e-12 {
				t.Errorf("round-trip error EMG %g mV, ACC %g g: more than half a step", maxErr[0], maxErr[1])
			}
			anns := r.Annotations()
			if len(anns) != 1 || anns[0] != (Annotation{Onset: 2450e6, Duration: 300e6, HasDuration: true, Text: "twitch"}) {
				t.Errorf("annotations %+v", anns)
			}
		})
	}
}

func TestWriterErrors(t *testing.T) {
	h := writerHeader()
	h.Signals[1].RateHz = 100.5
	if _, err := NewWriter(io.Discard, h); err == nil || !strings.Contains(err.Error(), "whole number") {
		t.Errorf("fractional samples per record: %v", err)
	}
	h = writerHeader()
	h.Signals[0].Unit = "furlong"
	if _, err := NewWriter(io.Discard, h); err == nil || !strings.Contains(err.Error(), "unknown EMG unit") {
		t.Errorf("bad EMG unit: %v", err)
	}
	h = writerHeader()
	h.Signals[0].Label = "a label longer than sixteen"
	if _, err := NewWriter(io.Discard, h); err == nil || !strings.Contains(err.Error(), "longer than 16") {
		t.Errorf("long label: %v", err)
	}
	w, err := NewWriter(io.Discard, writerHeader())
	if err != nil {
		t.Fatal(err)
	}
	st := writerHeader().Start.UnixNano()
	if err := w.Write(pipeline.Frame{Time: st + 2e9, Values: []float64{0, 0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(pipeline.Frame{Time: st, Values: []float64{0, 0, 0, 0}}); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("out of order: %v", err)
	}
}

func FuzzReader(f *testing.F) {
	for _, b := range fixtures() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), decode.Options{Name: "fuzz"})
		if err != nil || r.recBytes > 1<<16 {
			return // large records are exercised by the real files and benchmarks
		}
		// NaN marks the instants a slower signal has no sample.
		sourcetest.Check(t, r, 64, 100000, func(_ int, v float64) bool { return !math.IsInf(v, 0) })
	})
}

func benchFile(b testing.TB) ([]byte, int) {
	h := WriterHeader{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), RecordDuration: time.Second}
	for i := range 8 {
		h.Signals = append(h.Signals, WriterSignal{Label: fmt.Sprintf("EMG %d", i), Unit: "mV", RateHz: 1000, PhysMin: -5, PhysMax: 5})
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		b.Fatal(err)
	}
	const n = 60000
	v := make([]float64, 8)
	for j := range n {
		for k := range v {
			v[k] = math.Sin(float64(j*(k+1)) / 50)
		}
		if err := w.Write(pipeline.Frame{Time: h.Start.UnixNano() + int64(j)*1e6, Values: v}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), n
}

func BenchmarkReader(b *testing.B) {
	data, n := benchFile(b)
	// A sample is is one frame of 8 channels.
	sourcetest.Bench(b, data, n, pipeline.NewBatch(8, 1024), func(r io.Reader) (pipeline.Source, error) {
		return NewReader(r, decode.Options{Name: "bench"})
	})
}

func BenchmarkWriter(b *testing.B) {
	h := writerHeader()
	v := []float64{0.5, 0.1, 0.2, 1}
	w, err := NewWriter(io.Discard, h)
	if err != nil {
		b.Fatal(err)
	}
	st := h.Start.UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := w.Write(pipeline.Frame{Time: st + int64(i)*1e6, Values: v}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sample")
}

// TestReaderSteadyStateAllocs checks that reading records allocates
// nothing once the reader is set up.
func TestReaderSteadyStateAllocs(t *testing.T) {
	data, n := benchFile(t)
	r, err := NewReader(bytes.NewReader(data), decode.Options{Name: "allocs"})
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch(8, 1000)
	if err := r.Next(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	got := b.Len()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for {
		err := r.Next(context.Background(), b)
		got += b.Len()
		if err != nil {
			break
		}
	}
	runtime.ReadMemStats(&after)
	allocs := after.Mallocs - before.Mallocs
	if got != n {
		t.Fatalf("%d frames, want %d", got, n)
	}
	// MemStats counts the whole process: the runtime itself (GC workers,
	// timers) may allocate once or twice meanwhile. One allocation per
	// record would show as dozens.
	if records := n/1000 - 1; allocs > 2 || records < 20 {
		t.Errorf("%v allocations reading %d records, want 0 per record", allocs, records)
	}
}

// TestOpenFileDetects opens a fixture through the registry, as the CLI
// does, without naming the format.
func TestOpenFileDetects(t *testing.T) {
	sourcetest.Detected(t, filepath.Join("testdata", "mixed.edf"), FormatName, 7)
}
