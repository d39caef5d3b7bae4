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
)

// Phase names, as written in Labels.
const (
	PhaseWarmup   = "warmup"
	PhaseExercise = "exercise"
	PhaseCooldown = "cooldown"
	PhaseRest     = "rest"
	PhaseResumed  = "resumed"
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

// PhaseSpec is one phase of a scenario.
type PhaseSpec struct {
	Name      string  `json:"name"`                // PhaseWarmup ... PhaseResumed
	Activity  string  `json:"activity,omitempty"`  // for active phases; ActivityNone at rest
	Intensity string  `json:"intensity,omitempty"` // light, moderate or vigorous for active phases
	Seconds   float64 `json:"seconds"`
}

// Active reports whether the phase has exercise in it.
func (p PhaseSpec) Active() bool { return p.Name != PhaseRest }

// TwitchSpec says how twitching behaves.
type TwitchSpec struct {
	Pattern    string  `json:"pattern"`      // PatternNone ... PatternPersists
	RatePerMin float64 `json:"rate_per_min"` // twitch bursts per minute at the start of rest
	// AccFraction is the fraction of twitches strong enough to move the
	// limb visibly (and so to show in the accelerometer).
	AccFraction float64 `json:"acc_fraction"`
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
}

// Seconds returns the total duration.
func (sc Scenario) Seconds() float64 {
	var s float64
	for _, p := range sc.Phases {
		s += p.Seconds
	}
	return s
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

func validPhase(p PhaseSpec) error {
	if !(p.Seconds > 0) || p.Seconds > 7*24*3600 {
		return fmt.Errorf("duration %g s must be positive and at most a week", p.Seconds)
	}
	switch p.Name {
	case PhaseRest:
		if p.Activity != "" && p.Activity != ActivityNone {
			return fmt.Errorf("rest cannot have activity %q", p.Activity)
		}
		return nil
	case PhaseWarmup, PhaseExercise, PhaseCooldown, PhaseResumed:
	default:
		return fmt.Errorf("unknown phase name (want warmup, exercise, cooldown, rest or resumed)")
	}
	switch p.Activity {
	case ActivityRunning, ActivityLifting, ActivityCycling:
	default:
		return fmt.Errorf("activity %q: want running, lifting or cycling", p.Activity)
	}
	switch p.Intensity {
	case "light", "moderate", "vigorous":
	default:
		return fmt.Errorf("intensity %q: want light, moderate or vigorous", p.Intensity)
	}
	return nil
}
