package csv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// genHeader is the header of the generated recording.
const genHeader = "time,acc_x,acc_y,acc_z,emg\n"

// generator is an io.Reader producing a 1 kHz, 5-column recording of n
// lines on the fly: the time is an ASCII counter incremented in place and
// the values cycle through a table, so any length costs constant memory
// and next to no time.
type generator struct {
	left   int      // lines still to produce
	clock  []byte   // "1700000000.000", incremented by one digit per line
	vals   [][]byte // ",ax,ay,az,emg\n" variants
	i      int
	header []byte
	pend   []byte // rest of the current line
	line   []byte // scratch for the current line
}

func newGenerator(lines int) *generator {
	g := &generator{left: lines, clock: []byte("1700000000.000"), header: []byte(genHeader)}
	for i := range 64 {
		x := float64(i)
		g.vals = append(g.vals, fmt.Appendf(nil, ",%.4f,%.4f,%.4f,%.3f\n",
			0.05*math.Sin(x), -0.02*math.Cos(x), 0.98+0.01*math.Sin(3*x), 0.4*math.Sin(7*x)))
	}
	return g
}

// newMixedGenerator is newGenerator with the simulator's layout: EMG at
// 1 kHz in the last column, the accelerometer at 50 Hz, its cells empty
// on 19 rows of 20.
func newMixedGenerator(lines int) *generator {
	g := newGenerator(lines)
	g.vals = g.vals[:0]
	for i := range 80 {
		x := float64(i)
		if i%20 == 0 {
			g.vals = append(g.vals, fmt.Appendf(nil, ",%.5f,%.5f,%.5f,%.5f\n",
				0.05*math.Sin(x), -0.02*math.Cos(x), 0.98+0.01*math.Sin(3*x), 0.4*math.Sin(7*x)))
		} else {
			g.vals = append(g.vals, fmt.Appendf(nil, ",,,,%.5f\n", 0.4*math.Sin(7*x)))
		}
	}
	return g
}

func (g *generator) Read(p []byte) (int, error) {
	n := 0
	if len(g.header) > 0 {
		k := copy(p, g.header)
		g.header = g.header[k:]
		n += k
	}
	for n < len(p) {
		if len(g.pend) == 0 {
			if g.left == 0 {
				break
			}
			g.left--
			g.line = append(append(g.line[:0], g.clock...), g.vals[g.i%len(g.vals)]...)
			g.pend = g.line
			g.i++
			g.tick()
		}
		k := copy(p[n:], g.pend)
		g.pend = g.pend[k:]
		n += k
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// tick adds one to the last digit of the clock, carrying over the point.
func (g *generator) tick() {
	for i := len(g.clock) - 1; i >= 0; i-- {
		if g.clock[i] == '.' {
			continue
		}
		if g.clock[i] < '9' {
			g.clock[i]++
			return
		}
		g.clock[i] = '0'
	}
}

// BenchmarkReader decodes a generated 1 kHz recording with a time column
// and four values per line; one op is one line, New and its read-ahead
// included.
func BenchmarkReader(b *testing.B) { benchReader(b, newGenerator(b.N)) }

// BenchmarkReaderMixed is BenchmarkReader on the simulator's mixed-rate
// layout, where most accelerometer cells are empty.
func BenchmarkReaderMixed(b *testing.B) { benchReader(b, newMixedGenerator(b.N)) }

func benchReader(b *testing.B, g *generator) {
	b.ReportAllocs()
	rd, err := New(g, decode.Options{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	batch := pipeline.NewBatch(len(rd.Meta().Channels), 512)
	ctx := context.Background()
	frames := 0
	for {
		err := rd.Next(ctx, batch)
		frames += batch.Len()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if frames != b.N {
		b.Fatalf("%d frames from %d lines", frames, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sample")
}

// TestSteadyStateAllocs checks that Next allocates nothing once the
// read-ahead is delivered.
func TestSteadyStateAllocs(t *testing.T) {
	rd, err := New(newGenerator(200000), decode.Options{Name: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch(4, 512)
	ctx := context.Background()
	for range 30 { // past the 10 000 buffered rows
		if err := rd.Next(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		if err := rd.Next(ctx, b); err != nil || b.Len() != 512 {
			t.Fatalf("Next: %v, %d frames", err, b.Len())
		}
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per batch of 512 lines, want 0", allocs)
	}
}

// TestBoundedMemory streams two million generated lines (never held in
// memory) and checks that the heap in use stays within a few MB of where
// it started. It also checks frame count and spacing.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2M lines")
	}
	const lines = 2000000
	const limit = 4 << 20
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	rd, err := New(newGenerator(lines), decode.Options{Name: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch(4, 512)
	ctx := context.Background()
	var peak uint64
	frames, last := 0, int64(0)
	for i := 0; ; i++ {
		err := rd.Next(ctx, b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range b.Frames {
			if frames > 0 && f.Time-last != int64(time.Millisecond) {
				t.Fatalf("frame %d at %d, previous %d", frames, f.Time, last)
			}
			last = f.Time
			frames++
		}
		if i%500 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	if frames != lines {
		t.Errorf("%d frames, want %d", frames, lines)
	}
	grow := int64(peak) - int64(before)
	t.Logf("heap in use: before %d KiB, peak %d KiB (+%d KiB) over %d lines", before>>10, peak>>10, grow>>10, lines)
	if grow > limit {
		t.Errorf("heap grew by %d KiB, want under %d KiB", grow>>10, limit>>10)
	}
	if st := rd.Stats(); st.Skipped != 0 || st.Frames != lines {
		t.Errorf("stats %+v", st)
	}
}
