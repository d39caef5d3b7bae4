package serial_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode/ascii"
	"github.com/twitchd/twitchd/internal/decode/bitalino"
	"github.com/twitchd/twitchd/internal/decode/cyton"
	"github.com/twitchd/twitchd/internal/source/serial"
)

func TestParseConfig(t *testing.T) {
	good := `
[[device]]
name = "arduino"
port = "/dev/ttyACM0"
protocol = "ascii"
rate = 500
counter = true
  [[device.channel]]
  label = "emg"
  kind = "emg"
  unit = "V"
  adc_bits = 10
  vref = 5.0
  offset = 2.5
  gain = 1000
  [[device.channel]]
  index = 0
  kind = "acc"
  axis = "x"
  scale = 0.00006103515625

[[device]]
name = "cyton"
port = "/dev/ttyUSB0"
protocol = "openbci-cyton"
accel_hold = true
`
	c, err := serial.ParseConfig("dev.toml", good)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Find("arduino")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := d.Settings.(*ascii.Settings)
	if !ok || a.Rate != 500 || !a.Counter || len(a.Channels) != 2 || a.Channels[0].ADCBits != 10 || *a.Channels[1].Index != 0 || a.Channels[1].Axis != "x" {
		t.Fatalf("parsed %+v: %+v", d, d.Settings)
	}
	if c, _ := c.Find("cyton"); !c.Settings.(*cyton.Settings).AccelHold {
		t.Fatalf("cyton settings %+v", c.Settings)
	}
	if _, err := c.Find(""); err == nil || !strings.Contains(err.Error(), "--device") {
		t.Fatalf("ambiguous Find: %v", err)
	}
	cases := []struct {
		name, text, want string
	}{
		{"syntax", "[[device]]\nname = \"x\"\nport = \n", "dev.toml:3"},
		{"unknown key", "[[device]]\nprotocl = \"ascii\"\n", "unknown keys: device.protocl"},
		{"unknown key of the protocol", "[[device]]\nprotocol = \"openbci-cyton\"\nrate = 250\n", "unknown keys: device.rate"},
		{"protocol key without protocol", "[[device]]\nrate = 250\n", "give protocol = ... in the same [[device]]"},
		{"unknown protocol", "[[device]]\nprotocol = \"ganglion\"\n", `unknown protocol "ganglion" (want ascii, bitalino, openbci-cyton)`},
		{"no devices", "title = 1\n", "unknown keys"},
		{"empty", "", "no [[device]]"},
		{"bad kind", "[[device]]\nprotocol = \"ascii\"\n[[device.channel]]\nindex = 1\nkind = \"ecg\"\n", `channel 1: unknown kind "ecg"`},
		{"no index or label", "[[device]]\nprotocol = \"ascii\"\n[[device.channel]]\nkind = \"emg\"\n", "needs index or label"},
		{"bad axis", "[[device]]\nprotocol = \"ascii\"\n[[device.channel]]\nlabel = \"a\"\naxis = \"w\"\n", `axis "w"`},
		{"huge index", "[[device]]\nprotocol = \"ascii\"\n[[device.channel]]\nindex = 4000000000\n", "index 4000000000 out of 0..1023"},
		{"negative index", "[[device]]\nprotocol = \"ascii\"\n[[device.channel]]\nindex = -1\n", "index -1 out of 0..1023"},
		{"nan rate", "[[device]]\nprotocol = \"ascii\"\nrate = nan\n", "rate NaN out of 0..100000 Hz"},
		{"huge rate", "[[device]]\nprotocol = \"bitalino\"\nrate = 1e9\n", "rate 1e+09 out of"},
		{"negative baud", "[[device]]\nbaud = -9600\n", "baud -9600 out of 0..12000000"},
		{"inf scale", "[[device]]\nprotocol = \"ascii\"\n[[device.channel]]\nlabel = \"a\"\nscale = inf\n", "channel 1: scale = +Inf is not a finite number"},
		{"nan device gain", "[[device]]\nprotocol = \"openbci-cyton\"\ngain = nan\n", "gain NaN"},
		{"cmax below cmin", "[[device]]\nprotocol = \"bitalino\"\n[[device.channel]]\nindex = 4\ncmin = 40\ncmax = 30\n", "cmax 30 not above cmin 40"},
		{"cyton index", "[[device]]\nprotocol = \"openbci-cyton\"\n[[device.channel]]\nindex = 11\n", "needs index 0..10"},
		{"cyton accelerometer as emg", "[[device]]\nprotocol = \"openbci-cyton\"\n[[device.channel]]\nindex = 9\nkind = \"emg\"\n", "is the accelerometer"},
		{"bitalino index", "[[device]]\nprotocol = \"bitalino\"\n[[device.channel]]\nindex = 6\n", "needs index 0..5"},
		{"ascii unit", "[[device]]\nprotocol = \"ascii\"\n[[device.channel]]\nlabel = \"e\"\nkind = \"emg\"\nunit = \"furlong\"\n", "unknown EMG unit"},
		{"duplicate name", "[[device]]\nname = \"a\"\n[[device]]\nname = \"a\"\n", `devices 1 and 2 are both named "a"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := serial.ParseConfig("dev.toml", tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestValidateAndSizeLimit(t *testing.T) {
	d := serial.Device{Protocol: "ascii"}
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "no port") {
		t.Fatalf("validate without port: %v", err)
	}
	d = serial.Device{Port: "/dev/ttyUSB0"}
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "no protocol (--protocol or protocol = ...; one of ascii, bitalino, openbci-cyton)") {
		t.Fatalf("validate without protocol: %v", err)
	}
	path := filepath.Join(t.TempDir(), "big.toml")
	if err := os.WriteFile(path, []byte(strings.Repeat("#\n", serial.MaxConfigSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := serial.LoadConfig(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized config: %v", err)
	}
}

func TestExampleConfig(t *testing.T) {
	c, err := serial.LoadConfig(filepath.Join("testdata", "devices.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cyton": "openbci-cyton", "bitalino": "bitalino", "myoware": "ascii"}
	for name, proto := range want {
		d, err := c.Find(name)
		if err != nil {
			t.Fatal(err)
		}
		if d.Protocol != proto || d.Validate() != nil {
			t.Fatalf("%s: protocol %q, validate %v", name, d.Protocol, d.Validate())
		}
	}
	d, _ := c.Find("bitalino")
	b := d.Settings.(*bitalino.Settings)
	if len(b.Channels) != 2 || *b.Channels[1].Index != 4 || b.Channels[1].Cmax != 38 {
		t.Fatalf("bitalino channels %+v", b.Channels)
	}
}

// TestSet checks that flags override a device's protocol settings, and
// that a setting the protocol does not have is refused with its name.
func TestSet(t *testing.T) {
	c, err := serial.ParseConfig("dev.toml", "[[device]]\nport = \"/dev/ttyACM0\"\nprotocol = \"ascii\"\nrate = 500\n[[device.channel]]\nlabel = \"emg\"\nkind = \"emg\"\n")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.Find("")
	if err := d.Set("rate", 250.0); err != nil {
		t.Fatal(err)
	}
	if err := d.Set("counter", true); err != nil {
		t.Fatal(err)
	}
	a := d.Settings.(*ascii.Settings)
	if a.Rate != 250 || !a.Counter || len(a.Channels) != 1 {
		t.Fatalf("after Set: %+v (the file's channels must stay)", a)
	}
	if err := d.Set("gain", 24.0); err == nil || !strings.Contains(err.Error(), `protocol ascii has no setting "gain"`) {
		t.Fatalf("Set gain on ascii: %v", err)
	}
	if err := d.Set("rate", "fast"); err == nil || !strings.Contains(err.Error(), "rate") {
		t.Fatalf("Set rate to a string: %v", err)
	}
	// Settings read for one protocol are not silently used for another.
	d.Protocol = "bitalino"
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), `those of protocol "ascii", not "bitalino"`) {
		t.Fatalf("validate with another protocol's settings: %v", err)
	}
	// Without a file: the protocol's defaults, then the flags.
	d = serial.Device{Port: "/dev/rfcomm0", Protocol: "bitalino"}
	if err := d.Set("rate", 100.0); err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil || d.Settings.(*bitalino.Settings).Rate != 100 {
		t.Fatalf("validate %v, settings %+v", err, d.Settings)
	}
}
