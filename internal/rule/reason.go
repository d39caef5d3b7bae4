package rule

import (
	"fmt"
	"strings"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Reasons name their evidence: counts, clock times (in Config.Location;
// the date is added when it is not the assessment's day), rates and
// hours. The first clause is a summary (ShortReason); the status itself
// is not repeated (it is printed as "status: reason").

// ShortReason returns the summary of an assessment's reason: its first
// clause, up to the first "; " outside parentheses.
func ShortReason(reason string) string {
	depth := 0
	for i := 0; i < len(reason); i++ {
		switch reason[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ';':
			if depth == 0 && strings.HasPrefix(reason[i:], "; ") {
				return reason[:i]
			}
		}
	}
	return reason
}

// reasonText explains the current status with the evidence behind it.
func (tr *track) reasonText() string {
	var b strings.Builder
	switch tr.under {
	case StatusNone:
		fmt.Fprintf(&b, "no twitch episode (%d twitches at rest, %d during activity; an episode is %d at rest within %s)",
			tr.twitches, tr.active, tr.cfg.EpisodeTwitches, short(tr.cfg.EpisodeWindow))
	case StatusCeased:
		b.WriteString(tr.ceasedText())
	case StatusPostExercise, StatusAtRest:
		b.WriteString(tr.spellText())
	case StatusPersistent:
		if tr.byRes {
			b.WriteString(tr.wentOnText())
		} else {
			b.WriteString(tr.byText)
		}
	}
	if why := tr.symptomReasons(); len(why) > 0 {
		if tr.status == StatusPersistentWithSymptoms {
			b.WriteString("; together with " + strings.Join(why, ", "))
		} else if tr.under != StatusNone {
			b.WriteString("; also " + strings.Join(why, ", ") + tr.notRaising())
		}
	}
	if tr.status == StatusPostExercise || tr.status == StatusAtRest {
		b.WriteString(tr.advise())
	}
	if tr.histErr != nil {
		b.WriteString(" (history unavailable: assessed on this recording alone)")
	}
	return b.String()
}

// notRaising says why what accompanies the twitching did not raise the
// status.
func (tr *track) notRaising() string {
	switch tr.under {
	case StatusAtRest:
		return " (at rest only a logged symptom raises the status)"
	case StatusPostExercise, StatusCeased:
		return " (after exercise these are common; they raise the status only when twitching persists)"
	}
	return ""
}

// spellText describes the spell of a post_exercise or at_rest status.
func (tr *track) spellText() string {
	sp := &tr.sp
	var b strings.Builder
	fmt.Fprintf(&b, "%d twitches at rest between %s and %s (%.1f/min)", sp.twitches, tr.clk(sp.firstHere),
		tr.clk(sp.lastTw), tr.spellRate())
	if sp.kind == StatusPostExercise {
		fmt.Fprintf(&b, ", beginning %s after activity ended at %s", ago(sp.first-sp.act), tr.clk(sp.act))
	} else {
		fmt.Fprintf(&b, "; no exercise or other activity recorded in the %s before it", short(tr.cfg.PersistAfter))
		if sp.hasAct {
			fmt.Fprintf(&b, " (the last ended %s before, at %s)", ago(sp.first-sp.act), tr.clk(sp.act))
		}
	}
	if sp.first < sp.firstHere {
		fmt.Fprintf(&b, "; it continues twitching recorded from %s in an earlier recording", tr.clk(sp.first))
	}
	if tr.spells > 1 {
		fmt.Fprintf(&b, "; an earlier spell in this recording %s–%s", tr.clk(tr.prev.start), tr.clk(tr.prev.end))
	}
	b.WriteString(tr.resumeText())
	return b.String()
}

// advise closes the reason of a post_exercise or at_rest status.
func (tr *track) advise() string {
	if tr.sp.kind == StatusPostExercise {
		return "; keep watching"
	}
	return "; watch whether it recurs"
}

// resumedText names the resumed activity.
func (tr *track) resumedText() string {
	r := &tr.sp.res
	return fmt.Sprintf("activity resumed %s–%s (%.1f min)", tr.clk(r.start), tr.clk(r.end), r.minutes)
}

// resumeText says what is known about resuming in the open spell.
func (tr *track) resumeText() string {
	sp := &tr.sp
	r := &sp.res
	if !r.on {
		switch {
		case sp.kind == StatusAtRest && sp.brief == 0:
			return "" // resuming is not awaited at rest
		case sp.brief > 0:
			return fmt.Sprintf("; activity resumed only briefly (%d bout(s), the longest %s; %s needed)",
				sp.brief, minutes(sp.briefMax), short(tr.cfg.MinResume))
		case tr.ended:
			return "; the recording ended before activity resumed"
		}
		return "; activity has not resumed yet"
	}
	switch r.outcome {
	case outEnded:
		return fmt.Sprintf("; %s, but the recording ended after %.1f min of rest after it (%s needed to judge)",
			tr.resumedText(), r.restAft, short(tr.cfg.MinRestAfter))
	case outShort:
		return fmt.Sprintf("; %s, but only %.1f min of rest followed within %s (%s needed to judge)",
			tr.resumedText(), r.restAft, short(tr.cfg.RateWindow), short(tr.cfg.MinRestAfter))
	case outThin:
		if r.rateAft < tr.refRate() {
			return fmt.Sprintf("; after %s the rate fell, but not clearly: %d twitches in %.1f min of rest (%.2f/min) vs %.2f/min before (ceased needs at most %.2f/min), and no episode followed",
				tr.resumedText(), r.countAft, r.restAft, r.rateAft, r.rateBef, tr.limit())
		}
		return fmt.Sprintf("; after %s too few twitches followed to judge: %d in %.1f min of rest (%.2f/min; ceased needs at most %.2f/min) and no episode",
			tr.resumedText(), r.countAft, r.restAft, r.rateAft, tr.limit())
	case outWentOn:
		return fmt.Sprintf("; %s and twitching went on after it (%d twitches in %.1f min of rest, %.2f/min, vs %.2f/min before): without exercise before it, time decides (whether it continues for hours or recurs on several days)",
			tr.resumedText(), r.countAft, r.restAft, r.rateAft, r.rateBef)
	}
	return "; " + tr.resumedText() + ": judging the rest after it"
}

// ceasedText explains a ceased status.
func (tr *track) ceasedText() string {
	r := &tr.sp.res
	return fmt.Sprintf("twitching ceased once %s: %d twitches in %.1f min of rest after it (%.2f/min) vs %.2f/min in %.1f min before (ceased at or below %.2f/min); a good sign",
		tr.resumedText(), r.countAft, r.restAft, r.rateAft, r.rateBef, r.restBef, tr.limit())
}

// wentOnText explains persistent from the resumed activity.
func (tr *track) wentOnText() string {
	r := &tr.sp.res
	return fmt.Sprintf("twitching went on after %s: %d twitches in %.1f min of rest after it (%.2f/min; an episode from %s to %s) vs %.2f/min before (ceased needs at most %.2f/min)",
		tr.resumedText(), r.countAft, r.restAft, r.rateAft, tr.clk(r.epFirst), tr.clk(r.epLast), r.rateBef, tr.limit())
}

// continuedText explains persistent by the time criterion.
func (tr *track) continuedText(ref pipeline.Timestamp, afterActivity bool, t pipeline.Timestamp) string {
	from := tr.clk(tr.sp.first)
	if tr.sp.first < tr.sp.firstHere {
		from += " (an earlier recording)"
	}
	if afterActivity {
		return fmt.Sprintf("twitching at rest continued %s after activity ended at %s (episodes from %s to %s; limit %s)",
			hours(t-ref), tr.clk(ref), from, tr.clk(t), short(tr.cfg.PersistAfter))
	}
	return fmt.Sprintf("twitching at rest continued %s with no activity recorded before or in between (episodes from %s to %s; limit %s)",
		hours(t-ref), from, tr.clk(t), short(tr.cfg.PersistAfter))
}

// daysText explains persistent by recurrence.
func (tr *track) daysText(days []civilDay) string {
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = d.String()
	}
	return fmt.Sprintf("twitching episodes that did not cease on %d days within %s (%s; limit %d)",
		len(days), daysOf(tr.cfg.EpisodeLookback), strings.Join(names, ", "), tr.cfg.EpisodeDays)
}

// symptomReasons lists what accompanies the twitching within
// SymptomLookback.
func (tr *track) symptomReasons() []string {
	var why []string
	logged := map[string]int{}
	tr.eachLogged(func(s pipeline.Symptom) { logged[s.Symptom]++ })
	for _, name := range tr.cfg.RaisingSymptoms {
		if logged[name] > 0 {
			why = append(why, "logged "+name)
		}
	}
	if n := tr.crampCount(); n > 0 {
		why = append(why, fmt.Sprintf("%d detected cramp(s)", n))
	}
	if tr.weakTrend() {
		why = append(why, fmt.Sprintf("a weakness trend (strength proxy at %.0f%% of baseline, limit %.0f%%)",
			100*tr.weak, 100*tr.cfg.StrengthFraction))
	}
	return why
}

// clk formats t as a clock time, with the date when it is not the day of
// the state's time.
func (tr *track) clk(t pipeline.Timestamp) string {
	lt := t.Time().In(tr.cfg.loc())
	if tr.cfg.day(t) == tr.cfg.day(tr.now) {
		return lt.Format("15:04")
	}
	return lt.Format("2006-01-02 15:04")
}

// short formats a threshold: "6 h", "5 min", "30 s", "14 days".
func short(d time.Duration) string {
	switch {
	case d >= 2*Day && d%Day == 0:
		return fmt.Sprintf("%d days", d/Day)
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

// ago formats an elapsed time in minutes below 90 min, else hours.
func ago(d pipeline.Timestamp) string {
	if time.Duration(d) < 90*time.Minute {
		return fmt.Sprintf("%.0f min", time.Duration(d).Minutes())
	}
	return hours(d)
}

func minutes(d pipeline.Timestamp) string {
	return fmt.Sprintf("%.1f min", time.Duration(d).Minutes())
}

func hours(d pipeline.Timestamp) string {
	return fmt.Sprintf("%.1f h", time.Duration(d).Hours())
}

func daysOf(d time.Duration) string {
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}
