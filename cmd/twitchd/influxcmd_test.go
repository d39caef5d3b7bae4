package main

import (
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/influxtest"
)

// TestInfluxSetup runs `twitchd influx setup` against a real influxd
// twice (the second run updates what the first created) and `influx
// status`, which must show the policies and the continuous query.
func TestInfluxSetup(t *testing.T) {
	srv := influxtest.Shared(t)
	t.Setenv("INFLUX_URL", srv.URL)
	for _, args := range [][]string{{"influx", "setup"}, {"influx", "setup", "--raw-retention", "14d", "--backfill", "40d"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || !strings.Contains(out, "CREATE CONTINUOUS QUERY") || !strings.Contains(out, "--influx-activity-bucket twitchd/activity_raw") {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		if args[len(args)-1] == "40d" && (!strings.Contains(out, "ALTER RETENTION POLICY \"activity_raw\" ON \"twitchd\" DURATION 14d") ||
			strings.Count(out, "SELECT mean") != 3) {
			t.Errorf("second setup: want the retention changed, the query recreated and two backfill statements:\n%s", out)
		}
	}
	code, out, errOut := run(t, "influx", "status")
	if code != 0 || !strings.Contains(out, "activity_raw\t336h0m0s") || !strings.Contains(out, "activity_1h\t0s") ||
		!strings.Contains(out, "CREATE CONTINUOUS QUERY activity_1h ON twitchd") {
		t.Errorf("status: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "influx", "nothing"); code != 2 || !strings.Contains(errOut, "Usage") {
		t.Errorf("a wrong subcommand: exit %d, %s", code, errOut)
	}
}
