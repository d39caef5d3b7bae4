package detect

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/twitchd/twitchd/internal/dsp"
)

// accGroup follows one three-axis accelerometer: a gravity estimate per
// axis (low-pass), the vector magnitude for ENMO, a band-pass where the
// damped jerk of a visible twitch lives (tested by a constant-false-alarm
// rate detector, cfar), a movement envelope of the dynamic acceleration
// that tells limb movement from stillness, and the high-passed axes whose
// periodicity says whether the limb moves rhythmically.
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
	mov          *dsp.MovingRMS
	movFloor     *floor
	rh           *rhythm
	cf           *cfar

	// hist keeps the recent twitch-band magnitude and whitened energy for
	// the EMG-guided search and for the extent of a detection.
	hist history

	b              burst
	peak, eTw, eLo float64
	mv             run
	mvMarked       int64

	epENMO, epPeakDyn float64
	epN               int64
}

// twitchBand designs the band-pass where a visible twitch's jerk lives.
// When the band's top is cut by Nyquist, a low-pass there only blunts the
// twitch's few samples (and below 33 Hz its 8-20 Hz jerk aliases
// anywhere): then everything above the movement band is kept.
func twitchBand(cfg *Config, fs float64) (*dsp.SOS, error) {
	hi := math.Min(cfg.AccHigh, 0.45*fs)
	if hi < 0.9*cfg.AccHigh {
		return dsp.ButterHighpass(2, cfg.AccLow, fs)
	}
	return dsp.ButterBandpass(2, cfg.AccLow, hi, fs)
}

// impulse returns the first seconds of s's impulse response (s is reset).
func impulse(s *dsp.SOS, fs, seconds float64) []float64 {
	h := make([]float64, int(seconds*fs)+16)
	x := 1.0
	for i := range h {
		h[i] = s.Step(x)
		x = 0
	}
	s.Reset()
	return h
}

func newAcc(cfg *Config, name string, ix [3]int, fs float64, tl *timeline, sink candidateSink) (*accGroup, error) {
	if hi := math.Min(cfg.AccHigh, 0.45*fs); hi <= cfg.AccLow*1.2 {
		return nil, fmt.Errorf("detect: accelerometer %s at %g Hz is too slow for twitch detection", name, fs)
	}
	g := &accGroup{
		cfg: cfg, name: name, ix: ix, fs: fs, dt: int64(1e9 / fs), tl: tl, sink: sink,
		mov:      dsp.NewMovingRMS(max(3, int(math.Round(0.25*fs)))),
		movFloor: newFloor(math.Max(cfg.FloorStep*5, 1/fs), cfg.FloorWindow*3, cfg.FloorShort, cfg.FloorQuantile),
		rh:       newRhythm(cfg, tl, 3),
	}
	g.b.gap = ns(cfg.MergeGap)
	g.mv.gap = ns(0.3)
	// Until the limb has been still long enough for a floor, a rhythm
	// needs more movement than a still limb shows on any sensor: a
	// recording may start with a walk, or a rest may start after one.
	still := cfg.AccStillMaxG
	g.rh.setFloor(still*still/4, still*still)
	// The EMG-guided search runs when an EMG twitch is decided, after
	// the rhythm around it is known: keep that long.
	g.hist = newHistory(int(math.Ceil((cfg.RepWindow/2 + 8) * fs)))
	for a := 0; a < 3; a++ {
		var err error
		if g.grav[a], err = dsp.ButterLowpass(2, cfg.GravityHz, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
		if g.tw[a], err = twitchBand(cfg, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
		if g.hp[a], err = dsp.ButterHighpass(1, 0.3, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
		if g.lo[a], err = dsp.ButterBandpass(2, 0.5, cfg.AccLow*0.75, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
	}
	// The noise estimates learn only once the rhythm around a sample is
	// known (half a repetition window later).
	g.cf = newCFAR(cfg, fs, impulse(g.tw[0], fs, 2), cfg.RepWindow/2+1.5, tl.movingOrRhythmic)
	return g, nil
}

func (g *accGroup) step(t int64, a [3]float64) {
	if !g.seen {
		g.prime(t, a)
	}
	var gr, hp, bp [3]float64
	var tw2, lo2, dyn2, vm2, hp2 float64
	for k := 0; k < 3; k++ {
		hp[k] = g.hp[k].Step(a[k])
		hp2 += hp[k] * hp[k]
		gr[k] = g.grav[k].Step(a[k])
		d := a[k] - gr[k]
		dyn2 += d * d
		bp[k] = g.tw[k].Step(a[k])
		tw2 += bp[k] * bp[k]
		l := g.lo[k].Step(a[k])
		lo2 += l * l
		vm2 += a[k] * a[k]
	}
	if enmo := math.Sqrt(vm2) - 1; enmo > 0 {
		g.epENMO += enmo
	}
	dyn := math.Sqrt(dyn2)
	g.epPeakDyn = max(g.epPeakDyn, dyn)
	g.epN++
	s := g.tl.at(t)
	s.grav, s.hasGrav = gr, true

	m := g.mov.Step(dyn)
	// The floor of the movement envelope is the still limb's: continuous
	// movement (a jog, a cool-down walk) must not become its floor, or
	// the limb would look still while it moves.
	f, still := g.movFloor, g.cfg.AccStillMaxG
	moving := g.mv.open || m > 2*still || (f.ready && m > max(still, 2*f.level))
	if f.observe(t, m, moving) {
		g.rh.setFloor(g.movFloor.level*g.movFloor.level, g.cfg.AccRhythmMinG*g.cfg.AccRhythmMinG)
	}
	g.rh.add(t, hp2, &hp)
	stat := g.cf.observe(t, a, bp, !moving)
	mag := math.Sqrt(tw2)
	g.hist.push(t, mag, g.cf.lastEnergy)
	if t-g.first < ns(g.cfg.Warmup) || !g.movFloor.ready || !g.cf.ready() {
		return
	}
	g.movement(t, m)

	switch g.b.step(t, stat, 1, 0.5) {
	case burstOpened:
		g.peak, g.eTw, g.eLo = mag, tw2, lo2
		g.tl.addBurst(t, true)
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

// prime starts the slow filters at the first reading instead of zero.
func (g *accGroup) prime(t int64, a [3]float64) {
	g.first, g.seen = t, true
	for k := 0; k < 3; k++ {
		for i := 0; i < int(4*g.fs/g.cfg.GravityHz) && i < 4096; i++ {
			g.grav[k].Step(a[k])
		}
		for i := 0; i < int(8*g.fs) && i < 4096; i++ {
			g.hp[k].Step(a[k])
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

// closeBurst turns a closed CFAR detection into a candidate: its extent
// is where the band magnitude stays above half its peak (the statistic
// sums a window, so it rises late and falls late).
func (g *accGroup) closeBurst() {
	from := g.b.start - int64(g.cf.wins[len(g.cf.wins)-1].w)*g.dt
	start, end := g.b.start, g.b.lastOn
	half := g.peak / 2
	first := true
	g.hist.each(from, g.b.lastOn+g.dt, func(t int64, v, _ float64) {
		if v >= half {
			if first {
				start, first = t, false
			}
			end = t
		}
	})
	end += g.dt
	if d := end - start; d > ns(g.cfg.AccTwitchMax) {
		g.cfg.debugf(start, "acc reject duration %.3f peak %.3f", float64(d)/1e9, g.peak)
		return
	}
	if g.eLo > g.cfg.LFRatio*g.eTw {
		g.cfg.debugf(start, "acc reject LF %.2f peak %.3f", g.eLo/g.eTw, g.peak)
		return
	}
	snr := 0.0
	if n := g.cf.noise(); n > 0 {
		snr = g.peak / n
	}
	g.sink.twitchCandidate(candidate{
		sensor: sensorAcc, channel: g.name, start: start, end: end,
		peak: g.peak, snr: snr, strong: true,
	})
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

// guided looks for the limb's jerk after an EMG twitch at t0. Knowing
// where to look allows a lower threshold than a blind search at the same
// false-alarm rate: the whitened energy of the three axes over the n
// samples of the window is, for Gaussian noise, a chi-square with 3n
// degrees of freedom, and the threshold is its 1-p quantile, raised by as
// much as the blind test's tail says the noise is heavier than Gaussian.
// It returns the interval where the magnitude stays above half its peak,
// the peak and its ratio to the per-axis noise.
func (g *accGroup) guided(t0, window int64, p float64) (start, end int64, peak, ratio float64, ok bool) {
	if !g.cf.ready() {
		return 0, 0, 0, 0, false
	}
	var tp int64
	var energy float64
	n := 0
	g.hist.each(t0, t0+window, func(t int64, v, e float64) {
		energy += e
		n++
		if v > peak {
			peak, tp = v, t
		}
	})
	if n == 0 {
		return 0, 0, 0, 0, false
	}
	ratio = peak / g.cf.noise()
	limit := distuv.ChiSquared{K: float64(3 * n)}.Quantile(1-p) * g.cf.ratio()
	if energy < limit {
		return 0, 0, peak, ratio, false
	}
	start, end = tp, tp
	half := peak / 2
	g.hist.each(t0, t0+window, func(t int64, v, _ float64) {
		if v >= half {
			start, end = min(start, t), max(end, t)
		}
	})
	return start, end + g.dt, peak, ratio, true
}

// history is a ring of recent samples: time, twitch-band magnitude and
// whitened energy.
type history struct {
	t    []int64
	v, e []float64
	n    int // total pushed
}

func newHistory(n int) history {
	return history{t: make([]int64, n), v: make([]float64, n), e: make([]float64, n)}
}

func (h *history) push(t int64, v, e float64) {
	i := h.n % len(h.t)
	h.t[i], h.v[i], h.e[i] = t, v, e
	h.n++
}

// each calls f for the held samples with a <= t < b, oldest first.
func (h *history) each(a, b int64, f func(t int64, v, e float64)) {
	k := min(h.n, len(h.t))
	for j := h.n - k; j < h.n; j++ {
		i := j % len(h.t)
		if h.t[i] >= a && h.t[i] < b {
			f(h.t[i], h.v[i], h.e[i])
		}
	}
}
