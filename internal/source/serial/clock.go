package serial

import (
	"math"
	"time"
)

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
	// driftWindow is the span over which the minimum lateness is taken:
	// the minimum ignores USB and scheduling delays, which only add.
	driftWindow = 2 * time.Second
)

// Clock timestamps a device's samples. A sample's time is the host time
// of the first sample plus its device time (index / rate, or the device's
// own counter), plus an offset that follows the host clock slowly: every
// driftWindow the smallest lateness of arriving bytes against their
// predicted time is taken, and the offset is slewed by lateness /
// TimeConstant per second, capped at MaxSlew. Timestamps stay strictly
// increasing. Lateness beyond GapAfter is a gap: for index-based clocks
// the missing samples are counted and the index jumps over them.
//
// A Clock without a host (replay of a capture) stamps Start + device time.
type Clock struct {
	// TimeConstant, MaxSlew and GapAfter override the defaults when non-zero.
	TimeConstant time.Duration
	MaxSlew      float64
	GapAfter     time.Duration

	period   float64 // ns per sample
	host     bool
	origin   float64 // host ns of device time 0
	offset   float64 // drift correction, ns
	slew     float64 // offset change per device ns
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
}

// NewClock returns a Clock for rate Hz. With live true, times follow the
// host clock from the first Observe; otherwise they start at start.
func NewClock(rate float64, live bool, start time.Time) *Clock {
	c := &Clock{host: live, winMin: math.Inf(1)}
	if rate > 0 {
		c.period = 1e9 / rate
	}
	if !live {
		c.origin = float64(start.UnixNano())
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
	if c.slew != 0 && d > c.lastDev {
		c.offset += c.slew * (d - c.lastDev)
	}
	c.lastDev = d
	t := int64(c.origin + d + c.offset)
	if t <= c.lastT && c.lastT != 0 {
		t = c.lastT + 1
	}
	c.lastT = t
	return t
}

// Observe tells the clock that bytes holding samples up to device time
// lastDev arrived at host time at (Unix ns). It returns how far (ns) the
// samples stamped since the previous Observe must move: on the first
// call, back so the last sample lines up with its arrival; after a gap,
// forward over it. Index-based clocks count the gap's samples as lost.
func (c *Clock) Observe(at, lastDev int64, indexBased bool) (shift int64, lost int64) {
	if !c.host {
		return 0, 0
	}
	e := float64(at) - (c.origin + float64(lastDev) + c.offset)
	if !c.observed {
		c.observed = true
		c.first = true
		c.origin += e
		c.lastT += int64(e)
		c.winEnd = at + int64(driftWindow)
		return int64(e), 0
	}
	c.first = false
	gap := max(c.gapAfter(), 10*c.period)
	if c.broken {
		// After a reconnection any real lateness is samples we missed.
		gap = max(float64(breakGap), 3*c.period)
		c.broken = false
	}
	if e > gap {
		c.Gaps++
		if indexBased && c.period > 0 {
			lost = int64(math.Round(e / c.period))
			c.index += lost
			c.lastDev += float64(lost) * c.period
			c.GapSamples += lost
			shift = int64(float64(lost) * c.period)
		} else {
			c.origin += e
			shift = int64(e)
		}
		c.lastT += shift
		c.winMin = math.Inf(1)
		return shift, lost
	}
	c.winMin = min(c.winMin, e)
	if at >= c.winEnd {
		tc := c.TimeConstant
		if tc <= 0 {
			tc = DefaultTimeConstant
		}
		ms := c.MaxSlew
		if ms <= 0 {
			ms = DefaultMaxSlew
		}
		c.slew = min(max(c.winMin/float64(tc), -ms), ms)
		c.winMin = math.Inf(1)
		c.winEnd = at + int64(driftWindow)
	}
	return 0, 0
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

func (c *Clock) gapAfter() float64 {
	if c.GapAfter > 0 {
		return float64(c.GapAfter)
	}
	return float64(DefaultGapAfter)
}

// observedOnce reports whether the last Observe was not the anchoring one.
func (c *Clock) observedOnce() bool { return c.observed && !c.first }
