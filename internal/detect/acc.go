package detect

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/twitchd/twitchd/internal/dsp"
)

// accGroup follows one three-axis accelerometer: a gravity estimate per
// axis (low-pass), the vector magnitude for ENMO, a band-pass where the
// damped jerk of a visible twitch lives, and a movement envelope of the
// dynamic acceleration that tells limb movement from stillness.
type accGroup struct {
	cfg   *Config
	name  string
	ix    [3]int
	fs    float64
	dt    int64
	tl    *timeline
	sink  candidateSink
	first int64
	seen  bool

	grav, tw, lo [3]*dsp.SOS
	hp           [3]*dsp.SOS // above 0.3 Hz: the limb's movement, for its rhythm
	env, mov     *dsp.MovingRMS
	envFloor     *floor
	confirmRatio float64

	// For the EMG-guided search: the recent twitch-band magnitude, and
	// the per-axis noise sigma from its median (a three-axis magnitude of
	// Gaussian noise follows a chi distribution with 3 degrees of freedom).
	hist                 history
	noise                *dsp.RobustWindow
	sigma                float64
	nextNoise, nextSigma int64
	movFloor             *floor
	rh                   *rhythm

	b              burst
	peak, eTw, eLo float64
	mv             run
	mvMarked       int64

	epENMO, epPeakDyn float64
	epN               int64
}

func newAcc(cfg *Config, name string, ix [3]int, fs float64, tl *timeline, sink candidateSink) (*accGroup, error) {
	hi := math.Min(cfg.AccHigh, 0.45*fs)
	if hi <= cfg.AccLow*1.2 {
		return nil, fmt.Errorf("detect: accelerometer %s at %g Hz is too slow for twitch detection", name, fs)
	}
	g := &accGroup{
		cfg: cfg, name: name, ix: ix, fs: fs, dt: int64(1e9 / fs), tl: tl, sink: sink,
		env:      dsp.NewMovingRMS(max(1, int(cfg.AccRMS*fs))),
		mov:      dsp.NewMovingRMS(max(3, int(math.Round(0.25*fs)))),
		envFloor: newFloor(math.Max(cfg.FloorStep, 1/fs), cfg.FloorWindow, cfg.FloorShort, cfg.FloorQuantile),
		movFloor: newFloor(math.Max(cfg.FloorStep*5, 1/fs), cfg.FloorWindow*3, cfg.FloorShort, cfg.FloorQuantile),
		rh:       newRhythm(cfg, tl, 3),
	}
	g.b.gap = ns(cfg.MergeGap)
	g.mv.gap = ns(0.3)
	// The EMG-guided search runs when an EMG twitch is decided, after
	// the rhythm around it is known: keep that long.
	g.hist = newHistory(int(math.Ceil((cfg.RepWindow/2 + 8) * fs)))
	g.noise = dsp.NewRobustWindow(200)
	g.confirmRatio = cfg.AccOnRatio
	if g.env.Len() <= 2 {
		// At 25-33 Hz the envelope is one or two samples of a three-axis
		// magnitude, whose tail is far heavier than an RMS over several:
		// ask for about four noise sigmas instead of three.
		g.confirmRatio = 1.2 * cfg.AccOnRatio
	}
	for a := 0; a < 3; a++ {
		var err error
		if g.grav[a], err = dsp.ButterLowpass(2, cfg.GravityHz, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
		if hi < 0.9*cfg.AccHigh {
			// When the band's top is cut by Nyquist, a low-pass there only
			// blunts the twitch's few samples (and below 33 Hz its 8-20 Hz
			// jerk aliases anywhere): keep everything above the movement
			// band.
			g.tw[a], err = dsp.ButterHighpass(2, cfg.AccLow, fs)
		} else {
			g.tw[a], err = dsp.ButterBandpass(2, cfg.AccLow, hi, fs)
		}
		if err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
		if g.hp[a], err = dsp.ButterHighpass(1, 0.3, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
		if g.lo[a], err = dsp.ButterBandpass(2, 0.5, cfg.AccLow*0.75, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
	}
	return g, nil
}

func (g *accGroup) step(t int64, a [3]float64) {
	if !g.seen {
		g.first, g.seen = t, true
		for k := 0; k < 3; k++ {
			// Start the gravity filters at the first reading, not at zero.
			for i := 0; i < int(4*g.fs/g.cfg.GravityHz) && i < 4096; i++ {
				g.grav[k].Step(a[k])
			}
			for i := 0; i < int(8*g.fs) && i < 4096; i++ {
				g.hp[k].Step(a[k])
			}
		}
	}
	var gr, hp [3]float64
	var tw2, lo2, dyn2, vm2, hp2 float64
	for k := 0; k < 3; k++ {
		hp[k] = g.hp[k].Step(a[k])
		hp2 += hp[k] * hp[k]
		gr[k] = g.grav[k].Step(a[k])
		d := a[k] - gr[k]
		dyn2 += d * d
		w := g.tw[k].Step(a[k])
		tw2 += w * w
		l := g.lo[k].Step(a[k])
		lo2 += l * l
		vm2 += a[k] * a[k]
	}
	if enmo := math.Sqrt(vm2) - 1; enmo > 0 {
		g.epENMO += enmo
	}
	dyn := math.Sqrt(dyn2)
	if dyn > g.epPeakDyn {
		g.epPeakDyn = dyn
	}
	g.epN++
	s := g.tl.at(t)
	s.grav, s.hasGrav = gr, true

	mag := math.Sqrt(tw2)
	g.hist.push(t, mag)
	if t >= g.nextNoise && !g.mv.open {
		g.nextNoise = t + ns(0.05)
		g.noise.Push(mag)
		if g.noise.Len() >= 40 && t >= g.nextSigma {
			g.nextSigma = t + ns(0.5)
			// The lower quartile keeps the estimate honest while up to
			// three quarters of the window is still movement.
			g.sigma = g.noise.Quantile(0.25) / chi3Q25
		}
	}
	e := g.env.Step(mag)
	m := g.mov.Step(dyn)
	g.envFloor.observe(t, e, g.b.open)
	if g.movFloor.observe(t, m, g.mv.open) {
		g.rh.setFloor(g.movFloor.level*g.movFloor.level, g.cfg.AccRhythmMinG*g.cfg.AccRhythmMinG)
	}
	g.rh.add(t, hp2, &hp)
	if t-g.first < ns(g.cfg.Warmup) || !g.envFloor.ready || !g.movFloor.ready {
		return
	}
	g.movement(t, m)

	weak := g.envFloor.threshold(g.cfg.AccConfirmSigma, g.confirmRatio, g.cfg.AccMinPeakG)
	off := g.envFloor.level + 0.5*(weak-g.envFloor.level)
	switch g.b.step(t, e, weak, off) {
	case burstOpened:
		g.peak, g.eTw, g.eLo = mag, tw2, lo2
		if g.b.peakEnv > g.strong() {
			g.tl.addBurst(t)
		}
	case burstClosed:
		g.closeBurst()
	default:
		if g.b.open {
			g.peak = math.Max(g.peak, mag)
			g.eTw += tw2
			g.eLo += lo2
		}
	}
}

// movement marks the timeline while the limb moves for longer than a
// twitch could last.
func (g *accGroup) movement(t int64, m float64) {
	on := g.movFloor.threshold(g.cfg.ActivitySigma, g.cfg.ActivityRatio, 0.02)
	wasOpen := g.mv.open
	cond := m > on
	g.mv.step(t, cond)
	if !g.mv.open {
		return
	}
	if !wasOpen {
		g.mvMarked = g.mv.start
	}
	if cond && g.mv.heldFor >= ns(g.cfg.ActiveMin) {
		g.tl.markMoving(g.mvMarked, t)
		g.mvMarked = t
	}
}

func (g *accGroup) closeBurst() {
	end := g.b.lastOn + g.dt
	d := end - g.b.start
	if d > ns(g.cfg.TwitchMax) || d < min(ns(0.02), g.dt) {
		g.cfg.debugf(g.b.start, "acc reject duration %.3f peak %.3f", float64(d)/1e9, g.peak)
		return
	}
	if g.eLo > g.cfg.LFRatio*g.eTw {
		g.cfg.debugf(g.b.start, "acc reject LF %.2f peak %.3f", g.eLo/g.eTw, g.peak)
		return
	}
	strong := g.b.peakEnv > g.strong()
	snr := 0.0
	if g.envFloor.level > 0 {
		snr = g.b.peakEnv / g.envFloor.level
	}
	g.sink.twitchCandidate(candidate{
		sensor: sensorAcc, channel: g.name, start: g.b.start, end: end,
		peak: g.peak, snr: snr, potentials: 0, strong: strong,
	})
}

// strong is the threshold an accelerometer burst must pass to count as a
// twitch without EMG to confirm it.
func (g *accGroup) strong() float64 {
	return g.envFloor.threshold(g.cfg.AccOnSigma, 1.5*g.cfg.AccOnRatio, g.cfg.AccAloneMinG)
}

func (g *accGroup) finish(last int64) {
	g.rh.flush()
	if g.b.open {
		g.b.open = false
		g.closeBurst()
	}
}

// epoch returns the epoch's mean ENMO in mg and peak dynamic acceleration
// in g, and resets.
func (g *accGroup) epoch() (enmoMG, peakDyn float64, n int64) {
	n = g.epN
	if n > 0 {
		enmoMG = 1000 * g.epENMO / float64(n)
	}
	peakDyn = g.epPeakDyn
	g.epENMO, g.epPeakDyn, g.epN = 0, 0, 0
	return enmoMG, peakDyn, n
}

// chi3Q25 is the lower quartile of a chi distribution with 3 degrees of
// freedom: the magnitude of three independent unit Gaussians.
const chi3Q25 = 1.1013

// guided looks for the limb's jerk after an EMG twitch at t0. Knowing
// where to look allows a lower threshold than a blind search at the same
// false-alarm rate, and the energy over the window (the sum of squares of
// the three band-passed axes) gathers the oscillation's few samples: for
// noise alone, energy / sigma² follows a chi-square distribution with
// 3n degrees of freedom, so the threshold is its 1-p quantile. It returns
// the interval where the magnitude stays above half its peak, the peak
// and its ratio to sigma.
func (g *accGroup) guided(t0, window int64, p float64) (start, end int64, peak, ratio float64, ok bool) {
	if g.sigma <= 0 {
		return 0, 0, 0, 0, false
	}
	var tp int64
	var energy float64
	n := 0
	g.hist.each(t0, t0+window, func(t int64, v float64) {
		energy += v * v
		n++
		if v > peak {
			peak, tp = v, t
		}
	})
	if n == 0 {
		return 0, 0, 0, 0, false
	}
	ratio = peak / g.sigma
	limit := distuv.ChiSquared{K: float64(3 * n)}.Quantile(1 - p)
	if energy/(g.sigma*g.sigma) < limit {
		return 0, 0, peak, ratio, false
	}
	start, end = tp, tp
	half := peak / 2
	g.hist.each(t0, t0+window, func(t int64, v float64) {
		if v >= half {
			start, end = min(start, t), max(end, t)
		}
	})
	return start, end + g.dt, peak, ratio, true
}

// history is a ring of recent (time, value) pairs.
type history struct {
	t []int64
	v []float64
	n int // total pushed
}

func newHistory(n int) history { return history{t: make([]int64, n), v: make([]float64, n)} }

func (h *history) push(t int64, v float64) {
	i := h.n % len(h.t)
	h.t[i], h.v[i] = t, v
	h.n++
}

// each calls f for the held pairs with a <= t < b, oldest first.
func (h *history) each(a, b int64, f func(int64, float64)) {
	k := min(h.n, len(h.t))
	for j := h.n - k; j < h.n; j++ {
		i := j % len(h.t)
		if h.t[i] >= a && h.t[i] < b {
			f(h.t[i], h.v[i])
		}
	}
}
