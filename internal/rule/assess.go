package rule

import (
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Measure names in Assessment.Measures.
const (
	MeasureTwitches       = "twitches"              // twitches at rest, each counted once across sensors
	MeasureActiveTwitches = "activity_twitches"     // twitches during activity
	MeasureEpisodes       = "episodes"              // episodes in this recording
	MeasureDays           = "days_with_episodes"    // days with an episode that did not cease, within EpisodeLookback
	MeasureBouts          = "bouts"                 // exercise bouts in this recording
	MeasureCramps         = "cramps"                // detected cramps, this recording and SymptomLookback
	MeasureSymptoms       = "symptoms"              // logged raising symptoms within SymptomLookback
	MeasureHoursSinceBout = "hours_since_last_bout" // from the last bout's end to the assessment
	MeasureRateBefore     = "rate_before_per_min"   // twitches per minute of rest before resuming
	MeasureRateAfter      = "rate_after_per_min"    // twitches per minute of rest after the resumed activity
	MeasureRestBefore     = "rest_before_min"       // rest minutes the rate before is measured over
	MeasureRestAfter      = "rest_after_min"        // rest minutes the rate after is measured over
	MeasureResumedMin     = "resumed_min"           // duration of the resumed activity
	MeasureBriefResumes   = "brief_resumes"         // bouts too short to count as resumed
	MeasureStrengthRatio  = "strength_ratio"        // lowest strength proxy ratio to the baseline
	MeasureACWR           = "acwr"                  // acute:chronic workload ratio
	MeasureTrainingStreak = "training_streak_days"  // consecutive days with a moderate or vigorous bout
	MeasureHistoryOK      = "history_ok"            // 1 when the history was read, 0 when it failed
)

// assessment builds the current verdict of tr.
func (tr *track) assessment() *pipeline.Assessment {
	now := tr.observed
	m := map[string]float64{
		MeasureTwitches:       float64(tr.twitches),
		MeasureActiveTwitches: float64(tr.active),
		MeasureEpisodes:       float64(tr.episodes),
		MeasureDays:           float64(tr.episodeDays(now)),
		MeasureBouts:          float64(len(tr.bouts)),
		MeasureCramps:         float64(tr.crampCount()),
		MeasureSymptoms:       float64(tr.symptomCount()),
		MeasureHistoryOK:      1,
	}
	if tr.histErr != nil {
		m[MeasureHistoryOK] = 0
	}
	if lb, ok := tr.lastBoutEnd(now); ok {
		m[MeasureHoursSinceBout] = time.Duration(now - lb).Hours()
	}
	if tr.resume != nil {
		m[MeasureRateBefore] = tr.rateBef
		m[MeasureRestBefore] = tr.restBef
		m[MeasureResumedMin] = time.Duration(tr.resume.End - tr.resume.Start).Minutes()
		if tr.decided {
			m[MeasureRateAfter] = tr.rateAft
			m[MeasureRestAfter] = tr.restAft
		}
	}
	if tr.brief > 0 {
		m[MeasureBriefResumes] = float64(tr.brief)
	}
	if r, ok := tr.strengthRatio(); ok {
		m[MeasureStrengthRatio] = r
	}
	all := tr.allBouts()
	if r, ok := acwr(*tr.cfg, all, now); ok {
		m[MeasureACWR] = r
	}
	m[MeasureTrainingStreak] = float64(streak(*tr.cfg, all, now))

	adv := adviseFor(*tr.cfg, facts{
		status: tr.status, twitching: tr.twitches > 0, cramps: tr.crampCount(),
		now: now, session: tr.bouts, all: all,
	})
	texts := make([]string, len(adv))
	for i, a := range adv {
		texts[i] = a.String()
	}
	reason := tr.reason
	if tr.histErr != nil {
		reason += " (history unavailable: assessed on this recording alone)"
	}
	return &pipeline.Assessment{
		Time: now, Tags: tr.tags, Status: string(tr.status), Reason: reason,
		Advice: texts, Notice: Notice, Measures: m,
	}
}

// symptomCount counts logged raising symptoms within SymptomLookback.
func (tr *track) symptomCount() int { return len(tr.loggedSymptoms()) }

// loggedSymptoms returns the raising symptoms logged within
// SymptomLookback before the state's time, and every one handed to this
// stream (a report may add symptoms logged after the recording).
func (tr *track) loggedSymptoms() []pipeline.Symptom {
	from := tr.observed - dur(tr.cfg.SymptomLookback)
	var out []pipeline.Symptom
	for _, s := range tr.past.Symptoms {
		if s.Time >= from && s.Time <= tr.observed && tr.raising(s.Symptom) {
			out = append(out, s)
		}
	}
	for _, s := range tr.symptoms {
		if s.Time >= from && tr.raising(s.Symptom) {
			out = append(out, s)
		}
	}
	return out
}

// allBouts returns the history's bouts followed by this recording's.
func (tr *track) allBouts() []PastBout {
	out := make([]PastBout, 0, len(tr.past.Bouts)+len(tr.bouts))
	out = append(out, tr.past.Bouts...)
	return append(out, tr.bouts...)
}
