package serial

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// MaxConfigSize bounds a device configuration file.
const MaxConfigSize = 1 << 20

// Protocols lists the protocol names a device may use.
var Protocols = []string{"ascii", "bitalino", "openbci-cyton"}

// Config is a device configuration file (TOML): one or more devices.
//
//	[[device]]
//	name = "left calf"
//	port = "/dev/serial/by-id/usb-FTDI_FT231X_USB_UART_DM00XXXX-if00-port0"
//	protocol = "openbci-cyton"
//	subject = "p01"
//	site = "calf_left"
//
//	[[device]]
//	name = "arduino"
//	port = "/dev/ttyACM0"
//	baud = 115200
//	protocol = "ascii"
//	rate = 500
//	counter = true
//	  [[device.channel]]
//	  label = "emg"        # or index = 0 for the first plain value
//	  kind = "emg"
//	  unit = "V"
//	  adc_bits = 10
//	  vref = 5.0
//	  offset = 2.5
//	  gain = 1000
type Config struct {
	Devices []Device `toml:"device"`
	file    string
}

// Device configures one serial device.
type Device struct {
	Name     string  `toml:"name"`
	Port     string  `toml:"port"`
	Baud     int     `toml:"baud"`
	Protocol string  `toml:"protocol"`
	Subject  string  `toml:"subject"`
	Site     string  `toml:"site"`
	Rate     float64 `toml:"rate"`    // ascii: line rate; bitalino: 1, 10, 100 or 1000
	Counter  bool    `toml:"counter"` // ascii: lines start with a millisecond counter
	// Cyton settings.
	Gain      float64 `toml:"gain"`
	AccelHold bool    `toml:"accel_hold"`
	// Channels maps columns (ascii) or analog inputs (bitalino, index 0 =
	// A1) to kinds and units.
	Channels []Channel `toml:"channel"`
}

// Channel maps one column or input.
type Channel struct {
	Index   *int    `toml:"index"`
	Label   string  `toml:"label"`
	Name    string  `toml:"name"`
	Kind    string  `toml:"kind"`
	Unit    string  `toml:"unit"`
	ADCBits int     `toml:"adc_bits"`
	VRef    float64 `toml:"vref"`
	Gain    float64 `toml:"gain"`
	Offset  float64 `toml:"offset"`
	Scale   float64 `toml:"scale"`
	Axis    string  `toml:"axis"`
	Cmin    float64 `toml:"cmin"`
	Cmax    float64 `toml:"cmax"`
}

// LoadConfig reads and checks a configuration file. Unknown keys are
// errors (they are usually typos); errors name the file and, where the
// TOML parser knows it, the line.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("config: %s: larger than %d bytes", path, MaxConfigSize)
	}
	return ParseConfig(path, string(data))
}

// ParseConfig parses configuration text; name is used in errors.
func ParseConfig(name, text string) (*Config, error) {
	c := &Config{file: name}
	md, err := toml.Decode(text, c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config: %s:%d: %s", name, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("config: %s: unknown keys: %s", name, strings.Join(keys, ", "))
	}
	if len(c.Devices) == 0 {
		return nil, fmt.Errorf("config: %s: no [[device]] sections", name)
	}
	for i := range c.Devices {
		if err := c.Devices[i].check(); err != nil {
			return nil, fmt.Errorf("config: %s: device %d (%s): %w", name, i+1, c.Devices[i].Name, err)
		}
	}
	return c, nil
}

// Find returns the device named name, or the only device when name is empty.
func (c *Config) Find(name string) (Device, error) {
	if name == "" {
		if len(c.Devices) == 1 {
			return c.Devices[0], nil
		}
		return Device{}, fmt.Errorf("config: %s has %d devices: choose one with --device", c.file, len(c.Devices))
	}
	for _, d := range c.Devices {
		if d.Name == name {
			return d, nil
		}
	}
	return Device{}, fmt.Errorf("config: %s: no device named %q", c.file, name)
}

// check validates what can be checked without flags (port and protocol
// may still come from the command line: see Validate).
func (d *Device) check() error {
	if d.Protocol != "" && !knownProtocol(d.Protocol) {
		return fmt.Errorf("unknown protocol %q (want %s)", d.Protocol, strings.Join(Protocols, ", "))
	}
	if d.Baud < 0 || d.Rate < 0 {
		return errors.New("baud and rate must not be negative")
	}
	for i, ch := range d.Channels {
		switch ch.Kind {
		case "", "emg", "acc", "other":
		default:
			return fmt.Errorf("channel %d: unknown kind %q (want emg, acc or other)", i+1, ch.Kind)
		}
		if ch.Index == nil && ch.Label == "" {
			return fmt.Errorf("channel %d: needs index or label", i+1)
		}
		if ch.Index != nil && *ch.Index < 0 {
			return fmt.Errorf("channel %d: negative index", i+1)
		}
		if ch.ADCBits < 0 || ch.ADCBits > 32 {
			return fmt.Errorf("channel %d: adc_bits %d out of 0..32", i+1, ch.ADCBits)
		}
		switch ch.Axis {
		case "", "x", "y", "z":
		default:
			return fmt.Errorf("channel %d: axis %q (want x, y or z)", i+1, ch.Axis)
		}
		if ch.Gain < 0 {
			return fmt.Errorf("channel %d: negative gain", i+1)
		}
	}
	return nil
}

// Validate checks a device once flags have been applied.
func (d *Device) Validate() error {
	if d.Port == "" {
		return errors.New("no port (--port or port = ... in the config)")
	}
	if d.Protocol == "" {
		return fmt.Errorf("no protocol (--protocol or protocol = ...; one of %s)", strings.Join(Protocols, ", "))
	}
	return d.check()
}

func knownProtocol(p string) bool {
	for _, q := range Protocols {
		if p == q {
			return true
		}
	}
	return false
}
