package influxsetup

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxconn"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/pipeline"
)

func TestMain(m *testing.M) { influxtest.Main(m) }

// hourly is what one hour of one channel should become.
type hourly struct {
	n             int
	sum, max, dur float64
}

// TestSetupAndBackfill creates the retention policies and the continuous
// query on a real influxd, twice (the second run changes the raw
// retention), and backfills raw activity written both ways a database
// may hold it: today's schema through the sink into activity_raw, and the
// schema before issue 12 (a session tag) into autogen. Every hourly point
// must be the mean, maximum and sum of its hour's epochs, per subject,
// site, sensor and channel, whatever the session.
func TestSetupAndBackfill(t *testing.T) {
	srv := influxtest.Shared(t)
	conn, err := influxconn.Open(influxconn.Settings{URL: srv.URL, Org: srv.Org, Bucket: srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	var log bytes.Buffer
	opts := Options{Database: conn.Database(), EventsRP: "autogen", RawRetention: 14 * 24 * time.Hour}
	if err := Setup(ctx, conn, opts, &log); err != nil {
		t.Fatalf("setup: %v\n%s", err, log.String())
	}

	// Two hours of 5-s epochs three days ago: the first hour in the old
	// schema in autogen, the second through the sink into activity_raw.
	base := time.Now().UTC().Truncate(time.Hour).Add(-72 * time.Hour)
	want := map[string]*hourly{}
	var legacy strings.Builder
	var evs []pipeline.Event
	for i := 0; i < 2*720; i++ {
		start := base.Add(time.Duration(i) * 5 * time.Second)
		enmo := float64(i%37) * 1.5
		rms := float64(i%11) * 0.01
		key := fmt.Sprintf("%s", start.Truncate(time.Hour).Format(time.RFC3339))
		for _, ch := range []struct {
			sensor, field string
			v             float64
		}{{"acc", schema.FieldENMO, enmo}, {"emg", schema.FieldRMS, rms}} {
			h := want[key+"/"+ch.sensor]
			if h == nil {
				h = &hourly{max: math.Inf(-1)}
				want[key+"/"+ch.sensor] = h
			}
			h.n++
			h.sum += ch.v
			h.max = math.Max(h.max, ch.v)
			h.dur += 5
			if i < 720 {
				fmt.Fprintf(&legacy, "activity,subject=ann,site=calf,session=old-%d,sensor=%s,channel=%s %s=%g,noise=0.1,duration_s=5 %d\n",
					i/100, ch.sensor, ch.sensor, ch.field, ch.v, start.UnixNano())
				continue
			}
			ep := &pipeline.Epoch{Start: pipeline.Timestamp(start.UnixNano()), End: pipeline.Timestamp(start.Add(5 * time.Second).UnixNano()),
				Tags: pipeline.Tags{Subject: "ann", Site: "calf", Session: fmt.Sprintf("new-%d", i/100)}, Sensor: ch.sensor, Channel: ch.sensor, Noise: 0.1}
			if ch.sensor == "acc" {
				ep.ENMO = ch.v
			} else {
				ep.RMS = ch.v
			}
			evs = append(evs, ep)
		}
	}
	if code, body := srv.WriteRaw(t, legacy.String()); code != 204 {
		t.Fatalf("legacy write: %d %s", code, body)
	}
	sink, err := influx.New(conn.Sink(nil).SetActivityBucket(conn.Database() + "/" + schema.RPActivityRaw))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := sink.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatalf("sink: %v", err)
	}

	opts.RawRetention = 30 * 24 * time.Hour
	opts.Backfill = 7 * 24 * time.Hour
	log.Reset()
	if err := Setup(ctx, conn, opts, &log); err != nil {
		t.Fatalf("setup again: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "ALTER RETENTION POLICY") || !strings.Contains(log.String(), "DROP CONTINUOUS QUERY") {
		t.Errorf("the second setup did not update the policy and the query:\n%s", log.String())
	}
	rps, err := conn.InfluxQL(ctx, "twitchd", "SHOW RETENTION POLICIES ON twitchd")
	if err != nil {
		t.Fatal(err)
	}
	durations := map[string]string{}
	for _, s := range rps {
		for _, v := range s.Values {
			durations[fmt.Sprint(v[0])] = fmt.Sprint(v[1])
		}
	}
	if durations[schema.RPActivityRaw] != "720h0m0s" || durations[schema.RPActivityHourly] != "0s" {
		t.Errorf("retention policies %v, want activity_raw 720h and activity_1h infinite", durations)
	}
	cqs, err := conn.InfluxQL(ctx, "", "SHOW CONTINUOUS QUERIES")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(cqs), "CREATE CONTINUOUS QUERY "+schema.CQActivityHourly+" ON twitchd RESAMPLE EVERY 1h FOR 2h") {
		t.Errorf("continuous queries %v lack ours", cqs)
	}

	recs := srv.Query(t, `from(bucket: "twitchd/activity_1h") |> range(start: 0, stop: 2100-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "activity")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`)
	if len(recs) != len(want) {
		t.Fatalf("%d hourly points, want %d: %v", len(recs), len(want), recs)
	}
	for _, r := range recs {
		if _, tagged := r["session"]; tagged {
			t.Errorf("hourly point with a session: %v", r)
		}
		sensor := fmt.Sprint(r["sensor"])
		key := r["_time"].(time.Time).UTC().Format(time.RFC3339) + "/" + sensor
		w := want[key]
		if w == nil || r["subject"] != "ann" || r["site"] != "calf" || r["channel"] != sensor {
			t.Errorf("unexpected hourly point %v", r)
			continue
		}
		mean, mx := schema.FieldENMO, schema.FieldENMOMax
		if sensor == "emg" {
			mean, mx = schema.FieldRMS, schema.FieldRMSMax
		}
		got := func(k string) float64 { f, _ := r[k].(float64); return f }
		if math.Abs(got(mean)-w.sum/float64(w.n)) > 1e-9 || got(mx) != w.max || got(schema.FieldDuration) != w.dur {
			t.Errorf("%s: mean %v max %v seconds %v; want %v %v %v", key, got(mean), got(mx), got(schema.FieldDuration),
				w.sum/float64(w.n), w.max, w.dur)
		}
	}
}

func TestDownsampleStatement(t *testing.T) {
	got := Downsample("twitchd", []string{"autogen", "activity_raw"}, "")
	for _, must := range []string{`INTO "twitchd"."activity_1h"."activity"`, `FROM "twitchd"."autogen"."activity", "twitchd"."activity_raw"."activity"`,
		`GROUP BY time(1h), "subject", "site", "sensor", "channel"`, `max("intensity_level") AS "intensity_level_max"`} {
		if !strings.Contains(got, must) {
			t.Errorf("%s\nlacks %s", got, must)
		}
	}
	if strings.Contains(got, "session") {
		t.Errorf("%s groups by session", got)
	}
}
