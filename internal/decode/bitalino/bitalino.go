// Package bitalino decodes the BITalino (r)evolution's live-mode frames
// (reference: BITalinoWorld/cpp-api bitalino.cpp) and registers the format
// "bitalino" with package decode so a raw capture can be replayed.
//
// A frame for N analog channels is N+2 bytes, plus one when N is 3, 4 or
// 5. Its last byte holds a 4-bit sequence number (high nibble) and a CRC4
// (low nibble) over the whole frame with the CRC nibble taken as zero; the
// byte before holds the four digital inputs in its high nibble. A1–A4 are
// 10-bit, A5–A6 6-bit. On a bad CRC the parser shifts one byte and tries
// again; sequence gaps count as lost samples.
//
// Values are converted with the makers' transfer functions: EMG mV =
// (ADC / 2^n − 0.5) × 3.3 / 1009 × 1000, ACC g = 2 (ADC − Cmin) / (Cmax −
// Cmin) − 1 with per-device calibration (defaults 400 and 608 for 10-bit
// channels, scaled down by 16 on 6-bit ones).
package bitalino

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
	Name       = "bitalino"
	CmdStop    = 0x00
	CmdVersion = 0x07
	VCC        = 3.3
	EMGGain    = 1009.0
	// Default accelerometer calibration for 10-bit channels.
	DefaultCmin = 400.0
	DefaultCmax = 608.0
)

// RateCommand returns the byte that sets rate (1, 10, 100 or 1000 Hz).
func RateCommand(rate int) (byte, error) {
	switch rate {
	case 1:
		return 0x03, nil
	case 10:
		return 0x43, nil
	case 100:
		return 0x83, nil
	case 1000:
		return 0xC3, nil
	}
	return 0, fmt.Errorf("bitalino: rate %d Hz not supported (1, 10, 100 or 1000)", rate)
}

// RateFromCommand is the inverse of RateCommand; ok is false for other bytes.
func RateFromCommand(b byte) (rate int, ok bool) {
	if b&0x3F != 0x03 {
		return 0, false
	}
	return [4]int{1, 10, 100, 1000}[b>>6], true
}

// StartCommand returns the live-mode start byte for a channel mask (bit i = A(i+1)).
func StartCommand(mask byte) byte { return (mask&0x3F)<<2 | 0x01 }

// FrameSize returns the frame length for n analog channels (1..6).
func FrameSize(n int) int {
	s := n + 2
	if n >= 3 && n <= 5 {
		s++
	}
	return s
}

var crcTable = [16]byte{0, 3, 6, 5, 12, 15, 10, 9, 11, 8, 13, 14, 7, 4, 1, 2}

// CRC4 computes the frame check over f with the last byte's low nibble
// taken as zero, as the reference checkCRC4 does.
func CRC4(f []byte) byte {
	var crc byte
	for _, b := range f[:len(f)-1] {
		crc = crcTable[crc] ^ (b >> 4)
		crc = crcTable[crc] ^ (b & 0x0F)
	}
	crc = crcTable[crc] ^ (f[len(f)-1] >> 4)
	return crcTable[crc]
}

// Sensor says what is wired to an analog channel.
type Sensor struct {
	Kind pipeline.Kind // KindEMG, KindAcc or KindOther (raw ADC)
	Name string        // channel name; default "A1".."A6"
	Axis byte          // 'x', 'y' or 'z' for an accelerometer axis
	// Cmin and Cmax calibrate an accelerometer channel (0: defaults).
	Cmin, Cmax float64
}

// Config selects the channels, their sensors and the rate.
type Config struct {
	// Rate is 1, 10, 100 or 1000 Hz (default 1000).
	Rate int
	// Mask selects analog channels: bit i is A(i+1) (default 0x0F: A1–A4).
	Mask byte
	// Sensors[i] describes A(i+1). The default assumes EMG on A1 and a
	// 3-axis accelerometer on A2–A4, as the simulator plays it; set it to
	// your wiring.
	Sensors [6]Sensor
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	return Config{Rate: 1000, Mask: 0x0F, Sensors: [6]Sensor{
		{Kind: pipeline.KindEMG, Name: "emg"},
		{Kind: pipeline.KindAcc, Name: "acc_x", Axis: 'x'},
		{Kind: pipeline.KindAcc, Name: "acc_y", Axis: 'y'},
		{Kind: pipeline.KindAcc, Name: "acc_z", Axis: 'z'},
		{Kind: pipeline.KindOther, Name: "A5"},
		{Kind: pipeline.KindOther, Name: "A6"},
	}}
}

// Bits returns the ADC resolution of analog channel index i (0-based).
func Bits(i int) int {
	if i >= 4 {
		return 6
	}
	return 10
}

// EMG converts an ADC value of n bits to millivolts.
func EMG(adc float64, bits int) float64 {
	return (adc/float64(int(1)<<bits) - 0.5) * VCC / EMGGain * 1000
}

// ACC converts an ADC value to g with calibration cmin, cmax.
func ACC(adc, cmin, cmax float64) float64 { return 2*(adc-cmin)/(cmax-cmin) - 1 }

// Parser is a BITalino stream parser; it implements serial.Decoder.
type Parser struct {
	name     string
	cfg      Config
	idx      [6]int // analog channel index per output column
	n        int    // analog channels
	size     int    // frame size
	chans    []pipeline.Channel
	in       capture.Buffer // bytes fed and not yet decoded
	synced   bool
	last     int
	skipFrom int64
	skipped  int64
	raw      [6]int

	// GarbageBytes counts bytes skipped while resynchronising; CRCErrors
	// counts positions whose CRC failed.
	GarbageBytes, CRCErrors int64
}

// NewParser returns a Parser for cfg; name appears in errors.
func NewParser(name string, cfg Config) (*Parser, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 1000
	}
	if _, err := RateCommand(cfg.Rate); err != nil {
		return nil, err
	}
	if cfg.Mask == 0 {
		cfg.Mask = 0x0F
	}
	if cfg.Mask&^0x3F != 0 {
		return nil, fmt.Errorf("bitalino: channel mask %#x has bits beyond A6", cfg.Mask)
	}
	p := &Parser{name: name, cfg: cfg, last: -1, skipFrom: -1}
	for i := range 6 {
		if cfg.Mask&(1<<i) == 0 {
			continue
		}
		s := cfg.Sensors[i]
		if s.Name == "" {
			s.Name = fmt.Sprintf("A%d", i+1)
		}
		ch := pipeline.Channel{Name: s.Name, Kind: s.Kind, RateHz: float64(cfg.Rate), SourceUnit: "adc"}
		switch s.Kind {
		case pipeline.KindEMG:
			ch.Unit = "mV"
		case pipeline.KindAcc:
			ch.Unit, ch.Axis, ch.Group = "g", s.Axis, "acc"
			if s.Cmin == 0 && s.Cmax == 0 {
				s.Cmin, s.Cmax = DefaultCmin, DefaultCmax
				if Bits(i) == 6 {
					s.Cmin, s.Cmax = DefaultCmin/16, DefaultCmax/16
				}
			}
			if s.Cmax <= s.Cmin {
				return nil, fmt.Errorf("bitalino: A%d: accelerometer calibration needs Cmax > Cmin (got %g, %g)", i+1, s.Cmin, s.Cmax)
			}
		default:
			ch.Unit = "adc"
		}
		p.cfg.Sensors[i] = s
		p.idx[p.n] = i
		p.n++
		p.chans = append(p.chans, ch)
	}
	p.size = FrameSize(p.n)
	return p, nil
}

// Config returns the configuration with defaults filled in.
func (p *Parser) Config() Config { return p.cfg }

// Channels implements serial.Decoder.
func (p *Parser) Channels() []pipeline.Channel { return p.chans }

// Rate implements serial.Decoder.
func (p *Parser) Rate() float64 { return float64(p.cfg.Rate) }

// FrameSize returns the length of this parser's frames.
func (p *Parser) FrameSize() int { return p.size }

// Feed implements serial.Decoder.
func (p *Parser) Feed(b []byte) { p.in.Feed(b) }

// Reset implements serial.Decoder.
func (p *Parser) Reset() {
	p.in.Drop()
	p.synced, p.last = false, -1
	p.skipFrom, p.skipped = -1, 0
}

// Decode implements serial.Decoder.
func (p *Parser) Decode(vals []float64) (serial.Sample, error) {
	n := p.size
	for {
		av := p.in.Buf[p.in.R:]
		if len(av) < n {
			return serial.Sample{}, serial.ErrNeedMore
		}
		ok := CRC4(av[:n]) == av[n-1]&0x0F
		if seq := int(av[n-1] >> 4); ok && (p.last < 0 || p.skipped > 0 || seq != (p.last+1)&0x0F) {
			// Not the frame right after the last one: a CRC4 and a sequence
			// number pass on one garbage position in 256, so the following
			// frame must pass its CRC too, and one of the two sequence
			// numbers must follow on.
			if len(av) < 2*n {
				return serial.Sample{}, serial.ErrNeedMore
			}
			nx := av[n : 2*n]
			follows := (p.last >= 0 && seq == (p.last+1)&0x0F) || int(nx[n-1]>>4) == (seq+1)&0x0F
			ok = CRC4(nx) == nx[n-1]&0x0F && follows
		}
		if ok {
			if p.skipped > 0 {
				return serial.Sample{}, p.flushSkip()
			}
			p.synced = true
			s := p.decodeFrame(av[:n], vals)
			p.in.R += n
			return s, nil
		}
		if p.synced || p.skipped == 0 {
			p.CRCErrors++
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

func (p *Parser) flushSkip() error {
	e := &pipeline.LineError{File: p.name, Offset: p.skipFrom,
		Reason: fmt.Sprintf("bad CRC: skipped %d bytes before the next valid frame", p.skipped)}
	p.skipped, p.skipFrom = 0, -1
	return e
}

// Unpack extracts the analog values of an n-channel frame f into raw.
func Unpack(f []byte, n int, raw *[6]int) {
	l := len(f)
	b := func(k int) int { return int(f[l-k]) }
	raw[0] = (b(2)&0x0F)<<6 | b(3)>>2
	if n > 1 {
		raw[1] = (b(3)&0x03)<<8 | b(4)
	}
	if n > 2 {
		raw[2] = b(5)<<2 | b(6)>>6
	}
	if n > 3 {
		raw[3] = (b(6)&0x3F)<<4 | b(7)>>4
	}
	if n > 4 {
		raw[4] = (b(7)&0x0F)<<2 | b(8)>>6
	}
	if n > 5 {
		raw[5] = b(8) & 0x3F
	}
}

func (p *Parser) decodeFrame(f []byte, vals []float64) serial.Sample {
	var s serial.Sample
	seq := int(f[len(f)-1] >> 4)
	if p.last >= 0 {
		s.Lost = int64((seq - p.last - 1) & 0x0F)
	}
	p.last = seq
	Unpack(f, p.n, &p.raw)
	for k := 0; k < p.n; k++ {
		i := p.idx[k]
		adc := float64(p.raw[k])
		sn := &p.cfg.Sensors[i]
		switch sn.Kind {
		case pipeline.KindEMG:
			vals[k] = EMG(adc, Bits(i))
		case pipeline.KindAcc:
			vals[k] = ACC(adc, sn.Cmin, sn.Cmax)
		default:
			vals[k] = adc
		}
	}
	return s
}

// AppendFrame appends one frame for len(raw) channels (1..6) with
// sequence number seq and digital inputs dig (low 4 bits), computing the CRC.
func AppendFrame(dst []byte, raw []int, seq byte, dig byte) []byte {
	n := len(raw)
	size := FrameSize(n)
	start := len(dst)
	for range size {
		dst = append(dst, 0)
	}
	f := dst[start:]
	l := size
	set := func(k int, v int) { f[l-k] |= byte(v) }
	a := func(i, bits int) int { return min(max(raw[i], 0), 1<<bits-1) }
	set(1, int(seq&0x0F)<<4)
	d := 0
	for i := range 4 {
		if dig&(1<<i) != 0 {
			d |= 0x80 >> i
		}
	}
	set(2, d)
	v := a(0, 10)
	set(2, v>>6)
	set(3, (v&0x3F)<<2)
	if n > 1 {
		v = a(1, 10)
		set(3, v>>8)
		set(4, v&0xFF)
	}
	if n > 2 {
		v = a(2, 10)
		set(5, v>>2)
		set(6, (v&0x03)<<6)
	}
	if n > 3 {
		v = a(3, 10)
		set(6, v>>4)
		set(7, (v&0x0F)<<4)
	}
	if n > 4 {
		v = a(4, 6)
		set(7, v>>2)
		set(8, (v&0x03)<<6)
	}
	if n > 5 {
		set(8, a(5, 6))
	}
	f[l-1] |= CRC4(f)
	return dst
}

// ADCFromEMG is the inverse of EMG, rounded and clamped to n bits.
func ADCFromEMG(mv float64, bits int) int {
	v := math.Round((mv/1000*EMGGain/VCC + 0.5) * float64(int(1)<<bits))
	return int(min(max(v, 0), float64(int(1)<<bits-1)))
}

// ADCFromACC is the inverse of ACC, rounded and clamped to n bits.
func ADCFromACC(g, cmin, cmax float64, bits int) int {
	v := math.Round((g+1)/2*(cmax-cmin) + cmin)
	return int(min(max(v, 0), float64(int(1)<<bits-1)))
}

// Start runs the start sequence on a freshly opened port: stop, drain,
// ask the version (returned), set the rate and start live mode.
func Start(ctx context.Context, rw io.ReadWriter, cfg Config, timeout time.Duration) (string, error) {
	rc, err := RateCommand(cfg.Rate)
	if err != nil {
		return "", err
	}
	if _, err := rw.Write([]byte{CmdStop}); err != nil {
		return "", fmt.Errorf("bitalino: stop: %w", err)
	}
	drain(ctx, rw, 300*time.Millisecond)
	if _, err := rw.Write([]byte{CmdVersion}); err != nil {
		return "", fmt.Errorf("bitalino: version: %w", err)
	}
	var sb strings.Builder
	buf := make([]byte, 64)
	deadline := time.Now().Add(timeout)
	for !strings.Contains(sb.String(), "\n") {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("bitalino: no version answer within %v (got %q)", timeout, sb.String())
		}
		n, err := rw.Read(buf)
		sb.Write(buf[:n])
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("bitalino: read version: %w", err)
		}
	}
	if _, err := rw.Write([]byte{rc, StartCommand(cfg.Mask)}); err != nil {
		return "", fmt.Errorf("bitalino: start: %w", err)
	}
	v, _, _ := strings.Cut(sb.String(), "\n")
	return strings.TrimSpace(v), nil
}

func drain(ctx context.Context, r io.Reader, d time.Duration) {
	buf := make([]byte, 512)
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		if n, _ := r.Read(buf); n == 0 {
			return
		}
	}
}

func init() {
	decode.Register(decode.Format{
		Name:  Name,
		Sniff: func([]byte, string) int { return 0 }, // binary; only by --format
		Open: func(r io.Reader, opts decode.Options) (pipeline.Source, error) {
			cfg := DefaultConfig()
			if opts.Rate > 0 {
				cfg.Rate = int(opts.Rate)
			}
			p, err := NewParser(opts.Name, cfg)
			if err != nil {
				return nil, err
			}
			return capture.Open(r, p, Name, opts), nil
		},
	})
}

// StartTimeout bounds the wait for the version answer.
const StartTimeout = 5 * time.Second

// Dial connects to a BITalino at cc.Name and returns a live Source and
// the Conn under it; close the Conn when done. Every (re)connection runs
// Start (rate and channel mask from cfg); Close sends the stop command.
func Dial(ctx context.Context, cc serial.ConnConfig, cfg Config, so serial.StreamOptions) (*serial.Stream, *serial.Conn, error) {
	if so.Name == "" {
		so.Name = cc.Name
	}
	p, err := NewParser(so.Name, cfg)
	if err != nil {
		return nil, nil, err
	}
	cfg = p.Config()
	log := cc.Log
	cc.OnConnect = func(ctx context.Context, port serial.Port) error {
		v, err := Start(ctx, port, cfg, StartTimeout)
		if err == nil && log != nil {
			log.Info("bitalino: device ready", "port", cc.Name, "version", v, "rate", cfg.Rate, "mask", cfg.Mask)
		}
		return err
	}
	cc.OnClose = func(port serial.Port) { port.Write([]byte{CmdStop}) }
	conn := serial.Dial(ctx, cc)
	return capture.Live(conn, p, Name, so, log), conn, nil
}
