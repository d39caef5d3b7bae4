package detect

// burst segments an envelope into bursts with hysteresis: a burst starts
// when the envelope rises above on, and ends when it has stayed below off
// for longer than gap (so the potentials of one burst merge).
type burst struct {
	gap int64

	open      bool
	start     int64 // first sample above on
	lastAbove int64 // last sample above off
	lastOn    int64 // last sample above on: the burst's core ends here
	rises     int   // separate rises above on (potentials)
	below     bool  // currently below off within an open burst
	peakEnv   float64
}

// result of one step.
type burstStep uint8

const (
	burstNone burstStep = iota
	burstOpened
	burstClosed // the burst [start, lastAbove] ended before this sample
)

func (b *burst) step(t int64, env, on, off float64) burstStep {
	if !b.open {
		if env > on {
			b.open, b.start, b.lastAbove, b.lastOn, b.rises, b.below, b.peakEnv = true, t, t, t, 1, false, env
			return burstOpened
		}
		return burstNone
	}
	switch {
	case env > on:
		if b.below {
			b.rises++
			b.below = false
		}
		b.lastAbove, b.lastOn = t, t
	case env > off:
		b.lastAbove = t
	default:
		b.below = true
		if t-b.lastAbove > b.gap {
			b.open = false
			return burstClosed
		}
	}
	if env > b.peakEnv {
		b.peakEnv = env
	}
	return burstNone
}

// run tracks how long a boolean condition has held, allowing gaps.
type run struct {
	gap       int64
	open      bool
	start     int64
	last      int64 // last time the condition held
	heldFor   int64 // time the condition held inside the run
	prevT     int64
	marked    bool // reported as long enough
	closedEnd int64
}

// step returns true when a run closes at this sample ([start, last]).
func (r *run) step(t int64, cond bool) (closed bool) {
	dt := t - r.prevT
	r.prevT = t
	if cond {
		if !r.open {
			r.open, r.start, r.last, r.heldFor, r.marked = true, t, t, 0, false
			return false
		}
		if dt > 0 && t-r.last <= r.gap {
			r.heldFor += dt
		}
		r.last = t
		return false
	}
	if r.open && t-r.last > r.gap {
		r.open = false
		r.closedEnd = r.last
		return true
	}
	return false
}

// span returns the current run's length.
func (r *run) span() int64 { return r.last - r.start }
