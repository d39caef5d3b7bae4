package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/internal/testutil/recording"
	"github.com/twitchd/twitchd/pipeline"
)

// TestReplayIntoInfluxDB replays a bundled session into a real influxd,
// reads it back with Flux through the client, and checks that InfluxDB
// holds exactly what the events file says, twice over (idempotent).
func TestReplayIntoInfluxDB(t *testing.T) {
	srv := influxtest.Shared(t)
	dir := t.TempDir()
	csv := recording.Bundled(t, dir)
	evPath := filepath.Join(dir, "events.jsonl")
	t.Setenv("INFLUX_TOKEN", "")
	args := []string{"replay", "-subject", "it", "-site", "calf_left", "-events", evPath,
		"-influx-url", srv.URL, "-influx-bucket", srv.Bucket, csv}
	for round := 1; round <= 2; round++ {
		code, _, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("round %d: exit %d\n%s", round, code, stderr)
		}
		if !strings.Contains(stderr, "points written, 0 failed") {
			t.Fatalf("round %d: summary lacks the InfluxDB line:\n%s", round, stderr)
		}
	}
	evs := recording.ReadEvents(t, evPath)
	var twitches []*pipeline.Twitch
	var bouts, summaries, assessments int
	var last pipeline.Timestamp
	for _, ev := range evs {
		if ev.At() < last {
			t.Errorf("events out of time order: %s %s after %s", ev.EventType(), ev.At(), last)
		}
		last = ev.At()
		switch e := ev.(type) {
		case *pipeline.Twitch:
			twitches = append(twitches, e)
		case *pipeline.Bout:
			bouts++
		case *pipeline.Summary:
			summaries++
		case *pipeline.Assessment:
			assessments++
			if e.Notice == "" || !strings.Contains(e.Notice, "consider seeking a medical opinion") {
				t.Errorf("assessment without the notice: %+v", e)
			}
		}
	}
	if len(twitches) < 5 || bouts < 1 || summaries != 1 {
		t.Fatalf("events file: %d twitches, %d bouts, %d summaries; the bundled session has more", len(twitches), bouts, summaries)
	}

	rows := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0)
		|> filter(fn: (r) => r._measurement == "twitch" and r._field == "peak" and r.subject == "it")
		|> group() |> sort(columns: ["_time", "sensor"])`, srv.Bucket))
	if len(rows) != len(twitches) {
		t.Fatalf("InfluxDB holds %d twitch points after two replays, the events file %d", len(rows), len(twitches))
	}
	byKey := map[string]float64{}
	for _, r := range rows {
		key := fmt.Sprintf("%v|%v|%v", r["_time"], r["sensor"], r["phase"])
		byKey[key] = r["_value"].(float64)
	}
	for _, tw := range twitches {
		key := fmt.Sprintf("%v|%s|%s", tw.Start.Time(), tw.Sensor, tw.Phase)
		v, ok := byKey[key]
		if !ok {
			t.Errorf("twitch %s %s %s missing from InfluxDB", tw.Start, tw.Sensor, tw.Phase)
			continue
		}
		if math.Abs(v-tw.Peak) > 1e-12*math.Abs(tw.Peak) {
			t.Errorf("twitch %s: peak %g in InfluxDB, %g in the events file", tw.Start, v, tw.Peak)
		}
	}
	if assessments == 0 {
		t.Fatal("no assessment in the events file")
	}
	stored := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0)
		|> filter(fn: (r) => r._measurement == "assessment" and r._field == "status_level" and r.subject == "it") |> group()`, srv.Bucket))
	if len(stored) != assessments {
		t.Errorf("InfluxDB holds %d assessments, the events file %d", len(stored), assessments)
	}
	ingest := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0)
		|> filter(fn: (r) => r._measurement == "ingest" and r._field == "twitches" and r.subject == "it")`, srv.Bucket))
	if len(ingest) != 1 || fmt.Sprint(ingest[0]["_value"]) != fmt.Sprint(len(twitches)) {
		t.Errorf("ingest point %v, want one with twitches=%d", ingest, len(twitches))
	}
	acts := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0)
		|> filter(fn: (r) => r._measurement == "activity" and r._field == "enmo_mg" and r.subject == "it") |> group() |> count()`, srv.Bucket))
	if len(acts) != 1 || fmt.Sprint(acts[0]["_value"]) != "48" {
		t.Errorf("activity epochs with ENMO: %v, want 48 (4 minutes of 5 s epochs)", acts)
	}
}

// TestReplayErrors checks exit statuses and messages for bad input and flags.
func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no file", []string{"replay"}, 2, "no file given"},
		{"missing file", []string{"replay", filepath.Join(dir, "nope.csv")}, 1, "no such file"},
		{"empty file", []string{"replay", write("empty.csv", "")}, 1, "empty"},
		{"no usable column", []string{"replay", "-rate", "100", write("cols.csv", "a,b\n1,2\n")}, 1, "column"},
		{"missing rate", []string{"replay", write("norate.csv", "emg\n0.1\n0.2\n")}, 1, "rate"},
		{"bad map", []string{"replay", "-map", "emg=emg:furlongs", write("x.csv", "emg\n1\n")}, 2, "unit"},
		{"strict stops", []string{"replay", "-strict", "-rate", "1000", write("bad.csv", "emg\n0.1\nabc\n0.2\n")}, 1, "bad.csv:3"},
		{"listen not loopback", []string{"replay", "--listen", "0.0.0.0:0", "-rate", "1000", write("ok.csv", "emg\n0.1\n")}, 2, "not a loopback address"},
		{"headerless without --columns", []string{"replay", "-rate", "100", write("nohdr.txt", "# x\n1\n2\n")}, 1, "name its column with --columns"},
		{"empty column name", []string{"replay", "-columns", "emg,", write("y.txt", "1\n")}, 2, "no empty name"},
		{"--columns on a header row", []string{"replay", "-rate", "100", "-columns", "emg", write("hdr.csv", "emg\n1\n")}, 1, "hdr.csv:1"},
		{"--columns for a binary format", []string{"replay", "-format", "edf", "-columns", "emg", write("z.edf", "0       ")}, 1, "--columns"},
		{"transfer function too wide", []string{"replay", "-map", "emg=emg:plux40", write("w.csv", "emg\n1\n")}, 2, "not 1..24"},
		{"scale of zero", []string{"replay", "-map", "emg=emg:uV,scale=0", write("v.csv", "emg\n1\n")}, 2, "must not be 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(strings.ToLower(stderr), strings.ToLower(tc.contains)) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.contains)
			}
		})
	}
}

// TestReplayHeaderless replays files without a header row as a user
// would, with --columns, a rate from the file's comment or --rate, and
// --map converting raw counts: the summary names the channels in mV at
// the right rate, and no line is skipped.
func TestReplayHeaderless(t *testing.T) {
	dir := t.TempDir()
	var bio, myo strings.Builder
	bio.WriteString("# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n# Resolution:= 12\n")
	for i := range 5000 {
		fmt.Fprintf(&bio, "%d\n", 2048+int(3*math.Sin(float64(i))))
	}
	for i := range 2000 {
		fmt.Fprintf(&myo, "%d,%d,0\r\n", i%7-3, i%5-2)
	}
	cases := []struct {
		name, body string
		args       []string
		want       string // in the summary
	}{
		{"biosppy", bio.String(), []string{"-columns", "emg", "-map", "emg=emg:bitalino12"},
			"5000 samples in 1 channels [emg emg 1000Hz]"},
		{"myo", myo.String(), []string{"-rate", "200", "-columns", "emg_1,emg_2,label", "-map", "emg_*=emg:uV,scale=10"},
			"4000 samples in 2 channels [emg_1 emg 200Hz, emg_2 emg 200Hz]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".txt")
			if err := os.WriteFile(p, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			ev := filepath.Join(dir, tc.name+".jsonl")
			code, _, stderr := run(t, append(append([]string{"replay", "-events", ev}, tc.args...), p)...)
			if code != 0 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "skipped") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 0 and %q", code, stderr, tc.want)
			}
			evs := recording.ReadEvents(t, ev)
			sum, ok := evs[len(evs)-1].(*pipeline.Summary)
			if !ok || sum.Channels[0].Unit != "mV" || sum.Format != "csv" {
				t.Errorf("last event %#v, want a csv summary in mV", evs[len(evs)-1])
			}
		})
	}
}

// TestReplaySkipsBadLines checks that malformed lines are counted and
// reported with their line numbers while the rest is processed.
func TestReplaySkipsBadLines(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("time,emg\n")
	for i := 0; i < 20000; i++ {
		switch i {
		case 100:
			b.WriteString("1700000000.1,abc\n")
		case 200:
			b.WriteString("1700000000.2,1,2\n")
		default:
			fmt.Fprintf(&b, "%.3f,%.4f\n", 1700000000+float64(i)/1000, 0.001*math.Sin(float64(i)))
		}
	}
	p := filepath.Join(dir, "s.csv")
	os.WriteFile(p, []byte(b.String()), 0o600)
	evPath := filepath.Join(dir, "e.jsonl")
	code, _, stderr := run(t, "replay", "-events", evPath, p)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "skipped 2 malformed lines") || !strings.Contains(stderr, "s.csv:102") || !strings.Contains(stderr, "s.csv:202") {
		t.Errorf("summary does not report the two bad lines with their numbers:\n%s", stderr)
	}
	evs := recording.ReadEvents(t, evPath)
	sum, ok := evs[len(evs)-1].(*pipeline.Summary)
	if !ok || sum.SkippedLines != 2 || sum.Channels[0].Samples != 19998 {
		t.Fatalf("last event %#v, want a summary with 2 skipped lines and 19998 samples", evs[len(evs)-1])
	}
}

// TestReplayParallel replays an archive of one person's recordings, one
// a day and given out of time order, with -j 1 and with -j 4 into two
// databases of a real influxd: the events files are the same bytes and
// the databases hold the same points. The persistence rule reads each
// recording's history (the earlier days) from InfluxDB, so this holds
// only if the parallel replay keeps the reads and writes of one job;
// the test checks that the history mattered (one file's status differs
// from what it is alone).
func TestReplayParallel(t *testing.T) {
	srv := influxtest.Shared(t)
	t.Setenv("INFLUX_TOKEN", "")
	dir := t.TempDir()
	// Twitching at rest after running that fades (post_exercise alone),
	// on five days: from the third day on, the history makes it
	// persistent.
	days := []int{2, 0, 4, 1, 3}
	var files []string
	for i, d := range days {
		sc, err := simulate.Preset("running-fades")
		if err != nil {
			t.Fatal(err)
		}
		sc = sc.Scaled(3)
		sc.Start = sc.Start.Add(time.Duration(d) * 24 * time.Hour)
		p := filepath.Join(dir, fmt.Sprintf("day%d.csv", d))
		gen := simulate.Generate
		if i%2 == 1 {
			p = filepath.Join(dir, fmt.Sprintf("day%d.edf", d))
			gen = simulate.GenerateEDF
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gen(sc, 1, f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	second := "twitchd_j4"
	srv.Exec(t, "CREATE DATABASE "+second)
	replay := func(jobs, bucket string) (events, stderr string) {
		events = filepath.Join(dir, "events-j"+jobs+".jsonl")
		args := append([]string{"replay", "-j", jobs, "-subject", "p1", "-site", "thigh_left", "-epochs", "-events", events,
			"-spool-dir", filepath.Join(dir, "spool-"+jobs), "-influx-url", srv.URL, "-influx-bucket", bucket}, files...)
		code, _, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("-j %s: exit %d\n%s", jobs, code, stderr)
		}
		return events, stderr
	}
	ev1, err1 := replay("1", srv.Bucket)
	ev4, err4 := replay("4", second+"/autogen")
	b1, _ := os.ReadFile(ev1)
	b4, _ := os.ReadFile(ev4)
	if len(b1) == 0 || string(b1) != string(b4) {
		t.Errorf("events files differ: -j 1 %d bytes, -j 4 %d bytes", len(b1), len(b4))
	}
	if spoolLine := regexp.MustCompile(`(?m)^spool: .*$`); spoolLine.ReplaceAllString(err1, "") != spoolLine.ReplaceAllString(err4, "") {
		t.Errorf("summaries differ:\n-j 1:\n%s\n-j 4:\n%s", err1, err4)
	}
	statuses := map[pipeline.Status]bool{}
	for _, ev := range recording.ReadEvents(t, ev1) {
		if a, ok := ev.(*pipeline.Assessment); ok {
			statuses[pipeline.Status(a.Status)] = true
		}
	}
	if !statuses[pipeline.StatusPersistent] || !statuses[pipeline.StatusPostExercise] {
		t.Errorf("statuses %v, want post_exercise (a day alone) and persistent (with the earlier days): else the history did not count and the test checks nothing", statuses)
	}

	dump := func(bucket string) []string {
		rows := srv.Query(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 0)`, bucket))
		var out []string
		for _, r := range rows {
			delete(r, "result")
			delete(r, "table")
			delete(r, "_start")
			delete(r, "_stop")
			out = append(out, fmt.Sprint(r))
		}
		sort.Strings(out)
		return out
	}
	p1, p4 := dump(srv.Bucket), dump(second+"/autogen")
	if len(p1) < 100 {
		t.Fatalf("only %d points after -j 1", len(p1))
	}
	if len(p1) != len(p4) {
		t.Errorf("-j 1 wrote %d points, -j 4 %d", len(p1), len(p4))
	}
	for i := range min(len(p1), len(p4)) {
		if p1[i] != p4[i] {
			t.Errorf("first difference at point %d:\n-j 1: %s\n-j 4: %s", i, p1[i], p4[i])
			break
		}
	}
}

// TestReplayShards replays an archive given as a directory, a pattern
// and a list on standard input, in three shards as three tasks of a job
// array would: every file is replayed by exactly one shard, and with
// --shard-by-dir the files of one directory by the same one.
func TestReplayShards(t *testing.T) {
	dir := t.TempDir()
	var all []string
	for s := range 3 {
		for d := range 4 {
			p := filepath.Join(dir, fmt.Sprintf("subject%d", s), fmt.Sprintf("day%d.csv", d))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString("time,emg\n")
			for i := range 3000 {
				fmt.Fprintf(&b, "%.3f,%.4f\n", 1700000000+float64(d*86400)+float64(i)/1000, 0.001*math.Sin(float64(i)))
			}
			if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			all = append(all, p)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a recording"), 0o600); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte(strings.Join(all, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`(?m)^(\S+) \(csv\): `)
	for _, c := range []struct {
		name  string
		input []string
		byDir bool
	}{
		{"directory", []string{"-include", "*.csv", dir}, false},
		{"pattern", []string{filepath.Join(dir, "subject*", "*.csv")}, true},
		{"list", []string{"-files-from", list}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			owner := map[string]int{}
			for i := range 3 {
				args := []string{"replay", "-j", "2", "-shard", fmt.Sprintf("%d/3", i), "-shard-root", dir}
				events := filepath.Join(t.TempDir(), "events.jsonl")
				if c.byDir {
					args = append(args, "-shard-by-dir", "-subject-from-dir", "-events", events)
				}
				code, _, stderr := run(t, append(args, c.input...)...)
				if code != 0 {
					t.Fatalf("shard %d: exit %d\n%s", i, code, stderr)
				}
				for _, m := range summary.FindAllStringSubmatch(stderr, -1) {
					if j, dup := owner[m[1]]; dup {
						t.Errorf("%s replayed by shards %d and %d", m[1], j, i)
					}
					owner[m[1]] = i
				}
				if !c.byDir {
					continue
				}
				// Each file's subject is its directory's name.
				if _, err := os.Stat(events); err != nil {
					continue // a shard without files writes no events file
				}
				for _, ev := range recording.ReadEvents(t, events) {
					if sum, ok := ev.(*pipeline.Summary); ok {
						if want := filepath.Base(filepath.Dir(sum.File)); sum.Subject != want {
							t.Errorf("%s: subject %q, want %q", sum.File, sum.Subject, want)
						}
					}
				}
			}
			for _, p := range all {
				if _, ok := owner[p]; !ok {
					t.Errorf("%s replayed by no shard", p)
				}
			}
			if len(owner) != len(all) {
				t.Errorf("%d files replayed, want %d", len(owner), len(all))
			}
			if c.byDir {
				for _, p := range all {
					if q := filepath.Join(filepath.Dir(p), "day0.csv"); owner[p] != owner[q] {
						t.Errorf("%s in shard %d, %s in shard %d", p, owner[p], q, owner[q])
					}
				}
			}
		})
	}
}
