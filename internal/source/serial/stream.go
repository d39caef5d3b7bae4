package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// ErrNeedMore is returned by Decoder.Decode when the buffered bytes hold
// no complete sample.
var ErrNeedMore = errors.New("serial: need more bytes")

// Decoder parses one device protocol from a byte stream. Implementations
// allocate nothing per sample.
type Decoder interface {
	// Channels describes the values Decode fills, in order.
	Channels() []pipeline.Channel
	// Rate is the nominal sample rate in Hz.
	Rate() float64
	// Feed appends bytes from the device; p may be reused after Feed returns.
	Feed(p []byte)
	// Decode fills vals with the next sample. It returns ErrNeedMore when
	// more bytes are needed, a *pipeline.LineError after skipping bad
	// bytes (call again), or nil with vals filled.
	Decode(vals []float64) (Sample, error)
	// Reset drops buffered bytes and counter history (new connection).
	Reset()
}

// Sample is what a Decoder learnt about one sample besides its values.
type Sample struct {
	// Lost is how many samples the device's counter says went missing
	// just before this one.
	Lost int64
	// Device is the sample's time on the device's own clock (ns) when
	// HasDevice is set (ASCII millisecond counter); otherwise the Stream
	// times samples by index.
	Device    int64
	HasDevice bool
	// Reset is set when the device's counter restarted.
	Reset bool
}

// Reader is where a Stream gets bytes: a *Conn, or a recorded capture
// through NewFileReader. Read returns the bytes and the host time they
// arrived at (zero when unknown); it blocks at most wait when wait > 0,
// returning (0, zero, nil) then; it returns io.EOF at the end of a
// capture and ErrNewConnection at the start of each live connection.
type Reader interface {
	Read(ctx context.Context, p []byte, wait time.Duration) (n int, at HostTime, err error)
}

// FileReader adapts an io.Reader (a recorded capture) to Reader.
type FileReader struct{ r io.Reader }

// NewFileReader returns a Reader over r with no arrival times.
func NewFileReader(r io.Reader) *FileReader { return &FileReader{r: r} }

// Read implements Reader.
func (f *FileReader) Read(ctx context.Context, p []byte, _ time.Duration) (int, HostTime, error) {
	if err := ctx.Err(); err != nil {
		return 0, HostTime{}, err
	}
	n, err := f.r.Read(p)
	if n > 0 {
		return n, HostTime{}, nil
	}
	return 0, HostTime{}, err
}

// StreamOptions configure a Stream.
type StreamOptions struct {
	// Name is the port or file name for Meta.File and errors.
	Name string
	// Format is the protocol name for Meta.Format.
	Format string
	// Live stamps samples from the host clock at arrival; otherwise they
	// start at Start and advance by index / rate.
	Live  bool
	Start time.Time
	// Strict makes the first skipped byte run fatal.
	Strict bool
	// Linger is how long Next waits for more bytes once it has a frame
	// (default 10 ms; negative returns at once). It trades latency for
	// fewer, fuller batches.
	Linger time.Duration
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// Now reads the host clock for bytes that come without an arrival
	// time (default SystemClock); a live Conn stamps arrivals with its own
	// ConnConfig.Now, which should be the same clock.
	Now HostClock
	// Clock, when set, configures the live clock's time constants
	// (TimeConstant, MaxSlew, GapAfter, StepLimit; other fields ignored).
	Clock *Clock
	// Channels, when set, may rename channels or change their kind in
	// the Stream's copy of the decoder's channel list (values are not
	// converted: use it to mark an unused EXG input KindOther).
	Channels func(ch []pipeline.Channel)
}

// StreamStats adds device-level counts to pipeline.SourceStats, over
// every segment of the stream.
type StreamStats struct {
	Connections int64 // connections seen (ErrNewConnection)
	CounterLost int64 // samples lost by the device counter
	ClockGaps   int64 // gaps found from the host clock
	ClockLost   int64 // samples those gaps stood for
	Resets      int64 // device counter restarts
	ClockSteps  int64 // steps of the host's wall clock seen
	Segments    int64 // segments begun (1 + steps too large to slew)
}

// Stream is a pipeline.Source that reads a Reader through a Decoder.
//
// A live Stream splits itself into segments at a host clock step larger
// than the clock's StepLimit: Next returns pipeline.ErrEndOfSegment after
// the last frame stamped before the step, Stats then describes the
// segment that ended (its number and the step), and the next Next starts
// the following segment, whose times follow the stepped clock.
type Stream struct {
	r       Reader
	dec     Decoder
	opts    StreamOptions
	log     *slog.Logger
	meta    pipeline.Meta
	clock   *Clock
	stats   pipeline.SourceStats // of the current segment
	ds      StreamStats
	buf     []byte
	vals    []float64
	at      HostTime
	eof     bool
	lastAt  int64
	lastDev int64
	hasDev  bool

	// carry holds frames of the next segment, stamped already; segEnd
	// says Next ends the segment at its next call, newSeg that the call
	// after that begins the next one; lostBase is the device's lost
	// count when the current segment began.
	carry    *pipeline.Batch
	segEnd   bool
	newSeg   bool
	lostBase int64
	steps    stepCounts
}

// NewStream returns a Source decoding r with dec.
func NewStream(r Reader, dec Decoder, opts StreamOptions) *Stream {
	if opts.Linger == 0 {
		opts.Linger = 10 * time.Millisecond
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	chs := append([]pipeline.Channel(nil), dec.Channels()...)
	if opts.Channels != nil {
		opts.Channels(chs)
	}
	if opts.Now == nil {
		opts.Now = SystemClock
	}
	clock := NewClock(dec.Rate(), opts.Live, opts.Start)
	if c := opts.Clock; c != nil {
		clock.TimeConstant, clock.MaxSlew, clock.GapAfter, clock.StepLimit = c.TimeConstant, c.MaxSlew, c.GapAfter, c.StepLimit
	}
	st := &Stream{
		r: r, dec: dec, opts: opts, log: log,
		meta:  pipeline.Meta{File: opts.Name, Format: opts.Format, Channels: chs},
		clock: clock,
		buf:   make([]byte, chunkSize),
		vals:  make([]float64, len(chs)),
	}
	if opts.Live {
		st.stats.Segment, st.ds.Segments = 1, 1
	}
	return st
}

// Meta implements pipeline.Source.
func (s *Stream) Meta() pipeline.Meta { return s.meta }

// Stats implements pipeline.Source: the counts of the current segment
// (after Next returned pipeline.ErrEndOfSegment, of the one that ended).
// Lost counts both counter gaps and host-clock gaps.
func (s *Stream) Stats() pipeline.SourceStats {
	st := s.stats
	st.Lost = s.ds.CounterLost + s.ds.ClockLost - s.lostBase
	return st
}

// DeviceStats returns the device-level counts.
func (s *Stream) DeviceStats() StreamStats { return s.ds }

// Clock returns the Stream's clock, for inspection.
func (s *Stream) Clock() *Clock { return s.clock }

// LastArrival is the host wall time (Unix ns) the newest bytes arrived at.
func (s *Stream) LastArrival() int64 { return s.lastAt }

// Next implements pipeline.Source. A live Stream blocks until at least one
// frame is there, then lingers up to Linger for more, and returns.
func (s *Stream) Next(ctx context.Context, b *pipeline.Batch) error {
	b.Reset()
	if s.segEnd {
		s.segEnd, s.newSeg = false, true
		return pipeline.ErrEndOfSegment
	}
	if s.newSeg {
		s.newSeg = false
		s.beginSegment()
	}
	s.takeCarry(b)
	if s.eof {
		if b.Len() > 0 {
			return nil
		}
		return io.EOF
	}
	mark := b.Len() // first frame not yet observed by the clock
	var first time.Time
	for {
		if b.Full() {
			return nil
		}
		if err := s.decodeInto(b); err != nil {
			return err
		}
		if b.Len() > mark {
			s.observe(b, mark)
			if s.segEnd {
				if b.Len() > 0 {
					return nil
				}
				s.segEnd, s.newSeg = false, true
				return pipeline.ErrEndOfSegment
			}
			mark = b.Len()
		}
		if b.Full() {
			return nil
		}
		wait := time.Duration(0)
		if s.opts.Live && b.Len() > 0 {
			if first.IsZero() {
				first = time.Now()
			}
			if wait = s.opts.Linger - time.Since(first); wait <= 0 {
				return nil
			}
		}
		n, at, err := s.r.Read(ctx, s.buf, wait)
		switch {
		case errors.Is(err, ErrNewConnection):
			s.ds.Connections++
			s.dec.Reset()
			if s.clock.observed {
				s.clock.Break()
				s.log.Info("serial: stream resumes on a new connection", "port", s.opts.Name)
			}
			continue
		case errors.Is(err, io.EOF):
			s.eof = true
			if b.Len() > 0 {
				return nil
			}
			return io.EOF
		case err != nil:
			if b.Len() > 0 && ctx.Err() != nil {
				return nil
			}
			return err
		}
		if n == 0 {
			if b.Len() > 0 {
				return nil
			}
			continue
		}
		if at.IsZero() && s.opts.Live {
			at = s.opts.Now()
		}
		s.at, s.lastAt = at, at.Wall
		s.dec.Feed(s.buf[:n])
	}
}

// decodeInto decodes buffered samples into b until it is full or more bytes are needed.
func (s *Stream) decodeInto(b *pipeline.Batch) error {
	for !b.Full() {
		smp, err := s.dec.Decode(s.vals)
		if err != nil {
			if errors.Is(err, ErrNeedMore) {
				return nil
			}
			var le *pipeline.LineError
			if errors.As(err, &le) {
				if s.opts.Strict {
					return le
				}
				s.stats.Skip(le)
				continue
			}
			return fmt.Errorf("serial: %s: %w", s.opts.Name, err)
		}
		if smp.Lost > 0 {
			s.ds.CounterLost += smp.Lost
			s.clock.Skip(smp.Lost)
		}
		if smp.Reset {
			s.ds.Resets++
		}
		dev := smp.Device
		if !smp.HasDevice {
			dev = s.clock.Index()
		}
		copy(b.Append(s.clock.Stamp(dev)), s.vals)
		s.stats.Frames++
		s.lastDev, s.hasDev = dev, smp.HasDevice
	}
	return nil
}

// observe lets the clock see the arrival of the frames from mark on and
// applies the shift it asks for. At a step of the host clock too large
// to slew it moves those frames to the next segment.
func (s *Stream) observe(b *pipeline.Batch, mark int) {
	if s.opts.Live && s.at.IsZero() {
		// Bytes fed to the decoder before the first read (a probe).
		s.at = s.opts.Now()
	}
	shift, lost, step := s.clock.Observe(s.at, s.lastDev, !s.hasDev)
	if step.By != 0 {
		s.ds.ClockSteps++
		s.steps.add(step)
		by := time.Duration(step.By)
		if step.NewSegment {
			s.ds.Segments++
			s.log.Warn("serial: the host clock stepped: a new segment starts, its times follow the clock as stepped", "port", s.opts.Name,
				"step", by, "segment", s.stats.Segment+1)
		} else {
			s.log.Warn("serial: the host clock stepped: slewing the sample times to it", "port", s.opts.Name,
				"step", by, "pending", s.clock.Pending().Round(time.Millisecond))
		}
	}
	if shift != 0 {
		for i := mark; i < b.Len(); i++ {
			b.Frames[i].Time += shift
		}
	}
	gap := shift
	if step.NewSegment {
		gap -= step.By
	}
	if gap != 0 && s.clock.observedOnce() {
		s.ds.ClockGaps++
		s.ds.ClockLost += lost
		s.log.Warn("serial: gap in the stream", "port", s.opts.Name,
			"gap", time.Duration(gap).Round(time.Millisecond), "lost_samples", lost)
	}
	if step.NewSegment {
		s.stats.ClockStep = step.By
		s.moveToCarry(b, mark)
		s.segEnd = true
	}
}

// moveToCarry moves the frames of b from mark on to the carry, for the
// next segment.
func (s *Stream) moveToCarry(b *pipeline.Batch, mark int) {
	if s.carry == nil {
		s.carry = pipeline.NewBatch(len(s.vals), 2*cap(b.Frames))
	}
	for i := mark; i < b.Len(); i++ {
		if s.carry.Full() {
			panic("serial: segment carry overflow: batches shrank between segments")
		}
		copy(s.carry.Append(b.Frames[i].Time), b.Frames[i].Values)
		s.stats.Frames--
	}
	b.Frames = b.Frames[:mark]
}

// takeCarry moves carried frames into b, as many as fit.
func (s *Stream) takeCarry(b *pipeline.Batch) {
	if s.carry == nil || s.carry.Len() == 0 {
		return
	}
	n := 0
	for ; n < s.carry.Len() && !b.Full(); n++ {
		copy(b.Append(s.carry.Frames[n].Time), s.carry.Frames[n].Values)
		s.stats.Frames++
	}
	rest := s.carry.Len() - n
	for i := 0; i < rest; i++ {
		f := s.carry.Frames[n+i]
		s.carry.Frames[i].Time = f.Time
		copy(s.carry.Frames[i].Values, f.Values)
	}
	s.carry.Frames = s.carry.Frames[:rest]
}

// beginSegment starts the counts of a new segment.
func (s *Stream) beginSegment() {
	seg := s.stats.Segment + 1
	s.stats = pipeline.SourceStats{Segment: seg}
	s.lostBase = s.ds.CounterLost + s.ds.ClockLost
}
