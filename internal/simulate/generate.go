package simulate

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/twitchd/twitchd/internal/dsp"
)

// CSV column headers: the full recording, and its EMG and accelerometer
// columns alone (GenerateCSV).
const (
	CSVHeader    = "time,emg,acc_x,acc_y,acc_z"
	CSVHeaderEMG = "time,emg"
	CSVHeaderAcc = "time,acc_x,acc_y,acc_z"
)

// Outputs are where GenerateCSV streams one recording: the full CSV
// (Both), the same rows with the EMG column alone (EMG), and the
// accelerometer samples alone, one row each (Acc). A nil writer is
// skipped. The three share the time column, so the labels fit each.
type Outputs struct {
	Both, EMG, Acc io.Writer
}

// Generate plans the scenario from seed and streams the recording to w as
// CSV: a comment line, the header CSVHeader, then one row per EMG sample
// with time in Unix seconds (6 decimals), EMG in mV and, on the rows
// nearest each accelerometer sample, the three axes in g (empty cells on
// the other rows). Accelerometer sample k is on EMG row round(k·emg/acc),
// so a rate ratio that is not a whole number places samples within half an
// EMG period of their nominal instant. Memory stays constant whatever the
// length; the same scenario and seed give the same bytes on a given
// architecture (see README.md for why not across architectures).
func Generate(sc Scenario, seed int64, w io.Writer) (*Labels, error) {
	return GenerateCSV(sc, seed, Outputs{Both: w})
}

// GenerateCSV is Generate writing to every writer of out in one pass:
// the full CSV, the EMG-only CSV (header CSVHeaderEMG, every row) and the
// accelerometer-only CSV (header CSVHeaderAcc, only the rows that carry
// an accelerometer sample). This is how a recording is replayed as if
// from a device with one sensor. Memory stays constant.
func GenerateCSV(sc Scenario, seed int64, out Outputs) (*Labels, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	p := newPlan(sc, seed)
	p.labels.Seed = seed
	g := newGenerator(sc, seed, p)
	ws := [3]*bufio.Writer{}
	for k, w := range []io.Writer{out.Both, out.EMG, out.Acc} {
		if w == nil {
			continue
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		fmt.Fprintf(bw, "# twitchd simulate scenario=%s seed=%d emg_rate_hz=%g acc_rate_hz=%g mains_hz=%g noise_uv=%g%s\n",
			sc.Name, seed, sc.EMGRate, sc.AccRate, sc.MainsHz, sc.NoiseUV, []string{"", " columns=emg", " columns=acc"}[k])
		bw.WriteString([]string{CSVHeader, CSVHeaderEMG, CSVHeaderAcc}[k] + "\n")
		ws[k] = bw
	}
	n := int64(math.Round(sc.Seconds() * sc.EMGRate))
	for i := int64(0); i < n; i++ {
		if err := g.writeRow(i, ws); err != nil {
			return nil, fmt.Errorf("simulate: write: %w", err)
		}
	}
	for _, bw := range ws {
		if bw == nil {
			continue
		}
		if err := bw.Flush(); err != nil {
			return nil, fmt.Errorf("simulate: write: %w", err)
		}
	}
	return p.labels, nil
}

// PlanLabels returns the labels Generate would return for sc and seed,
// without generating the signal (planning takes milliseconds).
func PlanLabels(sc Scenario, seed int64) (*Labels, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	p := newPlan(sc, seed)
	p.labels.Seed = seed
	return p.labels, nil
}

// phasor is a sinusoid advanced by rotation, cheaper than math.Sin per
// sample; it is renormalised now and then against rounding drift.
type phasor struct{ c, s, cw, sw float64 }

func newPhasor(freq, fs, phase float64) phasor {
	w := 2 * math.Pi * freq / fs
	return phasor{c: math.Cos(phase), s: math.Sin(phase), cw: math.Cos(w), sw: math.Sin(w)}
}

func (p *phasor) next() float64 {
	v := p.s
	p.c, p.s = p.c*p.cw-p.s*p.sw, p.s*p.cw+p.c*p.sw
	return v
}

func (p *phasor) renorm() {
	n := math.Hypot(p.c, p.s)
	p.c, p.s = p.c/n, p.s/n
}

// generator holds the streaming state.
type generator struct {
	sc       Scenario
	p        *plan
	fs       float64
	startNs  int64
	rng      *rand.Rand
	noiseMV  float64
	pink     [3]float64
	pinkGain float64

	mains     []phasor
	mainsAmp  []float64
	mainsMod  phasor
	drift     mainsDrift
	wander    [2]phasor
	wanderAmp float64

	vol      *dsp.SOS
	volScale float64

	pi       int     // current phase index
	cyc      float64 // activity cycle position (cycles)
	cycRate  float64 // per-cycle frequency factor
	cycAmp   float64 // per-cycle amplitude factor
	cycCount int64

	lp      [3]*dsp.SOS
	mount   *[3][3]float64 // sensor mounting rotation, nil when aligned
	emgLSB  float64        // EMG quantisation step (mV), 0 for none
	gCur    [3]float64
	accLSB  float64
	accNoG  float64
	nextAcc int64
	accK    int64

	next   int
	active []int
	buf    []byte
}

func newGenerator(sc Scenario, seed int64, p *plan) *generator {
	fs := sc.EMGRate
	g := &generator{
		sc: sc, p: p, fs: fs,
		startNs: sc.Start.UnixNano(),
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x7477697463686432)), // "twitchd2"
		noiseMV: sc.NoiseUV * 1e-3,
		gCur:    p.gStart,
		accLSB:  2 * sc.AccRangeG / math.Exp2(float64(sc.AccBits)),
		accNoG:  sc.AccNoiseMg * 1e-3,
		cycRate: 1, cycAmp: 1,
		buf:    make([]byte, 0, 96),
		active: make([]int, 0, 16),
	}
	g.pinkGain = 0.5 / pinkRMS()
	// Mains: the fundamental and harmonics 2..5 below 0.45·fs, relative
	// amplitudes from capacitive coupling of a supply with typical
	// harmonic distortion (README.md).
	if sc.MainsHz > 0 && sc.MainsUV > 0 {
		rel := []float64{1, 0.03, 0.12, 0.02, 0.15}
		for k, r := range rel {
			f := sc.MainsHz * float64(k+1)
			if f >= 0.45*fs {
				break
			}
			g.mains = append(g.mains, newPhasor(f, fs, g.rng.Float64()*2*math.Pi))
			g.mainsAmp = append(g.mainsAmp, r*sc.MainsUV*1e-3)
		}
		g.mainsMod = newPhasor(0.07, fs, g.rng.Float64()*2*math.Pi)
		if sc.MainsDriftHz > 0 || sc.MainsDriftFrac > 0 {
			g.drift = mainsDrift{
				f0: sc.MainsHz, hz: sc.MainsDriftHz, frac: sc.MainsDriftFrac,
				fPeriod: 60 + 240*g.rng.Float64(), fPhase: g.rng.Float64() * 2 * math.Pi,
				aPeriod: 30 + 170*g.rng.Float64(), aPhase: g.rng.Float64() * 2 * math.Pi,
			}
		}
	}
	if sc.EMGBits > 0 {
		g.emgLSB = 2 * sc.EMGRangeMV / math.Exp2(float64(sc.EMGBits))
	}
	if sc.MountDeg != [3]float64{} {
		m := mountMatrix(sc.MountDeg)
		g.mount = &m
	}
	g.wander[0] = newPhasor(0.13, fs, g.rng.Float64()*2*math.Pi)
	g.wander[1] = newPhasor(0.41, fs, g.rng.Float64()*2*math.Pi)
	g.wanderAmp = sc.WanderUV * 1e-3
	g.vol = voluntaryFilter(fs)
	g.volScale = 1 / impulseRMS(voluntaryFilter(fs), fs)
	fc := math.Min(0.4*sc.AccRate, 0.45*fs)
	for a := range g.lp {
		f, err := dsp.ButterLowpass(2, fc, fs)
		if err != nil {
			panic("simulate: accelerometer low-pass: " + err.Error())
		}
		g.lp[a] = f
	}
	// Start the filters settled on gravity so the file does not open
	// with a step response.
	g0 := g.rotated(g.gCur)
	for a, f := range g.lp {
		for k := 0; k < int(2*fs/fc)+50; k++ {
			f.Step(g0[a])
		}
	}
	return g
}

// mountMatrix returns the rotation Rz(yaw)·Ry(pitch)·Rx(roll) for angles
// in degrees.
func mountMatrix(deg [3]float64) [3][3]float64 {
	sr, cr := math.Sincos(deg[0] * math.Pi / 180)
	sp, cp := math.Sincos(deg[1] * math.Pi / 180)
	sy, cy := math.Sincos(deg[2] * math.Pi / 180)
	return [3][3]float64{
		{cy * cp, cy*sp*sr - sy*cr, cy*sp*cr + sy*sr},
		{sy * cp, sy*sp*sr + cy*cr, sy*sp*cr - cy*sr},
		{-sp, cp * sr, cp * cr},
	}
}

// rotated returns v in the sensor's frame: v itself when the sensor is
// aligned with the limb.
func (g *generator) rotated(v [3]float64) [3]float64 {
	if g.mount == nil {
		return v
	}
	m := g.mount
	return [3]float64{
		m[0][0]*v[0] + m[0][1]*v[1] + m[0][2]*v[2],
		m[1][0]*v[0] + m[1][1]*v[1] + m[1][2]*v[2],
		m[2][0]*v[0] + m[2][1]*v[1] + m[2][2]*v[2],
	}
}

// mainsDrift makes the mains frequency and amplitude wander slowly: the
// frequency by ±hz around f0 over fPeriod seconds, the amplitude by ±frac
// over aPeriod seconds. The phasors' steps are updated every
// mainsDriftBlock samples, which keeps their phase continuous.
type mainsDrift struct {
	f0, hz, frac    float64
	fPeriod, fPhase float64
	aPeriod, aPhase float64
	gain            float64 // current amplitude factor
}

const mainsDriftBlock = 256

func (d *mainsDrift) on() bool { return d.hz > 0 || d.frac > 0 }

// update sets the mains phasors' steps and the amplitude factor for time t.
func (d *mainsDrift) update(t, fs float64, mains []phasor) {
	f := d.f0 + d.hz*math.Sin(2*math.Pi*t/d.fPeriod+d.fPhase)
	for k := range mains {
		mains[k].sw, mains[k].cw = math.Sincos(2 * math.Pi * f * float64(k+1) / fs)
	}
	d.gain = 1 + d.frac*math.Sin(2*math.Pi*t/d.aPeriod+d.aPhase)
}

// voluntaryFilter shapes white noise like surface EMG: 2nd-order
// high-pass at 50 Hz and 2nd-order low-pass at 150 Hz (or 0.4·fs), whose
// product peaks near 85 Hz with most power between 20 and 450 Hz.
func voluntaryFilter(fs float64) *dsp.SOS {
	hp, err := dsp.ButterHighpass(2, 50, fs)
	if err != nil {
		panic("simulate: EMG high-pass: " + err.Error())
	}
	lp, err := dsp.ButterLowpass(2, math.Min(150, 0.4*fs), fs)
	if err != nil {
		panic("simulate: EMG low-pass: " + err.Error())
	}
	return dsp.NewSOS(append(hp.Sections(), lp.Sections()...))
}

// pinkRMS is the RMS of Kellet's economy pink-noise filter for unit white noise.
func pinkRMS() float64 {
	var e float64
	b0, b1, b2 := 0.0990460, 0.2965164, 1.0526913
	h0 := b0 + b1 + b2 + 0.1848
	e += h0 * h0
	for n := 1; n < 20000; n++ {
		b0 *= 0.99765
		b1 *= 0.96300
		b2 *= 0.57000
		h := b0 + b1 + b2
		e += h * h
	}
	return math.Sqrt(e)
}

// impulseRMS is the output RMS of f for unit-variance white noise: the
// root of its impulse response's energy. It leaves f's state dirty.
func impulseRMS(f *dsp.SOS, fs float64) float64 {
	var e float64
	x := 1.0
	for n := 0; n < int(4*fs); n++ {
		y := f.Step(x)
		x = 0
		e += y * y
	}
	return math.Sqrt(e)
}

// phaseAt returns the phase at t, advancing the cursor (t never decreases).
func (g *generator) phaseAt(t float64) *phaseRT {
	for g.pi < len(g.p.phases)-1 && t >= g.p.phases[g.pi].end {
		g.pi++
	}
	return &g.p.phases[g.pi]
}

// burst is a raised-cosine burst of width d (cycles) centred at c in a
// cycle, evaluated at cycle position u.
func burst(u, c, d float64) float64 {
	x := u - c
	x -= math.Floor(x + 0.5)
	if math.Abs(x) >= d/2 {
		return 0
	}
	return 0.5 * (1 + math.Cos(2*math.Pi*x/d))
}

// activity advances the activity cycle and returns the voluntary EMG
// envelope (mV RMS), adds the limb's dynamic acceleration to dyn (g) and
// returns the limb's rotation (rad) about rotAxis.
func (g *generator) activity(ph *phaseRT, t float64, dyn *[3]float64) (vol, theta float64, rotAxis [3]float64) {
	ramp := 1.0
	if ph.rampIn {
		ramp = math.Min(ramp, (t-ph.start)/3)
	}
	if ph.rampOut {
		ramp = math.Min(ramp, (ph.end-t)/3)
	}
	ramp = math.Max(0, math.Min(1, ramp))
	a := ph.act
	prev := g.cyc
	f := a.freq * g.cycRate
	g.cyc += f / g.fs
	if math.Floor(g.cyc) != math.Floor(prev) {
		g.cycRate = 1 + 0.03*g.rng.NormFloat64()
		g.cycAmp = math.Max(0.7, math.Min(1.3, 1+0.1*g.rng.NormFloat64()))
	}
	u := g.cyc - math.Floor(g.cyc)
	k := ramp * g.cycAmp
	var env float64
	rotAxis = [3]float64{0, 0, 1}
	switch ph.Activity {
	case ActivityRunning, ActivityWalking:
		env = burst(u, 0.05, a.burstW)
		d := u
		if d >= 0.5 {
			d--
		}
		tr, tr2 := d/f, (u-0.5)/f
		imp := a.impact * math.Exp(-0.5*(tr/a.impactW)*(tr/a.impactW))
		imp += 0.25 * a.impact * math.Exp(-0.5*(tr2/0.015)*(tr2/0.015))
		s, s2 := math.Sin(2*math.Pi*u), math.Sin(4*math.Pi*u+1)
		dyn[0] += k * imp
		dyn[1] += k * a.swing * (s + 0.5*s2)
		dyn[2] += k * 0.3 * a.swing * s2
		theta = ramp * a.theta * s
	case ActivityCycling:
		env = burst(u, 0.3, a.burstW)
		s, c := math.Sincos(2 * math.Pi * u)
		dyn[1] += k * a.swing * s
		dyn[0] += k * 0.5 * a.swing * c
		theta = ramp * a.theta * s
	case ActivityLifting:
		rotAxis = [3]float64{0, 1, 0}
		switch {
		case u < 0.45: // lifting: concentric
			x := u / 0.45
			env = math.Sin(math.Pi * x)
			dyn[0] += k * a.swing * math.Sin(2*math.Pi*x)
			dyn[2] += k * 0.4 * a.swing * math.Sin(4*math.Pi*x)
			theta = ramp * a.theta * (1 - math.Cos(math.Pi*x)) / 2
		case u < 0.9: // lowering: eccentric, less EMG
			x := (u - 0.45) / 0.45
			env = 0.6 * math.Sin(math.Pi*x)
			dyn[0] -= k * 0.8 * a.swing * math.Sin(2*math.Pi*x)
			dyn[2] -= k * 0.3 * a.swing * math.Sin(4*math.Pi*x)
			theta = ramp * a.theta * (1 + math.Cos(math.Pi*x)) / 2
		}
	}
	return k * a.emgPeak * (0.08 + 0.92*env), theta, rotAxis
}

func hann(s float64) float64 { return 0.5 * (1 - math.Cos(2*math.Pi*s)) }

func addScaled(dst *[3]float64, v float64, dir [3]float64) {
	dst[0] += v * dir[0]
	dst[1] += v * dir[1]
	dst[2] += v * dir[2]
}

type tilt struct {
	axis  [3]float64
	angle float64
}

// components evaluates the planned events active at t: it returns their
// EMG contribution (mV) and voluntary EMG envelope, adds their dynamic
// acceleration to dyn, and returns the gravity direction after posture
// shifts and tilts.
func (g *generator) components(t float64, dyn *[3]float64) (emg, vol float64, grav [3]float64) {
	comps := g.p.comps
	for g.next < len(comps) && comps[g.next].start <= t {
		g.active = append(g.active, g.next)
		g.next++
	}
	grav = g.gCur
	var tilts [4]tilt
	nt := 0
	for k := 0; k < len(g.active); {
		c := &comps[g.active[k]]
		if t > c.end {
			if c.kind == cPosture {
				g.gCur = c.gTo
				grav = c.gTo
			}
			g.active[k] = g.active[len(g.active)-1]
			g.active = g.active[:len(g.active)-1]
			continue
		}
		k++
		x := t - c.start
		s := x / (c.end - c.start)
		switch c.kind {
		case cPotential:
			emg += c.amp * potentialShape((t-c.center)/c.sigma, c.order)
		case cTremor:
			h := hann(s)
			u := c.freq*x + c.phase
			vol += c.emg * h * burst(u-math.Floor(u), 0.5, c.width)
			addScaled(dyn, c.amp*h*math.Sin(2*math.Pi*u), c.dir)
		case cTwitchAcc:
			addScaled(dyn, c.amp*math.Exp(-x/c.sigma)*math.Sin(2*math.Pi*c.freq*x), c.dir)
		case cCramp:
			v, drive := g.cramp(c, t)
			emg += v
			if nt < len(tilts) {
				tilts[nt] = tilt{c.axis, c.angle * drive}
				nt++
			}
		case cPop:
			emg += c.amp * math.Exp(-x/c.sigma)
		case cMotion:
			h := hann(s)
			sn := math.Sin(2*math.Pi*c.freq*x + c.phase)
			emg += c.amp * h * sn
			vol += c.emg * h
			addScaled(dyn, 0.05*h*sn, c.dir)
		case cFidget:
			h := hann(s)
			addScaled(dyn, c.amp*h*math.Sin(2*math.Pi*c.freq*x+c.phase), c.dir)
			vol += c.emg * h
			if nt < len(tilts) {
				tilts[nt] = tilt{c.axis, c.angle * h}
				nt++
			}
		case cPosture:
			w := s * s * (3 - 2*s)
			grav = normalize([3]float64{
				c.gFrom[0] + w*(c.gTo[0]-c.gFrom[0]),
				c.gFrom[1] + w*(c.gTo[1]-c.gFrom[1]),
				c.gFrom[2] + w*(c.gTo[2]-c.gFrom[2]),
			})
			addScaled(dyn, c.amp*math.Sin(2*math.Pi*s), c.dir)
			vol += c.emg * math.Sin(math.Pi*s)
		}
	}
	for i := 0; i < nt; i++ {
		if tilts[i].angle != 0 {
			grav = rotate(grav, tilts[i].axis, tilts[i].angle)
		}
	}
	return emg, vol, grav
}

// cramp returns the EMG of a cramp's motor-unit pool at t and its drive
// (0..1): units are recruited in order of threshold as the drive rises
// and discharge with lognormal inter-spike intervals (CV about 0.45).
func (g *generator) cramp(c *comp, t float64) (float64, float64) {
	cu := c.cramp
	x, d := t-c.start, c.end-c.start
	drive := math.Min(1, math.Min(x/cu.rise, (d-x)/cu.fall))
	drive = math.Max(0, drive)
	var v float64
	for i := range cu.units {
		mu := &cu.units[i]
		if drive > mu.thr && t >= mu.next {
			if mu.next < t-2/g.fs {
				mu.last = t // just recruited
			} else {
				mu.last = mu.next
			}
			isi := math.Exp(0.43*g.rng.NormFloat64()-0.0925) / (mu.rate * (0.7 + 0.3*drive))
			mu.next = mu.last + math.Max(0.025, math.Min(0.17, isi))
		}
		q := (t - mu.last - 3.5*mu.sigma) / mu.sigma
		if q > -3.5 && q < 3.5 {
			v += mu.amp * (1 - q*q) * math.Exp(-0.5*q*q)
		}
	}
	return v, drive
}

// sample computes sample i: the EMG in mV and, when an accelerometer
// sample falls on this row, the three axes in g (ok true).
func (g *generator) sample(i int64) (emg float64, acc [3]float64, ok bool) {
	t := float64(i) / g.fs
	ph := g.phaseAt(t)
	var dyn [3]float64
	var vol, theta float64
	var rotAxis [3]float64
	if ph.Active() {
		vol, theta, rotAxis = g.activity(ph, t, &dyn)
	}
	art, cvol, grav := g.components(t, &dyn)
	vol += cvol
	if theta != 0 {
		grav = rotate(grav, rotAxis, theta)
	}

	w := g.rng.NormFloat64()
	emg = g.noiseMV * w
	if g.noiseMV > 0 {
		w2 := g.rng.NormFloat64()
		g.pink[0] = 0.99765*g.pink[0] + w2*0.0990460
		g.pink[1] = 0.96300*g.pink[1] + w2*0.2965164
		g.pink[2] = 0.57000*g.pink[2] + w2*1.0526913
		emg += g.noiseMV * g.pinkGain * (g.pink[0] + g.pink[1] + g.pink[2] + w2*0.1848)
	}
	if len(g.mains) > 0 {
		mod := 1 + 0.2*g.mainsMod.next()
		if g.drift.on() {
			if i%mainsDriftBlock == 0 {
				g.drift.update(t, g.fs, g.mains)
			}
			mod *= g.drift.gain
		}
		for k := range g.mains {
			emg += mod * g.mainsAmp[k] * g.mains[k].next()
		}
	}
	emg += g.wanderAmp * (0.7*g.wander[0].next() + 0.5*g.wander[1].next())
	if vol > 0 {
		emg += vol * g.volScale * g.vol.Step(g.rng.NormFloat64())
	}
	emg += art
	if g.emgLSB > 0 {
		r := g.sc.EMGRangeMV
		emg = math.Round(math.Max(-r, math.Min(r-g.emgLSB, emg))/g.emgLSB) * g.emgLSB
	}
	if i&8191 == 0 {
		for k := range g.mains {
			g.mains[k].renorm()
		}
		g.mainsMod.renorm()
		g.wander[0].renorm()
		g.wander[1].renorm()
	}

	var filt [3]float64
	v := g.rotated([3]float64{grav[0] + dyn[0], grav[1] + dyn[1], grav[2] + dyn[2]})
	for a := 0; a < 3; a++ {
		filt[a] = g.lp[a].Step(v[a])
	}
	if i != g.nextAcc {
		return emg, acc, false
	}
	for a := 0; a < 3; a++ {
		v := filt[a] + g.accNoG*g.rng.NormFloat64()
		v = math.Max(-g.sc.AccRangeG, math.Min(g.sc.AccRangeG-g.accLSB, v))
		acc[a] = math.Round(v/g.accLSB) * g.accLSB
	}
	g.accK++
	g.nextAcc = int64(math.Round(float64(g.accK) * g.fs / g.sc.AccRate))
	return emg, acc, true
}

// timeNs is the time of sample i in Unix nanoseconds.
func (g *generator) timeNs(i int64) int64 {
	return g.startNs + int64(math.Round(float64(i)*1e9/g.fs))
}

// writeRow computes sample i and writes its line to each non-nil writer:
// ws[0] the full row, ws[1] time and EMG, ws[2] time and the three axes
// when an accelerometer sample falls on this row.
func (g *generator) writeRow(i int64, ws [3]*bufio.Writer) error {
	emg, acc, ok := g.sample(i)
	b := g.appendTime(g.buf[:0], i)
	tEnd := len(b)
	b = append(b, ',')
	b = appendFixed5(b, emg)
	eEnd := len(b)
	if ok {
		for a := 0; a < 3; a++ {
			b = append(b, ',')
			b = appendFixed5(b, acc[a])
		}
	} else {
		b = append(b, ",,,"...)
	}
	b = append(b, '\n')
	g.buf = b
	var err error
	if ws[0] != nil {
		_, err = ws[0].Write(b)
	}
	if ws[1] != nil && err == nil {
		if _, err = ws[1].Write(b[:eEnd]); err == nil {
			err = ws[1].WriteByte('\n')
		}
	}
	if ws[2] != nil && ok && err == nil {
		if _, err = ws[2].Write(b[:tEnd]); err == nil {
			_, err = ws[2].Write(b[eEnd:])
		}
	}
	return err
}

// appendFixed5 appends v with exactly 5 decimals, rounded half away from
// zero; much faster than strconv's 'f' format and the same digits for the
// magnitudes written here (|v| < 1e9).
func appendFixed5(b []byte, v float64) []byte {
	if !(math.Abs(v) < 1e9) {
		return strconv.AppendFloat(b, v, 'f', 5, 64)
	}
	n := int64(math.Round(v * 1e5))
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/100000, 10)
	b = append(b, '.')
	frac := n % 100000
	var d [5]byte
	for k := 4; k >= 0; k-- {
		d[k] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, d[:]...)
}

// appendTime appends the time of sample i as Unix seconds with 6 decimals.
func (g *generator) appendTime(b []byte, i int64) []byte {
	ns := g.timeNs(i)
	us := (ns + 500) / 1000
	sec, frac := us/1e6, us%1e6
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, '.')
	var d [6]byte
	for k := 5; k >= 0; k-- {
		d[k] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, d[:]...)
}
