// Package history reads twitchd's events back from InfluxDB with Flux:
// the history the persistence rule consults (rule.History), and the
// events of a time range for reports. It reads the schema that
// internal/sink/influx writes (measurements twitch, bout, rest, cramp,
// assessment, ingest and symptom, tagged subject and site), with the
// recording in a field "session", and the schema before issue 12, which
// had the recording in a tag "session".
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
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

// Reader queries one bucket. It implements rule.History.
type Reader struct {
	q      api.QueryAPI
	bucket string
	// EpisodeTwitches and EpisodeWindow define an episode, and
	// EpisodeLookback and SymptomLookback how far back episodes and
	// assessments, and cramps and symptoms, are read, as in rule.Config;
	// NewReader copies them from rule.DefaultConfig.
	EpisodeTwitches int
	EpisodeWindow   time.Duration
	EpisodeLookback time.Duration
	SymptomLookback time.Duration
}

// NewReader returns a Reader of bucket ("database/retention" on InfluxDB
// 1.8) through q, e.g. client.QueryAPI(org).
func NewReader(q api.QueryAPI, bucket string) *Reader {
	return (&Reader{q: q, bucket: bucket}).For(rule.DefaultConfig())
}

// For sets the episode definition and the lookbacks from cfg and returns r.
func (r *Reader) For(cfg rule.Config) *Reader {
	r.EpisodeTwitches, r.EpisodeWindow = cfg.EpisodeTwitches, cfg.EpisodeWindow
	r.EpisodeLookback, r.SymptomLookback = cfg.EpisodeLookback, cfg.SymptomLookback
	return r
}

// Session handling, in one place. Points written since issue 12 carry
// the recording in a string field "session"; older points carry it in a
// tag of the same name. Either way a query that pivots fields into
// columns sees it in the column "session", so every query here keeps the
// session field beside the fields it reads and pivots before it groups by
// recording; the recording being assessed is left out on the client (its
// rows are few).

// sessionColumn is the column holding a row's recording.
const sessionColumn = schema.FieldSession

// sessionOf returns the recording a row belongs to.
func sessionOf(rec *query.FluxRecord) string { return str(rec, sessionColumn) }

// withSession keeps the given fields and the session field, and pivots
// them into columns: one row per point, tag or field "session" alike.
func withSession(fields ...string) string {
	conds := []string{"r._field == " + fluxString(schema.FieldSession)}
	for _, f := range fields {
		conds = append(conds, "r._field == "+fluxString(f))
	}
	return "  |> filter(fn: (r) => " + strings.Join(conds, " or ") + ")\n" + pivoted
}

// bySession groups rows by recording and the given columns.
func bySession(cols ...string) string {
	quoted := []string{fluxString(sessionColumn)}
	for _, c := range cols {
		quoted = append(quoted, fluxString(c))
	}
	return "  |> group(columns: [" + strings.Join(quoted, ", ") + "])\n"
}

// keep reports whether a row is history for q: not of the recording
// being assessed.
func keep(q rule.Query, rec *query.FluxRecord) bool {
	return q.ExcludeSession == "" || sessionOf(rec) != q.ExcludeSession
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
	return r.runRows(ctx, what, flux, func(w row) { fn(w.FluxRecord) })
}

// row is one record and whether it is of the schema before issue 12.
type row struct {
	*query.FluxRecord
	// legacy: the table has the session as a tag (a group key column),
	// as every point had before issue 12. Only meaningful in a query
	// that pivots without grouping again.
	legacy bool
}

// shiftedTime returns the time of an assessment or ingest point as the
// event had it: points written since issue 12 were moved by
// schema.SessionShift, which is taken off again; legacy ones were not.
func (w row) shiftedTime() pipeline.Timestamp {
	t := ts(w.Time())
	if !w.legacy {
		t -= pipeline.Timestamp(schema.SessionShift(sessionOf(w.FluxRecord)))
	}
	return t
}

// runRows executes flux and calls fn for every record with its schema.
func (r *Reader) runRows(ctx context.Context, what, flux string, fn func(w row)) error {
	res, err := r.q.Query(ctx, flux)
	if err != nil {
		return fmt.Errorf("history: query %s: %w", what, err)
	}
	defer res.Close()
	legacy := false
	for res.Next() {
		if res.TableChanged() {
			legacy = false
			for _, c := range res.TableMetadata().Columns() {
				if c.Name() == sessionColumn && c.IsGroup() {
					legacy = true
				}
			}
		}
		fn(row{res.Record(), legacy})
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
	return pipeline.Tags{Subject: str(rec, "subject"), Site: str(rec, "site"), Session: sessionOf(rec)}
}

// within narrows [start, end) to its last d (all of it when d is 0).
func within(start, end time.Time, d time.Duration) time.Time {
	if d > 0 && end.Add(-d).After(start) {
		return end.Add(-d)
	}
	return start
}

// Load implements rule.History with five Flux queries, each reading only
// what the rule uses:
//   - bouts of any intensity at every site of the subject (activity
//     anywhere is activity), with duration and strength proxies;
//   - episode windows: EpisodeWindow-long fixed windows with at least
//     EpisodeTwitches rest twitches on one sensor channel of a recording
//     (so a twitch seen by EMG and accelerometer is not counted twice),
//     within EpisodeLookback;
//   - the last assessment of each recording (its status), within
//     EpisodeLookback: the rule leaves out episodes of recordings that
//     ceased, and tells at_rest from post_exercise episodes by the bouts;
//   - cramps and symptoms (those logged without a site too), within
//     SymptomLookback.
//
// Rows of q.ExcludeSession are left out.
func (r *Reader) Load(ctx context.Context, q rule.Query) (rule.Past, error) {
	var p rule.Past
	bouts := r.from(schema.Bout, q.Subject, "", q.Start, q.End) +
		withSession(schema.FieldDuration, schema.FieldPeakEMGRMS, schema.FieldPeakAcc)
	err := r.run(ctx, "bouts", bouts, func(rec *query.FluxRecord) {
		if keep(q, rec) {
			p.Bouts = append(p.Bouts, rule.PastBout{Start: ts(rec.Time()), End: end(rec), Session: sessionOf(rec),
				Site: str(rec, "site"), Intensity: str(rec, "intensity"), PeakRMS: num(rec, "peak_emg_rms_mv"),
				PeakAcc: num(rec, "peak_acc_g")})
		}
	})
	if err != nil {
		return p, err
	}
	epStart := within(q.Start, q.End, r.EpisodeLookback)
	episodes := r.from(schema.Twitch, q.Subject, q.Site, epStart, q.End) +
		`  |> filter(fn: (r) => r.phase == "rest" or r.phase == "post_exercise")` + "\n" +
		withSession(schema.FieldDuration) + bySession("sensor", "channel") + fmt.Sprintf(
		`  |> aggregateWindow(every: %s, fn: count, column: %s, createEmpty: false, timeSrc: "_start")
  |> filter(fn: (r) => r.%s >= %d)
`, fluxDuration(r.EpisodeWindow), fluxString(schema.FieldDuration), schema.FieldDuration, r.EpisodeTwitches)
	err = r.run(ctx, "episodes", episodes, func(rec *query.FluxRecord) {
		if keep(q, rec) {
			p.Episodes = append(p.Episodes, rule.PastEpisode{Time: ts(rec.Time()), Session: sessionOf(rec)})
		}
	})
	if err != nil {
		return p, err
	}
	// The last assessment of each recording is picked here rather than
	// in Flux: grouping by session in Flux would hide whether the
	// session was a tag (legacy, not shifted) or a field.
	finals := r.from(schema.Assessment, q.Subject, q.Site, epStart, q.End) + withSession(schema.FieldStatusLevel)
	last := map[string]int{}
	err = r.runRows(ctx, "last assessments", finals, func(w row) {
		if !keep(q, w.FluxRecord) {
			return
		}
		f := rule.PastFinal{Time: w.shiftedTime(), Session: sessionOf(w.FluxRecord), Status: rule.Status(str(w.FluxRecord, "status"))}
		if i, ok := last[f.Session]; !ok {
			last[f.Session] = len(p.Finals)
			p.Finals = append(p.Finals, f)
		} else if f.Time >= p.Finals[i].Time {
			p.Finals[i] = f
		}
	})
	if err != nil {
		return p, err
	}
	symStart := within(q.Start, q.End, r.SymptomLookback)
	cramps := r.from(schema.Cramp, q.Subject, q.Site, symStart, q.End) + withSession(schema.FieldDuration)
	err = r.run(ctx, "cramps", cramps, func(rec *query.FluxRecord) {
		if keep(q, rec) {
			p.Cramps = append(p.Cramps, ts(rec.Time()))
		}
	})
	if err != nil {
		return p, err
	}
	p.Symptoms, err = r.Symptoms(ctx, q.Subject, q.Site, symStart, q.End)
	rule.SortPast(&p)
	p.Episodes = dedupEpisodes(p.Episodes)
	return p, err
}

// dedupEpisodes drops repeats of the same window of the same recording
// (seen on several sensor channels); eps is in time order.
func dedupEpisodes(eps []rule.PastEpisode) []rule.PastEpisode {
	out := eps[:0]
	for _, e := range eps {
		dup := false
		for j := len(out) - 1; j >= 0 && out[j].Time == e.Time; j-- {
			if out[j].Session == e.Session {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// Symptoms returns the symptoms subject logged in [start, end): for site,
// and those logged without a site; every site's when site is empty.
func (r *Reader) Symptoms(ctx context.Context, subject, site string, start, end time.Time) ([]pipeline.Symptom, error) {
	var out []pipeline.Symptom
	err := r.run(ctx, "symptoms", r.from(schema.Symptom, subject, "", start, end)+pivoted, func(rec *query.FluxRecord) {
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
