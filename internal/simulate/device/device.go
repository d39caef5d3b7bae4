// Package device plays a recorded or simulated session as a serial device
// would: an OpenBCI Cyton, a BITalino (r)evolution or an Arduino printing
// ASCII lines. It encodes frames with the same protocol code the decoders
// use, answers the device's commands, and can open a pseudo-terminal so
// "twitchd run" and tests can talk to it without hardware.
package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/creack/pty"

	"github.com/twitchd/twitchd/internal/decode/bitalino"
	"github.com/twitchd/twitchd/internal/decode/cyton"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// Protocol names accepted in Options.Protocol.
const (
	Cyton    = cyton.Name
	BITalino = bitalino.Name
	ASCII    = "ascii"
)

// Options configure a simulated device.
type Options struct {
	// Protocol is Cyton, BITalino or ASCII.
	Protocol string
	// Port is a device path to open, or "pty" to open a pseudo-terminal
	// pair and print the follower's name to Log.
	Port string
	// Baud is used when Port is a path (default 115200).
	Baud int
	// Speed paces frames: 1 real time, N times faster, 0 as fast as the
	// reader takes them.
	Speed float64
	// GarbageEvery injects 1–16 random bytes (a junk line for ASCII) after
	// every N frames; 0 never.
	GarbageEvery int
	// Log receives the pseudo-terminal's name and progress lines.
	Log io.Writer
	// Rate is the ASCII line rate in Hz (default 250). Cyton runs at 250
	// Hz; BITalino at the rate the host asks for.
	Rate float64
	// Counter makes ASCII lines start with a millisecond counter.
	Counter bool
	// BITalino describes the sensors the stand-in has on A1–A6 (default
	// bitalino.DefaultConfig()).
	BITalino *bitalino.Config
	// Seed seeds the garbage generator (0: 1).
	Seed uint64
}

// Device is a stand-in device. It keeps its stream position across Serve
// calls, so a test can drop the connection and serve a new one.
type Device struct {
	opts Options
	enc  Encoder
	rs   *resampler
	rng  *rand.Rand

	streaming bool
	baseWall  time.Time
	baseK     int64
	k         int64 // next frame index
	out       []byte
	// Frames counts frames written; Dropped frames due while disconnected.
	Frames, Dropped int64
}

// Encoder turns one held sample of the source into a device frame.
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

// NewDevice returns a stand-in for opts.Protocol reading frames from src.
func NewDevice(src pipeline.Source, opts Options) (*Device, error) {
	var enc Encoder
	switch opts.Protocol {
	case Cyton:
		enc = &CytonEncoder{}
	case BITalino:
		cfg := bitalino.DefaultConfig()
		if opts.BITalino != nil {
			cfg = *opts.BITalino
		}
		enc = &BITalinoEncoder{Config: cfg}
	case ASCII:
		r := opts.Rate
		if r <= 0 {
			r = 250
		}
		enc = &ASCIIEncoder{Hz: r, Counter: opts.Counter}
	default:
		return nil, fmt.Errorf("device: unknown protocol %q (want %s, %s or %s)", opts.Protocol, Cyton, BITalino, ASCII)
	}
	if err := enc.Begin(src.Meta()); err != nil {
		return nil, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = 1
	}
	return &Device{opts: opts, enc: enc, rs: newResampler(src), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Play opens opts.Port (a path, or "pty") and serves src on it until the
// source ends (nil) or ctx is done.
func Play(ctx context.Context, src pipeline.Source, opts Options) error {
	d, err := NewDevice(src, opts)
	if err != nil {
		return err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	var rw io.ReadWriteCloser
	if opts.Port == "pty" || opts.Port == "" {
		leader, follower, err := pty.Open()
		if err != nil {
			return fmt.Errorf("device: open pseudo-terminal: %w", err)
		}
		defer follower.Close()
		if err := serial.MakeRaw(follower); err != nil {
			leader.Close()
			return err
		}
		fmt.Fprintf(logw, "device: %s stand-in on %s\n", opts.Protocol, follower.Name())
		rw = leader
	} else {
		baud := opts.Baud
		if baud == 0 {
			baud = 115200
		}
		p, err := serial.OpenPort(opts.Port, baud, serial.MinReadTimeout)
		if err != nil {
			return fmt.Errorf("device: %w", err)
		}
		fmt.Fprintf(logw, "device: %s stand-in on %s\n", opts.Protocol, opts.Port)
		rw = p
	}
	err = d.Serve(ctx, rw)
	rw.Close()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Serve plays on rw until the source ends (nil), ctx is done (ctx.Err())
// or rw fails. The caller closes rw afterwards (that also ends the
// goroutine reading commands). Serve may be called again on a new rw.
func (d *Device) Serve(ctx context.Context, rw io.ReadWriter) error {
	cmds := make(chan byte, 256)
	rerr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := rw.Read(buf)
			for _, c := range buf[:n] {
				select {
				case cmds <- c:
				case <-done:
					return
				}
			}
			if err != nil && !errors.Is(err, io.EOF) {
				rerr <- err
				return
			}
			if n == 0 && err != nil {
				// A port opened with a read timeout returns EOF when idle.
				select {
				case <-done:
					return
				default:
				}
			}
		}
	}()
	if !d.enc.KeepsStreaming() {
		d.streaming = false
	}
	if d.enc.StreamsOnConnect() && !d.streaming {
		d.start()
	}
	if d.streaming && d.opts.Speed > 0 {
		// Frames due while nobody listened are gone, as on a radio link.
		if err := d.drop(d.due(time.Now())); err != nil {
			return d.finish(err)
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if d.streaming && d.opts.Speed == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case c := <-cmds:
				if err := d.command(rw, c); err != nil {
					return err
				}
				continue
			case err := <-rerr:
				return fmt.Errorf("device: read: %w", err)
			default:
			}
			if err := d.emit(rw, d.k+64); err != nil {
				return d.finish(err)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c := <-cmds:
			if err := d.command(rw, c); err != nil {
				return err
			}
		case err := <-rerr:
			return fmt.Errorf("device: read: %w", err)
		case now := <-tick.C:
			if d.streaming {
				// A device buffers little: frames overdue by more than
				// 250 ms (a writer blocked on a full line) are lost.
				due := d.due(now)
				if late := due - int64(0.25*d.enc.Rate()*d.opts.Speed); late > d.k {
					if err := d.drop(late); err != nil {
						return d.finish(err)
					}
				}
				if err := d.emit(rw, due); err != nil {
					return d.finish(err)
				}
			}
		}
	}
}

func (d *Device) finish(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func (d *Device) start() {
	d.streaming, d.baseWall, d.baseK = true, time.Now(), d.k
}

// due is the index one past the last frame due at now.
func (d *Device) due(now time.Time) int64 {
	return d.baseK + int64(now.Sub(d.baseWall).Seconds()*d.enc.Rate()*d.opts.Speed)
}

func (d *Device) command(w io.Writer, c byte) error {
	out, act := d.enc.Command(d.out[:0], c)
	d.out = out
	if len(out) > 0 {
		if _, err := w.Write(out); err != nil {
			return fmt.Errorf("device: write reply: %w", err)
		}
	}
	switch {
	case act > 0 && !d.streaming:
		d.start()
	case act < 0:
		d.streaming = false
	}
	return nil
}

// drop skips frames up to (not including) k without sending them.
func (d *Device) drop(k int64) error {
	for ; d.k < k; d.k++ {
		if _, err := d.rs.at(d.timeOf(d.k)); err != nil {
			return err
		}
		d.Dropped++
	}
	return nil
}

func (d *Device) timeOf(k int64) int64 {
	return int64(float64(k) * 1e9 / d.enc.Rate())
}

// emit writes frames up to (not including) k, at most 1000 at a time.
func (d *Device) emit(w io.Writer, k int64) error {
	k = min(k, d.k+1000)
	out := d.out[:0]
	for ; d.k < k; d.k++ {
		vals, err := d.rs.at(d.timeOf(d.k))
		if err != nil {
			if len(out) > 0 {
				w.Write(out)
			}
			return err
		}
		out = d.enc.Append(out, d.k, vals)
		d.Frames++
		if g := d.opts.GarbageEvery; g > 0 && (d.k+1)%int64(g) == 0 {
			out = d.enc.Garbage(out, d.rng)
		}
	}
	d.out = out
	if len(out) == 0 {
		return nil
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("device: write: %w", err)
	}
	return nil
}

// resampler holds the source's latest frame at or before a time
// (relative to the first frame), keeping the last value of channels that
// hold NaN.
type resampler struct {
	src   pipeline.Source
	b     *pipeline.Batch
	i     int
	t0    int64
	begun bool
	held  []float64
	eof   error
}

func newResampler(src pipeline.Source) *resampler {
	n := len(src.Meta().Channels)
	h := make([]float64, n)
	for i := range h {
		h[i] = math.NaN()
	}
	return &resampler{src: src, b: pipeline.NewBatch(n, 256), held: h}
}

// at returns the held values at time t (ns since the first frame).
func (r *resampler) at(t int64) ([]float64, error) {
	for {
		if r.i >= r.b.Len() {
			if r.eof != nil {
				return nil, r.eof
			}
			if err := r.src.Next(context.Background(), r.b); err != nil {
				r.eof = err
				if !errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("device: source: %w", err)
				}
				r.b.Reset()
			}
			r.i = 0
			continue
		}
		f := r.b.Frames[r.i]
		if !r.begun {
			r.t0, r.begun = f.Time, true
		}
		if f.Time-r.t0 > t {
			return r.held, nil
		}
		for c, v := range f.Values {
			if v == v {
				r.held[c] = v
			}
		}
		r.i++
	}
}

// pick returns the indexes of meta's channels of kind, and of the
// accelerometer axes x, y, z of the first group (-1 when absent).
func pick(meta pipeline.Meta) (emg []int, acc [3]int) {
	acc = [3]int{-1, -1, -1}
	group := ""
	for i, c := range meta.Channels {
		switch c.Kind {
		case pipeline.KindEMG:
			emg = append(emg, i)
		case pipeline.KindAcc:
			if group == "" {
				group = c.Group
			}
			if c.Group != group {
				continue
			}
			if c.Axis >= 'x' && c.Axis <= 'z' && acc[c.Axis-'x'] < 0 {
				acc[c.Axis-'x'] = i
			}
		}
	}
	return emg, acc
}

func val(vals []float64, i int) float64 {
	if i < 0 || vals[i] != vals[i] {
		return 0
	}
	return vals[i]
}

// CytonEncoder encodes Cyton packets: the source's EMG channels (mV) on
// exg0.., its first accelerometer on the aux bytes every 10th packet
// (zeros between, as the firmware sends), footer 0xC0.
type CytonEncoder struct {
	Gain float64
	emg  []int
	acc  [3]int
	exg  [cyton.Channels]int32
}

// Rate implements Encoder.
func (e *CytonEncoder) Rate() float64 { return cyton.Rate }

// Begin implements Encoder.
func (e *CytonEncoder) Begin(meta pipeline.Meta) error {
	e.emg, e.acc = pick(meta)
	if len(e.emg) > cyton.Channels {
		e.emg = e.emg[:cyton.Channels]
	}
	return nil
}

// Append implements Encoder.
func (e *CytonEncoder) Append(dst []byte, k int64, vals []float64) []byte {
	for i := range e.exg {
		e.exg[i] = 0
		if i < len(e.emg) {
			e.exg[i] = cyton.Counts(val(vals, e.emg[i])*1000, e.Gain)
		}
	}
	var a [3]int16
	if k%10 == 0 {
		for i := range a {
			a[i] = cyton.AccelCounts(val(vals, e.acc[i]))
		}
		if a == [3]int16{} {
			a[2] = 1 // all zero would read as "no new data"
		}
	}
	return cyton.AppendPacket(dst, byte(k), &e.exg, a, 0xC0)
}

// Command implements Encoder: v (banner), b (start), s (stop).
func (e *CytonEncoder) Command(dst []byte, c byte) ([]byte, int) {
	switch c {
	case cyton.CmdReset:
		return append(dst, cyton.Banner...), -1
	case cyton.CmdStart:
		return dst, 1
	case cyton.CmdStop:
		return dst, -1
	}
	return dst, 0
}

// Garbage implements Encoder.
func (e *CytonEncoder) Garbage(dst []byte, rng *rand.Rand) []byte { return randomBytes(dst, rng) }

// StreamsOnConnect implements Encoder.
func (e *CytonEncoder) StreamsOnConnect() bool { return false }

// KeepsStreaming implements Encoder: the board streams on over the radio.
func (e *CytonEncoder) KeepsStreaming() bool { return true }

func randomBytes(dst []byte, rng *rand.Rand) []byte {
	n := 1 + rng.IntN(16)
	for range n {
		dst = append(dst, byte(rng.IntN(256)))
	}
	return dst
}

// BITalinoEncoder encodes BITalino frames for the channels the host's
// start command selects, with the sensors of Config on A1–A6: EMG sensors
// take the source's EMG channels in order, ACC sensors its accelerometer
// axis of the same letter.
type BITalinoEncoder struct {
	Config bitalino.Config
	rate   int
	mask   byte
	src    [6]int
	raw    []int
}

// Rate implements Encoder.
func (e *BITalinoEncoder) Rate() float64 {
	if e.rate == 0 {
		return 1000
	}
	return float64(e.rate)
}

// Begin implements Encoder.
func (e *BITalinoEncoder) Begin(meta pipeline.Meta) error {
	emg, acc := pick(meta)
	ne := 0
	for i, s := range e.Config.Sensors {
		e.src[i] = -1
		switch s.Kind {
		case pipeline.KindEMG:
			if ne < len(emg) {
				e.src[i] = emg[ne]
				ne++
			}
		case pipeline.KindAcc:
			if s.Axis >= 'x' && s.Axis <= 'z' {
				e.src[i] = acc[s.Axis-'x']
			}
		}
	}
	e.rate, e.mask = e.Config.Rate, e.Config.Mask
	return nil
}

// Append implements Encoder.
func (e *BITalinoEncoder) Append(dst []byte, k int64, vals []float64) []byte {
	e.raw = e.raw[:0]
	for i := range 6 {
		if e.mask&(1<<i) == 0 {
			continue
		}
		s := e.Config.Sensors[i]
		bits := bitalino.Bits(i)
		v := val(vals, e.src[i])
		switch s.Kind {
		case pipeline.KindEMG:
			e.raw = append(e.raw, bitalino.ADCFromEMG(v, bits))
		case pipeline.KindAcc:
			cmin, cmax := s.Cmin, s.Cmax
			if cmin == 0 && cmax == 0 {
				cmin, cmax = bitalino.DefaultCmin, bitalino.DefaultCmax
				if bits == 6 {
					cmin, cmax = cmin/16, cmax/16
				}
			}
			e.raw = append(e.raw, bitalino.ADCFromACC(v, cmin, cmax, bits))
		default:
			e.raw = append(e.raw, 1<<(bits-1))
		}
	}
	if len(e.raw) == 0 {
		return dst
	}
	return bitalino.AppendFrame(dst, e.raw, byte(k), 0)
}

// Command implements Encoder: 0x00 stop, 0x07 version, rate bytes
// (xx000011), start bytes (mask<<2 | 1).
func (e *BITalinoEncoder) Command(dst []byte, c byte) ([]byte, int) {
	switch {
	case c == bitalino.CmdStop:
		return dst, -1
	case c == bitalino.CmdVersion:
		return append(dst, "BITalino_v5.2\n"...), 0
	case c&0x03 == 0x01:
		if m := c >> 2; m != 0 {
			e.mask = m
			return dst, 1
		}
	default:
		if r, ok := bitalino.RateFromCommand(c); ok {
			e.rate = r
		}
	}
	return dst, 0
}

// Garbage implements Encoder.
func (e *BITalinoEncoder) Garbage(dst []byte, rng *rand.Rand) []byte { return randomBytes(dst, rng) }

// StreamsOnConnect implements Encoder.
func (e *BITalinoEncoder) StreamsOnConnect() bool { return false }

// KeepsStreaming implements Encoder: a dropped Bluetooth link stops acquisition.
func (e *BITalinoEncoder) KeepsStreaming() bool { return false }

// ASCIIEncoder prints one line per frame: an optional millisecond counter,
// then name:value pairs of every source channel (mV, g), tab-separated.
type ASCIIEncoder struct {
	Hz      float64
	Counter bool
	names   []string
}

// Rate implements Encoder.
func (e *ASCIIEncoder) Rate() float64 { return e.Hz }

// Begin implements Encoder.
func (e *ASCIIEncoder) Begin(meta pipeline.Meta) error {
	for _, c := range meta.Channels {
		e.names = append(e.names, c.Name)
	}
	return nil
}

// Append implements Encoder.
func (e *ASCIIEncoder) Append(dst []byte, k int64, vals []float64) []byte {
	if e.Counter {
		dst = strconv.AppendInt(dst, int64(float64(k)*1000/e.Hz), 10)
		dst = append(dst, '\t')
	}
	for i, n := range e.names {
		if i > 0 {
			dst = append(dst, '\t')
		}
		dst = append(dst, n...)
		dst = append(dst, ':')
		dst = strconv.AppendFloat(dst, val(vals, i), 'g', 8, 64)
	}
	return append(dst, '\r', '\n')
}

// Command implements Encoder: an Arduino sketch ignores input.
func (e *ASCIIEncoder) Command(dst []byte, c byte) ([]byte, int) { return dst, 0 }

// Garbage implements Encoder: a line of noise.
func (e *ASCIIEncoder) Garbage(dst []byte, rng *rand.Rand) []byte {
	n := 1 + rng.IntN(16)
	for range n {
		dst = append(dst, byte('!'+rng.IntN(90)))
	}
	return append(dst, '\n')
}

// StreamsOnConnect implements Encoder.
func (e *ASCIIEncoder) StreamsOnConnect() bool { return true }

// KeepsStreaming implements Encoder.
func (e *ASCIIEncoder) KeepsStreaming() bool { return true }
