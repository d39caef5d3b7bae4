package simulate

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/twitchd/twitchd/internal/dsp"
	"github.com/twitchd/twitchd/pipeline"
)

// compKind is the kind of a planned event that shapes the signals.
type compKind uint8

const (
	cPotential compKind = iota // one fasciculation potential (EMG)
	cTwitchAcc                 // damped limb oscillation of a visible twitch (acc)
	cCramp                     // sustained involuntary motor-unit firing (EMG, slight tilt)
	cPop                       // electrode pop: step and exponential recovery (EMG)
	cMotion                    // cable/skin motion: slow large swing (EMG), small movement (acc)
	cFidget                    // small voluntary movement (acc and a little EMG)
	cPosture                   // posture shift: gravity rotates (acc and a little EMG)
	cTremor                    // tremor-like burst: rhythmic EMG bursts and limb oscillation
)

// comp is one planned event. Times are seconds from the recording start.
type comp struct {
	kind       compKind
	start, end float64
	center     float64 // potentials: time of the waveform's centre
	amp        float64 // mV for EMG kinds, g for acc kinds
	sigma      float64 // potentials: width (s); pops and twitch oscillations: decay time constant (s)
	freq       float64 // Hz
	phase      float64 // rad
	order      int     // potentials: Gaussian derivative order, phases - 1 (potential.go)
	width      float64 // tremor: EMG burst width (cycles)
	dir        [3]float64
	axis       [3]float64 // tilt axis
	angle      float64    // tilt angle (rad)
	emg        float64    // voluntary EMG amplitude (mV RMS) during fidgets and posture shifts
	gFrom, gTo [3]float64
	cramp      *crampUnits
}

// crampUnits is the motor-unit pool firing during one cramp.
type crampUnits struct {
	rise, fall float64 // seconds of recruitment and derecruitment
	units      []motorUnit
}

type motorUnit struct {
	amp, sigma float64 // triphasic MUAP peak (mV) and width (s)
	rate       float64 // mean discharge rate at the plateau (Hz)
	thr        float64 // recruitment threshold on the 0..1 drive
	last, next float64 // last and next discharge times (s)
}

// phaseRT is a phase with its place in time and activity parameters.
type phaseRT struct {
	PhaseSpec
	start, end      float64
	rampIn, rampOut bool
	act             actParams
}

// actParams drives the activity models of one phase.
type actParams struct {
	freq    float64 // cycle frequency: stride, pedal revolution or repetition (Hz)
	emgPeak float64 // voluntary EMG RMS at the peak of a cycle's burst (mV)
	impact  float64 // running, walking: peak axial foot-strike acceleration (g)
	impactW float64 // running, walking: width (s) of the foot-strike pulse
	swing   float64 // peak dynamic acceleration of the limb's swing or lift (g)
	theta   float64 // peak rotation of the limb over a cycle (rad)
	burstW  float64 // running, walking, cycling: EMG burst width (cycles)
}

var intensityIndex = map[string]int{"light": 0, "moderate": 1, "vigorous": 2}

// activityParams returns the model parameters for an activity, intensity
// and site. The values are tuned so that ENMO falls in the labelled
// intensity's range of the cut-points 40/100/400 mg (README.md).
func activityParams(activity, intensity, site string) actParams {
	i := intensityIndex[intensity]
	var p actParams
	switch activity {
	case ActivityRunning:
		p = actParams{
			freq:    []float64{1.30, 1.40, 1.50}[i],
			emgPeak: []float64{0.35, 0.7, 1.3}[i],
			impact:  []float64{0.55, 2.0, 3.6}[i],
			impactW: 0.012,
			swing:   []float64{0.2, 0.5, 0.9}[i],
			theta:   []float64{0.3, 0.45, 0.6}[i],
			burstW:  0.4,
		}
	case ActivityWalking:
		// Heel strike is softer and longer than a running foot strike;
		// the calf's push-off burst takes about a third of the stride.
		p = actParams{
			freq:    []float64{0.85, 0.95, 1.05}[i],
			emgPeak: []float64{0.12, 0.2, 0.3}[i],
			impact:  []float64{0.35, 0.55, 0.8}[i],
			impactW: 0.02,
			swing:   []float64{0.12, 0.18, 0.25}[i],
			theta:   []float64{0.25, 0.3, 0.35}[i],
			burstW:  0.35,
		}
	case ActivityCycling:
		p = actParams{
			freq:    []float64{1.25, 1.40, 1.55}[i],
			emgPeak: []float64{0.25, 0.5, 0.9}[i],
			swing:   []float64{0.3, 0.75, 1.6}[i],
			theta:   []float64{0.3, 0.4, 0.5}[i],
			burstW:  0.45,
		}
	case ActivityLifting:
		p = actParams{
			freq:    []float64{0.30, 0.40, 0.50}[i],
			emgPeak: []float64{0.3, 0.7, 1.3}[i],
			swing:   []float64{0.42, 0.95, 2.2}[i],
			theta:   1.8,
		}
	}
	// A forearm sensor during running or cycling sees arm swing, not foot
	// strikes, and little forearm EMG.
	if strings.Contains(site, "forearm") && activity != ActivityLifting {
		p.emgPeak *= 0.3
		p.impact *= 0.4
	}
	return p
}

// phaseParams applies a phase's overrides (cadence, amplitude, burst
// length) to its activity's defaults.
func phaseParams(ps PhaseSpec, site string) actParams {
	p := activityParams(ps.Activity, ps.Intensity, site)
	if ps.CadenceHz > 0 {
		p.freq = ps.CadenceHz
	}
	if a := ps.Amplitude; a > 0 {
		p.emgPeak *= a
		p.impact *= a
		p.swing *= a
		p.theta *= a
	}
	if ps.BurstMs > 0 && ps.Activity != ActivityLifting {
		p.burstW = math.Min(0.9, ps.BurstMs/1000*p.freq)
	}
	return p
}

// plan is everything decided before the first sample.
type plan struct {
	phases []phaseRT
	comps  []comp
	gStart [3]float64
	labels *Labels
}

// planner holds the state of planning.
type planner struct {
	sc    Scenario
	rng   *rand.Rand
	p     *plan
	busy  []interval // artifacts and cramps that twitches keep away from
	gRest [3]float64
	gAct  [3]float64
	minUV float64 // smallest recorded twitch peak allowed (µV)
	bouts []interval
	band  *dsp.SOS // surface EMG band-pass, for the wide model's floor
}

type interval struct{ a, b float64 }

func (pl *planner) uniform(a, b float64) float64 { return a + (b-a)*pl.rng.Float64() }

func (pl *planner) logUniform(a, b float64) float64 {
	return math.Exp(pl.uniform(math.Log(a), math.Log(b)))
}

func (pl *planner) sign() float64 {
	if pl.rng.IntN(2) == 0 {
		return -1
	}
	return 1
}

// poisson returns the event times of a Poisson process of rate per minute in [a, b).
func (pl *planner) poisson(perMin, a, b float64) []float64 {
	if perMin <= 0 || b <= a {
		return nil
	}
	var out []float64
	mean := 60 / perMin
	for t := a + pl.rng.ExpFloat64()*mean; t < b; t += pl.rng.ExpFloat64() * mean {
		out = append(out, t)
	}
	return out
}

func (pl *planner) free(a, b, margin float64) bool {
	for _, iv := range pl.busy {
		if a < iv.b+margin && b > iv.a-margin {
			return false
		}
	}
	return true
}

// antiAliasSigma is the width (s) of the Gaussian that stands for the EMG
// front end's anti-aliasing low-pass, -3 dB near 0.4·fs.
func antiAliasSigma(fs float64) float64 { return 0.33 / fs }

func newPlan(sc Scenario, seed int64) *plan {
	pl := &planner{
		sc:  sc,
		rng: rand.New(rand.NewPCG(uint64(seed), 0x7477697463686431)), // "twitchd1"
		p:   &plan{},
	}
	pl.minUV = math.Max(50, 10*sc.NoiseUV)
	if sh := sc.Twitch.Shape; sh != nil {
		pl.minUV = sh.MinSNR * EMGNoiseUV(sc)
	}
	pl.orientations()
	pl.phases()
	pl.bouts = boutSpans(pl.p.phases)
	pl.cramps()
	pl.restArtifacts()
	pl.anywhereArtifacts()
	pl.twitches()
	pl.chainPostures()
	sort.SliceStable(pl.p.comps, func(i, j int) bool { return pl.p.comps[i].start < pl.p.comps[j].start })
	pl.labelBoutsAndStatus()
	return pl.p
}

func normalize(v [3]float64) [3]float64 {
	n := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])
	if n == 0 {
		return [3]float64{1, 0, 0}
	}
	return [3]float64{v[0] / n, v[1] / n, v[2] / n}
}

// orientations picks the gravity direction in the sensor frame (x along
// the limb, z out of the skin) during activity and at rest for the site.
func (pl *planner) orientations() {
	site := pl.sc.Site
	switch {
	case strings.Contains(site, "forearm"):
		pl.gAct = normalize([3]float64{0.2, 0.1, 1})
		pl.gRest = normalize([3]float64{0.1, 0.3 * pl.rng.Float64(), 1})
	case strings.Contains(site, "thigh"):
		pl.gAct = normalize([3]float64{0.6, 0.1, 0.8})
		pl.gRest = normalize([3]float64{0.15, 0.1 * pl.rng.Float64(), 1})
	default: // shank: vertical when standing, sitting with the foot on the floor
		pl.gAct = [3]float64{1, 0, 0}
		pl.gRest = normalize([3]float64{1, 0.2 * pl.rng.Float64(), 0.3 + 0.3*pl.rng.Float64()})
	}
}

func (pl *planner) ts(sec float64) pipeline.Timestamp {
	return pipeline.Timestamp(pl.sc.Start.UnixNano() + int64(math.Round(sec*1e9)))
}

func (pl *planner) phases() {
	sc := pl.sc
	l := &Labels{
		Schema:    LabelsSchema,
		Scenario:  sc.Name,
		Settings:  sc,
		Twitches:  []TwitchLabel{},
		Cramps:    []CrampLabel{},
		Artifacts: []ArtifactLabel{},
		Bouts:     []BoutLabel{},
	}
	pl.p.labels = l
	t := 0.0
	for i, ps := range sc.Phases {
		r := phaseRT{PhaseSpec: ps, start: t, end: t + ps.Seconds}
		if ps.Active() {
			r.act = phaseParams(ps, sc.Site)
			r.rampIn = i == 0 || !sc.Phases[i-1].Active()
			r.rampOut = i == len(sc.Phases)-1 || !sc.Phases[i+1].Active()
		}
		pl.p.phases = append(pl.p.phases, r)
		lbl := PhaseLabel{Name: ps.Name, Activity: ActivityNone, Start: pl.ts(r.start), End: pl.ts(r.end)}
		if ps.Active() {
			lbl.Activity, lbl.Intensity = ps.Activity, ps.Intensity
			lbl.CadenceHz = round3(r.act.freq)
			if ps.Activity != ActivityLifting {
				lbl.BurstMs = math.Round(r.act.burstW / r.act.freq * 1000)
			}
			lbl.Amplitude = ps.Amplitude
		}
		l.Phases = append(l.Phases, lbl)
		t = r.end
	}
	l.Start, l.End = pl.ts(0), pl.ts(t)
	if sc.Phases[0].Active() {
		pl.p.gStart = pl.gAct
	} else {
		pl.p.gStart = pl.gRest
	}
	// Posture changes between activity and rest.
	for i := 1; i < len(pl.p.phases); i++ {
		prev, cur := pl.p.phases[i-1], pl.p.phases[i]
		if prev.Active() == cur.Active() {
			continue
		}
		d := pl.uniform(1.0, 1.8)
		c := comp{kind: cPosture, amp: pl.uniform(0.05, 0.12), emg: pl.uniform(0.03, 0.08), dir: pl.randomDir()}
		if cur.Active() { // getting up: ends at the boundary
			c.start, c.end, c.gTo = cur.start-d, cur.start, pl.gAct
		} else { // sitting down: starts at the boundary
			c.start, c.end, c.gTo = cur.start, cur.start+d, pl.gRest
		}
		pl.addArtifact(c, ArtifactPosture)
	}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// boutSpans returns the exercise bouts a scenario constructs: maximal
// runs of phases other than rest, pauses between sets included, except
// runs made only of strolls (seconds of walking are not a bout).
func boutSpans(phases []phaseRT) []interval {
	var out []interval
	for i := 0; i < len(phases); {
		if phases[i].Name == PhaseRest {
			i++
			continue
		}
		j, bout := i, false
		for j < len(phases) && phases[j].Name != PhaseRest {
			bout = bout || (phases[j].Active() && phases[j].Name != PhaseStroll)
			j++
		}
		if bout {
			out = append(out, interval{phases[i].start, phases[j-1].end})
		}
		i = j
	}
	return out
}

// uniformDir returns a direction uniform on the sphere.
func (pl *planner) uniformDir() [3]float64 {
	return normalize([3]float64{pl.rng.NormFloat64(), pl.rng.NormFloat64(), pl.rng.NormFloat64()})
}

func (pl *planner) randomDir() [3]float64 {
	return normalize([3]float64{pl.rng.NormFloat64(), pl.rng.NormFloat64(), pl.rng.NormFloat64() + 0.5})
}

// perpendicularAxis returns a unit vector at right angles to g.
func (pl *planner) perpendicularAxis(g [3]float64) [3]float64 {
	r := pl.randomDir()
	c := cross(g, r)
	return normalize(c)
}

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func (pl *planner) addArtifact(c comp, kind string) {
	pl.p.comps = append(pl.p.comps, c)
	pl.busy = append(pl.busy, interval{c.start, c.end})
	l := pl.p.labels
	l.Artifacts = append(l.Artifacts, ArtifactLabel{Kind: kind, Start: pl.ts(c.start), End: pl.ts(c.end)})
}

// restWindows returns the rest phases, trimmed of the posture changes at
// their edges; afterExercise keeps only rests with exercise (not a
// stroll) before them; setRests adds the pauses between sets.
func (pl *planner) restWindows(afterExercise, setRests bool) []interval {
	var out []interval
	exercised := false
	for _, r := range pl.p.phases {
		if r.Active() {
			exercised = exercised || r.Name != PhaseStroll
			continue
		}
		if (afterExercise && !exercised) || (r.Name == PhaseSetRest && !setRests) {
			continue
		}
		a, b := r.start+3, r.end-2.5
		if r.start == 0 {
			a = r.start + 1
		}
		if b > a {
			out = append(out, interval{a, b})
		}
	}
	return out
}

func (pl *planner) cramps() {
	sc := pl.sc
	if sc.Cramps == 0 {
		return
	}
	wins := pl.restWindows(true, false)
	for n := 0; n < sc.Cramps && len(wins) > 0; n++ {
		w := wins[n%len(wins)]
		maxD := math.Min(sc.CrampMaxS, 0.4*(w.b-w.a))
		if maxD < math.Min(sc.CrampMinS, 5) {
			continue
		}
		d := pl.uniform(math.Min(sc.CrampMinS, maxD), maxD)
		for try := 0; try < 50; try++ {
			s := pl.uniform(w.a+3, w.b-d-3)
			if s < w.a || !pl.free(s, s+d, 30) {
				continue
			}
			pl.addCramp(s, d)
			break
		}
	}
}

func (pl *planner) addCramp(s, d float64) {
	n := 15 + pl.rng.IntN(16)
	cu := &crampUnits{rise: pl.uniform(0.8, 2), fall: pl.uniform(1, 3)}
	var sum float64
	for k := 0; k < n; k++ {
		gain, sigma := recordedGain(pl.uniform(8e-3, 14e-3)/7, pl.sc.EMGRate, 2)
		rate := math.Max(8, math.Min(22, 14.5+3*pl.rng.NormFloat64()))
		sum += rate
		cu.units = append(cu.units, motorUnit{
			amp:   pl.sign() * pl.logUniform(0.05, 0.3) * gain,
			sigma: sigma,
			last:  -1e9,
			rate:  rate,
			thr:   0.8 * float64(k) / float64(n),
			next:  s,
		})
	}
	g := pl.gRest
	c := comp{kind: cCramp, start: s, end: s + d, cramp: cu, axis: pl.perpendicularAxis(g), angle: pl.uniform(4, 10) * math.Pi / 180}
	pl.p.comps = append(pl.p.comps, c)
	pl.busy = append(pl.busy, interval{s - 1, s + d + 1})
	pl.p.labels.Cramps = append(pl.p.labels.Cramps, CrampLabel{Start: pl.ts(s), End: pl.ts(s + d), Units: n, MeanHz: sum / float64(n)})
}

// restArtifacts places fidgets and posture shifts in every rest phase and
// pause between sets, and tremor-like bursts in rest phases.
func (pl *planner) restArtifacts() {
	for _, w := range pl.restWindows(false, true) {
		for _, t := range pl.poisson(pl.sc.FidgetsPerMin, w.a, w.b) {
			d := pl.uniform(0.5, 3)
			if t+d > w.b || !pl.free(t, t+d, 1) {
				continue
			}
			pl.addArtifact(comp{
				kind: cFidget, start: t, end: t + d,
				amp: pl.uniform(0.05, 0.3), freq: pl.uniform(1, 3), phase: pl.uniform(0, 2*math.Pi),
				dir: pl.randomDir(), axis: pl.perpendicularAxis(pl.gRest), angle: pl.uniform(2, 10) * math.Pi / 180,
				emg: pl.uniform(0.02, 0.08),
			}, ArtifactFidget)
		}
		for _, t := range pl.poisson(pl.sc.PosturePerMin, w.a, w.b) {
			d := pl.uniform(1, 2)
			if t+d > w.b || !pl.free(t, t+d, 1) {
				continue
			}
			to := rotate(pl.gRest, pl.perpendicularAxis(pl.gRest), pl.uniform(10, 40)*math.Pi/180)
			pl.addArtifact(comp{
				kind: cPosture, start: t, end: t + d, gTo: to,
				amp: pl.uniform(0.03, 0.1), dir: pl.randomDir(), emg: pl.uniform(0.05, 0.15),
			}, ArtifactPosture)
		}
	}
	if pl.sc.TremorPerMin > 0 {
		for _, w := range pl.restWindows(false, false) {
			pl.tremors(w)
		}
	}
}

// tremors places tremor-like bursts in w: 1-6 s of rhythmic EMG bursts
// (20-40 % of each cycle, 30-200 µV RMS) with a limb oscillation of
// 5-50 mg at the same 4-8 Hz, faded in and out. A physiological or
// essential tremor is not a fasciculation: each cycle is a burst of many
// motor units, and its rhythm gives it away.
func (pl *planner) tremors(w interval) {
	for _, t := range pl.poisson(pl.sc.TremorPerMin, w.a, w.b) {
		d := pl.uniform(1, 6)
		if t+d > w.b || !pl.free(t, t+d, 1) {
			continue
		}
		pl.addArtifact(comp{
			kind: cTremor, start: t, end: t + d,
			freq: pl.uniform(pl.sc.TremorHz.Min, pl.sc.TremorHz.Max), phase: pl.uniform(0, 1),
			amp: pl.logUniform(0.005, 0.05), dir: pl.uniformDir(),
			emg: pl.logUniform(0.03, 0.2), width: pl.uniform(0.2, 0.4),
		}, ArtifactTremor)
	}
}

// anywhereArtifacts places electrode pops and motion artifacts over the
// whole recording.
func (pl *planner) anywhereArtifacts() {
	total := pl.sc.Seconds()
	for _, t := range pl.poisson(pl.sc.PopsPerMin, 1, total-2) {
		tau := pl.uniform(0.05, 0.4)
		if !pl.free(t, t+5*tau, 0.5) {
			continue
		}
		pl.addArtifact(comp{kind: cPop, start: t, end: t + 5*tau, amp: pl.sign() * pl.uniform(0.5, 3), sigma: tau}, ArtifactPop)
	}
	for _, t := range pl.poisson(pl.sc.MotionPerMin, 1, total-3) {
		d := pl.uniform(0.4, 1.5)
		if !pl.free(t, t+d, 0.5) {
			continue
		}
		pl.addArtifact(comp{
			kind: cMotion, start: t, end: t + d, amp: pl.uniform(0.3, 1.5), freq: pl.uniform(1, 5),
			phase: pl.uniform(0, 2*math.Pi), dir: pl.randomDir(), emg: pl.uniform(0.02, 0.08),
		}, ArtifactMotion)
	}
	// Cable sway: the lead swings slowly for seconds, pulling on the
	// electrode; a large low-frequency EMG artefact, barely any limb
	// movement.
	for _, t := range pl.poisson(pl.sc.SwayPerMin, 1, total-9) {
		d := pl.uniform(2, 8)
		if !pl.free(t, t+d, 0.5) {
			continue
		}
		pl.addArtifact(comp{
			kind: cMotion, start: t, end: t + d, amp: pl.uniform(0.1, 1), freq: pl.uniform(0.5, 2),
			phase: pl.uniform(0, 2*math.Pi), dir: pl.uniformDir(), emg: pl.uniform(0.005, 0.02),
		}, ArtifactSway)
	}
}

// twitchWindows returns where twitches go for the pattern, with the
// start of the rest each window belongs to (for fading).
func (pl *planner) twitchWindows() []interval {
	var out []interval
	exercised, resumed := false, false
	before := pl.sc.Twitch.BeforeExercise
	for _, r := range pl.p.phases {
		if r.Name == PhaseStroll || r.Name == PhaseSetRest {
			continue
		}
		if r.Active() {
			if (exercised || before) && r.Name == PhaseResumed {
				resumed = true
			}
			exercised = true
			continue
		}
		if !exercised && !before {
			continue
		}
		if resumed && pl.sc.Twitch.Pattern != PatternPersists {
			continue
		}
		out = append(out, interval{r.start + 3, r.end - 2.5})
	}
	return out
}

func (pl *planner) twitches() {
	tw := pl.sc.Twitch
	if tw.Pattern == PatternNone || tw.RatePerMin <= 0 {
		return
	}
	lp := pl.accLowpass()
	last := math.Inf(-1)
	for _, w := range pl.twitchWindows() {
		tau := (w.b - w.a) / 3
		for _, t := range pl.poisson(tw.RatePerMin, w.a, w.b) {
			if tw.Pattern == PatternFades && pl.rng.Float64() > math.Exp(-(t-w.a)/tau) {
				continue
			}
			if t-last < 1.2 || t+0.4 > w.b || !pl.free(t-0.2, t+0.5, 1) {
				continue
			}
			if tw.Shape != nil {
				pl.addTwitchWide(t, lp)
			} else {
				pl.addTwitch(t, lp)
			}
			last = t
		}
	}
}

// accLowpass returns a fresh copy of the accelerometer's anti-alias filter.
func (pl *planner) accLowpass() func() *dsp.SOS {
	fc := math.Min(0.4*pl.sc.AccRate, 0.45*pl.sc.EMGRate)
	return func() *dsp.SOS {
		f, err := dsp.ButterLowpass(2, fc, pl.sc.EMGRate)
		if err != nil {
			panic("simulate: accelerometer low-pass: " + err.Error())
		}
		return f
	}
}

func (pl *planner) addTwitch(t float64, lp func() *dsp.SOS) {
	sc := pl.sc
	fs := sc.EMGRate
	n := 1
	if pl.rng.Float64() < 0.4 {
		n = 2 + pl.rng.IntN(5)
	}
	baseAmp := pl.logUniform(0.05, 0.5) // mV at the skin
	tri := pl.rng.Float64() < 0.5
	sign := pl.sign()
	dur := pl.uniform(5e-3, 20e-3)
	var first, lastEnd, peak float64
	center := t
	for k := 0; k < n; k++ {
		if k > 0 {
			center += pl.uniform(5e-3, 30e-3)
		}
		half := 3.0
		if tri {
			half = 3.5
		}
		sigma := dur / (2 * half)
		order := 1
		if tri {
			order = 2
		}
		g, se := recordedGain(sigma, fs, order)
		amp := baseAmp * pl.uniform(0.85, 1.15)
		// What the file holds is the smeared waveform at the sample
		// instants; a potential too small there to tell from the floor is
		// raised (up to 1 mV at the skin), and failing that moved by a
		// fraction of a sample onto its best phase: nobody could label a
		// potential the recording does not show.
		s := sampledShapePeak(center, se, fs, order)
		if amp*g*s*1000 < pl.minUV {
			amp = math.Min(1, pl.minUV/1000/(g*s)*pl.uniform(1, 1.3))
		}
		if amp*g*s*1000 < pl.minUV {
			center = alignToSample(center, se, fs, order)
			s = sampledShapePeak(center, se, fs, order)
			amp = math.Max(amp, pl.minUV/1000/(g*s))
		}
		rec := amp * g * s
		c := comp{kind: cPotential, center: center, start: center - half*se, end: center + half*se, amp: sign * amp * g, sigma: se, order: order}
		if k == 0 {
			first = c.start
		}
		lastEnd = math.Max(lastEnd, c.end)
		peak = math.Max(peak, rec)
		pl.p.comps = append(pl.p.comps, c)
	}
	lbl := TwitchLabel{Start: pl.ts(first), End: pl.ts(lastEnd), PeakUV: math.Round(peak*1e4) / 10, Potentials: n, PotentialPhases: 2, Phase: PhaseRest, AccNoiseMg: round3(AccNoiseMg(sc))}
	if tri {
		lbl.PotentialPhases = 3
	}
	if pl.rng.Float64() < sc.Twitch.AccFraction {
		if c, peakG, ok := pl.visibleTwitch(first, lp); ok {
			pl.p.comps = append(pl.p.comps, c)
			lbl.InAcc = true
			lbl.AccStart, lbl.AccEnd = pl.ts(c.start), pl.ts(c.end)
			lbl.AccPeakMg = math.Round(peakG*1e4) / 10
		}
	}
	pl.p.labels.Twitches = append(pl.p.labels.Twitches, lbl)
}

// maxSkinMV bounds a potential raised to be visible: no fasciculation
// potential at the skin is larger.
const maxSkinMV = 2.0

// maxSurfaceHz bounds the main frequency of a potential at the skin.
const maxSurfaceHz = 350.0

// addTwitchWide plans a twitch with the wide model (TwitchShape): one
// potential (60 %) or a burst of 2-6 with the same shape and polarity,
// spaced so that neighbours do not cancel, and with AccFraction a limb
// jerk however small, labelled with its recorded peak and the sensor's
// noise (the scorer decides what is plainly visible). A potential must
// show in the surface EMG band (20-450 Hz) at MinSNR times the noise or
// more: weaker ones are raised, as nobody could label them.
func (pl *planner) addTwitchWide(t float64, lp func() *dsp.SOS) {
	sc := pl.sc
	if pl.band == nil {
		pl.band = surfaceBand(sc.EMGRate)
	}
	sh := sc.Twitch.Shape
	fs := sc.EMGRate
	n := 1
	if pl.rng.Float64() < 0.4 {
		n = 2 + pl.rng.IntN(5)
	}
	phases := int(math.Round(pl.uniform(sh.Phases.Min-0.49, sh.Phases.Max+0.49)))
	order := max(0, min(maxOrder, phases-1))
	baseAmp := pl.logUniform(sh.UV.Min, sh.UV.Max) / 1000 // mV at the skin
	sign := pl.sign()
	dur := pl.uniform(sh.Ms.Min, sh.Ms.Max) / 1000
	half := halfWidth(order)
	// Tissue between muscle and skin low-passes what surface electrodes
	// see (the reason surface EMG is recorded in 20-450 Hz): a potential
	// too short for its phases is stretched until its main frequency,
	// sqrt(order)/(2·pi·sigma), is at most maxSurfaceHz.
	sigma := math.Max(dur/(2*half), math.Sqrt(float64(order))/(2*math.Pi*maxSurfaceHz))
	dur = 2 * half * sigma
	g, se := recordedGain(sigma, fs, order)
	var first, lastEnd, peak, inBand float64
	center := t
	for k := 0; k < n; k++ {
		if k > 0 {
			center += pl.uniform(math.Max(5e-3, 0.6*dur), math.Max(30e-3, 1.2*dur))
		}
		amp := baseAmp * pl.uniform(0.85, 1.15)
		bp := bandPeak(pl.band, center, se, fs, order)
		if amp*g*bp*1000 < pl.minUV {
			amp = math.Min(maxSkinMV, pl.minUV/1000/(g*bp)*pl.uniform(1, 2))
		}
		if amp*g*bp*1000 < pl.minUV {
			center = alignToSample(center, se, fs, order)
			bp = bandPeak(pl.band, center, se, fs, order)
			amp = math.Max(amp, pl.minUV/1000/(g*bp))
		}
		c := comp{kind: cPotential, center: center, start: center - half*se, end: center + half*se, amp: sign * amp * g, sigma: se, order: order}
		if k == 0 {
			first = c.start
		}
		lastEnd = math.Max(lastEnd, c.end)
		peak = math.Max(peak, amp*g*sampledShapePeak(center, se, fs, order))
		inBand = math.Max(inBand, amp*g*bp)
		pl.p.comps = append(pl.p.comps, c)
	}
	lbl := TwitchLabel{Start: pl.ts(first), End: pl.ts(lastEnd), PeakUV: math.Round(peak*1e4) / 10, BandPeakUV: math.Round(inBand*1e4) / 10,
		Potentials: n, PotentialPhases: order + 1, Phase: PhaseRest, AccNoiseMg: round3(AccNoiseMg(sc))}
	if pl.rng.Float64() < sc.Twitch.AccFraction {
		c := comp{
			kind:  cTwitchAcc,
			amp:   pl.logUniform(sh.JerkMg.Min, sh.JerkMg.Max) / 1000,
			freq:  pl.uniform(sh.JerkHz.Min, sh.JerkHz.Max),
			sigma: pl.uniform(sh.JerkTauMs.Min, sh.JerkTauMs.Max) / 1000,
			dir:   pl.uniformDir(),
		}
		c.start = first + pl.uniform(0.005, 0.015)
		c.end = c.start + 4*c.sigma
		peakG := twitchRecordedPeak(c, lp(), sc.EMGRate, sc.AccRate)
		pl.p.comps = append(pl.p.comps, c)
		lbl.InAcc = true
		lbl.AccStart, lbl.AccEnd = pl.ts(c.start), pl.ts(c.end)
		lbl.AccPeakMg = math.Round(peakG*1e4) / 10
	}
	pl.p.labels.Twitches = append(pl.p.labels.Twitches, lbl)
}

// visibleTwitch plans the damped oscillation of a visible twitch starting
// an electromechanical delay after the potential at t0. It checks the peak
// as the accelerometer records it (after its low-pass) against the noise,
// and reports false when it could not be seen at all.
func (pl *planner) visibleTwitch(t0 float64, lp func() *dsp.SOS) (comp, float64, bool) {
	sc := pl.sc
	c := comp{
		kind:  cTwitchAcc,
		amp:   pl.logUniform(0.015, 0.05),
		freq:  pl.uniform(10, 20),
		sigma: pl.uniform(0.04, 0.09),
		dir:   pl.randomDir(),
	}
	c.start = t0 + pl.uniform(0.005, 0.015)
	c.end = c.start + 4*c.sigma
	// The peak as recorded (low-passed and sampled at the accelerometer's
	// instants) must stand clear of the noise and quantisation (5 noise
	// RMS, 4 LSB); a limb movement that would need more than 0.1 g to show
	// is not visible with this sensor.
	need := math.Max(5*sc.AccNoiseMg*1e-3, 4*2*sc.AccRangeG/math.Exp2(float64(sc.AccBits)))
	target := pl.logUniform(1.1*need, math.Max(2.5*need, 0.06))
	peak := twitchRecordedPeak(c, lp(), sc.EMGRate, sc.AccRate)
	if peak < target {
		scale := target / peak
		if c.amp*scale > 0.1 {
			return comp{}, 0, false
		}
		c.amp *= scale
		peak = target
	}
	return c, peak, true
}

// twitchRecordedPeak runs the oscillation through the accelerometer's
// low-pass at the EMG rate, as the generator does, and returns its
// largest magnitude (g) on the rows that carry an accelerometer sample:
// at 25 Hz a short oscillation can fall between samples, and what was
// never sampled cannot be seen. The filter is linear, so the twitch's
// share of the output does not depend on what else the sensor feels.
func twitchRecordedPeak(c comp, f *dsp.SOS, fsE, fsA float64) float64 {
	var peak float64
	first := int64(math.Ceil(c.start * fsE))
	last := int64((c.end+0.05)*fsE) + 1
	for i := first; i <= last; i++ {
		x := float64(i)/fsE - c.start
		v := 0.0
		if x <= c.end-c.start {
			v = c.amp * math.Exp(-x/c.sigma) * math.Sin(2*math.Pi*c.freq*x)
		}
		y := f.Step(v)
		if k := math.Round(float64(i) * fsA / fsE); int64(math.Round(k*fsE/fsA)) == i {
			peak = math.Max(peak, math.Abs(y))
		}
	}
	return peak
}

// chainPostures sets where each posture shift starts from, in time order.
func (pl *planner) chainPostures() {
	idx := make([]int, 0)
	for i, c := range pl.p.comps {
		if c.kind == cPosture {
			idx = append(idx, i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return pl.p.comps[idx[a]].start < pl.p.comps[idx[b]].start })
	g := pl.p.gStart
	for _, i := range idx {
		pl.p.comps[i].gFrom = g
		g = pl.p.comps[i].gTo
	}
}

func (pl *planner) labelBoutsAndStatus() {
	l := pl.p.labels
	for _, b := range pl.bouts {
		var main *phaseRT
		lbl := BoutLabel{Start: pl.ts(b.a), End: pl.ts(b.b), Sets: 1}
		for i := range pl.p.phases {
			r := &pl.p.phases[i]
			if r.start < b.a || r.end > b.b {
				continue
			}
			if r.Name == PhaseSetRest {
				lbl.Sets++
				continue
			}
			lbl.ActiveS += r.end - r.start
			if main == nil || intensityIndex[r.Intensity] > intensityIndex[main.Intensity] {
				main = r
			}
		}
		lbl.ActiveS = math.Round(lbl.ActiveS*1000) / 1000
		lbl.Activity, lbl.Intensity = main.Activity, main.Intensity
		l.Bouts = append(l.Bouts, lbl)
	}
	sort.Slice(l.Twitches, func(a, b int) bool { return l.Twitches[a].Start < l.Twitches[b].Start })
	sort.Slice(l.Artifacts, func(a, b int) bool { return l.Artifacts[a].Start < l.Artifacts[b].Start })
	for i := range l.Twitches {
		l.Twitches[i].Context = pipeline.PhaseRest
		for _, b := range l.Bouts {
			if b.End <= l.Twitches[i].Start {
				l.Twitches[i].Context = pipeline.PhasePostExercise
			}
		}
	}
	e := Expect(l)
	l.Expected = &e
	l.ExpectedStatus = e.Both.Status
}

// rotate turns v about the unit axis k by angle (Rodrigues' formula).
func rotate(v, k [3]float64, angle float64) [3]float64 {
	c, s := math.Cos(angle), math.Sin(angle)
	kv := cross(k, v)
	d := (k[0]*v[0] + k[1]*v[1] + k[2]*v[2]) * (1 - c)
	return [3]float64{
		v[0]*c + kv[0]*s + k[0]*d,
		v[1]*c + kv[1]*s + k[1]*d,
		v[2]*c + kv[2]*s + k[2]*d,
	}
}
