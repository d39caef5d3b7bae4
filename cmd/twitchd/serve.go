package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twitchd/twitchd/internal/dashboards"
	"github.com/twitchd/twitchd/internal/dashboards/web"
	"github.com/twitchd/twitchd/internal/health"
	"github.com/twitchd/twitchd/internal/influxconn"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "serve the dashboards as a web page on loopback, drawn from InfluxDB",
		run:     runServe,
	})
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--listen 127.0.0.1:8080] [--influx-url URL] [--influx-bucket B]", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the page (loopback only unless --listen-any)")
	listenAny := fs.Bool("listen-any", false, "allow --listen on a non-loopback address (the page has no authentication)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long the queries of one page may take")
	var inf influxconn.Settings
	addInfluxFlags(fs, &inf)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !inf.Enabled() {
		fmt.Fprintln(stderr, "twitchd serve: no InfluxDB: set --influx-url or INFLUX_URL (make run starts one at http://127.0.0.1:8086)")
		return errUsage
	}
	if err := health.CheckAddr(*listen, *listenAny); err != nil {
		fmt.Fprintf(stderr, "twitchd serve: --listen: %v\n", err)
		return errUsage
	}
	conn, err := influxconn.Open(inf)
	if err != nil {
		return err
	}
	defer conn.Close()
	srv, err := web.New(web.Config{
		Dashboard: dashboards.NewWith(inf.Bucket, dashboards.DefaultActivityBuckets(inf.Bucket, inf.ActivityBucket)),
		Query:     conn.Query(),
		Where:     influxconn.Redact(inf.URL),
		Timeout:   *timeout,
	})
	if err != nil {
		return err
	}
	err = web.ListenAndServe(ctx, *listen, srv, func(url string) {
		fmt.Fprintf(stdout, "twitchd serve: dashboards at %s (InfluxDB %s, bucket %s); Ctrl-C stops\n", url, influxconn.Redact(inf.URL), inf.Bucket)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
