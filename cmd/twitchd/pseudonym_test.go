package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/pseudonym"
	"github.com/twitchd/twitchd/internal/rule/report"
	"github.com/twitchd/twitchd/internal/testutil/recording"
)

// TestPseudonymisedNoteAndReportMeetTheData replays a recording of alice
// with a pseudonymisation key into a real influxd, then logs a note and
// reads a report for alice with the same key: both meet the recording
// (stored under her pseudonym), the name reaches InfluxDB nowhere, and
// without the key the report finds nothing.
func TestPseudonymisedNoteAndReportMeetTheData(t *testing.T) {
	srv := influxtest.Shared(t)
	t.Setenv("INFLUX_URL", "")
	t.Setenv("INFLUX_TOKEN", "")
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, _ := pseudonym.Load(key)
	flags := []string{"--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--pseudonymise-key-file", key}
	cmd := func(name string, args ...string) (int, string, string) {
		return run(t, append(append([]string{name}, flags...), args...)...)
	}

	if code, _, stderr := cmd("replay", "--subject", "alice", "--site", "calf_left", "--spool-dir", "", recording.Bundled(t, dir)); code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := cmd("note", "--subject", "alice", "--site", "calf_left", "--symptom", "clumsiness",
		"--text", "dropped a cup", "--time", "2026-11-25T12:00:00Z")
	if code != 0 || !strings.Contains(stdout, k.Subject("alice")) {
		t.Fatalf("note: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	reportOf := func(args ...string) report.Report {
		t.Helper()
		code, stdout, stderr := run(t, append([]string{"report", "--subject", "alice", "--until", "2026-11-26T00:00:00Z", "--json",
			"--influx-url", srv.URL, "--influx-bucket", srv.Bucket}, args...)...)
		var rep report.Report
		if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil {
			t.Fatalf("report: exit %d, stderr %q\n%s", code, stderr, stdout)
		}
		return rep
	}
	rep := reportOf("--pseudonymise-key-file", key)
	if len(rep.Sites) != 1 || rep.Sites[0].Site != "calf_left" || len(rep.Sites[0].Sessions) != 1 {
		t.Fatalf("report with the key: sites %+v, want the replayed recording at calf_left", rep.Sites)
	}
	if len(rep.Symptoms) != 1 || rep.Symptoms[0].Text != "dropped a cup" {
		t.Fatalf("report with the key: symptoms %+v, want the note", rep.Symptoms)
	}
	if rep := reportOf(); len(rep.Sites)+len(rep.Symptoms) != 0 {
		t.Fatalf("report without the key found data under the name: %+v", rep)
	}
	rows := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0) |> filter(fn: (r) => r.subject == "alice")`, srv.Bucket))
	if len(rows) != 0 {
		t.Fatalf("%d values stored under the name", len(rows))
	}
}
