package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twitchd/twitchd/internal/health"
	metricsfmt "github.com/twitchd/twitchd/internal/metrics"
	"github.com/twitchd/twitchd/pipeline"
)

// staleAfter is how long a live stream may deliver nothing before
// /healthz reports it as not reading.
const staleAfter = 5 * time.Second

// metrics counts what one command run read and produced, for /metrics
// and /healthz. It is a pipeline.Sink (counting events by type) and
// wraps sources (counting samples).
type metrics struct {
	samples, skipped, lost atomic.Int64
	lastRead               atomic.Int64 // Unix ns of the last frame read
	reading                atomic.Bool

	mu     sync.Mutex
	events map[string]int64

	// pingErr is the last InfluxDB ping's error ("" when it answered),
	// kept by the pinger while /healthz is served.
	pingErr atomic.Pointer[string]
}

func newMetrics() *metrics { return &metrics{events: map[string]int64{}} }

// Write counts ev by type (watermarks are internal and left out).
func (m *metrics) Write(ev pipeline.Event) error {
	t := ev.EventType()
	if t == pipeline.TypeWatermark {
		return nil
	}
	m.mu.Lock()
	m.events[t]++
	m.mu.Unlock()
	return nil
}

// Flush does nothing.
func (m *metrics) Flush(context.Context) error { return nil }

// source wraps src so that every Next counts samples and copies the
// source's skip and loss counts.
func (m *metrics) source(src pipeline.Source) pipeline.Source {
	return &countingSource{Source: src, m: m}
}

// countingSource counts what its Source delivers. Next and Stats are
// called from the Runner's reading goroutine, as the Source contract
// says; the counters it feeds are atomic.
type countingSource struct {
	pipeline.Source
	m             *metrics
	skipped, lost int64 // the source's counts last seen
}

// Next reads a batch and counts its samples (values that are not NaN).
// A panic in the decoder (a bug) becomes an error naming it, so that the
// run ends with a message, its summary and every point flushed or
// spooled, instead of a crash.
func (c *countingSource) Next(ctx context.Context, b *pipeline.Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b.Reset()
			err = &panicError{what: c.Meta().Format + " decoder", value: r, stack: debug.Stack()}
		}
	}()
	c.m.reading.Store(true)
	err = c.Source.Next(ctx, b)
	var n int64
	for i := range b.Frames {
		for _, v := range b.Frames[i].Values {
			if !pipeline.IsNoSample(v) {
				n++
			}
		}
	}
	if n > 0 {
		c.m.samples.Add(n)
		c.m.lastRead.Store(time.Now().UnixNano())
	}
	st := c.Source.Stats()
	c.m.skipped.Add(st.Skipped - c.skipped)
	c.m.lost.Add(st.Lost - c.lost)
	c.skipped, c.lost = st.Skipped, st.Lost
	return err
}

// panicError reports a panic turned into an error.
type panicError struct {
	what  string
	value any
	stack []byte
}

// Error implements error.
func (e *panicError) Error() string {
	return fmt.Sprintf("internal error in the %s (please report it with the input): %v", e.what, e.value)
}

// logPanic logs the stack of a panic behind err, for -v.
func logPanic(log *slog.Logger, err error) {
	var pe *panicError
	if log != nil && errors.As(err, &pe) {
		log.Debug("panic", "in", pe.what, "stack", string(pe.stack))
	}
}

// check is /healthz: reading (a frame within staleAfter, once the first
// has come) and InfluxDB answering and the spool not full.
func (out *outputs) check() error {
	m := out.metrics
	if !m.reading.Load() {
		return errors.New("not reading yet")
	}
	last := m.lastRead.Load()
	if last == 0 {
		return errors.New("no sample read yet")
	}
	if age := time.Since(time.Unix(0, last)); age > staleAfter {
		return fmt.Errorf("no sample for %v", age.Round(time.Second))
	}
	if out.influx != nil {
		if e := m.pingErr.Load(); e != nil && *e != "" {
			return fmt.Errorf("influxdb: write failing: not answering: %s", *e)
		}
		st := out.influx.Stats()
		if !st.Healthy() {
			return fmt.Errorf("influxdb: write failing since %s: %v", st.LastFailure.UTC().Format(time.RFC3339), st.LastFailureErr)
		}
	}
	if out.durable != nil {
		st := out.durable.spool.Stats()
		if max := int64(out.durableMax); max > 0 && st.PendingBytes*10 >= max*9 {
			return fmt.Errorf("spool %d%% full (%d of %d bytes)", st.PendingBytes*100/max, st.PendingBytes, max)
		}
	}
	return nil
}

// gather writes /metrics.
func (out *outputs) gather(w *metricsfmt.Writer) {
	m := out.metrics
	w.Counter("twitchd_samples_read_total", "Samples read from the sources (all channels).", float64(m.samples.Load()))
	w.Counter("twitchd_lines_skipped_total", "Malformed lines, records or frames skipped.", float64(m.skipped.Load()))
	w.Counter("twitchd_samples_lost_total", "Samples a device reported but never delivered.", float64(m.lost.Load()))
	m.mu.Lock()
	for _, t := range []string{pipeline.TypeTwitch, pipeline.TypeBout, pipeline.TypeRest, pipeline.TypeCramp,
		pipeline.TypeEpoch, pipeline.TypeAssessment, pipeline.TypeSummary} {
		w.Counter("twitchd_events_total", "Events produced, by type.", float64(m.events[t]), "type", t)
	}
	m.mu.Unlock()
	if out.influx != nil {
		st := out.influx.Stats()
		w.Counter("twitchd_points_total", "Points given to the InfluxDB sink.", float64(st.Points))
		w.Counter("twitchd_points_written_total", "Points InfluxDB acknowledged.", float64(st.Written))
		w.Counter("twitchd_points_rejected_total", "Points InfluxDB refused as bad.", float64(st.Rejected))
		w.Counter("twitchd_points_spooled_total", "Points handed to the on-disk spool.", float64(st.Overflowed))
		w.Counter("twitchd_points_failed_total", "Points given up after retries that no spool took.", float64(st.Failed))
		w.Counter("twitchd_points_dropped_total", "Points dropped on a full queue that no spool took.", float64(st.Dropped))
		w.Gauge("twitchd_points_queued", "Points waiting in the sink's queue.", float64(st.Queued))
		w.Counter("twitchd_write_requests_total", "Write requests sent to InfluxDB.", float64(st.Requests))
		w.Counter("twitchd_write_retries_total", "Write requests repeated after a failure.", float64(st.Retries))
		w.Summary("twitchd_write_latency_seconds", "Time from queueing a point to InfluxDB acknowledging it.",
			st.LatencySum.Seconds(), st.LatencyCount)
		w.Gauge("twitchd_write_latency_max_seconds", "Longest such time so far.", st.LatencyMax.Seconds())
	}
	if out.durable != nil {
		st := out.durable.spool.Stats()
		w.Counter("twitchd_spool_points_resent_total", "Spooled points sent to InfluxDB again.", float64(st.Resent))
		w.Counter("twitchd_spool_points_refused_total", "Points the spool refused (full or disk error).", float64(st.Refused))
		w.Counter("twitchd_spool_torn_tails_total", "Segment tails dropped at start-up, torn by a crash.", float64(st.TornTails))
		w.Gauge("twitchd_spool_points", "Points waiting in the spool.", float64(st.Pending))
		w.Gauge("twitchd_spool_bytes", "Bytes the spool takes on disk.", float64(st.PendingBytes))
	}
}

// serveHealth starts /healthz and /metrics when --listen is set; the
// returned function stops them.
func (o *outputFlags) serveHealth(out *outputs) (func(), error) {
	if o.cfg.Health.Addr == "" {
		return func() {}, nil
	}
	srv, err := health.Listen(health.Config{Addr: o.cfg.Health.Addr, AllowAny: o.cfg.Health.AllowAny, Check: out.check, Metrics: metricsfmt.Func(out.gather)})
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	out.log.Info("serving /healthz and /metrics", "addr", srv.Addr())
	stopPing := out.pinger(pingEvery)
	return func() {
		stopPing()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	}, nil
}

// pingEvery is how often /healthz's pinger asks InfluxDB whether it
// answers, so an outage shows even while nothing is being written.
const pingEvery = time.Second

// pinger pings InfluxDB every interval and records the outcome for check;
// the returned function stops it.
func (out *outputs) pinger(every time.Duration) func() {
	if out.conn == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			msg := ""
			pctx, pcancel := context.WithTimeout(ctx, every)
			if err := out.conn.Ping(pctx); err != nil && ctx.Err() == nil {
				msg = err.Error()
			}
			pcancel()
			out.metrics.pingErr.Store(&msg)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
