package rule

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// span is a closed time interval.
type span struct{ start, end pipeline.Timestamp }

// seenTwitch is a counted twitch, kept briefly to merge the same twitch
// seen by another sensor or channel.
type seenTwitch struct {
	span
	sensor, channel string
}

const dedupRing = 8

// track is the rule's state for one subject and site within a stream.
type track struct {
	cfg     *Config
	tags    pipeline.Tags
	past    Past
	histErr error
	first   pipeline.Timestamp // first event time
	// observed is the latest time up to which the state is known: ends of
	// bouts, rests, cramps and rest twitches (not activity twitches, which
	// may fall in a bout not yet reported).
	observed pipeline.Timestamp

	bouts    []PastBout // this recording's bouts, in time order
	rests    []span     // this recording's reported rest periods
	cramps   []pipeline.Timestamp
	symptoms []pipeline.Symptom

	ring     [dedupRing]seenTwitch
	ringN    int
	restTw   []pipeline.Timestamp // recent counted rest twitches (pruned)
	lastTw   pipeline.Timestamp
	twitches int // counted twitches at rest (both rest and post_exercise phases)
	active   int // counted twitches during activity

	inEpisode    bool
	episodes     int
	episodeTimes []pipeline.Timestamp

	status Status
	reason string

	// The current cycle: an episode after exercise, until it ceases.
	cycleFirst pipeline.Timestamp // first twitch of the episode that began it
	brief      int                // bouts shorter than MinResume since it began
	resume     *PastBout          // the activity that counts as resumed
	countBef   int
	restBef    float64 // minutes of rest in the window before resuming
	rateBef    float64
	countAft   int
	restAft    float64
	rateAft    float64
	decided    bool
	measured   bool // the rate after covers the whole window (or all there was)
	// base is the reason of a persistent status before the symptoms that
	// raise it are added.
	base string
	// rateVerdict says base came from comparing the rates, so it is
	// rebuilt when the rate after is refined.
	rateVerdict bool
}

func newTrack(cfg *Config, tags pipeline.Tags, t pipeline.Timestamp) *track {
	return &track{cfg: cfg, tags: tags, first: t, observed: t, status: StatusNone,
		reason: "no twitch episode"}
}

func (tr *track) see(t pipeline.Timestamp) {
	if t > tr.observed {
		tr.observed = t
	}
}

// duplicate reports whether the twitch overlaps (within SameTwitch) a
// counted twitch from another sensor or channel, and otherwise remembers it.
func (tr *track) duplicate(v *pipeline.Twitch) bool {
	tol := dur(tr.cfg.SameTwitch)
	end := max(v.End, v.Start)
	for i := 0; i < min(tr.ringN, dedupRing); i++ {
		s := tr.ring[i]
		if (s.sensor != v.Sensor || s.channel != v.Channel) && v.Start <= s.end+tol && end+tol >= s.start {
			return true
		}
	}
	tr.ring[tr.ringN%dedupRing] = seenTwitch{span{v.Start, end}, v.Sensor, v.Channel}
	tr.ringN++
	return false
}

func (tr *track) onTwitch(v *pipeline.Twitch) {
	if tr.duplicate(v) {
		return
	}
	if v.Phase == pipeline.PhaseActivity {
		tr.active++
		return
	}
	t := v.Start
	tr.see(max(v.End, t))
	tr.twitches++
	if tr.inEpisode && t-tr.lastTw > dur(tr.cfg.EpisodeWindow) {
		tr.inEpisode = false
	}
	tr.lastTw = t
	tr.restTw = append(tr.restTw, t)
	keep := dur(max(tr.cfg.RateWindow, tr.cfg.EpisodeWindow))
	i := 0
	for i < len(tr.restTw) && tr.restTw[i] < t-keep {
		i++
	}
	tr.restTw = append(tr.restTw[:0], tr.restTw[i:]...)
	if tr.resume != nil && !tr.measured && t >= tr.resume.End && t < tr.resume.End+dur(tr.cfg.RateWindow) {
		tr.countAft++
	}
	n := tr.countSince(t - dur(tr.cfg.EpisodeWindow))
	if n >= tr.cfg.EpisodeTwitches && !tr.inEpisode {
		tr.inEpisode = true
		tr.episodes++
		tr.episodeTimes = append(tr.episodeTimes, t)
		tr.onEpisode(tr.restTw[len(tr.restTw)-n], t)
	}
	if tr.inEpisode && tr.status == StatusPostExercise {
		if lb, ok := tr.lastBoutEnd(t); ok && time.Duration(t-lb) > tr.cfg.PersistAfter {
			tr.set(StatusPersistent, fmt.Sprintf("twitching at rest continued %s after the last exercise bout (limit %s)",
				hours(t-lb), tr.cfg.PersistAfter))
		}
	}
	tr.evaluate()
}

// countSince counts kept rest twitches after from.
func (tr *track) countSince(from pipeline.Timestamp) int {
	n := 0
	for j := len(tr.restTw) - 1; j >= 0 && tr.restTw[j] > from; j-- {
		n++
	}
	return n
}

// onEpisode starts a cycle when an episode begins with no cycle open.
func (tr *track) onEpisode(first, t pipeline.Timestamp) {
	switch tr.status {
	case StatusNone, StatusCeased:
		tr.cycleFirst, tr.brief, tr.resume, tr.decided = first, 0, nil, false
		tr.countAft, tr.restAft, tr.rateAft, tr.measured = 0, 0, 0, false
		lb, ok := tr.lastBoutEnd(first)
		switch {
		case !ok:
			tr.set(StatusPersistent, fmt.Sprintf("twitching at rest (%d twitches within %s) with no exercise bout in the %s before it",
				tr.cfg.EpisodeTwitches, tr.cfg.EpisodeWindow, tr.cfg.PersistAfter))
		case time.Duration(first-lb) > tr.cfg.PersistAfter:
			tr.set(StatusPersistent, fmt.Sprintf("twitching at rest %s after the last exercise bout (limit %s)",
				hours(first-lb), tr.cfg.PersistAfter))
		default:
			tr.set(StatusPostExercise, fmt.Sprintf("twitching at rest %s after exercise; activity has not resumed yet",
				minutes(first-lb)))
		}
	}
	tr.checkDays(t)
}

// lastBoutEnd returns the end of the latest bout, in this recording or the
// history, that ended at or before t.
func (tr *track) lastBoutEnd(t pipeline.Timestamp) (pipeline.Timestamp, bool) {
	var lb pipeline.Timestamp
	ok := false
	for _, bs := range [][]PastBout{tr.past.Bouts, tr.bouts} {
		for _, b := range bs {
			if b.End <= t && (!ok || b.End > lb) {
				lb, ok = b.End, true
			}
		}
	}
	return lb, ok
}

func (tr *track) onBout(v *pipeline.Bout) {
	b := PastBout{Start: v.Start, End: max(v.End, v.Start), Session: v.Session, Intensity: v.Intensity,
		PeakRMS: v.PeakRMS, PeakAcc: v.PeakAcc}
	tr.bouts = append(tr.bouts, b)
	tr.see(b.End)
	if tr.status == StatusPostExercise && tr.resume == nil && b.Start >= tr.cycleFirst {
		if time.Duration(b.End-b.Start) < tr.cfg.MinResume {
			tr.brief++
			tr.reason = fmt.Sprintf("twitching at rest after exercise; activity resumed only briefly (%s, less than %s)",
				minutes(b.End-b.Start), tr.cfg.MinResume)
		} else {
			tr.resume = &tr.bouts[len(tr.bouts)-1]
			from := b.Start - dur(tr.cfg.RateWindow)
			tr.countBef = 0
			for _, t := range tr.restTw {
				if t >= from && t < b.Start {
					tr.countBef++
				}
			}
			tr.restBef = tr.restMinutes(from, b.Start)
			tr.rateBef = rate(tr.countBef, tr.restBef)
			tr.reason = fmt.Sprintf("activity resumed for %s; watching the rest after it", minutes(b.End-b.Start))
		}
	}
	tr.evaluate()
}

func (tr *track) onRest(v *pipeline.Rest) {
	tr.rests = append(tr.rests, span{v.Start, max(v.End, v.Start)})
	tr.see(max(v.End, v.Start))
	tr.evaluate()
}

func (tr *track) onCramp(v *pipeline.Cramp) {
	tr.cramps = append(tr.cramps, v.Start)
	tr.see(max(v.End, v.Start))
	tr.evaluate()
}

func (tr *track) onSymptom(v *pipeline.Symptom) {
	tr.symptoms = append(tr.symptoms, *v)
	tr.evaluate()
}

// evaluate judges a resumed activity once the window after it has been
// observed (or already holds too many twitches), then raises persistent
// when symptoms go with it.
func (tr *track) evaluate() {
	if tr.resume != nil && !tr.measured {
		end := tr.resume.End + dur(tr.cfg.RateWindow)
		allowed := tr.cfg.CeasedFraction * tr.refRate() * tr.cfg.RateWindow.Minutes()
		switch {
		case tr.decided && tr.observed >= end:
			tr.measureAfter() // refine the rate of an early verdict
		case tr.decided:
		case tr.status == StatusPostExercise && (tr.observed >= end || float64(tr.countAft) > allowed):
			tr.decide()
		}
	}
	tr.raise()
}

// measureAfter computes the rate after the resumed activity over the rest
// observed in its window so far.
func (tr *track) measureAfter() {
	end := tr.resume.End + dur(tr.cfg.RateWindow)
	tr.restAft = tr.restMinutes(tr.resume.End, end)
	tr.rateAft = rate(tr.countAft, tr.restAft)
	tr.measured = tr.observed >= end
	if tr.rateVerdict {
		tr.base = tr.rateReason()
		tr.reason = tr.base
		tr.raise()
	}
}

// decide compares the twitch rates before and after the resumed activity.
func (tr *track) decide() {
	tr.measureAfter()
	if tr.restAft <= 0 {
		return
	}
	tr.decided = true
	if tr.rateAft <= tr.cfg.CeasedFraction*tr.refRate() {
		tr.set(StatusCeased, "")
	} else {
		tr.set(StatusPersistent, "")
	}
	tr.rateVerdict = true
	tr.base = tr.rateReason()
	tr.reason = tr.base
	tr.raise()
}

// rateReason explains the verdict of comparing the rates.
func (tr *track) rateReason() string {
	limit := tr.cfg.CeasedFraction * tr.refRate()
	if tr.status == StatusCeased {
		return fmt.Sprintf("twitching ceased once activity resumed: %.2f/min at rest after it vs %.2f/min before (ceased at or below %.2f/min)",
			tr.rateAft, tr.rateBef, limit)
	}
	return fmt.Sprintf("twitching went on after activity resumed: %.2f/min at rest after it vs %.2f/min before (ceased needs at most %.2f/min)",
		tr.rateAft, tr.rateBef, limit)
}

// refRate is the rate before resuming that the rate after is compared
// with: the measured one, but at least the episode rate (EpisodeTwitches
// per EpisodeWindow), since an episode was seen. So when twitching had
// already faded before the person resumed, a stray twitch or two after it
// does not count as persisting.
func (tr *track) refRate() float64 {
	return max(tr.rateBef, float64(tr.cfg.EpisodeTwitches)/tr.cfg.EpisodeWindow.Minutes())
}

// checkDays makes the status persistent when episodes recur on
// EpisodeDays distinct days within EpisodeLookback.
func (tr *track) checkDays(now pipeline.Timestamp) {
	if tr.status != StatusPostExercise && tr.status != StatusCeased {
		return
	}
	if n := tr.episodeDays(now); n >= tr.cfg.EpisodeDays {
		tr.set(StatusPersistent, fmt.Sprintf("twitching episodes that did not cease on %d days within %s (limit %d)",
			n, days(tr.cfg.EpisodeLookback), tr.cfg.EpisodeDays))
	}
}

// episodeDays counts calendar days within EpisodeLookback before now with
// an episode that did not cease.
func (tr *track) episodeDays(now pipeline.Timestamp) int {
	from := now - dur(tr.cfg.EpisodeLookback)
	ceased := map[civilDay]bool{}
	for _, t := range tr.past.Ceased {
		ceased[tr.cfg.day(t)] = true
	}
	set := map[civilDay]bool{}
	for _, t := range tr.past.Episodes {
		if t > from && t <= now && !ceased[tr.cfg.day(t)] {
			set[tr.cfg.day(t)] = true
		}
	}
	if tr.status != StatusCeased {
		for _, t := range tr.episodeTimes {
			set[tr.cfg.day(t)] = true
		}
	}
	return len(set)
}

// raise turns persistent into persistent_with_symptoms when symptoms,
// cramps or a weakness trend go with it, and keeps the list of them in
// the reason up to date.
func (tr *track) raise() {
	if tr.status != StatusPersistent && tr.status != StatusPersistentWithSymptoms {
		return
	}
	if why := tr.symptomReasons(); len(why) > 0 {
		tr.status, tr.reason = StatusPersistentWithSymptoms, tr.base+"; together with "+strings.Join(why, ", ")
	}
}

// symptomReasons lists what accompanies the twitching within SymptomLookback.
func (tr *track) symptomReasons() []string {
	var why []string
	logged := map[string]int{}
	for _, s := range tr.loggedSymptoms() {
		logged[s.Symptom]++
	}
	for _, name := range tr.cfg.RaisingSymptoms {
		if logged[name] > 0 {
			why = append(why, "logged "+name)
		}
	}
	if n := tr.crampCount(); n > 0 {
		why = append(why, fmt.Sprintf("%d detected cramp(s)", n))
	}
	if r, ok := tr.strengthRatio(); ok && r < tr.cfg.StrengthFraction {
		why = append(why, fmt.Sprintf("a weakness trend (strength proxy at %.0f%% of baseline, limit %.0f%%)",
			100*r, 100*tr.cfg.StrengthFraction))
	}
	return why
}

func (tr *track) raising(s string) bool {
	for _, r := range tr.cfg.RaisingSymptoms {
		if r == s {
			return true
		}
	}
	return false
}

// crampCount counts detected cramps in this recording and within
// SymptomLookback before it.
func (tr *track) crampCount() int {
	from := tr.observed - dur(tr.cfg.SymptomLookback)
	n := len(tr.cramps)
	for _, t := range tr.past.Cramps {
		if t >= from {
			n++
		}
	}
	return n
}

// strengthRatio is the lowest ratio, over both proxies and every intensity
// with a baseline, of this recording's median proxy to the median of the
// comparable bouts within StrengthLookback.
func (tr *track) strengthRatio() (float64, bool) {
	from := tr.first - dur(tr.cfg.StrengthLookback)
	best, ok := math.Inf(1), false
	proxies := []func(PastBout) float64{
		func(b PastBout) float64 { return b.PeakRMS },
		func(b PastBout) float64 { return b.PeakAcc },
	}
	for _, proxy := range proxies {
		for _, in := range []string{pipeline.IntensityLight, pipeline.IntensityModerate, pipeline.IntensityVigorous} {
			var cur, base []float64
			for _, b := range tr.bouts {
				if b.Intensity == in && proxy(b) > 0 {
					cur = append(cur, proxy(b))
				}
			}
			for _, b := range tr.past.Bouts {
				if b.Intensity == in && proxy(b) > 0 && b.Start >= from {
					base = append(base, proxy(b))
				}
			}
			if len(cur) == 0 || len(base) < tr.cfg.MinBaselineBouts {
				continue
			}
			if r := median(cur) / median(base); r < best {
				best, ok = r, true
			}
		}
	}
	return best, ok
}

// end settles the cycle with what the recording holds.
func (tr *track) end(last pipeline.Timestamp) {
	tr.see(last)
	if tr.decided && !tr.measured {
		tr.measureAfter()
		tr.measured = true
	}
	if tr.status == StatusPostExercise {
		switch {
		case tr.resume != nil && !tr.decided:
			rest := tr.restMinutes(tr.resume.End, tr.resume.End+dur(tr.cfg.RateWindow))
			if rest >= tr.cfg.MinRestAfter.Minutes() {
				tr.decide()
			} else {
				tr.reason = fmt.Sprintf("activity resumed, but the recording ended after %.1f min of rest after it (%s needed to judge)",
					rest, tr.cfg.MinRestAfter)
			}
		case tr.resume == nil && tr.brief == 0:
			tr.reason = "twitching at rest after exercise; the recording ended before activity resumed"
		}
	}
	tr.checkDays(last)
	tr.raise()
}

// restMinutes is the rest observed in [a, b): the reported rest periods,
// and after the last of them (or everywhere when none was reported) the
// time outside bouts up to what has been observed. Gaps between reported
// rest periods are not rest, so missing data does not dilute a rate.
func (tr *track) restMinutes(a, b pipeline.Timestamp) float64 {
	b = min(b, tr.observed)
	if b <= a {
		return 0
	}
	var total pipeline.Timestamp
	tail := a
	for _, r := range tr.rests {
		total += overlap(r.start, r.end, a, b)
		tail = max(tail, r.end)
	}
	if tail < b {
		open := b - tail
		for _, bt := range tr.bouts {
			open -= overlap(bt.Start, bt.End, tail, b)
		}
		total += open
	}
	return time.Duration(total).Minutes()
}

func overlap(s, e, a, b pipeline.Timestamp) pipeline.Timestamp {
	lo, hi := max(s, a), min(e, b)
	if hi <= lo {
		return 0
	}
	return hi - lo
}

func rate(n int, restMin float64) float64 {
	if restMin <= 0 {
		return 0
	}
	return float64(n) / restMin
}

func (tr *track) set(s Status, reason string) {
	tr.status, tr.reason, tr.base, tr.rateVerdict = s, reason, reason, false
	tr.raise()
}

func minutes(d pipeline.Timestamp) string {
	return fmt.Sprintf("%.1f min", time.Duration(d).Minutes())
}

func hours(d pipeline.Timestamp) string {
	return fmt.Sprintf("%.1f h", time.Duration(d).Hours())
}

func days(d time.Duration) string {
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}
