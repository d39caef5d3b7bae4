package simulate

import (
	"fmt"
	"sort"
	"time"
)

// DefaultStart is the fixed start time of every preset, so that a seed
// gives the same recording whatever the day.
var DefaultStart = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// base returns the settings every preset shares: a decent wearable EMG
// front end at 1 kHz, a 12-bit ±8 g accelerometer at 50 Hz.
func base(name, desc, site string) Scenario {
	return Scenario{
		Name:        name,
		Description: desc,
		Subject:     "sim",
		Site:        site,
		Start:       DefaultStart,
		EMGRate:     1000,
		AccRate:     50,
		MainsHz:     50,
		MainsUV:     20,
		NoiseUV:     4,
		WanderUV:    30,
		AccNoiseMg:  5,
		AccBits:     12,
		AccRangeG:   8,
		Twitch:      TwitchSpec{Pattern: PatternNone},
		CrampMinS:   8,
		CrampMaxS:   30,
		PopsPerMin:  0.2,
	}
}

func ph(name, activity, intensity string, seconds float64) PhaseSpec {
	if name == PhaseRest {
		activity, intensity = ActivityNone, ""
	}
	return PhaseSpec{Name: name, Activity: activity, Intensity: intensity, Seconds: seconds}
}

var presets = map[string]func() Scenario{
	"bundled-calf": func() Scenario {
		sc := base("bundled-calf", "calf: warm-up, running, rest with twitches that fade, resumed running where they stop", "calf_left")
		sc.Phases = []PhaseSpec{
			ph(PhaseWarmup, ActivityRunning, "light", 20),
			ph(PhaseExercise, ActivityRunning, "vigorous", 70),
			ph(PhaseCooldown, ActivityRunning, "light", 10),
			ph(PhaseRest, "", "", 95),
			ph(PhaseResumed, ActivityRunning, "moderate", 30),
			ph(PhaseRest, "", "", 15),
		}
		sc.Twitch = TwitchSpec{Pattern: PatternFades, RatePerMin: 24, AccFraction: 0.5}
		sc.FidgetsPerMin, sc.PosturePerMin = 0.6, 0.3
		return sc
	},
	"bundled-forearm": func() Scenario {
		sc := base("bundled-forearm", "forearm: weight lifting, rest with twitches and one cramp", "forearm_right")
		sc.MainsHz = 60
		sc.AccRate = 100
		sc.Phases = []PhaseSpec{
			ph(PhaseWarmup, ActivityLifting, "light", 15),
			ph(PhaseExercise, ActivityLifting, "moderate", 60),
			ph(PhaseRest, "", "", 105),
		}
		sc.Twitch = TwitchSpec{Pattern: PatternStopsOnResume, RatePerMin: 12, AccFraction: 0.4}
		sc.Cramps, sc.CrampMinS, sc.CrampMaxS = 1, 10, 15
		sc.FidgetsPerMin, sc.PosturePerMin = 0.5, 0.3
		return sc
	},
	"running-fades": func() Scenario {
		sc := base("running-fades", "calf: warm-up, vigorous running, cool-down, rest with twitching that fades", "calf_left")
		sc.Phases = []PhaseSpec{
			ph(PhaseWarmup, ActivityRunning, "light", 60),
			ph(PhaseExercise, ActivityRunning, "vigorous", 240),
			ph(PhaseCooldown, ActivityRunning, "light", 60),
			ph(PhaseRest, "", "", 300),
		}
		sc.Twitch = TwitchSpec{Pattern: PatternFades, RatePerMin: 18, AccFraction: 0.5}
		sc.FidgetsPerMin, sc.PosturePerMin = 0.5, 0.2
		return sc
	},
	"lifting-stops": func() Scenario {
		sc := base("lifting-stops", "forearm: lifting, rest with twitching, lifting resumed and twitching stops", "forearm_right")
		sc.Phases = []PhaseSpec{
			ph(PhaseWarmup, ActivityLifting, "light", 60),
			ph(PhaseExercise, ActivityLifting, "moderate", 180),
			ph(PhaseRest, "", "", 240),
			ph(PhaseResumed, ActivityLifting, "moderate", 330),
			ph(PhaseRest, "", "", 240),
		}
		sc.Twitch = TwitchSpec{Pattern: PatternStopsOnResume, RatePerMin: 10, AccFraction: 0.4}
		sc.FidgetsPerMin, sc.PosturePerMin = 0.5, 0.2
		return sc
	},
	"cycling-persists": func() Scenario {
		sc := base("cycling-persists", "thigh: cycling, rest with twitching, cycling resumed, twitching persists", "thigh_left")
		sc.Phases = []PhaseSpec{
			ph(PhaseWarmup, ActivityCycling, "light", 60),
			ph(PhaseExercise, ActivityCycling, "vigorous", 240),
			ph(PhaseRest, "", "", 180),
			ph(PhaseResumed, ActivityCycling, "moderate", 330),
			ph(PhaseRest, "", "", 240),
		}
		sc.Twitch = TwitchSpec{Pattern: PatternPersists, RatePerMin: 10, AccFraction: 0.5}
		sc.FidgetsPerMin, sc.PosturePerMin = 0.4, 0.2
		return sc
	},
	"cramps": func() Scenario {
		sc := base("cramps", "calf: running, rest with cramps and twitching that persists after running resumes", "calf_left")
		sc.Phases = []PhaseSpec{
			ph(PhaseWarmup, ActivityRunning, "light", 60),
			ph(PhaseExercise, ActivityRunning, "vigorous", 180),
			ph(PhaseRest, "", "", 240),
			ph(PhaseResumed, ActivityRunning, "moderate", 330),
			ph(PhaseRest, "", "", 240),
		}
		sc.Twitch = TwitchSpec{Pattern: PatternPersists, RatePerMin: 8, AccFraction: 0.5}
		sc.Cramps, sc.CrampMinS, sc.CrampMaxS = 3, 8, 45
		sc.FidgetsPerMin, sc.PosturePerMin = 0.4, 0.2
		return sc
	},
	"no-twitch": func() Scenario {
		sc := base("no-twitch", "calf: running then rest without any twitching", "calf_left")
		sc.Phases = []PhaseSpec{
			ph(PhaseWarmup, ActivityRunning, "light", 60),
			ph(PhaseExercise, ActivityRunning, "moderate", 240),
			ph(PhaseRest, "", "", 300),
		}
		sc.FidgetsPerMin, sc.PosturePerMin = 0.6, 0.3
		return sc
	},
	"quiet-rest": func() Scenario {
		sc := base("quiet-rest", "forearm: quiet rest with no exercise before it, occasional fidgets", "forearm_right")
		sc.Phases = []PhaseSpec{ph(PhaseRest, "", "", 600)}
		sc.FidgetsPerMin, sc.PosturePerMin = 0.5, 0.2
		return sc
	},
	"fidget-rest": func() Scenario {
		sc := base("fidget-rest", "calf: running, then a restless rest full of fidgets, posture shifts, pops and cable motion, with fading twitches", "calf_left")
		sc.Phases = []PhaseSpec{
			ph(PhaseExercise, ActivityRunning, "moderate", 180),
			ph(PhaseRest, "", "", 420),
		}
		sc.Twitch = TwitchSpec{Pattern: PatternFades, RatePerMin: 15, AccFraction: 0.5}
		sc.FidgetsPerMin, sc.PosturePerMin = 4, 1
		sc.PopsPerMin, sc.MotionPerMin = 0.5, 0.5
		return sc
	},
}

// PresetNames lists the named scenarios, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Presets returns every named scenario, sorted by name.
func Presets() []Scenario {
	out := make([]Scenario, 0, len(presets))
	for _, n := range PresetNames() {
		out = append(out, presets[n]())
	}
	return out
}

// Preset returns the named scenario, or an error listing the names.
func Preset(name string) (Scenario, error) {
	f, ok := presets[name]
	if !ok {
		return Scenario{}, fmt.Errorf("%w: unknown scenario %q (known: %v)", ErrScenario, name, PresetNames())
	}
	return f(), nil
}
