package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// batchOf returns n lines of line protocol, numbered from first.
func batchOf(first, n int) []byte {
	var b bytes.Buffer
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "twitch,subject=s%d peak=%d.5 %d\n", i%3, i, 1_700_000_000_000_000_000+int64(i))
	}
	return b.Bytes()
}

// collector is a Target that keeps what it is sent, a stand-in for the
// sink in unit tests of the drain order (the sink itself is exercised
// against influxd in cmd/twitchd's fault tests).
type collector struct {
	got     [][]byte
	flushes int
	// onWrite, if set, runs for every WriteLines.
	onWrite func(lines []byte) error
}

func (c *collector) WriteLines(lines []byte) error {
	if c.onWrite != nil {
		if err := c.onWrite(lines); err != nil {
			return err
		}
	}
	c.got = append(c.got, slices.Clone(lines))
	return nil
}

func (c *collector) Flush(context.Context) error { c.flushes++; return nil }

func open(t *testing.T, dir string, maxBytes, segBytes int64) *Spool {
	t.Helper()
	s, err := Open(Config{Dir: dir, MaxBytes: maxBytes, SegmentBytes: segBytes})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAppendReopenDrainInOrder(t *testing.T) {
	cases := []struct {
		name     string
		records  int
		lines    int
		segBytes int64
	}{
		{"one record", 1, 1, 0},
		{"one segment", 20, 50, 0},
		{"many segments", 40, 100, 16 << 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "spool")
			s := open(t, dir, 0, c.segBytes)
			var want []byte
			for r := 0; r < c.records; r++ {
				b := batchOf(r*c.lines, c.lines)
				if err := s.Append(b, c.lines); err != nil {
					t.Fatal(err)
				}
				want = append(want, b...)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// A new process: everything is there, in order.
			s = open(t, dir, 0, c.segBytes)
			defer s.Close()
			st := s.Stats()
			if st.Pending != int64(c.records*c.lines) || st.TornTails != 0 {
				t.Fatalf("reopened: %+v", st)
			}
			col := &collector{}
			d := &Drainer{Spool: s, Target: col, Chunk: 3 * c.lines}
			if err := d.Once(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := bytes.Join(col.got, nil); !bytes.Equal(got, want) {
				t.Fatalf("drained %d bytes, want %d, or out of order", len(got), len(want))
			}
			st = s.Stats()
			if !s.Empty() || st.Resent != int64(c.records*c.lines) || st.Pending != 0 || col.flushes == 0 {
				t.Fatalf("after drain: empty %v, %+v, %d flushes", s.Empty(), st, col.flushes)
			}
			if c.segBytes > 0 && st.Removed < 2 {
				t.Fatalf("expected several segments, removed %d", st.Removed)
			}
			segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			if len(segs) != 1 { // the new active one
				t.Fatalf("segments left: %v", segs)
			}
		})
	}
}

func TestTornTail(t *testing.T) {
	// Each case damages the last of three records of a segment, as a
	// crash in the middle of Append or a bad disk would.
	cases := []struct {
		name   string
		damage func(t *testing.T, path string, lastStart int64)
	}{
		{"cut in the header", func(t *testing.T, p string, last int64) { truncate(t, p, last+3) }},
		{"cut in the payload", func(t *testing.T, p string, last int64) { truncate(t, p, last+headerLen+10) }},
		{"flipped payload byte", func(t *testing.T, p string, last int64) {
			b, _ := os.ReadFile(p)
			b[last+headerLen+5] ^= 0x40
			os.WriteFile(p, b, 0o600)
		}},
		{"absurd length", func(t *testing.T, p string, last int64) {
			b, _ := os.ReadFile(p)
			copy(b[last:], []byte{0xff, 0xff, 0xff, 0x7f})
			os.WriteFile(p, b, 0o600)
		}},
		{"zeros after the last record", func(t *testing.T, p string, _ int64) {
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, 0, 0)
			var sizes []int64
			for r := 0; r < 3; r++ {
				if err := s.Append(batchOf(r*10, 10), 10); err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, s.Stats().PendingBytes)
			}
			path := s.segs[0].path
			s.Close()
			c.damage(t, path, sizes[1])
			s = open(t, dir, 0, 0)
			defer s.Close()
			st := s.Stats()
			if st.TornTails != 1 || st.TornBytes <= 0 {
				t.Fatalf("torn not counted: %+v", st)
			}
			wantPending := int64(20)
			if c.name == "zeros after the last record" {
				wantPending = 30
			}
			if st.Pending != wantPending {
				t.Fatalf("pending %d, want %d", st.Pending, wantPending)
			}
			// The spool goes on: a new record after the damage.
			if err := s.Append(batchOf(100, 1), 1); err != nil {
				t.Fatal(err)
			}
			col := &collector{}
			if err := (&Drainer{Spool: s, Target: col}).Once(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := append(batchOf(0, int(wantPending)), batchOf(100, 1)...)
			if got := bytes.Join(col.got, nil); !bytes.Equal(got, want) {
				t.Fatalf("drained:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func truncate(t *testing.T, p string, n int64) {
	t.Helper()
	if err := os.Truncate(p, n); err != nil {
		t.Fatal(err)
	}
}

func TestFullRefusesNewKeepsOld(t *testing.T) {
	dir := t.TempDir()
	rec := batchOf(0, 10)
	// Room for one segment: its magic and the first three records.
	s := open(t, dir, int64(magicLen+3*headerLen+len(batchOf(0, 30))), 0)
	defer s.Close()
	var full int
	for r := 0; r < 5; r++ {
		err := s.Append(batchOf(r*10, 10), 10)
		switch {
		case err == nil:
		case errors.Is(err, ErrFull):
			full++
		default:
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if full != 2 || st.Refused != 20 || st.Points != 30 {
		t.Fatalf("%d refused appends, %+v", full, st)
	}
	col := &collector{}
	if err := (&Drainer{Spool: s, Target: col}).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Join(col.got, nil); !bytes.Equal(got, batchOf(0, 30)) {
		t.Fatalf("the oldest records were not kept:\n%s", got)
	}
	// Drained: room again.
	if err := s.Append(rec, 10); err != nil {
		t.Fatalf("after drain: %v", err)
	}
}

func TestDrainHandedBackKeepsSegment(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 0, 0)
	defer s.Close()
	for r := 0; r < 4; r++ {
		s.Append(batchOf(r*10, 10), 10)
	}
	// A sink whose server fails again hands the lines straight back.
	col := &collector{}
	col.onWrite = func(lines []byte) error { return s.Append(lines, countLines(lines)) }
	err := (&Drainer{Spool: s, Target: col, Chunk: 1000}).Once(context.Background())
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	// The first record is a probe flushed alone: only it went back.
	st := s.Stats()
	if st.Removed != 0 || st.Pending != 50 || len(col.got) != 1 {
		t.Fatalf("segment removed although its points went back, or more than the probe sent: %+v, %d sent", st, len(col.got))
	}
	// Server back: everything goes out, the original records first.
	col.onWrite = nil
	col.got = nil
	if err := (&Drainer{Spool: s, Target: col}).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := bytes.Join(col.got, nil)
	if !bytes.HasPrefix(got, batchOf(0, 40)) || !s.Empty() {
		t.Fatalf("drained %d bytes, empty %v", len(got), s.Empty())
	}
}

func TestModesAndLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "spool")
	s := open(t, dir, 0, 0)
	defer s.Close()
	if err := s.Append(batchOf(0, 1), 1); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v %v, want 0700", fi.Mode(), err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range segs {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v, want 0600", p, fi.Mode())
		}
	}
	if _, err := Open(Config{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestClosedRefuses(t *testing.T) {
	s := open(t, t.TempDir(), 0, 0)
	s.Close()
	if err := s.Append(batchOf(0, 2), 2); !errors.Is(err, ErrClosed) || s.Stats().Refused != 2 {
		t.Fatalf("after Close: %v, %+v", err, s.Stats())
	}
}

// BenchmarkAppend measures fsynced appends: one line per record (the
// queue-full path) and 5000 lines per record (a batch whose retries ran
// out).
func BenchmarkAppend(b *testing.B) {
	for _, lines := range []int{1, 5000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			s, err := Open(Config{Dir: b.TempDir(), MaxBytes: 1 << 40})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rec := batchOf(0, lines)
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Append(rec, lines); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/point")
		})
	}
}
