// Package history reads twitchd's events back from InfluxDB with Flux:
// the history the persistence rule consults (rule.History), and the
// events of a time range for reports. It reads the schema that
// internal/sink/influx writes (measurements twitch, bout, rest, cramp,
// assessment, ingest and symptom, tagged subject, site and session).
package history

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/query"

	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/pipeline"
)

// Reader queries one bucket. It implements rule.History.
type Reader struct {
	q      api.QueryAPI
	bucket string
	// EpisodeTwitches and EpisodeWindow define an episode as in
	// rule.Config; NewReader copies them from rule.DefaultConfig.
	EpisodeTwitches int
	EpisodeWindow   time.Duration
}

// NewReader returns a Reader of bucket ("database/retention" on InfluxDB
// 1.8) through q, e.g. client.QueryAPI(org).
func NewReader(q api.QueryAPI, bucket string) *Reader {
	c := rule.DefaultConfig()
	return &Reader{q: q, bucket: bucket, EpisodeTwitches: c.EpisodeTwitches, EpisodeWindow: c.EpisodeWindow}
}

// For sets the episode definition from cfg and returns r.
func (r *Reader) For(cfg rule.Config) *Reader {
	r.EpisodeTwitches, r.EpisodeWindow = cfg.EpisodeTwitches, cfg.EpisodeWindow
	return r
}

// fluxString quotes s as a Flux string literal.
func fluxString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// from starts a query on measurement m for subject (and site unless empty)
// in [start, end).
func (r *Reader) from(m, subject, site string, start, end time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "from(bucket: %s)\n  |> range(start: %s, stop: %s)\n", fluxString(r.bucket),
		start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "  |> filter(fn: (r) => r._measurement == %s and r.subject == %s)\n", fluxString(m), fluxString(subject))
	if site != "" {
		fmt.Fprintf(&b, "  |> filter(fn: (r) => r.site == %s)\n", fluxString(site))
	}
	return b.String()
}

// pivoted ends a query with one row per point, fields as columns.
const pivoted = `  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")` + "\n"

// run executes flux and calls fn for every record.
func (r *Reader) run(ctx context.Context, what, flux string, fn func(rec *query.FluxRecord)) error {
	res, err := r.q.Query(ctx, flux)
	if err != nil {
		return fmt.Errorf("history: query %s: %w", what, err)
	}
	defer res.Close()
	for res.Next() {
		fn(res.Record())
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("history: read %s: %w", what, err)
	}
	return nil
}

func str(rec *query.FluxRecord, k string) string {
	s, _ := rec.ValueByKey(k).(string)
	return s
}

func num(rec *query.FluxRecord, k string) float64 {
	switch v := rec.ValueByKey(k).(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	case bool:
		if v {
			return 1
		}
	}
	return 0
}

func ts(t time.Time) pipeline.Timestamp { return pipeline.Timestamp(t.UnixNano()) }

// end returns start plus the record's duration_s.
func end(rec *query.FluxRecord) pipeline.Timestamp {
	return ts(rec.Time()) + pipeline.Timestamp(num(rec, "duration_s")*1e9)
}

func tags(rec *query.FluxRecord) pipeline.Tags {
	return pipeline.Tags{Subject: str(rec, "subject"), Site: str(rec, "site"), Session: str(rec, "session")}
}

// Load implements rule.History with five Flux queries: bouts with their
// strength proxies, episode windows (EpisodeWindow-long fixed windows with
// at least EpisodeTwitches rest twitches on one sensor channel, so a twitch
// seen by EMG and accelerometer is not counted twice), ceased
// assessments, cramps, and symptoms (those logged without a site too).
// Points of q.ExcludeSession are left out.
func (r *Reader) Load(ctx context.Context, q rule.Query) (rule.Past, error) {
	var p rule.Past
	keep := func(rec *query.FluxRecord) bool {
		return q.ExcludeSession == "" || str(rec, "session") != q.ExcludeSession
	}
	err := r.run(ctx, "bouts", r.from("bout", q.Subject, q.Site, q.Start, q.End)+pivoted, func(rec *query.FluxRecord) {
		if keep(rec) {
			p.Bouts = append(p.Bouts, rule.PastBout{Start: ts(rec.Time()), End: end(rec), Session: str(rec, "session"),
				Intensity: str(rec, "intensity"), PeakRMS: num(rec, "peak_emg_rms_mv"), PeakAcc: num(rec, "peak_acc_g")})
		}
	})
	if err != nil {
		return p, err
	}
	episodes := r.from("twitch", q.Subject, q.Site, q.Start, q.End) + fmt.Sprintf(
		`  |> filter(fn: (r) => r._field == "duration_s" and (r.phase == "rest" or r.phase == "post_exercise"))
  |> group(columns: ["session", "sensor", "channel"])
  |> aggregateWindow(every: %s, fn: count, createEmpty: false)
  |> filter(fn: (r) => r._value >= %d)
`, fluxDuration(r.EpisodeWindow), r.EpisodeTwitches)
	err = r.run(ctx, "episodes", episodes, func(rec *query.FluxRecord) {
		if keep(rec) {
			p.Episodes = append(p.Episodes, ts(rec.Time()))
		}
	})
	if err != nil {
		return p, err
	}
	ceased := r.from("assessment", q.Subject, q.Site, q.Start, q.End) +
		`  |> filter(fn: (r) => r._field == "status_level" and r.status == "ceased")` + "\n"
	err = r.run(ctx, "ceased assessments", ceased, func(rec *query.FluxRecord) {
		if keep(rec) {
			p.Ceased = append(p.Ceased, ts(rec.Time()))
		}
	})
	if err != nil {
		return p, err
	}
	cramps := r.from("cramp", q.Subject, q.Site, q.Start, q.End) + `  |> filter(fn: (r) => r._field == "duration_s")` + "\n"
	err = r.run(ctx, "cramps", cramps, func(rec *query.FluxRecord) {
		if keep(rec) {
			p.Cramps = append(p.Cramps, ts(rec.Time()))
		}
	})
	if err != nil {
		return p, err
	}
	p.Symptoms, err = r.Symptoms(ctx, q.Subject, q.Site, q.Start, q.End)
	sortPast(&p)
	return p, err
}

// Symptoms returns the symptoms subject logged in [start, end): for site,
// and those logged without a site; every site's when site is empty.
func (r *Reader) Symptoms(ctx context.Context, subject, site string, start, end time.Time) ([]pipeline.Symptom, error) {
	var out []pipeline.Symptom
	err := r.run(ctx, "symptoms", r.from("symptom", subject, "", start, end)+pivoted, func(rec *query.FluxRecord) {
		s := pipeline.Symptom{Time: ts(rec.Time()), Tags: tags(rec), Symptom: str(rec, "symptom"), Text: str(rec, "text")}
		if site == "" || s.Site == "" || s.Site == site {
			out = append(out, s)
		}
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out, err
}

// fluxDuration formats d as a Flux duration literal.
func fluxDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

func sortPast(p *rule.Past) {
	sort.Slice(p.Bouts, func(i, j int) bool { return p.Bouts[i].Start < p.Bouts[j].Start })
	for _, t := range [][]pipeline.Timestamp{p.Episodes, p.Ceased, p.Cramps} {
		sort.Slice(t, func(i, j int) bool { return t[i] < t[j] })
	}
}
