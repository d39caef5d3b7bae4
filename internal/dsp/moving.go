package dsp

import "math"

// ring holds the last len(buf) values pushed.
type ring struct {
	buf   []float64
	pos   int // next slot to write
	count int // values held, up to len(buf)
}

func newRing(what string, n int) ring {
	if n < 1 {
		panic("dsp: " + what + ": window length must be at least 1")
	}
	return ring{buf: make([]float64, n)}
}

// push stores v and returns the value it replaced and whether the ring was
// already full (if not, old is meaningless).
func (r *ring) push(v float64) (old float64, full bool) {
	old, full = r.buf[r.pos], r.count == len(r.buf)
	r.buf[r.pos] = v
	r.pos++
	if r.pos == len(r.buf) {
		r.pos = 0
	}
	if !full {
		r.count++
	}
	return old, full
}

// held returns the values held, in storage (not arrival) order.
func (r *ring) held() []float64 { return r.buf[:r.count] }

func (r *ring) reset() {
	clear(r.buf)
	r.pos, r.count = 0, 0
}

// runningSum is the ring and running sum shared by MovingRMS and
// MovingAverage. Each step adds v - old to the sum (a single rounding, so a
// constant input leaves the sum untouched), and every n steps the sum is
// recomputed from the ring with compensated summation, so rounding errors
// cannot accumulate beyond one window's worth.
type runningSum struct {
	ring
	since int // steps since the last exact recomputation
	sum   float64
}

// push stores v (already squared for RMS) and returns the updated sum.
func (w *runningSum) push(v float64) float64 {
	if old, full := w.ring.push(v); full {
		w.sum += v - old
	} else {
		w.sum += v
	}
	w.since++
	if w.since >= len(w.buf) {
		w.since = 0
		w.sum = compensatedSum(w.held())
	}
	return w.sum
}

func (w *runningSum) reset() {
	w.ring.reset()
	w.since, w.sum = 0, 0
}

// compensatedSum returns the sum of s with Neumaier's compensated summation,
// accurate to about one rounding whatever len(s).
func compensatedSum(s []float64) float64 {
	var sum, c float64
	for _, x := range s {
		t := sum + x
		if math.Abs(sum) >= math.Abs(x) {
			c += (sum - t) + x
		} else {
			c += (x - t) + sum
		}
		sum = t
	}
	return sum + c
}

// MovingRMS is the root mean square over the last n samples:
//
//	rms[k] = sqrt( (x[k-m+1]^2 + ... + x[k]^2) / m ),  m = min(k+1, n)
//
// so during start-up (fewer than n samples seen) it averages what it has.
// It keeps a running sum of squares, updated per sample and recomputed
// from the ring every n steps (compensated summation) so it cannot drift;
// a tiny negative sum from rounding is clamped to 0. Step is O(1) amortised (O(n) once every
// n steps) and allocates nothing.
type MovingRMS struct{ w runningSum }

// NewMovingRMS returns a MovingRMS over n samples. It panics if n < 1.
func NewMovingRMS(n int) *MovingRMS { return &MovingRMS{w: runningSum{ring: newRing("MovingRMS", n)}} }

// Step adds x and returns the RMS of the window ending with x.
func (m *MovingRMS) Step(x float64) float64 {
	s := m.w.push(x * x)
	return math.Sqrt(max(s, 0) / float64(m.w.count))
}

// Value returns the RMS of the current window, 0 before the first sample.
func (m *MovingRMS) Value() float64 {
	if m.w.count == 0 {
		return 0
	}
	return math.Sqrt(max(m.w.sum, 0) / float64(m.w.count))
}

// Len returns the window length n.
func (m *MovingRMS) Len() int { return len(m.w.buf) }

// Reset forgets every sample.
func (m *MovingRMS) Reset() { m.w.reset() }

// MovingAverage is the arithmetic mean over the last n samples,
//
//	avg[k] = (x[k-m+1] + ... + x[k]) / m,  m = min(k+1, n),
//
// averaging what it has during start-up, with the same running sum and
// exact recomputation every n steps as MovingRMS. Step allocates nothing.
type MovingAverage struct{ w runningSum }

// NewMovingAverage returns a MovingAverage over n samples. It panics if n < 1.
func NewMovingAverage(n int) *MovingAverage {
	return &MovingAverage{w: runningSum{ring: newRing("MovingAverage", n)}}
}

// Step adds x and returns the mean of the window ending with x.
func (m *MovingAverage) Step(x float64) float64 {
	return m.w.push(x) / float64(m.w.count)
}

// Value returns the mean of the current window, 0 before the first sample.
func (m *MovingAverage) Value() float64 {
	if m.w.count == 0 {
		return 0
	}
	return m.w.sum / float64(m.w.count)
}

// Len returns the window length n.
func (m *MovingAverage) Len() int { return len(m.w.buf) }

// Reset forgets every sample.
func (m *MovingAverage) Reset() { m.w.reset() }

// TKEO is the Teager-Kaiser energy operator
//
//	psi[n] = x[n]^2 - x[n-1] x[n+1].
//
// Step(x[n+1]) returns psi[n], one sample late because psi needs the next
// sample. Samples before the first are taken as 0, so the first Step returns
// 0 and the second returns x[0]^2. For x[n] = A sin(Ωn + φ), psi[n] =
// A^2 sin^2(Ω) for every n: it tracks amplitude times frequency. The zero
// value is ready to use; Step allocates nothing.
type TKEO struct {
	x1, x2 float64 // x[n] and x[n-1] for the next call
}

// Step takes the newest sample x[n+1] and returns psi[n].
func (t *TKEO) Step(x float64) float64 {
	psi := t.x1*t.x1 - t.x2*x
	t.x2, t.x1 = t.x1, x
	return psi
}

// Reset forgets the previous samples.
func (t *TKEO) Reset() { t.x1, t.x2 = 0, 0 }

// OnePole is an exponential smoother (first-order lowpass) with time
// constant tau seconds at sampling rate fs Hz:
//
//	y[n] = y[n-1] + alpha (x[n] - y[n-1]),  alpha = 1 - exp(-1/(tau fs)),
//
// so after a step the output covers 1 - 1/e of the distance in tau seconds.
// Unless Set was called first, the first Step starts the output at x[0]
// (no start-up ramp from 0). tau <= 0 means no smoothing (alpha = 1).
type OnePole struct {
	alpha  float64
	y      float64
	primed bool
}

// NewOnePole returns a smoother with time constant tau seconds at rate fs
// Hz. It panics if fs is not positive and finite or tau is NaN.
func NewOnePole(tau, fs float64) *OnePole {
	if !(fs > 0) || math.IsInf(fs, 0) || math.IsNaN(tau) {
		panic("dsp: NewOnePole: fs must be positive and finite and tau a number")
	}
	a := 1.0
	if tau > 0 {
		a = -math.Expm1(-1 / (tau * fs))
	}
	return &OnePole{alpha: a}
}

// Step adds x and returns the smoothed value.
func (o *OnePole) Step(x float64) float64 {
	if !o.primed {
		o.y, o.primed = x, true
		return x
	}
	o.y += o.alpha * (x - o.y)
	return o.y
}

// Value returns the current smoothed value (0 before the first Step or Set).
func (o *OnePole) Value() float64 { return o.y }

// Set forces the smoothed value to v; the next Step continues from it.
func (o *OnePole) Set(v float64) { o.y, o.primed = v, true }

// Alpha returns the smoothing coefficient 1 - exp(-1/(tau fs)).
func (o *OnePole) Alpha() float64 { return o.alpha }
