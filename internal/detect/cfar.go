package detect

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/twitchd/twitchd/internal/dsp"
)

// cfar is a constant-false-alarm-rate test for the damped oscillation of a
// visible twitch in a three-axis accelerometer.
//
// Each band-passed axis is divided by its own noise sigma: the median of
// its absolute value over the last CFARNoiseWindow seconds of quiet, over
// 0.6745 (or over the last CFARNoiseShort seconds when that is below 0.7
// of it: movement has just stopped), but never below QuantFloor ADC
// steps (a sensor whose noise is smaller than its step toggles between
// steps, and those toggles are not movement). The statistics are the
// energies of the three whitened axes over the last AccWindow and
// AccWindowLong seconds: a damped oscillation in any direction puts most
// of its energy in the first if it dies within tens of milliseconds, in
// the second if it rings for a hundred or more.
//
// For Gaussian noise through the band-pass, whose samples are correlated,
// each energy is a weighted sum of chi-squares, which Satterthwaite's
// approximation turns into a scaled chi-square: each window's threshold
// is its 1-p/2 quantile, p being AccFalseAlarms per hour over the samples
// of an hour. The statistic's own distribution over the last
// CFARTailWindow seconds of quiet then raises a threshold when its tail is
// heavier than the model says: by the ratio of its empirical 0.95
// quantile to the model's, at most CFARMaxRatio (a quantile twitches at
// tens per minute hardly
// move; the 0.99 and 0.999 quantiles would follow the twitches and let
// the threshold climb away from them).
//
// What the noise estimates learn from waits in a delay line until the
// context of its time is known (the rhythm verdicts come seconds late):
// samples of rhythmic activity or movement, and those within CFARGuard
// seconds of a detection, are dropped, so neither a walk nor the twitches
// raise the threshold the rest is judged by.
type cfar struct {
	axis     [3]*dsp.SlidingQuantiles // |band-passed axis|, median
	recent   [3]*dsp.SlidingQuantiles // the same over the last CFARNoiseShort seconds
	boot     [3]*dsp.SlidingQuantiles // the same, undelayed, until the delayed estimates exist
	steps    [3]*dsp.SlidingQuantiles // non-zero |change| of each raw axis, q0.1
	sigma    [3]float64
	step     [3]float64 // ADC step per axis (0: none seen yet)
	prev     [3]float64
	seen     bool
	quant    float64 // sigma floor in ADC steps
	minSigma float64

	wins []energyWindow

	line     []learnt // samples waiting for their context, oldest at head
	head, n  int
	every    int // one sample in every learns the per-axis noise
	count    int
	learnt   int       // samples learnt
	dets     [64]int64 // recent detection times, a ring
	dHead    int
	dN       int
	guard    int64
	inRecent func(t int64) bool // reports rhythm or movement at t
	nextT    int64

	lastEnergy float64 // whitened energy of the last sample
}

// cfarLearnHz is how many samples a second the per-axis noise estimates
// take (the short window's median must be steady: a low one lowers the
// threshold), and cfarTailEvery how many of those the tail skips: a 0.95
// quantile over minutes needs no more, and every value costs a bin
// lookup in each estimate.
const (
	cfarLearnHz   = 50
	cfarTailEvery = 5
)

// learnt is one sample waiting in the delay line.
type learnt struct {
	t      int64
	abs    [3]float32 // |band-passed axes|
	e      [2]float32 // the windows' energies
	useAbs bool       // one of the samples the estimates take
	quiet  bool
}

// energyWindow is the whitened energy over the last w samples and its
// threshold.
type energyWindow struct {
	w         int
	ring      []float64
	pos       int
	sum       float64
	since     int
	tGauss    float64 // threshold for Gaussian noise
	q95       float64 // the model's 0.95 quantile
	tail      *dsp.SlidingQuantiles
	minTail   int
	maxRatio  float64
	threshold float64
}

// newCFAR returns the test for an accelerometer at fs Hz whose twitch
// band-pass has impulse response h (long enough to have decayed); busy
// reports whether rhythmic activity or movement was seen at a time, and
// is asked about times delay seconds old.
func newCFAR(cfg *Config, fs float64, h []float64, delay float64, busy func(int64) bool) *cfar {
	c := &cfar{
		quant:    cfg.QuantFloor,
		minSigma: 1e-6,
		guard:    ns(cfg.CFARGuard),
		inRecent: busy,
		every:    max(1, int(math.Round(fs/cfarLearnHz))),
	}
	p := cfg.AccFalseAlarms / (3600 * fs) / 2
	perSec := fs / float64(c.every)
	tailN := max(64, int(cfg.CFARTailWindow*perSec/cfarTailEvery))
	for _, sec := range []float64{cfg.AccWindow, cfg.AccWindowLong} {
		w := max(1, int(math.Round(sec*fs)))
		scale, dof := satterthwaite(h, w)
		model := distuv.ChiSquared{K: 3 * dof}
		e := energyWindow{
			w:        w,
			ring:     make([]float64, w),
			tGauss:   scale * model.Quantile(1-p),
			q95:      scale * model.Quantile(0.95),
			tail:     dsp.NewSlidingQuantiles(tailN, 1e-3, 1e6, 0.01, 0.95),
			minTail:  min(tailN, int(30*perSec/cfarTailEvery)),
			maxRatio: cfg.CFARMaxRatio,
		}
		e.threshold = e.tGauss
		c.wins = append(c.wins, e)
	}
	c.line = make([]learnt, int(math.Ceil(delay*fs))+1)
	for k := range c.axis {
		c.axis[k] = dsp.NewSlidingQuantiles(max(16, int(cfg.CFARNoiseWindow*perSec)), 1e-7, 100, 0.01, 0.5)
		c.recent[k] = dsp.NewSlidingQuantiles(max(16, int(cfg.CFARNoiseShort*perSec)), 1e-7, 100, 0.01, 0.5)
		c.boot[k] = dsp.NewSlidingQuantiles(max(16, int(cfg.CFARNoiseShort*perSec)), 1e-7, 100, 0.01, 0.5)
		c.steps[k] = dsp.NewSlidingQuantiles(max(16, int(cfg.CFARNoiseWindow*perSec)), 1e-7, 100, 0.01, 0.1)
	}
	return c
}

// satterthwaite returns the scale a and degrees of freedom v such that
// a chi-square with v degrees of freedom, times a, has the mean and
// variance of the energy of w consecutive samples of unit-variance
// Gaussian noise passed through a filter with impulse response h: with
// rho the noise's autocorrelation, the energy's mean is w and its
// variance 2 tr(R²), R the w×w Toeplitz matrix of rho.
func satterthwaite(h []float64, w int) (scale, dof float64) {
	var e0 float64
	for _, v := range h {
		e0 += v * v
	}
	tr2 := float64(w)
	for k := 1; k < w; k++ {
		var r float64
		for i := 0; i+k < len(h); i++ {
			r += h[i] * h[i+k]
		}
		r /= e0
		tr2 += 2 * float64(w-k) * r * r
	}
	return tr2 / float64(w), float64(w) * float64(w) / tr2
}

// observe takes one sample: the raw axes (g), the band-passed axes and
// whether the limb is still at this instant. It returns the test's level:
// the largest ratio of a window's energy to its threshold (a detection
// above 1).
func (c *cfar) observe(t int64, raw, bp [3]float64, still bool) float64 {
	c.count++
	sampled := c.count%c.every == 0
	if sampled {
		c.trackSteps(raw)
	}
	c.prev, c.seen = raw, true
	var e float64
	for k := 0; k < 3; k++ {
		if c.sigma[k] > 0 {
			z := bp[k] / c.sigma[k]
			e += z * z
		}
	}
	c.lastEnergy = e
	level := 0.0
	for i := range c.wins {
		level = max(level, c.wins[i].add(e)/c.wins[i].threshold)
	}
	if level > 1 {
		c.detected(t)
	}
	if sampled && still && !c.delayedReady() {
		c.bootstrap(bp)
	}
	c.enqueue(learnt{
		t:   t,
		abs: [3]float32{float32(math.Abs(bp[0])), float32(math.Abs(bp[1])), float32(math.Abs(bp[2]))},
		e:   [2]float32{float32(c.wins[0].sum), float32(c.wins[1].sum)}, useAbs: sampled, quiet: still,
	})
	if t >= c.nextT {
		c.nextT = t + ns(0.5)
		for i := range c.wins {
			c.wins[i].update()
		}
	}
	return level
}

// add takes one sample's energy and returns the window's.
func (w *energyWindow) add(e float64) float64 {
	old := w.ring[w.pos]
	w.ring[w.pos] = e
	if w.pos++; w.pos == w.w {
		w.pos = 0
	}
	w.sum += e - old
	if w.since++; w.since >= 64*w.w {
		w.since, w.sum = 0, 0
		for _, v := range w.ring {
			w.sum += v
		}
	}
	return max(w.sum, 0)
}

// detected remembers a detection at t, so what surrounds it is not
// learnt as noise.
func (c *cfar) detected(t int64) {
	n := len(c.dets)
	if c.dN > 0 {
		if last := &c.dets[(c.dHead+c.dN-1)%n]; t-*last < c.guard/4 {
			*last = t // the same detection goes on
			return
		}
	}
	if c.dN == n { // forget the oldest
		c.dHead = (c.dHead + 1) % n
		c.dN--
	}
	c.dets[(c.dHead+c.dN)%n] = t
	c.dN++
}

// nearDetection reports whether a detection lies within the guard of t,
// forgetting those too old to matter for t or anything after it.
func (c *cfar) nearDetection(t int64) bool {
	for c.dN > 0 && c.dets[c.dHead] < t-c.guard {
		c.dHead = (c.dHead + 1) % len(c.dets)
		c.dN--
	}
	return c.dN > 0 && c.dets[c.dHead] <= t+c.guard
}

// enqueue adds a sample to the delay line and learns from the one that
// leaves it, if its context allows.
func (c *cfar) enqueue(s learnt) {
	if c.n == len(c.line) {
		c.learn(c.line[c.head])
		if c.head++; c.head == len(c.line) {
			c.head = 0
		}
		c.n--
	}
	i := c.head + c.n
	if i >= len(c.line) {
		i -= len(c.line)
	}
	c.line[i] = s
	c.n++
}

// learn updates the noise estimates with a sample whose context is known.
func (c *cfar) learn(s learnt) {
	if !s.useAbs || !s.quiet || c.nearDetection(s.t) || c.inRecent(s.t) {
		return
	}
	if c.learnt++; c.learnt%cfarTailEvery == 0 {
		for k := range c.step {
			// An axis that never changed has no step yet (NaN): keep 0.
			if q := c.steps[k].Quantile(0); !math.IsNaN(q) {
				c.step[k] = q
			}
		}
		for i := range c.wins {
			c.wins[i].tail.Push(float64(s.e[i]))
		}
	}
	every := c.learnt%cfarTailEvery == 0
	for k := 0; k < 3; k++ {
		a := float64(s.abs[k])
		c.axis[k].Push(a)
		c.recent[k].Push(a)
		if !every && c.sigma[k] > 0 {
			continue // the estimates move slowly: read them at a fifth of the rate
		}
		m := c.axis[k].Quantile(0)
		if r := c.recent[k]; r.Len() == r.Cap() && r.Quantile(0) < 0.7*m {
			// Movement that just stopped still fills the long window:
			// the short one lets the noise fall within seconds.
			m = r.Quantile(0)
		}
		c.sigma[k] = max(m/0.6745, c.step[k]*c.quant, c.minSigma)
	}
}

// trackSteps estimates each axis's ADC step: a low quantile (0.1) of the
// non-zero changes between consecutive samples. On a quantised sensor
// that is one step; on one whose noise spans many steps it is a fraction
// of the noise, too small to matter; a rare odd change (rounding in a
// file, a rescaled range) does not move it.
func (c *cfar) trackSteps(raw [3]float64) {
	if !c.seen {
		return
	}
	for k := 0; k < 3; k++ {
		if d := math.Abs(raw[k] - c.prev[k]); d > 1e-9 {
			c.steps[k].Push(d)
		}
	}
}

// update sets the threshold from the model and the tail.
func (w *energyWindow) update() {
	if w.tail.Len() >= w.minTail {
		w.threshold = w.tGauss * min(max(1, w.tail.Quantile(0)/w.q95), w.maxRatio)
	}
}

// ratio is how far the thresholds stand above the Gaussian model's, at
// most.
func (c *cfar) ratio() float64 {
	r := 1.0
	for _, w := range c.wins {
		r = max(r, w.threshold/w.tGauss)
	}
	return r
}

// noise returns the RMS of the three axes' noise sigmas, in g.
func (c *cfar) noise() float64 {
	return math.Sqrt((c.sigma[0]*c.sigma[0] + c.sigma[1]*c.sigma[1] + c.sigma[2]*c.sigma[2]) / 3)
}

// delayedReady reports whether every axis has a noise estimate from at
// least two seconds of quiet whose context is known (or the whole window,
// if shorter).
func (c *cfar) delayedReady() bool {
	for _, a := range c.axis {
		if a.Len() < min(a.Cap(), 2*cfarLearnHz) {
			return false
		}
	}
	return true
}

// bootstrap estimates the noise from the last CFARNoiseShort seconds of
// still samples as they come, while the delay line has not delivered
// enough: a short recording's first rest after exercise is otherwise
// untested for the length of the delay.
func (c *cfar) bootstrap(bp [3]float64) {
	for k := 0; k < 3; k++ {
		b := c.boot[k]
		b.Push(math.Abs(bp[k]))
		if b.Len() >= min(b.Cap(), 2*cfarLearnHz) {
			c.sigma[k] = max(b.Quantile(0)/0.6745, c.step[k]*c.quant, c.minSigma)
		}
	}
}

// ready reports whether every axis has a noise estimate: from the delay
// line, or from the bootstrap until then.
func (c *cfar) ready() bool {
	if c.delayedReady() {
		return true
	}
	for k, b := range c.boot {
		if c.sigma[k] == 0 || b.Len() < min(b.Cap(), 2*cfarLearnHz) {
			return false
		}
	}
	return true
}
