package csv

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// FuzzReader feeds arbitrary bytes to the reader: it must not panic, and
// what it delivers must be in time order with finite values, NaN only for
// a missing sample, and never a frame whose values are all missing. The
// same input read with batches of 1 and of 7 frames must give the same
// frames and the same ending, so batch boundaries change nothing.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<16 {
			f.Add(data, false)
			f.Add(data, true)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		a, errA := fuzzDecode(t, data, strict, 7)
		b, errB := fuzzDecode(t, data, strict, 1)
		if errA != errB {
			t.Fatalf("batch 7 ends with %q, batch 1 with %q", errA, errB)
		}
		if len(a) != len(b) {
			t.Fatalf("batch 7 gives %d frames, batch 1 %d", len(a), len(b))
		}
		for i := range a {
			if a[i].t != b[i].t || len(a[i].vals) != len(b[i].vals) {
				t.Fatalf("frame %d differs: %v vs %v", i, a[i], b[i])
			}
			for k := range a[i].vals {
				if math.Float64bits(a[i].vals[k]) != math.Float64bits(b[i].vals[k]) {
					t.Fatalf("frame %d differs: %v vs %v", i, a[i], b[i])
				}
			}
		}
	})
}

// FuzzHeaderless is FuzzReader for files read with Options.Columns (no
// header row; separator chosen from the first data row; rate possibly
// from a comment): the same guarantees, with one to four named columns
// and a mapping with an offset on the first.
func FuzzHeaderless(f *testing.F) {
	for _, s := range []string{"# Sampling Rate (Hz):= 1000.00\n2048\n2050\n", "1,2,3\r\n4,5,6\r\n",
		"1700000000.5;0,5\n1700000000.6;x\n", "% fs = 10\n\t1\t2\t\n"} {
		f.Add([]byte(s), uint8(1), false)
		f.Add([]byte(s), uint8(3), true)
	}
	names := []string{"emg", "t", "acc_x", "label"}
	f.Fuzz(func(t *testing.T, data []byte, ncols uint8, strict bool) {
		n := int(ncols)%len(names) + 1
		opts := decode.Options{Name: "fuzz", Start: start, Strict: strict, Columns: names[:n],
			Map: map[string]decode.Mapping{"emg": {Kind: pipeline.KindEMG, Unit: "uV", Scale: 3, Offset: -1.5}}}
		a, errA := fuzzDecodeOpts(t, data, opts, 7)
		b, errB := fuzzDecodeOpts(t, data, opts, 1)
		if errA != errB || len(a) != len(b) {
			t.Fatalf("batch 7: %d frames, %q; batch 1: %d frames, %q", len(a), errA, len(b), errB)
		}
		for i := range a {
			if a[i].t != b[i].t {
				t.Fatalf("frame %d differs: %v vs %v", i, a[i], b[i])
			}
		}
	})
}

// fuzzDecode reads data to its end, checking each frame, and returns the
// frames and the final error's text ("" for a clean end or a New error).
func fuzzDecode(t *testing.T, data []byte, strict bool, batch int) ([]frame, string) {
	return fuzzDecodeOpts(t, data, decode.Options{Name: "fuzz", Rate: 250, Start: start, Strict: strict}, batch)
}

// fuzzDecodeOpts is fuzzDecode with the options given.
func fuzzDecodeOpts(t *testing.T, data []byte, opts decode.Options, batch int) ([]frame, string) {
	strict := opts.Strict
	rd, err := New(bytes.NewReader(data), opts)
	if err != nil {
		return nil, "new: " + err.Error()
	}
	nch := len(rd.Meta().Channels)
	if nch == 0 {
		t.Fatal("New succeeded without channels")
	}
	b := pipeline.NewBatch(nch, batch)
	var out []frame
	for range len(data) + 2 {
		err := rd.Next(context.Background(), b)
		for _, fr := range b.Frames {
			if n := len(out); n > 0 && fr.Time < out[n-1].t {
				t.Fatalf("time went back from %d to %d", out[n-1].t, fr.Time)
			}
			have := false
			for _, v := range fr.Values {
				if math.IsInf(v, 0) {
					t.Fatalf("infinite value in %v", fr.Values)
				}
				have = have || !math.IsNaN(v)
			}
			if !have {
				t.Fatalf("frame with no sample: %v", fr.Values)
			}
			out = append(out, frame{fr.Time, append([]float64(nil), fr.Values...)})
		}
		if errors.Is(err, io.EOF) {
			if b.Len() != 0 {
				t.Fatal("io.EOF with frames")
			}
			if st := rd.Stats(); st.Frames != int64(len(out)) {
				t.Fatalf("stats say %d frames, saw %d", st.Frames, len(out))
			}
			return out, ""
		}
		if err != nil {
			var le *pipeline.LineError
			if !strict || !errors.As(err, &le) || le.Line <= 0 {
				t.Fatalf("unexpected error %v", err)
			}
			return out, err.Error()
		}
	}
	t.Fatal("Next never reached the end")
	return nil, ""
}

var plainDecimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)

// FuzzTimeNanos checks the exact time conversion of plain decimals in
// seconds, milliseconds and microseconds against math/big: the result is
// the exact value in ns rounded half away from zero.
func FuzzTimeNanos(f *testing.F) {
	for _, s := range []string{"1700000000.001", "1700000000.123456789", "0.0000000005", "-1.5", "1700000000000.0000015",
		"9.9999999995", "12", ".5",
		"1700000000000.0000004995", "0.00000000049999999999999999999", "0.0000000005000000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainDecimal.MatchString(s) || len(s) > 40 {
			return
		}
		d, ok := parseDecimal([]byte(s))
		if !ok {
			t.Fatalf("parseDecimal(%q) refused", s)
		}
		for _, unit := range []int64{1e9, 1e6, 1e3} {
			exact, _ := new(big.Rat).SetString(s)
			exact.Mul(exact, new(big.Rat).SetInt64(unit))
			want := roundHalfAway(exact)
			got, ok := d.nanos(unit)
			if !want.IsInt64() {
				if ok {
					t.Fatalf("%q × %d: got %d, want overflow", s, unit, got)
				}
				continue
			}
			if !ok || got != want.Int64() {
				t.Fatalf("%q × %d ns: got %d (ok %v), want %d", s, unit, got, ok, want.Int64())
			}
		}
	})
}

// roundHalfAway rounds r to the nearest integer, halves away from zero.
func roundHalfAway(r *big.Rat) *big.Int {
	a := new(big.Rat).Abs(r)
	a.Add(a, big.NewRat(1, 2))
	q := new(big.Int).Quo(a.Num(), a.Denom())
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}
