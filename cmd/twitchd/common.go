package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/pipeline"
)

// influxFlags are the InfluxDB settings shared by every command that
// writes or reads InfluxDB. URL, org and bucket come from flags or the
// environment; the token only from INFLUX_TOKEN or a file, never a flag,
// so it does not show in process lists or shell history.
type influxFlags struct {
	url, org, bucket, tokenFile string
	// durable holds replay's and run's spool and TLS settings; nil for
	// other commands.
	durable *durableFlags
}

func addInfluxFlags(fs *flag.FlagSet) *influxFlags {
	f := &influxFlags{}
	fs.StringVar(&f.url, "influx-url", os.Getenv("INFLUX_URL"), "InfluxDB URL, e.g. http://127.0.0.1:8086 (env INFLUX_URL); empty: no InfluxDB")
	fs.StringVar(&f.org, "influx-org", envOr("INFLUX_ORG", "twitchd"), "InfluxDB organisation (env INFLUX_ORG; ignored by InfluxDB 1.8)")
	fs.StringVar(&f.bucket, "influx-bucket", envOr("INFLUX_BUCKET", "twitchd/autogen"), "InfluxDB bucket, database/retention-policy on 1.8 (env INFLUX_BUCKET)")
	fs.StringVar(&f.tokenFile, "influx-token-file", "", "file holding the InfluxDB token (else env INFLUX_TOKEN; user:password on 1.8)")
	return f
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// enabled reports whether an InfluxDB URL was given.
func (f *influxFlags) enabled() bool { return f.url != "" }

// token reads the token from the file or the environment.
func (f *influxFlags) token() (string, error) {
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return "", fmt.Errorf("influx token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return os.Getenv("INFLUX_TOKEN"), nil
}

// config builds the sink configuration.
func (f *influxFlags) config(log *slog.Logger) (*influx.Config, error) {
	tok, err := f.token()
	if err != nil {
		return nil, err
	}
	cfg := influx.NewConfig(f.url, f.bucket).SetOrg(f.org).SetToken(tok).SetLogger(log)
	if f.durable != nil {
		tc, err := f.durable.tlsConfig()
		if err != nil {
			return nil, err
		}
		cfg.SetTLSConfig(tc).SetMaxRetryTime(f.durable.retryTime)
	}
	return cfg, nil
}

// outputFlags are the subject, site, events and InfluxDB settings shared
// by replay and run.
type outputFlags struct {
	subject, site, session string
	events                 string
	epochs                 bool
	verbose                bool
	influx                 *influxFlags
	durable                *durableFlags
}

func addOutputFlags(fs *flag.FlagSet) *outputFlags {
	o := &outputFlags{}
	fs.StringVar(&o.subject, "subject", "anonymous", "subject identifier (a person; use a pseudonym)")
	fs.StringVar(&o.site, "site", "", "body location of the sensor, e.g. calf_left")
	fs.StringVar(&o.session, "session", "", "session identifier (default: derived from the file name and its first time)")
	fs.StringVar(&o.events, "events", "", "write events as JSON lines to this file ('-' for standard output)")
	fs.BoolVar(&o.epochs, "epochs", false, "include per-epoch activity features in the events file")
	fs.BoolVar(&o.verbose, "v", false, "log diagnostics")
	o.influx = addInfluxFlags(fs)
	o.durable = addDurableFlags(fs, o.influx)
	return o
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
	// client reads history back for the persistence rule.
	client influxdb2.Client
	bucket string
	org    string
	log    *slog.Logger
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
	if out.client != nil {
		hist = history.NewReader(out.client.QueryAPI(out.org), out.bucket).For(cfg)
	}
	return []pipeline.EventStage{rule.New(ctx, cfg, hist, out.log)}
}

// open creates the events file and the InfluxDB sink as configured.
func (o *outputFlags) open(stdout io.Writer, log *slog.Logger) (*outputs, error) {
	out := &outputs{log: log, metrics: newMetrics()}
	subj, err := o.durable.pseudonymise(o.subject)
	if err != nil {
		return nil, err
	}
	o.subject = subj
	switch o.events {
	case "":
	case "-":
		out.events = events.NewWriter(stdout, o.epochs)
	default:
		f, err := os.OpenFile(o.events, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("events file: %w", err)
		}
		out.file = f
		out.events = events.NewWriter(f, o.epochs)
	}
	if out.events != nil {
		out.sinks = append(out.sinks, out.events)
	}
	if o.influx.enabled() {
		cfg, err := o.influx.config(log)
		if err != nil {
			out.close(context.Background())
			return nil, err
		}
		out.durableMax = int64(o.durable.spoolMax)
		if out.durable, err = o.durable.openSpool(cfg, log); err != nil {
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
		out.client = influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, influxdb2.DefaultOptions().SetLogLevel(0).SetTLSConfig(cfg.TLSConfig))
		out.bucket, out.org = cfg.Bucket, cfg.Org
		out.durable.start(s, out.ping, o.durable.drainEvery)
	}
	out.sinks = append(out.sinks, out.metrics)
	return out, nil
}

// close flushes and closes everything; it returns the first error.
func (out *outputs) close(ctx context.Context) error {
	var first error
	out.durable.stop(out.finalDrain)
	if out.client != nil {
		out.client.Close()
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

// ping reports whether the InfluxDB server answers, within 5 s.
func (out *outputs) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ok, err := out.client.Ping(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("influxdb: not ready")
	}
	return nil
}
