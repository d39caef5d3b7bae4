// Package cyton decodes the OpenBCI Cyton's binary stream: 33-byte packets
// at 250 Hz, each with a header 0xA0, a sample counter (0–255, wrapping),
// eight 24-bit big-endian two's complement ADS1299 channels, six aux bytes
// and a footer 0xCn. It resynchronises after garbage, counts counter gaps
// as lost samples, and registers the format "openbci-cyton" with package
// decode so a raw capture can be replayed.
//
// Scale (OpenBCI "Cyton Data Format"): µV = count × 4.5 V / gain /
// (2^23 − 1) × 10^6 with gain 24 by default; accelerometer g = count ×
// 0.002 / 16. EXG channels reach the pipeline in mV.
//
// The accelerometer updates at 25 Hz: with footer 0xC0 about nine packets
// in ten carry zeros. By default those packets hold NaN (no sample) on
// the accel channels, whose RateHz is 25; with Config.AccelHold the last
// triple is repeated on every packet (RateHz 250), as the OpenBCI GUI does.
// Time-stamped footers 0xC3/0xC4 carry one axis per packet (X, Y, Z on
// counters ending in 7, 8, 9) and the board's millisecond clock in bytes
// 28–31 (not used for timing); 0xC1, 0xC2, 0xC5 and 0xC6 carry no
// accelerometer data.
package cyton

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/capture"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// Protocol constants.
const (
	Name       = "openbci-cyton"
	PacketSize = 33
	Header     = 0xA0
	Rate       = 250.0
	Channels   = 8
	// DefaultGain is the ADS1299 gain the firmware sets by default.
	DefaultGain = 24.0
	// AccelScale is g per accelerometer count.
	AccelScale = 0.002 / 16
)

// Commands understood by the board.
const (
	CmdReset = 'v' // soft reset; the board answers with a banner ending "$$$"
	CmdStart = 'b' // start streaming
	CmdStop  = 's' // stop streaming
)

// MicrovoltsPerCount returns the EXG scale for an ADS1299 gain.
func MicrovoltsPerCount(gain float64) float64 {
	if gain <= 0 {
		gain = DefaultGain
	}
	return 4.5 / gain / float64(1<<23-1) * 1e6
}

// Config adjusts the decoder.
type Config struct {
	// Gain is the ADS1299 gain (default 24).
	Gain float64
	// AccelHold repeats the last accelerometer triple on every packet
	// instead of NaN between updates.
	AccelHold bool
}

// Parser is a Cyton stream parser; it implements serial.Decoder.
type Parser struct {
	name     string
	cfg      Config
	scale    float64 // mV per count
	chans    []pipeline.Channel
	in       capture.Buffer // bytes fed and not yet decoded
	synced   bool
	last     int // last sample counter, -1 unknown
	acc      [3]float64
	accSeen  bool
	skipFrom int64
	skipped  int64

	// GarbageBytes counts bytes skipped while resynchronising.
	GarbageBytes int64
}

// NewParser returns a Parser; name appears in errors.
func NewParser(name string, cfg Config) *Parser {
	if cfg.Gain <= 0 {
		cfg.Gain = DefaultGain
	}
	p := &Parser{name: name, cfg: cfg, scale: MicrovoltsPerCount(cfg.Gain) * 1e-3, last: -1, skipFrom: -1}
	accRate := Rate / 10
	if cfg.AccelHold {
		accRate = Rate
	}
	for i := range Channels {
		p.chans = append(p.chans, pipeline.Channel{
			Name: fmt.Sprintf("exg%d", i), Kind: pipeline.KindEMG, Unit: "mV", SourceUnit: "uV", RateHz: Rate,
		})
	}
	for i, ax := range []byte{'x', 'y', 'z'} {
		_ = i
		p.chans = append(p.chans, pipeline.Channel{
			Name: "acc_" + string(ax), Kind: pipeline.KindAcc, Unit: "g", SourceUnit: "g", RateHz: accRate, Axis: ax, Group: "acc",
		})
	}
	p.acc = [3]float64{math.NaN(), math.NaN(), math.NaN()}
	return p
}

// Channels implements serial.Decoder: exg0..exg7 (EMG, mV), acc_x..acc_z (g).
func (p *Parser) Channels() []pipeline.Channel { return p.chans }

// Rate implements serial.Decoder.
func (p *Parser) Rate() float64 { return Rate }

// Feed implements serial.Decoder.
func (p *Parser) Feed(b []byte) { p.in.Feed(b) }

// Reset implements serial.Decoder.
func (p *Parser) Reset() {
	p.in.Drop()
	p.synced, p.last, p.accSeen = false, -1, false
	p.acc = [3]float64{math.NaN(), math.NaN(), math.NaN()}
	p.skipFrom, p.skipped = -1, 0
}

// Decode implements serial.Decoder.
func (p *Parser) Decode(vals []float64) (serial.Sample, error) {
	for {
		av := p.in.Buf[p.in.R:]
		if len(av) < PacketSize {
			return serial.Sample{}, serial.ErrNeedMore
		}
		if av[0] == Header && av[32]&0xF0 == 0xC0 && p.confirmed(av) {
			if p.skipped > 0 {
				return serial.Sample{}, p.flushSkip()
			}
			p.synced = true
			s := p.decodePacket(av[:PacketSize], vals)
			p.in.R += PacketSize
			return s, nil
		}
		if len(av) < PacketSize+1 && av[0] == Header && av[32]&0xF0 == 0xC0 {
			// A candidate that needs the next header to be confirmed.
			return serial.Sample{}, serial.ErrNeedMore
		}
		if p.skipped == 0 {
			p.skipFrom = p.in.Base + int64(p.in.R)
		}
		p.synced = false
		p.skipped++
		p.GarbageBytes++
		p.in.R++
	}
}

// confirmed decides whether a candidate packet is real: its counter
// follows the last one, or another header follows it (so a counter gap,
// or garbage that happens to start with 0xA0, costs one packet of delay).
func (p *Parser) confirmed(av []byte) bool {
	if p.last >= 0 && av[1] == byte(p.last+1) {
		return true
	}
	return len(av) > PacketSize && av[PacketSize] == Header
}

func (p *Parser) flushSkip() error {
	e := &pipeline.LineError{File: p.name, Line: 0, Offset: p.skipFrom,
		Reason: fmt.Sprintf("skipped %d bytes that are not Cyton packets", p.skipped)}
	p.skipped, p.skipFrom = 0, -1
	return e
}

func (p *Parser) decodePacket(pk []byte, vals []float64) serial.Sample {
	var s serial.Sample
	c := int(pk[1])
	if p.last >= 0 {
		s.Lost = int64((c - p.last - 1) & 0xFF)
	}
	p.last = c
	for i := range Channels {
		o := 2 + 3*i
		v := int32(uint32(pk[o])<<24|uint32(pk[o+1])<<16|uint32(pk[o+2])<<8) >> 8
		vals[i] = float64(v) * p.scale
	}
	ax := vals[Channels : Channels+3]
	if !p.cfg.AccelHold {
		ax[0], ax[1], ax[2] = math.NaN(), math.NaN(), math.NaN()
	}
	switch pk[32] {
	case 0xC0:
		x, y, z := int16(uint16(pk[26])<<8|uint16(pk[27])), int16(uint16(pk[28])<<8|uint16(pk[29])), int16(uint16(pk[30])<<8|uint16(pk[31]))
		if x != 0 || y != 0 || z != 0 {
			p.acc = [3]float64{float64(x) * AccelScale, float64(y) * AccelScale, float64(z) * AccelScale}
			ax[0], ax[1], ax[2] = p.acc[0], p.acc[1], p.acc[2]
		}
	case 0xC3, 0xC4:
		if k := c % 10; k >= 7 {
			v := float64(int16(uint16(pk[26])<<8|uint16(pk[27]))) * AccelScale
			p.acc[k-7] = v
			ax[k-7] = v
		}
	}
	if p.cfg.AccelHold {
		ax[0], ax[1], ax[2] = p.acc[0], p.acc[1], p.acc[2]
	}
	return s
}

// AppendPacket appends one packet to dst: counter, eight 24-bit channel
// counts (clamped), three accelerometer counts and the footer.
func AppendPacket(dst []byte, counter byte, exg *[Channels]int32, acc [3]int16, footer byte) []byte {
	dst = append(dst, Header, counter)
	for _, v := range exg {
		v = min(max(v, -(1<<23)), 1<<23-1)
		dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
	}
	for _, a := range acc {
		dst = append(dst, byte(uint16(a)>>8), byte(a))
	}
	return append(dst, footer)
}

// Counts converts µV to the nearest channel count at gain.
func Counts(microvolts, gain float64) int32 {
	c := math.Round(microvolts / MicrovoltsPerCount(gain))
	return int32(min(max(c, -(1<<23)), 1<<23-1))
}

// AccelCounts converts g to the nearest accelerometer count.
func AccelCounts(g float64) int16 {
	c := math.Round(g / AccelScale)
	return int16(min(max(c, math.MinInt16), math.MaxInt16))
}

// Banner is what the stand-in board prints after CmdReset.
const Banner = "OpenBCI V3 8-16 channel\nADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$"

// Start runs the start sequence on a freshly opened port: stop any
// stream, drain, soft-reset and wait up to timeout for the banner's "$$$",
// then start streaming. It returns the banner text.
func Start(ctx context.Context, rw io.ReadWriter, timeout time.Duration) (string, error) {
	if _, err := rw.Write([]byte{CmdStop}); err != nil {
		return "", fmt.Errorf("cyton: stop: %w", err)
	}
	drain(ctx, rw, 300*time.Millisecond)
	if _, err := rw.Write([]byte{CmdReset}); err != nil {
		return "", fmt.Errorf("cyton: reset: %w", err)
	}
	var sb strings.Builder
	buf := make([]byte, 256)
	deadline := time.Now().Add(timeout)
	for !strings.Contains(sb.String(), "$$$") {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return sb.String(), fmt.Errorf("cyton: no \"$$$\" after reset within %v (got %q)", timeout, tail(sb.String()))
		}
		n, err := rw.Read(buf)
		sb.Write(buf[:n])
		if err != nil && !errors.Is(err, io.EOF) {
			return sb.String(), fmt.Errorf("cyton: read banner: %w", err)
		}
	}
	if _, err := rw.Write([]byte{CmdStart}); err != nil {
		return sb.String(), fmt.Errorf("cyton: start: %w", err)
	}
	return strings.TrimSpace(strings.ReplaceAll(sb.String(), "\r", "")), nil
}

// drain reads and drops bytes until the line is quiet (a read returns
// nothing) or d passes.
func drain(ctx context.Context, r io.Reader, d time.Duration) {
	buf := make([]byte, 512)
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		if n, _ := r.Read(buf); n == 0 {
			return
		}
	}
}

func tail(s string) string {
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}

func init() {
	decode.Register(decode.Format{
		Name:  Name,
		Sniff: func([]byte, string) int { return 0 }, // binary; only by --format
		Open: func(r io.Reader, opts decode.Options) (pipeline.Source, error) {
			return capture.Open(r, NewParser(opts.Name, Config{}), Name, opts), nil
		},
	})
}

// StartTimeout bounds the wait for the banner after a reset.
const StartTimeout = 5 * time.Second

// Dial connects to a Cyton (through its dongle) at cc.Name and returns a
// live Source and the Conn under it; close the Conn when done. Every
// (re)connection runs Start; Close sends the stop command.
func Dial(ctx context.Context, cc serial.ConnConfig, cfg Config, so serial.StreamOptions) (*serial.Stream, *serial.Conn) {
	log := cc.Log
	cc.OnConnect = func(ctx context.Context, p serial.Port) error {
		banner, err := Start(ctx, p, StartTimeout)
		if err == nil && log != nil {
			log.Info("cyton: board ready", "port", cc.Name, "banner", strings.ReplaceAll(banner, "\n", " | "))
		}
		return err
	}
	cc.OnClose = func(p serial.Port) { p.Write([]byte{CmdStop}) }
	conn := serial.Dial(ctx, cc)
	if so.Name == "" {
		so.Name = cc.Name
	}
	return capture.Live(conn, NewParser(so.Name, cfg), Name, so, log), conn
}
