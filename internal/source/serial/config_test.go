package serial

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	c, err := ParseConfig("dev.toml", good)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Find("arduino")
	if err != nil {
		t.Fatal(err)
	}
	if d.Rate != 500 || !d.Counter || len(d.Channels) != 2 || d.Channels[0].ADCBits != 10 || *d.Channels[1].Index != 0 || d.Channels[1].Axis != "x" {
		t.Fatalf("parsed %+v", d)
	}
	if _, err := c.Find(""); err == nil || !strings.Contains(err.Error(), "--device") {
		t.Fatalf("ambiguous Find: %v", err)
	}
	cases := []struct {
		name, text, want string
	}{
		{"syntax", "[[device]]\nname = \"x\"\nport = \n", "dev.toml:3"},
		{"unknown key", "[[device]]\nprotocl = \"ascii\"\n", "unknown keys: device.protocl"},
		{"unknown protocol", "[[device]]\nprotocol = \"ganglion\"\n", `unknown protocol "ganglion"`},
		{"no devices", "title = 1\n", "unknown keys"},
		{"empty", "", "no [[device]]"},
		{"bad kind", "[[device]]\n[[device.channel]]\nindex = 1\nkind = \"ecg\"\n", `channel 1: unknown kind "ecg"`},
		{"no index or label", "[[device]]\n[[device.channel]]\nkind = \"emg\"\n", "needs index or label"},
		{"bad axis", "[[device]]\n[[device.channel]]\nlabel = \"a\"\naxis = \"w\"\n", `axis "w"`},
		{"huge index", "[[device]]\n[[device.channel]]\nindex = 4000000000\n", "index 4000000000 out of 0..1023"},
		{"negative index", "[[device]]\n[[device.channel]]\nindex = -1\n", "index -1 out of 0..1023"},
		{"nan rate", "[[device]]\nrate = nan\n", "rate NaN out of 0..100000 Hz"},
		{"huge rate", "[[device]]\nrate = 1e9\n", "rate 1e+09 out of"},
		{"negative baud", "[[device]]\nbaud = -9600\n", "baud -9600 out of 0..12000000"},
		{"inf scale", "[[device]]\n[[device.channel]]\nlabel = \"a\"\nscale = inf\n", "channel 1: scale = +Inf is not a finite number"},
		{"nan device gain", "[[device]]\ngain = nan\n", "gain NaN"},
		{"cmax below cmin", "[[device]]\n[[device.channel]]\nindex = 4\ncmin = 40\ncmax = 30\n", "cmax 30 not above cmin 40"},
		{"duplicate name", "[[device]]\nname = \"a\"\n[[device]]\nname = \"a\"\n", `devices 1 and 2 are both named "a"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("dev.toml", tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestValidateAndSizeLimit(t *testing.T) {
	d := Device{Protocol: "ascii"}
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "no port") {
		t.Fatalf("validate without port: %v", err)
	}
	path := filepath.Join(t.TempDir(), "big.toml")
	if err := os.WriteFile(path, []byte(strings.Repeat("#\n", MaxConfigSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized config: %v", err)
	}
}

func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig(filepath.Join("testdata", "devices.toml"))
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
	if len(d.Channels) != 2 || *d.Channels[1].Index != 4 || d.Channels[1].Cmax != 38 {
		t.Fatalf("bitalino channels %+v", d.Channels)
	}
}
