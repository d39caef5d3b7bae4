package detect

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/twitchd/twitchd/internal/dsp"
)

// floor tracks the robust noise floor of an envelope: a low quantile of
// its recent values (so that activity covering up to three quarters of
// the window does not lift it) and a spread estimated from the distance
// between that quantile and the 5th percentile, scaled as for a normal
// distribution. A second, short window lets the floor fall within
// seconds when activity stops: when the short window's quantile is well
// below the long one's (activity has just stopped), it is the level, and
// the spread is scaled with it (the spread of an RMS
// envelope of noise is proportional to its level).
type floor struct {
	win       *dsp.RobustWindow
	short     *dsp.RobustWindow
	longLevel float64
	step      int64 // ns between samples pushed into the window
	next      int64
	q         float64
	scale     float64 // 1 / (z(q) - z(0.05))
	every     int     // pushes between recomputations
	sinceCalc int
	level     float64
	spread    float64
	ready     bool
	minFill   int
}

func newFloor(step, window, short, q float64) *floor {
	n := int(math.Round(window / step))
	if n < 16 {
		n = 16
	}
	nShort := max(16, int(math.Round(short/step)))
	z := distuv.UnitNormal
	return &floor{
		win:     dsp.NewRobustWindow(n),
		short:   dsp.NewRobustWindow(nShort),
		step:    ns(step),
		q:       q,
		scale:   1 / (z.Quantile(q) - z.Quantile(0.05)),
		every:   max(1, n/40),
		minFill: max(8, n/10),
	}
}

// observe feeds one envelope value at time t; values are sampled every
// step. While frozen (inside a burst) nothing is pushed.
func (f *floor) observe(t int64, v float64, frozen bool) {
	if t < f.next || frozen {
		return
	}
	f.next = t + f.step
	f.win.Push(v)
	f.short.Push(v)
	f.sinceCalc++
	if f.sinceCalc >= f.every && f.win.Len() >= f.minFill {
		f.sinceCalc = 0
		lo := f.win.Quantile(0.05)
		f.longLevel = f.win.Quantile(f.q)
		f.level = f.longLevel
		f.spread = (f.level - lo) * f.scale
		if f.short.Len() == f.short.Cap() {
			if s := f.short.Quantile(f.q); s < 0.7*f.level && f.level > 0 {
				f.spread *= s / f.level
				f.level = s
			}
		}
		if f.spread < 0.02*f.level {
			// Quantised or constant input: keep the threshold above the floor.
			f.spread = 0.02 * f.level
		}
		f.ready = true
	}
}

// threshold returns max(level + sigma*spread, ratio*level, minAbs).
func (f *floor) threshold(sigma, ratio, minAbs float64) float64 {
	return math.Max(math.Max(f.level+sigma*f.spread, ratio*f.level), minAbs)
}
