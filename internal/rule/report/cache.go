package report

import (
	"context"
	"sync"
	"time"

	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
)

// newPastCache returns the cache of subject's history at site for the
// recordings of opts: their queries start at most a lookback before
// opts.Since and end by opts.Until.
func newPastCache(r *history.Reader, opts Options, site string) *pastCache {
	cfg := opts.Config
	wide := *r
	wide.For(cfg)
	wide.EpisodeLookback, wide.SymptomLookback = 0, 0
	narrow := wide
	narrow.For(cfg)
	return &pastCache{h: &narrow, wide: &wide, cfg: cfg, subject: opts.Subject, site: site,
		start: opts.Since.Add(-cfg.Lookback()), end: opts.Until}
}

// pastCache answers the history queries that the replays of one site's
// recordings make (one per recording) from a single Load over the whole
// span they can ask about, instead of one Load per recording: a report of
// 14 daily recordings read the history 14 times, five Flux queries each.
// A query outside the span goes to the History itself.
//
// What the cache returns is what Load returns for the query's range, but
// for two edges: an episode window cut by the start of a lookback is
// counted whole here (Load counts the twitches of its part in range), and
// a recording's final assessment is its last one overall, not its last
// one before the query's end (they differ only for a recording that
// overlaps the one being assessed).
type pastCache struct {
	// h answers queries outside the span; wide is the same reader with
	// no lookback of its own, so that one Load over the span holds every
	// episode, final, cramp and symptom any query in it can want.
	h, wide    rule.History
	cfg        rule.Config
	subject    string
	site       string
	start, end time.Time

	once sync.Once
	all  rule.Past
	err  error
}

// Load implements rule.History.
func (c *pastCache) Load(ctx context.Context, q rule.Query) (rule.Past, error) {
	if q.Subject != c.subject || q.Site != c.site || q.Start.Before(c.start) || q.End.After(c.end) {
		return c.h.Load(ctx, q)
	}
	c.once.Do(func() {
		c.all, c.err = c.wide.Load(ctx, rule.Query{Subject: c.subject, Site: c.site, Start: c.start, End: c.end})
	})
	if c.err != nil {
		return rule.Past{}, c.err
	}
	in := func(t int64, from time.Time) bool { return t >= from.UnixNano() && t < q.End.UnixNano() }
	keep := func(session string) bool { return q.ExcludeSession == "" || session != q.ExcludeSession }
	epStart := within(q.Start, q.End, c.cfg.EpisodeLookback)
	symStart := within(q.Start, q.End, c.cfg.SymptomLookback)
	var p rule.Past
	for _, b := range c.all.Bouts {
		if in(int64(b.Start), q.Start) && keep(b.Session) {
			p.Bouts = append(p.Bouts, b)
		}
	}
	for _, e := range c.all.Episodes {
		if in(int64(e.Time), epStart) && keep(e.Session) {
			p.Episodes = append(p.Episodes, e)
		}
	}
	for _, f := range c.all.Finals {
		if in(int64(f.Time), epStart) && keep(f.Session) {
			p.Finals = append(p.Finals, f)
		}
	}
	for _, t := range c.all.Cramps {
		if in(int64(t), symStart) {
			p.Cramps = append(p.Cramps, t)
		}
	}
	for _, s := range c.all.Symptoms {
		if in(int64(s.Time), symStart) {
			p.Symptoms = append(p.Symptoms, s)
		}
	}
	return p, nil
}

// within narrows [start, end) to its last d (all of it when d is 0), as
// internal/rule/history does.
func within(start, end time.Time, d time.Duration) time.Time {
	if d > 0 && end.Add(-d).After(start) {
		return end.Add(-d)
	}
	return start
}
