package cyton

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/testutil/sourcetest"
	"github.com/twitchd/twitchd/pipeline"
)

// packet builds a packet by hand, byte by byte, independent of AppendPacket.
func packet(counter byte, ch0 [3]byte, acc [6]byte, footer byte) []byte {
	p := make([]byte, 33)
	p[0], p[1] = 0xA0, counter
	copy(p[2:5], ch0[:])
	copy(p[26:32], acc[:])
	p[32] = footer
	return p
}

func decodeAll(_ *testing.T, p *Parser, in []byte) (vals [][]float64, smps []serial.Sample, errs []error) {
	return sourcetest.DecodeAll(p, in)
}

func TestScale(t *testing.T) {
	// 4.5 / 24 / (2^23 - 1) * 1e6 = 0.0223517... µV per count.
	if got := MicrovoltsPerCount(24); math.Abs(got-0.02235174445) > 1e-9 {
		t.Fatalf("µV per count = %.11f, want 0.02235174445", got)
	}
	if AccelScale != 0.000125 {
		t.Fatalf("accel scale %g, want 0.000125 g", AccelScale)
	}
}

func TestChannelValues(t *testing.T) {
	uv := MicrovoltsPerCount(24)
	cases := []struct {
		name string
		ch0  [3]byte
		want float64 // mV
	}{
		{"zero", [3]byte{0, 0, 0}, 0},
		{"one", [3]byte{0, 0, 1}, uv * 1e-3},
		{"minus one", [3]byte{0xFF, 0xFF, 0xFF}, -uv * 1e-3},
		{"max", [3]byte{0x7F, 0xFF, 0xFF}, 8388607 * uv * 1e-3},
		{"min", [3]byte{0x80, 0x00, 0x00}, -8388608 * uv * 1e-3},
		{"sign bit in middle byte only", [3]byte{0x00, 0x80, 0x00}, 32768 * uv * 1e-3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewParser("t", Config{})
			in := append(packet(0, c.ch0, [6]byte{}, 0xC0), packet(1, [3]byte{}, [6]byte{}, 0xC0)...)
			vals, _, errs := decodeAll(t, p, in)
			if len(errs) != 0 || len(vals) != 2 {
				t.Fatalf("got %d samples, errors %v", len(vals), errs)
			}
			if math.Abs(vals[0][0]-c.want) > 1e-12 {
				t.Fatalf("exg0 = %.12g mV, want %.12g", vals[0][0], c.want)
			}
		})
	}
}

func TestAccel(t *testing.T) {
	// X = 0x0100 = 256 -> 0.032 g; Y = -8 (0xFFF8) -> -0.001 g; Z = 8000 -> 1 g.
	accB := [6]byte{0x01, 0x00, 0xFF, 0xF8, 0x1F, 0x40}
	in := append(packet(0, [3]byte{}, accB, 0xC0), packet(1, [3]byte{}, [6]byte{}, 0xC0)...)
	in = append(in, packet(2, [3]byte{}, [6]byte{}, 0xC0)...)
	want := [3]float64{0.032, -0.001, 1}
	t.Run("nan between updates", func(t *testing.T) {
		vals, _, _ := decodeAll(t, NewParser("t", Config{}), in)
		for i, w := range want {
			if math.Abs(vals[0][8+i]-w) > 1e-12 {
				t.Fatalf("axis %d = %g, want %g", i, vals[0][8+i], w)
			}
			if !math.IsNaN(vals[1][8+i]) {
				t.Fatalf("axis %d on a zero packet = %g, want NaN", i, vals[1][8+i])
			}
		}
	})
	t.Run("hold", func(t *testing.T) {
		vals, _, _ := decodeAll(t, NewParser("t", Config{AccelHold: true}), in)
		for i, w := range want {
			if math.Abs(vals[1][8+i]-w) > 1e-12 {
				t.Fatalf("held axis %d = %g, want %g", i, vals[1][8+i], w)
			}
		}
	})
	t.Run("time-stamped footer one axis per packet", func(t *testing.T) {
		in := append(packet(7, [3]byte{}, [6]byte{0x01, 0x00, 0, 0, 0, 1}, 0xC4), packet(8, [3]byte{}, [6]byte{0xFF, 0xF8}, 0xC4)...)
		in = append(in, packet(9, [3]byte{}, [6]byte{0x1F, 0x40}, 0xC4)...)
		vals, _, errs := decodeAll(t, NewParser("t", Config{AccelHold: true}), in)
		if len(vals) != 3 || len(errs) != 0 {
			t.Fatalf("got %d samples, errors %v", len(vals), errs)
		}
		for i, w := range want {
			if math.Abs(vals[2][8+i]-w) > 1e-12 {
				t.Fatalf("axis %d = %g, want %g", i, vals[2][8+i], w)
			}
		}
	})
}

func TestResyncAndLost(t *testing.T) {
	var in []byte
	in = append(in, []byte("OpenBCI V3\n$$$")...) // banner text: garbage
	in = append(in, packet(10, [3]byte{0, 0, 1}, [6]byte{}, 0xC0)...)
	in = append(in, packet(11, [3]byte{0, 0, 2}, [6]byte{}, 0xC0)...)
	in = append(in, 0xA0, 0x12, 0xC0, 0x00) // garbage with a header byte
	in = append(in, packet(12, [3]byte{0, 0, 3}, [6]byte{}, 0xC0)...)
	in = append(in, packet(16, [3]byte{0, 0, 4}, [6]byte{}, 0xC0)...) // 13..15 lost
	in = append(in, packet(0, [3]byte{0, 0, 5}, [6]byte{}, 0xC0)...)  // 17..255 lost (wrap)
	in = append(in, packet(1, [3]byte{0, 0, 6}, [6]byte{}, 0xC0)...)
	p := NewParser("cap.bin", Config{})
	vals, smps, errs := decodeAll(t, p, in)
	if len(vals) != 6 {
		t.Fatalf("decoded %d packets, want 6", len(vals))
	}
	for i, v := range vals {
		if got := math.Round(v[0] / (MicrovoltsPerCount(24) * 1e-3)); got != float64(i+1) {
			t.Fatalf("packet %d carries %g, want %d", i, got, i+1)
		}
	}
	wantLost := []int64{0, 0, 0, 3, 239, 0}
	for i, s := range smps {
		if s.Lost != wantLost[i] {
			t.Fatalf("packet %d lost %d, want %d", i, s.Lost, wantLost[i])
		}
	}
	if len(errs) != 2 {
		t.Fatalf("skip errors %v, want 2", errs)
	}
	var le *pipeline.LineError
	if !errors.As(errs[0], &le) || le.Offset != 0 || !errors.Is(errs[0], pipeline.ErrMalformed) {
		t.Fatalf("first skip %v, want a LineError at byte 0", errs[0])
	}
	if !errors.As(errs[1], &le) || le.Offset != 14+66 {
		t.Fatalf("second skip %v, want byte %d", errs[1], 14+66)
	}
	if p.GarbageBytes != 14+4 {
		t.Fatalf("garbage bytes %d, want 18", p.GarbageBytes)
	}
}

func TestAppendPacketRoundTrip(t *testing.T) {
	exg := [Channels]int32{0, 1, -1, 1<<23 - 1, -(1 << 23), 12345, -54321, 1 << 30}
	pk := AppendPacket(nil, 200, &exg, [3]int16{-1, 2, 8000}, 0xC0)
	if len(pk) != PacketSize || pk[0] != Header || pk[1] != 200 || pk[32] != 0xC0 {
		t.Fatalf("packet framing wrong: % x", pk)
	}
	p := NewParser("t", Config{})
	vals, _, _ := decodeAll(t, p, append(pk, AppendPacket(nil, 201, &exg, [3]int16{}, 0xC0)...))
	want := exg
	want[7] = 1<<23 - 1 // clamped
	for i, w := range want {
		if got := math.Round(vals[0][i] / (MicrovoltsPerCount(24) * 1e-3)); got != float64(w) {
			t.Fatalf("channel %d = %g counts, want %d", i, got, w)
		}
	}
	if vals[0][10] != 1 {
		t.Fatalf("acc_z = %g, want 1", vals[0][10])
	}
}

func TestRegisteredReplay(t *testing.T) {
	var in []byte
	exg := [Channels]int32{100}
	for k := range 300 {
		in = AppendPacket(in, byte(k), &exg, [3]int16{}, 0xC0)
	}
	f, err := decode.Lookup(Name)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	src, err := f.Open(bytes.NewReader(in), decode.Options{Name: "cap.bin", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch(len(src.Meta().Channels), 1000)
	if err := src.Next(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 300 {
		t.Fatalf("frames %d, want 300", b.Len())
	}
	if b.Frames[0].Time != start.UnixNano() || b.Frames[250].Time != start.Add(time.Second).UnixNano() {
		t.Fatalf("times %d, %d: want start and start+1s", b.Frames[0].Time, b.Frames[250].Time)
	}
	if err := src.Next(context.Background(), b); !errors.Is(err, io.EOF) {
		t.Fatalf("second Next: %v, want EOF", err)
	}
}

func FuzzCyton(f *testing.F) {
	exg := [Channels]int32{1, 2, 3}
	f.Add(AppendPacket(nil, 1, &exg, [3]int16{1, 2, 3}, 0xC0))
	f.Add([]byte{0xA0, 0xA0, 0xC0, 0xC3})
	f.Fuzz(func(t *testing.T, in []byte) {
		p := NewParser("fuzz", Config{})
		vals := make([]float64, 11)
		for i := 0; i < len(in); i += 7 {
			p.Feed(in[i:min(i+7, len(in))])
			for {
				_, err := p.Decode(vals)
				if errors.Is(err, serial.ErrNeedMore) {
					break
				}
			}
		}
	})
}

func BenchmarkParser(b *testing.B) {
	var in []byte
	exg := [Channels]int32{1, -2, 3, -4, 5, -6, 7, -8}
	const n = 1000
	for k := range n {
		in = AppendPacket(in, byte(k), &exg, [3]int16{1, 2, 3}, 0xC0)
	}
	p := NewParser("bench", Config{})
	sourcetest.BenchDecoder(b, p, in, n)
}

func TestStrictReplayStopsAtGarbage(t *testing.T) {
	exg := [Channels]int32{}
	in := AppendPacket(nil, 0, &exg, [3]int16{}, 0xC0)
	in = AppendPacket(in, 1, &exg, [3]int16{}, 0xC0)
	in = append(in, 1, 2, 3)
	in = AppendPacket(in, 2, &exg, [3]int16{}, 0xC0)
	in = AppendPacket(in, 3, &exg, [3]int16{}, 0xC0)
	f, _ := decode.Lookup(Name)
	src, err := f.Open(bytes.NewReader(in), decode.Options{Name: "cap.bin", Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch(11, 16)
	err = src.Next(context.Background(), b)
	var le *pipeline.LineError
	if !errors.As(err, &le) || le.Offset != 66 || le.File != "cap.bin" {
		t.Fatalf("strict Next: %v, want a LineError at byte 66 of cap.bin", err)
	}
}

// BenchmarkReplaySource measures the whole Source (parser, clock, batch)
// over a capture, per sample.
func BenchmarkReplaySource(b *testing.B) {
	exg := [Channels]int32{1, -2, 3, -4, 5, -6, 7, -8}
	const n = 20000
	var in []byte
	for k := range n {
		in = AppendPacket(in, byte(k), &exg, [3]int16{1, 2, 3}, 0xC0)
	}
	f, _ := decode.Lookup(Name)
	batch := pipeline.NewBatch(11, 512)
	rd := bytes.NewReader(in)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rd.Reset(in)
		src, _ := f.Open(rd, decode.Options{Name: "bench"})
		for src.Next(context.Background(), batch) == nil {
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sample")
}
