package detect

import (
	"fmt"
	"math"

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
	env, mov     *dsp.MovingRMS
	envFloor     *floor
	movFloor     *floor

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
		env:      dsp.NewMovingRMS(max(2, int(math.Round(cfg.AccRMS*fs)))),
		mov:      dsp.NewMovingRMS(max(3, int(math.Round(0.25*fs)))),
		envFloor: newFloor(math.Max(cfg.FloorStep, 1/fs), cfg.FloorWindow, cfg.FloorShort, cfg.FloorQuantile),
		movFloor: newFloor(math.Max(cfg.FloorStep*5, 1/fs), cfg.FloorWindow*3, cfg.FloorShort, cfg.FloorQuantile),
	}
	g.b.gap = ns(cfg.MergeGap)
	g.mv.gap = ns(0.3)
	for a := 0; a < 3; a++ {
		var err error
		if g.grav[a], err = dsp.ButterLowpass(2, cfg.GravityHz, fs); err != nil {
			return nil, fmt.Errorf("detect: accelerometer %s: %w", name, err)
		}
		if g.tw[a], err = dsp.ButterBandpass(2, cfg.AccLow, hi, fs); err != nil {
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
		}
	}
	var gr [3]float64
	var tw2, lo2, dyn2, vm2 float64
	for k := 0; k < 3; k++ {
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
	e := g.env.Step(mag)
	m := g.mov.Step(dyn)
	g.envFloor.observe(t, e, g.b.open)
	g.movFloor.observe(t, m, g.mv.open)
	if t-g.first < ns(g.cfg.Warmup) || !g.envFloor.ready || !g.movFloor.ready {
		return
	}
	g.movement(t, m)

	weak := g.envFloor.threshold(g.cfg.AccConfirmSigma, g.cfg.AccOnRatio*0.8, g.cfg.AccMinPeakG)
	off := g.envFloor.level + 0.5*(weak-g.envFloor.level)
	switch g.b.step(t, e, weak, off) {
	case burstOpened:
		g.peak, g.eTw, g.eLo = mag, tw2, lo2
		if g.b.peakEnv > g.envFloor.threshold(g.cfg.AccOnSigma, g.cfg.AccOnRatio, g.cfg.AccMinPeakG) {
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
	g.mv.step(t, m > on)
	if !g.mv.open {
		return
	}
	if !wasOpen {
		g.mvMarked = g.mv.start
	}
	if g.mv.heldFor >= ns(g.cfg.ActiveMin) {
		g.tl.markMoving(g.mvMarked, t)
		g.mvMarked = t
	}
}

func (g *accGroup) closeBurst() {
	end := g.b.lastAbove + g.dt
	d := end - g.b.start
	if d > ns(g.cfg.TwitchMax) || d < max(ns(0.02), 2*g.dt) {
		return
	}
	if g.eLo > g.cfg.LFRatio*g.eTw {
		return
	}
	strong := g.b.peakEnv > g.envFloor.threshold(g.cfg.AccOnSigma, g.cfg.AccOnRatio, g.cfg.AccMinPeakG)
	snr := 0.0
	if g.envFloor.level > 0 {
		snr = g.b.peakEnv / g.envFloor.level
	}
	g.sink.twitchCandidate(candidate{
		sensor: sensorAcc, channel: g.name, start: g.b.start, end: end,
		peak: g.peak, snr: snr, potentials: 0, strong: strong,
	})
}

func (g *accGroup) finish(last int64) {
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
