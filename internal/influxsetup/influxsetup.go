// Package influxsetup creates what a year of twitchd's data needs in an
// InfluxDB 1.8 database besides the database itself: a retention policy
// that keeps the raw per-epoch activity points for a limited time
// (schema.RPActivityRaw), one that keeps their hourly downsampling for
// ever (schema.RPActivityHourly), and the continuous query that fills the
// second from the first (schema.CQActivityHourly). It speaks InfluxQL
// through the 1.x /query endpoint, which accepts the same token
// ("user:password") as the 2.x API twitchd writes with.
//
// Events (twitches, bouts, rests, cramps, assessments, symptoms, ingest
// summaries) stay in the database's bucket for ever: the rule reads weeks
// of them, and a report or a dashboard years. Only activity, one point per
// 5-s epoch and sensor channel (about 17,000 points per channel and day of
// recording), is worth downsampling.
package influxsetup

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/schema"
)

// InfluxQL runs one InfluxQL statement; *influxconn.Conn implements it.
type InfluxQL interface {
	InfluxQL(ctx context.Context, db, stmt string) ([]influxconn.Series, error)
}

// Defaults of Options.
const (
	DefaultRawRetention = 30 * 24 * time.Hour
	// rawShard and hourlyShard are the shard durations: a day of raw
	// points is one shard group, so that retention drops whole days; the
	// hourly points of half a year fit in one.
	rawShard    = "1d"
	hourlyShard = "26w"
)

// Options say what Setup creates.
type Options struct {
	// Database is the InfluxDB 1.8 database, e.g. "twitchd".
	Database string
	// EventsRP is the retention policy of the bucket twitchd writes
	// events to (and activity too when no activity bucket is set), e.g.
	// "autogen". The continuous query reads activity from it and from
	// schema.RPActivityRaw.
	EventsRP string
	// RawRetention is how long raw activity points are kept (default
	// DefaultRawRetention, at least an hour).
	RawRetention time.Duration
	// Backfill, when positive, downsamples the raw activity of the last
	// Backfill up to Now at once, as the continuous query would have
	// (activity written before the setup, or replayed from old files).
	Backfill time.Duration
	// Now ends the backfill (default time.Now()).
	Now time.Time
	// DryRun prints the statements without running them.
	DryRun bool
}

func (o Options) withDefaults() Options {
	if o.RawRetention <= 0 {
		o.RawRetention = DefaultRawRetention
	}
	if o.RawRetention < time.Hour {
		o.RawRetention = time.Hour
	}
	if o.EventsRP == "" {
		o.EventsRP = "autogen"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// ident quotes an InfluxQL identifier.
func ident(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// influxDuration formats d as an InfluxQL duration literal.
func influxDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// Downsample returns the SELECT ... INTO that turns the raw activity of
// the given retention policies into hourly points in
// schema.RPActivityHourly: the means of enmo_mg, rms_mv and noise under
// their own names, the maxima of enmo_mg, rms_mv and intensity_level with
// a _max suffix, and the seconds of epochs in the hour (duration_s), per
// subject, site, sensor and channel. where, when not empty, is an InfluxQL
// condition on time; the continuous query has none.
func Downsample(db string, fromRPs []string, where string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `SELECT mean(%[1]s) AS %[1]s, max(%[1]s) AS %[2]s, mean(%[3]s) AS %[3]s, max(%[3]s) AS %[4]s, `+
		`mean(%[5]s) AS %[5]s, max(%[6]s) AS %[7]s, sum(%[8]s) AS %[8]s`,
		ident(schema.FieldENMO), ident(schema.FieldENMOMax), ident(schema.FieldRMS), ident(schema.FieldRMSMax),
		ident(schema.FieldNoise), ident(schema.FieldIntensityLevel), ident(schema.FieldIntensityLevelMax),
		ident(schema.FieldDuration))
	fmt.Fprintf(&b, " INTO %s.%s.%s FROM ", ident(db), ident(schema.RPActivityHourly), ident(schema.Activity))
	for i, rp := range fromRPs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s.%s.%s", ident(db), ident(rp), ident(schema.Activity))
	}
	if where != "" {
		b.WriteString(" WHERE " + where)
	}
	fmt.Fprintf(&b, " GROUP BY time(1h), %s, %s, %s, %s", ident(schema.TagSubject), ident(schema.TagSite),
		ident(schema.TagSensor), ident(schema.TagChannel))
	return b.String()
}

// sources are the retention policies the downsampling reads.
func (o Options) sources() []string {
	if o.EventsRP == schema.RPActivityRaw {
		return []string{o.EventsRP}
	}
	return []string{o.EventsRP, schema.RPActivityRaw}
}

// Setup creates or updates the two retention policies and the continuous
// query, and backfills when asked. It is idempotent: run again, it
// changes the raw retention to the one given, recreates the continuous
// query and leaves the data alone. Every statement is printed to log.
func Setup(ctx context.Context, q InfluxQL, o Options, log io.Writer) error {
	o = o.withDefaults()
	if o.Database == "" {
		return fmt.Errorf("influxsetup: no database")
	}
	rps := map[string]bool{}
	cqs := map[string]bool{}
	if !o.DryRun {
		series, err := q.InfluxQL(ctx, o.Database, "SHOW RETENTION POLICIES ON "+ident(o.Database))
		if err != nil {
			return fmt.Errorf("influxsetup: %w (does database %q exist? replay or run create nothing; CREATE DATABASE it)", err, o.Database)
		}
		for _, s := range series {
			for _, v := range s.Values {
				if name, ok := v[0].(string); ok {
					rps[name] = true
				}
			}
		}
		series, err = q.InfluxQL(ctx, "", "SHOW CONTINUOUS QUERIES")
		if err != nil {
			return fmt.Errorf("influxsetup: %w", err)
		}
		for _, s := range series {
			if s.Name != o.Database {
				continue
			}
			for _, v := range s.Values {
				if name, ok := v[0].(string); ok {
					cqs[name] = true
				}
			}
		}
	}
	db := ident(o.Database)
	var stmts []string
	if rps[schema.RPActivityRaw] {
		stmts = append(stmts, fmt.Sprintf("ALTER RETENTION POLICY %s ON %s DURATION %s",
			ident(schema.RPActivityRaw), db, influxDuration(o.RawRetention)))
	} else {
		stmts = append(stmts, fmt.Sprintf("CREATE RETENTION POLICY %s ON %s DURATION %s REPLICATION 1 SHARD DURATION %s",
			ident(schema.RPActivityRaw), db, influxDuration(o.RawRetention), rawShard))
	}
	if !rps[schema.RPActivityHourly] {
		stmts = append(stmts, fmt.Sprintf("CREATE RETENTION POLICY %s ON %s DURATION INF REPLICATION 1 SHARD DURATION %s",
			ident(schema.RPActivityHourly), db, hourlyShard))
	}
	if cqs[schema.CQActivityHourly] {
		stmts = append(stmts, fmt.Sprintf("DROP CONTINUOUS QUERY %s ON %s", ident(schema.CQActivityHourly), db))
	}
	// RESAMPLE FOR 2h: points that arrive up to an hour late (a spool
	// drained after an outage, a replay of this morning's file) are
	// still downsampled; older ones need a backfill.
	stmts = append(stmts, fmt.Sprintf("CREATE CONTINUOUS QUERY %s ON %s RESAMPLE EVERY 1h FOR 2h BEGIN %s END",
		ident(schema.CQActivityHourly), db, Downsample(o.Database, o.sources(), "")))
	if o.Backfill > 0 {
		// A month per statement bounds the memory one statement takes.
		end := o.Now.UTC().Truncate(time.Hour).Add(time.Hour)
		start := end.Add(-o.Backfill).Truncate(time.Hour)
		for a := start; a.Before(end); a = a.Add(30 * 24 * time.Hour) {
			b := a.Add(30 * 24 * time.Hour)
			if b.After(end) {
				b = end
			}
			stmts = append(stmts, Downsample(o.Database, o.sources(),
				fmt.Sprintf("time >= '%s' AND time < '%s'", a.Format(time.RFC3339), b.Format(time.RFC3339))))
		}
	}
	for _, s := range stmts {
		fmt.Fprintln(log, s)
		if o.DryRun {
			continue
		}
		if _, err := q.InfluxQL(ctx, o.Database, s); err != nil {
			return fmt.Errorf("influxsetup: %w", err)
		}
	}
	return nil
}
