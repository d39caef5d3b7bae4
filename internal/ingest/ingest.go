package ingest

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // every file format and live protocol
	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/metrics"
	"github.com/twitchd/twitchd/internal/progress"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// Run does one ingest run: it connects to the live device (if any),
// opens the events file, InfluxDB and the spool, serves the health
// endpoint, runs every file in order (or the device until ctx is
// cancelled or StopAfter), then shuts down: the drainer stops, the spool
// is sent for up to FinalDrain (a replay that ran to its end) or
// StopDrain (stopped early, or live), and the sinks are flushed within
// CloseTimeout, what InfluxDB did not take going to the spool.
//
// A file or stream that fails is reported in its StreamResult and the
// run goes on with the next. Run returns an error when it could not
// start (a bad configuration, an unusable events file or spool, an
// address it cannot serve on: that error wraps ErrHealth) or could not
// close cleanly; the Result is valid whenever it is not nil.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if cfg.Device != nil && cfg.StopAfter > 0 {
		// Cancel (not a deadline): the Runner takes cancellation as a
		// clean stop and writes the summary.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer time.AfterFunc(cfg.StopAfter, cancel).Stop()
	}
	var live *liveDevice
	if cfg.Device != nil {
		var err error
		if live, err = dial(ctx, &cfg); err != nil {
			return nil, err
		}
	}
	out, err := open(&cfg, log)
	if err != nil {
		live.close()
		return nil, err
	}
	stopHealth, err := serveHealth(cfg.Health, out, live.collector(), log)
	if err != nil {
		live.close()
		out.close(context.Background(), 0)
		return nil, err
	}
	defer stopHealth()

	res := &Result{}
	final := FinalDrain
	nt := startNotify(cfg.Notify, out.meter, live.describe(), live.away(), out.healthCheck)
	if live != nil {
		res.Streams = append(res.Streams, out.live(ctx, &cfg, live)...)
		final = StopDrain
	} else {
		out.files(ctx, &cfg, res)
	}
	nt.stop()
	if ctx.Err() != nil {
		final = StopDrain
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CloseTimeout)
	defer cancel()
	err = out.close(cctx, final)
	out.report(res)
	return res, err
}

// normalise checks cfg and fills in what is left at its zero value:
// the logger, the detector and rule settings, the subject's pseudonym.
func (cfg *Config) normalise() error {
	if (len(cfg.Files) > 0) == (cfg.Device != nil) {
		return errors.New("ingest: give files or a device, not both or neither")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Influx.Logger == nil {
		cfg.Influx.Logger = cfg.Log
	}
	if reflect.ValueOf(cfg.Detect).IsZero() {
		cfg.Detect = detect.Default()
	}
	if reflect.ValueOf(cfg.Rule).IsZero() {
		cfg.Rule = rule.DefaultConfig()
	}
	if cfg.Subject == "" {
		cfg.Subject = Defaults().Subject
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	key, err := cfg.Influx.Pseudonyms()
	if err != nil {
		return err
	}
	cfg.Subject = key.Subject(cfg.Subject)
	if key.Set() {
		files := make([]File, len(cfg.Files))
		for i, f := range cfg.Files {
			if f.Subject != "" {
				f.Subject = key.Subject(f.Subject)
			}
			files[i] = f
		}
		cfg.Files = files
	}
	if cfg.Device != nil {
		return cfg.Device.Validate()
	}
	return nil
}

// files replays cfg.Files in order until ctx is cancelled; with Jobs
// above 1, several at once (see parallel).
func (out *outputs) files(ctx context.Context, cfg *Config, res *Result) {
	if cfg.Jobs > 1 && len(cfg.Files) > 1 {
		out.parallel(ctx, cfg, res)
		return
	}
	for _, f := range cfg.Files {
		if ctx.Err() != nil {
			return
		}
		sr := out.replayFile(ctx, cfg, f, nil, func(src *decode.File) func() {
			return progress.Start(cfg.Progress, filepath.Base(f.Path), src.Position)
		})
		res.Streams = append(res.Streams, sr)
		if cfg.OnStream != nil {
			cfg.OnStream(sr)
		}
	}
}

// replayFile opens f and runs it as a stream, its events held by g until
// its turn (nil: none held). show starts its progress display and
// returns what stops it.
func (out *outputs) replayFile(ctx context.Context, cfg *Config, f File, g *gate, show func(*decode.File) func()) StreamResult {
	opts := f.Options
	if opts.Start.IsZero() {
		if st, err := os.Stat(f.Path); err == nil {
			opts.Start = st.ModTime().UTC()
		}
	}
	if f.Subject != "" {
		c := *cfg
		c.Subject = f.Subject
		cfg = &c
	}
	src, err := decode.OpenFile(f.Path, f.Format, opts)
	if err != nil {
		g.acquire()
		return StreamResult{Name: f.Path, Err: err}
	}
	stop := show(src)
	sr := out.stream(ctx, cfg, f.Path, src, cfg.Speed, g)
	stop()
	src.Close()
	out.recordDelivery(cfg, &sr)
	return sr
}

// stream runs one source through the processors, stages and sinks. A
// non-nil g comes first among the stages: it holds every event until the
// stream's turn to write (see gate).
func (out *outputs) stream(ctx context.Context, cfg *Config, name string, src pipeline.Source, speed float64, g *gate) StreamResult {
	var before *InfluxCounts
	if g == nil {
		before = out.influxCounts()
	} else {
		g.onTurn = func() { before = out.influxCounts() }
	}
	sr := StreamResult{Name: name}
	defer g.acquire() // a stream that failed before its stages' End
	var procs []pipeline.Processor
	if cfg.Processors != nil {
		var err error
		if procs, err = cfg.Processors(); err != nil {
			sr.Err = err
			return sr
		}
	} else {
		det, err := session.Detectors(&cfg.Detect, cfg.Log)
		if err != nil {
			sr.Err = err
			return sr
		}
		procs = []pipeline.Processor{det}
	}
	var stages []pipeline.EventStage
	if g != nil {
		stages = append(stages, g)
	}
	if cfg.Stages != nil {
		stages = append(stages, cfg.Stages(ctx, out.history(cfg.Rule))...)
	} else {
		stages = append(stages, rule.New(ctx, cfg.Rule, out.history(cfg.Rule), cfg.Log))
	}
	v := &verdicts{}
	sr.Result, sr.Err = session.Run(ctx, out.meter.source(src), session.Config{
		Subject: cfg.Subject, Site: cfg.Site, Session: cfg.Session, Speed: speed,
		Processors: procs, Stages: stages, Sinks: append([]pipeline.Sink{v}, out.sinks...), Log: cfg.Log,
	})
	g.acquire()
	logPanic(cfg.Log, sr.Err)
	if errors.Is(sr.Err, context.Canceled) || errors.Is(sr.Err, context.DeadlineExceeded) {
		sr.Err = nil
	}
	sr.Verdicts = v.list()
	if after := out.influxCounts(); after != nil && before != nil {
		d := InfluxCounts{after.Written - before.Written, after.Rejected - before.Rejected, after.Failed - before.Failed,
			after.Dropped - before.Dropped, after.Retries - before.Retries}
		sr.Influx = &d
	}
	return sr
}

// liveDevice is a dialled serial device.
type liveDevice struct {
	name string
	src  *serial.Stream
	conn *serial.Conn
}

// dial connects to cfg.Device.
func dial(ctx context.Context, cfg *Config) (*liveDevice, error) {
	so := serial.StreamOptions{Strict: cfg.Strict, Now: cfg.HostClock, Clock: cfg.LiveClock}
	src, conn, err := cfg.Device.Dial(ctx, so, cfg.Log)
	if err != nil {
		return nil, err
	}
	return &liveDevice{name: cfg.Device.Port, src: src, conn: conn}, nil
}

// collector returns the device's metrics, nil without a device.
func (d *liveDevice) collector() metrics.Collector {
	if d == nil {
		return nil
	}
	return metrics.Collectors{d.conn, d.src}
}

// describe names what the run reads, for the service manager's status.
func (d *liveDevice) describe() string {
	if d == nil {
		return "replaying"
	}
	return "reading " + d.name
}

// away returns a function reporting whether the device is away (the
// connection is being made again), nil without a device.
func (d *liveDevice) away() func() bool {
	if d == nil {
		return nil
	}
	return func() bool { return !d.conn.Connected() }
}

// close closes the connection, if any.
func (d *liveDevice) close() {
	if d != nil {
		d.conn.Close()
	}
}

// live collects from the device until ctx is cancelled, one stream
// result per segment: a host clock step too large to slew ends one
// segment (its summary says by how much) and the next runs through new
// detectors and a new session, its times following the stepped clock.
func (out *outputs) live(ctx context.Context, cfg *Config, d *liveDevice) []StreamResult {
	cfg.Log.Info("run: collecting", "port", cfg.Device.Port, "protocol", cfg.Device.Protocol, "subject", cfg.Subject, "site", cfg.Site)
	var res []StreamResult
	for {
		sr := out.stream(ctx, cfg, cfg.Device.Port, d.src, 0, nil)
		next := sr.Err == nil && ctx.Err() == nil && sr.Summary.ClockStepS != 0
		if !next {
			d.close()
		}
		sr.Serial = &SerialStats{Conn: d.conn.Stats(), Stream: d.src.DeviceStats()}
		if cfg.OnStream != nil {
			cfg.OnStream(sr)
		}
		res = append(res, sr)
		if !next {
			return res
		}
		cfg.Log.Warn("run: segment ended by a host clock step; the next one begins", "segment", sr.Summary.Segment,
			"clock_step", time.Duration(sr.Summary.ClockStepS*float64(time.Second)).Round(time.Millisecond))
	}
}
