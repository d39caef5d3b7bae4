package bitalino

import (
	"errors"
	"math"
	"testing"

	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/testutil/sourcetest"
	"github.com/twitchd/twitchd/pipeline"
)

// crcBitwise is an independent bit-serial CRC-4 (x^4 + x + 1, MSB first,
// init 0) over every nibble of f but the last, which is where the CRC goes.
func crcBitwise(f []byte) byte {
	var crc byte
	feed := func(nib byte) {
		for i := 3; i >= 0; i-- {
			bit := (nib >> i) & 1
			top := (crc >> 3) & 1
			crc = (crc << 1) & 0x0F
			if top^bit == 1 {
				crc ^= 0x03
			}
		}
	}
	for i, b := range f {
		feed(b >> 4)
		if i < len(f)-1 {
			feed(b & 0x0F)
		}
	}
	return crc
}

func TestCRC4(t *testing.T) {
	cases := []struct {
		name string
		f    []byte
		want byte
	}{
		// Table check: one nibble 1 followed by the zero nibble gives T[1] = 3.
		{"single byte 0x10", []byte{0x10}, 3},
		{"single byte 0x20", []byte{0x20}, 6},
		{"zeros", []byte{0, 0, 0}, 0},
		{"three bytes", []byte{0x12, 0x34, 0x50}, crcBitwise([]byte{0x12, 0x34, 0x50})},
		{"eight bytes", []byte{0xFF, 0x01, 0x80, 0x7E, 0x55, 0xAA, 0x0F, 0xF0}, crcBitwise([]byte{0xFF, 0x01, 0x80, 0x7E, 0x55, 0xAA, 0x0F, 0xF0})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CRC4(c.f); got != c.want {
				t.Fatalf("CRC4 = %d, want %d", got, c.want)
			}
		})
	}
	// The table-driven CRC equals the polynomial CRC on many frames.
	f := make([]byte, 8)
	for i := range 5000 {
		for j := range f {
			f[j] = byte(i*131 + j*37 + i>>3)
		}
		if a, b := CRC4(f[:3+i%6]), crcBitwise(f[:3+i%6]); a != b {
			t.Fatalf("frame % x: table %d, polynomial %d", f[:3+i%6], a, b)
		}
	}
}

func TestFrameSize(t *testing.T) {
	want := map[int]int{1: 3, 2: 4, 3: 6, 4: 7, 5: 8, 6: 8}
	for n, w := range want {
		if got := FrameSize(n); got != w {
			t.Errorf("FrameSize(%d) = %d, want %d", n, got, w)
		}
	}
}

func TestUnpack(t *testing.T) {
	raw := []int{1023, 513, 700, 1, 63, 42}
	for n := 1; n <= 6; n++ {
		t.Run(string(rune('0'+n))+" channels", func(t *testing.T) {
			f := AppendFrame(nil, raw[:n], 9, 0b0101)
			if len(f) != FrameSize(n) {
				t.Fatalf("frame length %d, want %d", len(f), FrameSize(n))
			}
			if CRC4(f) != f[len(f)-1]&0x0F || f[len(f)-1]>>4 != 9 {
				t.Fatalf("last byte %#x: bad CRC or sequence", f[len(f)-1])
			}
			if f[len(f)-2]&0xF0 != 0x80|0x20 {
				t.Fatalf("digital nibble %#x, want 0xA0", f[len(f)-2]&0xF0)
			}
			var got [6]int
			Unpack(f, n, &got)
			for i := range n {
				if got[i] != raw[i] {
					t.Fatalf("A%d = %d, want %d (frame % x)", i+1, got[i], raw[i], f)
				}
			}
		})
	}
	// A hand-packed 1-channel frame: A1 = 0x2AB = (0x0A << 6) | (0xAC >> 2).
	f := []byte{0xAC, 0x0A, 0x30}
	var got [6]int
	Unpack(f, 1, &got)
	if got[0] != 0x2AB {
		t.Fatalf("hand frame A1 = %#x, want 0x2ab", got[0])
	}
}

func TestTransferFunctions(t *testing.T) {
	cases := []struct {
		name      string
		got, want float64
	}{
		{"EMG mid-scale is 0", EMG(512, 10), 0},
		{"EMG full scale", EMG(1024, 10), 0.5 * 3.3 / 1009 * 1000},
		{"EMG zero", EMG(0, 10), -0.5 * 3.3 / 1009 * 1000},
		{"EMG 6-bit mid", EMG(32, 6), 0},
		{"ACC Cmin is -1 g", ACC(400, 400, 608), -1},
		{"ACC Cmax is +1 g", ACC(608, 400, 608), 1},
		{"ACC middle is 0 g", ACC(504, 400, 608), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Fatalf("got %.12g, want %.12g", c.got, c.want)
			}
		})
	}
	for adc := 0; adc < 1024; adc += 7 {
		if back := ADCFromEMG(EMG(float64(adc), 10), 10); back != adc {
			t.Fatalf("ADCFromEMG(EMG(%d)) = %d", adc, back)
		}
	}
}

func TestCommands(t *testing.T) {
	for _, r := range []int{1, 10, 100, 1000} {
		c, err := RateCommand(r)
		if err != nil {
			t.Fatal(err)
		}
		if back, ok := RateFromCommand(c); !ok || back != r {
			t.Fatalf("rate %d -> %#x -> %d", r, c, back)
		}
	}
	if c, _ := RateCommand(1000); c != 0xC3 {
		t.Fatalf("1000 Hz command %#x, want 0xc3", c)
	}
	if StartCommand(0x3F) != 0xFD || StartCommand(0x01) != 0x05 {
		t.Fatalf("start commands %#x %#x", StartCommand(0x3F), StartCommand(0x01))
	}
	if _, err := RateCommand(500); err == nil {
		t.Fatal("500 Hz accepted")
	}
}

func collect(_ *testing.T, p *Parser, in []byte) (raw [][]float64, smps []serial.Sample, errs []error) {
	return sourcetest.DecodeAll(p, in)
}

func TestResyncAndSequence(t *testing.T) {
	cfg := Config{Rate: 1000, Mask: 0x03} // A1, A2 as raw "other"
	p, err := NewParser("cap", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var in []byte
	in = AppendFrame(in, []int{1, 100}, 0, 0)
	in = AppendFrame(in, []int{2, 100}, 1, 0)
	in = append(in, 0xDE, 0xAD, 0xBE) // garbage
	in = AppendFrame(in, []int{3, 100}, 2, 0)
	in = AppendFrame(in, []int{4, 100}, 5, 0) // 3, 4 lost
	in = AppendFrame(in, []int{5, 100}, 6, 0)
	bad := AppendFrame(nil, []int{6, 100}, 7, 0)
	bad[0] ^= 0x40 // corrupt: CRC fails
	in = append(in, bad...)
	in = AppendFrame(in, []int{7, 100}, 8, 0)
	in = AppendFrame(in, []int{8, 100}, 9, 0)
	vals, smps, errs := collect(t, p, in)
	want := []float64{1, 2, 3, 4, 5, 7, 8}
	if len(vals) != len(want) {
		t.Fatalf("decoded %d frames, want %d (errors %v)", len(vals), len(want), errs)
	}
	for i, w := range want {
		if vals[i][0] != w || vals[i][1] != 100 {
			t.Fatalf("frame %d = %v, want [%g 100]", i, vals[i], w)
		}
	}
	if smps[3].Lost != 2 || smps[5].Lost != 1 {
		t.Fatalf("lost %d and %d, want 2 and 1", smps[3].Lost, smps[5].Lost)
	}
	if len(errs) != 2 || p.CRCErrors < 2 {
		t.Fatalf("errors %v, CRC errors %d", errs, p.CRCErrors)
	}
	var le *pipeline.LineError
	if !errors.As(errs[0], &le) || le.Offset != 8 {
		t.Fatalf("first skip %v, want byte 8", errs[0])
	}
}

func TestSensorsAndMeta(t *testing.T) {
	p, err := NewParser("x", DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ch := p.Channels()
	if len(ch) != 4 || ch[0].Kind != pipeline.KindEMG || ch[0].Unit != "mV" || ch[3].Axis != 'z' || ch[3].Group != "acc" || ch[1].RateHz != 1000 {
		t.Fatalf("channels %+v", ch)
	}
	in := AppendFrame(nil, []int{512, 400, 504, 608}, 0, 0)
	in = AppendFrame(in, []int{1024 - 1, 608, 504, 400}, 1, 0)
	vals, _, _ := collect(t, p, in)
	if len(vals) != 2 || vals[0][0] != 0 || vals[0][1] != -1 || vals[0][2] != 0 || vals[0][3] != 1 {
		t.Fatalf("values %v", vals)
	}
	if _, err := NewParser("x", Config{Mask: 0x40}); err == nil {
		t.Fatal("mask beyond A6 accepted")
	}
}

func FuzzBitalino(f *testing.F) {
	f.Add(AppendFrame(nil, []int{1, 2, 3, 4}, 3, 1), byte(0x0F))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0}, byte(0x3F))
	f.Fuzz(func(t *testing.T, in []byte, mask byte) {
		mask &= 0x3F
		if mask == 0 {
			mask = 1
		}
		p, err := NewParser("fuzz", Config{Rate: 100, Mask: mask})
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]float64, len(p.Channels()))
		for i := 0; i < len(in); i += 5 {
			p.Feed(in[i:min(i+5, len(in))])
			for {
				if _, err := p.Decode(vals); errors.Is(err, serial.ErrNeedMore) {
					break
				}
			}
		}
	})
}

func BenchmarkParser(b *testing.B) {
	p, _ := NewParser("bench", DefaultConfig())
	const n = 1000
	var in []byte
	for k := range n {
		in = AppendFrame(in, []int{k % 1024, 500, 510, 520}, byte(k), 0)
	}
	sourcetest.BenchDecoder(b, p, in, n)
}
