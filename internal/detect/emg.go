package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/twitchd/twitchd/internal/dsp"
)

// emgChan follows one surface-EMG channel: band-pass, mains canceller,
// a fast RMS envelope for twitch bursts and a slow one for voluntary
// activity and cramps, each against its own robust noise floor.
type emgChan struct {
	cfg   *Config
	idx   int
	name  string
	fs    float64
	dt    int64
	tl    *timeline
	sink  candidateSink
	first int64
	seen  bool

	bp, notch, lf *dsp.SOS
	mc            *dsp.MainsCanceller
	lastFe        float64 // the fast envelope at the last sample
	lastY         float64
	tone          burstTone
	// The low band (2-15 Hz, pops and cable motion) runs on the mean of
	// lfEvery samples: it needs no more than 100 Hz.
	lfEvery, lfN int
	lfSum, lfSq  float64 // running sum of the raw samples; last low-band value squared
	mains        *dsp.MainsDetector
	mbuf         []float64
	mfill        int
	mainsHz      float64
	mainsDone    bool
	mainsSkip    int // blocks to skip before the next look
	mainsAgree   int // consecutive blocks that found the current frequency

	fast, slow           *dsp.MovingRMS
	fastFloor, slowFloor *floor
	rh                   *rhythm
	on, off, mid         float64 // burst thresholds and the sub-threshold activity level, from fastFloor
	actOn                float64 // activity threshold, from slowFloor
	// The noise's tail: the largest fast envelope of each 100 ms slot at
	// rest, whose 0.9 quantile a heavy-tailed baseline (an ADC a few
	// steps deep, glitches) lifts far above a Gaussian one's.
	slotMax  float64
	slotEnd  int64
	slotMaxQ *dsp.SlidingQuantiles
	tailOn   float64
	q90      float64 // the noise's 0.9 quantile of slot maxima over the floor, as measured
	gaussQ90 float64 // the same for Gaussian noise through the same filters
	// gaussOn is the least burst threshold, over the floor, once the tail
	// is known: a tenth above the 0.999 quantile of Gaussian noise's slot
	// maxima, which passes OnRatio only at a low sample rate (a 15 ms
	// envelope of 3-4 samples at 200-250 Hz). Before the tail is known
	// (the first 10 s at rest) the noise may still carry mains that the
	// notch has not yet been set for, whose steady envelope makes the
	// floor high and the tail light, and OnRatio stands.
	gaussOn float64

	b                  burst
	peak, eBP, eLF     float64
	eBP4               float64 // sum of y⁴ over the burst, for its effective duration
	act                run
	actMarked          int64
	actSum2, actPeak   float64
	actN               int64
	epSum2, epPeakSlow float64
	epN, epActiveN     int64
}

// weakLF is how far over LFRatio a burst's low band may reach for it to
// stay a weak candidate rather than a rejected one.
const weakLF = 3

// mainsMaxDrift is how far, in Hz, the canceller follows the mains from
// its nominal 50 or 60 Hz: grids hold within a few tenths.
const mainsMaxDrift = 1.0

// candidateSink receives what channels find.
type candidateSink interface {
	twitchCandidate(c candidate)
	crampCandidate(c crampCandidate)
}

func newEMG(cfg *Config, idx int, name string, fs float64, tl *timeline, sink candidateSink) (*emgChan, error) {
	hi := math.Min(cfg.EMGHigh, 0.45*fs)
	if hi <= cfg.EMGLow*1.5 {
		return nil, fmt.Errorf("detect: EMG channel %s at %g Hz is too slow for a %g Hz band-pass", name, fs, cfg.EMGLow)
	}
	bp, err := dsp.ButterBandpass(cfg.EMGOrder, cfg.EMGLow, hi, fs)
	if err != nil {
		return nil, fmt.Errorf("detect: EMG channel %s: %w", name, err)
	}
	lfEvery := max(1, int(fs/100))
	lf, err := dsp.ButterBandpass(2, 2, math.Min(15, 0.4*fs/float64(lfEvery)), fs/float64(lfEvery))
	if err != nil {
		return nil, fmt.Errorf("detect: EMG channel %s: %w", name, err)
	}
	n := 256
	for float64(n) < cfg.MainsWindow*fs {
		n *= 2
	}
	c := &emgChan{
		cfg: cfg, idx: idx, name: name, fs: fs, dt: int64(1e9 / fs), tl: tl, sink: sink,
		bp: bp, lf: lf, lfEvery: lfEvery,
		fast:      dsp.NewMovingRMS(max(2, int(math.Round(cfg.FastRMS*fs)))),
		slow:      dsp.NewMovingRMS(max(4, int(math.Round(cfg.SlowRMS*fs)))),
		fastFloor: newFloor(cfg.FloorStep, cfg.FloorWindow, cfg.FloorShort, cfg.FloorQuantile),
		slowFloor: newFloor(cfg.FloorStep*5, cfg.FloorWindow*3, cfg.FloorShort, cfg.FloorQuantile),
		rh:        newRhythm(cfg, tl, 0),
		slotMaxQ:  dsp.NewSlidingQuantiles(max(16, int(cfg.TailWindow/0.1)), floorLo, floorHi, floorRes, 0.9),
	}
	g, err := gaussianTails(cfg, hi, fs)
	if err != nil {
		return nil, fmt.Errorf("detect: EMG channel %s: %w", name, err)
	}
	c.gaussQ90, c.gaussOn = g[0], max(1.1*g[2], cfarOn(g, cfg.EMGFalseAlarms))
	c.b.gap = ns(cfg.MergeGap)
	c.act.gap = ns(cfg.CrampGap)
	if cfg.Mains > 0 {
		c.setMains(cfg.Mains)
		c.mainsDone = true
	} else if 50 < 0.45*fs {
		c.mains = dsp.NewMainsDetector(n, fs)
		c.mbuf = make([]float64, n)
	} else {
		c.mainsDone = true
	}
	return c, nil
}

// setMains switches the mains canceller (or the comb notch) to f Hz.
func (c *emgChan) setMains(f float64) {
	c.mainsHz = f
	if f <= 0 || f >= 0.45*c.fs {
		return
	}
	if c.cfg.MainsTrackHz > 0 {
		h := min(c.cfg.MainsHarmonics, dsp.MaxMainsHarmonics)
		if m, err := dsp.NewMainsCanceller(f, h, c.cfg.MainsTrackHz, mainsMaxDrift, c.fs); err == nil {
			c.mc, c.notch = m, nil
			return
		}
	}
	if n, err := dsp.CombNotch(f, c.cfg.MainsHarmonics, c.cfg.MainsQ, c.fs); err == nil {
		c.notch = n
	}
}

func (c *emgChan) step(t int64, x float64) {
	if !c.seen {
		c.first, c.seen = t, true
	}
	y := c.bp.Step(x)
	if !c.mainsDone {
		c.lookForMains(t, y)
	}
	if c.mc != nil {
		// A twitch must not teach the canceller: hold it while the
		// envelope stands above the burst threshold (for as long as a
		// twitch may last; longer is activity, whose noise the narrow
		// notches shrug off). Only the core: through a burst's tail the
		// mains may have moved on, and a residual left to grow would
		// keep the burst open.
		c.mc.Hold(c.lastFe > c.on && c.b.open && t-c.b.start < ns(c.cfg.TwitchMax))
		y = c.mc.Step(y)
	} else if c.notch != nil {
		y = c.notch.Step(y)
	}
	c.lfSum += x
	if c.lfN++; c.lfN == c.lfEvery {
		v := c.lf.Step(c.lfSum / float64(c.lfEvery))
		c.lfSq, c.lfSum, c.lfN = v*v, 0, 0
	}
	lf2 := c.lfSq
	fe := c.fast.Step(y)
	c.lastFe, c.lastY = fe, y
	se := c.slow.Step(y)
	c.epSum2 += y * y
	c.epN++
	if se > c.epPeakSlow {
		c.epPeakSlow = se
	}
	if c.fastFloor.observe(t, fe, c.b.open) || c.tailStep(t, fe) {
		f := c.fastFloor
		c.rh.setFloor(f.level*f.level, 0)
		c.on = max(f.threshold(c.cfg.OnSigma, c.cfg.OnRatio, 0), c.tailOn)
		if c.q90 > 0 {
			c.on = max(c.on, c.gaussOn*f.level)
		}
		c.off = f.level + 0.5*(c.on-f.level)
		// Well above the floor: ShoulderRatio times it, and above what
		// noise alone reaches in nine slots of ten (a short window at a
		// low sample rate is far spikier than a long one).
		c.mid = max(c.cfg.ShoulderRatio*f.level, 1.2*c.q90*f.level)
	}
	c.rh.add(t, y*y, nil)
	if c.slowFloor.observe(t, se, c.act.open) {
		c.actOn = c.slowFloor.threshold(c.cfg.ActivitySigma, c.cfg.ActivityRatio, 0)
	}
	if t-c.first < ns(c.cfg.Warmup) || !c.fastFloor.ready || !c.slowFloor.ready {
		return
	}
	c.activity(t, y, se)
	if fe > c.mid {
		s := c.tl.at(t)
		s.emgMid = true
		s.emgFast = s.emgFast || fe > c.on
	}
	switch c.b.step(t, fe, c.on, c.off) {
	case burstOpened:
		c.peak, c.eBP, c.eLF, c.eBP4 = math.Abs(y), y*y, lf2, y*y*y*y
		if c.mc != nil {
			c.tone.reset(c.mc)
			c.tone.add(y, c.mc)
		}
		c.tl.addBurst(t, false)
	case burstClosed:
		c.closeBurst()
	default:
		if c.b.open {
			if c.mc != nil {
				c.tone.add(y, c.mc)
			}
			c.peak = math.Max(c.peak, math.Abs(y))
			y2 := y * y
			c.eBP += y2
			c.eBP4 += y2 * y2
			c.eLF += lf2
		}
	}
}

// tailStep follows the largest fast envelope of each 100 ms slot spent at
// rest, as a multiple of the floor (the tail's shape, not its scale, so
// exercise that lifted the floor leaves nothing behind once it falls),
// and reports whether the tail threshold changed: OnRatio times the floor,
// times how much the 0.9 quantile of those ratios over the last
// TailWindow seconds exceeds, by more than a tenth, what Gaussian noise
// through the same filters gives (gaussianTails), once 10 s are known. A
// baseline only a few ADC steps deep, or glitches, raise it; a low sample
// rate, whose short envelope is spiky even for Gaussian noise, does not.
// Slots with activity, or whose maximum passes OnRatio times the floor (a
// twitch, whatever the tail says), are left out, so brisk twitching
// cannot raise the threshold that judges it.
func (c *emgChan) tailStep(t int64, fe float64) bool {
	if t < c.slotEnd {
		c.slotMax = max(c.slotMax, fe)
		return false
	}
	level := c.fastFloor.level
	r := c.slotMax / level
	c.slotMax, c.slotEnd = fe, t+slotNS
	if c.act.open || !(r > 0) || r > c.cfg.OnRatio {
		return false
	}
	c.slotMaxQ.Push(r)
	if c.slotMaxQ.Len() < 100 {
		return false
	}
	c.q90 = c.slotMaxQ.Quantile(0)
	c.tailOn = 0
	if heavy := c.q90 / c.gaussQ90; heavy > 1.1 {
		c.tailOn = c.cfg.OnRatio * heavy * level
	}
	return true
}

// cfarOn returns the burst threshold, over the floor, that Gaussian noise
// through the EMG filters passes in falseAlarms 100 ms slots per hour:
// the tail of the slot maxima, straight in log-probability between their
// 0.99 and 0.999 quantiles (q), extended to that probability. A short
// envelope at a low sample rate (4 samples at 250 Hz) is spiky and its
// tail long; at 1 kHz and above the extension stays below OnRatio.
func cfarOn(q [3]float64, falseAlarms float64) float64 {
	if !(falseAlarms > 0) {
		return 0
	}
	p := falseAlarms / 36000 // slots per hour
	if p >= 1e-3 {
		return q[2]
	}
	return q[2] + (q[2]-q[1])*math.Log10(1e-3/p)
}

// gaussianTails returns the 0.9, 0.99 and 0.999 quantiles, over 100 ms slots,
// of the largest fast envelope of Gaussian noise passed through the EMG
// band-pass (upper edge hi), over the floor's level (its FloorQuantile):
// the tail of noise with nothing but its sample rate and filters to make
// it spiky. It runs 3000 slots of seeded noise at construction.
// The result depends only on the filters and the rate, so it is kept
// for the next channel with the same ones (a Cyton has eight).
func gaussianTails(cfg *Config, hi, fs float64) ([3]float64, error) {
	k := tailKey{cfg.EMGOrder, cfg.EMGLow, hi, fs, cfg.FastRMS, cfg.FloorStep, cfg.FloorQuantile}
	tailMu.Lock()
	defer tailMu.Unlock()
	if q, ok := tailMemo[k]; ok {
		return q, nil
	}
	q, err := simulateTails(cfg, hi, fs)
	if err == nil {
		tailMemo[k] = q
	}
	return q, err
}

type tailKey struct {
	order                                  int
	low, hi, fs, fastRMS, step, floorQuant float64
}

var (
	tailMu   sync.Mutex
	tailMemo = map[tailKey][3]float64{}
)

func simulateTails(cfg *Config, hi, fs float64) ([3]float64, error) {
	bp, err := dsp.ButterBandpass(cfg.EMGOrder, cfg.EMGLow, hi, fs)
	if err != nil {
		return [3]float64{}, err
	}
	rms := dsp.NewMovingRMS(max(2, int(math.Round(cfg.FastRMS*fs))))
	per := max(1, int(math.Round(0.1*fs)))
	every := max(1, int(math.Round(cfg.FloorStep*fs)))
	const slots = 3000
	env := dsp.NewSlidingQuantiles(slots*per/every+1, floorLo, floorHi, floorRes, cfg.FloorQuantile)
	maxes := dsp.NewSlidingQuantiles(slots, floorLo, floorHi, floorRes, 0.9, 0.99, 0.999)
	rng := rand.New(rand.NewPCG(17, 29))
	for i := 0; i < 200; i++ { // settle the filter
		rms.Step(bp.Step(rng.NormFloat64()))
	}
	for s := 0; s < slots; s++ {
		m := 0.0
		for i := 0; i < per; i++ {
			v := rms.Step(bp.Step(rng.NormFloat64()))
			m = max(m, v)
			if i%every == 0 {
				env.Push(v)
			}
		}
		maxes.Push(m)
	}
	l := env.Quantile(0)
	return [3]float64{maxes.Quantile(0) / l, maxes.Quantile(1) / l, maxes.Quantile(2) / l}, nil
}

// lookForMains collects blocks of the band-passed signal and looks for
// mains in them: in every block until the same frequency was found in
// four blocks in a row (strong EMG hides it, so a block at rest finds it
// even when the recording starts with exercise), then in one block of
// sixteen, enough to follow a recording whose interference changes.
func (c *emgChan) lookForMains(t int64, y float64) {
	if c.mainsSkip > 0 {
		if c.mfill++; c.mfill == len(c.mbuf) {
			c.mfill = 0
			c.mainsSkip--
		}
		return
	}
	c.mbuf[c.mfill] = y
	if c.mfill++; c.mfill < len(c.mbuf) {
		return
	}
	c.mfill = 0
	f, _ := c.mains.Detect(c.mbuf, 6)
	switch {
	case f > 0 && f != c.mainsHz:
		c.cfg.debugf(t, "emg %s: mains %g Hz", c.name, f)
		c.setMains(f)
		c.mainsAgree = 1
	case f > 0:
		c.mainsAgree++
	}
	if c.mainsAgree >= 4 {
		c.mainsSkip = 15
	}
}

// activity follows the slow envelope: sustained activity marks the
// timeline (so nearby bursts are not taken for twitches) and, when it
// lasts long enough, becomes a cramp candidate.
func (c *emgChan) activity(t int64, y, se float64) {
	cond := se > c.actOn
	if cond {
		c.epActiveN++
	}
	wasOpen := c.act.open
	if c.act.step(t, cond) {
		c.closeActivity()
		return
	}
	if !c.act.open {
		return
	}
	if !wasOpen {
		c.actSum2, c.actPeak, c.actN, c.actMarked = 0, 0, 0, c.act.start
	}
	c.actSum2 += y * y
	c.actN++
	c.actPeak = math.Max(c.actPeak, math.Abs(y))
	if cond && c.act.heldFor >= ns(c.cfg.ActiveMin) {
		c.tl.markEMG(c.actMarked, t)
		c.actMarked = t
	}
}

func (c *emgChan) closeActivity() {
	if c.act.closedEnd-c.act.start < ns(c.cfg.CrampMin) || c.actN == 0 {
		return
	}
	c.sink.crampCandidate(crampCandidate{
		channel: c.name, start: c.act.start, end: c.act.closedEnd + c.dt,
		peak: c.actPeak, rms: math.Sqrt(c.actSum2 / float64(c.actN)),
	})
}

func (c *emgChan) closeBurst() {
	end := c.b.lastOn + c.dt
	d := end - c.b.start
	// A short burst that fails only the shape tests (effective duration,
	// a low band up to weakLF times the limit) is weak: a long polyphasic
	// or monophasic potential fails them too, so it goes on as a
	// candidate that the accelerometer's jerk must confirm. Cable motion
	// swings the low band far higher, and lasts longer.
	weak := false
	short := d <= ns(c.cfg.TwitchLong)
	switch {
	case d < ns(c.cfg.TwitchMin) || d > ns(c.cfg.TwitchMax):
		c.cfg.debugf(c.b.start, "emg reject duration %.3f s peak %.3f", float64(d)/1e9, c.peak)
		return
	case c.peak > c.cfg.TwitchMaxPeakMV:
		c.cfg.debugf(c.b.start, "emg reject peak %.3f", c.peak)
		return
	case c.eBP4 > 0 && c.eBP*c.eBP/c.eBP4 > c.cfg.TwitchEffMax*c.fs && !c.standsOut(d):
		// The effective duration (Σy²)²/Σy⁴: a few potentials (and the
		// mains notch ringing after a large one) count for milliseconds,
		// a contraction's interference pattern for a third of its length.
		// Long polyphasic potentials (4-6 phases of 15-25 ms) come to as
		// much; a burst that stands out (standsOut) is judged without it.
		c.cfg.debugf(c.b.start, "emg weak: effective duration %.3f s peak %.3f", c.eBP*c.eBP/c.eBP4/c.fs, c.peak)
		if !short || c.eLF > weakLF*c.cfg.LFRatio*c.eBP {
			return
		}
		weak = true
	case c.eLF > c.cfg.LFRatio*c.eBP && !(c.standsOut(d) && c.eLF <= weakLF*c.cfg.LFRatio*c.eBP):
		// A slow monophasic potential (15-25 ms) carries as much energy
		// below 15 Hz as above 20; one that stands out (standsOut) is
		// judged as a twitch unless its low band reaches what pops and
		// cable motion give (weakLF times the limit).
		c.cfg.debugf(c.b.start, "emg weak: LF ratio %.2f peak %.3f", c.eLF/c.eBP, c.peak)
		if !short || c.eLF > weakLF*c.cfg.LFRatio*c.eBP {
			return
		}
		weak = true
	}
	if c.mc != nil && c.cfg.ToneShareMax > 0 {
		// Most of its energy a tone at the mains: what the canceller
		// left for a moment. Only when noise alone could not explain as
		// much (a burst of a few samples fits anything).
		if sh, nz := c.tone.share(); sh > c.cfg.ToneShareMax && sh > 2*nz {
			c.cfg.debugf(c.b.start, "emg reject mains tone share %.2f peak %.3f", sh, c.peak)
			return
		}
	}
	snr := 0.0
	if c.fastFloor.level > 0 {
		snr = c.b.peakEnv / c.fastFloor.level
	}
	if d > ns(c.cfg.TwitchLong) && snr < c.cfg.TwitchLongSNR {
		c.cfg.debugf(c.b.start, "emg reject long and weak %.3f s snr %.1f", float64(d)/1e9, snr)
		return
	}
	c.sink.twitchCandidate(candidate{
		sensor: sensorEMG, channel: c.name, start: c.b.start, end: end,
		peak: c.peak, snr: snr, potentials: c.b.rises, strong: !weak,
	})
}

// standsOut reports whether the open burst, d long, is short (at most
// TwitchLong) and stands at least TwitchLongSNR times above the floor:
// voluntary EMG short enough to pass for a twitch builds up over hundreds
// of milliseconds and does not rise that far within one, so such a burst
// is potentials whatever its effective duration.
func (c *emgChan) standsOut(d int64) bool {
	return d <= ns(c.cfg.TwitchLong) && c.fastFloor.level > 0 && c.b.peakEnv >= c.cfg.TwitchLongSNR*c.fastFloor.level
}

// finish closes what is open at the end of the stream.
func (c *emgChan) finish(last int64) {
	c.rh.flush()
	if c.b.open {
		c.b.open = false
		c.closeBurst()
	}
	if c.act.open {
		c.act.open = false
		c.act.closedEnd = c.act.last
		c.closeActivity()
	}
}

// epoch returns the epoch's RMS, peak slow RMS and active share, and resets.
func (c *emgChan) epoch() (rms, peakSlow, activeFrac float64, n int64) {
	n = c.epN
	if n > 0 {
		rms = math.Sqrt(c.epSum2 / float64(n))
		activeFrac = float64(c.epActiveN) / float64(n)
	}
	peakSlow = c.epPeakSlow
	c.epSum2, c.epN, c.epActiveN, c.epPeakSlow = 0, 0, 0, 0
	return rms, peakSlow, activeFrac, n
}
