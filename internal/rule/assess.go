package rule

import (
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Measure names in Assessment.Measures.
const (
	MeasureTwitches       = "twitches"              // twitches at rest, each counted once across sensors
	MeasureActiveTwitches = "activity_twitches"     // twitches during activity (phase activity, or inside a bout)
	MeasureEpisodes       = "episodes"              // episodes in this recording
	MeasureDays           = "days_with_episodes"    // days with an episode that did not cease, within EpisodeLookback
	MeasureBouts          = "bouts"                 // activity bouts (any intensity) in this recording
	MeasureCramps         = "cramps"                // detected cramps, this recording and SymptomLookback
	MeasureSymptoms       = "symptoms"              // logged raising symptoms within SymptomLookback
	MeasureHoursSinceBout = "hours_since_last_bout" // from the last activity's end (any site) to the assessment
	MeasureSpellTwitches  = "spell_twitches"        // twitches at rest in the current spell, this recording
	MeasureSpellMinutes   = "spell_minutes"         // from the spell's first to its latest twitch, this recording
	MeasureSpellRate      = "spell_rate_per_min"    // (spell_twitches - 1) per minute of the spell outside bouts (at least 1)
	MeasureSpellStart     = "spell_start_unix_s"    // the spell's first twitch, Unix seconds (maybe an earlier recording)
	MeasureActivityBefore = "hours_activity_before" // from the end of the last activity to the spell's first twitch
	MeasureHoursTwitching = "hours_twitching"       // what the time criterion compares with PersistAfter
	MeasureRateBefore     = "rate_before_per_min"   // twitches per minute of rest before resuming
	MeasureRateAfter      = "rate_after_per_min"    // twitches per minute of rest after the resumed activity
	MeasureRestBefore     = "rest_before_min"       // rest minutes the rate before is measured over
	MeasureRestAfter      = "rest_after_min"        // rest minutes the rate after is measured over
	MeasureTwitchesAfter  = "twitches_after"        // twitches at rest in the window after the resumed activity
	MeasureEpisodeAfter   = "episode_after"         // 1 when an episode followed the resumed activity in the window
	MeasureResumedMin     = "resumed_min"           // bout minutes of the resumed activity
	MeasureBriefResumes   = "brief_resumes"         // bouts too short to count as resumed
	MeasureStrengthRatio  = "strength_ratio"        // lowest strength proxy ratio to the baseline
	MeasureACWR           = "acwr"                  // acute:chronic workload ratio
	MeasureTrainingStreak = "training_streak_days"  // consecutive days with a moderate or vigorous bout
	MeasureHistoryOK      = "history_ok"            // 1 when the history was read, 0 when it failed
)

// assessment builds the current verdict of tr.
func (tr *track) assessment() *pipeline.Assessment {
	now := tr.now
	m := map[string]float64{
		MeasureTwitches:       float64(tr.twitches),
		MeasureActiveTwitches: float64(tr.active),
		MeasureEpisodes:       float64(tr.episodes),
		MeasureDays:           float64(len(tr.episodeDays(now))),
		MeasureBouts:          float64(len(tr.bouts)),
		MeasureCramps:         float64(tr.crampCount()),
		MeasureSymptoms:       float64(tr.symptomCount()),
		MeasureHistoryOK:      1,
	}
	if tr.histErr != nil {
		m[MeasureHistoryOK] = 0
	}
	if lb, ok := tr.lastActEnd(now); ok {
		m[MeasureHoursSinceBout] = time.Duration(now - lb).Hours()
	}
	if sp := &tr.sp; tr.spells > 0 {
		m[MeasureSpellTwitches] = float64(sp.twitches)
		m[MeasureSpellMinutes] = time.Duration(sp.lastTw - sp.firstHere).Minutes()
		m[MeasureSpellRate] = tr.spellRate()
		m[MeasureSpellStart] = float64(sp.first) / 1e9
		if sp.hasAct {
			m[MeasureActivityBefore] = time.Duration(sp.first - sp.act).Hours()
		}
		if sp.open {
			ref, _ := tr.continuedRef(sp.lastEp)
			m[MeasureHoursTwitching] = time.Duration(max(sp.lastEp-ref, 0)).Hours()
		}
		if r := &sp.res; r.on {
			m[MeasureRateBefore] = r.rateBef
			m[MeasureRestBefore] = r.restBef
			m[MeasureResumedMin] = r.minutes
			if r.decided || r.outcome == outEnded {
				m[MeasureRateAfter] = r.rateAft
				m[MeasureRestAfter] = r.restAft
				m[MeasureTwitchesAfter] = float64(r.countAft)
				m[MeasureEpisodeAfter] = 0
				if r.epAfter {
					m[MeasureEpisodeAfter] = 1
				}
			}
		}
		if sp.brief > 0 {
			m[MeasureBriefResumes] = float64(sp.brief)
		}
	}
	if tr.weakOK {
		m[MeasureStrengthRatio] = tr.weak
	}
	all := tr.siteBouts()
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
	return &pipeline.Assessment{
		Time: now, Tags: tr.tags, Status: string(tr.status), Reason: tr.reasonText(),
		Advice: texts, Notice: Notice, Measures: m,
	}
}

// symptomCount counts logged raising symptoms within SymptomLookback.
func (tr *track) symptomCount() int {
	n := 0
	tr.eachLogged(func(pipeline.Symptom) { n++ })
	return n
}

// eachLogged calls fn for every raising symptom logged within
// SymptomLookback before the state's time, and every one handed to this
// stream (a report may add symptoms logged after the recording).
func (tr *track) eachLogged(fn func(pipeline.Symptom)) {
	from := tr.now - dur(tr.cfg.SymptomLookback)
	for _, s := range tr.past.Symptoms {
		if s.Time >= from && s.Time <= tr.now && tr.raising(s.Symptom) {
			fn(s)
		}
	}
	for _, s := range tr.symptoms {
		if s.Time >= from && tr.raising(s.Symptom) {
			fn(s)
		}
	}
}
