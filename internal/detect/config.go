package detect

import (
	"fmt"
	"log/slog"
	"time"
)

// Config holds every window, threshold and time constant of the
// detectors. All durations are in seconds of recording time, so any
// sample rate works. Default returns the values the benchmark suite was
// tuned with; each field documents why it has its default.
type Config struct {
	// Epoch is the length of an activity epoch. 5 s is GGIR's default for
	// ENMO (van Hees et al. 2013) and short enough to follow sets and strides.
	Epoch float64

	// Cut-points on mean ENMO per epoch, in milli-g. 40 mg separates
	// sedentary from light activity (GGIR's common default), 100 mg is the
	// moderate threshold and 400 mg the vigorous one (Hildebrand et al.
	// 2014, Med Sci Sports Exerc 46(9):1816-24, wrist ~100.6 / 428.8 mg).
	LightMG, ModerateMG, VigorousMG float64

	// BoutMin is the least active time that makes a bout: thirty seconds
	// of activity (six epochs) keeps fidgets and a shift in the chair out
	// but catches a short resumption of exercise. BoutGap is the longest
	// inactive stretch inside a run of active epochs (pauses between reps
	// or at a crossing). BoutMerge joins two bouts separated by less than
	// this (rests between sets). PostExercise is how long after a bout a
	// rest still counts as post-exercise.
	BoutMin, BoutGap, BoutMerge, PostExercise float64
	// RestSegment caps the length of one reported rest event, so events
	// can be released in time order without holding them for hours.
	RestSegment float64

	// EMG front end. The band-pass is a Butterworth of order EMGOrder
	// (2*order poles) from EMGLow to EMGHigh Hz, the upper edge kept below
	// 0.45 times the sample rate: the usual 20-450 Hz surface EMG band
	// (SENIAM; De Luca 2010) that drops motion artefacts and baseline
	// wander below 20 Hz. Mains (50 or 60 Hz, found in blocks of
	// MainsWindow seconds, or Mains when it is non-zero) is cancelled up
	// to MainsHarmonics harmonics by a frequency-locked adaptive canceller
	// whose notches are MainsTrackHz wide (dsp.MainsCanceller): grids
	// drift by tenths of a hertz and interference swells and fades, which
	// a fixed notch narrow enough to spare the EMG leaves largely in
	// place. MainsTrackHz 0 uses a fixed comb notch of quality MainsQ
	// instead.
	EMGOrder       int
	EMGLow         float64
	EMGHigh        float64
	Mains          float64
	MainsQ         float64
	MainsHarmonics int
	MainsWindow    float64
	MainsTrackHz   float64
	// ToneShareMax rejects an EMG burst when a tone at the mains
	// harmonics, fitted over the burst, explains more than this share of
	// its energy (and twice what noise alone would): when interference
	// steps or swells faster than the canceller follows, it leaves a
	// short burst of tone that passes for a twitch; a potential spreads
	// its energy over tens of hertz (on the tune families no twitch
	// exceeds 0.4). 0 turns the test off.
	ToneShareMax float64

	// FastRMS is the twitch envelope window: a fasciculation potential
	// lasts 5-20 ms, so 15 ms keeps its energy together without smearing
	// neighbours. SlowRMS is the activity envelope (250 ms, the usual
	// window for voluntary EMG amplitude).
	FastRMS, SlowRMS float64

	// Noise floor: the envelope is sampled every FloorStep seconds into a
	// window of FloorWindow seconds; the floor is its FloorQuantile
	// quantile, and the spread is estimated from the gap between that
	// quantile and the 5th percentile. Using a low quantile keeps the
	// floor honest while up to three quarters of the window is activity.
	FloorStep, FloorWindow, FloorQuantile float64
	// FloorShort is the short window that lets the floor drop within
	// seconds once exercise stops.
	FloorShort float64
	// Warmup is how long a channel observes before it reports anything:
	// the floor and the mains estimate need data.
	Warmup float64

	// Burst thresholds on the fast envelope: on when above
	// floor + OnSigma*spread and above OnRatio*floor; off below the
	// midpoint. Bursts separated by less than MergeGap are one burst (the
	// potentials of one fasciculation burst come 5-30 ms apart).
	OnSigma, OnRatio, MergeGap float64
	// TailWindow: the burst threshold is also raised by how much heavier
	// the noise's tail is than Gaussian noise's through the same filters:
	// the 0.9 quantile of the largest fast envelope per 100 ms slot at
	// rest over the last TailWindow seconds, against its Gaussian value. A
	// baseline only a few ADC steps deep, or glitches, raise it. A
	// quantile that high is unmoved by twitches in up to a tenth of slots.
	TailWindow float64
	// EMGFalseAlarms: when positive, the burst threshold is at least what
	// Gaussian noise through the same filters passes in this many 100 ms
	// slots per hour of rest (the slot maxima's tail, extended from its
	// 0.99 and 0.999 quantiles): a 15 ms envelope of four samples at
	// 250 Hz is spiky enough to pass the default threshold several times
	// an hour, while at 1 kHz and above OnRatio is the higher anyway. 0.1
	// removes most false alarms of held-out families at 250 Hz but also a
	// weak twitch of the bundled Cyton fixture (4.2 times its floor), so
	// it is off by default: set it for a 250 Hz recording at rest whose
	// quietest stretches show short bursts.
	EMGFalseAlarms float64
	// TwitchMin and TwitchMax bound an EMG twitch's duration: the
	// potentials of one fasciculation burst (up to a handful, 2-25 ms
	// each, 5-30 ms apart) span a couple of hundred milliseconds, and a
	// large one rings on in the mains notch on a very quiet channel;
	// longer bursts are voluntary activity, tremor or cramps.
	// AccTwitchMax bounds the part of an accelerometer
	// twitch that stays above half its peak: a jerk damped within 150 ms
	// spends about 0.2 s there, a movement or a cable swinging the sensor
	// longer.
	TwitchMin, TwitchMax, AccTwitchMax float64
	// An EMG burst longer than TwitchLong must stand at least
	// TwitchLongSNR times above the floor: a large fasciculation keeps the
	// envelope up for a while, a contraction that only just crosses the
	// threshold for a fifth of a second is a weak voluntary one.
	TwitchLong, TwitchLongSNR float64
	// TwitchEffMax bounds an EMG burst's effective duration, (Σy²)²/Σy⁴
	// over its samples: the potentials of a fasciculation, however
	// spread, stay within tens of milliseconds; a voluntary contraction's
	// dense interference pattern comes to a third of its length.
	TwitchEffMax float64
	// TwitchMaxPeakMV rejects EMG bursts with a band-passed peak above
	// this: fasciculation potentials reach hundreds of µV at the skin,
	// electrode pops reach millivolts.
	TwitchMaxPeakMV float64
	// LFRatio rejects bursts whose 0.5-15 Hz energy (in the unfiltered
	// signal) exceeds LFRatio times their band-passed energy: pops and
	// cable motion are steps and swings, potentials are not.
	LFRatio float64

	// Context: a candidate twitch is kept only when the Context seconds
	// before and after it show no voluntary activity or limb movement.
	// ActiveMin is how long the activity envelope must stay up before it
	// counts as activity (a twitch alone does not).
	Context, ActiveMin float64
	// PauseContext is the quiet needed on each side of a twitch found
	// inside a bout (no activity, movement or rhythm, which itself reaches
	// past the last stride or repetition): surface EMG between reps or
	// strides is full of short voluntary bursts, so only a real pause is
	// trusted.
	PauseContext float64
	// RhythmWindow and RhythmBursts: more than RhythmBursts bursts
	// starting within RhythmWindow seconds of a candidate, on one sensor,
	// are a rhythm (strides, pedal strokes), not twitches. Fasciculations
	// come irregularly, a few per minute even when brisk, so five bursts
	// in a few seconds are very unlikely to be twitches alone.
	RhythmWindow float64
	RhythmBursts int
	// Rhythmic activity (strides, pedal strokes, lifting repetitions) is
	// recognised by its periodicity, whatever its cadence or intensity:
	// each sensor's power is averaged over points of RhythmPoint seconds;
	// a cadence window of CadenceWindow seconds looks for a period between
	// CadenceMin and CadenceMax seconds (walking strides 0.7-1.2 Hz,
	// running 1.2-1.8 Hz, cycling 0.8-1.8 Hz, and steps at twice that),
	// and a repetition window of RepWindow seconds for one between RepMin
	// and RepMax (lifting repetitions of 2-6 s). A window is periodic when
	// its autocorrelation peaks at PeriodicR or more, PeriodicProminence
	// above the dip before the peak, with at least PeriodicBursts bursts
	// (points above RhythmActiveRatio times the noise floor's power; for an
	// accelerometer also above AccRhythmMinG of dynamic acceleration, the
	// least movement of a limb in rhythmic exercise) in it. Rhythmic
	// stretches are activity: their bursts are never twitches, and an
	// epoch with at least RhythmEpochFrac of it rhythmic is active.
	RhythmPoint                           float64
	CadenceWindow, CadenceMin, CadenceMax float64
	RepWindow, RepMin, RepMax             float64
	PeriodicR, PeriodicProminence         float64
	PeriodicBursts                        int
	RhythmActiveRatio, AccRhythmMinG      float64
	RhythmEpochFrac                       float64
	// SetRest is the longest rest between two runs of activity with
	// lifting repetitions that still keeps them one bout (sets of one
	// session with rests of up to 3 min between them).
	SetRest float64

	// Voluntary contractions that peak briefly above the twitch
	// threshold (a fidget, a stride of a stroll) rise and fall over
	// hundreds of milliseconds; a fasciculation starts and ends within a
	// few. An EMG candidate is rejected when, in the ShoulderWindow
	// seconds on each side beyond 0.1 s from it, more than ShoulderSlots
	// of the 100 ms slots had the fast envelope above ShoulderRatio times
	// its floor, or, without an accelerometer to see a stroll move the
	// limb, when voluntary activity lies within SandwichWindow seconds on
	// both sides of it.
	// A candidate ShoulderMaxSNR times above the floor or more is not
	// judged by its shoulders: a large potential rings on for a while in
	// the mains notch, a contraction does not peak that far above its
	// own ramp.
	ShoulderRatio, ShoulderWindow, ShoulderMaxSNR float64
	ShoulderSlots                                 int
	SandwichWindow                                float64
	// ActivitySigma and ActivityRatio set the activity threshold on the
	// slow envelope like OnSigma and OnRatio do for bursts.
	ActivitySigma, ActivityRatio float64

	// Cramps: sustained activity of at least CrampMin seconds with gaps
	// no longer than CrampGap, at rest (no limb movement over
	// CrampMotionFrac of its duration). Cramps last seconds to minutes,
	// with motor units firing at 6-25 Hz.
	CrampMin, CrampGap, CrampMotionFrac float64

	// Accelerometer front end: the gravity estimate is a low-pass at
	// GravityHz; the twitch band is a band-pass from AccLow to AccHigh Hz
	// (kept below 0.45 times the rate), where the damped 5-25 Hz jerk of
	// a visible twitch lives and posture changes do not.
	GravityHz, AccLow, AccHigh float64
	// The accelerometer's twitch test is a constant-false-alarm-rate
	// test (see cfar): the whitened energy of the three band-passed axes
	// over AccWindow and over AccWindowLong seconds (a jerk damped within
	// 20-150 ms puts most of its energy in one of them) against thresholds
	// set for AccFalseAlarms false detections per hour of Gaussian noise,
	// raised (at most CFARMaxRatio times) when a statistic's own tail over
	// the last CFARTailWindow seconds of quiet is heavier.
	// The per-axis noise is the median over CFARNoiseWindow seconds (over
	// CFARNoiseShort when that is well below: movement just stopped), never
	// below QuantFloor ADC steps; statistics within CFARGuard seconds of a
	// detection stay out of the estimates.
	AccWindow, AccWindowLong, AccFalseAlarms   float64
	CFARTailWindow, CFARNoiseWindow, CFARGuard float64
	CFARNoiseShort, QuantFloor, CFARMaxRatio   float64
	// AccStillMaxG is the most dynamic acceleration (RMS over 250 ms, g)
	// a still limb shows: more than that and more than twice the floor, or
	// more than twice that, is movement, which neither the movement floor
	// nor the accelerometer's noise estimates learn from.
	AccStillMaxG float64
	// PostureDeg rejects acc bursts across which the gravity direction
	// turns by more than this: a posture shift, not a twitch.
	PostureDeg float64
	// GuideWindow, GuideWindowLong and GuideP: after each EMG twitch the
	// accelerometer is searched for band energy that noise alone would
	// reach with probability below GuideP, over GuideWindow seconds and,
	// failing that, over GuideWindowLong seconds at a tenth of GuideP.
	// A twitch's jerk follows the potential by 5-15 ms and carries most
	// of its energy in its first cycle: within 100 ms for 8-25 Hz jerks,
	// whose few samples a longer window would dilute; 200 ms for the
	// slowest, 5 Hz, jerks ringing for 100-150 ms, whose energy comes
	// later (on a 25 Hz accelerometer the first 100 ms hold two or three
	// samples).
	GuideWindow, GuideWindowLong, GuideP float64
	// FuseWindow is how close an EMG and an acc twitch must be to be
	// the same twitch.
	FuseWindow float64

	// EMG-only intensity of a bout, from its mean activity RMS in mV:
	// without a maximal contraction to normalise against this is a rough
	// guide, used only when there is no accelerometer.
	EMGModerateMV, EMGVigorousMV float64
	// EMGActiveFrac is the share of an epoch the activity envelope must be
	// up for the epoch to count as active on EMG alone.
	EMGActiveFrac float64

	// Log, when set, receives every rejected candidate and its reason at
	// debug level.
	Log *slog.Logger
}

// Default returns the tuned defaults.
func Default() Config {
	return Config{
		Epoch:   5,
		LightMG: 40, ModerateMG: 100, VigorousMG: 400,
		BoutMin: 30, BoutGap: 10, BoutMerge: 30, PostExercise: 6 * 3600,
		RestSegment: 300,

		EMGOrder: 2, EMGLow: 20, EMGHigh: 450,
		MainsQ: 30, MainsHarmonics: 5, MainsWindow: 2, MainsTrackHz: 2, ToneShareMax: 0.5,
		FastRMS: 0.015, SlowRMS: 0.25,
		FloorStep: 0.02, FloorWindow: 20, FloorQuantile: 0.25, FloorShort: 2,
		Warmup:  3,
		OnSigma: 7, OnRatio: 3.5, MergeGap: 0.06, TailWindow: 40, EMGFalseAlarms: 0,
		TwitchMin: 0.004, TwitchMax: 0.5, AccTwitchMax: 0.25, TwitchMaxPeakMV: 3,
		TwitchLong: 0.18, TwitchLongSNR: 12, TwitchEffMax: 0.05,
		LFRatio: 1,
		Context: 1.0, ActiveMin: 0.6, PauseContext: 3,
		RhythmWindow: 2, RhythmBursts: 5,
		ShoulderRatio: 3, ShoulderWindow: 0.5, ShoulderSlots: 2, ShoulderMaxSNR: 40, SandwichWindow: 2.5,
		RhythmPoint:   0.05,
		CadenceWindow: 8, CadenceMin: 0.3, CadenceMax: 2,
		RepWindow: 24, RepMin: 1.5, RepMax: 6.6,
		PeriodicR: 0.45, PeriodicProminence: 0.3, PeriodicBursts: 4,
		RhythmActiveRatio: 4, AccRhythmMinG: 0.008, RhythmEpochFrac: 0.5,
		SetRest:       180,
		ActivitySigma: 8, ActivityRatio: 3,
		CrampMin: 3, CrampGap: 0.5, CrampMotionFrac: 0.6,

		GravityHz: 1.5, AccLow: 3, AccHigh: 25,
		AccWindow: 0.05, AccWindowLong: 0.1, AccFalseAlarms: 0.05,
		CFARTailWindow: 120, CFARNoiseWindow: 30, CFARGuard: 0.3, CFARNoiseShort: 3, QuantFloor: 0.5, CFARMaxRatio: 3,
		AccStillMaxG: 0.015, PostureDeg: 4,
		FuseWindow: 0.1, GuideWindow: 0.1, GuideWindowLong: 0.2, GuideP: 1e-3,

		EMGModerateMV: 0.1, EMGVigorousMV: 0.3,
		EMGActiveFrac: 0.5,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	pos := map[string]float64{
		"epoch": c.Epoch, "bout-min": c.BoutMin, "fast-rms": c.FastRMS, "slow-rms": c.SlowRMS,
		"floor-step": c.FloorStep, "floor-window": c.FloorWindow, "twitch-max": c.TwitchMax,
		"context": c.Context, "cramp-min": c.CrampMin, "acc-window": c.AccWindow, "acc-false-alarms": c.AccFalseAlarms, "rest-segment": c.RestSegment,
		"rhythm-point": c.RhythmPoint, "cadence-window": c.CadenceWindow, "rep-window": c.RepWindow,
	}
	for name, v := range pos {
		if !(v > 0) {
			return fmt.Errorf("detect: %s must be positive, got %g", name, v)
		}
	}
	if !(c.LightMG < c.ModerateMG && c.ModerateMG < c.VigorousMG) {
		return fmt.Errorf("detect: cut-points must increase: %g, %g, %g mg", c.LightMG, c.ModerateMG, c.VigorousMG)
	}
	if c.FloorQuantile <= 0.05 || c.FloorQuantile >= 1 {
		return fmt.Errorf("detect: floor quantile must be in (0.05, 1), got %g", c.FloorQuantile)
	}
	if c.CadenceMax >= c.CadenceWindow/2 || c.RepMax >= c.RepWindow/2 || c.CadenceMin < 2*c.RhythmPoint || c.RepMin < 2*repPoints*c.RhythmPoint {
		return fmt.Errorf("detect: rhythm lags must lie between two points and half their window")
	}
	if c.EMGLow <= 0 || c.EMGHigh <= c.EMGLow {
		return fmt.Errorf("detect: EMG band %g-%g Hz is empty", c.EMGLow, c.EMGHigh)
	}
	return nil
}

func ns(sec float64) int64 { return int64(sec * float64(time.Second)) }
