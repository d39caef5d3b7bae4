package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/internal/spool"
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

// logger logs to stderr from level up, or everything with -v.
func (o *outputFlags) logger(stderr io.Writer, level slog.Level) *slog.Logger {
	if o.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// runIngest runs cfg, printing each stream's summary as it ends, then
// the totals of InfluxDB and the spool. It returns ingest.Run's error,
// with errUsage for an address the health endpoint cannot use.
func runIngest(ctx context.Context, name string, cfg ingest.Config, stderr io.Writer) (*ingest.Result, error) {
	influx := cfg.Influx.Enabled()
	cfg.OnStream = func(sr ingest.StreamResult) {
		if sr.Err != nil {
			fmt.Fprintf(stderr, "twitchd %s: %v\n", name, sr.Err)
		}
		if sr.Summary.File != "" {
			printSummary(stderr, sr, influx)
		}
	}
	res, err := ingest.Run(ctx, cfg)
	if errors.Is(err, ingest.ErrHealth) {
		fmt.Fprintf(stderr, "twitchd %s: %v\n", name, err)
		return nil, errUsage
	}
	if err != nil {
		return res, err
	}
	printTotals(stderr, res)
	return res, nil
}

// printTotals writes what InfluxDB and the spool took in the whole run.
func printTotals(w io.Writer, res *ingest.Result) {
	if c := res.Influx; c != nil {
		fmt.Fprintf(w, "influxdb: %d points written, %d failed (%d rejected, %d given up, %d dropped), %d retries\n",
			c.Written, c.Lost(), c.Rejected, c.Failed, c.Dropped, c.Retries)
	}
	if sp := res.Spool; sp != nil {
		fmt.Fprintf(w, "spool: %d points spooled, %d sent again, %d refused (full), %d waiting in %s\n",
			sp.Spooled, sp.Resent, sp.Refused, sp.Pending, sp.Dir)
	}
}

// printSummary writes the human summary of one stream.
func printSummary(w io.Writer, sr ingest.StreamResult, influx bool) {
	s := sr.Summary
	dur := time.Duration(s.End - s.Start)
	var samples int64
	var chans []string
	for _, c := range s.Channels {
		samples += c.Samples
		chans = append(chans, fmt.Sprintf("%s %s %gHz", c.Name, c.Kind, c.RateHz))
	}
	fmt.Fprintf(w, "%s (%s): %s from %s to %s, %d samples in %d channels [%s]\n",
		s.File, s.Format, dur.Round(time.Millisecond), s.Start, s.End, samples, len(s.Channels), strings.Join(chans, ", "))
	if s.SkippedLines > 0 {
		fmt.Fprintf(w, "  skipped %d malformed lines; first: %s\n", s.SkippedLines, strings.Join(s.SkippedExamples, "; "))
	}
	if s.LostSamples > 0 {
		fmt.Fprintf(w, "  lost samples: %d\n", s.LostSamples)
	}
	fmt.Fprintf(w, "  bouts %d, twitch bursts %d, cramps %d", s.Bouts, s.Twitches, s.Cramps)
	if s.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	if ic := sr.Influx; influx && ic != nil {
		fmt.Fprintf(w, "  influxdb: %d points written, %d rejected, %d failed, %d dropped\n", ic.Written, ic.Rejected, ic.Failed, ic.Dropped)
	}
	if sr.FirstSinkError != nil && !errors.Is(sr.FirstSinkError, context.Canceled) {
		fmt.Fprintf(w, "  output errors: %d, first: %v\n", sr.SinkErrors, sr.FirstSinkError)
	}
	for i, a := range sr.Verdicts {
		fmt.Fprintf(w, "  status %s: %s\n", a.Status, a.Reason)
		for _, adv := range a.Advice {
			fmt.Fprintf(w, "    - %s\n", adv)
		}
		if i == len(sr.Verdicts)-1 {
			fmt.Fprintf(w, "  %s\n", a.Notice)
		}
	}
	if d := sr.Serial; d != nil {
		fmt.Fprintf(w, "  serial: %d bytes, %d connections, %d losses; lost samples %d by counter, %d by clock in %d gaps; %d counter resets\n",
			d.Conn.Bytes, d.Conn.Connects, d.Conn.Losses, d.Stream.CounterLost, d.Stream.ClockLost, d.Stream.ClockGaps, d.Stream.Resets)
	}
}
