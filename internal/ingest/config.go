// Package ingest owns one ingest run: recorded files (replay) or a live
// serial device (run), decoded and passed through the detectors and the
// persistence rule to the events file and InfluxDB, with the spool that
// keeps what InfluxDB cannot take yet, the /healthz and /metrics
// endpoints, and a shutdown that closes open events, writes the summary,
// flushes, sends the spool for a while and closes everything in order.
//
// A run is built from a plain Config value (commands fill it from flags,
// a service from its configuration file) and started with Run, which
// returns what every file or stream gave for the caller to print.
package ingest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/detect"
	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/sdnotify"
	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/internal/spool"
	"github.com/twitchd/twitchd/pipeline"
)

// Durability defaults.
const (
	// DefaultRetryTime is how long a batch is retried before its points
	// are given up, when there is no spool. With a spool a failed write
	// is not retried: the sink sends that batch and every new one to the
	// spool at once until the server answers again.
	DefaultRetryTime = 10 * time.Second
	// CloseTimeout bounds the final flush at exit; what is still queued
	// then goes to the spool.
	CloseTimeout = 30 * time.Second
	// FinalDrain bounds sending the spool at the end of a replay that ran
	// to its end, and StopDrain at the end of one stopped early and of a
	// live run: what is not sent by then stays spooled for the next start.
	FinalDrain = 2 * time.Minute
	StopDrain  = 15 * time.Second
)

// Config is one ingest run. The zero value of a field means its default
// unless its comment says otherwise; Defaults returns them filled in.
type Config struct {
	// Files to replay, in order; or Device, a live serial device. Exactly
	// one of the two is set.
	Files  []File
	Device *serial.Device
	// Strict makes the live device's first garbled frame fatal (files
	// carry their own decode.Options.Strict).
	Strict bool
	// StopAfter ends a live run after this long, as a signal would (0:
	// until ctx is cancelled).
	StopAfter time.Duration
	// HostClock reads the host clock that stamps a live device's samples
	// (default serial.SystemClock). Tests and simulations give their own:
	// one that runs faster than real time, or is stepped on purpose.
	HostClock serial.HostClock
	// LiveClock, when set, overrides the time constants of the live
	// device's clock (serial.Clock's TimeConstant, MaxSlew, GapAfter and
	// StepLimit: the largest host clock step slewed out rather than taken
	// in a new segment).
	LiveClock *serial.Clock
	// Speed paces a replay: 0 as fast as possible, 1 real time, N times
	// real time.
	Speed float64
	// Jobs is how many files are replayed at once (0 or 1: one at a
	// time). The results are those of one at a time: see parallel. With
	// more than one, Processors is called from several goroutines.
	Jobs int

	// Subject (default "anonymous"), Site and Session (default: derived
	// from the file name and its first sample) tag every event. The
	// subject is pseudonymised when Influx names a key file.
	Subject, Site, Session string

	// Events is the events file to write ("-": Stdout; empty: none).
	Events string
	// Stdout receives the events for Events "-".
	Stdout io.Writer
	// Epochs adds the per-epoch activity features to the events file.
	Epochs bool

	// Influx says where InfluxDB is (no URL: nowhere) and carries the
	// pseudonymisation key file, which applies without InfluxDB too.
	Influx influxconn.Settings
	// RetryTime is how long a batch is retried before its points are
	// given up, without a spool (default DefaultRetryTime).
	RetryTime time.Duration
	// Spool keeps what InfluxDB cannot take yet.
	Spool Spool
	// Health serves /healthz and /metrics when its address is set.
	Health Health

	// Detect configures the detectors (Defaults: detect.Default()).
	Detect detect.Config
	// Rule configures the persistence rule (Defaults: rule.DefaultConfig()).
	Rule rule.Config
	// Processors, when set, builds the processors of each stream instead
	// of the detectors of Detect.
	Processors func() ([]pipeline.Processor, error)
	// Stages, when set, builds the event stages of each stream instead of
	// the persistence rule of Rule; hist reads the person's history from
	// InfluxDB (nil without it).
	Stages func(ctx context.Context, hist rule.History) []pipeline.EventStage
	// Sinks receive every event besides the events file and InfluxDB.
	Sinks []pipeline.Sink

	// Progress, when it is a terminal, shows how far each replayed file
	// got (percent of bytes, rate, time left); nil or not a terminal:
	// nothing.
	Progress io.Writer
	// OnStream, when set, is called after each file or live stream with
	// its result, before the next one starts.
	OnStream func(StreamResult)
	// Notify, when set, tells the service manager (systemd) how the run
	// goes: READY=1 once the first sample was read, WATCHDOG=1 while
	// samples flow (or the device is away), STATUS= lines, STOPPING=1 at
	// the end. Commands set it from the environment (sdnotify.FromEnv).
	Notify *sdnotify.Notifier
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// File is one recording to replay.
type File struct {
	Path string
	// Subject, when set, is this file's subject instead of
	// Config.Subject (pseudonymised like it), for an archive of several
	// people replayed in one run.
	Subject string
	// Format forces a decoder; empty: detected from the content.
	Format string
	// Options for the decoder. A zero Start is the file's modification
	// time (for files with relative or no times).
	Options decode.Options
}

// Spool configures the on-disk spool.
type Spool struct {
	// Root holds one spool directory per InfluxDB URL and bucket; empty:
	// no spool (points InfluxDB cannot take are lost and counted).
	Root string
	// MaxBytes bounds the spool (default spool.DefaultMaxBytes).
	MaxBytes int64
	// Interval between attempts to send it while it is not empty
	// (default spool.DefaultInterval).
	Interval time.Duration
	// ServerWait is how long the end of a run waits for a server that
	// does not answer before it leaves the spool to the next start
	// (default spool.ServerWait).
	ServerWait time.Duration
}

// Health configures the /healthz and /metrics endpoints.
type Health struct {
	// Addr to serve them at, e.g. 127.0.0.1:9464; empty: not served.
	Addr string
	// AllowAny allows an address that is not on the loopback interface.
	AllowAny bool
}

// Defaults returns a Config with every default filled in and no input,
// no InfluxDB and no spool.
func Defaults() Config {
	return Config{
		Subject:   "anonymous",
		Influx:    influxconn.Settings{Org: influxconn.DefaultOrg, Bucket: influxconn.DefaultBucket},
		RetryTime: DefaultRetryTime,
		Spool:     Spool{MaxBytes: spool.DefaultMaxBytes, Interval: spool.DefaultInterval, ServerWait: spool.ServerWait},
		Detect:    detect.Default(),
		Rule:      rule.DefaultConfig(),
	}
}

// DefaultSpoolRoot is $STATE_DIRECTORY/spool (the state directory
// systemd gives a service, the first of several), else
// $XDG_STATE_HOME/twitchd/spool, else ~/.local/state/twitchd/spool;
// empty when none is known.
func DefaultSpoolRoot() string {
	if x, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":"); x != "" {
		return filepath.Join(x, "spool")
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "twitchd", "spool")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "twitchd", "spool")
	}
	return ""
}
