package hybrid

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/realdata"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// Config sets what is injected. Default returns the values `twitchd eval
// -hybrid` uses; the zero value is not usable.
type Config struct {
	// Seed and Draws: each recording is run Draws times, draw k with its
	// own plan from Seed, the recording's path and k.
	Seed  int64
	Draws int
	// RestGap and ActiveGap bound the time between injections in rest
	// and in activity stretches (uniform between the two values).
	RestGap, ActiveGap [2]time.Duration
	// Margin keeps injections this far from the edges of their stretch
	// (the detectors judge a twitch by the second around it), and from the
	// recording's first Warmup (the detectors' warm-up).
	Margin, Warmup time.Duration

	// EMG twitches: Potentials potentials (1 with probability
	// SinglePotential, else 2 to Potentials) ISI apart, each with 1 to
	// simulate.MaxPhases phases, lasting Duration (log-uniform); the
	// largest peak, as recorded, is SNR times the channel's noise
	// (log-uniform), the others 0.85-1.15 of it.
	SinglePotential float64
	Potentials      int
	ISI, Duration   [2]time.Duration
	SNR             [2]float64
	// ClearSNR splits EMG twitches into clear (SNR >= ClearSNR: the
	// simulator's own floor is 10 times the noise) and faint ones.
	ClearSNR float64

	// Accelerometer jerks (simulate.DampedJerk, random direction):
	// frequency Freq Hz (capped at MaxFreqFraction of the rate), decay
	// Tau; the peak vector magnitude on the sample instants is AccSNR
	// times the per-axis noise (the RMS of the three axes' Sigma), or
	// WeakSNR times it for a share Weak of the jerks. With EMG in the
	// recording a jerk follows a twitch's first potential by JerkDelay
	// (an electromechanical delay) with probability AccFraction.
	Freq, AccSNR, WeakSNR [2]float64
	Tau, JerkDelay        [2]time.Duration
	MaxFreqFraction       float64
	Weak, AccFraction     float64
}

// Default returns the injection settings of issue 9: potentials of 1-6
// phases lasting 2-25 ms at 3-30 times the noise, jerks of 5-25 Hz
// damped over 20-150 ms at 6-30 times the per-axis noise (a quarter of
// them weaker, 2-6 times), one every 3-6 s of rest and 8-15 s of
// activity, three draws per recording.
func Default() Config {
	return Config{
		Seed: 1, Draws: 3,
		RestGap:   [2]time.Duration{3 * time.Second, 6 * time.Second},
		ActiveGap: [2]time.Duration{8 * time.Second, 15 * time.Second},
		Margin:    1500 * time.Millisecond, Warmup: 4 * time.Second,

		SinglePotential: 0.6, Potentials: 4,
		ISI:      [2]time.Duration{5 * time.Millisecond, 30 * time.Millisecond},
		Duration: [2]time.Duration{2 * time.Millisecond, 25 * time.Millisecond},
		SNR:      [2]float64{3, 30}, ClearSNR: 10,

		Freq: [2]float64{5, 25}, AccSNR: [2]float64{6, 30}, WeakSNR: [2]float64{2, 6},
		Tau:             [2]time.Duration{20 * time.Millisecond, 150 * time.Millisecond},
		JerkDelay:       [2]time.Duration{5 * time.Millisecond, 15 * time.Millisecond},
		MaxFreqFraction: 0.4, Weak: 0.25, AccFraction: 0.7,
	}
}

// Class says what kind of injection a truth is, for the scores.
type Class uint8

// Classes of injected truth.
const (
	EMGClear  Class = iota // EMG twitch, SNR >= ClearSNR
	EMGFaint               // EMG twitch below ClearSNR
	AccStrong              // jerk >= 6x the per-axis noise
	AccWeak                // weaker jerk
	numClasses
)

// String names the class.
func (c Class) String() string {
	return [...]string{"emg clear", "emg faint", "acc >=6x", "acc weak"}[c]
}

// Truth is one injected twitch or jerk.
type Truth struct {
	Class Class
	// Start and End are Unix ns: first potential's start to last
	// potential's end, or the jerk's 4 decay times.
	Start, End int64
	// Active says the injection falls in an activity stretch.
	Active bool
	// Channel is the stream channel (EMG) or the first axis (acc).
	Channel int
	// SNR is the peak over the channel's (or per-axis) noise.
	SNR float64
	// Detail describes the waveform, for people: potentials, phases and
	// durations, or a jerk's frequency and decay.
	Detail string
}

// component is one waveform the injector adds.
type component struct {
	start, end int64 // Unix ns where it is non-zero
	// chans are the channel indexes: the EMG channel in chans[0], or an
	// accelerometer's x, y and z; -1 unused.
	chans [3]int
	// potential: centre (ns), width (s), peak and phases
	center int64
	sigma  float64 // s
	amp    float64
	phases int
	// jerk: frequency (Hz), decay (s) and direction (unit vector)
	jerk bool
	freq float64
	tau  float64
	dir  [3]float64
}

// scalar is the waveform at t (Unix ns) before a jerk's direction: 0
// outside start..end.
func (c *component) scalar(t int64) float64 {
	if t < c.start || t > c.end {
		return 0
	}
	if c.jerk {
		return simulate.DampedJerk(float64(t-c.start)/1e9, c.amp, c.freq, c.tau)
	}
	return c.amp * simulate.PotentialShape(float64(t-c.center)/1e9/c.sigma, c.phases)
}

// Plan is one draw's injections into one recording.
type Plan struct {
	Truths []Truth
	comps  []component // sorted by start
	steps  []float64   // quantisation step per channel (0: none)
}

// accGroup is an accelerometer's three axes and their noise.
type accGroup struct {
	axes  [3]int
	sigma float64 // RMS of the three axes' Sigma
	rate  float64
}

// planner draws one plan.
type planner struct {
	cfg  Config
	rng  *rand.Rand
	nz   Noise
	rec  realdata.Recording
	emg  []int // usable EMG channels
	accs []accGroup
	plan *Plan
}

// usable reports whether a channel can take injections: it changed, and
// its noise was measured.
func usable(c ChannelNoise) bool { return c.Step > 0 && c.Sigma > 10*histMin && c.RateHz > 0 }

// NewPlan draws draw k's injections for rec from its measured noise:
// twitches (EMG), jerks (accelerometer, alone or after twitches) placed
// in rest stretches every RestGap and in activity stretches every
// ActiveGap. The same arguments give the same plan.
func NewPlan(cfg Config, rec realdata.Recording, nz Noise, k int) *Plan {
	h := fnv.New64a()
	h.Write([]byte(rec.Path))
	pl := &planner{cfg: cfg, nz: nz, rec: rec, plan: &Plan{},
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64()+uint64(k)))}
	groups := map[string]*accGroup{}
	var order []string
	for i, c := range nz.Channels {
		pl.plan.steps = append(pl.plan.steps, c.Step)
		switch {
		case !usable(c):
		case c.Kind == pipeline.KindEMG:
			pl.emg = append(pl.emg, i)
		case c.Kind == pipeline.KindAcc && c.Axis >= 'x' && c.Axis <= 'z':
			g := groups[c.Group]
			if g == nil {
				g = &accGroup{axes: [3]int{-1, -1, -1}, rate: c.RateHz}
				groups[c.Group] = g
				order = append(order, c.Group)
			}
			g.axes[c.Axis-'x'] = i
			g.sigma += c.Sigma * c.Sigma / 3
		}
	}
	for _, name := range order {
		if g := groups[name]; g.axes[0] >= 0 && g.axes[1] >= 0 && g.axes[2] >= 0 {
			g.sigma = math.Sqrt(g.sigma)
			pl.accs = append(pl.accs, *g)
		}
	}
	if len(pl.emg) > 0 || len(pl.accs) > 0 {
		for _, s := range rec.Stretches {
			pl.fill(s)
		}
	}
	sort.Slice(pl.plan.comps, func(a, b int) bool { return pl.plan.comps[a].start < pl.plan.comps[b].start })
	sort.Slice(pl.plan.Truths, func(a, b int) bool { return pl.plan.Truths[a].Start < pl.plan.Truths[b].Start })
	return pl.plan
}

func (pl *planner) uniform(a, b float64) float64 { return a + (b-a)*pl.rng.Float64() }

func (pl *planner) logUniform(a, b float64) float64 {
	return math.Exp(pl.uniform(math.Log(a), math.Log(b)))
}

func (pl *planner) duration(r [2]time.Duration) time.Duration {
	return time.Duration(pl.uniform(float64(r[0]), float64(r[1])))
}

// fill places injections through one stretch.
func (pl *planner) fill(s realdata.Stretch) {
	gap := pl.cfg.RestGap
	if s.Active {
		gap = pl.cfg.ActiveGap
	}
	from := max(s.From+pl.cfg.Margin, pl.cfg.Warmup)
	to := min(s.To, pl.nz.Duration) - pl.cfg.Margin
	for t := from + pl.duration(gap)/2; t < to; t += pl.duration(gap) {
		at := pl.nz.Start + int64(t)
		switch {
		case len(pl.emg) > 0:
			first := pl.twitch(at, s.Active)
			if len(pl.accs) > 0 && pl.rng.Float64() < pl.cfg.AccFraction {
				pl.jerk(first+int64(pl.duration(pl.cfg.JerkDelay)), s.Active)
			}
		default:
			pl.jerk(at, s.Active)
		}
	}
}

// twitch adds a burst of potentials on one EMG channel starting near at
// and returns the first potential's start.
func (pl *planner) twitch(at int64, active bool) int64 {
	cfg := pl.cfg
	ch := pl.emg[pl.rng.IntN(len(pl.emg))]
	c := pl.nz.Channels[ch]
	n := 1
	if pl.rng.Float64() >= cfg.SinglePotential {
		n = 2 + pl.rng.IntN(cfg.Potentials-1)
	}
	snr := pl.logUniform(cfg.SNR[0], cfg.SNR[1])
	sign := 1.0
	if pl.rng.Float64() < 0.5 {
		sign = -1
	}
	tr := Truth{Class: EMGFaint, Active: active, Channel: ch, SNR: snr, Start: math.MaxInt64}
	if snr >= cfg.ClearSNR {
		tr.Class = EMGClear
	}
	center := at
	var shapes []string
	for k := 0; k < n; k++ {
		if k > 0 {
			center += int64(pl.duration(cfg.ISI))
		}
		phases := 1 + pl.rng.IntN(simulate.MaxPhases)
		d := pl.logUniform(cfg.Duration[0].Seconds(), cfg.Duration[1].Seconds())
		hw := simulate.PotentialHalfWidth(phases)
		_, se := simulate.RecordedPotential(d/(2*hw), c.RateHz, phases)
		peak := snr * c.Sigma
		if k > 0 {
			peak *= pl.uniform(0.85, 1.15)
		}
		half := int64(hw * se * 1e9)
		comp := component{start: center - half, end: center + half, chans: [3]int{ch, -1, -1},
			center: center, sigma: se, phases: phases, amp: 1}
		comp.amp = sign * peak / sampledPeak(&comp, c.RateHz, pl.nz.Start)
		pl.plan.comps = append(pl.plan.comps, comp)
		tr.Start, tr.End = min(tr.Start, comp.start), max(tr.End, comp.end)
		shapes = append(shapes, fmt.Sprintf("%d-phase %.0f ms", phases, d*1e3))
	}
	tr.Detail = fmt.Sprintf("%s on %s", strings.Join(shapes, ", "), c.Name)
	pl.plan.Truths = append(pl.plan.Truths, tr)
	return tr.Start
}

// jerk adds a damped oscillation to one accelerometer from at.
func (pl *planner) jerk(at int64, active bool) {
	cfg := pl.cfg
	g := pl.accs[pl.rng.IntN(len(pl.accs))]
	tr := Truth{Class: AccStrong, Active: active, Channel: g.axes[0]}
	snrRange := cfg.AccSNR
	if pl.rng.Float64() < cfg.Weak {
		tr.Class, snrRange = AccWeak, cfg.WeakSNR
	}
	tr.SNR = pl.logUniform(snrRange[0], snrRange[1])
	hi := math.Min(cfg.Freq[1], cfg.MaxFreqFraction*g.rate)
	c := component{jerk: true, start: at, chans: g.axes,
		freq: pl.uniform(math.Min(cfg.Freq[0], hi), hi),
		tau:  pl.duration(cfg.Tau).Seconds(), amp: 1, dir: randomDir(pl.rng)}
	c.end = at + int64(4*c.tau*1e9)
	c.amp = tr.SNR * g.sigma / sampledPeak(&c, g.rate, pl.nz.Start)
	tr.Start, tr.End = c.start, c.end
	tr.Detail = fmt.Sprintf("%.1f Hz, decay %.0f ms, peak %.1f mg", c.freq, c.tau*1e3, tr.SNR*g.sigma*1e3)
	pl.plan.comps = append(pl.plan.comps, c)
	pl.plan.Truths = append(pl.plan.Truths, tr)
}

// sampledPeak is the largest magnitude of c (with its current amp,
// non-zero) on the instants of a stream sampled at rate Hz from start
// (Unix ns): what the file will hold. For a jerk it is the vector's
// magnitude.
func sampledPeak(c *component, rate float64, start int64) float64 {
	period := 1e9 / rate
	k0 := math.Ceil(float64(c.start-start) / period)
	var peak float64
	for k := k0; ; k++ {
		t := start + int64(math.Round(k*period))
		if t > c.end {
			break
		}
		peak = math.Max(peak, math.Abs(c.scalar(t))) // a jerk's magnitude: |dir| = 1
	}
	if peak == 0 { // shorter than a sample period: take its true peak
		return math.Abs(c.amp)
	}
	return peak
}

// randomDir is a uniformly random unit vector.
func randomDir(r *rand.Rand) [3]float64 {
	for {
		v := [3]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		if n := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]); n > 1e-9 {
			return [3]float64{v[0] / n, v[1] / n, v[2] / n}
		}
	}
}
