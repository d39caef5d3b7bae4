package cwa

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
)

// TestLengthFieldsDoNotSizeBuffers feeds blocks whose length and count
// fields claim more than a block holds: each is skipped with its offset,
// and each costs a few bytes of message, not a buffer of the claimed size.
func TestLengthFieldsDoNotSizeBuffers(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	good := buildBlock(blockSpec{at: t0, rate: 0x4a, nab: 0x30, samples: [][]int{{1, 2, 3}}})
	reseal := func(p []byte) []byte {
		p[510], p[511] = 0, 0
		var sum uint16
		for i := 0; i < 510; i += 2 {
			sum += binary.LittleEndian.Uint16(p[i:])
		}
		binary.LittleEndian.PutUint16(p[510:], -sum)
		return p
	}
	with := func(off int, v uint16) []byte {
		p := bytes.Clone(good)
		binary.LittleEndian.PutUint16(p[off:], v)
		return reseal(p)
	}
	cases := []struct {
		name  string
		block []byte
		want  string
	}{
		{"packet length 65535", with(2, 0xffff), "data block packet length 65535, want 508"},
		{"sample count 65535", with(28, 0xffff), "65535 samples of 4 bytes do not fit in a block"},
		{"sample count 241 unpacked", func() []byte { p := with(28, 241); p[25] = 0x32; return reseal(p) }(), "241 samples of 6 bytes do not fit"},
	}
	head := buildHeader(0x17, 0x4a)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			read := func(n int) (uint64, int64) {
				in := append(bytes.Clone(head), good...)
				in = append(in, bytes.Repeat(tc.block, n)...)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				d, err := New(bytes.NewReader(in), decode.Options{Name: "f.cwa"})
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAll(t, d)
				runtime.ReadMemStats(&after)
				if err != nil || len(got) != 1 {
					t.Fatalf("%d samples, %v; want the good block's one", len(got), err)
				}
				st := d.Stats()
				if st.Skipped != int64(n) || st.Examples[0].Offset != HeaderSize+BlockSize || !strings.Contains(st.Examples[0].Reason, tc.want) {
					t.Fatalf("stats %+v, want %d skipped, the first at byte %d: %q", st, n, HeaderSize+BlockSize, tc.want)
				}
				return after.TotalAlloc - before.TotalAlloc, st.Skipped
			}
			// A bad block costs its message (about 100 bytes), never a
			// buffer sized by what its fields claim (64 KiB or more).
			few, _ := read(4)
			many, _ := read(1004)
			if per := (int64(many) - int64(few)) / 1000; per > 1024 {
				t.Fatalf("%d bytes allocated per bad block (4 blocks: %d, 1004: %d)", per, few, many)
			}
		})
	}
}
