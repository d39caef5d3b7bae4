// Package influxconn builds twitchd's connection to InfluxDB from plain
// settings, in one place for every command and server that writes or
// reads it (replay, run, note, report, spool, the dashboards): the URL,
// organisation and bucket, the token (from INFLUX_TOKEN or a file, never
// from a flag, so that it shows in no process list or shell history),
// the CA that signed the server's certificate, and the key that turns a
// person's name into a pseudonym, so that writing a note, reading a
// report and storing a recording for the same person meet the same data.
package influxconn

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"

	"github.com/twitchd/twitchd/internal/pseudonym"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/pipeline"
)

// Defaults of Settings, also taken from the environment by FromEnv.
const (
	DefaultOrg    = "twitchd"
	DefaultBucket = "twitchd/autogen"
	// TokenEnv names the environment variable holding the token when no
	// token file is given.
	TokenEnv = "INFLUX_TOKEN"
)

// PingTimeout bounds one Ping.
const PingTimeout = 5 * time.Second

// Settings say where InfluxDB is and whom the data is about. The zero
// value (no URL) means no InfluxDB.
type Settings struct {
	// URL of the server, e.g. http://127.0.0.1:8086; empty: no InfluxDB.
	URL string
	// Org is sent with every request; InfluxDB 1.8 ignores it.
	Org string
	// Bucket is database/retention-policy on InfluxDB 1.8.
	Bucket string
	// ActivityBucket, when set, takes the per-epoch activity points
	// instead of Bucket: on 1.8 the retention policy of limited duration
	// that `twitchd influx setup` creates, e.g. "twitchd/activity_raw".
	ActivityBucket string
	// TokenFile holds the token ("user:password" on 1.8); empty: the
	// environment's INFLUX_TOKEN. There is deliberately no way to pass
	// the token itself.
	TokenFile string
	// CAFile is a PEM file of the CA that signed the server's
	// certificate, for https URLs; empty: the system's CAs. Verification
	// cannot be turned off.
	CAFile string
	// PseudonymKeyFile holds a secret key; when set, every subject is
	// replaced by its pseudonym (internal/pseudonym) before it is
	// written, queried or logged.
	PseudonymKeyFile string
	// StrictPerms refuses a token or key file that its group or others
	// may read (ErrInsecureFile); without it such a file is used with a
	// warning naming the file and its mode.
	StrictPerms bool
	// Logger receives those warnings; nil: slog.Default().
	Logger *slog.Logger
}

// ErrInsecureFile is wrapped by the error for a token or key file that
// its group or others may read, with StrictPerms.
var ErrInsecureFile = errors.New("readable by other users")

// warnedSecrets holds the files and modes warned about.
var warnedSecrets sync.Map

// checkSecret warns about, or with StrictPerms refuses, a secret file
// (what names it: "influx token file") that its group or others may read.
func (s Settings) checkSecret(what, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // reading it reports that
	}
	mode := fi.Mode().Perm()
	if mode&0o044 == 0 {
		return nil
	}
	whom := "its group"
	switch {
	case mode&0o044 == 0o044:
		whom = "its group and others"
	case mode&0o004 != 0:
		whom = "others"
	}
	if s.StrictPerms {
		return fmt.Errorf("%s %s: mode %04o: %w (%s; chmod 600 it)", what, path, mode, ErrInsecureFile, whom)
	}
	if _, dup := warnedSecrets.LoadOrStore(fmt.Sprintf("%s\x00%o", path, mode), true); dup {
		return nil // one warning per file and mode, however often it is read
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Warn(fmt.Sprintf("%s is readable by %s: chmod 600 it (--strict-perms refuses such files)", what, whom), "file", path, "mode", fmt.Sprintf("%04o", mode))
	return nil
}

// FromEnv returns Settings from INFLUX_URL, INFLUX_ORG, INFLUX_BUCKET and
// INFLUX_ACTIVITY_BUCKET,
// with the defaults for those unset. The token is read by Open.
func FromEnv() Settings {
	return Settings{Org: DefaultOrg, Bucket: DefaultBucket}.WithEnv()
}

// WithEnv returns s with the URL, organisation and buckets that
// INFLUX_URL, INFLUX_ORG, INFLUX_BUCKET and INFLUX_ACTIVITY_BUCKET set,
// where they are set.
func (s Settings) WithEnv() Settings {
	for _, e := range []struct {
		name string
		to   *string
	}{{"INFLUX_URL", &s.URL}, {"INFLUX_ORG", &s.Org}, {"INFLUX_BUCKET", &s.Bucket}, {"INFLUX_ACTIVITY_BUCKET", &s.ActivityBucket}} {
		if v := os.Getenv(e.name); v != "" {
			*e.to = v
		}
	}
	return s
}

// Enabled reports whether a URL is set.
func (s Settings) Enabled() bool { return s.URL != "" }

// Pseudonyms loads the pseudonymisation key; without a key file it is
// the zero Key, which leaves subjects as they are. It needs no URL: a
// recording written only to an events file is pseudonymised too.
func (s Settings) Pseudonyms() (pseudonym.Key, error) {
	if s.PseudonymKeyFile != "" {
		if err := s.checkSecret("pseudonymisation key file", s.PseudonymKeyFile); err != nil {
			return pseudonym.Key{}, err
		}
	}
	return pseudonym.Load(s.PseudonymKeyFile)
}

// token reads the token from TokenFile or the environment.
func (s Settings) token() (string, error) {
	if s.TokenFile == "" {
		return os.Getenv(TokenEnv), nil
	}
	if err := s.checkSecret("influx token file", s.TokenFile); err != nil {
		return "", err
	}
	b, err := os.ReadFile(s.TokenFile)
	if err != nil {
		return "", fmt.Errorf("influx token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// TLS returns the TLS settings for the server: nil (the system's CAs,
// verification on) without a CA file.
func (s Settings) TLS() (*tls.Config, error) {
	if s.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("influx CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("influx CA: %s holds no PEM certificate", s.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// SpoolDir returns the spool directory of this server and bucket under
// root, so that points spooled for one server and bucket are never sent
// to another: a subdirectory named by a hash of both.
func (s Settings) SpoolDir(root string) string {
	h := sha256.Sum256([]byte(strings.TrimRight(s.URL, "/") + "\n" + s.Bucket))
	return filepath.Join(root, hex.EncodeToString(h[:6]))
}

// Target describes the server and bucket for people and logs, without a
// password the URL may hold.
func (s Settings) Target() string {
	return "url = " + Redact(s.URL) + "\nbucket = " + s.Bucket + "\n"
}

// Redact hides a password in a URL.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}

// Conn is an open connection to one InfluxDB server and bucket. Its
// methods are safe for concurrent use.
type Conn struct {
	settings Settings
	token    string
	tls      *tls.Config
	key      pseudonym.Key
	client   influxdb2.Client
}

// ErrNoURL is returned by Open for Settings without a URL.
var ErrNoURL = errors.New("influxconn: no InfluxDB URL (set --influx-url or INFLUX_URL)")

// Open reads the token, the CA and the pseudonymisation key that s
// names and returns a Conn. It does not contact the server (see Ping).
func Open(s Settings) (*Conn, error) {
	if !s.Enabled() {
		return nil, ErrNoURL
	}
	tok, err := s.token()
	if err != nil {
		return nil, err
	}
	tc, err := s.TLS()
	if err != nil {
		return nil, err
	}
	key, err := s.Pseudonyms()
	if err != nil {
		return nil, err
	}
	opts := influxdb2.DefaultOptions().SetLogLevel(0)
	if tc != nil {
		opts.SetTLSConfig(tc)
	}
	return &Conn{settings: s, token: tok, tls: tc, key: key, client: influxdb2.NewClientWithOptions(s.URL, tok, opts)}, nil
}

// Settings returns the settings c was opened with.
func (c *Conn) Settings() Settings { return c.settings }

// Subject returns the name under which subject's data is stored: its
// pseudonym when a key is set, else subject itself.
func (c *Conn) Subject(subject string) string { return c.key.Subject(subject) }

// Query returns the Flux query API of the connection's organisation.
func (c *Conn) Query() api.QueryAPI { return c.client.QueryAPI(c.settings.Org) }

// Bucket returns the bucket.
func (c *Conn) Bucket() string { return c.settings.Bucket }

// Sink returns the configuration of an InfluxDB sink (internal/sink/influx)
// writing to this server and bucket, with every other setting at its
// default; the caller may change them before influx.New.
func (c *Conn) Sink(log *slog.Logger) *influx.Config {
	return influx.NewConfig(c.settings.URL, c.settings.Bucket).SetActivityBucket(c.settings.ActivityBucket).
		SetOrg(c.settings.Org).SetToken(c.token).
		SetTLSConfig(c.tls).SetLogger(log)
}

// Ping reports whether the server answers, within PingTimeout.
func (c *Conn) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	ok, err := c.client.Ping(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("influxdb: not ready")
	}
	return nil
}

// Write writes evs and waits until the server acknowledged them, for
// a few events such as a logged symptom; streams go through a sink.
func (c *Conn) Write(ctx context.Context, evs ...pipeline.Event) error {
	for _, ev := range evs {
		pts, err := influx.Points(ev)
		if err != nil {
			return err
		}
		if err := c.client.WriteAPIBlocking(c.settings.Org, c.settings.Bucket).WritePoint(ctx, pts...); err != nil {
			return fmt.Errorf("write to %s bucket %s: %w", Redact(c.settings.URL), c.settings.Bucket, err)
		}
	}
	return nil
}

// Close releases the connection's idle HTTP connections.
func (c *Conn) Close() { c.client.Close() }
