// Package simulate writes realistic surface-EMG and accelerometer
// recordings with ground-truth labels, from a named scenario and a seed.
//
// A Scenario lists phases (warm-up, exercise, cool-down, rest, resumed
// activity) and the settings of the signal models: sample rates, mains
// interference, noise floor, the twitch pattern after exercise, cramps and
// the artifacts that are not twitches (electrode pops, motion artifacts,
// fidgets and posture shifts). Generate plans every event from the seed,
// then streams the recording sample by sample as CSV in constant memory
// and returns the Labels: what really happened, for the scorer in
// internal/eval. The models and the literature behind every range are
// described in README.md beside this file.
package simulate

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Activities a phase can have.
const (
	ActivityNone    = "none"
	ActivityRunning = "running"
	ActivityLifting = "lifting"
	ActivityCycling = "cycling"
	ActivityWalking = "walking"
)

// Phase names, as written in Labels.
const (
	PhaseWarmup   = "warmup"
	PhaseExercise = "exercise"
	PhaseCooldown = "cooldown"
	PhaseRest     = "rest"
	PhaseResumed  = "resumed"
	// PhaseSetRest is a pause between lifting sets (or intervals) of at
	// most a few minutes: part of the bout, nothing moves, no twitches
	// are placed in it.
	PhaseSetRest = "set_rest"
	// PhaseStroll is a short walk of daily life (seconds), too short to
	// be a bout: activity for a detector's context, not for the rule.
	PhaseStroll = "stroll"
)

// Twitch patterns: what twitching after exercise does.
const (
	PatternNone          = "none"            // no twitching
	PatternFades         = "fades"           // rate decays during rest; none after activity resumes
	PatternStopsOnResume = "stops_on_resume" // steady during rest; none after activity resumes
	PatternPersists      = "persists"        // steady during every rest after exercise, also after resuming
)

// Expected persistence statuses, as written in Labels.ExpectedStatus:
// the names of pipeline.Status.
const (
	StatusNone                   = string(pipeline.StatusNone)
	StatusPostExercise           = string(pipeline.StatusPostExercise)
	StatusCeased                 = string(pipeline.StatusCeased)
	StatusAtRest                 = string(pipeline.StatusAtRest)
	StatusPersistent             = string(pipeline.StatusPersistent)
	StatusPersistentWithSymptoms = string(pipeline.StatusPersistentWithSymptoms)
)

// Rate limits accepted by Validate.
const (
	MinEMGRate = 250.0
	MaxEMGRate = 4000.0
	MinAccRate = 25.0
	MaxAccRate = 200.0
)

// ErrScenario is wrapped by every error about invalid scenario settings.
var ErrScenario = errors.New("simulate: invalid scenario")

// PhaseSpec is one phase of a scenario. CadenceHz, Amplitude and BurstMs
// override the activity model's defaults for the intensity (zero keeps
// them).
type PhaseSpec struct {
	Name      string  `json:"name"`                // PhaseWarmup ... PhaseStroll
	Activity  string  `json:"activity,omitempty"`  // for active phases; ActivityNone at rest
	Intensity string  `json:"intensity,omitempty"` // light, moderate or vigorous for active phases
	Seconds   float64 `json:"seconds"`
	// CadenceHz is the cycle frequency: strides (running, walking), pedal
	// revolutions (cycling) or repetitions (lifting).
	CadenceHz float64 `json:"cadence_hz,omitempty"`
	// Amplitude scales the phase's voluntary EMG and limb movement.
	Amplitude float64 `json:"amplitude,omitempty"`
	// BurstMs is the length of the voluntary EMG burst in each stride or
	// pedal stroke (running, walking, cycling).
	BurstMs float64 `json:"burst_ms,omitempty"`
}

// Active reports whether the limb moves in the phase: every phase but
// rest and the pauses between sets.
func (p PhaseSpec) Active() bool { return p.Name != PhaseRest && p.Name != PhaseSetRest }

// TwitchSpec says how twitching behaves.
type TwitchSpec struct {
	Pattern    string  `json:"pattern"`      // PatternNone ... PatternPersists
	RatePerMin float64 `json:"rate_per_min"` // twitch bursts per minute at the start of rest
	// AccFraction is the fraction of twitches strong enough to move the
	// limb visibly (and so to show in the accelerometer). With Shape set,
	// the fraction that moves the limb at all, however little.
	AccFraction float64 `json:"acc_fraction"`
	// BeforeExercise places twitching also in rests with no exercise bout
	// before them (twitching at rest without recorded exercise); the
	// pattern still decides what happens after a resumed phase.
	BeforeExercise bool `json:"before_exercise,omitempty"`
	// Shape, when set, draws potentials and limb jerks from its ranges
	// (the families' wide model); nil keeps the presets' model (README).
	Shape *TwitchShape `json:"shape,omitempty"`
}

// Range is a closed interval [Min, Max] a parameter is drawn from.
type Range struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// R returns the Range [lo, hi].
func R(lo, hi float64) Range { return Range{lo, hi} }

func (r Range) valid(lo, hi float64) bool {
	finite := !math.IsNaN(r.Min) && !math.IsNaN(r.Max) && !math.IsInf(r.Min, 0) && !math.IsInf(r.Max, 0)
	return finite && r.Min >= lo && r.Max <= hi && r.Min <= r.Max
}

// TwitchShape holds the ranges of the wide twitch model: each potential
// is a Gaussian derivative with Phases phases (1 monophasic .. 6), Ms long
// and UV at the skin (log-uniform); a potential the recording would show
// below MinSNR times the EMG noise RMS is raised (nobody could label it
// otherwise). A twitch that moves the limb adds a damped oscillation of
// JerkHz, JerkMg at the limb (log-uniform) and decay time JerkTauMs in a
// direction uniform on the sphere, however small: the labels give its peak
// as recorded and the sensor's noise so that the scorer can pick the
// twitches plainly above it.
type TwitchShape struct {
	Phases    Range   `json:"phases"`      // 1..6 (whole numbers drawn uniformly)
	Ms        Range   `json:"ms"`          // 1..30
	UV        Range   `json:"uv"`          // 10..2000
	MinSNR    float64 `json:"min_snr"`     // 3..50
	JerkHz    Range   `json:"jerk_hz"`     // 3..30
	JerkMg    Range   `json:"jerk_mg"`     // 1..200
	JerkTauMs Range   `json:"jerk_tau_ms"` // 10..200
}

func (s *TwitchShape) validate() error {
	for _, c := range []struct {
		name   string
		r      Range
		lo, hi float64
	}{
		{"phases", s.Phases, 1, 6}, {"duration (ms)", s.Ms, 1, 30}, {"peak (µV)", s.UV, 10, 2000},
		{"jerk frequency (Hz)", s.JerkHz, 3, 30}, {"jerk peak (mg)", s.JerkMg, 1, 200}, {"jerk decay (ms)", s.JerkTauMs, 10, 200},
	} {
		if !c.r.valid(c.lo, c.hi) || (c.name != "phases" && c.r.Min <= 0) {
			return fmt.Errorf("twitch shape %s %g..%g is outside %g..%g", c.name, c.r.Min, c.r.Max, c.lo, c.hi)
		}
	}
	if math.IsNaN(s.MinSNR) || s.MinSNR < 3 || s.MinSNR > 50 {
		return fmt.Errorf("twitch shape min SNR %g is outside 3..50", s.MinSNR)
	}
	return nil
}

// Scenario holds every setting of a simulated recording. Durations are in
// seconds, rates in Hz, EMG amplitudes in µV and accelerations in mg.
type Scenario struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Subject     string      `json:"subject"`
	Site        string      `json:"site"` // e.g. calf_left, forearm_right, thigh_left
	Start       time.Time   `json:"start"`
	Phases      []PhaseSpec `json:"phases"`

	EMGRate float64 `json:"emg_rate_hz"` // 250..4000
	AccRate float64 `json:"acc_rate_hz"` // 25..200

	MainsHz    float64 `json:"mains_hz"`     // 50 or 60, 0 for none
	MainsUV    float64 `json:"mains_uv"`     // amplitude of the fundamental
	NoiseUV    float64 `json:"noise_uv"`     // RMS of the white noise floor
	WanderUV   float64 `json:"wander_uv"`    // amplitude of baseline wander below 1 Hz
	AccNoiseMg float64 `json:"acc_noise_mg"` // RMS sensor noise per axis
	AccBits    int     `json:"acc_bits"`     // converter resolution
	AccRangeG  float64 `json:"acc_range_g"`  // full scale ±g

	// EMGBits, when non-zero (12..24), quantises the EMG to steps of
	// 2·EMGRangeMV/2^EMGBits and clips it to ±EMGRangeMV. Zero: the
	// presets' 10 nV steps of the CSV only.
	EMGBits    int     `json:"emg_bits,omitempty"`
	EMGRangeMV float64 `json:"emg_range_mv,omitempty"`
	// MainsDriftHz and MainsDriftFrac make the mains interference wander:
	// its frequency by up to ±MainsDriftHz and its amplitude by up to
	// ±MainsDriftFrac over minutes (a building's load changing, the person
	// moving relative to the wiring).
	MainsDriftHz   float64 `json:"mains_drift_hz,omitempty"`
	MainsDriftFrac float64 `json:"mains_drift_frac,omitempty"`
	// MountDeg rotates the accelerometer's frame relative to the limb
	// (roll about x, then pitch about y, then yaw about z, degrees): how
	// the sensor happened to be strapped on.
	MountDeg [3]float64 `json:"mount_deg,omitzero"`

	Twitch TwitchSpec `json:"twitch"`
	// Cramps is the number of cramps placed in rest after exercise, each
	// CrampMinS..CrampMaxS seconds long.
	Cramps    int     `json:"cramps"`
	CrampMinS float64 `json:"cramp_min_s"`
	CrampMaxS float64 `json:"cramp_max_s"`

	PopsPerMin    float64 `json:"pops_per_min"`    // electrode pops, whole recording
	MotionPerMin  float64 `json:"motion_per_min"`  // cable/skin motion artifacts, whole recording
	FidgetsPerMin float64 `json:"fidgets_per_min"` // during rest
	PosturePerMin float64 `json:"posture_per_min"` // posture shifts during rest
	// TremorPerMin places tremor-like bursts at rest: 1-6 s of 4-8 Hz
	// rhythmic EMG bursts and limb oscillation (TremorHz). Not twitches.
	TremorPerMin float64 `json:"tremor_per_min,omitempty"`
	TremorHz     Range   `json:"tremor_hz,omitzero"`
	// SwayPerMin places cable sway: 2-8 s of a slow 0.5-2 Hz swing of the
	// electrode cable, a large low-frequency EMG artefact.
	SwayPerMin float64 `json:"sway_per_min,omitempty"`

	// Family and Variant name the scenario family and its variant when
	// the scenario was drawn from one (Family.Draw); informational.
	Family  string `json:"family,omitempty"`
	Variant string `json:"variant,omitempty"`
}

// Seconds returns the total duration.
func (sc Scenario) Seconds() float64 {
	var s float64
	for _, p := range sc.Phases {
		s += p.Seconds
	}
	return s
}

// AccNoiseMg returns the accelerometer's noise RMS per axis in mg: the
// sensor noise and the quantisation (a step of q adds q²/12 of variance)
// together.
func AccNoiseMg(sc Scenario) float64 {
	lsb := 2 * sc.AccRangeG / math.Exp2(float64(sc.AccBits)) * 1000
	return math.Sqrt(sc.AccNoiseMg*sc.AccNoiseMg + lsb*lsb/12)
}

// EMGNoiseUV returns the EMG noise floor's RMS in µV: the white noise,
// the pink noise at half its RMS, and the quantisation when EMGBits is
// set. Mains and baseline wander are not counted (a notch and the
// high-pass remove them).
func EMGNoiseUV(sc Scenario) float64 {
	v := 1.25 * sc.NoiseUV * sc.NoiseUV
	if sc.EMGBits > 0 {
		lsb := 2 * sc.EMGRangeMV / math.Exp2(float64(sc.EMGBits)) * 1000
		v += lsb * lsb / 12
	}
	return math.Sqrt(v)
}

// Scaled returns a copy whose phases are stretched or shrunk in proportion
// so that the whole lasts minutes. The phase list is copied.
func (sc Scenario) Scaled(minutes float64) Scenario {
	total := sc.Seconds()
	out := sc
	out.Phases = append([]PhaseSpec(nil), sc.Phases...)
	if total <= 0 || minutes <= 0 {
		return out
	}
	f := minutes * 60 / total
	for i := range out.Phases {
		out.Phases[i].Seconds *= f
	}
	return out
}

// Validate checks every setting and returns an error wrapping ErrScenario
// that names the first bad one.
func (sc Scenario) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrScenario, sc.Name, fmt.Sprintf(format, a...))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(sc.EMGRate) || sc.EMGRate < MinEMGRate || sc.EMGRate > MaxEMGRate {
		return bad("EMG rate %g Hz is outside %g..%g Hz", sc.EMGRate, MinEMGRate, MaxEMGRate)
	}
	if !finite(sc.AccRate) || sc.AccRate < MinAccRate || sc.AccRate > MaxAccRate {
		return bad("accelerometer rate %g Hz is outside %g..%g Hz", sc.AccRate, MinAccRate, MaxAccRate)
	}
	if sc.MainsHz != 0 && sc.MainsHz != 50 && sc.MainsHz != 60 {
		return bad("mains frequency %g Hz: want 50, 60 or 0 (none)", sc.MainsHz)
	}
	for _, v := range []struct {
		name     string
		val, max float64
	}{
		{"mains amplitude (µV)", sc.MainsUV, 5000},
		{"noise floor (µV)", sc.NoiseUV, 200},
		{"baseline wander (µV)", sc.WanderUV, 5000},
		{"accelerometer noise (mg)", sc.AccNoiseMg, 200},
		{"twitch rate (per minute)", sc.Twitch.RatePerMin, 120},
		{"pops per minute", sc.PopsPerMin, 30},
		{"motion artifacts per minute", sc.MotionPerMin, 30},
		{"fidgets per minute", sc.FidgetsPerMin, 30},
		{"posture shifts per minute", sc.PosturePerMin, 30},
		{"tremor bursts per minute", sc.TremorPerMin, 30},
		{"cable sway per minute", sc.SwayPerMin, 30},
		{"mains drift (Hz)", sc.MainsDriftHz, 2},
		{"mains amplitude drift", sc.MainsDriftFrac, 0.9},
	} {
		if !finite(v.val) || v.val < 0 || v.val > v.max {
			return bad("%s %g is outside 0..%g", v.name, v.val, v.max)
		}
	}
	if sc.AccBits < 8 || sc.AccBits > 24 {
		return bad("accelerometer resolution %d bits is outside 8..24", sc.AccBits)
	}
	if !finite(sc.AccRangeG) || sc.AccRangeG < 2 || sc.AccRangeG > 200 {
		return bad("accelerometer range ±%g g is outside 2..200", sc.AccRangeG)
	}
	if sc.EMGBits != 0 && (sc.EMGBits < 8 || sc.EMGBits > 24) {
		return bad("EMG resolution %d bits is outside 8..24", sc.EMGBits)
	}
	if sc.EMGBits != 0 && (!finite(sc.EMGRangeMV) || sc.EMGRangeMV < 0.5 || sc.EMGRangeMV > 100) {
		return bad("EMG range ±%g mV is outside 0.5..100", sc.EMGRangeMV)
	}
	for _, d := range sc.MountDeg {
		if !finite(d) || math.Abs(d) > 360 {
			return bad("mounting angle %g° is outside ±360", d)
		}
	}
	if sc.TremorPerMin > 0 && !sc.TremorHz.valid(2, 12) {
		return bad("tremor frequency %g..%g Hz is outside 2..12", sc.TremorHz.Min, sc.TremorHz.Max)
	}
	if s := sc.Twitch.Shape; s != nil {
		if err := s.validate(); err != nil {
			return bad("%v", err)
		}
	}
	if sc.Twitch.AccFraction < 0 || sc.Twitch.AccFraction > 1 || !finite(sc.Twitch.AccFraction) {
		return bad("twitch acc fraction %g is outside 0..1", sc.Twitch.AccFraction)
	}
	switch sc.Twitch.Pattern {
	case PatternNone, PatternFades, PatternStopsOnResume, PatternPersists:
	default:
		return bad("twitch pattern %q: want none, fades, stops_on_resume or persists", sc.Twitch.Pattern)
	}
	if sc.Cramps < 0 || sc.Cramps > 20 {
		return bad("%d cramps is outside 0..20", sc.Cramps)
	}
	if sc.Cramps > 0 && (sc.CrampMinS < 3 || sc.CrampMaxS < sc.CrampMinS || sc.CrampMaxS > 120) {
		return bad("cramp duration %g..%g s: want 3 <= min <= max <= 120", sc.CrampMinS, sc.CrampMaxS)
	}
	if len(sc.Phases) == 0 {
		return bad("no phases")
	}
	for i, p := range sc.Phases {
		if err := validPhase(p); err != nil {
			return bad("phase %d (%s): %v", i+1, p.Name, err)
		}
	}
	return nil
}

// validCycle checks a phase's model overrides; zero keeps the default.
func validCycle(p PhaseSpec) error {
	ok := func(v, lo, hi float64) bool { return v == 0 || (v >= lo && v <= hi) }
	if !ok(p.CadenceHz, 0.1, 3) {
		return fmt.Errorf("cadence %g Hz is outside 0.1..3", p.CadenceHz)
	}
	if !ok(p.Amplitude, 0.05, 3) {
		return fmt.Errorf("amplitude %g is outside 0.05..3", p.Amplitude)
	}
	if !ok(p.BurstMs, 30, 1000) {
		return fmt.Errorf("burst %g ms is outside 30..1000", p.BurstMs)
	}
	return nil
}

func validPhase(p PhaseSpec) error {
	if !(p.Seconds > 0) || p.Seconds > 7*24*3600 {
		return fmt.Errorf("duration %g s must be positive and at most a week", p.Seconds)
	}
	switch p.Name {
	case PhaseRest, PhaseSetRest:
		if p.Activity != "" && p.Activity != ActivityNone {
			return fmt.Errorf("%s cannot have activity %q", p.Name, p.Activity)
		}
		return nil
	case PhaseWarmup, PhaseExercise, PhaseCooldown, PhaseResumed, PhaseStroll:
	default:
		return fmt.Errorf("unknown phase name (want warmup, exercise, cooldown, rest, resumed, set_rest or stroll)")
	}
	switch p.Activity {
	case ActivityRunning, ActivityLifting, ActivityCycling, ActivityWalking:
	default:
		return fmt.Errorf("activity %q: want running, lifting, cycling or walking", p.Activity)
	}
	if err := validCycle(p); err != nil {
		return err
	}
	switch p.Intensity {
	case "light", "moderate", "vigorous":
	default:
		return fmt.Errorf("intensity %q: want light, moderate or vigorous", p.Intensity)
	}
	return nil
}
