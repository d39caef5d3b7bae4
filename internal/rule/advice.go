package rule

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Status is the persistence rule's verdict, defined once in pipeline.
type Status = pipeline.Status

// The statuses, re-exported from pipeline for the rule's readers.
const (
	StatusNone                   = pipeline.StatusNone
	StatusCeased                 = pipeline.StatusCeased
	StatusPostExercise           = pipeline.StatusPostExercise
	StatusAtRest                 = pipeline.StatusAtRest
	StatusPersistent             = pipeline.StatusPersistent
	StatusPersistentWithSymptoms = pipeline.StatusPersistentWithSymptoms
)

// Notice goes with every assessment and report.
const Notice = "twitchd measures movement and muscle electrical activity. It is not a " +
	"medical device and does not diagnose: the status and advice describe patterns " +
	"in the recorded data only. If twitching persists, appears in more than one place, " +
	"or comes with weakness, clumsiness or cramps, or if you are worried, consider seeking a medical opinion."

// Advice is one piece of advice: a stable ID, text drawn from the article
// (or, for the two medical items, the UK NHS guidance), and why it applies
// to this person's data.
type Advice struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	Why  string `json:"why"`
}

// String formats a as "id: text (why)", the form used in Assessment.Advice.
func (a Advice) String() string { return a.ID + ": " + a.Text + " (" + a.Why + ")" }

// Advice IDs.
const (
	AdviceMedicalAssistance = "medical-assistance"
	AdviceMedicalOpinion    = "medical-opinion"
	AdviceKeepWatching      = "keep-watching"
	AdviceWatchRecurrence   = "watch-recurrence"
	AdviceGoodSign          = "good-sign"
	AdviceWarmUp            = "warm-up"
	AdviceLoadJump          = "load-jump"
	AdviceDaysOff           = "days-off"
	AdviceElectrolytes      = "fluids-electrolytes"
	AdviceHydrate           = "hydrate"
	AdviceStretch           = "stretch-warm-up"
	AdviceGradual           = "gradual-progression"
	AdviceRestDays          = "take-days-off"
	AdviceRelax             = "massage-relax"
)

// adviceText holds the text of every advice item.
var adviceText = map[string]string{
	AdviceMedicalAssistance: "Twitching persisted together with cramps, weakness or clumsiness: consider seeking medical assistance soon.",
	AdviceMedicalOpinion:    "Twitching persisted: consider seeking a medical opinion (the UK NHS suggests seeing a GP if a twitch lasts more than 2 weeks, is in more than one place, or the area feels weak).",
	AdviceKeepWatching:      "Twitching at rest after demanding exercise is usually benign. Resume light activity for a few minutes and see whether it stops.",
	AdviceWatchRecurrence:   "Twitching at rest now and then is common and usually comes and goes. Note whether it comes back on other days or goes on for hours, and record again so that twitchd can tell.",
	AdviceGoodSign:          "Twitching stopped once activity resumed: a good sign.",
	AdviceWarmUp:            "Warm up and stretch before vigorous exercise.",
	AdviceLoadJump:          "Keep workouts gradually advancing rather than jumping in load.",
	AdviceDaysOff:           "Take some days off so your body can recover.",
	AdviceElectrolytes:      "Drink adequate water during and after workouts and replace the potassium, calcium and sodium lost in sweat.",
	AdviceHydrate:           "Drink adequate water during and after workouts.",
	AdviceStretch:           "Never neglect stretching and warming up before exercising.",
	AdviceGradual:           "Keep your workouts gradually advancing.",
	AdviceRestDays:          "Take some days off for your body to recuperate.",
	AdviceRelax:             "Massage the troublesome spot, or meditate, to relax the muscle.",
}

// AdviceText returns the text of the advice with the given ID, "" if unknown.
func AdviceText(id string) string { return adviceText[id] }

func advice(id, why string) Advice { return Advice{ID: id, Text: adviceText[id], Why: why} }

// facts are what the advice follows from.
type facts struct {
	status    Status
	twitching bool
	cramps    int
	now       pipeline.Timestamp
	session   []PastBout // this recording's bouts, in time order
	all       []PastBout // history and this recording, in time order
}

// Load returns the training load of the bouts starting in (from, to]:
// minutes times the intensity weight (METs at the middle of the band).
func load(bouts []PastBout, from, to pipeline.Timestamp) float64 {
	var l float64
	for _, b := range bouts {
		if b.Start > from && b.Start <= to {
			l += time.Duration(b.End-b.Start).Minutes() * intensityWeight(b.Intensity)
		}
	}
	return l
}

// acwr returns the acute:chronic workload ratio at now: the load of the
// last 7 days over the weekly average of the last 28 (coupled, as in
// Gabbett 2016). ok is false without MinChronicSpan of history or load.
func acwr(cfg Config, bouts []PastBout, now pipeline.Timestamp) (ratio float64, ok bool) {
	if len(bouts) == 0 || time.Duration(now-bouts[0].Start) < cfg.MinChronicSpan {
		return 0, false
	}
	acute := load(bouts, now-pipeline.Timestamp(7*Day), now)
	chronic := load(bouts, now-pipeline.Timestamp(28*Day), now) / 4
	if chronic <= 0 {
		return 0, false
	}
	return acute / chronic, true
}

// streak counts consecutive calendar days with a moderate or vigorous
// bout, ending on now's day.
func streak(cfg Config, bouts []PastBout, now pipeline.Timestamp) int {
	days := map[civilDay]bool{}
	for _, b := range bouts {
		if b.Start <= now && (b.Intensity == pipeline.IntensityModerate || b.Intensity == pipeline.IntensityVigorous) {
			days[cfg.day(b.Start)] = true
		}
	}
	n := 0
	for d := cfg.day(now); days[d]; d = d.prev() {
		n++
	}
	return n
}

// noWarmUp returns the first vigorous bout of the recording that had no
// light or moderate activity of at least WarmUp ending within WarmUpGap
// before it.
func noWarmUp(cfg Config, bouts []PastBout) (PastBout, bool) {
	for i, b := range bouts {
		if b.Intensity != pipeline.IntensityVigorous {
			continue
		}
		warm := time.Duration(0)
		edge := b.Start
		for j := i - 1; j >= 0; j-- {
			p := bouts[j]
			if time.Duration(edge-p.End) > cfg.WarmUpGap {
				break
			}
			if p.Intensity == pipeline.IntensityLight || p.Intensity == pipeline.IntensityModerate {
				warm += time.Duration(p.End - p.Start)
			}
			edge = p.Start
		}
		if warm < cfg.WarmUp {
			return b, true
		}
	}
	return PastBout{}, false
}

// longHard returns the first vigorous bout of the recording longer than
// LongHardBout.
func longHard(cfg Config, bouts []PastBout) (PastBout, bool) {
	for _, b := range bouts {
		if b.Intensity == pipeline.IntensityVigorous && time.Duration(b.End-b.Start) > cfg.LongHardBout {
			return b, true
		}
	}
	return PastBout{}, false
}

// adviseFor lists the advice that follows from f: the item for the status
// (medical items for persistent* only), then the data-driven items, then
// the article's prevention basics when twitching was seen (each basic left
// out when a data-driven item covers it).
func adviseFor(cfg Config, f facts) []Advice {
	var out []Advice
	switch f.status {
	case StatusPersistentWithSymptoms:
		out = append(out, advice(AdviceMedicalAssistance, "status persistent_with_symptoms"))
	case StatusPersistent:
		out = append(out, advice(AdviceMedicalOpinion, "status persistent"))
	case StatusPostExercise:
		out = append(out, advice(AdviceKeepWatching, "twitching at rest after exercise, not yet seen to stop once activity resumed"))
	case StatusAtRest:
		out = append(out, advice(AdviceWatchRecurrence, "twitching at rest with no exercise or other activity recorded before it"))
	case StatusCeased:
		out = append(out, advice(AdviceGoodSign, "the twitch rate fell once activity resumed"))
	}
	covered := map[string]bool{}
	if b, ok := noWarmUp(cfg, f.session); ok {
		out = append(out, advice(AdviceWarmUp, fmt.Sprintf("vigorous bout at %s without %s of light or moderate activity before it",
			clock(cfg, b.Start), cfg.WarmUp)))
		covered[AdviceStretch] = true
	}
	if r, ok := acwr(cfg, f.all, f.now); ok && r > cfg.ACWRLimit {
		out = append(out, advice(AdviceLoadJump, fmt.Sprintf("acute:chronic workload ratio %.2f is above %.2f", r, cfg.ACWRLimit)))
		covered[AdviceGradual] = true
	}
	if n := streak(cfg, f.all, f.now); n >= cfg.TrainingStreak {
		out = append(out, advice(AdviceDaysOff, fmt.Sprintf("%d training days in a row", n)))
		covered[AdviceRestDays] = true
	}
	if b, ok := longHard(cfg, f.session); ok {
		out = append(out, advice(AdviceElectrolytes, fmt.Sprintf("vigorous bout of %.0f min at %s",
			time.Duration(b.End-b.Start).Minutes(), clock(cfg, b.Start))))
		covered[AdviceHydrate] = true
	} else if f.twitching && f.cramps > 0 {
		out = append(out, advice(AdviceElectrolytes, "twitching together with cramps"))
		covered[AdviceHydrate] = true
	}
	if !f.twitching {
		return out
	}
	for _, id := range []string{AdviceHydrate, AdviceStretch, AdviceGradual, AdviceRestDays, AdviceRelax} {
		if !covered[id] {
			out = append(out, advice(id, "general advice when twitching is seen"))
		}
	}
	return out
}

// clock formats t as a short local time for reasons and advice.
func clock(cfg Config, t pipeline.Timestamp) string {
	return t.Time().In(cfg.loc()).Format("2006-01-02 15:04")
}

// median returns the median of v (v is reordered); NaN when empty.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
