package serial

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/twitchd/twitchd/pipeline"
)

// Limits on a device configuration: values past them are typos or hostile
// input, and would otherwise reach the decoders (an ascii index sizes a
// lookup table).
const (
	// MaxConfigSize bounds a device configuration file.
	MaxConfigSize = 1 << 20
	// MaxChannelIndex is the largest channel index (the 1024th value).
	MaxChannelIndex = 1023
	// MaxRate is the largest line or sample rate, in Hz.
	MaxRate = 100_000
	// MaxBaud is the largest line speed.
	MaxBaud = 12_000_000
)

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
//
// The keys name, port, baud, protocol, subject and site are common to
// every device; the others (rate, counter, gain, channel, ...) are the
// protocol's own settings and are read with the protocol that the same
// table names (see Protocol.NewSettings).
type Config struct {
	Devices []Device
	file    string
}

// Device configures one serial device.
type Device struct {
	Name     string `toml:"name"`
	Port     string `toml:"port"`
	Baud     int    `toml:"baud"`
	Protocol string `toml:"protocol"`
	Subject  string `toml:"subject"`
	Site     string `toml:"site"`
	// Settings are the protocol's own settings, as its NewSettings
	// returns them, filled from the table; nil until needed (Validate
	// fills in the protocol's defaults).
	Settings Settings `toml:"-"`
	// settingsOf is the protocol Settings were made for.
	settingsOf string
}

// Channel maps one column or input; protocols that let channels be
// named, typed or scaled hold a list of them in their settings.
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

// commonKeys lists the keys every device has, for error messages.
const commonKeys = "name, port, baud, protocol, subject and site"

// ParseConfig parses configuration text; name is used in errors.
func ParseConfig(name, text string) (*Config, error) {
	var raw struct {
		Devices []toml.Primitive `toml:"device"`
	}
	md, err := toml.Decode(text, &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config: %s:%d: %s", name, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	c := &Config{file: name}
	noProtocol := false
	for i, prim := range raw.Devices {
		d, err := DecodeDevice(md, prim)
		if err != nil {
			return nil, fmt.Errorf("config: %s: device %d (%s): %w", name, i+1, d.Name, err)
		}
		noProtocol = noProtocol || d.Protocol == ""
		c.Devices = append(c.Devices, d)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		hint := ""
		if noProtocol {
			hint = " (keys other than " + commonKeys + " belong to a protocol: give protocol = ... in the same [[device]])"
		}
		return nil, fmt.Errorf("config: %s: unknown keys: %s%s", name, strings.Join(keys, ", "), hint)
	}
	if len(c.Devices) == 0 {
		return nil, fmt.Errorf("config: %s: no [[device]] sections", name)
	}
	seen := make(map[string]int, len(c.Devices))
	for i := range c.Devices {
		d := &c.Devices[i]
		if err := d.check(); err != nil {
			return nil, fmt.Errorf("config: %s: device %d (%s): %w", name, i+1, d.Name, err)
		}
		if j, dup := seen[d.Name]; dup && d.Name != "" {
			return nil, fmt.Errorf("config: %s: devices %d and %d are both named %q", name, j+1, i+1, d.Name)
		}
		seen[d.Name] = i
	}
	return c, nil
}

// DecodeDevice decodes one device table of a TOML document (md, prim as
// toml.Decode gave them, e.g. one element of a []toml.Primitive): the
// common keys, then, when it names its protocol, the protocol's
// settings. Keys neither knows stay in md.Undecoded. ParseConfig uses it
// for [[device]] tables; a larger configuration file can too.
func DecodeDevice(md toml.MetaData, prim toml.Primitive) (Device, error) {
	var d Device
	if err := md.PrimitiveDecode(prim, &d); err != nil {
		return d, err
	}
	if d.Protocol == "" {
		return d, nil
	}
	s, err := d.settings()
	if err != nil {
		return d, err
	}
	return d, md.PrimitiveDecode(prim, s)
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

// settings returns d's protocol settings, making the protocol's defaults
// when there are none yet.
func (d *Device) settings() (Settings, error) {
	if d.Settings != nil {
		if d.settingsOf != "" && d.settingsOf != d.Protocol {
			return nil, fmt.Errorf("the settings given are those of protocol %q, not %q", d.settingsOf, d.Protocol)
		}
		return d.Settings, nil
	}
	p, err := LookupProtocol(d.Protocol)
	if err != nil {
		return nil, err
	}
	d.Settings, d.settingsOf = p.NewSettings(), p.Name
	return d.Settings, nil
}

// Set sets the protocol setting key (a TOML key of its settings, e.g.
// "rate") to value, as a command-line flag overrides the file. The
// protocol must be known.
func (d *Device) Set(key string, value any) error {
	s, err := d.settings()
	if err != nil {
		return err
	}
	text, err := toml.Marshal(map[string]any{key: value})
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	md, err := toml.Decode(string(text), s)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if len(md.Undecoded()) > 0 {
		return fmt.Errorf("protocol %s has no setting %q", d.Protocol, key)
	}
	return nil
}

// check validates what can be checked without flags (port and protocol
// may still come from the command line: see Validate).
func (d *Device) check() error {
	if d.Protocol != "" {
		if _, err := LookupProtocol(d.Protocol); err != nil {
			return err
		}
	}
	if d.Baud < 0 || d.Baud > MaxBaud {
		return fmt.Errorf("baud %d out of 0..%d", d.Baud, MaxBaud)
	}
	if d.Settings != nil {
		return d.Settings.Check()
	}
	return nil
}

// Validate checks a device once flags have been applied, and fills in
// its protocol's default settings when it has none.
func (d *Device) Validate() error {
	if d.Port == "" {
		return errors.New("no port (--port or port = ... in the config)")
	}
	if d.Protocol == "" {
		return fmt.Errorf("no protocol (--protocol or protocol = ...; one of %s)", strings.Join(ProtocolNames(), ", "))
	}
	if _, err := d.settings(); err != nil {
		return err
	}
	return d.check()
}

// CheckRate checks a line or sample rate setting: 0 (unset) to MaxRate Hz.
func CheckRate(rate float64) error {
	if !(rate >= 0 && rate <= MaxRate) {
		return fmt.Errorf("rate %g out of 0..%d Hz", rate, MaxRate)
	}
	return nil
}

// CheckGain checks a gain setting: finite and not negative.
func CheckGain(gain float64) error {
	if !finite(gain) || gain < 0 {
		return fmt.Errorf("gain %g: want a finite number, not negative", gain)
	}
	return nil
}

// CheckChannels checks what every channel mapping must satisfy whatever
// the protocol: a known kind, an index or a label, an index in range,
// finite numbers, cmax above cmin, adc_bits up to 32, axis x, y or z.
func CheckChannels(chs []Channel) error {
	for i, ch := range chs {
		switch ch.Kind {
		case "", "emg", "acc", "other":
		default:
			return fmt.Errorf("channel %d: unknown kind %q (want emg, acc or other)", i+1, ch.Kind)
		}
		if ch.Index == nil && ch.Label == "" {
			return fmt.Errorf("channel %d: needs index or label", i+1)
		}
		if ch.Index != nil && (*ch.Index < 0 || *ch.Index > MaxChannelIndex) {
			return fmt.Errorf("channel %d: index %d out of 0..%d", i+1, *ch.Index, MaxChannelIndex)
		}
		for _, v := range [...]struct {
			key string
			x   float64
		}{{"vref", ch.VRef}, {"gain", ch.Gain}, {"offset", ch.Offset}, {"scale", ch.Scale}, {"cmin", ch.Cmin}, {"cmax", ch.Cmax}} {
			if !finite(v.x) {
				return fmt.Errorf("channel %d: %s = %g is not a finite number", i+1, v.key, v.x)
			}
		}
		if (ch.Cmin != 0 || ch.Cmax != 0) && ch.Cmax <= ch.Cmin {
			return fmt.Errorf("channel %d: cmax %g not above cmin %g", i+1, ch.Cmax, ch.Cmin)
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

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// ParsedKind returns the channel's kind, KindOther when none is given.
func (ch Channel) ParsedKind() (pipeline.Kind, error) {
	if ch.Kind == "" {
		return pipeline.KindOther, nil
	}
	return pipeline.ParseKind(ch.Kind)
}
