package serial_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode/ascii"
	"github.com/twitchd/twitchd/internal/decode/bitalino"
	"github.com/twitchd/twitchd/internal/decode/cyton"
	"github.com/twitchd/twitchd/internal/source/serial"
)

// FuzzParseConfig checks that no configuration text panics the parser,
// that every rejection names the file, and that every accepted device
// validates once a port and protocol are supplied, with all numbers finite
// and inside the documented limits.
func FuzzParseConfig(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "devices.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add(strings.Replace(string(example), "index = 7", "index = 99999999999", 1))
	f.Add(strings.Replace(string(example), "rate = 1000", "rate = nan", 1))
	f.Add(strings.Replace(string(example), "cmax = 38", "cmax = inf", 1))
	f.Add(strings.Replace(string(example), `name = "bitalino"`, `name = "cyton"`, 1))
	f.Add(string(example[:len(example)/2]))
	f.Add("[[device]]\n[[device.channel]]\nindex = -1\n")
	f.Add("[[device]]\nbaud = 1e99\n")
	f.Add("[[device]]\nprotocol = \"ascii\"\nrate = 1e99\n")
	f.Add("[[device]]\nport = \"/dev/ttyUSB0\"\n[[device.channel]]\nlabel = \"emg\"\nvref = -inf\n")
	f.Add("device = 1\n")
	f.Add("[device]\nname = \"x\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := serial.ParseConfig("fuzz.toml", text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: fuzz.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(c.Devices) == 0 {
			t.Fatal("accepted a config without devices")
		}
		for i, d := range c.Devices {
			if d.Port == "" {
				d.Port = "/dev/ttyUSB0"
			}
			if d.Protocol == "" {
				d.Protocol = serial.ProtocolNames()[0]
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("device %d accepted but does not validate: %v", i+1, err)
			}
			var rate, gain float64
			var chans []serial.Channel
			switch s := d.Settings.(type) {
			case *ascii.Settings:
				rate, chans = s.Rate, s.Channels
			case *bitalino.Settings:
				rate, chans = s.Rate, s.Channels
			case *cyton.Settings:
				gain, chans = s.Gain, s.Channels
			default:
				t.Fatalf("device %d: settings %T", i+1, d.Settings)
			}
			if !(rate >= 0 && rate <= serial.MaxRate) || d.Baud < 0 || d.Baud > serial.MaxBaud || math.IsNaN(gain) || math.IsInf(gain, 0) {
				t.Fatalf("device %d: rate %g baud %d gain %g out of limits", i+1, rate, d.Baud, gain)
			}
			for j, ch := range chans {
				if ch.Index != nil && (*ch.Index < 0 || *ch.Index > serial.MaxChannelIndex) {
					t.Fatalf("device %d channel %d: index %d", i+1, j+1, *ch.Index)
				}
				for _, x := range []float64{ch.VRef, ch.Gain, ch.Offset, ch.Scale, ch.Cmin, ch.Cmax} {
					if math.IsNaN(x) || math.IsInf(x, 0) {
						t.Fatalf("device %d channel %d: non-finite number %+v", i+1, j+1, ch)
					}
				}
			}
			if d.Name != "" {
				got, err := c.Find(d.Name)
				if err != nil || got.Name != d.Name {
					t.Fatalf("Find(%q) = %+v, %v", d.Name, got.Name, err)
				}
			}
		}
	})
}
