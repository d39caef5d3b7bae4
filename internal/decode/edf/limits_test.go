package edf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// signals returns n EMG signals with spr samples per record each.
func signals(n, spr int) []sigSpec {
	s := make([]sigSpec, n)
	for i := range s {
		s[i] = sigSpec{label: fmt.Sprintf("EMG %d", i), dim: "uV", pmin: "-100", pmax: "100", dmin: -32768, dmax: 32767, spr: spr}
	}
	return s
}

// headerOnly is a plain EDF header for sigs, without records.
func headerOnly(sigs []sigSpec) []byte {
	return buildFile(false, "", 1, "1", "01.01.20", "00.00.00", "", sigs, nil)
}

// TestSizeLimits feeds headers that ask for too much. Each must be refused
// with the offset of the field at fault, and what the reader allocates
// while trying (NewReader, then one Next, which would allocate the record
// buffers of an accepted header) must stay small.
func TestSizeLimits(t *testing.T) {
	fixedOnly := func(ns int) []byte { return headerOnly(signals(ns, 1))[:256] }
	sprField := func(ns, i int) int64 { return int64(256 + 216*ns + 8*i) } // samples per record of signal i
	cases := []struct {
		name string
		in   []byte
		off  int64
		want string // "" accepted
	}{
		{"too many signals, only the fixed header there", fixedOnly(MaxSignals + 88), 252, "600 signals, more than the 512"},
		{"too many signals", headerOnly(signals(MaxSignals+1, 1)), 252, "513 signals, more than the 512"},
		{"too many data signals", headerOnly(signals(MaxChannels+1, 1)), 252, "257 data signals, more than the 256 channels"},
		{"one signal with too many samples", headerOnly(signals(1, MaxRecordSamples+1)), sprField(1, 0), "signal 1 (EMG 0): 1048577 samples per record, more than the 1048576"},
		{"signals adding up past the record limit", headerOnly(signals(2, MaxRecordSamples/2+1)), 256 + 216*2, "records of more than 1048576 samples"},
		{"every signal at the per-signal limit", headerOnly(signals(MaxChannels, MaxRecordSamples)), 256 + 216*MaxChannels, "records of more than 1048576 samples"},
		{"huge samples per record", headerOnly(signals(3, 99999999)), sprField(3, 0), "samples per record, more than"},
		{"at the signal limit", headerOnly(signals(MaxChannels, 100)), 0, ""},
		{"at the record limit", headerOnly(signals(2, MaxRecordSamples/2)), 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := NewReader(bytes.NewReader(tc.in), decode.Options{Name: "h.edf"})
			if err == nil && tc.want != "" {
				// Accepted by mistake: show what the first read costs.
				r.Next(context.Background(), pipeline.NewBatch(len(r.Meta().Channels), 16))
			}
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if limit := uint64(len(tc.in)) + 1<<20; alloc > limit {
				t.Errorf("allocated %d bytes for a %d-byte header (limit %d)", alloc, len(tc.in), limit)
			}
			var le *pipeline.LineError
			if !errors.As(err, &le) || le.File != "h.edf" || le.Offset != tc.off || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q at h.edf byte %d", err, tc.want, tc.off)
			}
		})
	}
}

func TestWriterLimits(t *testing.T) {
	h := writerHeader()
	h.Signals = append(h.Signals[:0:0], h.Signals[0])
	for len(h.Signals) <= MaxChannels {
		h.Signals = append(h.Signals, h.Signals[0])
	}
	if _, err := NewWriter(&bytes.Buffer{}, h); err == nil || !strings.Contains(err.Error(), "257 signals, more than the 256") {
		t.Errorf("too many signals: %v", err)
	}
	h = writerHeader()
	h.Signals[0].RateHz = 4 * MaxRecordSamples
	if _, err := NewWriter(&bytes.Buffer{}, h); err == nil || !strings.Contains(err.Error(), "samples per record") {
		t.Errorf("record too large: %v", err)
	}
}

// TestRecordLimitMemory reads a file whose record holds MaxRecordSamples
// samples in two signals of different rates: what the reader allocates
// for it stays within the bound its doc states.
func TestRecordLimitMemory(t *testing.T) {
	sigs := signals(2, MaxRecordSamples/4)
	sigs[1].spr = MaxRecordSamples - sigs[0].spr
	rec := [][]int64{make([]int64, sigs[0].spr), make([]int64, sigs[1].spr)}
	in := buildFile(false, "", 1, "60", "01.01.20", "00.00.00", "", sigs, [][][]int64{rec})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := NewReader(bytes.NewReader(in), decode.Options{Name: "big.edf"})
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch(2, 1024)
	if err := r.Next(context.Background(), b); err != nil || b.Len() == 0 {
		t.Fatalf("first batch: %d frames, %v", b.Len(), err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a record of %d samples: %.1f MiB allocated", MaxRecordSamples, float64(alloc)/(1<<20))
	if alloc > 40<<20 {
		t.Fatalf("allocated %d bytes for one record of %d samples", alloc, MaxRecordSamples)
	}
}
