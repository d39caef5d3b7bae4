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
	"sync/atomic"
	"time"

	"github.com/creack/pty"

	"github.com/twitchd/twitchd/internal/decode/ascii"
	"github.com/twitchd/twitchd/internal/decode/bitalino"
	"github.com/twitchd/twitchd/internal/decode/cyton"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// Names of the protocols registered today (any registered protocol is
// accepted in Options.Protocol).
const (
	Cyton    = cyton.Name
	BITalino = bitalino.Name
	ASCII    = ascii.Name
)

// Options configure a simulated device.
type Options struct {
	// Protocol names a registered live protocol (serial.ProtocolNames).
	Protocol string
	// Settings are the protocol's settings of the device played, as its
	// NewSettings returns them (nil: its defaults): the BITalino's
	// sensors on A1–A6, the ASCII line rate (default 250 Hz) and counter.
	Settings serial.Settings
	// Port is a device path to open, or "pty" to open a pseudo-terminal
	// pair and print the follower's name to Log.
	Port string
	// Baud is used when Port is a path (default 115200).
	Baud int
	// Speed paces frames: 1 real time, N times faster, 0 as fast as the
	// reader takes them.
	Speed float64
	// MaxLag is how far behind its clock a playing device may fall (its
	// writes blocked by a host that does not read, or the stand-in itself
	// not scheduled) before it drops the frames due, as a device with a
	// small buffer does: default 250 ms; negative: never, for a stand-in
	// whose host may be slow for a while without losing data.
	MaxLag time.Duration
	// Tick is how often a playing device writes the frames due (default
	// 2 ms). A USB serial adapter hands the host what it received every
	// latency-timer period instead (16 ms by default on FTDI chips), so
	// a larger Tick stands for one.
	Tick time.Duration
	// GarbageEvery injects 1–16 random bytes (a junk line for ASCII) after
	// every N frames; 0 never.
	GarbageEvery int
	// Log receives the pseudo-terminal's name and progress lines.
	Log io.Writer
	// Seed seeds the garbage generator (0: 1).
	Seed uint64
}

// Device is a stand-in device. It keeps its stream position across Serve
// calls, so a test can drop the connection and serve a new one.
type Device struct {
	opts Options
	enc  serial.Encoder
	rs   *resampler
	rng  *rand.Rand

	streaming bool
	baseWall  time.Time
	baseK     int64
	k         int64 // next frame index
	out       []byte
	stoppedAt time.Time // when a host command stopped streaming
	// Frames counts frames written; Dropped frames due while disconnected;
	// Unsampled the frames a device running on would have taken while a
	// host command had stopped it (from a stop to the next start).
	Frames, Dropped, Unsampled int64
	// shown mirrors them for Counts, from another goroutine.
	shown [3]atomic.Int64
}

// Counts returns Frames, Dropped and Unsampled as they were after the
// last batch of frames; unlike the fields, it may be called while Serve
// runs (a benchmark reads it to measure a window).
func (d *Device) Counts() (frames, dropped, unsampled int64) {
	return d.shown[0].Load(), d.shown[1].Load(), d.shown[2].Load()
}

// show publishes the counts for Counts.
func (d *Device) show() {
	d.shown[0].Store(d.Frames)
	d.shown[1].Store(d.Dropped)
	d.shown[2].Store(d.Unsampled)
}

// NewDevice returns a stand-in for opts.Protocol reading frames from src.
func NewDevice(src pipeline.Source, opts Options) (*Device, error) {
	p, err := serial.LookupProtocol(opts.Protocol)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	st := opts.Settings
	if st == nil {
		st = p.NewSettings()
	}
	enc, err := p.StandIn(st)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
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
	every := d.opts.Tick
	if every <= 0 {
		every = 2 * time.Millisecond
	}
	tick := time.NewTicker(every)
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
				// MaxLag (a writer blocked on a full line) are lost.
				due := d.due(now)
				if lag := d.opts.MaxLag; lag >= 0 {
					if lag == 0 {
						lag = 250 * time.Millisecond
					}
					if late := due - int64(lag.Seconds()*d.enc.Rate()*d.opts.Speed); late > d.k {
						if err := d.drop(late); err != nil {
							return d.finish(err)
						}
					}
				}
				if err := d.emit(rw, due); err != nil {
					return d.finish(err)
				}
			}
		}
	}
}

// Capture writes every frame the device would send from the start of
// the source to its end to w, as fast as w takes them, as if the host had
// started streaming: a raw capture of the protocol, with no command
// replies (banners).
func (d *Device) Capture(w io.Writer) error {
	d.streaming = true
	for {
		if err := d.emit(w, d.k+1000); err != nil {
			return d.finish(err)
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
		if !d.stoppedAt.IsZero() && d.opts.Speed > 0 {
			d.Unsampled += int64(time.Since(d.stoppedAt).Seconds() * d.enc.Rate() * d.opts.Speed)
		}
		d.start()
	case act < 0:
		if d.streaming && d.opts.Speed > 0 {
			// Frames due and not sent yet (a backlog the host did not
			// read) are gone with the stop.
			now := time.Now()
			if err := d.drop(d.due(now)); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			d.stoppedAt = now
		}
		d.streaming = false
	}
	return nil
}

// drop skips frames up to (not including) k without sending them.
func (d *Device) drop(k int64) error {
	defer d.show()
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
	defer d.show()
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
