package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/pipeline"
)

// addInfluxFlags binds the InfluxDB flags of every command that writes
// or reads InfluxDB into s, with the environment's values as defaults.
// The token is read only from INFLUX_TOKEN or a file, never a flag, so
// it does not show in process lists or shell history.
func addInfluxFlags(fs *flag.FlagSet, s *influxconn.Settings) {
	*s = influxconn.FromEnv()
	fs.StringVar(&s.URL, "influx-url", s.URL, "InfluxDB URL, e.g. http://127.0.0.1:8086 (env INFLUX_URL); empty: no InfluxDB")
	fs.StringVar(&s.Org, "influx-org", s.Org, "InfluxDB organisation (env INFLUX_ORG; ignored by InfluxDB 1.8)")
	fs.StringVar(&s.Bucket, "influx-bucket", s.Bucket, "InfluxDB bucket, database/retention-policy on 1.8 (env INFLUX_BUCKET)")
	fs.StringVar(&s.TokenFile, "influx-token-file", "", "file holding the InfluxDB token (else env INFLUX_TOKEN; user:password on 1.8)")
	fs.StringVar(&s.CAFile, "influx-ca", "", "PEM file of the CA that signed the InfluxDB server's certificate (https URLs; default: the system's CAs)")
}

// addPseudonymFlag binds the pseudonymisation key file into s.
func addPseudonymFlag(fs *flag.FlagSet, s *influxconn.Settings) {
	fs.StringVar(&s.PseudonymKeyFile, "pseudonymise-key-file", "", "file holding a secret key: the subject is replaced by p-<first 16 hex digits of HMAC-SHA256(key, subject)>")
}

// addOutputFlags binds the flags replay and run share into cfg, which
// starts from ingest.Defaults.
func addOutputFlags(fs *flag.FlagSet, cfg *ingest.Config) *outputFlags {
	*cfg = ingest.Defaults()
	o := &outputFlags{cfg: cfg}
	fs.StringVar(&cfg.Subject, "subject", cfg.Subject, "subject identifier (a person; use a pseudonym)")
	fs.StringVar(&cfg.Site, "site", "", "body location of the sensor, e.g. calf_left")
	fs.StringVar(&cfg.Session, "session", "", "session identifier (default: derived from the file name and its first time)")
	fs.StringVar(&cfg.Events, "events", "", "write events as JSON lines to this file ('-' for standard output)")
	fs.BoolVar(&cfg.Epochs, "epochs", false, "include per-epoch activity features in the events file")
	fs.BoolVar(&o.verbose, "v", false, "log diagnostics")
	addInfluxFlags(fs, &cfg.Influx)
	addPseudonymFlag(fs, &cfg.Influx)
	addSpoolFlags(fs, cfg)
	fs.DurationVar(&cfg.RetryTime, "influx-retry-time", cfg.RetryTime,
		"how long a batch is retried before it goes to the spool (or fails without one)")
	fs.StringVar(&cfg.Health.Addr, "listen", "", "serve /healthz and /metrics at this address, e.g. 127.0.0.1:9464 (loopback only unless --listen-any)")
	fs.BoolVar(&cfg.Health.AllowAny, "listen-any", false, "allow --listen on a non-loopback address")
	return o
}

// addSpoolFlags binds the spool's flags into cfg.Spool.
func addSpoolFlags(fs *flag.FlagSet, cfg *ingest.Config) {
	cfg.Spool.Root = ingest.DefaultSpoolRoot()
	fs.StringVar(&cfg.Spool.Root, "spool-dir", cfg.Spool.Root,
		"directory for points InfluxDB could not take yet (a subdirectory per URL and bucket); empty: no spool, such points are lost and counted")
	fs.Var((*spool.Size)(&cfg.Spool.MaxBytes), "spool-max", "most bytes the spool may hold (e.g. 256MiB, 1GiB); when full, new points are refused and counted as dropped")
	fs.DurationVar(&cfg.Spool.Interval, "spool-interval", cfg.Spool.Interval, "how often to try sending the spool while it is not empty")
}

// outputFlags are the flags of replay and run that are not settings of
// the run itself.
type outputFlags struct {
	cfg     *ingest.Config
	verbose bool
}

func (o *outputFlags) logger(stderr io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// outputs are the open sinks of one command run.
type outputs struct {
	sinks  []pipeline.Sink
	events *events.Writer
	file   *os.File
	influx *influx.Sink
	// conn reads history back for the persistence rule.
	conn *influxconn.Conn
	log  *slog.Logger
	// durable is the spool and its drainer, nil without one.
	durable *durable
	// finalDrain is how long close may spend sending the spool before it
	// closes the sink; 0: not at all.
	finalDrain time.Duration
	// metrics counts for /metrics and /healthz.
	metrics    *metrics
	durableMax int64
}

// stages returns the event stages of one stream: the persistence rule,
// reading the person's history from InfluxDB when it is configured.
func (out *outputs) stages(ctx context.Context) []pipeline.EventStage {
	cfg := rule.DefaultConfig()
	var hist rule.History
	if out.conn != nil {
		hist = history.NewReader(out.conn.Query(), out.conn.Bucket()).For(cfg)
	}
	return []pipeline.EventStage{rule.New(ctx, cfg, hist, out.log)}
}

// open creates the events file and the InfluxDB sink as configured.
func (o *outputFlags) open(stdout io.Writer, log *slog.Logger) (*outputs, error) {
	c := o.cfg
	out := &outputs{log: log, metrics: newMetrics()}
	key, err := c.Influx.Pseudonyms()
	if err != nil {
		return nil, err
	}
	c.Subject = key.Subject(c.Subject)
	switch c.Events {
	case "":
	case "-":
		out.events = events.NewWriter(stdout, c.Epochs)
	default:
		f, err := os.OpenFile(c.Events, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("events file: %w", err)
		}
		out.file = f
		out.events = events.NewWriter(f, c.Epochs)
	}
	if out.events != nil {
		out.sinks = append(out.sinks, out.events)
	}
	if c.Influx.Enabled() {
		conn, err := influxconn.Open(c.Influx)
		if err != nil {
			out.close(context.Background())
			return nil, err
		}
		out.conn = conn
		cfg := conn.Sink(log).SetMaxRetryTime(c.RetryTime)
		out.durableMax = c.Spool.MaxBytes
		if out.durable, err = openSpool(c, cfg, log); err != nil {
			out.close(context.Background())
			return nil, err
		}
		s, err := influx.New(cfg)
		if err != nil {
			out.close(context.Background())
			return nil, fmt.Errorf("influxdb: %w", err)
		}
		out.influx = s
		out.sinks = append(out.sinks, dataOnly{s})
		out.durable.start(s, conn.Ping, c.Spool.Interval)
	}
	out.sinks = append(out.sinks, out.metrics)
	return out, nil
}

// close flushes and closes everything; it returns the first error.
func (out *outputs) close(ctx context.Context) error {
	var first error
	out.durable.stop(out.finalDrain)
	if out.conn != nil {
		out.conn.Close()
	}
	if out.influx != nil {
		if err := out.influx.Close(ctx); err != nil && first == nil {
			first = fmt.Errorf("influxdb: %w", err)
		}
	}
	if err := out.durable.close(); err != nil && first == nil {
		first = err
	}
	if out.events != nil {
		if err := out.events.Flush(ctx); err != nil && first == nil {
			first = err
		}
	}
	if out.file != nil {
		if err := out.file.Close(); err != nil && first == nil {
			first = fmt.Errorf("events file: %w", err)
		}
	}
	return first
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
