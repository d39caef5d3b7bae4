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
// Timing. Detectors emit an event when it is final, so a bout arrives
// when it ends, after twitches that came later than its start. The Engine
// therefore holds the events it reads (bouts, rests, twitches, cramps,
// symptoms) and processes them in time order (by start) only up to the
// latest *pipeline.Watermark, the detectors' promise that no event
// starting earlier will follow. A twitch is thus counted only once every
// bout starting before it is known, and no assessment is made while the
// activity around the twitches it counts is undecided. End processes
// everything left. Assessments carry the time at which the evidence
// sufficed (a twitch's start, the end of the window after resumed
// activity), so they do not depend on how often watermarks come; they
// are emitted before the watermark that let them be made is forwarded.
// Memory: the queue holds only events after the watermark, at most
// Config.MaxPending.
//
// State is kept per subject and site (an event's Tags, or the stream's
// Meta when the event has none) and is reset by Begin: what carries over
// between recordings is read from History. All times are the recording's
// clock, so a replay yields the same assessments every time.
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
	last   *track   // the latest used, to skip the map for runs of one pair

	queue    queue              // events waiting for the watermark
	seq      uint64             // arrival counter, to keep equal times in order
	mark     pipeline.Timestamp // latest watermark
	now      pipeline.Timestamp // time of the latest processed event or watermark
	overflow bool               // MaxPending was exceeded in this stream
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

// Pending returns the number of events waiting for a watermark.
func (e *Engine) Pending() int { return len(e.queue) }

// Begin implements pipeline.EventStage: it checks the configuration and
// forgets the previous stream's state.
func (e *Engine) Begin(meta pipeline.Meta) error {
	if err := e.cfg.Validate(); err != nil {
		return err
	}
	e.meta = meta
	e.reset()
	return nil
}

func (e *Engine) reset() {
	e.tracks = map[[2]string]*track{}
	e.order = e.order[:0]
	e.last = nil
	clear(e.queue)
	e.queue = e.queue[:0]
	e.seq, e.mark, e.now, e.overflow = 0, 0, 0, false
}

// Handle implements pipeline.EventStage. Events the rule reads are
// forwarded at once and queued until a watermark passes them; a
// watermark is forwarded after the assessments it allowed.
func (e *Engine) Handle(ev pipeline.Event, emit pipeline.Emit) {
	if e.tracks == nil {
		e.reset()
	}
	if w, ok := ev.(*pipeline.Watermark); ok {
		e.mark = max(e.mark, w.Time)
		e.drain(e.mark, emit)
		e.advance(e.mark, emit)
		emit(ev)
		return
	}
	emit(ev)
	if !ruleEvent(ev) {
		return
	}
	e.seq++
	e.queue.push(pending{ev: ev, seq: e.seq})
	if len(e.queue) > e.cfg.MaxPending {
		if !e.overflow {
			e.overflow = true
			e.log.Warn("rule: more events waiting for a watermark than MaxPending; processing the oldest early",
				"max_pending", e.cfg.MaxPending, "watermark", e.mark)
		}
		e.process(e.queue.pop().ev, emit)
	}
}

// ruleEvent reports whether the rule reads ev.
func ruleEvent(ev pipeline.Event) bool {
	switch ev.(type) {
	case *pipeline.Twitch, *pipeline.Bout, *pipeline.Rest, *pipeline.Cramp, *pipeline.Symptom:
		return true
	}
	return false
}

// drain processes, in time order, every queued event starting before t.
func (e *Engine) drain(t pipeline.Timestamp, emit pipeline.Emit) {
	for len(e.queue) > 0 && e.queue[0].ev.At() < t {
		e.process(e.queue.pop().ev, emit)
	}
}

// process hands one event, in time order, to its subject and site.
func (e *Engine) process(ev pipeline.Event, emit pipeline.Emit) {
	t := ev.At()
	if _, logged := ev.(*pipeline.Symptom); !logged {
		// A symptom is a person's note, not part of the recording: it
		// does not move the recording's clock.
		e.advance(t, emit)
	}
	tags, _ := EventTags(ev)
	tr := e.track(tags, t)
	before := tr.status
	tr.handle(ev)
	if tr.status != before {
		emit(tr.assessment())
	}
}

// advance moves every state's clock to t (no earlier event will come),
// judging the windows after resumed activity that end by then; each such
// verdict is assessed at its window's end.
func (e *Engine) advance(t pipeline.Timestamp, emit pipeline.Emit) {
	e.now = max(e.now, t)
	for _, tr := range e.order {
		if end, ok := tr.windowEnd(); ok && end <= t {
			before := tr.status
			tr.see(end)
			tr.judge(false)
			if tr.status != before {
				emit(tr.assessment())
			}
		}
		tr.see(t)
	}
}

// End implements pipeline.EventStage: it processes every queued event,
// settles what the recording allows and emits every pair's final
// assessment.
func (e *Engine) End(last pipeline.Timestamp, emit pipeline.Emit) {
	if e.tracks == nil {
		e.reset()
	}
	for len(e.queue) > 0 {
		e.process(e.queue.pop().ev, emit)
	}
	last = max(last, e.now)
	e.advance(last, emit)
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
	if tr := e.last; tr != nil && tr.tags.Subject == tags.Subject && tr.tags.Site == tags.Site {
		return tr
	}
	k := [2]string{tags.Subject, tags.Site}
	tr := e.tracks[k]
	if tr == nil {
		past, err := e.load(tags, t)
		tr = newTrack(&e.cfg, tags, t, past, err)
		e.tracks[k] = tr
		e.order = append(e.order, tr)
	}
	e.last = tr
	return tr
}

// StoppingHistoryTimeout bounds the history read of an assessment made
// after the run's context was cancelled (the final one of a live run
// that is being stopped).
const StoppingHistoryTimeout = 5 * time.Second

// load reads the history before t; the recording itself is excluded.
func (e *Engine) load(tags pipeline.Tags, t pipeline.Timestamp) (Past, error) {
	if e.hist == nil {
		return Past{}, nil
	}
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	timeout := e.cfg.HistoryTimeout
	if ctx.Err() != nil {
		// The run is stopping (SIGTERM, the end of --duration) before
		// this assessment: the final assessment still deserves the
		// person's history, for a few seconds at most.
		ctx = context.WithoutCancel(ctx)
		if timeout <= 0 || timeout > StoppingHistoryTimeout {
			timeout = StoppingHistoryTimeout
		}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
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
	SortPast(&p)
	return p, nil
}

// dur converts a duration to Timestamp units.
func dur(d time.Duration) pipeline.Timestamp { return pipeline.Timestamp(d) }

// pending is a queued event.
type pending struct {
	ev  pipeline.Event
	seq uint64
}

// rank orders events of the same start: a bout before the twitches that
// start with it (they are inside it), a symptom last.
func rank(ev pipeline.Event) int {
	switch ev.(type) {
	case *pipeline.Bout:
		return 0
	case *pipeline.Rest:
		return 1
	case *pipeline.Cramp:
		return 2
	case *pipeline.Twitch:
		return 3
	}
	return 4
}

// queue is a min-heap of events by start, rank and arrival. It is typed
// (not container/heap) so that pushing does not allocate.
type queue []pending

func (q queue) less(i, j int) bool {
	a, b := q[i].ev.At(), q[j].ev.At()
	if a != b {
		return a < b
	}
	if ra, rb := rank(q[i].ev), rank(q[j].ev); ra != rb {
		return ra < rb
	}
	return q[i].seq < q[j].seq
}

func (q *queue) push(p pending) {
	*q = append(*q, p)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *queue) pop() pending {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = pending{}
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
