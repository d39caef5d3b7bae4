package rule_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/rule/history"
	"github.com/twitchd/twitchd/internal/session"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/internal/sink/events"
	"github.com/twitchd/twitchd/internal/sink/influx"
	"github.com/twitchd/twitchd/pipeline"
)

// TestScenarioDaysThroughInflux replays simulated recordings on
// successive days through the detectors, the engine (history read from
// InfluxDB) and the InfluxDB sink, with two people interleaved in one
// database: three days of twitching that is never seen to cease make the
// third day persistent, a logged symptom raises the fourth, and the other
// person's recordings stay independent.
func TestScenarioDaysThroughInflux(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and replays several simulated days")
	}
	srv := influxtest.Start(t)
	reader := history.NewReader(srv.Client().QueryAPI(srv.Org), srv.Bucket)
	day0 := time.Date(2026, 11, 2, 17, 0, 0, 0, time.UTC)
	replay := func(preset, subject string, day int) (*pipeline.Assessment, *simulate.Labels) {
		t.Helper()
		sc, err := simulate.Preset(preset)
		if err != nil {
			t.Fatal(err)
		}
		sc.Start = day0.AddDate(0, 0, day)
		path := filepath.Join(t.TempDir(), preset+".csv")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		labels, err := simulate.Generate(sc, int64(day+1), f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		sink, err := influx.New(influx.NewConfig(srv.URL, srv.Bucket).SetOrg(srv.Org))
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close(context.Background())
		cfg := rule.DefaultConfig()
		cfg.HistoryTimeout = 2 * time.Minute
		col := &events.Collector{}
		res, err := session.ReplayFile(context.Background(), path, "", decode.Options{}, session.Config{
			Subject: subject, Site: sc.Site,
			Stages: []pipeline.EventStage{rule.New(context.Background(), cfg, reader, nil)},
			Sinks:  []pipeline.Sink{noWatermarks{sink}, col},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.SinkErrors != 0 {
			t.Fatalf("sink errors: %v", res.FirstSinkError)
		}
		var final *pipeline.Assessment
		for _, ev := range col.Events {
			if a, ok := ev.(*pipeline.Assessment); ok {
				final = a
			}
		}
		if final == nil {
			t.Fatal("no assessment")
		}
		if final.Measures[rule.MeasureHistoryOK] != 1 {
			t.Fatalf("history not read: %s", final.Reason)
		}
		return final, labels
	}
	check := func(name string, a *pipeline.Assessment, want rule.Status, reason string, days float64) {
		t.Helper()
		if rule.Status(a.Status) != want || !strings.Contains(a.Reason, reason) || a.Measures[rule.MeasureDays] != days {
			t.Errorf("%s: %s (%s), %v days; want %s containing %q, %v days", name, a.Status, a.Reason,
				a.Measures[rule.MeasureDays], want, reason, days)
		}
	}

	for day := 0; day < 2; day++ {
		a, labels := replay("running-fades", "ann", day)
		if labels.ExpectedStatus != string(rule.StatusPostExercise) {
			t.Fatalf("running-fades labels expect %s, this test assumes post_exercise", labels.ExpectedStatus)
		}
		check("ann day "+string(rune('0'+day)), a, rule.StatusPostExercise, "ended before activity resumed", float64(day+1))
	}
	b, _ := replay("lifting-stops", "bob", 1)
	check("bob day 1", b, rule.StatusCeased, "ceased", 0)
	a, _ := replay("running-fades", "ann", 2)
	check("ann day 2", a, rule.StatusPersistent, "did not cease on 3 days", 3)

	ruleNote := &pipeline.Symptom{Time: pipeline.Timestamp(day0.AddDate(0, 0, 3).Add(-2 * time.Hour).UnixNano()),
		Tags: pipeline.Tags{Subject: "ann"}, Symptom: rule.SymptomWeakness, Text: "legs feel weak"}
	pts, err := influx.Points(ruleNote)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Client().WriteAPIBlocking(srv.Org, srv.Bucket).WritePoint(context.Background(), pts...); err != nil {
		t.Fatal(err)
	}
	a, _ = replay("running-fades", "ann", 3)
	check("ann day 3", a, rule.StatusPersistentWithSymptoms, "logged weakness", 4)
	b, _ = replay("lifting-stops", "bob", 3)
	check("bob day 3", b, rule.StatusCeased, "ceased", 0)
}

// noWatermarks keeps pipeline.Watermarks from a sink that has no schema
// for them (internal/sink/influx rejects them today).
type noWatermarks struct{ pipeline.Sink }

func (s noWatermarks) Write(ev pipeline.Event) error {
	if _, ok := ev.(*pipeline.Watermark); ok {
		return nil
	}
	return s.Sink.Write(ev)
}
