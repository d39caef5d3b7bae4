package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/twitchd/twitchd/internal/config"
	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/ingest"
	"github.com/twitchd/twitchd/internal/sdnotify"
	"github.com/twitchd/twitchd/internal/spool"
)

// addInfluxFlags binds the InfluxDB flags of every command that writes
// or reads InfluxDB into s, with the environment's values as defaults.
// The token is read only from INFLUX_TOKEN or a file, never a flag, so
// it does not show in process lists or shell history.
func addInfluxFlags(fs *flag.FlagSet, s *influxconn.Settings) {
	*s = influxconn.FromEnv()
	bindInfluxFlags(fs, s)
}

// bindInfluxFlags binds the InfluxDB flags into s, with its values as
// the defaults.
func bindInfluxFlags(fs *flag.FlagSet, s *influxconn.Settings) {
	fs.StringVar(&s.URL, "influx-url", s.URL, "InfluxDB URL, e.g. http://127.0.0.1:8086 (env INFLUX_URL); empty: no InfluxDB")
	fs.StringVar(&s.Org, "influx-org", s.Org, "InfluxDB organisation (env INFLUX_ORG; ignored by InfluxDB 1.8)")
	fs.StringVar(&s.Bucket, "influx-bucket", s.Bucket, "InfluxDB bucket, database/retention-policy on 1.8 (env INFLUX_BUCKET)")
	fs.StringVar(&s.ActivityBucket, "influx-activity-bucket", s.ActivityBucket,
		"bucket for the per-epoch activity points, e.g. twitchd/activity_raw after `twitchd influx setup` (env INFLUX_ACTIVITY_BUCKET); empty: --influx-bucket")
	fs.StringVar(&s.TokenFile, "influx-token-file", s.TokenFile, "file holding the InfluxDB token (else env INFLUX_TOKEN; user:password on 1.8)")
	fs.StringVar(&s.CAFile, "influx-ca", s.CAFile, "PEM file of the CA that signed the InfluxDB server's certificate (https URLs; default: the system's CAs)")
	fs.BoolVar(&s.StrictPerms, "strict-perms", s.StrictPerms, "refuse a token or pseudonymisation key file that its group or others may read (default: a warning)")
}

// addPseudonymFlag binds the pseudonymisation key file into s.
func addPseudonymFlag(fs *flag.FlagSet, s *influxconn.Settings) {
	fs.StringVar(&s.PseudonymKeyFile, "pseudonymise-key-file", s.PseudonymKeyFile, "file holding a secret key: the subject is replaced by p-<first 16 hex digits of HMAC-SHA256(key, subject)>")
}

// addIngestFlags binds the flags replay and run share into st, with its
// values (the defaults, then a configuration file's, then the
// environment's) as the defaults.
func addIngestFlags(fs *flag.FlagSet, st *config.Settings) {
	cfg := &st.Ingest
	fs.String("config", "", "configuration file (TOML; \"twitchd config sample\" prints one); flags override it")
	fs.StringVar(&cfg.Subject, "subject", cfg.Subject, "subject identifier (a person; use a pseudonym)")
	fs.StringVar(&cfg.Site, "site", cfg.Site, "body location of the sensor, e.g. calf_left")
	fs.StringVar(&cfg.Session, "session", cfg.Session, "session identifier (default: derived from the file name and its first time)")
	fs.StringVar(&cfg.Events, "events", cfg.Events, "write events as JSON lines to this file ('-' for standard output)")
	fs.BoolVar(&cfg.Epochs, "epochs", cfg.Epochs, "include per-epoch activity features in the events file")
	fs.Var((*verbose)(&st.LogLevel), "v", "log diagnostics")
	bindInfluxFlags(fs, &cfg.Influx)
	addPseudonymFlag(fs, &cfg.Influx)
	addSpoolFlags(fs, cfg)
	fs.DurationVar(&cfg.RetryTime, "influx-retry-time", cfg.RetryTime,
		"without a spool: how long a batch is retried before its points are given up (with one, a failed write goes to the spool at once)")
	fs.StringVar(&cfg.Health.Addr, "listen", cfg.Health.Addr, "serve /healthz and /metrics at this address, e.g. 127.0.0.1:9464 (loopback only unless --listen-any)")
	fs.BoolVar(&cfg.Health.AllowAny, "listen-any", cfg.Health.AllowAny, "allow --listen on a non-loopback address")
}

// addSpoolFlags binds the spool's flags into cfg.Spool, with its values
// as the defaults.
func addSpoolFlags(fs *flag.FlagSet, cfg *ingest.Config) {
	fs.StringVar(&cfg.Spool.Root, "spool-dir", cfg.Spool.Root,
		"directory for points InfluxDB could not take yet (a subdirectory per URL and bucket); empty: no spool, such points are lost and counted")
	fs.Var((*spool.Size)(&cfg.Spool.MaxBytes), "spool-max", "most bytes the spool may hold (e.g. 256MiB, 1GiB); when full, new points are refused and counted as dropped")
	fs.DurationVar(&cfg.Spool.Interval, "spool-interval", cfg.Spool.Interval, "how often to try sending the spool while it is not empty")
}

// verbose is the -v flag: it sets the log level to debug.
type verbose string

// String implements flag.Value.
func (v *verbose) String() string { return strconv.FormatBool(v != nil && *v == "debug") }

// Set implements flag.Value.
func (v *verbose) Set(s string) error {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if on {
		*v = "debug"
	}
	return nil
}

// IsBoolFlag makes -v take no value.
func (v *verbose) IsBoolFlag() bool { return true }

// configure parses the flags of replay or run in two passes: the first
// (which reports flag errors) finds --config; the settings are then the
// defaults, that file, and the environment's INFLUX_URL, INFLUX_ORG and
// INFLUX_BUCKET, in that order; the second pass lets the flags given on
// the command line override them. bind binds the command's flags into
// the settings it is given.
func configure(name, synopsis string, args []string, stderr io.Writer, bind func(*flag.FlagSet, *config.Settings)) (*flag.FlagSet, *config.Settings, error) {
	scratch := config.Defaults()
	fs := newFlagSet(name, synopsis, stderr)
	bind(fs, &scratch)
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	st := config.Defaults()
	if path := fs.Lookup("config").Value.String(); path != "" {
		f, err := config.Load(path)
		if err != nil {
			return nil, nil, fmt.Errorf("%w:\n%w", errConfig, err)
		}
		f.Apply(&st)
	}
	st.Ingest.Influx = st.Ingest.Influx.WithEnv()
	fs = newFlagSet(name, synopsis, stderr)
	bind(fs, &st)
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	return fs, &st, nil
}

// logger logs to stderr from the configured level up, def when none.
func logger(stderr io.Writer, st *config.Settings, def slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: st.Level(def)}))
}

// runIngest runs cfg, printing each stream's summary as it ends, then
// the totals of InfluxDB and the spool. It returns ingest.Run's error,
// with errUsage for an address the health endpoint cannot use.
func runIngest(ctx context.Context, name string, cfg ingest.Config, stderr io.Writer) (*ingest.Result, error) {
	influx := cfg.Influx.Enabled()
	n, nerr := sdnotify.FromEnv()
	if nerr != nil {
		return nil, nerr
	}
	defer n.Close()
	cfg.Notify = n
	cfg.OnStream = func(sr ingest.StreamResult) {
		if sr.Err != nil {
			fmt.Fprintf(stderr, "twitchd %s: %v\n", name, sr.Err)
		}
		if sr.Summary.File != "" {
			sr.WriteText(stderr, influx)
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
	res.WriteTotals(stderr)
	if err := res.ConfigError(); err != nil {
		kept := "no spool kept them"
		if res.Spool != nil {
			kept = "they are kept in the spool " + res.Spool.Dir + " and sent by the next start"
		}
		return res, fmt.Errorf("%w (%d points not written: %s)", err, res.Influx.Overflowed+res.Influx.Failed, kept)
	}
	return res, nil
}

// resultError returns why a run that completed failed: points lost on
// the way, then the first stream that failed; nil when none did.
func resultError(res *ingest.Result) error {
	if err := res.LostError(); err != nil {
		return err
	}
	for _, s := range res.Streams {
		if s.Err != nil {
			return s.Err
		}
	}
	return nil
}
