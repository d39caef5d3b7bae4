package opensignals

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textline"
	"github.com/twitchd/twitchd/pipeline"
)

// wideHeader is an OpenSignals header for one PLUX device with n analog
// EMG columns A1..An at 16 bits.
func wideHeader(n int) string {
	cols, res, sens := []string{`"nSeq"`}, []string{"4"}, []string{}
	for i := 1; i <= n; i++ {
		cols = append(cols, fmt.Sprintf(`"A%d"`, i))
		res = append(res, "16")
		sens = append(sens, `"EMG"`)
	}
	return magic + "\n# {\"00:07:80:00:00:01\": {\"device\": \"channeller\", \"sampling rate\": 1000, \"date\": \"2020-1-1\", \"time\": \"0:0:0.0\"," +
		" \"column\": [" + strings.Join(cols, ", ") + "], \"label\": [" + strings.Join(cols[1:], ", ") + "]," +
		" \"sensor\": [" + strings.Join(sens, ", ") + "], \"resolution\": [" + strings.Join(res, ", ") + "]}}\n# EndOfHeader\n"
}

func TestSizeLimits(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		want  string // "" accepted
		line  int64
		isErr error
	}{
		{"JSON line too long", magic + "\n# {\"x\": \"" + strings.Repeat("a", MaxHeaderLine) + "\"}\n# EndOfHeader\n",
			"JSON header line longer than 1048576 bytes", 2, nil},
		{"too many columns", wideHeader(MaxColumns), "1025 columns, labels or sensors, more than the 1024", 2, nil},
		{"too many channels", wideHeader(MaxChannels + 1), "257 analog columns, more than the 256 channels", 2, nil},
		{"channel limit", wideHeader(MaxChannels), "", 0, nil},
		{"data line too long", wideHeader(2) + "0\t1\t2\n" + strings.Repeat("7", textline.BufferSize+1) + "\n", "line longer than 64 KiB", 5, pipeline.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(strings.NewReader(tc.in), decode.Options{Name: "w.txt", Strict: true}, Config{})
			if err == nil && tc.isErr != nil {
				_, err = readAll(t, d)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := len(d.Meta().Channels); n != MaxChannels {
					t.Fatalf("%d channels", n)
				}
				return
			}
			want := fmt.Sprintf("w.txt:%d: ", tc.line)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q at %q", err, tc.want, want)
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Fatalf("err = %v is not %v", err, tc.isErr)
			}
		})
	}
}
