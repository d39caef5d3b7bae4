package ascii

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

func columns(n int) []Column {
	c := make([]Column, n)
	for i := range c {
		c[i].Index = i
	}
	return c
}

func TestConfigLimits(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string // "" accepted
	}{
		{"huge index", Config{Rate: 100, Columns: []Column{{Index: 4_000_000_000}}}, "index 4000000000 out of 0..1023"},
		{"negative index", Config{Rate: 100, Columns: []Column{{Index: -1}}}, "index -1 out of 0..1023"},
		{"last index", Config{Rate: 100, Columns: []Column{{Index: MaxColumns - 1}}}, ""},
		{"too many columns", Config{Rate: 100, Columns: columns(MaxChannels + 1)}, "257 columns, more than the 256"},
		{"at the channel limit", Config{Rate: 100, Columns: columns(MaxChannels)}, ""},
		{"NaN rate", Config{Rate: math.NaN(), Columns: columns(1)}, "a sample rate is needed"},
		{"infinite rate", Config{Rate: math.Inf(1), Columns: columns(1)}, "sample rate +Inf is not finite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := NewParser("ser", tc.cfg)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("allocated %d bytes", got)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "ser") {
				t.Fatalf("err = %v, want it to name ser and say %q", err, tc.want)
			}
		})
	}
}

// TestLongLine feeds a run of bytes without a newline far past MaxLine:
// it is skipped and counted once, with its offset, its tail is not taken
// for a sample, the buffer does not grow with it, and the next line
// decodes.
func TestLongLine(t *testing.T) {
	p, err := NewParser("ser", Config{Rate: 10, Columns: columns(1)})
	if err != nil {
		t.Fatal(err)
	}
	junk := []byte(strings.Repeat("7", 1000))
	vals := make([]float64, 1)
	var errs []error
	var got []float64
	drain := func() {
		for {
			_, err := p.Decode(vals)
			switch {
			case errors.Is(err, serial.ErrNeedMore):
				return
			case err != nil:
				errs = append(errs, err)
			default:
				got = append(got, vals[0])
			}
		}
	}
	p.Feed([]byte("1\n"))
	drain()
	for range 64 { // 64 000 bytes, 15 × MaxLine
		p.Feed(junk)
		drain()
		if n := cap(p.in.Buf); n > 4*MaxLine {
			t.Fatalf("buffer grew to %d bytes", n)
		}
	}
	p.Feed([]byte("\n5\n"))
	drain()
	var le *pipeline.LineError
	if len(errs) != 1 || !errors.As(errs[0], &le) || le.Offset != 2 || !strings.Contains(le.Reason, "no line end within 4096 bytes") {
		t.Fatalf("errors %v, want one: the long line at byte 2", errs)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 5 || p.TooLong != 1 {
		t.Fatalf("samples %v, too long %d; want [1 5] and 1", got, p.TooLong)
	}
}
