// Package sourcetest drives pipeline Sources and serial.Decoders to their
// end for tests, fuzz targets and benchmarks: keeping every frame,
// checking the Source contract and the frames' order on the way, or only
// counting.
package sourcetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// ReadAll calls src.Next through one batch of the given capacity (small
// capacities exercise batch boundaries) until it returns an error, and
// returns a copy of every frame delivered, including those that came with
// the error, so they outlive the batch. The error is nil at io.EOF. It
// fails t when io.EOF comes with frames in the batch, which the Source
// contract forbids.
func ReadAll(t testing.TB, src pipeline.Source, capacity int) ([]pipeline.Frame, error) {
	t.Helper()
	b := pipeline.NewBatch(len(src.Meta().Channels), capacity)
	var out []pipeline.Frame
	for {
		err := src.Next(context.Background(), b)
		for _, f := range b.Frames {
			out = append(out, pipeline.Frame{Time: f.Time, Values: append([]float64(nil), f.Values...)})
		}
		if errors.Is(err, io.EOF) {
			if b.Len() != 0 {
				t.Errorf("sourcetest: io.EOF with %d frames in the batch", b.Len())
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// Frames is ReadAll with a batch of 64 frames that fails t on any error
// but io.EOF.
func Frames(t testing.TB, src pipeline.Source) []pipeline.Frame {
	t.Helper()
	out, err := ReadAll(t, src, 64)
	if err != nil {
		t.Fatalf("sourcetest: after %d frames: %v", len(out), err)
	}
	return out
}

// Check drives src to its end through a batch of the given capacity,
// calling Next at most maxCalls times, as a fuzz target does with a
// decoder fed arbitrary bytes. It fails t when a frame's time is before
// the previous one, when a value fails valid (called with the channel
// index; nil accepts any value), or when src has not ended after
// maxCalls calls. It returns the number of frames and the error Next
// ended with (io.EOF at a clean end).
func Check(t testing.TB, src pipeline.Source, capacity, maxCalls int, valid func(ch int, v float64) bool) (int, error) {
	t.Helper()
	b := pipeline.NewBatch(len(src.Meta().Channels), capacity)
	last := int64(math.MinInt64)
	n := 0
	for range maxCalls {
		err := src.Next(context.Background(), b)
		for _, fr := range b.Frames {
			if fr.Time < last {
				t.Fatalf("time goes backwards: %d after %d", fr.Time, last)
			}
			last = fr.Time
			for i, v := range fr.Values {
				if valid != nil && !valid(i, v) {
					t.Fatalf("value %v in channel %d", v, i)
				}
			}
		}
		n += b.Len()
		if err != nil {
			return n, err
		}
	}
	t.Fatalf("source did not end after %d calls to Next", maxCalls)
	return n, nil
}

// Finite accepts a value that is neither NaN nor ±Inf (a valid func for
// Check).
func Finite(_ int, v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Count drives src to its end through b and returns how many frames it
// delivered and the error it ended with. It allocates nothing itself, so
// a benchmark's allocations are the decoder's.
func Count(src pipeline.Source, b *pipeline.Batch) (int, error) {
	n := 0
	for {
		err := src.Next(context.Background(), b)
		n += b.Len()
		if err != nil {
			return n, err
		}
	}
}

// DecodeAll feeds in to dec and decodes samples until it needs more
// bytes, returning each sample's values (a fresh slice per sample), what
// dec said about it, and the errors it reported for skipped bytes.
func DecodeAll(dec serial.Decoder, in []byte) (vals [][]float64, smps []serial.Sample, errs []error) {
	dec.Feed(in)
	for {
		v := make([]float64, len(dec.Channels()))
		s, err := dec.Decode(v)
		if errors.Is(err, serial.ErrNeedMore) {
			return
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vals, smps = append(vals, v), append(smps, s)
	}
}

// Bench measures decoding data, which holds n frames, b.N times: each
// round opens a Source on it with open and counts its frames through
// batch, failing b unless there are n. It reports allocations and
// ns/sample (a sample being one frame).
func Bench(b *testing.B, data []byte, n int, batch *pipeline.Batch, open func(r io.Reader) (pipeline.Source, error)) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		src, err := open(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if got, _ := Count(src, batch); got != n {
			b.Fatalf("%d frames, want %d; stats %+v", got, n, src.Stats())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sample")
}

// BenchDecoder measures dec decoding in, which holds n samples, b.N
// times, reporting bytes per second, allocations and ns/sample.
func BenchDecoder(b *testing.B, dec serial.Decoder, in []byte, n int) {
	b.Helper()
	vals := make([]float64, len(dec.Channels()))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for range b.N {
		dec.Feed(in)
		for {
			if _, err := dec.Decode(vals); err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sample")
}

// Open opens the file at path until the test ends and builds what open
// makes of it (a decoder), failing t when either step fails.
func Open[S any](t testing.TB, path string, open func(r io.Reader) (S, error)) S {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	s, err := open(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Detected opens path through decode.OpenFile without naming a format,
// as the command line does, and fails t unless the format detected is
// format, Meta names that format and path, and the file decodes (through
// a batch of capacity frames) to at least one frame without error. The
// calling package must have registered format.
func Detected(t testing.TB, path, format string, capacity int) {
	t.Helper()
	f, err := decode.OpenFile(path, "", decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Format != format || f.Meta().Format != format || f.Meta().File != path {
		t.Errorf("format %q, meta %+v; want %s from %s", f.Format, f.Meta(), format, path)
	}
	fr, err := ReadAll(t, f, capacity)
	if err != nil || len(fr) == 0 {
		t.Errorf("%d frames, err %v", len(fr), err)
	}
}
