package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/twitchd/twitchd/internal/testutil/recording"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/simulate"
)

// TestReplayProgressAndRejections replays the bundled session at 120
// times real time (about 2 s of work) with stderr on a real
// pseudo-terminal: the progress line shows and is erased before the
// summary. InfluxDB rejects the session's activity points (a field type
// conflict set up beforehand), and the file's ingest point records how
// many. With stderr not a terminal, no progress is written.
func TestReplayProgressAndRejections(t *testing.T) {
	srv := influxtest.Start(t)
	conflict := fmt.Sprintf("activity,subject=conflict noise=\"text\" %d\n", simulate.DefaultStart.UnixNano())
	if code, body := srv.WriteRaw(t, conflict); code != 204 {
		t.Fatalf("raw write: %d %s", code, body)
	}
	csv := recording.Bundled(t, t.TempDir())
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptm.Close()
	screen := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptm) // until the terminal side is closed
		screen <- string(b)
	}()
	t.Setenv("INFLUX_TOKEN", "")
	args := []string{"replay", "-subject", "pt", "-site", "calf_left", "-speed", "120", "-spool-dir", "",
		"-influx-url", srv.URL, "-influx-bucket", srv.Bucket, csv}
	var stdout bytes.Buffer
	code := runMain(context.Background(), args, &stdout, tty)
	tty.Close()
	out := <-screen
	if code != 1 || !strings.Contains(out, "points did not reach InfluxDB") {
		t.Fatalf("exit %d; want 1 for the rejected points:\n%s", code, out)
	}
	progress := regexp.MustCompile(`\rcalf\.csv +\d+%  [0-9.]+ [KM]iB of [0-9.]+ MiB  [0-9.]+ [KM]iB/s  \d+:\d\d left\x1b\[K`)
	if !progress.MatchString(out) {
		t.Errorf("no progress line on the terminal:\n%q", out)
	}
	if !strings.Contains(out, "\r\x1b[K"+filepath.Base(csv)) && !strings.Contains(out, "\r\x1b[K"+csv) {
		t.Errorf("the progress line is not erased before the summary:\n%q", out)
	}
	m := regexp.MustCompile(`influxdb: \d+ points written, (\d+) rejected`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no InfluxDB line in the summary:\n%s", out)
	}
	rejected, _ := strconv.ParseInt(m[1], 10, 64)
	rows := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0)
		|> filter(fn: (r) => r._measurement == "ingest" and r._field == "points_rejected" and r.subject == "pt")`, srv.Bucket))
	if rejected < 40 || len(rows) != 1 || rows[0]["_value"] != rejected {
		t.Errorf("ingest points_rejected %v, the summary says %d rejected (want the 48 activity epochs)", rows, rejected)
	}

	// Not a terminal (a buffer here; /dev/null and pipes in the progress
	// package's tests): nothing but the summary.
	var o, e bytes.Buffer
	runMain(context.Background(), []string{"replay", "-speed", "120", csv}, &o, &e)
	if !strings.Contains(e.String(), "bouts 2") || strings.Contains(e.String(), "\x1b[K") || strings.Contains(e.String(), "\r") {
		t.Errorf("progress written to a non-terminal:\n%q", e.String())
	}
}

// TestDashboardsExport writes both formats through the command.
func TestDashboardsExport(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"influxdb2", "grafana"} {
		code, stdout, stderr := run(t, "dashboards", "export", "--format", f, "--out", dir, "--influx-bucket", "twitchd")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", f, code, stderr)
		}
		if !strings.Contains(stdout, "wrote ") {
			t.Errorf("%s: %q", f, stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "twitchd-influxdb2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`from(bucket: \"twitchd\")`)) {
		t.Errorf("the template does not read bucket twitchd")
	}
	for _, f := range []string{"grafana/dashboards/twitchd.json", "grafana/provisioning/datasources/twitchd.yaml", "grafana/provisioning/dashboards/twitchd.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, stderr := run(t, "dashboards", "export", "--format", "kibana"); code != 2 || !strings.Contains(stderr, "want influxdb2 or grafana") {
		t.Errorf("bad format: exit %d\n%s", code, stderr)
	}
}

// TestServeRefusesOtherAddresses checks serve's flags before it starts.
func TestServeRefusesOtherAddresses(t *testing.T) {
	code, _, stderr := run(t, "serve", "--influx-url", "http://127.0.0.1:1", "--listen", "0.0.0.0:8080")
	if code != 2 || !strings.Contains(stderr, "not a loopback address") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	t.Setenv("INFLUX_URL", "")
	if code, _, stderr := run(t, "serve"); code != 2 || !strings.Contains(stderr, "no InfluxDB") {
		t.Errorf("no URL: exit %d\n%s", code, stderr)
	}
}
