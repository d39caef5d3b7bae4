package serial

import (
	"math"
	"time"
)

// HostTime is one reading of the host's clocks.
type HostTime struct {
	// Wall is the time of day (Unix ns), which sample times follow. NTP
	// or a person may step it, by hours or years on a board without a
	// real-time clock.
	Wall int64
	// Mono is a monotonic reading (ns from an arbitrary origin), which no
	// step moves: arrivals are measured on it.
	Mono int64
}

// IsZero reports whether t is no reading.
func (t HostTime) IsZero() bool { return t == HostTime{} }

// HostClock reads the host's clocks. SystemClock reads the real ones;
// tests and simulations give their own (a clock that runs faster, or is
// stepped on purpose).
type HostClock func() HostTime

// monoBase is the origin of SystemClock's monotonic readings.
var monoBase = time.Now()

// SystemClock reads time.Now: its wall clock and its monotonic reading.
func SystemClock() HostTime {
	now := time.Now()
	return HostTime{Wall: now.UnixNano(), Mono: int64(now.Sub(monoBase))}
}

// Clock defaults.
const (
	// DefaultTimeConstant is how slowly the clock follows the host: an
	// offset of e is corrected at e/DefaultTimeConstant per second.
	DefaultTimeConstant = 30 * time.Second
	// DefaultMaxSlew caps the correction at 2 % of elapsed time (20 ms per
	// second): far above crystal drift (tens of ppm), enough for a sketch
	// whose loop runs 1 % off its nominal rate, and small enough that
	// sample spacing stays within 2 % of nominal. A proportional
	// correction leaves a steady lag of TimeConstant × rate error (0.3 s
	// for 1 %).
	DefaultMaxSlew = 0.02
	// DefaultGapAfter is the smallest lateness taken as a gap in the stream
	// (at least ten sample periods).
	DefaultGapAfter = time.Second
	// DefaultStepLimit is the largest step of the host's wall clock that
	// is slewed out as drift is (at up to MaxSlew: 5 s take 4 to 8
	// minutes). A larger step starts a new segment whose times follow the
	// stepped clock at once.
	DefaultStepLimit = 5 * time.Second
	// driftWindow is the span over which the minimum lateness is taken:
	// the minimum ignores USB and scheduling delays, which only add.
	driftWindow = 2 * time.Second
	// stepTolerance: a change of the wall clock against the monotonic one
	// below this is not a step (the two are not read at the same instant).
	stepTolerance = time.Millisecond
)

// Step is a step of the host's wall clock that a Clock saw.
type Step struct {
	// By is how far the wall clock moved against the monotonic clock
	// (ns, positive forward); 0: no step.
	By int64
	// NewSegment is set when |By| exceeded StepLimit: the samples from
	// this Observe on follow the stepped clock at once, so they may lie
	// before earlier ones, and the caller starts a new segment there.
	// Otherwise the step is slewed out like drift.
	NewSegment bool
}

// Clock timestamps a device's samples. A sample's time is the host time
// of the first sample plus its device time (index / rate, or the device's
// own counter), plus an offset that follows the host clock slowly: every
// driftWindow the smallest lateness of arriving bytes against their
// predicted time is taken, and the offset is slewed by lateness /
// TimeConstant per second, capped at MaxSlew. Lateness is measured on the
// host's monotonic clock, so a step of its wall clock is neither drift
// nor a gap: it is seen as a change of the wall clock against the
// monotonic one, and slewed out (up to StepLimit) or taken at once in a
// new segment (beyond). Within a segment timestamps stay strictly
// increasing. Lateness beyond GapAfter is a gap: for index-based clocks
// the missing samples are counted and the index jumps over them.
//
// A Clock without a host (replay of a capture) stamps Start + device time.
type Clock struct {
	// TimeConstant, MaxSlew, GapAfter and StepLimit override the defaults
	// when non-zero.
	TimeConstant time.Duration
	MaxSlew      float64
	GapAfter     time.Duration
	StepLimit    time.Duration

	period   float64 // ns per sample
	host     bool
	base     int64   // wall time of device time 0 when anchored (Unix ns), or Start
	monoBase int64   // monotonic time of device time 0 when anchored
	origin   float64 // device time 0 moved by gaps since, ns (small: floats stay exact)
	offset   float64 // drift correction, ns
	slew     float64 // offset change per device ns
	wall     float64 // wall minus monotonic clock applied to timestamps, ns
	pending  float64 // part of a small step not slewed out yet, ns
	lastOff  int64   // wall minus monotonic clock at the last Observe
	lastDev  float64
	lastT    int64
	index    int64
	observed bool
	first    bool // the last Observe was the first one
	broken   bool // the stream broke (reconnection) since the last Observe
	winEnd   int64
	winMin   float64

	// Gaps counts gaps detected from the host clock; GapSamples the
	// samples they stood for (index-based clocks only).
	Gaps, GapSamples int64
	// Steps counts steps of the host's wall clock, Segments those of
	// them that started a new segment.
	Steps, Segments int64
}

// NewClock returns a Clock for rate Hz. With live true, times follow the
// host clock from the first Observe; otherwise they start at start.
func NewClock(rate float64, live bool, start time.Time) *Clock {
	c := &Clock{host: live, winMin: math.Inf(1)}
	if rate > 0 {
		c.period = 1e9 / rate
	}
	if !live {
		c.base = start.UnixNano()
	}
	return c
}

// Index returns the device time of the next sample by index (index/rate)
// and advances the index. Skip first for samples known to be lost.
func (c *Clock) Index() int64 {
	d := int64(float64(c.index) * c.period)
	c.index++
	return d
}

// Skip advances the index over n lost samples.
func (c *Clock) Skip(n int64) { c.index += n }

// Stamp returns the timestamp (Unix ns) for a sample at device time dev (ns).
func (c *Clock) Stamp(dev int64) int64 {
	d := float64(dev)
	if dd := d - c.lastDev; dd > 0 {
		c.offset += c.slew * dd
		if c.pending != 0 {
			// A small step is slewed out with what drift leaves of
			// MaxSlew, and at least half of it.
			ms := c.maxSlew()
			r := max(ms-math.Abs(c.slew), ms/2) * dd
			step := math.Copysign(min(math.Abs(c.pending), r), c.pending)
			c.wall += step
			c.pending -= step
		}
	}
	c.lastDev = d
	t := c.base + int64(c.origin+d+c.offset+c.wall)
	if t <= c.lastT && c.lastT != 0 {
		t = c.lastT + 1
	}
	c.lastT = t
	return t
}

// Observe tells the clock that bytes holding samples up to device time
// lastDev arrived at host time at. It returns how far (ns) the samples
// stamped since the previous Observe must move: on the first call, so
// the last sample lines up with its arrival; after a gap, forward over
// it; after a step that starts a new segment, by the step. Index-based
// clocks count the gap's samples as lost. A step of the wall clock is
// reported in step.
func (c *Clock) Observe(at HostTime, lastDev int64, indexBased bool) (shift int64, lost int64, step Step) {
	if !c.host {
		return 0, 0, Step{}
	}
	off := at.Wall - at.Mono
	if !c.observed {
		// Anchor: the last sample is stamped at its arrival. Samples
		// before were stamped from base 0.
		c.observed, c.first = true, true
		c.base, c.monoBase = at.Wall-lastDev, at.Mono-lastDev
		c.lastOff = off
		c.lastT += c.base
		c.winEnd = at.Mono + int64(driftWindow)
		return c.base, 0, Step{}
	}
	c.first = false
	if d := off - c.lastOff; d > int64(stepTolerance) || d < -int64(stepTolerance) {
		c.lastOff = off
		c.Steps++
		step.By = d
		if math.Abs(c.pending+float64(d)) <= float64(c.stepLimit()) {
			c.pending += float64(d)
		} else {
			step.NewSegment = true
			c.Segments++
			c.wall += c.pending + float64(d)
			c.pending = 0
			shift += d
		}
	}
	e := float64(at.Mono-c.monoBase) - (c.origin + float64(lastDev) + c.offset)
	gap := max(c.gapAfter(), 10*c.period)
	if c.broken {
		// After a reconnection any real lateness is samples we missed.
		gap = max(float64(breakGap), 3*c.period)
		c.broken = false
	}
	if e > gap {
		c.Gaps++
		var moved int64
		if indexBased && c.period > 0 {
			lost = int64(math.Round(e / c.period))
			c.index += lost
			c.lastDev += float64(lost) * c.period
			c.GapSamples += lost
			moved = int64(float64(lost) * c.period)
		} else {
			c.origin += e
			moved = int64(e)
		}
		shift += moved
		c.lastT += shift
		c.winMin = math.Inf(1)
		return shift, lost, step
	}
	c.lastT += shift
	c.winMin = min(c.winMin, e)
	if at.Mono >= c.winEnd {
		tc := c.TimeConstant
		if tc <= 0 {
			tc = DefaultTimeConstant
		}
		ms := c.maxSlew()
		c.slew = min(max(c.winMin/float64(tc), -ms), ms)
		c.winMin = math.Inf(1)
		c.winEnd = at.Mono + int64(driftWindow)
	}
	return shift, 0, step
}

// breakGap is the lateness taken as a gap right after a reconnection.
const breakGap = 100 * time.Millisecond

// Break tells the clock the stream was interrupted (a reconnection): the
// next Observe counts any lateness beyond 100 ms (or three periods) as
// missed samples instead of waiting for GapAfter. Samples the device never
// took while it was stopped are counted too; the count is an estimate.
func (c *Clock) Break() { c.broken = true }

// Slew returns the current drift correction rate (offset change per second of device time).
func (c *Clock) Slew() float64 { return c.slew }

// Pending returns the part of small host clock steps not slewed out yet
// (ns): how far sample times still are from the host's wall clock.
func (c *Clock) Pending() time.Duration { return time.Duration(c.pending) }

func (c *Clock) gapAfter() float64 {
	if c.GapAfter > 0 {
		return float64(c.GapAfter)
	}
	return float64(DefaultGapAfter)
}

func (c *Clock) maxSlew() float64 {
	if c.MaxSlew > 0 {
		return c.MaxSlew
	}
	return DefaultMaxSlew
}

func (c *Clock) stepLimit() time.Duration {
	if c.StepLimit > 0 {
		return c.StepLimit
	}
	return DefaultStepLimit
}

// observedOnce reports whether the last Observe was not the anchoring one.
func (c *Clock) observedOnce() bool { return c.observed && !c.first }
