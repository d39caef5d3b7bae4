package detect

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/twitchd/twitchd/internal/dsp"
)

// Range and resolution of the floors' histograms: envelopes in mV or g
// from 1 pV to 10 kV, in 2 % bins.
const (
	floorLo, floorHi, floorRes = 1e-9, 1e4, 0.02
)

// floor tracks the robust noise floor of an envelope: a low quantile of
// its recent values (so that activity covering up to three quarters of
// the window does not lift it) and a spread estimated from the distance
// between that quantile and the 5th percentile, scaled as for a normal
// distribution. A second, short window lets the floor fall within
// seconds when activity stops: when the short window's quantile is well
// below the long one's (activity has just stopped: below 0.7 of it, and
// until it is back above 0.85), it is the level, and the spread is scaled
// with it (the spread of an RMS envelope of noise is proportional to its
// level). The quantiles come from sliding log-binned
// histograms (dsp.SlidingQuantiles), so an update costs a few bin moves,
// not a selection over the window.
type floor struct {
	win, short *dsp.SlidingQuantiles
	step       int64 // ns between samples pushed into the window
	next       int64
	scale      float64 // 1 / (z(q) - z(0.05))
	level      float64
	spread     float64
	ready      bool
	fallen     bool // the short window's level is in use (activity just stopped)
	minFill    int
	version    int // incremented whenever level or spread change
}

func newFloor(step, window, short, q float64) *floor {
	n := max(16, int(math.Round(window/step)))
	nShort := max(16, int(math.Round(short/step)))
	z := distuv.UnitNormal
	return &floor{
		win:     dsp.NewSlidingQuantiles(n, floorLo, floorHi, floorRes, 0.05, q),
		short:   dsp.NewSlidingQuantiles(nShort, floorLo, floorHi, floorRes, q),
		step:    ns(step),
		scale:   1 / (z.Quantile(q) - z.Quantile(0.05)),
		minFill: max(8, n/10),
	}
}

// observe feeds one envelope value at time t; values are sampled every
// step. While frozen (inside a burst) nothing is pushed. It reports
// whether the level or spread changed.
func (f *floor) observe(t int64, v float64, frozen bool) bool {
	if t < f.next || frozen {
		return false
	}
	f.next = t + f.step
	f.win.Push(v)
	f.short.Push(v)
	if f.win.Len() < f.minFill {
		return false
	}
	lo := f.win.Quantile(0)
	level := f.win.Quantile(1)
	spread := (level - lo) * f.scale
	if f.short.Len() == f.short.Cap() && level > 0 {
		// With hysteresis: the short level takes over below 0.7 of the
		// long one and hands back above 0.85, so the threshold does not
		// jump up and down while the long window forgets the activity.
		s := f.short.Quantile(0)
		f.fallen = s < 0.7*level || (f.fallen && s < 0.85*level)
		if f.fallen {
			spread *= s / level
			level = s
		}
	}
	// Quantised or constant input: keep the threshold above the floor.
	spread = max(spread, 0.02*level)
	if level == f.level && spread == f.spread && f.ready {
		return false
	}
	f.level, f.spread, f.ready = level, spread, true
	f.version++
	return true
}

// threshold returns max(level + sigma*spread, ratio*level, minAbs).
func (f *floor) threshold(sigma, ratio, minAbs float64) float64 {
	return math.Max(math.Max(f.level+sigma*f.spread, ratio*f.level), minAbs)
}
