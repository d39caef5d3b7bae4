// Package influx writes twitchd's events to InfluxDB (OSS 1.8 through its
// 2.x write API, or 2.x) as a pipeline.Sink that never loses a point
// silently and never stalls the pipeline.
//
// Write encodes an event as line protocol (schema in README.md) and puts
// it on a bounded queue; it never waits for the network. One writer
// goroutine sends batches of up to BatchSize points through the client's
// blocking write API when a batch is full or FlushInterval has passed,
// retrying timeouts, connection errors, 5xx and 429 with exponential
// backoff and jitter for up to MaxRetryTime; with an Overflow (the
// spool) a failed write is not retried but opens a circuit instead: the
// batch and every new one go to the Overflow at once until a ping every
// ProbeInterval finds the server answering. Refused credentials (401,
// 403) and certificates that cannot be verified are configuration errors:
// the sink stops writing (ConfigErr) instead of retrying them for ever,
// and the points go to the Overflow. A request the server rejects
// as bad (400) is accounted exactly: a partial write's "dropped=N" is
// taken as given, any other rejection is bisected until the bad lines are
// isolated, so the good points still land (rewriting a point is harmless:
// the same series and time overwrite). Points that find the queue full or
// whose retries run out go to the configured Overflow, or are counted as
// dropped or failed. Stats counts every point; Flush and Close return a
// *LossError when points were lost since the previous Flush.
package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

var _ pipeline.Sink = (*Sink)(nil)

// Sink writes events to InfluxDB. Its methods are safe for concurrent use.
type Sink struct {
	cfg    Config
	client influxdb2.Client
	log    *slog.Logger
	t0     time.Time
	// post sends one request body; the client's WriteRecord normally.
	post func(ctx context.Context, body string) error
	// ping asks whether the server answers; the client's Ping normally.
	ping func(ctx context.Context) error

	wmu     sync.Mutex // serialises Write and WriteLines; guards pt, scratch
	pt      point
	scratch []byte

	mu         sync.Mutex
	cur        *batch   // filling
	ready      []*batch // sealed, oldest first
	free       []*batch // for reuse
	queued     int      // points in cur, ready and in flight
	in, done   uint64   // points queued so far, points finished so far
	progress   chan struct{}
	closed     bool
	stats      Stats
	latSum     time.Duration
	latN       int64
	latHist    [len(LatencyBuckets) + 1]int64
	reported   Stats // loss counters at the last Flush
	sinceErr   error // first error since the last Flush
	warnedFull bool
	lastProbe  time.Time // last probe, or when the circuit opened

	wake   chan struct{}
	cancel context.CancelFunc
	exited chan struct{}
}

// batch holds points as line protocol, one '\n'-terminated line each.
type batch struct {
	buf    []byte
	ends   []int   // offset just past each line
	enq    []int64 // when each line was queued, ns since the sink started
	sealed time.Time
}

func (b *batch) len() int { return len(b.ends) }

// start returns the offset of line i.
func (b *batch) start(i int) int {
	if i == 0 {
		return 0
	}
	return b.ends[i-1]
}

// New returns a Sink writing to the server and bucket cfg names and starts
// its writer. The Sink does not take a context: it must outlive the
// cancellation of the pipeline to flush what is queued; Close stops it.
func New(cfg *Config) (*Sink, error) {
	c := cfg.withDefaults()
	if c.URL == "" {
		return nil, errors.New("influx: no URL")
	}
	if c.Bucket == "" {
		return nil, errors.New("influx: no bucket (database/retention-policy on InfluxDB 1.8)")
	}
	opts := influxdb2.DefaultOptions().
		SetLogLevel(0).
		SetBatchSize(uint(c.BatchSize)).
		// The client's own timeout is a backstop; each request carries
		// a context deadline of HTTPTimeout.
		SetHTTPRequestTimeout(uint(math.Ceil(c.HTTPTimeout.Seconds())) + 5)
	if c.TLSConfig != nil {
		opts.SetTLSConfig(c.TLSConfig)
	}
	client := influxdb2.NewClientWithOptions(c.URL, c.Token, opts)
	w := client.WriteAPIBlocking(c.Org, c.Bucket)
	post := func(ctx context.Context, body string) error { return w.WriteRecord(ctx, body) }
	if c.ActivityBucket != "" && c.ActivityBucket != c.Bucket {
		wa := client.WriteAPIBlocking(c.Org, c.ActivityBucket)
		post = func(ctx context.Context, body string) error {
			return postSplit(ctx, body, func(ctx context.Context, b string) error { return w.WriteRecord(ctx, b) },
				func(ctx context.Context, b string) error { return wa.WriteRecord(ctx, b) })
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sink{
		cfg:      c,
		client:   client,
		log:      c.Logger,
		t0:       time.Now(),
		post:     post,
		ping:     func(ctx context.Context) error { return pingOf(ctx, client) },
		progress: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		cancel:   cancel,
		exited:   make(chan struct{}),
	}
	s.cur = s.newBatch()
	go s.run(ctx)
	return s, nil
}

// pingOf pings the server of client.
// activityPrefix starts every line of the activity measurement.
const activityPrefix = schema.Activity + ","

// postSplit sends the activity lines of body through activity and the
// others through events, as two requests. One error stands for both: a
// retryable failure of either makes the whole body be retried (writing a
// point again is harmless), and when both were answered with a
// rejection, a plain 400 makes deliver bisect the body until the bad
// lines are isolated, so that no count of dropped points is lost.
func postSplit(ctx context.Context, body string, events, activity func(ctx context.Context, body string) error) error {
	var ev, act strings.Builder
	for rest := body; rest != ""; {
		line, tail, _ := strings.Cut(rest, "\n")
		rest = tail
		if strings.HasPrefix(line, activityPrefix) {
			act.WriteString(line)
			act.WriteByte('\n')
		} else if line != "" {
			ev.WriteString(line)
			ev.WriteByte('\n')
		}
	}
	var errE, errA error
	if ev.Len() > 0 {
		errE = events(ctx, ev.String())
	}
	if act.Len() > 0 {
		errA = activity(ctx, act.String())
	}
	switch {
	case errE == nil:
		return errA
	case errA == nil:
		return errE
	}
	for _, err := range []error{errE, errA} {
		if out, _, _ := classify(ctx, err); out != outRejected && out != outBisect && out != outPartial {
			return err
		}
	}
	return &http2.Error{StatusCode: 400, Code: "invalid", Message: fmt.Sprintf("both buckets rejected lines: %v; %v", errE, errA)}
}

func pingOf(ctx context.Context, client influxdb2.Client) error {
	ok, err := client.Ping(ctx)
	if err == nil && !ok {
		err = errors.New("influx: server not ready")
	}
	return err
}

// Write encodes ev and queues its points. It never waits for the
// network: when the queue is full the points go to Overflow or are
// dropped, and the error wraps ErrQueueFull. It returns an error for an
// event the schema cannot encode (counted as rejected) and ErrClosed
// after Close.
func (s *Sink) Write(ev pipeline.Event) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var err error
	s.scratch, err = encode(&s.pt, s.scratch[:0], ev)
	if err != nil {
		s.mu.Lock()
		s.stats.Points++
		s.stats.Rejected++
		s.keepErrLocked(err)
		s.mu.Unlock()
		return err
	}
	return s.enqueue(s.scratch, 1, ev.EventType())
}

// WriteLines queues points already in line protocol, one per
// '\n'-terminated line (the last newline may be missing), e.g. points
// read back from a spool. The lines are not checked: a bad one is
// isolated when the server rejects it and counted as rejected.
func (s *Sink) WriteLines(lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.scratch = append(s.scratch[:0], lines...)
	if s.scratch[len(s.scratch)-1] != '\n' {
		s.scratch = append(s.scratch, '\n')
	}
	n := 0
	for _, c := range s.scratch {
		if c == '\n' {
			n++
		}
	}
	return s.enqueue(s.scratch, n, "line protocol")
}

// encode renders ev into dst using p, which the caller owns.
func encode(p *point, dst []byte, ev pipeline.Event) ([]byte, error) {
	if err := fill(p, ev); err != nil {
		return dst, err
	}
	return p.appendLine(dst), nil
}

// enqueue adds n lines to the current batch, or hands them to overflow
// when the queue has no room. Called with wmu held.
func (s *Sink) enqueue(lines []byte, n int, what string) error {
	s.mu.Lock()
	s.stats.Points += int64(n)
	if s.closed {
		s.stats.Dropped += int64(n)
		s.mu.Unlock()
		return ErrClosed
	}
	if s.queued+n > s.cfg.QueueSize {
		warn := !s.warnedFull
		s.warnedFull = true
		s.mu.Unlock()
		if warn {
			s.log.Warn("influx: queue full, points go to overflow or are dropped", "queue_size", s.cfg.QueueSize)
		}
		cause := fmt.Errorf("influx: %d points (%s) not queued: %w", n, what, ErrQueueFull)
		return s.overflow(ReasonQueueFull, lines, n, cause)
	}
	b := s.cur
	base := len(b.buf)
	b.buf = append(b.buf, lines...)
	now := int64(time.Since(s.t0))
	for i, c := range lines {
		if c == '\n' {
			b.ends = append(b.ends, base+i+1)
			b.enq = append(b.enq, now)
		}
	}
	s.queued += n
	s.in += uint64(n)
	full := b.len() >= s.cfg.BatchSize
	if full {
		s.sealLocked()
	}
	s.mu.Unlock()
	if full {
		s.signal()
	}
	return nil
}

// overflow hands lines to the Overflow, or counts them as lost, and
// returns nil if the Overflow took them or cause wrapped otherwise.
func (s *Sink) overflow(reason Reason, lines []byte, n int, cause error) error {
	err := cause
	if o := s.cfg.Overflow; o != nil {
		oerr := o.Overflow(reason, lines, n)
		if oerr == nil {
			s.mu.Lock()
			s.stats.Overflowed += int64(n)
			s.mu.Unlock()
			return nil
		}
		err = fmt.Errorf("%w (overflow refused them: %w)", cause, oerr)
	}
	s.mu.Lock()
	if reason == ReasonQueueFull {
		s.stats.Dropped += int64(n)
	} else {
		s.stats.Failed += int64(n)
	}
	s.keepErrLocked(err)
	s.mu.Unlock()
	return err
}

// Flush waits until every point queued before the call is written or
// given up, or ctx ends. It returns a *LossError when points were
// rejected, failed or dropped since the previous Flush, and ctx's error
// (with the number of points still queued) when ctx ends first.
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	s.sealLocked()
	target := s.in
	s.mu.Unlock()
	s.signal()
	for {
		s.mu.Lock()
		if s.done >= target {
			err := s.lossLocked()
			s.mu.Unlock()
			return err
		}
		ch := s.progress
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			pending := target - s.done
			s.mu.Unlock()
			return fmt.Errorf("influx: flush: %d points still queued: %w", pending, ctx.Err())
		}
	}
}

// Close flushes with ctx, then stops the writer: what is still queued
// when ctx ends goes to Overflow with ReasonClosed or is counted as
// failed. It returns Flush's error joined with any loss since. Write
// returns ErrClosed afterwards.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	err := s.Flush(ctx)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.exited
	s.client.Close()
	s.mu.Lock()
	loss := s.lossLocked()
	s.mu.Unlock()
	if loss != nil {
		return errors.Join(err, loss)
	}
	return err
}

// Stats returns the counts so far.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Queued = int64(s.queued)
	if s.latN > 0 {
		st.LatencyMean = s.latSum / time.Duration(s.latN)
	}
	st.LatencySum, st.LatencyCount, st.LatencyHist = s.latSum, s.latN, s.latHist
	st.Errors = append([]error(nil), s.stats.Errors...)
	return st
}

// lossLocked returns a *LossError for the losses since the last call, or nil.
func (s *Sink) lossLocked() error {
	e := &LossError{
		Rejected: s.stats.Rejected - s.reported.Rejected,
		Failed:   s.stats.Failed - s.reported.Failed,
		Dropped:  s.stats.Dropped - s.reported.Dropped,
		First:    s.sinceErr,
	}
	s.reported = s.stats
	s.sinceErr = nil
	s.warnedFull = false
	if e.Rejected+e.Failed+e.Dropped == 0 {
		return nil
	}
	return e
}

func (s *Sink) keepErrLocked(err error) {
	if len(s.stats.Errors) < MaxErrors {
		s.stats.Errors = append(s.stats.Errors, err)
	}
	if s.sinceErr == nil {
		s.sinceErr = err
	}
}

// sealLocked moves the current batch, if not empty, to the ready queue.
func (s *Sink) sealLocked() {
	if s.cur.len() == 0 {
		return
	}
	s.cur.sealed = time.Now()
	s.ready = append(s.ready, s.cur)
	if n := len(s.free); n > 0 {
		s.cur, s.free = s.free[n-1], s.free[:n-1]
	} else {
		s.cur = s.newBatch()
	}
}

func (s *Sink) newBatch() *batch {
	n := min(s.cfg.BatchSize, 1024)
	return &batch{buf: make([]byte, 0, n*128), ends: make([]int, 0, n), enq: make([]int64, 0, n)}
}

func (s *Sink) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run is the writer: it sends ready batches in order and seals the
// current one every FlushInterval.
func (s *Sink) run(ctx context.Context) {
	defer close(s.exited)
	tick := time.NewTicker(s.cfg.FlushInterval)
	defer tick.Stop()
	for {
		if ctx.Err() != nil {
			s.abandon(ctx.Err())
			return
		}
		if b := s.next(false); b != nil {
			if reason, cause, skip := s.bypass(ctx); skip {
				s.giveUp(b, 0, b.len(), reason, fmt.Errorf("influx: %d points not sent: %w", b.len(), cause))
			} else {
				s.deliver(ctx, b, 0, b.len(), b.sealed.Add(s.cfg.MaxRetryTime))
			}
			s.finish(b)
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-tick.C:
			s.mu.Lock()
			s.sealLocked()
			s.mu.Unlock()
		}
	}
}

// next pops the oldest ready batch; with seal it first seals the current one.
func (s *Sink) next(seal bool) *batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seal {
		s.sealLocked()
	}
	if len(s.ready) == 0 {
		return nil
	}
	b := s.ready[0]
	copy(s.ready, s.ready[1:])
	s.ready[len(s.ready)-1] = nil
	s.ready = s.ready[:len(s.ready)-1]
	return b
}

// abandon gives up everything still queued when the sink closes.
func (s *Sink) abandon(cause error) {
	for b := s.next(true); b != nil; b = s.next(true) {
		s.giveUp(b, 0, b.len(), ReasonClosed, fmt.Errorf("influx: sink closed before %d points were written: %w", b.len(), cause))
		s.finish(b)
	}
}

// finish marks a batch's points done and recycles it.
func (s *Sink) finish(b *batch) {
	n := b.len()
	s.mu.Lock()
	s.queued -= n
	s.done += uint64(n)
	s.stats.Batches++
	close(s.progress)
	s.progress = make(chan struct{})
	b.buf, b.ends, b.enq = b.buf[:0], b.ends[:0], b.enq[:0]
	if len(s.free) < 4 {
		s.free = append(s.free, b)
	}
	s.mu.Unlock()
}

// outcome is what to do after a write request.
type outcome uint8

const (
	outWritten  outcome = iota // all points acknowledged
	outPartial                 // server wrote all but dropped=N of them
	outRetry                   // transient: timeout, connection, 5xx, 429
	outBisect                  // rejected without a count: split to find the bad lines
	outRejected                // every line is bad
	outGiveUp                  // the request itself was refused (404, ...)
	outConfig                  // credentials refused (401, 403) or certificate not verified
	outClosed                  // the sink is closing
)

var droppedRe = regexp.MustCompile(`dropped=(\d+)`)

// classify maps a write error to an outcome, with the count a partial
// write dropped and the wait a 429 or 503 asked for.
func classify(ctx context.Context, err error) (out outcome, dropped int, retryAfter time.Duration) {
	if err == nil {
		return outWritten, 0, 0
	}
	if ctx.Err() != nil {
		return outClosed, 0, 0
	}
	if configError(err, "") != nil {
		return outConfig, 0, 0
	}
	var he *http2.Error
	if !errors.As(err, &he) || he.StatusCode == 0 {
		return outRetry, 0, 0 // connection refused or reset, timeout
	}
	code, msg := he.StatusCode, he.Message
	switch {
	case code == 429 || code >= 500:
		return outRetry, 0, time.Duration(he.RetryAfter) * time.Second
	case code == 413:
		return outBisect, 0, 0 // too large: halves may pass
	case code == 400 || code == 422:
		parseErr := strings.Contains(msg, "unable to parse")
		if m := droppedRe.FindStringSubmatch(msg); m != nil && strings.Contains(msg, "partial write") && !parseErr {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				return outPartial, n, 0
			}
		}
		// InfluxDB 1.x answers "unable to parse" without "partial write"
		// only when no line of the body parsed; 2.x rejects a whole body
		// for one bad line, so there the lines must be bisected.
		if parseErr && !strings.Contains(msg, "partial write") && isInflux1(he) {
			return outRejected, 0, 0
		}
		return outBisect, 0, 0
	}
	return outGiveUp, 0, 0
}

// isInflux1 tells InfluxDB 1.x by its version header ("1.8.10", or
// "unknown" when built from source without version flags).
func isInflux1(he *http2.Error) bool {
	v := he.Header.Get("X-Influxdb-Version")
	return strings.HasPrefix(v, "1.") || v == "unknown"
}

// deliver writes lines [i, j) of b, retrying, bisecting and accounting
// every point, until they are written, rejected or given up.
func (s *Sink) deliver(ctx context.Context, b *batch, i, j int, deadline time.Time) {
	n := j - i
	for attempt := 0; ; attempt++ {
		body := string(b.buf[b.start(i):b.ends[j-1]])
		rctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
		err := s.post(rctx, body)
		cancel()
		out, dropped, retryAfter := classify(ctx, err)
		s.mu.Lock()
		s.stats.Requests++
		answered := false
		switch out {
		case outWritten, outPartial, outRejected, outBisect:
			s.stats.LastAnswer = time.Now()
			answered = true
		case outRetry, outGiveUp, outConfig:
			s.stats.LastFailure = time.Now()
			s.stats.LastFailureErr = err
		}
		s.mu.Unlock()
		if answered {
			s.closeCircuit()
		}
		switch out {
		case outWritten:
			s.acknowledge(b, i, j, 0, nil)
			return
		case outPartial:
			dropped = min(dropped, n)
			s.acknowledge(b, i, j, dropped, fmt.Errorf("influx: server rejected %d of %d points: %w", dropped, n, err))
			return
		case outRejected:
			s.reject(b, i, j, err)
			return
		case outBisect:
			if n == 1 {
				s.reject(b, i, j, err)
				return
			}
			mid := i + n/2
			s.deliver(ctx, b, i, mid, deadline)
			s.deliver(ctx, b, mid, j, deadline)
			return
		case outGiveUp:
			s.giveUp(b, i, j, ReasonGaveUp, fmt.Errorf("influx: server refused a write of %d points: %w", n, err))
			return
		case outConfig:
			cerr := s.setConfigErr(configError(err, s.cfg.Bucket))
			s.giveUp(b, i, j, ReasonConfig, fmt.Errorf("influx: %d points not written: %w", n, cerr))
			return
		case outClosed:
			s.giveUp(b, i, j, ReasonClosed, fmt.Errorf("influx: sink closed before %d points were written: %w", n, err))
			return
		}
		// outRetry
		if s.cfg.Overflow != nil {
			s.openCircuit(err)
			s.giveUp(b, i, j, ReasonOutage, fmt.Errorf("influx: write of %d points failed: %w", n, err))
			return
		}
		delay := s.backoff(attempt+1, retryAfter)
		if attempt >= s.cfg.MaxRetries || time.Now().Add(delay).After(deadline) {
			s.giveUp(b, i, j, ReasonGaveUp, fmt.Errorf("influx: gave up on %d points after %d attempts: %w", n, attempt+1, err))
			return
		}
		lvl := slog.LevelDebug
		if attempt == 0 {
			lvl = slog.LevelWarn
		}
		s.log.Log(ctx, lvl, "influx: write failed, retrying", "points", n, "attempt", attempt+1, "delay", delay, "err", err)
		s.mu.Lock()
		s.stats.Retries++
		s.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.giveUp(b, i, j, ReasonClosed, fmt.Errorf("influx: sink closed before %d points were written: %w", n, err))
			return
		}
	}
}

// backoff returns the wait before retry number attempt (1-based):
// MinBackoff doubled per attempt up to MaxBackoff, with equal jitter
// (between half and all of it), or retryAfter if longer.
func (s *Sink) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := s.cfg.MaxBackoff
	if attempt < 32 {
		if e := s.cfg.MinBackoff << (attempt - 1); e > 0 && e < d {
			d = e
		}
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// acknowledge counts lines [i, j) as answered by the server with dropped
// of them rejected, and records their latency.
func (s *Sink) acknowledge(b *batch, i, j, dropped int, err error) {
	now := time.Since(s.t0)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Written += int64(j - i - dropped)
	s.stats.Rejected += int64(dropped)
	if err != nil {
		s.keepErrLocked(err)
	}
	for k := i; k < j; k++ {
		lat := now - time.Duration(b.enq[k])
		s.latSum += lat
		s.latN++
		s.latHist[sort.SearchFloat64s(LatencyBuckets[:], lat.Seconds())]++
		s.stats.LatencyLast = lat
		s.stats.LatencyMax = max(s.stats.LatencyMax, lat)
	}
	if err != nil {
		s.log.Warn("influx: points rejected", "rejected", dropped, "of", j-i, "err", err)
	}
}

// reject counts lines [i, j) as rejected by the server.
func (s *Sink) reject(b *batch, i, j int, err error) {
	what := fmt.Sprintf("%d lines", j-i)
	if j-i == 1 {
		line := strings.TrimSuffix(string(b.buf[b.start(i):b.ends[i]]), "\n")
		if len(line) > 200 {
			line = line[:200] + "..."
		}
		what = strconv.Quote(line)
	}
	err = fmt.Errorf("influx: server rejected %s: %w", what, err)
	s.log.Warn("influx: points rejected", "rejected", j-i, "err", err)
	s.mu.Lock()
	s.stats.Rejected += int64(j - i)
	s.keepErrLocked(err)
	s.mu.Unlock()
}

// giveUp hands lines [i, j) to overflow or counts them as failed.
func (s *Sink) giveUp(b *batch, i, j int, reason Reason, err error) {
	if reason == ReasonGaveUp {
		s.log.Error("influx: giving up on points", "points", j-i, "err", err)
	}
	_ = s.overflow(reason, b.buf[b.start(i):b.ends[j-1]], j-i, err)
}
