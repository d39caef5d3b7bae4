package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/pipeline"
)

// outputs are the open sinks of one run: the events file, InfluxDB with
// its spool and drainer, the run's meter and the caller's sinks.
type outputs struct {
	sinks  []pipeline.Sink
	events *events.Writer
	file   *os.File
	conn   *influxconn.Conn // also reads history back for the persistence rule
	influx *influx.Sink
	spool  *durable // nil without a spool
	meter  *meter
	log    *slog.Logger
}

// open creates the events file and the InfluxDB sink with its spool, as
// cfg says, and starts the spool's drainer.
func open(cfg *Config, log *slog.Logger) (*outputs, error) {
	out := &outputs{log: log, meter: newMeter()}
	switch cfg.Events {
	case "":
	case "-":
		out.events = events.NewWriter(cfg.Stdout, cfg.Epochs)
	default:
		f, err := os.OpenFile(cfg.Events, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("events file: %w", err)
		}
		out.file = f
		out.events = events.NewWriter(f, cfg.Epochs)
	}
	if out.events != nil {
		out.sinks = append(out.sinks, out.events)
	}
	if cfg.Influx.Enabled() {
		if err := out.openInflux(cfg, log); err != nil {
			out.close(context.Background(), 0)
			return nil, err
		}
	}
	out.sinks = append(append(out.sinks, out.meter), cfg.Sinks...)
	return out, nil
}

// openInflux opens the connection, the spool and the sink, and starts
// the drainer.
func (out *outputs) openInflux(cfg *Config, log *slog.Logger) error {
	conn, err := influxconn.Open(cfg.Influx)
	if err != nil {
		return err
	}
	out.conn = conn
	sc := conn.Sink(log).SetMaxRetryTime(cfg.RetryTime)
	if out.spool, err = openSpool(cfg.Influx, cfg.Spool, sc, log); err != nil {
		return err
	}
	s, err := influx.New(sc)
	if err != nil {
		return fmt.Errorf("influxdb: %w", err)
	}
	out.influx = s
	out.sinks = append(out.sinks, dataOnly{s})
	out.spool.start(s, conn.Ping, cfg.Spool)
	return nil
}

// history returns the reader of the person's history for the rule, nil
// without InfluxDB.
func (out *outputs) history(cfg rule.Config) rule.History {
	if out.conn == nil {
		return nil
	}
	return history.NewReader(out.conn.Query(), out.conn.Bucket()).For(cfg)
}

// close stops the drainer and sends the spool for at most finalDrain,
// then flushes and closes everything; it returns the first error.
func (out *outputs) close(ctx context.Context, finalDrain time.Duration) error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	out.spool.stop(finalDrain)
	if out.conn != nil {
		out.conn.Close()
	}
	if out.influx != nil {
		if err := out.influx.Close(ctx); err != nil {
			keep(fmt.Errorf("influxdb: %w", err))
		}
	}
	keep(out.spool.close())
	if out.events != nil {
		keep(out.events.Flush(ctx))
	}
	if out.file != nil {
		if err := out.file.Close(); err != nil {
			keep(fmt.Errorf("events file: %w", err))
		}
	}
	return first
}

// influxCounts returns the sink's counts so far, nil without InfluxDB.
func (out *outputs) influxCounts() *InfluxCounts {
	if out.influx == nil {
		return nil
	}
	s := out.influx.Stats()
	return &InfluxCounts{Written: s.Written, Rejected: s.Rejected, Failed: s.Failed, Dropped: s.Dropped, Retries: s.Retries}
}

// report fills in the final counts of InfluxDB and the spool.
func (out *outputs) report(res *Result) {
	if out.influx == nil {
		return
	}
	st := out.influx.Stats()
	res.Influx = &st
	if out.spool != nil {
		res.Spool = &SpoolReport{Dir: out.spool.spool.Dir(), Spooled: st.Overflowed, Stats: out.spool.spool.Stats()}
	}
}

// dataOnly passes every event but watermarks, which only order the events
// file, to a sink that stores observations.
type dataOnly struct{ pipeline.Sink }

// Write forwards ev unless it is a watermark.
func (d dataOnly) Write(ev pipeline.Event) error {
	if ev.EventType() == pipeline.TypeWatermark {
		return nil
	}
	return d.Sink.Write(ev)
}

// durable is the spool of one run and its drainer.
type durable struct {
	spool  *spool.Spool
	drain  *spool.Drainer
	wait   time.Duration // for the server at the end
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// openSpool opens the spool of the server and bucket s names under
// sp.Root and makes it the sink's overflow. It returns nil without a root.
func openSpool(s influxconn.Settings, sp Spool, sc *influx.Config, log *slog.Logger) (*durable, error) {
	if sp.Root == "" {
		return nil, nil
	}
	dir := s.SpoolDir(sp.Root)
	sl, err := spool.Open(spool.Config{Dir: dir, MaxBytes: sp.MaxBytes, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%w (give --spool-dir a writable directory, or --spool-dir= to run without a spool)", err)
	}
	// For people looking into the directory: where its points go.
	_ = os.WriteFile(filepath.Join(dir, "TARGET"), []byte(s.Target()), 0o600)
	sc.SetOverflow(influx.OverflowFunc(func(_ influx.Reason, lines []byte, n int) error {
		return sl.Append(lines, n)
	}))
	if st := sl.Stats(); st.Pending > 0 || st.TornTails > 0 {
		log.Warn("spool: points from an earlier run will be sent", "points", st.Pending, "dir", dir, "torn_tails", st.TornTails)
	}
	return &durable{spool: sl}, nil
}

// start runs the drainer in the background: at once (the points of an
// earlier run), then whenever the spool holds points and ping answers.
func (du *durable) start(sink *influx.Sink, ping func(context.Context) error, sp Spool) {
	if du == nil {
		return
	}
	du.drain = &spool.Drainer{Spool: du.spool, Target: sink, Ready: ping, Interval: sp.Interval}
	du.wait = sp.ServerWait
	ctx, cancel := context.WithCancel(context.Background())
	du.cancel = cancel
	du.wg.Add(1)
	go func() {
		defer du.wg.Done()
		du.drain.Run(ctx)
	}()
}

// stop ends the background drainer, then sends what the spool holds for
// at most final (spool.Drainer.Final).
func (du *durable) stop(final time.Duration) {
	if du == nil || du.cancel == nil {
		return
	}
	du.cancel()
	du.wg.Wait()
	if final <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), final)
	defer cancel()
	_ = du.drain.Final(ctx, du.wait)
}

// close closes the spool, after the sink.
func (du *durable) close() error {
	if du == nil {
		return nil
	}
	return du.spool.Close()
}

// recordDelivery adds to the file's ingest point in InfluxDB how many of
// its points the server rejected (the dashboards' ingest table shows it).
// It writes nothing when points were lost on the way (the server is down
// or the queue was full): that count is in the run's result instead.
func (out *outputs) recordDelivery(cfg *Config, sr *StreamResult) {
	if out.influx == nil || sr.Influx == nil || sr.Summary.File == "" || sr.Influx.Failed+sr.Influx.Dropped > 0 {
		return
	}
	if err := out.influx.WriteLines(influx.AppendDelivery(nil, &sr.Summary, sr.Influx.Rejected)); err != nil && cfg.Log != nil {
		cfg.Log.Warn("ingest delivery counts not written", "file", sr.Summary.File, "err", err)
	}
}
