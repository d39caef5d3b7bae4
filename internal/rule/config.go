package rule

import (
	"errors"
	"fmt"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Day is 24 hours, for readable durations in days.
const Day = 24 * time.Hour

// Config holds every threshold of the persistence rule. Start from
// DefaultConfig and change what you need; each field's comment gives the
// default and why.
type Config struct {
	// EpisodeTwitches and EpisodeWindow define a twitch episode: at least
	// EpisodeTwitches twitches at rest within EpisodeWindow. Defaults 5
	// within 5 min: isolated fasciculations occur in most healthy people at
	// rest, so one or two are background; five in five minutes (about one a
	// minute, sustained) is the visible "twitching" the article describes.
	EpisodeTwitches int
	EpisodeWindow   time.Duration

	// SameTwitch is how close (gap between their spans) two twitches seen by
	// different sensors or channels must be to count once. Default 150 ms:
	// the electromechanical delay between a muscle's electrical potential
	// and the limb's movement is tens of milliseconds, and the detectors'
	// spans carry some slack.
	SameTwitch time.Duration

	// RateWindow is how much rest before activity resumes, and after the
	// resumed activity ends, the twitch rates are measured over. Default
	// 10 min: long enough to hold several twitches at episode rates (>= 1
	// per minute), short enough to reflect the state just before resuming.
	RateWindow time.Duration

	// MinResume is how long activity (any bout, light ones too) must last
	// to count as resumed. Default 5 min: the article's "continue the
	// workout"; a walk to the door is not that, and a brief resume must
	// not end an episode. A second bout of at least MinResume that starts
	// before the rest after the first was judged extends the resumed
	// activity: the rest after all of it is what is judged.
	MinResume time.Duration

	// MinRestAfter is the least rest within RateWindow after the resumed
	// activity that is judged; with less (the recording ended, or more
	// activity filled the window) the status stays post_exercise (or
	// at_rest) and says so. Default 3 min (three expected twitches at
	// episode rate).
	MinRestAfter time.Duration

	// CeasedFraction: twitching has ceased when the rate after resuming is
	// at or below CeasedFraction times the reference rate before (the
	// measured rate, but at least the episode rate). Default 0.25: a fall
	// by three quarters or more is a clear change, not counting noise; a
	// single stray twitch after a brisk episode still counts as ceased.
	// Above it, the twitching went on (persistent) only when an episode
	// followed within RateWindow; otherwise the evidence is thin and the
	// status stays post_exercise.
	CeasedFraction float64

	// PersistAfter is the rule's horizon in time, used three ways. An
	// episode with no activity (any bout, light ones too) recorded in the
	// PersistAfter before its first twitch, neither in this recording nor
	// in the history, is at_rest rather than post_exercise. Twitching at
	// rest still occurring more than PersistAfter after the last recorded
	// activity (an episode that began after exercise), or more than
	// PersistAfter after the first twitch of an at_rest spell with no
	// activity in between, is persistent ("continued for hours"). Default
	// 6 h: the article's explanations (lactate, motor neurons that need
	// time to settle) act over minutes to an hour or two after stopping;
	// six hours leaves room for a slow recovery after a long event.
	PersistAfter time.Duration

	// EpisodeGap: episodes less than EpisodeGap apart (from the last
	// twitch of one to the first of the next) are one spell of twitching;
	// "continued for hours" measures a spell. Twitching seen at 10:00 and
	// again at 17:00 with nothing in between is two spells: a recurrence,
	// which EpisodeDays judges, not evidence that it went on for seven
	// hours. Default 2 h: twitching that is going on at rest shows an
	// episode every few minutes; a pause of hours is a stop. A spell may
	// begin in an earlier recording (history) when its last episode is
	// within EpisodeGap of this recording's first.
	EpisodeGap time.Duration

	// EpisodeDays within EpisodeLookback: twitch episodes that did not cease
	// on at least EpisodeDays distinct days (calendar days in Location)
	// within EpisodeLookback are persistent, whether they followed
	// exercise or came at rest. Defaults 3 days within 14: the issue's
	// "recurs on several days", and the UK NHS guidance to see a GP when a
	// twitch lasts more than 2 weeks. Episodes that ceased when activity
	// resumed (in this recording, or an earlier recording whose last
	// assessment was ceased) do not count: the article calls that a good
	// sign.
	EpisodeDays     int
	EpisodeLookback time.Duration

	// SymptomLookback is how far back logged symptoms and detected cramps
	// count towards persistent_with_symptoms. Default 14 days, the NHS
	// guidance's two weeks.
	SymptomLookback time.Duration
	// RaisingSymptoms are the logged symptoms that raise persistent, and
	// at_rest, to persistent_with_symptoms. Default weakness, clumsiness,
	// cramps: the ones the article names. "other" is reported but does not
	// raise. Detected cramps and a weakness trend raise persistent only:
	// cramps after hard exercise are common, and a detector's cramp is
	// weaker evidence than a person's own note.
	RaisingSymptoms []string

	// StrengthFraction: a weakness trend is a strength proxy (peak EMG RMS
	// or peak acceleration) in this recording's bouts below StrengthFraction
	// of the median of the person's own comparable bouts (same intensity)
	// within StrengthLookback, given at least MinBaselineBouts of them.
	// Defaults 0.8, 28 days, 3 bouts: day-to-day variation of peak surface
	// EMG and peak acceleration in a repeated exercise is typically 10-15 %,
	// so a 20 % drop is beyond it; four weeks covers a training cycle.
	StrengthFraction float64
	StrengthLookback time.Duration
	MinBaselineBouts int

	// WarmUp: a vigorous bout not preceded by at least WarmUp of light or
	// moderate activity ending within WarmUpGap before it triggers the
	// warm-up advice. Defaults 5 min and 10 min.
	WarmUp    time.Duration
	WarmUpGap time.Duration

	// ACWRLimit: the acute:chronic workload ratio (load over the last 7 days
	// against the weekly average over the last 28, load = bout minutes x
	// intensity weight) above ACWRLimit triggers the gradual-progression
	// advice. Default 1.5 (Gabbett 2016, Br J Sports Med 50:273: injury risk
	// rises steeply above about 1.5). Needs MinChronicSpan of history (the
	// first bout at least that long ago); default 21 days.
	ACWRLimit      float64
	MinChronicSpan time.Duration

	// TrainingStreak: that many consecutive days with a moderate or
	// vigorous bout, ending on the recording's day, triggers the days-off
	// advice. Default 6: at most six training days in a row leaves one rest
	// day a week.
	TrainingStreak int

	// LongHardBout: a vigorous bout longer than this triggers the fluids and
	// electrolytes advice (so does twitching together with cramps). Default
	// 60 min, after which sweat losses usually call for more than water.
	LongHardBout time.Duration

	// Location sets calendar days for EpisodeDays and TrainingStreak.
	// Default UTC.
	Location *time.Location

	// HistoryTimeout bounds one History.Load (five Flux queries). Default
	// 30 s, generous for influxd 1.8 on a small board.
	HistoryTimeout time.Duration

	// MaxPending bounds the events the Engine holds while it waits for the
	// detectors' watermark (it processes events in time order only up to
	// the watermark). Default 65536 events (a few MB): far more than a
	// detector keeps open (a bout in progress holds the watermark at its
	// start, and during it only activity twitches, rests and cramps
	// arrive). Beyond it the oldest events are processed early and a
	// warning is logged, so a detector that never advances its watermark
	// cannot make memory grow without bound.
	MaxPending int
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		EpisodeTwitches:  5,
		EpisodeWindow:    5 * time.Minute,
		SameTwitch:       150 * time.Millisecond,
		RateWindow:       10 * time.Minute,
		MinResume:        5 * time.Minute,
		MinRestAfter:     3 * time.Minute,
		CeasedFraction:   0.25,
		PersistAfter:     6 * time.Hour,
		EpisodeGap:       2 * time.Hour,
		EpisodeDays:      3,
		EpisodeLookback:  14 * Day,
		SymptomLookback:  14 * Day,
		RaisingSymptoms:  []string{SymptomWeakness, SymptomClumsiness, SymptomCramps},
		StrengthFraction: 0.8,
		StrengthLookback: 28 * Day,
		MinBaselineBouts: 3,
		WarmUp:           5 * time.Minute,
		WarmUpGap:        10 * time.Minute,
		ACWRLimit:        1.5,
		MinChronicSpan:   21 * Day,
		TrainingStreak:   6,
		LongHardBout:     60 * time.Minute,
		Location:         time.UTC,
		HistoryTimeout:   30 * time.Second,
		MaxPending:       1 << 16,
	}
}

// Symptoms a person can log with "twitchd note".
const (
	SymptomWeakness   = "weakness"
	SymptomClumsiness = "clumsiness"
	SymptomCramps     = "cramps"
	SymptomOther      = "other"
)

// Symptoms lists the accepted symptom names.
var Symptoms = []string{SymptomWeakness, SymptomClumsiness, SymptomCramps, SymptomOther}

// ValidSymptom reports whether s is one of Symptoms.
func ValidSymptom(s string) bool {
	for _, v := range Symptoms {
		if v == s {
			return true
		}
	}
	return false
}

// ErrConfig is wrapped by Validate's errors.
var ErrConfig = errors.New("rule: invalid config")

// Validate reports the first threshold that makes no sense.
func (c Config) Validate() error {
	bad := func(name string, v any) error {
		return fmt.Errorf("%w: %s = %v", ErrConfig, name, v)
	}
	switch {
	case c.EpisodeTwitches < 1:
		return bad("EpisodeTwitches", c.EpisodeTwitches)
	case c.EpisodeWindow <= 0:
		return bad("EpisodeWindow", c.EpisodeWindow)
	case c.SameTwitch < 0:
		return bad("SameTwitch", c.SameTwitch)
	case c.RateWindow <= 0:
		return bad("RateWindow", c.RateWindow)
	case c.MinResume < 0:
		return bad("MinResume", c.MinResume)
	case c.MinRestAfter <= 0 || c.MinRestAfter > c.RateWindow:
		return bad("MinRestAfter (0 < MinRestAfter <= RateWindow)", c.MinRestAfter)
	case c.CeasedFraction < 0 || c.CeasedFraction >= 1:
		return bad("CeasedFraction (0 <= f < 1)", c.CeasedFraction)
	case c.PersistAfter <= 0:
		return bad("PersistAfter", c.PersistAfter)
	case c.EpisodeGap < c.EpisodeWindow:
		return bad("EpisodeGap (>= EpisodeWindow)", c.EpisodeGap)
	case c.MaxPending < 1:
		return bad("MaxPending", c.MaxPending)
	case c.EpisodeDays < 1:
		return bad("EpisodeDays", c.EpisodeDays)
	case c.EpisodeLookback < 0 || c.SymptomLookback < 0 || c.StrengthLookback < 0:
		return bad("lookbacks", []time.Duration{c.EpisodeLookback, c.SymptomLookback, c.StrengthLookback})
	case c.StrengthFraction <= 0 || c.StrengthFraction > 1:
		return bad("StrengthFraction (0 < f <= 1)", c.StrengthFraction)
	case c.MinBaselineBouts < 1:
		return bad("MinBaselineBouts", c.MinBaselineBouts)
	case c.ACWRLimit <= 0:
		return bad("ACWRLimit", c.ACWRLimit)
	case c.TrainingStreak < 2:
		return bad("TrainingStreak", c.TrainingStreak)
	}
	return nil
}

// Lookback is how much history the Engine asks for: the longest of the
// lookbacks and the 28 days the chronic workload needs.
func (c Config) Lookback() time.Duration {
	lb := 28 * Day
	for _, d := range []time.Duration{c.EpisodeLookback, c.SymptomLookback, c.StrengthLookback, c.PersistAfter} {
		lb = max(lb, d)
	}
	return lb
}

func (c Config) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// day returns the calendar day of t in the configured location.
func (c Config) day(t pipeline.Timestamp) civilDay {
	y, m, d := t.Time().In(c.loc()).Date()
	return civilDay{y, m, d}
}

type civilDay struct {
	y int
	m time.Month
	d int
}

func (d civilDay) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

// before reports whether d is earlier than e.
func (d civilDay) before(e civilDay) bool {
	if d.y != e.y {
		return d.y < e.y
	}
	if d.m != e.m {
		return d.m < e.m
	}
	return d.d < e.d
}

// prev returns the day before d.
func (d civilDay) prev() civilDay {
	y, m, dd := time.Date(d.y, d.m, d.d-1, 12, 0, 0, 0, time.UTC).Date()
	return civilDay{y, m, dd}
}

// intensityWeight is the load weight of one bout minute: approximate METs
// at the middle of each intensity band (light < 3, moderate 3-6, vigorous
// > 6 METs).
func intensityWeight(intensity string) float64 {
	switch intensity {
	case pipeline.IntensityLight:
		return 2.5
	case pipeline.IntensityModerate:
		return 4.5
	case pipeline.IntensityVigorous:
		return 8
	}
	return 0
}
