package csv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
)

// header joins "time" and n names made by name(i) with sep.
func header(n int, sep string, name func(i int) string) string {
	f := []string{"time"}
	for i := range n {
		f = append(f, name(i))
	}
	return strings.Join(f, sep) + "\n"
}

func TestSizeLimits(t *testing.T) {
	emg := func(i int) string { return fmt.Sprintf("emg_%d", i) }
	junk := func(i int) string { return fmt.Sprintf("note%d", i) }
	mixed := func(i int) string {
		if i < MaxChannels {
			return emg(i)
		}
		return junk(i)
	}
	cases := []struct {
		name  string
		head  string
		want  []string // substrings of the error; none: accepted
		chans int
	}{
		{"header line too long", "time,emg," + strings.Repeat("x", MaxLine) + "\n", []string{"big.csv:1", "header line longer than 1048576 bytes"}, 0},
		{"too many columns", header(MaxColumns+5, ",", junk), []string{"big.csv:1", "header has 1030 columns, more than the 1024"}, 0},
		{"too many space-separated columns", header(MaxColumns+5, " ", junk), []string{"big.csv:1", "more than the 1024"}, 0},
		{"too many value columns", header(MaxChannels+1, ",", emg), []string{"big.csv:1", "257 value columns, more than the 256 channels"}, 0},
		{"wide header without a usable column", header(MaxColumns-1, ",", junk), []string{"big.csv:1", `"note30", ... 992 more`}, 0},
		{"one huge name", strings.Repeat("n", 100_000) + "\n", []string{"big.csv:1", `... (100000 bytes)`, "--map NAME=emg"}, 0},
		{"at both limits", header(MaxColumns-1, ",", mixed), nil, MaxChannels},
		{"at both limits, trailing separator", strings.TrimSuffix(header(MaxColumns-1, ";", mixed), "\n") + ";\n", nil, MaxChannels},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.head + "1700000000" + strings.Repeat(",1", strings.Count(tc.head, ",")) + "\n"
			if strings.Contains(tc.head, ";") {
				in = tc.head + "1700000000" + strings.Repeat(";1", strings.Count(tc.head, ";")) + "\n"
			}
			rd, err := New(strings.NewReader(in), decode.Options{Name: "big.csv"})
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if n := len(rd.Meta().Channels); n != tc.chans {
					t.Fatalf("%d channels, want %d", n, tc.chans)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if len(err.Error()) > 4096 {
				t.Errorf("error message of %d bytes: it should quote a few names, not all", len(err.Error()))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
