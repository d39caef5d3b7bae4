package simulate

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The oracle derives the status a correct persistence rule reaches from
// what a scenario constructed: its bouts and the twitches each modality
// can see. It restates /work RULE-SPEC (the rule's shared contract) on
// its own and deliberately does not import internal/rule: a scorer that
// shares the code it scores cannot catch that code's mistakes.

// Modalities a recording is replayed with.
const (
	ModBoth = "both" // EMG and accelerometer
	ModEMG  = "emg"  // EMG columns only
	ModAcc  = "acc"  // accelerometer columns only
)

// Modalities lists the modalities in report order.
var Modalities = []string{ModBoth, ModEMG, ModAcc}

// Expectation is the oracle's status for each modality.
type Expectation struct {
	Both ModalityStatus `json:"both"`
	EMG  ModalityStatus `json:"emg"`
	Acc  ModalityStatus `json:"acc"`
}

// For returns the expectation of modality mod (ModBoth, ModEMG, ModAcc);
// the zero ModalityStatus for another name.
func (e Expectation) For(mod string) ModalityStatus {
	switch mod {
	case ModBoth:
		return e.Both
	case ModEMG:
		return e.EMG
	case ModAcc:
		return e.Acc
	}
	return ModalityStatus{}
}

// Ambiguous reports whether any modality's status is borderline.
func (e Expectation) Ambiguous() bool {
	return e.Both.Ambiguous != "" || e.EMG.Ambiguous != "" || e.Acc.Ambiguous != ""
}

// ModalityStatus is one modality's expected status, the evidence for it
// (counts, times from the recording's start, rates) and, when a small
// change (a twitch or two missed or added, half a minute) could change
// it, why.
type ModalityStatus struct {
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	Ambiguous string `json:"ambiguous,omitempty"`
}

// RuleNumbers are the rule's default thresholds as RULE-SPEC states them,
// in seconds and twitches per minute.
type RuleNumbers struct {
	EpisodeTwitches int     // twitches at rest that make an episode
	EpisodeWindow   float64 // ... within this many seconds
	RateWindow      float64 // rest considered before and after a resumed bout
	MinResume       float64 // least length of a resumed bout
	MinRestAfter    float64 // least rest after it to judge
	PersistAfter    float64 // twitching this long after activity is persistent
	CeasedFraction  float64 // rate after / reference at most this: ceased
	MinRefRate      float64 // the reference rate is at least this (per minute)
}

// SpecNumbers returns RULE-SPEC's defaults: 5 twitches within 5 min, a
// 10 min rate window, 5 min of resumed activity, 3 min of rest after it,
// 6 h, a quarter, at least 1 twitch per minute as the reference.
func SpecNumbers() RuleNumbers {
	return RuleNumbers{
		EpisodeTwitches: 5, EpisodeWindow: 300, RateWindow: 600, MinResume: 300,
		MinRestAfter: 180, PersistAfter: 6 * 3600, CeasedFraction: 0.25, MinRefRate: 1,
	}
}

// Margins that make a constructed status borderline (see Ambiguous).
const (
	borderCountLo = 3    // an episode-sized count within 3..7 twitches
	borderCountHi = 7    //   is one a detector could tip either way
	borderRatioLo = 0.15 // a rate ratio within 0.15..0.40 is close to 0.25
	borderRatioHi = 0.40
	borderSeconds = 30   // durations within 30 s of a limit
	boutMinS      = 30   // RULE-SPEC: a bout is at least 30 s of activity
	accLooseSNR   = 4.0  // acc twitches between 4x and 6x the noise may or may not be seen
	minPerSecond  = 60.0 // seconds per minute, for rates
)

// Expect returns the expected status of each modality for the labels:
// EMG-only and both see every labelled twitch and the cramps; acc-only
// sees the twitches plainly visible in the accelerometer (AccVisible with
// AccVisibleSNR) and no cramps. A status is marked ambiguous when the
// construction sits near one of the rule's limits, or (acc-only) when
// counting the twitches between 4x and 6x the noise would change it.
func Expect(l *Labels) Expectation {
	o := newOracle(l, SpecNumbers())
	var all, accStrict, accLoose []float64
	for _, t := range l.Twitches {
		s := o.sec(int64(t.Start))
		if o.inBout(s) {
			continue
		}
		all = append(all, s)
		if t.AccVisible(AccVisibleSNR) {
			accStrict = append(accStrict, s)
		}
		if t.AccVisible(accLooseSNR) {
			accLoose = append(accLoose, s)
		}
	}
	cramps := len(l.Cramps)
	emg := o.verdict(all, cramps)
	acc := o.verdict(accStrict, 0)
	if loose := o.verdict(accLoose, 0); loose.Status != acc.Status {
		acc.Ambiguous = joinNonEmpty(acc.Ambiguous, fmt.Sprintf("counting the twitches between %gx and %gx the accelerometer noise would give %s", accLooseSNR, float64(AccVisibleSNR), loose.Status))
	}
	return Expectation{Both: emg, EMG: emg, Acc: acc}
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// oracle holds a recording's bouts and length, in seconds from its start.
type oracle struct {
	n      RuleNumbers
	start  int64
	end    float64
	bouts  []interval
	border []string // construction-wide borderline notes (bouts, strolls)
}

func newOracle(l *Labels, n RuleNumbers) *oracle {
	o := &oracle{n: n, start: int64(l.Start)}
	o.end = o.sec(int64(l.End))
	for _, b := range l.Bouts {
		iv := interval{o.sec(int64(b.Start)), o.sec(int64(b.End))}
		o.bouts = append(o.bouts, iv)
		active := b.ActiveS
		if active == 0 {
			active = iv.b - iv.a
		}
		if active < boutMinS+15 {
			o.border = append(o.border, fmt.Sprintf("bout at +%.0fs has only %.0f s of activity (a bout needs %d s)", iv.a, active, boutMinS))
		}
	}
	sort.Slice(o.bouts, func(i, j int) bool { return o.bouts[i].a < o.bouts[j].a })
	for _, p := range l.Phases {
		if p.Name == PhaseStroll {
			if d := float64(p.End-p.Start) / 1e9; d > boutMinS-10 {
				o.border = append(o.border, fmt.Sprintf("stroll at +%.0fs lasts %.0f s, close to a bout's %d s", o.sec(int64(p.Start)), d, boutMinS))
			}
		}
	}
	return o
}

func (o *oracle) sec(ns int64) float64 { return float64(ns-o.start) / 1e9 }

func (o *oracle) inBout(s float64) bool {
	for _, b := range o.bouts {
		if s >= b.a && s < b.b {
			return true
		}
	}
	return false
}

// restIn returns the seconds of [a, b) inside the recording and outside
// every bout.
func (o *oracle) restIn(a, b float64) float64 {
	a, b = math.Max(a, 0), math.Min(b, o.end)
	if b <= a {
		return 0
	}
	r := b - a
	for _, iv := range o.bouts {
		if lo, hi := math.Max(a, iv.a), math.Min(b, iv.b); hi > lo {
			r -= hi - lo
		}
	}
	return r
}

// countIn returns how many of tw (sorted) fall in [a, b).
func countIn(tw []float64, a, b float64) int {
	return sort.SearchFloat64s(tw, b) - sort.SearchFloat64s(tw, a)
}

// maxWithin returns the most twitches of tw in [a, b) that fit in one
// window of win seconds.
func maxWithin(tw []float64, win, a, b float64) int {
	lo, hi := sort.SearchFloat64s(tw, a), sort.SearchFloat64s(tw, b)
	best, j := 0, lo
	for i := lo; i < hi; i++ {
		for j < hi && tw[j]-tw[i] <= win {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// episodeIn returns the first twitch of the first episode whose twitches
// all fall in [a, b).
func (o *oracle) episodeIn(tw []float64, a, b float64) (float64, bool) {
	lo, hi := sort.SearchFloat64s(tw, a), sort.SearchFloat64s(tw, b)
	k := o.n.EpisodeTwitches - 1
	for i := lo; i+k < hi; i++ {
		if tw[i+k]-tw[i] <= o.n.EpisodeWindow {
			return tw[i], true
		}
	}
	return 0, false
}

// verdict applies the rule to the twitches at rest tw (sorted seconds)
// and the number of cramps the modality can see.
func (o *oracle) verdict(tw []float64, cramps int) ModalityStatus {
	n := o.n
	var amb []string
	amb = append(amb, o.border...)
	note := func(format string, a ...any) { amb = append(amb, fmt.Sprintf(format, a...)) }
	done := func(status, reason string) ModalityStatus {
		return ModalityStatus{Status: status, Reason: reason, Ambiguous: strings.Join(amb, "; ")}
	}
	most := maxWithin(tw, n.EpisodeWindow, 0, math.Inf(1))
	if most >= borderCountLo && most <= borderCountHi {
		note("at most %d twitches at rest within %.0f min, near the episode's %d", most, n.EpisodeWindow/60, n.EpisodeTwitches)
	}
	e0, ok := o.episodeIn(tw, 0, math.Inf(1))
	if !ok {
		return done(StatusNone, fmt.Sprintf("no episode: %d twitches at rest, at most %d within %.0f min", len(tw), most, n.EpisodeWindow/60))
	}
	ctx, why := StatusAtRest, "no bout before it"
	for _, b := range o.bouts {
		if b.b <= e0 && e0-b.b <= n.PersistAfter {
			ctx, why = StatusPostExercise, fmt.Sprintf("after the bout ending +%.0fs", b.b)
		}
	}
	reason := fmt.Sprintf("episode from +%.0fs (%d twitches at rest, at most %d within %.0f min), %s", e0, len(tw), most, n.EpisodeWindow/60, why)
	var res *interval
	for i := range o.bouts {
		b := &o.bouts[i]
		if b.a < e0 {
			continue
		}
		d := b.b - b.a
		if math.Abs(d-n.MinResume) < borderSeconds {
			note("bout at +%.0fs lasts %.1f min, near the %.0f min a resumption needs", b.a, d/60, n.MinResume/60)
		}
		if d >= n.MinResume {
			if res != nil {
				note("more than one resumed bout (+%.0fs and +%.0fs)", res.a, b.a)
				break
			}
			res = b
		}
	}
	if res == nil {
		return o.hours(tw, e0, ctx, done, reason+"; activity not resumed")
	}
	reason += fmt.Sprintf("; resumed +%.0fs..+%.0fs (%.1f min)", res.a, res.b, (res.b-res.a)/60)
	restAfter := o.restIn(res.b, res.b+n.RateWindow)
	if math.Abs(restAfter-n.MinRestAfter) < borderSeconds {
		note("%.1f min of rest after resuming, near the %.0f min needed", restAfter/60, n.MinRestAfter/60)
	}
	if restAfter < n.MinRestAfter {
		return done(ctx, reason+fmt.Sprintf("; only %.1f min of rest after it", restAfter/60))
	}
	before := 0.0
	if rb := o.restIn(res.a-n.RateWindow, res.a); rb > 0 {
		before = float64(countIn(tw, res.a-n.RateWindow, res.a)) / rb * minPerSecond
	}
	ref := math.Max(before, n.MinRefRate)
	after := float64(countIn(tw, res.b, res.b+n.RateWindow)) / restAfter * minPerSecond
	if r := after / ref; r > borderRatioLo && r < borderRatioHi {
		note("rate after / before %.2f, near %.2f", r, n.CeasedFraction)
	}
	reason += fmt.Sprintf("; rate at rest %.2f/min after vs %.2f/min before (reference %.2f)", after, before, ref)
	if after <= n.CeasedFraction*ref {
		return done(StatusCeased, reason)
	}
	if ctx == StatusAtRest {
		return o.hours(tw, e0, ctx, done, reason+"; twitching went on after activity with no exercise before the episode")
	}
	afterMost := maxWithin(tw, n.EpisodeWindow, res.b, res.b+n.RateWindow)
	if afterMost >= borderCountLo && afterMost <= borderCountHi {
		note("at most %d twitches within %.0f min after resuming, near the episode's %d", afterMost, n.EpisodeWindow/60, n.EpisodeTwitches)
	}
	if _, ok := o.episodeIn(tw, res.b, res.b+n.RateWindow); !ok {
		return o.hours(tw, e0, ctx, done, reason+fmt.Sprintf("; no episode after resuming (at most %d within %.0f min): evidence thin", afterMost, n.EpisodeWindow/60))
	}
	return o.persistent(cramps, done, reason+fmt.Sprintf("; an episode after resuming (%d within %.0f min)", afterMost, n.EpisodeWindow/60))
}

// hours applies the time criterion to an open status: an episode more
// than PersistAfter after the last activity before it (post_exercise) or
// after the first at_rest episode with no activity in between.
func (o *oracle) hours(tw []float64, e0 float64, ctx string, done func(string, string) ModalityStatus, reason string) ModalityStatus {
	k := o.n.EpisodeTwitches - 1
	for i := 0; i+k < len(tw); i++ {
		if tw[i+k]-tw[i] > o.n.EpisodeWindow || tw[i] <= e0 {
			continue
		}
		since := e0 // at_rest: from the first episode, or the last activity since
		if ctx == StatusPostExercise {
			since = math.Inf(-1)
		}
		for _, b := range o.bouts {
			if b.b <= tw[i] && b.b > since {
				since = b.b
			}
		}
		if tw[i]-since > o.n.PersistAfter {
			return done(StatusPersistent, reason+fmt.Sprintf("; still an episode at +%.0fs, %.1f h later", tw[i], (tw[i]-since)/3600))
		}
	}
	return done(ctx, reason)
}

func (o *oracle) persistent(cramps int, done func(string, string) ModalityStatus, reason string) ModalityStatus {
	if cramps > 0 {
		return done(StatusPersistentWithSymptoms, reason+fmt.Sprintf("; %d cramps", cramps))
	}
	return done(StatusPersistent, reason)
}
