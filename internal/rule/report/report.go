// Package report builds the "twitchd report" view of a person from
// InfluxDB: their recordings, bouts, twitch rates before and after
// resuming activity, cramps and logged symptoms, the latest stored
// assessment, the status recomputed by the persistence rule from the
// stored events with its reasons and advice, how that status evolved over
// the period (a timeline of the assessments), and the notice that this is
// not a diagnosis.
package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/pipeline"
)

// Options selects what to report.
type Options struct {
	Subject string
	// Site limits the report to one body site; empty reports every site.
	Site string
	// Since and Until bound the recordings reported on, Until excluded.
	Since, Until time.Time
	// Config is the rule's configuration for the recomputed status.
	Config rule.Config
}

// Report is the whole report; it marshals to the --json output.
type Report struct {
	Subject  string             `json:"subject"`
	Since    time.Time          `json:"since"`
	Until    time.Time          `json:"until"`
	Sites    []Site             `json:"sites"`
	Symptoms []pipeline.Symptom `json:"symptoms"`
	Notice   string             `json:"notice"`
}

// Site is the report of one body site.
type Site struct {
	Site string `json:"site"`
	// Status, Reason and Measures are the latest recording's assessment,
	// recomputed from the stored events with the history before it.
	Status   string             `json:"status"`
	Reason   string             `json:"reason"`
	Measures map[string]float64 `json:"measures,omitempty"`
	Advice   []rule.Advice      `json:"advice"`
	// Stored is the latest assessment found in InfluxDB, nil if none.
	Stored   *pipeline.Assessment `json:"stored,omitempty"`
	Sessions []Session            `json:"sessions"`
	// Timeline is how the status evolved over the period: every change
	// of status, and each recording's final assessment, in time order
	// (recomputed, like Status).
	Timeline []Entry `json:"timeline"`
}

// Entry is one assessment in a Site's timeline.
type Entry struct {
	Time    pipeline.Timestamp `json:"time"`
	Session string             `json:"session"`
	Status  string             `json:"status"`
	// Summary is the reason's first clause (rule.ShortReason); Reason is
	// all of it.
	Summary string `json:"summary"`
	Reason  string `json:"reason"`
	// Final marks the assessment at the end of a recording.
	Final bool `json:"final,omitempty"`
}

// Session is one recording.
type Session struct {
	Session     string             `json:"session"`
	File        string             `json:"file,omitempty"`
	Start       pipeline.Timestamp `json:"start"`
	End         pipeline.Timestamp `json:"end"`
	Bouts       int                `json:"bouts"`
	BoutMinutes float64            `json:"bout_minutes"`
	Vigorous    float64            `json:"vigorous_minutes"`
	Twitches    int                `json:"twitches"` // at rest, each counted once across sensors
	Cramps      int                `json:"cramps"`
	RateBefore  *float64           `json:"rate_before_per_min,omitempty"`
	RateAfter   *float64           `json:"rate_after_per_min,omitempty"`
	Status      string             `json:"status"`
	Reason      string             `json:"reason"`
}

// Build reads the events of opts.Subject in [Since, Until) through r and
// replays each recording through a rule.Engine that reads its history
// through r as well.
func Build(ctx context.Context, r *history.Reader, opts Options) (*Report, error) {
	if opts.Subject == "" {
		return nil, fmt.Errorf("report: no subject")
	}
	evs, err := r.Events(ctx, opts.Subject, opts.Site, opts.Since, opts.Until)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	rep := &Report{Subject: opts.Subject, Since: opts.Since.UTC(), Until: opts.Until.UTC(), Notice: rule.Notice,
		Symptoms: []pipeline.Symptom{}}
	bySite := map[string][]pipeline.Event{}
	var sites []string
	for _, ev := range evs {
		if s, ok := ev.(*pipeline.Symptom); ok {
			rep.Symptoms = append(rep.Symptoms, *s)
			continue
		}
		site := siteOf(ev)
		if _, ok := bySite[site]; !ok {
			sites = append(sites, site)
		}
		bySite[site] = append(bySite[site], ev)
	}
	sort.Strings(sites)
	for _, site := range sites {
		s, err := buildSite(ctx, r, opts, site, bySite[site], rep.Symptoms)
		if err != nil {
			return nil, err
		}
		rep.Sites = append(rep.Sites, s)
	}
	return rep, nil
}

func siteOf(ev pipeline.Event) string {
	t, _ := rule.EventTags(ev)
	return t.Site
}

func sessionOf(ev pipeline.Event) string {
	t, _ := rule.EventTags(ev)
	return t.Session
}

// buildSite replays every recording of one site in time order.
func buildSite(ctx context.Context, r *history.Reader, opts Options, site string, evs []pipeline.Event,
	symptoms []pipeline.Symptom) (Site, error) {
	out := Site{Site: site, Status: string(rule.StatusNone), Reason: "no recording", Advice: []rule.Advice{}, Sessions: []Session{},
		Timeline: []Entry{}}
	bySession := map[string][]pipeline.Event{}
	var order []string
	for _, ev := range evs {
		if a, ok := ev.(*pipeline.Assessment); ok {
			if out.Stored == nil || a.Time >= out.Stored.Time {
				out.Stored = a
			}
			continue
		}
		s := sessionOf(ev)
		if _, ok := bySession[s]; !ok {
			order = append(order, s)
		}
		bySession[s] = append(bySession[s], ev)
	}
	first := func(s string) pipeline.Timestamp {
		t := bySession[s][0].At()
		for _, ev := range bySession[s] {
			t = min(t, ev.At())
		}
		return t
	}
	sort.SliceStable(order, func(i, j int) bool { return first(order[i]) < first(order[j]) })
	past := newPastCache(r, opts, site)
	for i, s := range order {
		stream := bySession[s]
		if i == len(order)-1 {
			// The latest recording also sees symptoms logged since it began.
			for j := range symptoms {
				if symptoms[j].Time >= first(s) {
					stream = append(stream, &symptoms[j])
				}
			}
		}
		sess, as, err := replay(ctx, past, opts, site, s, stream)
		if err != nil {
			return out, err
		}
		a := as[len(as)-1]
		out.Timeline = appendTimeline(out.Timeline, s, as)
		out.Sessions = append(out.Sessions, sess)
		out.Status, out.Reason, out.Measures = a.Status, a.Reason, a.Measures
		out.Advice = parseAdvice(a.Advice)
	}
	return out, nil
}

// appendTimeline adds one recording's assessments (each change of
// status, then its final one) to tl.
func appendTimeline(tl []Entry, session string, as []*pipeline.Assessment) []Entry {
	for i, a := range as {
		tl = append(tl, Entry{Time: a.Time, Session: session, Status: a.Status, Summary: rule.ShortReason(a.Reason),
			Reason: a.Reason, Final: i == len(as)-1})
	}
	return tl
}

// replay runs one recording's stored events through a fresh Engine and
// returns the assessments it made, the final one last.
func replay(ctx context.Context, h rule.History, opts Options, site, session string, evs []pipeline.Event) (Session, []*pipeline.Assessment, error) {
	cfg := opts.Config
	e := rule.New(ctx, cfg, h, nil)
	if err := e.Begin(pipeline.Meta{Subject: opts.Subject, Site: site, Session: session}); err != nil {
		return Session{}, nil, fmt.Errorf("report: %w", err)
	}
	s := Session{Session: session, Start: evs[0].At(), End: history.Emitted(evs[0])}
	var as []*pipeline.Assessment
	emit := func(ev pipeline.Event) {
		if a, ok := ev.(*pipeline.Assessment); ok {
			as = append(as, a)
		}
	}
	var last pipeline.Timestamp
	for _, ev := range evs {
		if _, ok := ev.(*pipeline.Symptom); !ok {
			s.Start, s.End = min(s.Start, ev.At()), max(s.End, history.Emitted(ev))
		}
		switch v := ev.(type) {
		case *pipeline.Summary:
			s.File = v.File
			last = max(last, v.End)
			continue // the rule does not read summaries
		case *pipeline.Symptom:
		default:
			last = max(last, history.Emitted(ev))
		}
		if b, ok := ev.(*pipeline.Bout); ok {
			s.Bouts++
			m := time.Duration(b.End - b.Start).Minutes()
			s.BoutMinutes += m
			if b.Intensity == pipeline.IntensityVigorous {
				s.Vigorous += m
			}
		}
		e.Handle(ev, emit)
	}
	e.End(last, emit)
	if len(as) == 0 {
		return s, nil, fmt.Errorf("report: no assessment for session %q", session)
	}
	final := as[len(as)-1]
	s.Status, s.Reason = final.Status, final.Reason
	s.Twitches = int(final.Measures[rule.MeasureTwitches])
	s.Cramps = countCramps(evs)
	if v, ok := final.Measures[rule.MeasureRateBefore]; ok {
		s.RateBefore = &v
	}
	if v, ok := final.Measures[rule.MeasureRateAfter]; ok {
		s.RateAfter = &v
	}
	if final.Measures[rule.MeasureHistoryOK] == 0 {
		return s, as, fmt.Errorf("report: history of session %q could not be read: %s", session, final.Reason)
	}
	return s, as, nil
}

func countCramps(evs []pipeline.Event) int {
	n := 0
	for _, ev := range evs {
		if _, ok := ev.(*pipeline.Cramp); ok {
			n++
		}
	}
	return n
}

// parseAdvice turns Assessment.Advice strings ("id: text (why)") back into
// rule.Advice.
func parseAdvice(ss []string) []rule.Advice {
	out := make([]rule.Advice, 0, len(ss))
	for _, s := range ss {
		id, rest, _ := strings.Cut(s, ": ")
		a := rule.Advice{ID: id, Text: rule.AdviceText(id)}
		if a.Text != "" && strings.HasPrefix(rest, a.Text) {
			a.Why = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(rest, a.Text), " ("), ")")
		} else {
			a.Text = rest
		}
		out = append(out, a)
	}
	return out
}
