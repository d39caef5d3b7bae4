package cwa

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"io"
	"math"
	"math/rand/v2"
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

var update = flag.Bool("update", false, "rewrite the hand-built fixtures in testdata/")

// readAll decodes everything with batches of 50 frames so that batch
// boundaries are exercised.
func readAll(t testing.TB, src pipeline.Source) ([]pipeline.Frame, error) {
	return sourcetest.ReadAll(t, src, 50)
}

// TestRealAgainstGGIRExport compares the decoded AX3 test file with
// GGIR's export of it. GGIR resamples the raw samples (spaced evenly
// between block starts, about 98.8 Hz) linearly onto a 100 Hz grid from
// the first block's start; the test does the same with the decoded
// samples and compares every row.
func TestRealAgainstGGIRExport(t *testing.T) {
	dir := realdata.Dir(t, "accel")
	f, err := os.Open(filepath.Join(dir, "axivity_ax3_testfile.cwa"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := New(f, decode.Options{Name: "axivity_ax3_testfile.cwa", Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	h := d.Header()
	if h.RateHz != 100 || h.RangeG != 8 || h.DeviceID != 39434 || h.SessionID != 26 || h.HardwareType != 0 || h.Firmware != 44 {
		t.Errorf("header %+v", h)
	}
	m := d.Meta()
	if len(m.Channels) != 3 || m.Channels[0].Kind != pipeline.KindAcc || m.Channels[2].Axis != 'z' || m.Channels[0].RateHz != 100 {
		t.Fatalf("channels %+v", m.Channels)
	}
	got, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 145*120 {
		t.Fatalf("%d samples, want 145 blocks × 120", len(got))
	}
	// First block: timestamp 10:55:07, fraction 0x2010/32768 s, offset
	// 100 samples → start 1551178506.000488 s.
	wantStart := int64(1551178507)*1e9 + int64(0x2010*2)*1e9/65536 - int64(math.Round((100+float64((0x2010*2*100)>>16))*1e7))
	if got[0].Time != wantStart {
		t.Errorf("first sample at %d, want %d", got[0].Time, wantStart)
	}
	// The export (GGIR) lists the raw samples with its own time column;
	// it lacks sample 22. Values must agree exactly; its times follow a
	// different block-time estimate and lead ours by about 19 ms.
	ref := readExport(t, filepath.Join(dir, "axivity_ax3_testfile_export.csv"))
	if len(ref) != 17399 {
		t.Fatalf("%d export rows", len(ref))
	}
	maxDiff, maxDT, sumDT := 0.0, 0.0, 0.0
	for k, r := range ref {
		i := k
		if k >= 22 {
			i = k + 1
		}
		for a := range 3 {
			maxDiff = math.Max(maxDiff, math.Abs(got[i].Values[a]-r[1+a]))
		}
		dt := float64(got[i].Time)/1e9 - r[0]
		sumDT += dt
		maxDT = math.Max(maxDT, math.Abs(dt))
	}
	t.Logf("over %d rows × 3 axes: max |value − export| = %g g; time − export: mean %.1f ms, max %.1f ms",
		len(ref), maxDiff, sumDT/float64(len(ref))*1e3, maxDT*1e3)
	if maxDiff != 0 {
		t.Errorf("values differ from the export by up to %g g, want exactly equal", maxDiff)
	}
	if maxDT > 0.025 {
		t.Errorf("times differ from the export by up to %.1f ms, want within 25 ms (2.5 samples)", maxDT*1e3)
	}
	// Block 1 starts where GGIRread puts it: 10:55:08 + 33760/65536 s −
	// (79 + 51)/100 s.
	if want := int64(1551178508)*1e9 + int64(33760)*1e9/65536 - 1300e6; got[120].Time != want {
		t.Errorf("block 1 starts at %d, want %d", got[120].Time, want)
	}
	rate := float64(len(got)-1) / (float64(got[len(got)-1].Time-got[0].Time) / 1e9)
	if rate < 98.5 || rate > 99.1 {
		t.Errorf("mean rate %.2f Hz, want about 98.8 (the device's clock)", rate)
	}
	// Raw values are multiples of 1/256 g (packed, exponent 0 at ±8 g).
	for i, f := range got[:1000] {
		for _, v := range f.Values {
			if v*256 != math.Round(v*256) {
				t.Fatalf("sample %d value %v is not a multiple of 1/256 g", i, v)
			}
		}
	}
	if st := d.Stats(); st.Skipped != 0 || st.Frames != 17400 {
		t.Errorf("stats %+v", st)
	}
}

func readExport(t *testing.T, path string) [][4]float64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][4]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ",")
		var r [4]float64
		for i := range r {
			if r[i], err = strconv.ParseFloat(p[i], 64); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, r)
	}
	return out
}

// blockSpec describes one data block to build.
type blockSpec struct {
	seq     uint32
	at      time.Time // whole-second timestamp
	frac    uint16    // deviceFractional (top bit set: fraction present)
	tsOff   int16
	rate    byte // sample rate code
	nab     byte // numAxesBPS
	light   uint16
	samples [][]int // per sample: 3 values for packed (already exponent-free), axes values for unpacked
	exp     uint32  // packed exponent for every sample
	corrupt bool    // break the checksum
}

func packTime(t time.Time) uint32 {
	return uint32(t.Year()-2000)<<26 | uint32(t.Month())<<22 | uint32(t.Day())<<17 | uint32(t.Hour())<<12 | uint32(t.Minute())<<6 | uint32(t.Second())
}

// buildBlock lays out a 512-byte AX block by hand from cwa.h.
func buildBlock(s blockSpec) []byte {
	p := make([]byte, 512)
	copy(p, "AX")
	le := binary.LittleEndian
	le.PutUint16(p[2:], 508)
	le.PutUint16(p[4:], s.frac)
	le.PutUint32(p[6:], 7)
	le.PutUint32(p[10:], s.seq)
	le.PutUint32(p[14:], packTime(s.at))
	le.PutUint16(p[18:], s.light)
	p[24], p[25] = s.rate, s.nab
	le.PutUint16(p[26:], uint16(s.tsOff))
	le.PutUint16(p[28:], uint16(len(s.samples)))
	for i, smp := range s.samples {
		if s.nab&0x0f == 0 {
			v := s.exp<<30 | uint32(smp[2]&0x3ff)<<20 | uint32(smp[1]&0x3ff)<<10 | uint32(smp[0]&0x3ff)
			le.PutUint32(p[30+4*i:], v)
			continue
		}
		for k, x := range smp {
			if o := 30 + 2*(i*len(smp)+k); o+2 <= 510 { // an oversized count is a test of its own
				le.PutUint16(p[o:], uint16(int16(x)))
			}
		}
	}
	var sum uint16
	for i := 0; i < 510; i += 2 {
		sum += le.Uint16(p[i:])
	}
	le.PutUint16(p[510:], -sum)
	if s.corrupt {
		p[100]++
	}
	return p
}

func buildHeader(hw, rate byte) []byte {
	h := make([]byte, 1024)
	copy(h, "MD")
	binary.LittleEndian.PutUint16(h[2:], 1020)
	h[4] = hw
	binary.LittleEndian.PutUint16(h[5:], 1234)
	binary.LittleEndian.PutUint32(h[7:], 7)
	binary.LittleEndian.PutUint16(h[11:], 0xffff)
	h[36] = rate
	h[41] = 45
	return h
}

// fixtures builds the hand-made test files.
func fixtures() map[string][]byte {
	t0 := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	packed := func(n, base int) [][]int {
		out := make([][]int, n)
		for i := range out {
			out[i] = []int{base + i, -base - i, 256}
		}
		return out
	}
	var ax3 bytes.Buffer
	ax3.Write(buildHeader(0, 0x4a)) // 100 Hz, ±8 g
	// Block 0: timestamp at sample 10, no fraction: starts at t0 − 0.1 s.
	ax3.Write(buildBlock(blockSpec{seq: 0, at: t0, tsOff: 10, rate: 0x4a, nab: 0x30, samples: packed(4, 1)}))
	// A corrupt block: skipped.
	ax3.Write(buildBlock(blockSpec{seq: 1, at: t0, tsOff: 10, rate: 0x4a, nab: 0x30, samples: packed(4, 9), corrupt: true}))
	// Block 1: whole second t0+1 with fraction 0.5 s (0x8000|16384),
	// offset 30: start = t0+1 + 0.5 − (30 + 50)/100 = t0 + 0.7 s.
	ax3.Write(buildBlock(blockSpec{seq: 2, at: t0.Add(time.Second), frac: 0x8000 | 16384, tsOff: 30, rate: 0x4a, nab: 0x30, samples: packed(4, 100), exp: 1}))
	// Block 2: 4 samples later at the nominal rate would be t0 + 0.74 s;
	// it is 0.04 s after block 1: t0+1, offset 26.
	ax3.Write(buildBlock(blockSpec{seq: 3, at: t0.Add(time.Second), tsOff: 26, rate: 0x4a, nab: 0x30, samples: packed(2, -200), exp: 3}))
	// A truncated block at the end.
	ax3.Write(buildBlock(blockSpec{seq: 4, at: t0.Add(time.Second), rate: 0x4a, nab: 0x30, samples: packed(2, 0)})[:100])

	var ax6 bytes.Buffer
	ax6.Write(buildHeader(0x64, 0x49)) // 50 Hz, ±8 g
	// Unpacked 6 axes, accel scale 1/2^(8+3) (light top bits 3), gyro
	// range code 2: 8000/4 = 2000 dps full scale.
	light := uint16(3<<13 | 2<<10)
	ax6.Write(buildBlock(blockSpec{seq: 0, at: t0, rate: 0x49, nab: 0x62, light: light,
		samples: [][]int{{16384, -16384, 0, 2048, -2048, 1024}, {1, 2, 3, 4, 5, 6}}}))
	ax6.Write(buildBlock(blockSpec{seq: 1, at: t0, tsOff: -2, rate: 0x49, nab: 0x62, light: light,
		samples: [][]int{{0, 0, 0, 0, 0, 2048}}}))
	return map[string][]byte{"ax3_packed.cwa": ax3.Bytes(), "ax6_unpacked.cwa": ax6.Bytes()}
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
			t.Errorf("%s differs from what buildBlock makes; run go test -run TestFixturesAreHandBuilt -update", name)
		}
	}
}

func openFixture(t *testing.T, name string, strict bool) *Decoder {
	return sourcetest.Open(t, filepath.Join("testdata", name), func(r io.Reader) (*Decoder, error) {
		return New(r, decode.Options{Name: name, Strict: strict})
	})
}

func TestFixturePacked(t *testing.T) {
	d := openFixture(t, "ax3_packed.cwa", false)
	if h := d.Header(); h.RateHz != 100 || h.RangeG != 8 || h.DeviceID != 1234 || h.SessionID != 7 {
		t.Errorf("header %+v", h)
	}
	got, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC).UnixNano()
	ms := int64(1e6)
	// Block 0 (starts t0−100 ms) ends where block 1 starts (t0+700 ms):
	// its 4 samples are spaced 200 ms — more than 1.5× nominal 10 ms, so
	// the nominal spacing is used. Block 1 (t0+700) to block 2 (t0+740):
	// 10 ms. Block 2, the last: the previous spacing.
	want := []struct {
		t int64
		v [3]float64
	}{
		{t0 - 100*ms, [3]float64{1.0 / 256, -1.0 / 256, 1}},
		{t0 - 90*ms, [3]float64{2.0 / 256, -2.0 / 256, 1}},
		{t0 - 80*ms, [3]float64{3.0 / 256, -3.0 / 256, 1}},
		{t0 - 70*ms, [3]float64{4.0 / 256, -4.0 / 256, 1}},
		{t0 + 700*ms, [3]float64{200.0 / 256, -200.0 / 256, 2}},
		{t0 + 710*ms, [3]float64{202.0 / 256, -202.0 / 256, 2}},
		{t0 + 720*ms, [3]float64{204.0 / 256, -204.0 / 256, 2}},
		{t0 + 730*ms, [3]float64{206.0 / 256, -206.0 / 256, 2}},
		{t0 + 740*ms, [3]float64{-1600.0 / 256, 1600.0 / 256, 8}},
		{t0 + 750*ms, [3]float64{-1592.0 / 256, 1592.0 / 256, 8}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Time != w.t {
			t.Errorf("sample %d at %+d ms, want %+d ms", i, (got[i].Time-t0)/ms, (w.t-t0)/ms)
		}
		for a := range 3 {
			if got[i].Values[a] != w.v[a] {
				t.Errorf("sample %d axis %d = %v, want %v", i, a, got[i].Values[a], w.v[a])
			}
		}
	}
	st := d.Stats()
	if st.Skipped != 2 || st.Examples[0].Offset != 1024+512 || !strings.Contains(st.Examples[0].Reason, "checksum") ||
		st.Examples[1].Offset != 1024+4*512 || !strings.Contains(st.Examples[1].Reason, "cut short: 100 of 512") {
		t.Errorf("stats %+v", st)
	}
}

func TestFixtureAX6(t *testing.T) {
	d := openFixture(t, "ax6_unpacked.cwa", true)
	m := d.Meta()
	names := []string{"gx", "gy", "gz", "x", "y", "z"}
	for i, c := range m.Channels {
		wantKind := pipeline.KindOther
		if i >= 3 {
			wantKind = pipeline.KindAcc
		}
		if c.Name != names[i] || c.Kind != wantKind || c.RateHz != 50 {
			t.Errorf("channel %d = %+v", i, c)
		}
	}
	got, err := readAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d samples", len(got))
	}
	// gyro: v/32768 × 2000 dps; accel: v/2048 g.
	want := []float64{1000, -1000, 0, 1, -1, 0.5}
	for a, w := range want {
		if got[0].Values[a] != w {
			t.Errorf("axis %d = %v, want %v", a, got[0].Values[a], w)
		}
	}
	t0 := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC).UnixNano()
	// Block 0 at t0 (offset 0), block 1 at t0 + 2/50 s: 20 ms spacing.
	if got[0].Time != t0 || got[1].Time != t0+20e6 || got[2].Time != t0+40e6 || got[2].Values[5] != 1 {
		t.Errorf("times %d %d %d, last %v", got[0].Time-t0, got[1].Time-t0, got[2].Time-t0, got[2].Values)
	}
}

func TestCorrupt(t *testing.T) {
	ax3 := fixtures()["ax3_packed.cwa"]
	tests := []struct {
		name   string
		in     []byte
		strict bool
		want   string
	}{
		{"empty", nil, false, "byte 0: not a CWA file"},
		{"bad magic", append([]byte("XY"), ax3[2:]...), false, "byte 0: not a CWA file"},
		{"cut header", ax3[:600], false, "byte 600: file ends inside the 1024-byte header"},
		{"bad header length", append(append([]byte("MD\x01\x00"), ax3[4:1024]...), ax3[1024:]...), false, "byte 2: header packet length 1"},
		{"no blocks", ax3[:1024], false, "no valid data block"},
		{"first block bad, strict", append(append(bytes.Clone(ax3[:1024]), ax3[1536:2048]...), ax3[1024:1536]...), true, "byte 1024: data block checksum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(bytes.NewReader(tc.in), decode.Options{Name: "f.cwa", Strict: tc.strict})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "f.cwa") {
				t.Fatalf("err = %v, want it to start with f.cwa and say %q", err, tc.want)
			}
		})
	}
	// Strict mode: the corrupt second block is an error after block 0's samples.
	d, err := New(bytes.NewReader(ax3), decode.Options{Name: "f.cwa", Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, d)
	if len(got) != 4 || err == nil || !strings.Contains(err.Error(), "f.cwa: byte 1536: data block checksum") {
		t.Errorf("%d samples, err %v", len(got), err)
	}
	// Bad fields inside a block with a valid checksum.
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	blocks := []struct {
		name string
		spec blockSpec
		want string
	}{
		{"axes", blockSpec{at: t0, rate: 0x4a, nab: 0x40, samples: [][]int{{1, 2, 3, 4}}}, "4 axes"},
		{"packing", blockSpec{at: t0, rate: 0x4a, nab: 0x31, samples: [][]int{{1, 2, 3}}}, "packing 1"},
		{"count", blockSpec{at: t0, rate: 0x4a, nab: 0x32, samples: make([][]int, 81)}, "81 samples of 6 bytes"},
	}
	for _, tc := range blocks {
		for i := range tc.spec.samples {
			if tc.spec.samples[i] == nil {
				tc.spec.samples[i] = []int{0, 0, 0}
			}
		}
		in := append(append(bytes.Clone(ax3[:2048]), buildBlock(tc.spec)...), ax3[2048:2560]...)
		d, err := New(bytes.NewReader(in), decode.Options{Name: "f.cwa"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readAll(t, d); err != nil {
			t.Fatal(err)
		}
		if st := d.Stats(); st.Skipped != 2 || !strings.Contains(st.Examples[1].Reason, tc.want) || st.Examples[1].Offset != 2048 {
			t.Errorf("%s: stats %+v, want %q at byte 2048", tc.name, st, tc.want)
		}
	}
}

func TestSniffAndDetect(t *testing.T) {
	for name, b := range fixtures() {
		if Sniff(b, name) != 50 {
			t.Errorf("Sniff(%s) = %d", name, Sniff(b, name))
		}
		if f, err := decode.Detect(b, name); err != nil || f.Name != FormatName {
			t.Errorf("Detect(%s) = %q %v", name, f.Name, err)
		}
	}
	if Sniff([]byte("MD,1,2\n"), "x.csv") != 0 {
		t.Error("Sniff accepted text starting with MD")
	}
}

// checkStream decodes data to the end, failing on frames that go back in
// time or hold non-finite values; it returns the frame count.
func checkStream(t *testing.T, data []byte) int {
	d, err := New(bytes.NewReader(data), decode.Options{Name: "mutant"})
	if err != nil {
		return 0
	}
	n, _ := sourcetest.Check(t, d, 64, 100000, sourcetest.Finite)
	return n
}

// TestRandomMutations runs a few thousand seeded byte mutations of the
// fixtures through the decoder (a deterministic complement to the fuzz
// target, which makes little progress on a loaded machine).
func TestRandomMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, seed := range fixtures() {
		for range 2000 {
			data := bytes.Clone(seed)
			for range 1 + rng.IntN(4) {
				data[rng.IntN(len(data))] = byte(rng.IntN(256))
			}
			if rng.IntN(4) == 0 {
				data = data[:rng.IntN(len(data))]
			}
			checkStream(t, data)
		}
	}
}

func FuzzDecoder(f *testing.F) {
	for _, b := range fixtures() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkStream(t, data) })
}

func benchData() ([]byte, int) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	buf.Write(buildHeader(0, 0x4a))
	const blocks = 1000
	smp := make([][]int, 120)
	for i := range smp {
		smp[i] = []int{i, -i, 256 - i}
	}
	for b := range blocks {
		at := t0.Add(time.Duration(b) * 1200 * time.Millisecond)
		buf.Write(buildBlock(blockSpec{seq: uint32(b), at: at.Truncate(time.Second), tsOff: int16(at.Sub(at.Truncate(time.Second)) / (10 * time.Millisecond)), rate: 0x4a, nab: 0x30, samples: smp}))
	}
	return buf.Bytes(), blocks * 120
}

func BenchmarkDecode(b *testing.B) {
	data, n := benchData()
	sourcetest.Bench(b, data, n, pipeline.NewBatch(3, 1024), func(r io.Reader) (pipeline.Source, error) {
		return New(r, decode.Options{Name: "bench"})
	})
}

// TestOpenFileDetects opens a fixture through the registry, as the CLI
// does, without naming the format.
func TestOpenFileDetects(t *testing.T) {
	sourcetest.Detected(t, filepath.Join("testdata", "ax3_packed.cwa"), FormatName, 50)
}
