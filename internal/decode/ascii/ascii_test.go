package ascii

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/testutil/sourcetest"
	"github.com/twitchd/twitchd/pipeline"
)

func run(t *testing.T, cfg Config, in string) (vals [][]float64, smps []serial.Sample, errs []error) {
	t.Helper()
	p, err := NewParser("ser", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Channels()); n != len(cfg.Columns) {
		t.Fatalf("%d channels for %d columns", n, len(cfg.Columns))
	}
	return sourcetest.DecodeAll(p, []byte(in))
}

func TestLines(t *testing.T) {
	two := []Column{{Index: 0, Kind: pipeline.KindEMG}, {Index: 1, Kind: pipeline.KindAcc, Axis: 'x'}}
	cases := []struct {
		name string
		cfg  Config
		in   string
		want [][]float64
		errs int
	}{
		{"commas", Config{Rate: 100, Columns: two}, "1.5,0.25\n2,-1\n", [][]float64{{1.5, 0.25}, {2, -1}}, 0},
		{"spaces tabs CRLF", Config{Rate: 100, Columns: two}, "1  2\r\n3\t4\r\n5, 6\r\n", [][]float64{{1, 2}, {3, 4}, {5, 6}}, 0},
		{"semicolons", Config{Rate: 100, Columns: two}, "7;8\n", [][]float64{{7, 8}}, 0},
		{"label pairs in any order", Config{Rate: 100, Columns: []Column{{Label: "emg", Kind: pipeline.KindEMG}, {Label: "ax", Kind: pipeline.KindAcc}}},
			"ax:0.5 emg:0.1 other:9\nemg:0.2,ax:0.6\n", [][]float64{{0.1, 0.5}, {0.2, 0.6}}, 0},
		{"text lines skipped", Config{Rate: 100, Columns: two}, "Starting sensor...\n1,2\nnan,3\n4\n5,6\n", [][]float64{{1, 2}, {5, 6}}, 3},
		{"empty lines ignored", Config{Rate: 100, Columns: two}, "\n\n1,2\n\n", [][]float64{{1, 2}}, 0},
		{"adc conversion", Config{Rate: 500, Columns: []Column{{Index: 0, Kind: pipeline.KindEMG, Unit: "V", ADCBits: 10, VRef: 5, Offset: 2.5, Gain: 1000}}},
			"512\n1023\n", [][]float64{{0}, {(1023*5.0/1024 - 2.5) / 1000 * 1000}}, 0},
		{"mpu6050 counts", Config{Rate: 100, Columns: []Column{{Index: 0, Kind: pipeline.KindAcc, Scale: 1.0 / 16384}}},
			"16384\n-8192\n", [][]float64{{1}, {-0.5}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vals, _, errs := run(t, c.cfg, c.in)
			if len(errs) != c.errs {
				t.Fatalf("errors %v, want %d", errs, c.errs)
			}
			if len(vals) != len(c.want) {
				t.Fatalf("values %v, want %v", vals, c.want)
			}
			for i := range vals {
				for j := range vals[i] {
					if math.Abs(vals[i][j]-c.want[i][j]) > 1e-12 {
						t.Fatalf("line %d col %d = %g, want %g", i, j, vals[i][j], c.want[i][j])
					}
				}
			}
		})
	}
}

func TestSkipPosition(t *testing.T) {
	_, _, errs := run(t, Config{Rate: 10, Columns: []Column{{Index: 0}}}, "1\nbad\n2\n")
	var le *pipeline.LineError
	if len(errs) != 1 || !errors.As(errs[0], &le) || le.Line != 2 || le.Offset != 2 {
		t.Fatalf("errors %v, want one at line 2, byte 2", errs)
	}
	if !strings.Contains(errs[0].Error(), `ser:2: value "bad" is not a number`) {
		t.Fatalf("message %q", errs[0])
	}
}

func TestCounter(t *testing.T) {
	cfg := Config{Rate: 100, Counter: true, Columns: []Column{{Index: 0}}}
	// 10 ms period: 1000, 1010, (1020, 1030 lost), 1040, then a reset to 5.
	vals, smps, errs := run(t, cfg, "1000 1\n1010,2\n1040\t3\n5 4\n15 5\n")
	if len(errs) != 0 || len(vals) != 5 {
		t.Fatalf("values %v errors %v", vals, errs)
	}
	wantDev := []int64{0, 10e6, 40e6, 50e6, 60e6}
	for i, s := range smps {
		if !s.HasDevice || s.Device != wantDev[i] {
			t.Fatalf("sample %d device time %d, want %d", i, s.Device, wantDev[i])
		}
	}
	if smps[2].Lost != 2 || !smps[3].Reset {
		t.Fatalf("lost %d reset %v, want 2 and a reset", smps[2].Lost, smps[3].Reset)
	}
}

func TestInfer(t *testing.T) {
	cols := Infer("123\temg:0.1\taccx:1\tay:0.5\tfoo:3", true)
	if len(cols) != 4 || cols[0].Kind != pipeline.KindEMG || cols[1].Kind != pipeline.KindAcc || cols[1].Axis != 'x' ||
		cols[2].Axis != 'y' || cols[3].Kind != pipeline.KindOther {
		t.Fatalf("inferred %+v", cols)
	}
	if cols := Infer("1,2,3", false); len(cols) != 3 || cols[2].Index != 2 {
		t.Fatalf("plain inferred %+v", cols)
	}
}

func TestRegisteredReplay(t *testing.T) {
	in := "emg:0.5\taccx:0.1\nemg:0.25\taccx:0.2\nemg:0\taccx:0.3\n"
	f, err := decode.Detect([]byte(in), "log.txt")
	if err != nil || f.Name != Name {
		t.Fatalf("detect: %v %v", f.Name, err)
	}
	start := time.Unix(1000, 0)
	src, err := f.Open(strings.NewReader(in), decode.Options{Name: "log.txt", Rate: 2, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch(2, 10)
	if err := src.Next(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 || b.Frames[2].Values[0] != 0 || b.Frames[1].Values[1] != 0.2 || b.Frames[2].Time != start.Add(time.Second).UnixNano() {
		t.Fatalf("frames %+v", b.Frames)
	}
}

func FuzzASCII(f *testing.F) {
	f.Add("1,2\n3 4\r\nx:1 y:2\n")
	f.Add("99999999999999999999 1e400 -0 :::\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := NewParser("fuzz", Config{Rate: 50, Counter: len(in)%2 == 0, Columns: []Column{{Index: 0}, {Label: "y", Kind: pipeline.KindAcc}}})
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]float64, 2)
		for i := 0; i < len(in); i += 3 {
			p.Feed([]byte(in[i:min(i+3, len(in))]))
			for {
				if _, err := p.Decode(vals); errors.Is(err, serial.ErrNeedMore) {
					break
				}
			}
		}
	})
}

func BenchmarkParser(b *testing.B) {
	cfg := Config{Rate: 500, Counter: true, Columns: []Column{{Label: "emg", Kind: pipeline.KindEMG}, {Label: "ax", Kind: pipeline.KindAcc}, {Label: "ay", Kind: pipeline.KindAcc}, {Label: "az", Kind: pipeline.KindAcc}}}
	p, _ := NewParser("bench", cfg)
	var sb strings.Builder
	const n = 1000
	for k := range n {
		sb.WriteString(strings.NewReplacer("K", string(rune('0'+k%10))).Replace("12345K\temg:0.01K\tax:0.12K\tay:-0.98K\taz:0.05K\r\n"))
	}
	in := []byte(sb.String())
	sourcetest.BenchDecoder(b, p, in, n)
}
