package dsp

import (
	"fmt"
	"math"
)

// MaxMainsHarmonics is the most harmonics a MainsCanceller follows.
const MaxMainsHarmonics = 8

// MainsCanceller removes power-line interference whose frequency drifts:
// an adaptive noise canceller (Widrow et al. 1975) with one pair of
// weights per harmonic against a sine and cosine reference at h·f, and a
// frequency-locked loop that keeps f on the mains. A fixed notch of
// quality q leaves a tone δ Hz off its centre at about
// δ/sqrt(δ² + (f/2q)²) of its amplitude (a tenth at 0.1 Hz off 50 Hz with
// q 30), and grids drift by tenths of a hertz; here the references follow
// the fundamental, so every harmonic stays in its narrow notch.
//
// The weights adapt by LMS with a step that makes each harmonic's notch
// bw Hz wide (time constant 1/(π·bw) s): amplitude changes over seconds
// are followed, a twitch of tens of milliseconds barely moves them. The
// fundamental's complex weight turns at the rate the mains is off the
// reference; every block of about 50 ms that turn moves the reference's
// frequency by a fraction of the offset it shows, within maxOff Hz of the
// nominal frequency, and only while the fundamental stands well above the
// weights' own noise (no mains, or strong activity, leaves it alone).
//
// Step allocates nothing. A MainsCanceller is not safe for concurrent use.
type MainsCanceller struct {
	fs, nominal, f, maxOff float64
	mu                     float64
	h                      int
	zr, zi                 float64 // e^{iφ}, the fundamental's phase
	rr, ri                 float64 // e^{i2πf/fs}, its step per sample
	a, b                   [MaxMainsHarmonics]float64
	cr, ci                 [MaxMainsHarmonics]float64
	block, n               int
	pr, pi                 float64 // the fundamental's weight at the last block
	havePrev               bool
	e2, alpha              float64 // running power of the output
	kappa                  float64 // loop gain per block
	hold                   bool
}

// NewMainsCanceller returns a canceller for mains at nominal Hz (50 or
// 60), following harmonics up to the given count below 0.45 fs, with
// notches bw Hz wide, letting the frequency drift at most maxOff Hz from
// nominal. It returns an error wrapping ErrParam for a bad rate, a
// nominal frequency not below 0.45 fs, harmonics outside
// 1..MaxMainsHarmonics, or bw or maxOff not positive.
func NewMainsCanceller(nominal float64, harmonics int, bw, maxOff, fs float64) (*MainsCanceller, error) {
	const what = "mains canceller"
	if err := checkRate(what, fs); err != nil {
		return nil, err
	}
	if !(nominal > 0) || !(nominal < 0.45*fs) {
		return nil, fmt.Errorf("%w: %s: %g Hz is not in (0, 0.45 fs)", ErrParam, what, nominal)
	}
	if harmonics < 1 || harmonics > MaxMainsHarmonics {
		return nil, fmt.Errorf("%w: %s: harmonics %d not in 1..%d", ErrParam, what, harmonics, MaxMainsHarmonics)
	}
	if !(bw > 0) || !(maxOff > 0) || math.IsInf(bw, 0) || math.IsInf(maxOff, 0) {
		return nil, fmt.Errorf("%w: %s: bandwidth %g and drift %g Hz must be positive", ErrParam, what, bw, maxOff)
	}
	h := 0
	for h < harmonics && float64(h+1)*(nominal+maxOff) < 0.45*fs {
		h++
	}
	m := &MainsCanceller{
		fs: fs, nominal: nominal, maxOff: maxOff, h: max(h, 1),
		// The notch of w += μ e ref (unit references) has its poles at
		// radius 1-μ/2: a -3 dB width of μ rad/sample.
		mu:    2 * math.Pi * bw / fs,
		zr:    1,
		block: max(1, int(math.Round(0.05*fs))),
	}
	// A time constant of a second for the output power.
	m.alpha = 1 / fs
	// The weights follow a turn within 1/(π bw) s; move the frequency by
	// a block's worth of that at most, so the loop stays well behind the
	// weights it reads.
	tau := 1 / (math.Pi * bw)
	m.kappa = min(0.5, float64(m.block)/fs/(2*tau))
	m.setFreq(nominal)
	return m, nil
}

func (m *MainsCanceller) setFreq(f float64) {
	m.f = min(max(f, m.nominal-m.maxOff), m.nominal+m.maxOff)
	m.ri, m.rr = math.Sincos(2 * math.Pi * m.f / m.fs)
}

// Freq returns the frequency the canceller is locked to, in Hz.
func (m *MainsCanceller) Freq() float64 { return m.f }

// Amplitude returns the amplitude of the fundamental it removes.
func (m *MainsCanceller) Amplitude() float64 { return math.Hypot(m.a[0], m.b[0]) }

// Harmonics returns how many harmonics it follows.
func (m *MainsCanceller) Harmonics() int { return m.h }

// Ref returns the cosine and sine reference of harmonic k (0 for the
// fundamental) at the last sample Step took: with them a caller can
// measure how much of a stretch of the output is still at the mains
// frequencies.
func (m *MainsCanceller) Ref(k int) (c, s float64) { return m.cr[k], m.ci[k] }

// Hold stops (true) or resumes (false) adaptation: while held the
// canceller goes on removing what it has learnt, and a burst that is not
// mains (a twitch) does not leave a ring behind it.
func (m *MainsCanceller) Hold(h bool) { m.hold = h }

// Step removes the mains from one sample and returns what is left.
func (m *MainsCanceller) Step(x float64) float64 {
	zr, zi := m.zr, m.zi
	cr, ci := zr, zi
	h := m.h
	wa, wb, rc, rs := m.a[:h], m.b[:h], m.cr[:h], m.ci[:h]
	est := 0.0
	for k := range wa {
		rc[k], rs[k] = cr, ci
		est += wa[k]*cr + wb[k]*ci
		cr, ci = cr*zr-ci*zi, cr*zi+ci*zr
	}
	e := x - est
	if !m.hold {
		g := m.mu * e
		for k := range wa {
			wa[k] += g * rc[k]
			wb[k] += g * rs[k]
		}
		m.e2 += m.alpha * (e*e - m.e2)
	}
	m.zr, m.zi = zr*m.rr-zi*m.ri, zr*m.ri+zi*m.rr
	if m.n++; m.n >= m.block {
		m.n = 0
		m.lock()
	}
	return e
}

// lock renormalises the phasor and moves the frequency by a share of the
// fundamental weight's turn since the last block.
func (m *MainsCanceller) lock() {
	g := 1 / math.Hypot(m.zr, m.zi)
	m.zr, m.zi = m.zr*g, m.zi*g
	// The fundamental is a cos φ + b sin φ = Re((a - ib) e^{iφ}); a tone
	// at f+δ makes a - ib turn by 2πδ per second.
	wr, wi := m.a[0], -m.b[0]
	if m.hold {
		m.havePrev = false
		return
	}
	// The weights' own noise: each has a variance of about μ e²/4.
	strong := wr*wr+wi*wi > 20*m.mu*m.e2
	if !strong {
		m.havePrev = false
		return
	}
	if m.havePrev {
		// arg(w · conj(prev))
		turn := math.Atan2(wi*m.pr-wr*m.pi, wr*m.pr+wi*m.pi)
		off := turn / (2 * math.Pi * float64(m.block) / m.fs)
		m.setFreq(m.f + m.kappa*off)
	}
	m.pr, m.pi, m.havePrev = wr, wi, true
}
