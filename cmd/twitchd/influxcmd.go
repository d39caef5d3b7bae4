package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxsetup"
	"github.com/twitchd/twitchd/internal/schema"
)

func init() {
	register(&command{
		name:    "influx",
		summary: "set up retention and hourly downsampling of activity in InfluxDB 1.8 (setup), or show them and the series count (status)",
		run:     runInflux,
	})
}

const influxUsage = "Usage: twitchd influx setup [--raw-retention 30d] [--backfill 365d] [--dry-run] | status  (with --influx-url, --influx-bucket)"

func runInflux(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "setup" && args[0] != "status") {
		fmt.Fprintln(stderr, influxUsage)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("influx "+sub, "influx "+sub+" --influx-url URL [--influx-bucket DB/RP] [flags]", stderr)
	raw := fs.String("raw-retention", "30d", "how long raw per-epoch activity points are kept in "+schema.RPActivityRaw+" (a number of days, 30d, or a Go duration)")
	backfill := fs.String("backfill", "", "also downsample the raw activity of this long back now (e.g. 365d), as the continuous query would have")
	dry := fs.Bool("dry-run", false, "print the InfluxQL statements without running them")
	var inf influxconn.Settings
	addInfluxFlags(fs, &inf)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if !inf.Enabled() {
		fmt.Fprintln(stderr, "twitchd influx: no InfluxDB: set --influx-url or INFLUX_URL")
		return errUsage
	}
	conn, err := influxconn.Open(inf)
	if err != nil {
		return err
	}
	defer conn.Close()
	db, rp, _ := strings.Cut(conn.Bucket(), "/")
	if sub == "status" {
		return influxStatus(ctx, conn, db, stdout)
	}
	opts := influxsetup.Options{Database: db, EventsRP: rp, DryRun: *dry}
	if opts.RawRetention, err = parseSince(*raw); err != nil {
		fmt.Fprintf(stderr, "twitchd influx setup: --raw-retention: %v\n", err)
		return errUsage
	}
	if *backfill != "" {
		if opts.Backfill, err = parseSince(*backfill); err != nil {
			fmt.Fprintf(stderr, "twitchd influx setup: --backfill: %v\n", err)
			return errUsage
		}
	}
	if err := influxsetup.Setup(ctx, conn, opts, stdout); err != nil {
		return err
	}
	if !*dry {
		fmt.Fprintf(stdout, "done. Write activity into the raw policy: --influx-activity-bucket %s/%s (or INFLUX_ACTIVITY_BUCKET, or activity_bucket in [influx])\n",
			db, schema.RPActivityRaw)
	}
	return nil
}

// influxStatus prints the retention policies, continuous queries and
// series cardinality of db.
func influxStatus(ctx context.Context, conn *influxconn.Conn, db string, stdout io.Writer) error {
	for _, q := range []struct{ db, stmt string }{
		{db, "SHOW RETENTION POLICIES ON \"" + db + "\""},
		{"", "SHOW CONTINUOUS QUERIES"},
		{db, "SHOW SERIES CARDINALITY ON \"" + db + "\""},
	} {
		series, err := conn.InfluxQL(ctx, q.db, q.stmt)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "> %s\n", q.stmt)
		for _, s := range series {
			if q.db == "" && s.Name != db {
				continue
			}
			fmt.Fprintln(stdout, strings.Join(s.Columns, "\t"))
			for _, v := range s.Values {
				cells := make([]string, len(v))
				for i, c := range v {
					cells[i] = fmt.Sprint(c)
				}
				fmt.Fprintln(stdout, strings.Join(cells, "\t"))
			}
		}
	}
	return nil
}
