package simulate

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Split says what a scenario family may be used for.
type Split string

// Splits. Tune families may be looked at while tuning the detectors;
// held-out families are only scored. Every parameter of a held-out family
// is drawn outside the range its tune twin uses (bands below), so a
// held-out score measures how the detectors do on physiology and devices
// they were not tuned on.
const (
	SplitTune    Split = "tune"
	SplitHeldOut Split = "held-out"
	// SplitTest families are the held-out kinds and bands drawn again
	// under other names (so every draw is new): they were added after the
	// first round of detector work had looked at the held-out results, so
	// that the final report has numbers nobody tuned against or looked at
	// while changing the detectors. Only TestFamilies returns them.
	SplitTest Split = "test"
)

// Family is a scenario family: a kind of session (running with warm-up
// and cool-down, lifting in sets, daily walking, rest, ...) whose every
// parameter is drawn from wide ranges. Draw(seed) picks the variant
// (twitching pattern and thereby the expected status) from the seed and
// draws the rest; the same seed gives the same scenario.
type Family struct {
	Name        string
	Description string
	Split       Split
	kind        *kind
}

// kind is a family's session structure, shared by its tune and held-out
// versions.
type kind struct {
	name, desc string
	variants   []variant
	build      func(d *drawer, v variant) Scenario
}

// variant is one way a family's session goes; want is the status it is
// drawn to have with both sensors.
type variant struct {
	name    string
	want    string
	pattern string
	resume  bool // activity resumes after the rest
	before  bool // twitching at rest without exercise before it
	cramps  bool
	extra   string // family-specific twist
	short   bool   // in the short suite (ShortSeeds)
}

// Variants lists the family's variants: Draw(seed) uses variant
// (seed-1) mod len.
func (f Family) Variants() []string {
	out := make([]string, len(f.kind.variants))
	for i, v := range f.kind.variants {
		out[i] = v.name + " (" + v.want + ")"
	}
	return out
}

// Seeds returns one seed per variant: 1..len(Variants()).
func (f Family) Seeds() []int64 {
	out := make([]int64, len(f.kind.variants))
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// ShortSeeds returns the seeds of the variants a quick suite runs: two
// per family, chosen so that the tune and the held-out families each
// cover every status (none, post_exercise, ceased, at_rest, persistent,
// persistent_with_symptoms) and the failures issue 9 saw (warm-up and
// cool-down strides, lifting sets, walking, rest with tremor).
func (f Family) ShortSeeds() []int64 {
	var out []int64
	for i, v := range f.kind.variants {
		if v.short {
			out = append(out, int64(i+1))
		}
	}
	return out
}

// Draw returns a scenario of the family at full length (a few minutes up
// to about an hour), whose expected status is unambiguous when it is
// generated with the same seed.
func (f Family) Draw(seed int64) Scenario { return f.draw(seed, false) }

// DrawShort is Draw with every phase at the short end (a whole session
// of 3-20 minutes), for quick suites.
func (f Family) DrawShort(seed int64) Scenario { return f.draw(seed, true) }

// maxAttempts bounds the redraws that look for an unambiguous scenario.
const maxAttempts = 40

func (f Family) draw(seed int64, short bool) Scenario {
	n := int64(len(f.kind.variants))
	v := f.kind.variants[((seed-1)%n+n)%n]
	var sc Scenario
	for attempt := 0; attempt < maxAttempts; attempt++ {
		d := &drawer{
			// The family's name is in the stream, so that two families
			// drawn with one seed share nothing (devices included).
			rng:   rand.New(rand.NewPCG(uint64(seed)^nameHash(f.Name), uint64(attempt)<<32^0x66616d696c79)), // "family"
			short: short,
			held:  f.Split != SplitTune,
		}
		sc = f.kind.build(d, v)
		sc.Name = fmt.Sprintf("%s-%d", f.Name, seed)
		if short {
			sc.Name += "s"
		}
		sc.Family, sc.Variant = f.Name, v.name
		if sc.Description == "" {
			sc.Description = f.Description
		}
		l, err := PlanLabels(sc, seed)
		if err != nil {
			panic("simulate: family " + f.Name + " drew an invalid scenario: " + err.Error())
		}
		if l.Expected.Both.Status == v.want && !l.Expected.Ambiguous() {
			return sc
		}
	}
	return sc // the labels say what it is; TestFamiliesDrawUnambiguous guards against this
}

// nameHash is the 64-bit FNV-1a hash of name.
func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// Families returns every family, tune ones first.
func Families() []Family {
	var out []Family
	for _, split := range []Split{SplitTune, SplitHeldOut} {
		for _, k := range kinds {
			out = append(out, Family{
				Name: k.name + "-" + map[Split]string{SplitTune: "tune", SplitHeldOut: "held"}[split],
				Description: k.desc + map[Split]string{
					SplitTune:    " (tune bands: the middle of every range)",
					SplitHeldOut: " (held-out bands: every parameter outside the tune range)"}[split],
				Split: split,
				kind:  k,
			})
		}
	}
	return out
}

// TestFamilies returns the sealed test families (SplitTest): one per
// kind, with held-out bands and draws of their own. They are not among
// Families, so no suite but the test suites ever generates them.
func TestFamilies() []Family {
	var out []Family
	for _, k := range kinds {
		out = append(out, Family{
			Name:        k.name + "-test",
			Description: k.desc + " (test: held-out bands, fresh draws, sealed while tuning)",
			Split:       SplitTest,
			kind:        k,
		})
	}
	return out
}

// FamilyByName returns the named family (tune, held-out or test), or an
// error listing the names.
func FamilyByName(name string) (Family, error) {
	var names []string
	for _, f := range append(Families(), TestFamilies()...) {
		if f.Name == name {
			return f, nil
		}
		names = append(names, f.Name)
	}
	return Family{}, fmt.Errorf("%w: unknown family %q (known: %v)", ErrScenario, name, names)
}

// band is a parameter's range in tune families and its tails (one or
// two ranges outside it) in held-out families.
type band struct {
	tune Range
	held []Range
}

// The bands every family draws from (README.md, "Families"). Device:
var (
	bandEMGNoise = band{R(3, 10), []Range{R(2, 3), R(10, 30)}}    // µV RMS
	bandAccNoise = band{R(2, 5), []Range{R(0.5, 2), R(5, 10)}}    // mg RMS per axis
	bandWander   = band{R(10, 40), []Range{R(40, 150)}}           // µV
	bandMainsUV  = band{R(10, 50), []Range{R(5, 10), R(50, 300)}} // µV
	bandPops     = band{R(0.05, 0.3), []Range{R(0.3, 1)}}         // per minute
	bandMotion   = band{R(0, 0.2), []Range{R(0.2, 0.6)}}          // per minute
)

// Physiology and behaviour:
var (
	bandRun      = band{R(1.3, 1.5), []Range{R(1.2, 1.3), R(1.5, 1.8)}} // stride Hz
	bandWalk     = band{R(0.8, 1.0), []Range{R(0.7, 0.8), R(1.0, 1.2)}} // stride Hz
	bandCycle    = band{R(1.2, 1.5), []Range{R(0.8, 1.2), R(1.5, 1.8)}} // revolutions per s
	bandRepS     = band{R(2.5, 4), []Range{R(2, 2.5), R(4, 6)}}         // s per repetition
	bandBurstMs  = band{R(150, 350), []Range{R(50, 150), R(350, 500)}}  // voluntary burst per cycle
	bandLightAmp = band{R(0.4, 0.7), []Range{R(0.15, 0.4)}}             // warm-up, cool-down, strolls
	bandSetRestS = band{R(30, 90), []Range{R(15, 30), R(90, 170)}}      // pause between sets
	bandFidgets  = band{R(0.3, 1), []Range{R(1, 3)}}                    // per minute of rest
	bandPosture  = band{R(0.1, 0.3), []Range{R(0.3, 0.8)}}              // per minute of rest
	bandTremorHz = band{R(5, 6.5), []Range{R(4, 5), R(6.5, 8)}}
	bandRate     = band{R(8, 20), []Range{R(5, 8), R(20, 35)}} // twitches per minute
	bandAccFrac  = band{R(0.4, 0.8), []Range{R(0.2, 0.4), R(0.8, 1)}}
	bandPhases   = band{R(2, 3), []Range{R(1, 1), R(4, 6)}}
	bandPotMs    = band{R(5, 15), []Range{R(2, 5), R(15, 25)}}
	bandPotUV    = band{R(50, 500), []Range{R(20, 50), R(500, 1000)}}
	bandJerkHz   = band{R(8, 18), []Range{R(5, 8), R(18, 25)}}
	bandJerkMg   = band{R(15, 50), []Range{R(5, 15), R(50, 100)}}
	bandJerkTau  = band{R(40, 90), []Range{R(20, 40), R(90, 150)}} // ms
)

// twitchMinSNR is the least recorded peak of a labelled potential, in
// multiples of the EMG noise RMS, in every family.
const twitchMinSNR = 8

// drawer draws one scenario's parameters.
type drawer struct {
	rng   *rand.Rand
	short bool // phases at the short end
	held  bool // held-out bands
}

func (d *drawer) u(lo, hi float64) float64 { return lo + (hi-lo)*d.rng.Float64() }

func (d *drawer) coin(p float64) bool { return d.rng.Float64() < p }

// rangeOf returns the range this scenario uses: the tune range, or one
// of the held-out tails.
func (d *drawer) rangeOf(b band) Range {
	if !d.held {
		return b.tune
	}
	return b.held[d.rng.IntN(len(b.held))]
}

// pick draws a value from the band.
func (d *drawer) pick(b band) float64 {
	r := d.rangeOf(b)
	return d.u(r.Min, r.Max)
}

// of returns one of the tune or the held-out choices.
func (d *drawer) of(tune, held []float64) float64 {
	xs := tune
	if d.held {
		xs = held
	}
	return xs[d.rng.IntN(len(xs))]
}

func (d *drawer) str(tune, held []string) string {
	xs := tune
	if d.held {
		xs = held
	}
	return xs[d.rng.IntN(len(xs))]
}

// secs draws a duration in minutes from full or short and returns seconds.
func (d *drawer) secs(full, short Range) float64 {
	r := full
	if d.short {
		r = short
	}
	return 60 * d.u(r.Min, r.Max)
}

// base returns a scenario with the device and artifacts drawn.
func (d *drawer) base(site string) Scenario {
	sc := Scenario{Subject: "sim", Site: site, Start: DefaultStart, CrampMinS: 8, CrampMaxS: 45}
	if !d.held {
		sc.EMGRate, sc.AccRate = d.of([]float64{1000, 2000}, nil), d.of([]float64{50, 100}, nil)
		sc.EMGBits, sc.EMGRangeMV = 16+d.rng.IntN(9), d.u(4, 8)
		sc.AccBits, sc.AccRangeG = 13+d.rng.IntN(4), 8
		sc.MainsHz = 50
		for k := range sc.MountDeg {
			sc.MountDeg[k] = d.u(-15, 15)
		}
	} else {
		sc.EMGRate, sc.AccRate = d.of(nil, []float64{250, 500, 4000}), d.of(nil, []float64{25, 200})
		sc.EMGBits = 12 + d.rng.IntN(3)
		sc.EMGRangeMV = d.u(2.5, 4)
		if d.coin(0.5) {
			sc.EMGRangeMV = d.u(8, 16)
		}
		if d.coin(0.5) {
			sc.AccBits, sc.AccRangeG = 12, d.of(nil, []float64{8, 16})
		} else {
			sc.AccBits, sc.AccRangeG = 20+d.rng.IntN(5), 4
		}
		sc.MainsHz = d.of(nil, []float64{50, 60})
		sc.MainsDriftHz, sc.MainsDriftFrac = d.u(0.02, 0.2), d.u(0.2, 0.8)
		for k := range sc.MountDeg {
			sc.MountDeg[k] = d.u(-180, 180)
		}
		sc.SwayPerMin = d.u(0.05, 0.4)
		sc.TremorPerMin, sc.TremorHz = d.u(0.05, 0.3), d.rangeOf(bandTremorHz)
	}
	sc.NoiseUV = d.pick(bandEMGNoise)
	sc.AccNoiseMg = d.pick(bandAccNoise)
	sc.WanderUV = d.pick(bandWander)
	sc.MainsUV = d.pick(bandMainsUV)
	sc.PopsPerMin = d.pick(bandPops)
	sc.MotionPerMin = d.pick(bandMotion)
	sc.FidgetsPerMin = d.pick(bandFidgets)
	sc.PosturePerMin = d.pick(bandPosture)
	return sc
}

// twitching sets the twitch spec with the wide model.
func (d *drawer) twitching(sc *Scenario, v variant) {
	sc.Twitch = TwitchSpec{
		Pattern:        v.pattern,
		RatePerMin:     d.pick(bandRate),
		AccFraction:    d.pick(bandAccFrac),
		BeforeExercise: v.before,
		Shape: &TwitchShape{
			Phases: d.rangeOf(bandPhases), Ms: d.rangeOf(bandPotMs), UV: d.rangeOf(bandPotUV), MinSNR: twitchMinSNR,
			JerkHz: d.rangeOf(bandJerkHz), JerkMg: d.rangeOf(bandJerkMg), JerkTauMs: d.rangeOf(bandJerkTau),
		},
	}
}

// rhythmic returns an active phase of a rhythmic activity (running,
// walking, cycling) at a cadence and burst length drawn from the bands.
func (d *drawer) rhythmic(name, activity, intensity string, seconds, amp float64) PhaseSpec {
	b := map[string]band{ActivityRunning: bandRun, ActivityWalking: bandWalk, ActivityCycling: bandCycle}[activity]
	return PhaseSpec{Name: name, Activity: activity, Intensity: intensity, Seconds: seconds,
		CadenceHz: d.pick(b), Amplitude: amp, BurstMs: d.pick(bandBurstMs)}
}

func rest(seconds float64) PhaseSpec {
	return PhaseSpec{Name: PhaseRest, Activity: ActivityNone, Seconds: seconds}
}

// easy returns a warm-up or cool-down: walking or jogging at low
// amplitude before or after running, the activity itself otherwise.
func (d *drawer) easy(name, main string, seconds float64) PhaseSpec {
	act := main
	if main == ActivityRunning && d.coin(0.5) {
		act = ActivityWalking
	}
	return d.rhythmic(name, act, "light", seconds, d.pick(bandLightAmp))
}

// Durations in minutes: full and short.
var (
	minWarm   = [2]Range{R(2, 8), R(1, 1.5)}
	minMain   = [2]Range{R(8, 25), R(2, 4)}
	minCool   = [2]Range{R(2, 6), R(1, 1.5)}
	minRest1  = [2]Range{R(6, 15), R(3.5, 5)} // rest after exercise, no resumption
	minRestR  = [2]Range{R(6, 10), R(4, 4.5)} // rest before a resumption
	minResume = [2]Range{R(6, 12), R(5.75, 6.5)}
	minAfter  = [2]Range{R(5, 12), R(4, 4.5)} // rest after a resumption
)

func (d *drawer) mins(r [2]Range) float64 { return d.secs(r[0], r[1]) }

// endurance builds warm-up, main activity, cool-down and rest, and a
// resumption with rest after it when the variant asks.
func (d *drawer) endurance(sc *Scenario, v variant, act, resumeAct string) {
	sc.Phases = []PhaseSpec{
		d.easy(PhaseWarmup, act, d.mins(minWarm)),
		d.rhythmic(PhaseExercise, act, d.str([]string{"moderate", "vigorous"}, []string{"moderate", "vigorous"}), d.mins(minMain), 0),
		d.easy(PhaseCooldown, act, d.mins(minCool)),
	}
	if !v.resume {
		sc.Phases = append(sc.Phases, rest(d.mins(minRest1)))
		return
	}
	sc.Phases = append(sc.Phases, rest(d.mins(minRestR)),
		d.rhythmic(PhaseResumed, resumeAct, map[bool]string{true: "light", false: "moderate"}[resumeAct == ActivityWalking], d.mins(minResume), 0),
		rest(d.mins(minAfter)))
}

// post-exercise variants shared by the endurance families.
// enduranceVariants returns the variants of the endurance families, the
// named ones in the short suite.
func enduranceVariants(short ...string) []variant {
	vs := []variant{
		{name: "fades", want: StatusPostExercise, pattern: PatternFades},
		{name: "stops-on-resume", want: StatusCeased, pattern: PatternStopsOnResume, resume: true},
		{name: "persists", want: StatusPersistent, pattern: PatternPersists, resume: true},
		{name: "none", want: StatusNone, pattern: PatternNone, resume: true},
	}
	for i := range vs {
		for _, n := range short {
			vs[i].short = vs[i].short || vs[i].name == n
		}
	}
	return vs
}

var kinds = []*kind{
	{
		name:     "run",
		desc:     "running with a walking or jogging warm-up and cool-down at low amplitude, then rest; twitching fades, stops on resuming, persists, or there is none",
		variants: enduranceVariants("fades", "persists"),
		build: func(d *drawer, v variant) Scenario {
			sc := d.base(d.str([]string{"calf_left"}, []string{"calf_right", "thigh_right"}))
			d.endurance(&sc, v, ActivityRunning, ActivityRunning)
			d.twitching(&sc, v)
			return sc
		},
	},
	{
		name:     "sets",
		desc:     "lifting in sets separated by pauses (one bout), then rest; sets resumed or not; twitching fades, stops, persists or none",
		variants: enduranceVariants("fades", "stops-on-resume"),
		build: func(d *drawer, v variant) Scenario {
			sc := d.base(d.str([]string{"forearm_right"}, []string{"forearm_left", "thigh_left"}))
			rep := d.pick(bandRepS)
			sets := func(name, intensity string, minSec float64, amp float64) {
				for total := 0.0; ; {
					ph := PhaseSpec{Name: name, Activity: ActivityLifting, Intensity: intensity,
						Seconds: rep * float64(6+d.rng.IntN(7)), CadenceHz: 1 / rep, Amplitude: amp}
					sc.Phases = append(sc.Phases, ph)
					total += ph.Seconds
					if total >= minSec {
						return
					}
					p := PhaseSpec{Name: PhaseSetRest, Activity: ActivityNone, Seconds: d.pick(bandSetRestS)}
					sc.Phases = append(sc.Phases, p)
					total += p.Seconds
				}
			}
			sets(PhaseWarmup, "light", 1, d.pick(bandLightAmp))
			sc.Phases = append(sc.Phases, PhaseSpec{Name: PhaseSetRest, Activity: ActivityNone, Seconds: d.pick(bandSetRestS)})
			sets(PhaseExercise, d.str([]string{"moderate", "vigorous"}, []string{"moderate", "vigorous"}), d.mins(minMain), 0)
			if v.resume {
				sc.Phases = append(sc.Phases, rest(d.mins(minRestR)))
				sets(PhaseResumed, "moderate", d.mins(minResume), 0)
				sc.Phases = append(sc.Phases, rest(d.mins(minAfter)))
			} else {
				sc.Phases = append(sc.Phases, rest(d.mins(minRest1)))
			}
			d.twitching(&sc, v)
			return sc
		},
	},
	{
		name:     "cycle",
		desc:     "cycling with an easy warm-up and cool-down, then rest; twitching fades, stops, persists or none",
		variants: enduranceVariants("stops-on-resume", "none"),
		build: func(d *drawer, v variant) Scenario {
			sc := d.base(d.str([]string{"thigh_left"}, []string{"thigh_right", "calf_right"}))
			d.endurance(&sc, v, ActivityCycling, ActivityCycling)
			d.twitching(&sc, v)
			return sc
		},
	},
	{
		name: "walk",
		desc: "daily life without exercise: sitting, strolls of seconds, sometimes a long walk; no twitching, twitching at rest before any walk (that goes on or stops after a walk), or after a walk",
		variants: []variant{
			{name: "none", want: StatusNone, pattern: PatternNone, extra: "walk", short: true},
			{name: "at-rest", want: StatusAtRest, pattern: PatternPersists, before: true},
			{name: "at-rest-goes-on", want: StatusAtRest, pattern: PatternPersists, before: true, resume: true, short: true},
			{name: "at-rest-ceases", want: StatusCeased, pattern: PatternStopsOnResume, before: true, resume: true},
			{name: "after-walk", want: StatusPostExercise, pattern: PatternFades, extra: "walk-first"},
		},
		build: func(d *drawer, v variant) Scenario {
			sc := d.base(d.str([]string{"calf_left"}, []string{"forearm_left", "thigh_left"}))
			sitting := func(total float64) {
				for left := total; left > 0; {
					s := min(left, d.secs(R(2, 8), R(1.5, 3)))
					if left-s < 60 { // no stroll a minute before the end
						s = left
					}
					sc.Phases = append(sc.Phases, rest(s))
					left -= s
					if left > 0 {
						sc.Phases = append(sc.Phases, d.rhythmic(PhaseStroll, ActivityWalking, "light", d.u(8, 15), d.u(0.5, 1)))
					}
				}
			}
			walk := func(name string, r [2]Range) {
				sc.Phases = append(sc.Phases, d.rhythmic(name, ActivityWalking, "light", d.mins(r), 0))
			}
			switch {
			case v.extra == "walk-first":
				sitting(d.secs(R(1, 3), R(1, 1.5)))
				walk(PhaseExercise, [2]Range{R(5, 20), R(2, 4)})
				sitting(d.mins(minRest1))
			case v.resume:
				sitting(d.secs(R(8, 15), R(5.5, 6.5)))
				walk(PhaseResumed, minResume)
				sitting(d.mins(minAfter))
			case v.extra == "walk":
				sitting(d.secs(R(5, 15), R(2, 3)))
				walk(PhaseExercise, [2]Range{R(5, 20), R(2, 4)})
				sitting(d.secs(R(5, 15), R(3, 4)))
			default:
				sitting(d.secs(R(10, 40), R(6, 8)))
			}
			d.twitching(&sc, v)
			return sc
		},
	},
	{
		name: "rest",
		desc: "rest only, no exercise: quiet, fidgety, or with tremor-like bursts; none, or twitching at rest",
		variants: []variant{
			{name: "quiet", want: StatusNone, pattern: PatternNone},
			{name: "fidgety", want: StatusNone, pattern: PatternNone, extra: "fidgety"},
			{name: "tremor", want: StatusNone, pattern: PatternNone, extra: "tremor", short: true},
			{name: "at-rest", want: StatusAtRest, pattern: PatternPersists, before: true, extra: "fidgety", short: true},
		},
		build: func(d *drawer, v variant) Scenario {
			sc := d.base(d.str([]string{"forearm_right"}, []string{"calf_left", "thigh_left"}))
			sc.Phases = []PhaseSpec{rest(d.secs(R(5, 60), R(3, 8)))}
			switch v.extra {
			case "fidgety":
				sc.FidgetsPerMin, sc.PosturePerMin = 2*sc.FidgetsPerMin, 2*sc.PosturePerMin
			case "tremor":
				sc.TremorHz = d.rangeOf(bandTremorHz)
				sc.TremorPerMin = d.of([]float64{0.3, 0.6}, []float64{0.8, 1.5})
			default:
				sc.FidgetsPerMin, sc.PosturePerMin = sc.FidgetsPerMin/3, sc.PosturePerMin/3
			}
			d.twitching(&sc, v)
			return sc
		},
	},
	{
		name: "resume",
		desc: "long sessions (up to about an hour) where activity resumes after the rest; twitching ceases (fades or stops) or persists; held-out: resumed by walking",
		variants: []variant{
			{name: "fades-then-resume", want: StatusCeased, pattern: PatternFades, resume: true, short: true},
			{name: "persists", want: StatusPersistent, pattern: PatternPersists, resume: true, short: true},
			{name: "stops", want: StatusCeased, pattern: PatternStopsOnResume, resume: true},
		},
		build: func(d *drawer, v variant) Scenario {
			site := d.str([]string{"calf_left", "thigh_left"}, []string{"calf_right", "thigh_right"})
			sc := d.base(site)
			act := map[string]string{"calf_left": ActivityRunning, "calf_right": ActivityRunning}[site]
			if act == "" {
				act = ActivityCycling
			}
			resumeAct := act
			if d.held && act == ActivityRunning {
				resumeAct = ActivityWalking
			}
			sc.Phases = []PhaseSpec{
				d.easy(PhaseWarmup, act, d.secs(R(3, 8), R(1, 1.5))),
				d.rhythmic(PhaseExercise, act, "vigorous", d.secs(R(10, 20), R(2, 3)), 0),
				d.easy(PhaseCooldown, act, d.secs(R(2, 5), R(1, 1.5))),
				rest(d.secs(R(8, 10), R(4, 4.5))),
				d.rhythmic(PhaseResumed, resumeAct, "moderate", d.secs(R(8, 12), R(5.75, 6.5)), 0),
				rest(d.secs(R(8, 12), R(4, 4.5))),
			}
			d.twitching(&sc, v)
			return sc
		},
	},
	{
		name: "cramps",
		desc: "exercise then rest with cramps: twitching that persists after resuming (persistent with symptoms), that fades (cramps alone do not raise it), or cramps without twitching",
		variants: []variant{
			{name: "persists-cramps", want: StatusPersistentWithSymptoms, pattern: PatternPersists, resume: true, cramps: true, short: true},
			{name: "fades-cramps", want: StatusPostExercise, pattern: PatternFades, cramps: true},
			{name: "cramps-only", want: StatusNone, pattern: PatternNone, cramps: true, short: true},
		},
		build: func(d *drawer, v variant) Scenario {
			site := d.str([]string{"calf_left"}, []string{"forearm_right", "thigh_left"})
			sc := d.base(site)
			act := map[string]string{"calf_left": ActivityRunning, "forearm_right": ActivityLifting, "thigh_left": ActivityCycling}[site]
			main := d.rhythmic
			if act == ActivityLifting {
				main = func(name, _, intensity string, seconds, amp float64) PhaseSpec {
					rep := d.pick(bandRepS)
					return PhaseSpec{Name: name, Activity: ActivityLifting, Intensity: intensity, Seconds: seconds, CadenceHz: 1 / rep, Amplitude: amp}
				}
			}
			sc.Phases = []PhaseSpec{
				main(PhaseWarmup, act, "light", d.mins(minWarm), d.pick(bandLightAmp)),
				main(PhaseExercise, act, "vigorous", d.mins(minMain), 0),
			}
			if v.resume {
				sc.Phases = append(sc.Phases, rest(d.mins(minRestR)), main(PhaseResumed, act, "moderate", d.mins(minResume), 0), rest(d.mins(minAfter)))
			} else {
				sc.Phases = append(sc.Phases, rest(d.mins(minRest1)))
			}
			sc.Cramps = 1 + d.rng.IntN(3)
			d.twitching(&sc, v)
			return sc
		},
	},
	{
		name: "noisy",
		desc: "noisy, low-resolution devices (tune: the noisy end of the tune bands; held-out: 12-bit EMG at 250-500 Hz, 25 Hz accelerometer, strong drifting mains, pops and cable sway); running, cycling or lifting",
		variants: []variant{
			{name: "fades", want: StatusPostExercise, pattern: PatternFades, short: true},
			{name: "stops-on-resume", want: StatusCeased, pattern: PatternStopsOnResume, resume: true},
			{name: "none", want: StatusNone, pattern: PatternNone, short: true},
		},
		build: func(d *drawer, v variant) Scenario {
			act := []string{ActivityRunning, ActivityCycling, ActivityLifting}[d.rng.IntN(3)]
			sc := d.base(map[string]string{ActivityRunning: "calf_left", ActivityCycling: "thigh_left", ActivityLifting: "forearm_right"}[act])
			if !d.held {
				sc.NoiseUV, sc.EMGBits, sc.AccBits = d.u(8, 10), 16, 13
				sc.MainsUV, sc.PopsPerMin, sc.MotionPerMin = d.u(40, 50), d.u(0.2, 0.3), d.u(0.1, 0.2)
			} else {
				sc.EMGRate, sc.AccRate, sc.EMGBits, sc.EMGRangeMV = d.of(nil, []float64{250, 500}), 25, 12, d.u(8, 16)
				sc.NoiseUV, sc.MainsUV, sc.MainsHz = d.u(15, 30), d.u(100, 300), 60
				sc.PopsPerMin, sc.SwayPerMin, sc.AccBits, sc.AccRangeG = d.u(0.5, 1), d.u(0.3, 0.5), 12, 16
			}
			if act == ActivityLifting {
				rep := d.pick(bandRepS)
				lift := func(name, intensity string, sec float64) PhaseSpec {
					return PhaseSpec{Name: name, Activity: act, Intensity: intensity, Seconds: sec, CadenceHz: 1 / rep}
				}
				sc.Phases = []PhaseSpec{lift(PhaseWarmup, "light", d.mins(minWarm)), lift(PhaseExercise, "moderate", d.mins(minMain))}
				if v.resume {
					sc.Phases = append(sc.Phases, rest(d.mins(minRestR)), lift(PhaseResumed, "moderate", d.mins(minResume)), rest(d.mins(minAfter)))
				} else {
					sc.Phases = append(sc.Phases, rest(d.mins(minRest1)))
				}
			} else {
				d.endurance(&sc, v, act, act)
			}
			d.twitching(&sc, v)
			return sc
		},
	},
}
