package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/internal/spool"
)

// Durability defaults of replay and run.
const (
	// defaultRetryTime is how long a batch is retried before it goes to
	// the spool. It bounds what a kill -9 can lose during an outage.
	defaultRetryTime = 10 * time.Second
	// closeTimeout bounds the final flush at exit; what is still queued
	// then goes to the spool.
	closeTimeout = 30 * time.Second
	// finalDrainTimeout bounds sending the spool at the end of a replay
	// that ran to its end, and stopDrainTimeout at the end of one stopped
	// by a signal and of run: what is not sent by then stays spooled for
	// the next start.
	finalDrainTimeout = 2 * time.Minute
	stopDrainTimeout  = 15 * time.Second
	// serverWait is how long the end of a run waits for a server that is
	// not answering before leaving the spool to the next start.
	serverWait = 10 * time.Second
)

// durableFlags are the spool, TLS and pseudonymisation settings of replay
// and run.
type durableFlags struct {
	spoolDir   string
	spoolMax   byteSize
	retryTime  time.Duration
	caFile     string
	pseudoKey  string
	listen     string
	listenAny  bool
	drainEvery time.Duration
}

func addDurableFlags(fs *flag.FlagSet, f *influxFlags) *durableFlags {
	d := &durableFlags{spoolMax: spool.DefaultMaxBytes}
	fs.StringVar(&d.spoolDir, "spool-dir", defaultSpoolRoot(),
		"directory for points InfluxDB could not take yet (a subdirectory per URL and bucket); empty: no spool, such points are lost and counted")
	fs.Var(&d.spoolMax, "spool-max", "most bytes the spool may hold (e.g. 256MiB, 1GiB); when full, new points are refused and counted as dropped")
	fs.DurationVar(&d.retryTime, "influx-retry-time", defaultRetryTime,
		"how long a batch is retried before it goes to the spool (or fails without one)")
	fs.DurationVar(&d.drainEvery, "spool-interval", spool.DefaultInterval, "how often to try sending the spool while it is not empty")
	fs.StringVar(&d.caFile, "influx-ca", "", "PEM file of the CA that signed the InfluxDB server's certificate (https URLs; default: the system's CAs)")
	fs.StringVar(&d.pseudoKey, "pseudonymise-key-file", "", "file holding a secret key: the subject is replaced by p-<first 16 hex digits of HMAC-SHA256(key, subject)>")
	fs.StringVar(&d.listen, "listen", "", "serve /healthz and /metrics at this address, e.g. 127.0.0.1:9464 (loopback only unless --listen-any)")
	fs.BoolVar(&d.listenAny, "listen-any", false, "allow --listen on a non-loopback address")
	f.durable = d
	return d
}

// defaultSpoolRoot is $XDG_STATE_HOME/twitchd/spool, or
// ~/.local/state/twitchd/spool.
func defaultSpoolRoot() string {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "twitchd", "spool")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "twitchd", "spool")
	}
	return ""
}

// spoolDirFor returns the spool directory of one InfluxDB target under
// root, so that points spooled for one server and bucket are never sent
// to another.
func spoolDirFor(root, url, bucket string) string {
	h := sha256.Sum256([]byte(strings.TrimRight(url, "/") + "\n" + bucket))
	return filepath.Join(root, hex.EncodeToString(h[:6]))
}

// tlsConfig returns the TLS settings for the InfluxDB client: nil (the
// system's CAs, verification on) without --influx-ca.
func (d *durableFlags) tlsConfig() (*tls.Config, error) {
	if d == nil || d.caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(d.caFile)
	if err != nil {
		return nil, fmt.Errorf("--influx-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--influx-ca: %s holds no PEM certificate", d.caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// pseudonymise replaces subject by its keyed hash when a key file is set.
func (d *durableFlags) pseudonymise(subject string) (string, error) {
	if d.pseudoKey == "" {
		return subject, nil
	}
	key, err := os.ReadFile(d.pseudoKey)
	if err != nil {
		return "", fmt.Errorf("--pseudonymise-key-file: %w", err)
	}
	key = []byte(strings.TrimSpace(string(key)))
	if len(key) < 16 {
		return "", fmt.Errorf("--pseudonymise-key-file: %s: the key must be at least 16 bytes", d.pseudoKey)
	}
	return pseudonym(key, subject), nil
}

// pseudonym is "p-" and the first 16 hex digits (64 bits) of
// HMAC-SHA256(key, subject).
func pseudonym(key []byte, subject string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(subject))
	return "p-" + hex.EncodeToString(m.Sum(nil))[:16]
}

// redact hides a password in a URL.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}

// durable is the spool of one command run and its drainer.
type durable struct {
	spool  *spool.Spool
	drain  *spool.Drainer
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
}

// openSpool opens the spool for cfg's target and makes it the sink's
// overflow. It returns nil without a spool directory.
func (d *durableFlags) openSpool(cfg *influx.Config, log *slog.Logger) (*durable, error) {
	if d == nil || d.spoolDir == "" {
		return nil, nil
	}
	dir := spoolDirFor(d.spoolDir, cfg.URL, cfg.Bucket)
	sp, err := spool.Open(spool.Config{Dir: dir, MaxBytes: int64(d.spoolMax), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%w (give --spool-dir a writable directory, or --spool-dir= to run without a spool)", err)
	}
	// For people looking into the directory: where its points go.
	_ = os.WriteFile(filepath.Join(dir, "TARGET"), []byte("url = "+redact(cfg.URL)+"\nbucket = "+cfg.Bucket+"\n"), 0o600)
	cfg.SetOverflow(influx.OverflowFunc(func(_ influx.Reason, lines []byte, n int) error {
		return sp.Append(lines, n)
	}))
	if st := sp.Stats(); st.Pending > 0 || st.TornTails > 0 {
		log.Warn("spool: points from an earlier run will be sent", "points", st.Pending, "dir", dir, "torn_tails", st.TornTails)
	}
	return &durable{spool: sp, log: log}, nil
}

// start runs the drainer in the background: at once (the points of an
// earlier run), then whenever the spool holds points and ping answers.
func (du *durable) start(sink *influx.Sink, ping func(context.Context) error, every time.Duration) {
	if du == nil {
		return
	}
	du.drain = &spool.Drainer{Spool: du.spool, Target: sink, Ready: ping, Interval: every}
	ctx, cancel := context.WithCancel(context.Background())
	du.cancel = cancel
	du.wg.Add(1)
	go func() {
		defer du.wg.Done()
		du.drain.Run(ctx)
	}()
}

// stop ends the background drainer, then sends what the spool holds if
// the server answers, for at most final.
func (du *durable) stop(final time.Duration) {
	if du == nil || du.cancel == nil {
		return
	}
	du.cancel()
	du.wg.Wait()
	if final <= 0 || du.spool.Empty() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), final)
	defer cancel()
	// The server may be coming back just as the stream ends: wait for it
	// a little (serverWait), then let sending take up to final.
	waitUntil := time.Now().Add(min(final, serverWait))
	var err error
	for {
		if du.drain.Ready == nil || du.drain.Ready(ctx) == nil {
			if err = du.drain.Once(ctx); err == nil {
				return
			}
		} else {
			err = errors.New("server not answering")
			if time.Now().After(waitUntil) {
				du.log.Warn("spool: server not answering; the next start sends the spool")
				return
			}
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			du.log.Warn("spool: not all of it was sent; the next start sends the rest", "err", err)
			return
		case <-t.C:
		}
	}
}

// close closes the spool, after the sink.
func (du *durable) close() error {
	if du == nil {
		return nil
	}
	return du.spool.Close()
}

// byteSize is a flag value in bytes with an optional unit: k, M, G (1000s)
// or KiB, MiB, GiB (1024s).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return errors.New("want a positive size such as 268435456, 256MiB or 1GiB")
	}
	*b = byteSize(n * mult)
	return nil
}
