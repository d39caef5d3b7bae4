// Package dashtest fills a test InfluxDB with what the dashboards show:
// simulated recordings replayed through the detectors, the persistence
// rule (reading its history back from that InfluxDB) and the InfluxDB
// sink, as `twitchd replay` does, plus rest without exercise and symptom
// notes. It keeps the events files, which are what the tests compare the
// dashboards' numbers with.
package dashtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all" // the csv decoder
	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxsetup"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/pipeline"
)

// ActivityBucket is where Load writes the activity epochs: the raw
// policy of `twitchd influx setup`, as with --influx-activity-bucket.
const ActivityBucket = influxtest.Database + "/" + schema.RPActivityRaw

// Day0 is the first day of the data, at midnight UTC.
var Day0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// Subjects and sites of the data.
const (
	Ann     = "ann"
	Bob     = "bob"
	Calf    = "calf_left"
	Forearm = "forearm_right"
)

// recording is one simulated recording to replay.
type recording struct {
	subject, site, preset string
	seed                  int64
	at                    time.Duration // after Day0
	minutes               float64       // 0: as the preset defines
}

// recordings are replayed in this order (each assessment reads the
// history the earlier ones left).
var recordings = []recording{
	{Ann, Forearm, "bundled-forearm", 2, 17 * time.Hour, 0},
	{Ann, Calf, "bundled-calf", 1, 18 * time.Hour, 0},
	{Ann, Calf, "cramps", 3, 24*time.Hour + 9*time.Hour, 6},
	{Bob, Calf, "bundled-calf", 4, 24*time.Hour + 10*time.Hour, 0},
}

// Data is what Load wrote.
type Data struct {
	// Dir holds the events files (*.events.jsonl).
	Dir string
	// Start and Stop are UTC midnights around all the data.
	Start, Stop time.Time
	// Events are every event of every events file, file by file.
	Events []pipeline.Event
}

// Load writes the data into srv and returns its events. Ann has two
// sites over three days (with cramps at both, rest without exercise on
// the third day and two symptom notes); Bob has one recording.
func Load(t testing.TB, srv *influxtest.Server) *Data {
	t.Helper()
	d := &Data{Dir: t.TempDir(), Start: Day0, Stop: Day0.AddDate(0, 0, 3)}
	sink, err := influx.New(influx.NewConfig(srv.URL, srv.Bucket).SetOrg(srv.Org))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sink.Close(context.Background()); err != nil {
			t.Errorf("dashtest: close sink: %v", err)
		}
	}()
	reader := history.NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	// A string "noise" in the shard makes InfluxDB reject every activity
	// point (a float "noise"): real rejections for the ingest table.
	if code, body := srv.WriteRaw(t, fmt.Sprintf("activity,subject=conflict noise=\"text\" %d\n", Day0.UnixNano())); code != 204 {
		t.Fatalf("dashtest: raw write: %d %s", code, body)
	}
	for i, r := range recordings {
		path := d.simulate(t, r)
		evPath := filepath.Join(d.Dir, fmt.Sprintf("%d-%s-%s.events.jsonl", i, r.subject, r.site))
		d.replay(t, path, evPath, r, sink, reader)
	}
	d.writeSynthetic(t, sink)
	if err := sink.Flush(context.Background()); err != nil {
		t.Fatalf("dashtest: flush: %v", err)
	}
	if st := sink.Stats(); st.Written+st.Rejected != st.Points || st.Rejected == 0 {
		t.Fatalf("dashtest: of %d points %d written, %d rejected, want the rest written: %+v", st.Points, st.Written, st.Rejected, st)
	}
	d.writeActivity(t, srv)
	return d
}

// writeActivity creates the retention policies and continuous query of
// `twitchd influx setup`, writes the events files' activity epochs into
// schema.RPActivityRaw (where the autogen shard's conflict does not
// reach), and backfills their hourly downsampling, which the activity
// panels read for ranges over dashboards.LongRange.
func (d *Data) writeActivity(t testing.TB, srv *influxtest.Server) {
	t.Helper()
	ctx := context.Background()
	conn, err := influxconn.Open(influxconn.Settings{URL: srv.URL, Org: srv.Org, Bucket: srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	opts := influxsetup.Options{Database: influxtest.Database, EventsRP: "autogen", RawRetention: 100 * 365 * 24 * time.Hour}
	if err := influxsetup.Setup(ctx, conn, opts, io.Discard); err != nil {
		t.Fatalf("dashtest: %v", err)
	}
	sink, err := influx.New(influx.NewConfig(srv.URL, srv.Bucket).SetOrg(srv.Org).
		SetActivityBucket(ActivityBucket))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range d.Events {
		if ep, ok := ev.(*pipeline.Epoch); ok {
			if err := sink.Write(ep); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if err := sink.Close(ctx); err != nil || n == 0 {
		t.Fatalf("dashtest: %d activity epochs: %v", n, err)
	}
	opts.Backfill = time.Since(Day0) + 7*24*time.Hour
	if err := influxsetup.Setup(ctx, conn, opts, io.Discard); err != nil {
		t.Fatalf("dashtest: backfill: %v", err)
	}
}

func (d *Data) simulate(t testing.TB, r recording) string {
	t.Helper()
	sc, err := simulate.Preset(r.preset)
	if err != nil {
		t.Fatal(err)
	}
	if r.minutes > 0 {
		sc = sc.Scaled(r.minutes)
	}
	sc.Start = Day0.Add(r.at)
	path := filepath.Join(d.Dir, fmt.Sprintf("%s-%s-%s.csv", r.subject, r.site, sc.Start.Format("20060102T1504")))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = simulate.Generate(sc, r.seed, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("dashtest: simulate %s: %v", r.preset, err)
	}
	return path
}

// replay runs one recording as `twitchd replay` does: events file (with
// the activity epochs, whose points InfluxDB rejects), InfluxDB, the rule
// with its history, and afterwards the rejected count on the file's
// ingest point.
func (d *Data) replay(t testing.TB, path, evPath string, r recording, sink *influx.Sink, reader *history.Reader) {
	t.Helper()
	f, err := os.Create(evPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := rule.DefaultConfig()
	cfg.HistoryTimeout = 2 * time.Minute // the test machine may be busy
	before := sink.Stats()
	res, err := session.ReplayFile(context.Background(), path, "", decode.Options{}, session.Config{
		Subject: r.subject, Site: r.site,
		Stages: []pipeline.EventStage{rule.New(context.Background(), cfg, reader, nil)},
		Sinks:  []pipeline.Sink{events.NewWriter(f, true), noWatermarks{sink}},
	})
	if err != nil {
		t.Fatalf("dashtest: replay %s: %v", path, err)
	}
	var loss *influx.LossError
	if res.SinkErrors != 0 && !(errors.As(res.FirstSinkError, &loss) && loss.Failed+loss.Dropped == 0) {
		t.Fatalf("dashtest: replay %s: sink errors (other than the rejected activity points): %v", path, res.FirstSinkError)
	}
	after := sink.Stats()
	line := influx.AppendDelivery(nil, &res.Summary, after.Rejected-before.Rejected)
	if err := sink.WriteLines(line); err != nil {
		t.Fatal(err)
	}
	d.read(t, evPath)
}

// writeSynthetic adds what the simulator does not make: Ann's rest
// without exercise on the third day, with twitches at rest in two hours
// of the day, a file summary with skipped lines and lost samples, and
// two symptom notes (one for every site, one for the forearm).
func (d *Data) writeSynthetic(t testing.TB, sink *influx.Sink) {
	t.Helper()
	at := func(h, m float64) pipeline.Timestamp {
		return pipeline.Timestamp(Day0.AddDate(0, 0, 2).Add(time.Duration((h*60 + m) * float64(time.Minute))).UnixNano())
	}
	tags := pipeline.Tags{Subject: Ann, Site: Calf, Session: "synthetic-rest"}
	evs := []pipeline.Event{
		&pipeline.Rest{Start: at(7, 30), End: at(8, 0), Tags: tags},
		&pipeline.Rest{Start: at(8, 0), End: at(8, 20), Tags: tags},
	}
	for i, m := range []float64{31, 40, 52, 62, 75, 79} {
		evs = append(evs, &pipeline.Twitch{Start: at(7, m), End: at(7, m+0.001), Tags: tags, Sensor: "emg",
			Channel: "emg", Peak: 0.1 + 0.05*float64(i), Phase: pipeline.PhaseRest, SNR: 10, Potentials: 1})
	}
	evs = append(evs, &pipeline.Summary{Tags: tags, File: "rest.csv", Format: "csv", Start: at(7, 30), End: at(8, 20),
		Channels:     []pipeline.ChannelSummary{{Name: "emg", Kind: "emg", Unit: "mV", RateHz: 1000, Samples: 3_000_000}},
		SkippedLines: 3, LostSamples: 7, Twitches: 6},
		&pipeline.Symptom{Time: pipeline.Timestamp(Day0.Add(36 * time.Hour).UnixNano()), Tags: pipeline.Tags{Subject: Ann},
			Symptom: rule.SymptomWeakness, Text: "stairs felt hard"},
		&pipeline.Symptom{Time: pipeline.Timestamp(Day0.Add(37 * time.Hour).UnixNano()), Tags: pipeline.Tags{Subject: Ann, Site: Forearm},
			Symptom: "cramps"})
	path := filepath.Join(d.Dir, "9-synthetic.events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := events.NewWriter(f, false)
	for _, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteLines(influx.AppendDelivery(nil, evs[len(evs)-3].(*pipeline.Summary), 0)); err != nil {
		t.Fatal(err)
	}
	d.read(t, path)
}

// read appends the events of an events file.
func (d *Data) read(t testing.TB, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		ev, err := pipeline.UnmarshalEvent(sc.Bytes())
		if err != nil {
			t.Fatalf("dashtest: %s:%d: %v", path, line, err)
		}
		d.Events = append(d.Events, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("dashtest: %s: %v", path, err)
	}
}

// noWatermarks keeps pipeline.Watermarks, which only order the events
// file, from the InfluxDB sink.
type noWatermarks struct{ pipeline.Sink }

func (s noWatermarks) Write(ev pipeline.Event) error {
	if _, ok := ev.(*pipeline.Watermark); ok {
		return nil
	}
	return s.Sink.Write(ev)
}
