package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/rule/report"
)

func init() {
	register(&command{
		name:    "report",
		summary: "report a person's twitching, status (and how it evolved) and advice from InfluxDB",
		run:     runReport,
	})
}

// reportTimeout bounds the queries of one report.
const reportTimeout = 2 * time.Minute

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report --subject S [--site X] [--since 14d] [--until RFC3339] [--json]", stderr)
	subject := fs.String("subject", "", "person to report on (required)")
	site := fs.String("site", "", "body site; empty: every site")
	since := fs.String("since", "14d", "how far back: a number of days (14d) or a Go duration (36h)")
	until := fs.String("until", "", "end of the period, RFC 3339 (default now)")
	asJSON := fs.Bool("json", false, "write JSON for machines")
	var inf influxconn.Settings
	addInfluxFlags(fs, &inf)
	addPseudonymFlag(fs, &inf)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, err := reportOptions(*subject, *site, *since, *until, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "twitchd report: %v\n", err)
		fs.Usage()
		return errUsage
	}
	if !inf.Enabled() {
		fmt.Fprintln(stderr, "twitchd report: no InfluxDB: set --influx-url or INFLUX_URL")
		return errUsage
	}
	conn, err := influxconn.Open(inf)
	if err != nil {
		return err
	}
	defer conn.Close()
	opts.Subject = conn.Subject(opts.Subject)
	qctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	rep, err := report.Build(qctx, history.NewReader(conn.Query(), conn.Bucket()), opts)
	if err != nil {
		return fmt.Errorf("%s bucket %s: %w", influxconn.Redact(inf.URL), inf.Bucket, err)
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteText(stdout)
}

// reportOptions checks the report's flags.
func reportOptions(subject, site, since, until string, now time.Time) (report.Options, error) {
	if strings.TrimSpace(subject) == "" {
		return report.Options{}, errors.New("--subject is required")
	}
	back, err := parseSince(since)
	if err != nil {
		return report.Options{}, err
	}
	end := now
	if until != "" {
		if end, err = time.Parse(time.RFC3339Nano, until); err != nil {
			return report.Options{}, fmt.Errorf("--until %q: want RFC 3339: %w", until, err)
		}
	}
	return report.Options{Subject: subject, Site: site, Since: end.Add(-back), Until: end, Config: rule.DefaultConfig()}, nil
}

// parseSince reads "14d" as 14 days, anything else as a Go duration.
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--since %q: want a positive number of days (14d) or a duration (36h)", s)
	}
	return d, nil
}
