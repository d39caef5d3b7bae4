package serial

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/twitchd/twitchd/pipeline"
)

// Protocol is a live device protocol. Each lives in its own package
// (internal/decode/cyton, bitalino, ascii) and registers itself from
// init, as file formats do with internal/decode, so that adding one is
// one package and one import line: no central list, switch or union of
// settings.
type Protocol struct {
	// Name is what --protocol and "protocol = ..." accept.
	Name string
	// NewSettings returns the protocol's own settings of one device, at
	// their defaults: a pointer to a struct whose toml tags name the keys
	// a [[device]] table may hold besides the common ones (see Device).
	NewSettings func() Settings
	// Dial connects to the device at cc.Name with settings s (as returned
	// by NewSettings) and returns the live Source and the Conn under it;
	// the caller closes the Conn when done.
	Dial func(ctx context.Context, cc ConnConfig, s Settings, so StreamOptions) (*Stream, *Conn, error)
	// StandIn returns an Encoder that plays a recording as such a device
	// with settings s would (internal/simulate/device uses it).
	StandIn func(s Settings) (Encoder, error)
}

// Settings are a protocol's own settings of one device.
type Settings interface {
	// Check reports the first setting that is out of range or does not
	// fit the protocol (a channel index the device does not have).
	Check() error
}

// Encoder turns one held sample of a recording into a device frame: the
// device side of a protocol, for stand-ins.
type Encoder interface {
	// Rate is the device's frame rate in Hz.
	Rate() float64
	// Begin maps the source's channels; it is called once.
	Begin(meta pipeline.Meta) error
	// Append encodes frame k with the source values vals.
	Append(dst []byte, k int64, vals []float64) []byte
	// Command handles one byte from the host; it may write a reply to
	// dst and returns whether streaming should start (1), stop (-1) or
	// stay as it is (0).
	Command(dst []byte, c byte) ([]byte, int)
	// Garbage returns bytes that are not a frame.
	Garbage(dst []byte, rng *rand.Rand) []byte
	// StreamsOnConnect says whether the device streams without a command.
	StreamsOnConnect() bool
	// KeepsStreaming says whether streaming survives a dropped connection.
	KeepsStreaming() bool
}

var (
	protoMu   sync.RWMutex
	protocols = map[string]Protocol{}
)

// Register adds a protocol. It panics on a duplicate or incomplete
// registration: that is a programming error.
func Register(p Protocol) {
	protoMu.Lock()
	defer protoMu.Unlock()
	if p.Name == "" || p.NewSettings == nil || p.Dial == nil || p.StandIn == nil {
		panic("serial: incomplete protocol registration: " + p.Name)
	}
	if _, dup := protocols[p.Name]; dup {
		panic("serial: protocol registered twice: " + p.Name)
	}
	protocols[p.Name] = p
}

// ProtocolNames lists the registered protocols, sorted.
func ProtocolNames() []string {
	protoMu.RLock()
	defer protoMu.RUnlock()
	names := make([]string, 0, len(protocols))
	for n := range protocols {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupProtocol returns the protocol registered under name.
func LookupProtocol(name string) (Protocol, error) {
	protoMu.RLock()
	p, ok := protocols[name]
	protoMu.RUnlock()
	if !ok {
		return Protocol{}, fmt.Errorf("unknown protocol %q (want %s)", name, strings.Join(ProtocolNames(), ", "))
	}
	return p, nil
}

// Dial connects to d with its protocol and returns the live Source and
// the Conn under it; close the Conn when done. d must be valid (Validate).
func (d *Device) Dial(ctx context.Context, so StreamOptions, log *slog.Logger) (*Stream, *Conn, error) {
	p, err := LookupProtocol(d.Protocol)
	if err != nil {
		return nil, nil, err
	}
	s, err := d.settings()
	if err != nil {
		return nil, nil, err
	}
	if so.Log == nil {
		so.Log = log
	}
	return p.Dial(ctx, ConnConfig{Name: d.Port, Baud: d.Baud, Log: log}, s, so)
}
