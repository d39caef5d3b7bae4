package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/twitchd/twitchd/internal/dashboards"
	"github.com/twitchd/twitchd/internal/dashboards/web"
	"github.com/twitchd/twitchd/internal/health"
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
	inf := addInfluxFlags(fs)
	caFile := fs.String("influx-ca", "", "PEM file of the CA that signed the InfluxDB server's certificate (https URLs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !inf.enabled() {
		fmt.Fprintln(stderr, "twitchd serve: no InfluxDB: set --influx-url or INFLUX_URL (make run starts one at http://127.0.0.1:8086)")
		return errUsage
	}
	if err := health.CheckAddr(*listen, *listenAny); err != nil {
		fmt.Fprintf(stderr, "twitchd serve: --listen: %v\n", err)
		return errUsage
	}
	client, err := queryClient(inf, *caFile)
	if err != nil {
		return err
	}
	defer client.Close()
	srv, err := web.New(web.Config{
		Dashboard: dashboards.New(inf.bucket),
		Query:     client.QueryAPI(inf.org),
		Where:     redact(inf.url),
		Timeout:   *timeout,
	})
	if err != nil {
		return err
	}
	err = web.ListenAndServe(ctx, *listen, srv, func(url string) {
		fmt.Fprintf(stdout, "twitchd serve: dashboards at %s (InfluxDB %s, bucket %s); Ctrl-C stops\n", url, redact(inf.url), inf.bucket)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// queryClient builds the InfluxDB client that reads for serve. (One
// function, so that it can move to the shared connection constructor.)
func queryClient(inf *influxFlags, caFile string) (influxdb2.Client, error) {
	tok, err := inf.token()
	if err != nil {
		return nil, err
	}
	d := &durableFlags{caFile: caFile}
	tc, err := d.tlsConfig()
	if err != nil {
		return nil, err
	}
	return influxdb2.NewClientWithOptions(inf.url, tok, influxdb2.DefaultOptions().SetLogLevel(0).SetTLSConfig(tc)), nil
}
