package influx

import (
	"crypto/tls"
	"log/slog"
	"time"
)

// Defaults of Config; a zero field means its default.
const (
	DefaultBatchSize     = 5000
	DefaultQueueSize     = 100_000
	DefaultFlushInterval = time.Second
	DefaultMaxRetries    = 20
	DefaultMaxRetryTime  = 3 * time.Minute
	DefaultMinBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	DefaultHTTPTimeout   = 10 * time.Second
	DefaultProbeInterval = time.Second
)

// Config configures a Sink. Build it with NewConfig and the chained
// setters, e.g.
//
//	influx.NewConfig(url, "twitchd/autogen").SetBatchSize(1000).SetFlushInterval(5*time.Second)
//
// or fill the fields directly; a zero field takes its default.
type Config struct {
	// URL of the server, e.g. "http://127.0.0.1:8086". Required.
	URL string
	// Org is sent with every write; InfluxDB 1.8 ignores it.
	Org string
	// Bucket is "database/retention-policy" on InfluxDB 1.8, e.g.
	// "twitchd/autogen". Required.
	Bucket string
	// ActivityBucket, when set and not Bucket, takes the per-epoch
	// activity points (measurement activity) instead of Bucket: on
	// InfluxDB 1.8 a retention policy of limited duration, e.g.
	// "twitchd/activity_raw", which `twitchd influx setup` creates with a
	// continuous query that keeps hourly means and maxima for ever.
	ActivityBucket string
	// Token authenticates: empty with auth off, "user:password" on 1.8,
	// an API token on 2.x.
	Token string

	// BatchSize is the most points per write request (default 5000).
	BatchSize int
	// QueueSize bounds the points waiting to be written, the batch being
	// sent included (default 100 000). Points that find it full go to
	// Overflow or are counted as dropped; Write never waits.
	QueueSize int
	// FlushInterval is how long a point may wait for its batch to fill
	// before it is sent anyway (default 1 s).
	FlushInterval time.Duration
	// MaxRetries bounds the retries of one request (default 20; negative
	// for none).
	MaxRetries int
	// MaxRetryTime bounds how long a batch may wait, from being queued
	// whole, before its points are given up as failed (default 3 min).
	// Every batch is tried at least once. It applies without an Overflow
	// only: with one, a failed write is not retried (see Overflow).
	MaxRetryTime time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries, which
	// doubles from MinBackoff with jitter (defaults 500 ms and 30 s). A
	// Retry-After header from the server lengthens the wait.
	MinBackoff, MaxBackoff time.Duration
	// HTTPTimeout bounds one write request (default 10 s); a request that
	// times out is retried.
	HTTPTimeout time.Duration

	// ProbeInterval is, while the circuit is open (see Overflow), how
	// often the writer asks the server whether it answers before it tries
	// a batch again (default 1 s). Between probes, batches go to Overflow
	// without a request.
	ProbeInterval time.Duration

	// TLSConfig is used for an https URL; nil means the system's
	// certificate pool with verification on.
	TLSConfig *tls.Config

	// Overflow takes the points that find the queue full or whose retries
	// run out; nil counts them as dropped or failed. With an Overflow the
	// sink does not retry a failed write: it opens a circuit, hands the
	// batch and every new one to Overflow at once, and tries writing again
	// only after a probe (a ping every ProbeInterval) finds the server
	// answering. So what a crash can lose during an outage is about one
	// FlushInterval of points, not MaxRetryTime of them.
	Overflow Overflow
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// NewConfig returns a Config for the server at url and bucket with every
// other setting at its default.
func NewConfig(url, bucket string) *Config {
	return &Config{URL: url, Bucket: bucket}
}

// SetURL sets URL.
func (c *Config) SetURL(url string) *Config { c.URL = url; return c }

// SetOrg sets Org.
func (c *Config) SetOrg(org string) *Config { c.Org = org; return c }

// SetBucket sets Bucket.
func (c *Config) SetBucket(bucket string) *Config { c.Bucket = bucket; return c }

// SetActivityBucket sets ActivityBucket.
func (c *Config) SetActivityBucket(bucket string) *Config { c.ActivityBucket = bucket; return c }

// SetToken sets Token.
func (c *Config) SetToken(token string) *Config { c.Token = token; return c }

// SetBatchSize sets BatchSize.
func (c *Config) SetBatchSize(n int) *Config { c.BatchSize = n; return c }

// SetQueueSize sets QueueSize.
func (c *Config) SetQueueSize(n int) *Config { c.QueueSize = n; return c }

// SetFlushInterval sets FlushInterval.
func (c *Config) SetFlushInterval(d time.Duration) *Config { c.FlushInterval = d; return c }

// SetMaxRetries sets MaxRetries.
func (c *Config) SetMaxRetries(n int) *Config { c.MaxRetries = n; return c }

// SetMaxRetryTime sets MaxRetryTime.
func (c *Config) SetMaxRetryTime(d time.Duration) *Config { c.MaxRetryTime = d; return c }

// SetBackoff sets MinBackoff and MaxBackoff.
func (c *Config) SetBackoff(min, max time.Duration) *Config {
	c.MinBackoff, c.MaxBackoff = min, max
	return c
}

// SetHTTPTimeout sets HTTPTimeout.
func (c *Config) SetHTTPTimeout(d time.Duration) *Config { c.HTTPTimeout = d; return c }

// SetTLSConfig sets TLSConfig.
func (c *Config) SetTLSConfig(t *tls.Config) *Config { c.TLSConfig = t; return c }

// SetProbeInterval sets ProbeInterval.
func (c *Config) SetProbeInterval(d time.Duration) *Config { c.ProbeInterval = d; return c }

// SetOverflow sets Overflow.
func (c *Config) SetOverflow(o Overflow) *Config { c.Overflow = o; return c }

// SetLogger sets Logger.
func (c *Config) SetLogger(l *slog.Logger) *Config { c.Logger = l; return c }

// withDefaults returns a copy of c with zero fields set to their defaults
// and BatchSize no larger than QueueSize.
func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.BatchSize, DefaultBatchSize)
	def(&c.QueueSize, DefaultQueueSize)
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	defD(&c.FlushInterval, DefaultFlushInterval)
	defD(&c.MaxRetryTime, DefaultMaxRetryTime)
	defD(&c.MinBackoff, DefaultMinBackoff)
	defD(&c.MaxBackoff, DefaultMaxBackoff)
	defD(&c.HTTPTimeout, DefaultHTTPTimeout)
	defD(&c.ProbeInterval, DefaultProbeInterval)
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.BatchSize > c.QueueSize {
		c.BatchSize = c.QueueSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
