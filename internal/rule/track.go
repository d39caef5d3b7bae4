package rule

import (
	"math"
	"sort"
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

// outcome is what came of a resumed activity.
type outcome uint8

const (
	outPending outcome = iota // the window after it is still open
	outEnded                  // the recording ended with too little rest after it
	outShort                  // the window passed with too little rest in it
	outCeased                 // the rate fell to CeasedFraction of the reference or below
	outPersist                // an episode followed and the rate stayed above the limit
	outThin                   // the rate stayed above the limit, but no episode followed
	outWentOn                 // at_rest: twitching went on (no verdict of its own)
)

// resume is a resumed activity of the current spell and the twitching
// around it.
type resume struct {
	on         bool
	outcome    outcome
	decided    bool // outcome final (or persistent early, to be refined)
	refined    bool // the rate after covers the whole window, or all there was
	start, end pipeline.Timestamp
	minutes    float64 // bout minutes (the bouts of an extended resume)
	countBef   int
	restBef    float64 // minutes of rest in the RateWindow before it
	rateBef    float64
	countAft   int
	restAft    float64 // minutes of rest in the RateWindow after it
	rateAft    float64
	epAfter    bool // an episode at rest within the window after it
	epFirst    pipeline.Timestamp
	epLast     pipeline.Timestamp
}

// spell is a run of episodes at rest less than EpisodeGap apart: one
// stretch of twitching, which the statuses post_exercise and at_rest
// describe and the time criterion measures.
type spell struct {
	open      bool
	kind      Status             // StatusPostExercise or StatusAtRest
	first     pipeline.Timestamp // first twitch; in an earlier recording when it began there
	firstHere pipeline.Timestamp // first twitch of its first episode in this recording
	lastEp    pipeline.Timestamp // latest twitch while in an episode
	lastTw    pipeline.Timestamp // latest twitch at rest
	twitches  int                // counted twitches at rest in it, this recording
	act       pipeline.Timestamp // end of the last activity before first
	hasAct    bool
	brief     int // bouts shorter than MinResume since it began
	briefMax  pipeline.Timestamp
	days      map[civilDay]bool // days of its episodes
	res       resume
}

// spellRate is the spell's twitch rate in this recording: the intervals
// between its first and latest twitch per minute outside bouts (at least
// a minute), so evenly spaced twitches give their rate exactly.
func (tr *track) spellRate() float64 {
	sp := &tr.sp
	span := sp.lastTw - sp.firstHere
	for _, b := range tr.bouts {
		span -= overlap(b.Start, b.End, sp.firstHere, sp.lastTw)
	}
	return float64(max(sp.twitches-1, 0)) / max(time.Duration(span).Minutes(), 1)
}

// track is the rule's state for one subject and site within a stream.
type track struct {
	cfg     *Config
	tags    pipeline.Tags
	past    Past
	histErr error
	first   pipeline.Timestamp // first event time
	now     pipeline.Timestamp // the stream is settled up to here
	ended   bool

	// From the history, prepared once.
	pastMaxEnd pipeline.Timestamp // latest end of a past bout (any site)
	hasPast    bool
	ceased     map[string]bool // sessions whose last assessment was ceased

	bouts      []PastBout // this recording's bouts, in start order
	maxBoutEnd pipeline.Timestamp
	hasBout    bool
	rests      []span // recent reported rest periods
	restSeen   bool   // the detectors report rest periods
	cramps     []pipeline.Timestamp
	symptoms   []pipeline.Symptom
	weak       float64 // strength ratio, when weakOK
	weakOK     bool

	ring      [dedupRing]seenTwitch
	ringN     int
	restTw    []pipeline.Timestamp // recent counted rest twitches, in order
	lastRest  pipeline.Timestamp   // latest counted rest twitch
	twitches  int                  // counted twitches at rest
	active    int                  // counted twitches during activity
	inEpisode bool
	episodes  int

	today          civilDay // markDay's cache: the day of [dayFrom, dayTo)
	dayFrom, dayTo pipeline.Timestamp

	spells int
	sp     spell
	prev   span              // the previous spell of this recording, when spells > 1
	days   map[civilDay]bool // days of earlier spells of this recording that did not cease

	// under is the status before symptoms raise it; status is what is
	// reported. Once persistent*, neither falls.
	under  Status
	status Status
	byText string // the reason of a persistent status reached by time or days
	byRes  bool   // persistent came from the resumed activity (reason from sp.res)
}

func newTrack(cfg *Config, tags pipeline.Tags, t pipeline.Timestamp, past Past, err error) *track {
	tr := &track{cfg: cfg, tags: tags, first: t, now: t, past: past, histErr: err,
		under: StatusNone, status: StatusNone}
	for _, b := range past.Bouts {
		if !tr.hasPast || b.End > tr.pastMaxEnd {
			tr.pastMaxEnd, tr.hasPast = b.End, true
		}
	}
	for _, f := range past.Finals {
		if f.Status == StatusCeased {
			if tr.ceased == nil {
				tr.ceased = map[string]bool{}
			}
			tr.ceased[f.Session] = true
		} else if tr.ceased[f.Session] {
			delete(tr.ceased, f.Session) // a later final of the same session
		}
	}
	return tr
}

func (tr *track) see(t pipeline.Timestamp) { tr.now = max(tr.now, t) }

// handle takes one event, in time order.
func (tr *track) handle(ev pipeline.Event) {
	if ev.EventType() != pipeline.TypeSymptom {
		tr.see(ev.At())
	}
	switch v := ev.(type) {
	case *pipeline.Twitch:
		tr.onTwitch(v)
	case *pipeline.Bout:
		tr.onBout(v)
	case *pipeline.Rest:
		tr.onRest(v)
	case *pipeline.Cramp:
		tr.cramps = append(tr.cramps, v.Start)
		tr.raise()
	case *pipeline.Symptom:
		tr.symptoms = append(tr.symptoms, *v)
		tr.raise()
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

// inBout reports whether t falls in a bout of this recording. Every bout
// processed so far starts at or before t, so t is in one exactly when it
// is not after the latest end.
func (tr *track) inBout(t pipeline.Timestamp) bool { return tr.hasBout && t <= tr.maxBoutEnd }

func (tr *track) onTwitch(v *pipeline.Twitch) {
	if tr.duplicate(v) {
		return
	}
	t := v.Start
	if v.Phase == pipeline.PhaseActivity || tr.inBout(t) {
		tr.active++
		return
	}
	tr.twitches++
	if tr.inEpisode && t-tr.lastRest > dur(tr.cfg.EpisodeWindow) {
		tr.inEpisode = false
	}
	tr.lastRest = max(tr.lastRest, t)
	tr.addRestTwitch(t)
	sp := &tr.sp
	if sp.open && t-sp.lastEp <= dur(tr.cfg.EpisodeGap) {
		sp.twitches++
		sp.lastTw = max(sp.lastTw, t)
	}
	r := &sp.res
	// Counted while the window is open, also after an early verdict, so
	// that the rate after is measured over all of it.
	inWindow := sp.open && r.on && !r.refined && t >= r.end && t < r.end+dur(tr.cfg.RateWindow)
	if inWindow {
		r.countAft++
		if n := tr.countSince(max(t-dur(tr.cfg.EpisodeWindow), r.end-1)); n >= tr.cfg.EpisodeTwitches {
			if !r.epAfter {
				r.epAfter, r.epFirst = true, tr.restTw[len(tr.restTw)-n]
			}
			r.epLast = t
		}
	}
	if n := tr.countSince(t - dur(tr.cfg.EpisodeWindow)); n >= tr.cfg.EpisodeTwitches {
		if !tr.inEpisode {
			tr.inEpisode = true
			tr.episodes++
			tr.onEpisode(tr.restTw[len(tr.restTw)-n], n, t)
		}
		tr.sp.lastEp = max(tr.sp.lastEp, t)
		tr.markDay(t)
		tr.checkContinued(t)
	}
	if inWindow {
		tr.checkEarly()
	}
}

// addRestTwitch keeps the counted rest twitches of the last RateWindow
// (or EpisodeWindow), in time order.
func (tr *track) addRestTwitch(t pipeline.Timestamp) {
	i := len(tr.restTw)
	tr.restTw = append(tr.restTw, t)
	for ; i > 0 && tr.restTw[i-1] > t; i-- {
		tr.restTw[i] = tr.restTw[i-1]
	}
	tr.restTw[i] = t
	keep := dur(max(tr.cfg.RateWindow, tr.cfg.EpisodeWindow))
	latest := tr.restTw[len(tr.restTw)-1]
	j := 0
	for j < len(tr.restTw) && tr.restTw[j] < latest-keep {
		j++
	}
	if j > 0 {
		tr.restTw = append(tr.restTw[:0], tr.restTw[j:]...)
	}
}

// countSince counts kept rest twitches after from.
func (tr *track) countSince(from pipeline.Timestamp) int {
	n := 0
	for j := len(tr.restTw) - 1; j >= 0 && tr.restTw[j] > from; j-- {
		n++
	}
	return n
}

// onEpisode continues the open spell, or starts one when there is none
// (or it ceased) or the last episode was more than EpisodeGap ago. first
// is the episode's first twitch and n its twitches so far.
func (tr *track) onEpisode(first pipeline.Timestamp, n int, t pipeline.Timestamp) {
	if !tr.sp.open || first-tr.sp.lastEp > dur(tr.cfg.EpisodeGap) {
		tr.startSpell(first, n, t)
	}
	tr.markDay(t)
	tr.checkDays(t)
}

// markDay records t's calendar day as a day with an episode of the spell.
// The day's bounds are cached: this runs for every twitch in an episode.
func (tr *track) markDay(t pipeline.Timestamp) {
	if t >= tr.dayFrom && t < tr.dayTo && tr.sp.days[tr.today] {
		return
	}
	tr.today = tr.cfg.day(t)
	lt := t.Time().In(tr.cfg.loc())
	from := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, tr.cfg.loc())
	tr.dayFrom, tr.dayTo = pipeline.Timestamp(from.UnixNano()), pipeline.Timestamp(from.AddDate(0, 0, 1).UnixNano())
	tr.sp.days[tr.today] = true
}

// startSpell begins a spell with an episode whose first twitch is first,
// with n twitches up to t.
// The recording's first spell may reach back into the history, through
// episodes less than EpisodeGap apart of recordings that did not cease.
// It is post_exercise when activity ended within PersistAfter before the
// spell's first twitch, at_rest otherwise.
func (tr *track) startSpell(first pipeline.Timestamp, n int, t pipeline.Timestamp) {
	if tr.sp.open {
		tr.keepDays(tr.sp.days)
	}
	if tr.spells > 0 {
		tr.prev = span{tr.sp.firstHere, tr.sp.lastTw}
	}
	tr.spells++
	sp := spell{open: true, first: first, firstHere: first, lastEp: t, lastTw: t, twitches: n,
		days: map[civilDay]bool{}}
	if tr.spells == 1 {
		sp.first = tr.linkHistory(first)
	}
	sp.act, sp.hasAct = tr.lastActEnd(sp.first)
	sp.kind = StatusAtRest
	if sp.hasAct && time.Duration(sp.first-sp.act) <= tr.cfg.PersistAfter {
		sp.kind = StatusPostExercise
	}
	tr.sp = sp
	tr.setUnder(sp.kind)
}

// keepDays adds the days of a spell that ended without ceasing.
func (tr *track) keepDays(days map[civilDay]bool) {
	if tr.days == nil {
		tr.days = map[civilDay]bool{}
	}
	for d := range days {
		tr.days[d] = true
	}
}

// linkHistory returns the first twitch of the spell that the episode
// starting at first continues from earlier recordings.
func (tr *track) linkHistory(first pipeline.Timestamp) pipeline.Timestamp {
	cur := first
	eps := tr.past.Episodes
	for i := len(eps) - 1; i >= 0; i-- {
		e := eps[i]
		if e.Time >= cur {
			continue
		}
		if time.Duration(cur-e.Time) > tr.cfg.EpisodeGap || tr.ceased[e.Session] {
			break
		}
		cur = e.Time
	}
	return cur
}

// lastActEnd returns the end of the latest activity (a bout of any
// intensity, in this recording or the history at any site) that ended at
// or before t; t itself when a bout was under way at t.
func (tr *track) lastActEnd(t pipeline.Timestamp) (pipeline.Timestamp, bool) {
	var a pipeline.Timestamp
	ok := false
	take := func(b PastBout) bool {
		if b.Start <= t && t < b.End {
			a, ok = t, true
			return true
		}
		if b.End <= t && (!ok || b.End > a) {
			a, ok = b.End, true
		}
		return false
	}
	if tr.hasBout {
		if tr.maxBoutEnd <= t {
			a, ok = tr.maxBoutEnd, true
		} else {
			for _, b := range tr.bouts {
				if take(b) {
					return a, ok
				}
			}
		}
	}
	if tr.hasPast {
		if tr.pastMaxEnd <= t {
			if !ok || tr.pastMaxEnd > a {
				a, ok = tr.pastMaxEnd, true
			}
		} else {
			for _, b := range tr.past.Bouts {
				if take(b) {
					return a, ok
				}
			}
		}
	}
	return a, ok
}

// continuedRef returns the time the time criterion measures the spell
// from at t: the end of the last activity when the spell followed
// activity or activity came during it, else the spell's first twitch.
func (tr *track) continuedRef(t pipeline.Timestamp) (ref pipeline.Timestamp, afterActivity bool) {
	a, ok := tr.lastActEnd(t)
	if ok && time.Duration(tr.sp.first-a) <= tr.cfg.PersistAfter {
		return a, true
	}
	return tr.sp.first, false
}

// checkContinued makes the status persistent when the spell's episodes
// still occur more than PersistAfter after its reference.
func (tr *track) checkContinued(t pipeline.Timestamp) {
	if tr.under == StatusPersistent || !tr.sp.open {
		return
	}
	ref, afterAct := tr.continuedRef(t)
	if time.Duration(t-ref) <= tr.cfg.PersistAfter {
		return
	}
	tr.persist(tr.continuedText(ref, afterAct, t), false)
}

// checkDays makes the status persistent when episodes that did not cease
// fall on EpisodeDays distinct days within EpisodeLookback.
func (tr *track) checkDays(now pipeline.Timestamp) {
	if tr.under != StatusPostExercise && tr.under != StatusAtRest {
		return
	}
	if days := tr.episodeDays(now); len(days) >= tr.cfg.EpisodeDays {
		tr.persist(tr.daysText(days), false)
	}
}

// episodeDays lists, in order, the calendar days within EpisodeLookback
// before now with an episode that did not cease.
func (tr *track) episodeDays(now pipeline.Timestamp) []civilDay {
	from := now - dur(tr.cfg.EpisodeLookback)
	set := map[civilDay]bool{}
	for _, e := range tr.past.Episodes {
		if e.Time > from && e.Time <= now && !tr.ceased[e.Session] {
			set[tr.cfg.day(e.Time)] = true
		}
	}
	for d := range tr.days {
		set[d] = true
	}
	if tr.sp.open {
		for d := range tr.sp.days {
			set[d] = true
		}
	}
	out := make([]civilDay, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].before(out[j]) })
	return out
}

func (tr *track) onBout(v *pipeline.Bout) {
	b := PastBout{Start: v.Start, End: max(v.End, v.Start), Session: v.Session, Site: tr.tags.Site,
		Intensity: v.Intensity, PeakRMS: v.PeakRMS, PeakAcc: v.PeakAcc}
	tr.bouts = append(tr.bouts, b)
	if !tr.hasBout || b.End > tr.maxBoutEnd {
		tr.maxBoutEnd, tr.hasBout = b.End, true
	}
	tr.weak, tr.weakOK = tr.strengthRatio()
	tr.resumed(b)
	tr.raise()
}

// resumed checks whether bout b resumes activity in the open spell.
func (tr *track) resumed(b PastBout) {
	sp := &tr.sp
	if !sp.open || b.Start < sp.firstHere || (tr.under != StatusPostExercise && tr.under != StatusAtRest) {
		return
	}
	d := b.End - b.Start
	r := &sp.res
	switch {
	case time.Duration(d) < tr.cfg.MinResume:
		sp.brief++
		sp.briefMax = max(sp.briefMax, d)
	case r.on && !r.decided:
		// More activity before the rest after the last was judged: judge
		// the rest after all of it.
		r.end = max(r.end, b.End)
		r.minutes += time.Duration(d).Minutes()
		r.countAft, r.epAfter = 0, false
	case !r.on || r.outcome == outShort || r.outcome == outThin || r.outcome == outWentOn:
		from := b.Start - dur(tr.cfg.RateWindow)
		*r = resume{on: true, start: b.Start, end: b.End, minutes: time.Duration(d).Minutes()}
		for _, t := range tr.restTw {
			if t >= from && t < b.Start {
				r.countBef++
			}
		}
		r.restBef = tr.restMinutes(from, b.Start)
		r.rateBef = rate(r.countBef, r.restBef)
	}
}

func (tr *track) onRest(v *pipeline.Rest) {
	cut := tr.now - 2*dur(tr.cfg.RateWindow)
	i := 0
	for i < len(tr.rests) && tr.rests[i].end < cut {
		i++
	}
	if i > 0 {
		tr.rests = append(tr.rests[:0], tr.rests[i:]...)
	}
	tr.rests = append(tr.rests, span{v.Start, max(v.End, v.Start)})
	tr.restSeen = true
}

// windowEnd returns the end of the window after the resumed activity
// while a verdict on it is due (pending, or early and to be refined).
func (tr *track) windowEnd() (pipeline.Timestamp, bool) {
	r := &tr.sp.res
	if !tr.sp.open || !r.on || (r.decided && r.refined) || (r.decided && r.outcome != outPersist) {
		return 0, false
	}
	return r.end + dur(tr.cfg.RateWindow), true
}

// limit is the rate after resuming at or below which twitching ceased.
func (tr *track) limit() float64 { return tr.cfg.CeasedFraction * tr.refRate() }

// refRate is the rate before resuming that the rate after is compared
// with: the measured one, but at least the episode rate (EpisodeTwitches
// per EpisodeWindow), since an episode was seen. So when twitching had
// already faded before the person resumed, a stray twitch or two after it
// does not count as persisting.
func (tr *track) refRate() float64 {
	return max(tr.sp.res.rateBef, float64(tr.cfg.EpisodeTwitches)/tr.cfg.EpisodeWindow.Minutes())
}

// measureAfter computes the rate after the resumed activity over the rest
// observed in its window so far.
func (tr *track) measureAfter() {
	r := &tr.sp.res
	r.restAft = tr.restMinutes(r.end, r.end+dur(tr.cfg.RateWindow))
	r.rateAft = rate(r.countAft, r.restAft)
}

// checkEarly gives the persistent verdict as soon as an episode followed
// the resumed activity and its window already holds more twitches than a
// whole window may hold to count as ceased.
func (tr *track) checkEarly() {
	r := &tr.sp.res
	if r.decided || tr.under != StatusPostExercise || !r.epAfter || float64(r.countAft) <= tr.limit()*tr.cfg.RateWindow.Minutes() {
		return
	}
	tr.measureAfter()
	r.decided, r.outcome = true, outPersist
	tr.persist("", true)
}

// judge settles the resumed activity once its window has passed (atEnd
// false) or the recording ended (atEnd true).
func (tr *track) judge(atEnd bool) {
	r := &tr.sp.res
	tr.measureAfter()
	if r.decided {
		r.refined = true // an early verdict, now measured over the window
		return
	}
	if r.restAft < tr.cfg.MinRestAfter.Minutes() {
		if atEnd {
			r.outcome = outEnded
		} else {
			r.outcome, r.decided, r.refined = outShort, true, true
		}
		return
	}
	r.decided, r.refined = true, true
	switch {
	case r.rateAft <= tr.limit():
		r.outcome = outCeased
		if tr.setUnder(StatusCeased) {
			tr.sp.open = false
			tr.sp.days = nil
			tr.inEpisode = false
		}
	case tr.under == StatusPostExercise && r.epAfter:
		r.outcome = outPersist
		tr.persist("", true)
	case tr.under == StatusAtRest:
		r.outcome = outWentOn
	default:
		r.outcome = outThin
	}
}

// persist makes the status persistent (once; the first reason stays).
func (tr *track) persist(text string, byRes bool) {
	if tr.under == StatusPersistent {
		return
	}
	if tr.setUnder(StatusPersistent) {
		tr.byText, tr.byRes = text, byRes
	}
}

// setUnder changes the status before symptoms. A persistent* status does
// not fall, and persistent stays with its first reason.
func (tr *track) setUnder(s Status) bool {
	if tr.under == StatusPersistent || (tr.status.Persistent() && s != StatusPersistent) {
		return false
	}
	tr.under = s
	tr.raise()
	return true
}

// raise sets the reported status: persistent with a logged raising
// symptom, a detected cramp or a weakness trend, and at_rest with a
// logged raising symptom, become persistent_with_symptoms (for good).
func (tr *track) raise() {
	if tr.status == StatusPersistentWithSymptoms {
		return
	}
	s := tr.under
	switch {
	case s == StatusPersistent && (tr.symptomCount() > 0 || tr.crampCount() > 0 || tr.weakTrend()):
		s = StatusPersistentWithSymptoms
	case s == StatusAtRest && tr.symptomCount() > 0:
		s = StatusPersistentWithSymptoms
	}
	tr.status = s
}

func (tr *track) weakTrend() bool { return tr.weakOK && tr.weak < tr.cfg.StrengthFraction }

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
	from := tr.now - dur(tr.cfg.SymptomLookback)
	n := len(tr.cramps)
	for _, t := range tr.past.Cramps {
		if t >= from {
			n++
		}
	}
	return n
}

// siteBouts returns the history's bouts at this site followed by this
// recording's: the baseline for strength and training load.
func (tr *track) siteBouts() []PastBout {
	out := make([]PastBout, 0, len(tr.past.Bouts)+len(tr.bouts))
	for _, b := range tr.past.Bouts {
		if b.Site == "" || b.Site == tr.tags.Site {
			out = append(out, b)
		}
	}
	return append(out, tr.bouts...)
}

// strengthRatio is the lowest ratio, over both proxies and every intensity
// with a baseline, of this recording's median proxy to the median of the
// comparable bouts at this site within StrengthLookback.
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
				if b.Intensity == in && proxy(b) > 0 && b.Start >= from && (b.Site == "" || b.Site == tr.tags.Site) {
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

// end settles the spell with what the recording holds.
func (tr *track) end(last pipeline.Timestamp) {
	tr.see(last)
	tr.ended = true
	if r := &tr.sp.res; tr.sp.open && r.on && (!r.decided || !r.refined) {
		tr.judge(true)
	}
	tr.checkDays(last)
	tr.raise()
}

// restMinutes is the rest observed in [a, b), up to now: the reported
// rest periods; when the detectors report none at all, the time outside
// bouts. Gaps between reported rest periods are not rest, so missing data
// does not dilute a rate. (The detectors report rest in settled pieces
// and hold the watermark at the start of the rest not yet reported, so
// everything before now is covered.)
func (tr *track) restMinutes(a, b pipeline.Timestamp) float64 {
	b = min(b, tr.now)
	if b <= a {
		return 0
	}
	var total pipeline.Timestamp
	if tr.restSeen {
		for _, r := range tr.rests {
			total += overlap(r.start, r.end, a, b)
		}
	} else {
		total = b - a
		for _, bt := range tr.bouts {
			total -= overlap(bt.Start, bt.End, a, b)
		}
	}
	return time.Duration(max(total, 0)).Minutes()
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
