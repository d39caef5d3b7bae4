package rule

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// Engine is the persistence rule as a pipeline.EventStage. It forwards
// every event unchanged and adds a *pipeline.Assessment for a subject and
// site whenever that pair's status changes, and one more for every pair at
// the end of the stream (also for the stream's own subject and site when
// no event concerned them).
//
// State is kept per subject and site (an event's Tags, or the stream's
// Meta when the event has none) and is reset by Begin: what carries over
// between recordings is read from History. All times are the recording's
// clock, so a replay yields the same assessments every time.
//
// A *pipeline.Watermark (the stream is settled up to its time) advances
// every state's clock, so a verdict does not wait for the next event.
//
// An Engine is used from one goroutine, as the pipeline.Runner does.
type Engine struct {
	ctx    context.Context
	cfg    Config
	hist   History
	log    *slog.Logger
	meta   pipeline.Meta
	tracks map[[2]string]*track
	order  []*track // first-seen order, so End is deterministic
}

// New returns an Engine. ctx bounds the History queries (each further
// bounded by cfg.HistoryTimeout); hist may be nil (no history); log may be
// nil (discard).
func New(ctx context.Context, cfg Config, hist History, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{ctx: ctx, cfg: cfg, hist: hist, log: log}
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Begin implements pipeline.EventStage: it checks the configuration and
// forgets the previous stream's state.
func (e *Engine) Begin(meta pipeline.Meta) error {
	if err := e.cfg.Validate(); err != nil {
		return err
	}
	e.meta = meta
	e.tracks = map[[2]string]*track{}
	e.order = e.order[:0]
	return nil
}

// Handle implements pipeline.EventStage.
func (e *Engine) Handle(ev pipeline.Event, emit pipeline.Emit) {
	emit(ev)
	if e.tracks == nil {
		e.tracks = map[[2]string]*track{}
	}
	if w, ok := ev.(*pipeline.Watermark); ok {
		e.advance(w.Time, emit)
		return
	}
	tags, ok := EventTags(ev)
	if !ok || ev.EventType() == pipeline.TypeAssessment || ev.EventType() == pipeline.TypeSummary {
		return
	}
	tr := e.track(tags, ev.At())
	before := tr.status
	switch v := ev.(type) {
	case *pipeline.Twitch:
		tr.onTwitch(v)
	case *pipeline.Bout:
		tr.onBout(v)
	case *pipeline.Rest:
		tr.onRest(v)
	case *pipeline.Cramp:
		tr.onCramp(v)
	case *pipeline.Symptom:
		tr.onSymptom(v)
	}
	if tr.status != before {
		emit(tr.assessment())
	}
}

// advance tells every state that the stream is settled up to t (no event
// starting earlier will follow, so no bout is pending before t), which
// lets a window after resumed activity be judged while the rest goes on.
func (e *Engine) advance(t pipeline.Timestamp, emit pipeline.Emit) {
	for _, tr := range e.order {
		before := tr.status
		tr.see(t)
		tr.evaluate()
		if tr.status != before {
			emit(tr.assessment())
		}
	}
}

// End implements pipeline.EventStage: it settles what the recording allows
// and emits every pair's final assessment.
func (e *Engine) End(last pipeline.Timestamp, emit pipeline.Emit) {
	if e.tracks == nil {
		e.tracks = map[[2]string]*track{}
	}
	if len(e.order) == 0 && e.meta.Subject != "" {
		e.track(pipeline.Tags{}, last)
	}
	for _, tr := range e.order {
		tr.end(last)
		emit(tr.assessment())
	}
}

// track returns the state of the event's subject and site, creating it and
// loading its history at its first event (at time t).
func (e *Engine) track(tags pipeline.Tags, t pipeline.Timestamp) *track {
	if tags.Subject == "" {
		tags.Subject = e.meta.Subject
	}
	if tags.Site == "" {
		tags.Site = e.meta.Site
	}
	if tags.Session == "" {
		tags.Session = e.meta.Session
	}
	k := [2]string{tags.Subject, tags.Site}
	if tr := e.tracks[k]; tr != nil {
		return tr
	}
	tr := newTrack(&e.cfg, tags, t)
	tr.past, tr.histErr = e.load(tags, t)
	e.tracks[k] = tr
	e.order = append(e.order, tr)
	return tr
}

// load reads the history before t; the recording itself is excluded.
func (e *Engine) load(tags pipeline.Tags, t pipeline.Timestamp) (Past, error) {
	if e.hist == nil {
		return Past{}, nil
	}
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if e.cfg.HistoryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.HistoryTimeout)
		defer cancel()
	}
	q := Query{
		Subject: tags.Subject, Site: tags.Site, ExcludeSession: tags.Session,
		Start: t.Time().Add(-e.cfg.Lookback()), End: t.Time(),
	}
	p, err := e.hist.Load(ctx, q)
	if err != nil {
		err = fmt.Errorf("rule: history of %s/%s: %w", tags.Subject, tags.Site, err)
		e.log.Warn("history unavailable; assessing this recording alone",
			"subject", tags.Subject, "site", tags.Site, "err", err)
		return Past{}, err
	}
	sortPast(&p)
	return p, nil
}

// dur converts a duration to Timestamp units.
func dur(d time.Duration) pipeline.Timestamp { return pipeline.Timestamp(d) }
