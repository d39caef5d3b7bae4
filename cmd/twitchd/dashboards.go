package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/twitchd/twitchd/internal/dashboards"
	"github.com/twitchd/twitchd/internal/influxconn"
)

func init() {
	register(&command{
		name:    "dashboards",
		summary: "export the dashboards for InfluxDB 2.x (influx apply) or Grafana",
		run:     runDashboards,
	})
}

func runDashboards(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			args = []string{"export", "-h"}
		} else {
			fmt.Fprintln(stderr, "Usage: twitchd dashboards export --format influxdb2|grafana [--out DIR]")
			return errUsage
		}
	}
	fs := newFlagSet("dashboards export", "dashboards export --format influxdb2|grafana [--out DIR] [--influx-bucket B]", stderr)
	format := fs.String("format", "", "influxdb2 (a template for `influx apply -f`) or grafana (a dashboard and its provisioning files)")
	out := fs.String("out", ".", "directory to write into")
	grafanaPath := fs.String("grafana-dashboards-path", "/var/lib/grafana/dashboards/twitchd",
		"where Grafana's dashboard provider reads the dashboard, on the Grafana host")
	var inf influxconn.Settings
	addInfluxFlags(fs, &inf)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *format != dashboards.FormatInfluxDB2 && *format != dashboards.FormatGrafana {
		fmt.Fprintf(stderr, "twitchd dashboards export: --format %q: want influxdb2 or grafana\n", *format)
		return errUsage
	}
	url := inf.URL
	if url == "" {
		url = "http://127.0.0.1:8086"
	}
	paths, err := dashboards.Export(dashboards.NewWith(inf.Bucket, dashboards.DefaultActivityBuckets(inf.Bucket, inf.ActivityBucket)), *format, *out, dashboards.GrafanaSettings{
		URL: url, Org: inf.Org, Bucket: inf.Bucket, DashboardsPath: *grafanaPath})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(paths, "\nwrote "))
	switch *format {
	case dashboards.FormatInfluxDB2:
		fmt.Fprintf(stdout, "import it: influx apply -f %s (queries read bucket %q; --influx-bucket changes it)\n", paths[0], inf.Bucket)
	case dashboards.FormatGrafana:
		fmt.Fprintf(stdout, "install it: copy %s/grafana/provisioning/* into Grafana's provisioning directory and the dashboard into %s; set INFLUX_TOKEN in Grafana's environment\n", *out, *grafanaPath)
	}
	return nil
}
