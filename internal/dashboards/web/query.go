package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/twitchd/twitchd/internal/dashboards"
)

// Querier runs Flux; influxdb-client-go's api.QueryAPI is one.
type Querier interface {
	Query(ctx context.Context, query string) (*api.QueryTableResult, error)
}

// Row is one record of a result: columns by name, _time as time.Time.
type Row map[string]any

// run executes flux with the `v` record of v and returns its rows, tables
// one after the other.
func (s *Server) run(ctx context.Context, flux string, v dashboards.Vars) ([]Row, error) {
	res, err := s.cfg.Query.Query(ctx, dashboards.WithVars(flux, v))
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var rows []Row
	for res.Next() {
		rec := res.Record().Values()
		r := make(Row, len(rec))
		for k, x := range rec {
			if k != "result" && k != "table" {
				r[k] = x
			}
		}
		rows = append(rows, r)
	}
	return rows, res.Err()
}

// Unreachable is wrapped by errors meaning InfluxDB did not answer.
var Unreachable = errors.New("InfluxDB does not answer")

// explain turns a query error into what the page says.
func (s *Server) explain(err error) error {
	var he *ihttp.Error
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer from %s within %v", Unreachable, s.cfg.Where, s.cfg.Timeout)
	case errors.As(err, &he) && he.StatusCode == 0, errors.As(err, &ne):
		return fmt.Errorf("%w at %s: %v", Unreachable, s.cfg.Where, err)
	case errors.As(err, &he) && (he.StatusCode == 401 || he.StatusCode == 403):
		return fmt.Errorf("InfluxDB at %s refused the token (%d): set INFLUX_TOKEN or --influx-token-file", s.cfg.Where, he.StatusCode)
	case errors.As(err, &he) && he.StatusCode == 404:
		return fmt.Errorf("InfluxDB at %s has no bucket %q (%v)", s.cfg.Where, s.cfg.Dashboard.Bucket, err)
	}
	return fmt.Errorf("query failed: %w", err)
}

// recording is one file ingested for a subject (an ingest point).
type recording struct {
	subject, site string
	start, end    time.Time
}

// recordings lists every file ingested, for subject (every subject when
// empty), oldest first.
func (s *Server) recordings(ctx context.Context, subject string) ([]recording, error) {
	flux := fmt.Sprintf(`from(bucket: %s)
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "ingest" and r._field == "duration_s")
`, dashboards.FluxString(s.cfg.Dashboard.Bucket))
	if subject != "" {
		flux += "  |> filter(fn: (r) => r.subject == v.subject)\n"
	}
	flux += "  |> keep(columns: [\"_time\", \"_value\", \"subject\", \"site\"])\n  |> group()\n"
	rows, err := s.run(ctx, flux, dashboards.Vars{Start: time.Unix(0, 0), Stop: s.cfg.Now(), Subject: subject})
	if err != nil {
		return nil, err
	}
	out := make([]recording, 0, len(rows))
	for _, r := range rows {
		t, _ := r["_time"].(time.Time)
		d, _ := r["_value"].(float64)
		sub, _ := r["subject"].(string)
		site, _ := r["site"].(string)
		out = append(out, recording{subject: sub, site: site, start: t, end: t.Add(time.Duration(d * float64(time.Second)))})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out, nil
}

// values runs a variable's query and returns its values, sorted.
func (s *Server) values(ctx context.Context, name string, v dashboards.Vars) ([]string, error) {
	for _, vr := range s.cfg.Dashboard.Variables {
		if vr.Name != name {
			continue
		}
		rows, err := s.run(ctx, vr.Flux, v)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, r := range rows {
			if x, ok := r["_value"].(string); ok && x != "" {
				out = append(out, x)
			}
		}
		sort.Strings(out)
		return out, nil
	}
	return nil, fmt.Errorf("web: the dashboard has no variable %q", name)
}

// span returns the UTC days around the recordings: from the midnight
// before the first start to the midnight after the last end, at most
// maxDays before that.
func span(recs []recording) (from, to time.Time) {
	const day = 24 * time.Hour
	first, last := recs[0].start, recs[0].end
	for _, r := range recs {
		if r.start.Before(first) {
			first = r.start
		}
		if r.end.After(last) {
			last = r.end
		}
	}
	from, to = first.UTC().Truncate(day), last.UTC().Truncate(day).Add(day)
	if to.Sub(from) > maxDays*day {
		from = to.Add(-maxDays * day)
	}
	return from, to
}

// maxDays bounds the default time range.
const maxDays = 31

// windowPeriod picks v.windowPeriod for a range: about 300 windows, on a
// round duration.
func windowPeriod(d time.Duration) time.Duration {
	steps := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
		5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour}
	for _, s := range steps {
		if d/s <= 300 {
			return s
		}
	}
	return 24 * time.Hour
}

// parseTime reads a time parameter: RFC 3339, or a date (UTC midnight).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02) or an RFC 3339 time", s)
}
