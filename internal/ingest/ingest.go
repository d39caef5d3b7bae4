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
	if live != nil {
		res.Streams = append(res.Streams, out.live(ctx, &cfg, live))
		final = StopDrain
	} else {
		out.files(ctx, &cfg, res)
	}
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
	if cfg.Device != nil {
		return cfg.Device.Validate()
	}
	return nil
}

// files replays cfg.Files in order until ctx is cancelled.
func (out *outputs) files(ctx context.Context, cfg *Config, res *Result) {
	for _, f := range cfg.Files {
		if ctx.Err() != nil {
			return
		}
		opts := f.Options
		if opts.Start.IsZero() {
			if st, err := os.Stat(f.Path); err == nil {
				opts.Start = st.ModTime().UTC()
			}
		}
		var sr StreamResult
		src, err := decode.OpenFile(f.Path, f.Format, opts)
		if err != nil {
			sr = StreamResult{Name: f.Path, Err: err}
		} else {
			stop := progress.Start(cfg.Progress, filepath.Base(f.Path), src.Position)
			sr = out.stream(ctx, cfg, f.Path, src, cfg.Speed)
			stop()
			src.Close()
			out.recordDelivery(cfg, &sr)
		}
		res.Streams = append(res.Streams, sr)
		if cfg.OnStream != nil {
			cfg.OnStream(sr)
		}
	}
}

// stream runs one source through the processors, stages and sinks.
func (out *outputs) stream(ctx context.Context, cfg *Config, name string, src pipeline.Source, speed float64) StreamResult {
	before := out.influxCounts()
	sr := StreamResult{Name: name}
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
	if cfg.Stages != nil {
		stages = cfg.Stages(ctx, out.history(cfg.Rule))
	} else {
		stages = []pipeline.EventStage{rule.New(ctx, cfg.Rule, out.history(cfg.Rule), cfg.Log)}
	}
	v := &verdicts{}
	sr.Result, sr.Err = session.Run(ctx, out.meter.source(src), session.Config{
		Subject: cfg.Subject, Site: cfg.Site, Session: cfg.Session, Speed: speed,
		Processors: procs, Stages: stages, Sinks: append([]pipeline.Sink{v}, out.sinks...), Log: cfg.Log,
	})
	logPanic(cfg.Log, sr.Err)
	if errors.Is(sr.Err, context.Canceled) || errors.Is(sr.Err, context.DeadlineExceeded) {
		sr.Err = nil
	}
	sr.Verdicts = v.list()
	if after := out.influxCounts(); after != nil {
		d := InfluxCounts{after.Written - before.Written, after.Rejected - before.Rejected, after.Failed - before.Failed,
			after.Dropped - before.Dropped, after.Retries - before.Retries}
		sr.Influx = &d
	}
	return sr
}

// liveDevice is a dialled serial device.
type liveDevice struct {
	src  *serial.Stream
	conn *serial.Conn
}

// dial connects to cfg.Device.
func dial(ctx context.Context, cfg *Config) (*liveDevice, error) {
	src, conn, err := cfg.Device.Dial(ctx, serial.StreamOptions{Strict: cfg.Strict}, cfg.Log)
	if err != nil {
		return nil, err
	}
	return &liveDevice{src: src, conn: conn}, nil
}

// collector returns the device's metrics, nil without a device.
func (d *liveDevice) collector() metrics.Collector {
	if d == nil {
		return nil
	}
	return d.conn
}

// close closes the connection, if any.
func (d *liveDevice) close() {
	if d != nil {
		d.conn.Close()
	}
}

// live collects from the device until ctx is cancelled.
func (out *outputs) live(ctx context.Context, cfg *Config, d *liveDevice) StreamResult {
	cfg.Log.Info("run: collecting", "port", cfg.Device.Port, "protocol", cfg.Device.Protocol, "subject", cfg.Subject, "site", cfg.Site)
	sr := out.stream(ctx, cfg, cfg.Device.Port, d.src, 0)
	d.close()
	sr.Serial = &SerialStats{Conn: d.conn.Stats(), Stream: d.src.DeviceStats()}
	if cfg.OnStream != nil {
		cfg.OnStream(sr)
	}
	return sr
}
